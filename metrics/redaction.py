"""Keeping secrets out of messages and files.

Tools, each for one place a secret can appear:

- `redact_key(text, key)`: a key the run uses, echoed back in a server's
  answer, error body or an exception text: every occurrence of it. Keys
  shorter than `MIN_KEY_LENGTH` characters cannot be redacted (a key "4"
  would be cut out of every rating 4), so the served judge refuses to send
  them (`short_secret_problem`).
- `mask_url(url)`: credentials inside a URL (``https://user:pass@host``, or a
  ``?api_key=`` query parameter).
- `mask_secrets(obj)`: a run's recorded arguments and command line: values of
  options named like a secret (``api_key``, ``token``, ``password``,
  ``--metric-option vlm_judge.api_key=...``) and every URL inside them.
  ``api_key_env``, which names an environment variable, is not a secret.
  Inside a string, ``"api_key": "..."`` pairs (a JSON option such as
  ``vlm_judge.extra_body={"api_key": ...}``) are masked too.
- `hide_secret_fields(obj)`: a JSON option as it enters a signature or a
  cache key: each secret-named field's value becomes ``<secret>`` (that a
  key was given, not which), so changing the key keeps the cached scores.
- `secret_values(obj)`: the secrets inside a JSON option, for `redact_key`.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["MASK", "MIN_KEY_LENGTH", "SECRET_GIVEN", "hide_secret_fields", "is_secret_name",
           "mask_secrets", "mask_text", "mask_url", "redact_key", "secret_values",
           "short_secret_problem"]

MASK = "***"
SECRET_GIVEN = "<secret>"
MIN_KEY_LENGTH = 4

# An option or field name that holds a secret; anchored at the end so that
# "api_key_env" (the name of a variable, not a key) is not one.
_SECRET_NAME = re.compile(
    r"^key$|"  # the whole name only: "sort_key" or "keyword" are not secrets
    r"(?:^|[._-])(?:api[_-]?key|apikey|access[_-]?key|secret(?:[_-]?key)?|token|access[_-]?token|"
    r"auth[_-]?token|password|passwd|authorization)$", re.IGNORECASE)
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# A tokenizer's special token ("bos_token": "<s>" in chat_template_kwargs) is
# a setting that changes answers, not a secret: it must stay in signatures.
_TOKENIZER_TOKEN = re.compile(
    r"(?i)(?:^|[._-])(?:bos|eos|pad|unk|sep|cls|mask|stop|start|end|special|image|video|audio)"
    r"[_-]?token$")
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
# NAME=VALUE inside a string (an argv item such as "vlm_judge.api_key=sk-...").
_ASSIGNMENT = re.compile(r"(?P<name>[A-Za-z0-9_.-]+)=(?P<value>[^\s]+)")
# "--api-key VALUE" in a command line.
_FLAG_VALUE = re.compile(r"(?P<flag>--?[A-Za-z0-9_-]+)(?P<sep>\s+)(?P<value>[^\s-][^\s]*)")
# An Authorization header's credentials, or "Bearer <token>" anywhere ("basic
# auth failed" in an error text is prose, not a credential).
_AUTH_HEADER = re.compile(r"(?i)\b(authorization\s*[:=]\s*(?:bearer|basic|token)\s+)\S+")
_BEARER = re.compile(r"\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
# "NAME": VALUE inside a string holding JSON or a Python dict's repr; VALUE a
# quoted string or a bare scalar (objects and lists are entered, not masked).
_QUOTED_PAIR = re.compile(
    r"""(?P<head>(?P<q>["'])(?P<name>[A-Za-z0-9 _.-]+)(?P=q)\s*:\s*)"""
    r"""(?P<value>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[^\s,}\]{\[][^\s,}\]]*)""")
# A credential by its form, whatever the field is called ("Bearer sk-...").
_CREDENTIAL = re.compile(r"(?i)^\s*(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]+\s*$")


def is_secret_name(name: str) -> bool:
    """True for option names such as api_key, OPENAI_API_KEY, vlm_judge.token, --password,
    and their camelCase forms in JSON bodies (apiKey, clientSecret)."""
    name = _CAMEL_BOUNDARY.sub("_", name.strip().lstrip("-"))
    return bool(_SECRET_NAME.search(name)) and not _TOKENIZER_TOKEN.search(name)


def redact_key(text: str, key: str | None, replacement: str = "[API key]") -> str:
    """`text` with every occurrence of `key` replaced, when `key` is long
    enough to be redacted; shorter keys are refused before they are sent
    (`short_secret_problem`)."""
    if not key or len(key) < MIN_KEY_LENGTH:
        return text
    return text.replace(key, replacement)


def short_secret_problem(secret: str | None, where: str) -> str | None:
    """Why `secret` (named by `where`) cannot be used, or None: a secret
    shorter than MIN_KEY_LENGTH would match inside ordinary text (a rating
    "4"), so it could be neither redacted nor kept out of files."""
    if not secret or len(secret) >= MIN_KEY_LENGTH:
        return None
    return (f"{where} has {len(secret)} character{'s' if len(secret) > 1 else ''}; a key "
            f"shorter than {MIN_KEY_LENGTH} characters cannot be kept out of answers, "
            "messages and files (it would match ordinary text such as a rating), so it is "
            "not sent")


def _secret_value(name: Any, value: Any) -> bool:
    if isinstance(value, str) and _CREDENTIAL.match(value):
        return True
    return (isinstance(name, str) and is_secret_name(name) and value not in (None, "")
            and not isinstance(value, (dict, list, tuple)))


def hide_secret_fields(obj: Any) -> Any:
    """A copy of a JSON value with each secret's value replaced by
    SECRET_GIVEN: fields named like a secret (at any depth) and strings that
    are credentials by their form ("Bearer ..."). Only names and forms are
    looked at, never the text of other values, so no two different
    settings can come out the same."""
    if isinstance(obj, dict):
        return {k: SECRET_GIVEN if _secret_value(k, v) else hide_secret_fields(v)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [SECRET_GIVEN if _secret_value(None, v) else hide_secret_fields(v) for v in obj]
    return obj


def secret_values(obj: Any) -> list[str]:
    """The secrets `hide_secret_fields` hides, as text (the token of a
    "Bearer TOKEN" string)."""
    found: list[str] = []
    items = (obj.items() if isinstance(obj, dict)
             else [(None, v) for v in obj] if isinstance(obj, (list, tuple)) else [])
    for name, value in items:
        if _secret_value(name, value):
            text = str(value).strip()
            found.append(text.split(None, 1)[1] if _CREDENTIAL.match(text) else text)
        else:
            found += secret_values(value)
    return found


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

    def quoted_pair(m: re.Match) -> str:
        if not is_secret_name(m.group("name")):
            return m.group(0)
        value = m.group("value")
        quote = value[0] if value[0] in "\"'" else ""
        return f"{m.group('head')}{quote}{MASK}{quote}"

    text = _QUOTED_PAIR.sub(quoted_pair, text)
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
