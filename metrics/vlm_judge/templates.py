"""Prompt templates: text files with a small header naming the rating scale.

A template file (``metrics/prompts/NAME.txt``, or any path) reads::

    # comment lines
    scale: 1 2 3 4 5          # the answers the judge may give, LABEL or LABEL=VALUE
    image: true               # send the sample's image with the prompt
    case_sensitive: false     # match the answer labels case-sensitively
    ---
    The prompt, with {placeholders}.

Placeholders are ``{candidate}``, ``{references}`` (one "- text" line per
reference), any key of ``Sample.context`` (``{caption}``, ``{emotion}``) and,
in pairwise templates, ``{candidate_a}`` and ``{candidate_b}``. Only
``{name}`` with a plain identifier inside is a placeholder, so other braces
need no escaping. A template is pairwise when it uses both ``{candidate_a}``
and ``{candidate_b}``; its scale must then be two labels valued 0 and 1
(slot A, slot B).
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ..base import MetricError, Sample

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEADER_KEYS = {"scale", "image", "case_sensitive"}
# Lines end where open() ends them, never at U+2028, U+0085 or a form feed (str.splitlines
# does, and the prompt would change); a scale value is written as a plain number (not
# `1_0`, which float() reads as 10).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class MissingPlaceholder(KeyError):
    """A template needs a value the sample does not have."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Template:
    """A parsed prompt template.

    name: the file's stem; labels/values: the rating scale; body: the prompt;
    sha256: hash of the whole file (header and body), which names the
    template in signatures and cache keys; path: where it was read from
    (not part of any signature: the same text elsewhere is the same template).
    """

    name: str
    body: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    image: bool
    case_sensitive: bool
    sha256: str
    path: str = ""

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_PLACEHOLDER.findall(self.body)))

    @property
    def pairwise(self) -> bool:
        return {"candidate_a", "candidate_b"} <= set(self.placeholders)

    def describe_scale(self) -> str:
        return " ".join(f"{lab}={_fmt(v)}" for lab, v in zip(self.labels, self.values))

    def fill(self, fields: Mapping[str, str], sample_id: str) -> str:
        """The prompt with every placeholder replaced; MissingPlaceholder names
        the sample and the field when a value is missing or empty."""

        def replace(match: re.Match) -> str:
            key = match.group(1)
            value = fields.get(key)
            if value is None or not str(value).strip():
                where = {"candidate": "candidate text", "references": "references",
                         "candidate_a": "candidate text of sample a",
                         "candidate_b": "candidate text of sample b"}.get(
                    key, f"context[{key!r}]")
                raise MissingPlaceholder(
                    f"template {self.name!r} needs {{{key}}}, but sample {sample_id!r} "
                    f"has no {where}")
            return str(value)

        return _PLACEHOLDER.sub(replace, self.body)


def sample_fields(sample: Sample) -> dict[str, str]:
    """The placeholder values one sample provides."""
    fields = {str(k): str(v) for k, v in sample.context.items() if v is not None}
    fields["candidate"] = sample.candidate
    refs = [r for r in sample.references if r and r.strip()]
    if refs:
        fields["references"] = "\n".join(f"- {r}" for r in refs)
    return fields


def list_templates() -> list[str]:
    """Names of the templates shipped in metrics/prompts."""
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.txt"))


def load_template(name_or_path: str | os.PathLike) -> Template:
    """A shipped template by name (``socratis_reason``) or any template file by path."""
    text_name = str(name_or_path)
    path = Path(text_name)
    if not (path.suffix == ".txt" or os.sep in text_name or "/" in text_name):
        path = PROMPTS_DIR / f"{text_name}.txt"
        if not path.is_file():
            raise MetricError(
                f"vlm_judge: unknown template {text_name!r}; shipped templates: "
                f"{', '.join(list_templates())} (or pass the path of a template file)")
    if not path.is_file():
        raise MetricError(f"vlm_judge: template file not found: {path}")
    raw = path.read_text(encoding="utf-8")
    return parse_template(raw, name=path.stem, source=str(path))


def parse_template(raw: str, name: str, source: str = "<string>") -> Template:
    """Parse a template's text (header, ``---``, body)."""
    lines = _LINE_BREAK.split(raw)
    try:
        sep = next(i for i, line in enumerate(lines) if line.strip() == "---")
    except StopIteration:
        raise MetricError(f"{source}: no '---' line between the header and the prompt") from None
    header: dict[str, str] = {}
    for lineno, line in enumerate(lines[:sep], start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, colon, value = stripped.partition(":")
        key = key.strip()
        if not colon or key not in _HEADER_KEYS:
            raise MetricError(f"{source}:{lineno}: expected one of "
                              f"{', '.join(sorted(_HEADER_KEYS))} as 'key: value', got {line!r}")
        header[key] = value.strip()
    if "scale" not in header:
        raise MetricError(f"{source}: the header has no 'scale:' line")
    labels, values = _parse_scale(header["scale"], source)
    body = "\n".join(lines[sep + 1:]).strip("\n")
    if not body.strip():
        raise MetricError(f"{source}: the prompt is empty")
    template = Template(
        name=name, body=body, labels=labels, values=values,
        image=_parse_bool(header.get("image", "true"), "image", source),
        case_sensitive=_parse_bool(header.get("case_sensitive", "false"), "case_sensitive", source),
        sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        path=source if source != "<string>" else "")
    if template.pairwise and sorted(values) != [0.0, 1.0]:
        raise MetricError(f"{source}: a pairwise template's scale must be two labels "
                          f"valued 0 (slot A) and 1 (slot B), e.g. 'A=0 B=1'")
    return template


def _parse_scale(text: str, source: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    labels: list[str] = []
    values: list[float] = []
    for item in text.split():
        label, eq, value = item.partition("=")
        written = value if eq else label
        if not _NUMBER.fullmatch(written):
            raise MetricError(f"{source}: scale item {item!r} needs a numeric value "
                              "(write LABEL=VALUE)")
        labels.append(label)
        values.append(float(written))
    if len(labels) < 2:
        raise MetricError(f"{source}: a scale needs at least two labels, got {text!r}")
    if len({lab.casefold() for lab in labels}) != len(labels):
        raise MetricError(f"{source}: scale labels must differ, got {text!r}")
    return tuple(labels), tuple(values)


def _parse_bool(text: str, key: str, source: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise MetricError(f"{source}: {key} must be true or false, got {text!r}")


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)
