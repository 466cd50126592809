"""Keeping secrets out of messages and files.

Three tools, each for one place a secret can appear:

- `redact_key(text, key)`: an API key echoed back in a server's error body or
  an exception text. Only keys of at least `MIN_KEY_LENGTH` characters are
  redacted: a shorter "key" (``OPENAI_API_KEY=4``, common with local servers
  that ignore it) would otherwise be cut out of every answer that contains it.
- `mask_url(url)`: credentials inside a URL (``https://user:pass@host``, or a
  ``?api_key=`` query parameter).
- `mask_secrets(obj)`: a run's recorded arguments and command line: values of
  options named like a secret (``api_key``, ``token``, ``password``,
  ``--metric-option vlm_judge.api_key=...``) and every URL inside them.
  ``api_key_env``, which names an environment variable, is not a secret.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["MASK", "MIN_KEY_LENGTH", "is_secret_name", "mask_secrets", "mask_text", "mask_url",
           "redact_key"]

MASK = "***"
MIN_KEY_LENGTH = 8

# An option or field name that holds a secret; anchored at the end so that
# "api_key_env" (the name of a variable, not a key) is not one.
_SECRET_NAME = re.compile(
    r"(?:^|[._-])(?:api[_-]?key|apikey|access[_-]?key|secret(?:[_-]?key)?|token|access[_-]?token|"
    r"auth[_-]?token|password|passwd|authorization)$", re.IGNORECASE)
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
# NAME=VALUE inside a string (an argv item such as "vlm_judge.api_key=sk-...").
_ASSIGNMENT = re.compile(r"(?P<name>[A-Za-z0-9_.-]+)=(?P<value>[^\s]+)")
# "--api-key VALUE" in a command line.
_FLAG_VALUE = re.compile(r"(?P<flag>--?[A-Za-z0-9_-]+)(?P<sep>\s+)(?P<value>[^\s-][^\s]*)")
# An Authorization header's credentials, or "Bearer <token>" anywhere ("basic
# auth failed" in an error text is prose, not a credential).
_AUTH_HEADER = re.compile(r"(?i)\b(authorization\s*[:=]\s*(?:bearer|basic|token)\s+)\S+")
_BEARER = re.compile(r"\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}")


def is_secret_name(name: str) -> bool:
    """True for option names such as api_key, OPENAI_API_KEY, vlm_judge.token, --password."""
    return bool(_SECRET_NAME.search(name.strip().lstrip("-")))


def redact_key(text: str, key: str | None, replacement: str = "[API key]") -> str:
    """`text` with every occurrence of `key` replaced, when `key` is long enough to be one."""
    if not key or len(key) < MIN_KEY_LENGTH:
        return text
    return text.replace(key, replacement)


def mask_url(url: str) -> str:
    """`url` with its user-info and secret-named query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_secret_name(k) for k, _ in pairs):
            query = urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs],
                              safe="*")
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_text(text: str) -> str:
    """A string with the secrets it may hold masked: URLs' credentials,
    NAME=VALUE where NAME names a secret, "--secret-flag VALUE", and
    Authorization header values."""
    text = _URL.sub(lambda m: mask_url(m.group(0)), text)

    def assignment(m: re.Match) -> str:
        return f"{m.group('name')}={MASK}" if is_secret_name(m.group("name")) else m.group(0)

    def flag_value(m: re.Match) -> str:
        if is_secret_name(m.group("flag")):
            return f"{m.group('flag')}{m.group('sep')}{MASK}"
        return m.group(0)

    text = _ASSIGNMENT.sub(assignment, text)
    text = _FLAG_VALUE.sub(flag_value, text)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{MASK}", text)
    return _BEARER.sub(lambda m: f"{m.group(1)}{MASK}", text)


def mask_secrets(obj: Any) -> Any:
    """A copy of `obj` (dicts, lists, tuples, strings, as parsed arguments or
    a command line) with secrets masked; other values are returned as they are.

    A list of strings is read as an argument vector too, so that
    ``["--api-key", "sk-..."]`` is masked like ``"--api-key sk-..."``."""
    if isinstance(obj, str):
        return mask_text(obj)
    if isinstance(obj, dict):
        return {k: (MASK if isinstance(k, str) and is_secret_name(k) and v not in (None, "")
                    else mask_secrets(v)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        items = [mask_secrets(v) for v in obj]
        for i in range(1, len(items)):
            before = obj[i - 1]
            if (isinstance(before, str) and before.startswith("-") and "=" not in before
                    and is_secret_name(before) and isinstance(obj[i], str)):
                items[i] = MASK
        return type(obj)(items) if isinstance(obj, tuple) else items
    return obj
