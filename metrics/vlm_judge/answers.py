"""From a judge's answer to a score: the expected rating, or the parsed one.

Both backends hand back the same plain answer (a dict, stored as JSON in the
response cache)::

    {"text": "4",                         # what the judge wrote
     "tokens": ["4"],                     # the same text, token by token (or None)
     "top": [{"4": -0.7, "3": -1.2}]}     # per token: log-probabilities of
                                          # alternatives (or None)

The rating is the first scale label that stands alone in the text ("4" in
"4/5", never the "1" of "10"). Where the token that writes it has
log-probabilities, the score is the expected rating over the scale labels,
normalised over them (G-Eval, Liu et al. 2023; FLEUR, Lee et al. 2024):

    score = sum_l value(l) * p(l) / sum_l p(l)

with p(l) the probability of the tokens that spell label l at that position.
Otherwise the score is the parsed rating itself. An answer without a rating
is no score: NaN with the reason.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from .templates import Template

# Characters around a label in one token that still spell that label ("4." or "**4").
_TOKEN_TRIM = " \t\r\n*\"'`.,:;!()[]"
_REFUSAL = re.compile(
    r"\b(i\s+can[\u2019']?t|i\s+cannot|i\s+am\s+sorry|i[\u2019']m\s+sorry|i\s+am\s+unable|"
    r"i[\u2019']m\s+unable|i\s+am\s+not\s+able|i[\u2019']m\s+not\s+able|i\s+won[\u2019']?t|"
    r"as\s+an\s+ai|unable\s+to\s+(help|assist|comply|provide))",
    re.IGNORECASE)


@dataclass(frozen=True)
class Judgement:
    """One answer read against a template's scale."""

    score: float = math.nan
    raw_rating: float = math.nan
    used_probabilities: bool = False
    rating_mass: float = math.nan
    error: str | None = None


def label_of(token: str, template: Template) -> str | None:
    """The scale label a token spells, once whitespace and punctuation are trimmed."""
    core = token.strip(_TOKEN_TRIM)
    if not core:
        return None
    if template.case_sensitive:
        return core if core in template.labels else None
    return _folded_labels(template.labels).get(core.casefold())


@lru_cache(maxsize=64)
def _folded_labels(labels: tuple[str, ...]) -> dict[str, str]:
    return {lab.casefold(): lab for lab in labels}


@lru_cache(maxsize=64)
def _label_pattern(labels: tuple[str, ...], case_sensitive: bool) -> re.Pattern:
    alternatives = "|".join(re.escape(lab) for lab in sorted(labels, key=len, reverse=True))
    # Not inside a word or a number: "10" is no "1", "4.5" is neither "4" nor "5".
    return re.compile(rf"(?<![0-9A-Za-z])(?<![0-9][.,])({alternatives})(?![0-9A-Za-z]|[.,][0-9])",
                      0 if case_sensitive else re.IGNORECASE)


def parse_rating(text: str, template: Template) -> tuple[str, int] | None:
    """(label, character offset) of the first rating in `text`, or None."""
    match = _label_pattern(template.labels, template.case_sensitive).search(text)
    if match is None:
        return None
    found = match.group(1)
    label = found if template.case_sensitive else _folded_labels(template.labels)[found.casefold()]
    return label, match.start()


def expected_rating(top: Mapping[str, float], template: Template) -> tuple[float, float] | None:
    """(expected rating, probability mass on the scale) from one position's
    log-probabilities, or None when no alternative spells a label.

    The normalisation runs in log space (log-sum-exp), so any finite
    log-probability gives a rating: a server that sends 800 for a token
    (not a log-probability, but seen in the wild) does not overflow. The mass
    is then reported as it is, above 1 or infinite, for the reader to judge."""
    logits: dict[str, list[float]] = {}
    for token, logprob in top.items():
        label = label_of(token, template)
        if (label is not None and isinstance(logprob, (int, float))
                and not isinstance(logprob, bool) and math.isfinite(logprob)):
            logits.setdefault(label, []).append(float(logprob))
    if not logits:
        return None
    peak = max(max(v) for v in logits.values())
    # p(l) / exp(peak): every term is in (0, 1], the largest is 1.
    scaled = {lab: math.fsum(math.exp(lp - peak) for lp in lps) for lab, lps in logits.items()}
    total = math.fsum(scaled.values())
    value = dict(zip(template.labels, template.values))
    rating = math.fsum(value[lab] * p for lab, p in scaled.items()) / total
    log_mass = peak + math.log(total)
    mass = math.exp(log_mass) if log_mass < 709.0 else math.inf
    return rating, mass


def _token_index(tokens: list[str], text: str, offset: int) -> int | None:
    """Index of the token covering character `offset` of `text`, when the
    tokens spell the text (up to surrounding whitespace)."""
    joined = "".join(tokens)
    if joined.strip() != text.strip():
        return None
    position = offset - (len(text) - len(text.lstrip())) + (len(joined) - len(joined.lstrip()))
    end = 0
    for i, token in enumerate(tokens):
        end += len(token)
        if position < end:
            return i
    return None


def interpret(answer: Any, template: Template) -> Judgement:
    """The score an answer gives under `template`'s scale; an answer that
    cannot be read (a wrong type anywhere, a number out of range) is NaN with
    the reason, never an exception."""
    try:
        return _interpret(answer, template)
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError,
            ZeroDivisionError) as exc:
        return Judgement(error=f"the judge's answer could not be read "
                               f"({type(exc).__name__}: {exc})")


def _interpret(answer: Any, template: Template) -> Judgement:
    if not isinstance(answer, Mapping):
        return Judgement(error="the answer is not a JSON object")
    text = answer.get("text")
    if not isinstance(text, str):
        return Judgement(error="the answer has no text")
    parsed = parse_rating(text, template)
    if parsed is None:
        shown = text.strip()
        shown = shown if len(shown) <= 160 else shown[:157] + "..."
        if not shown:
            return Judgement(error="the judge gave an empty answer")
        if _REFUSAL.search(text):
            return Judgement(error=f"the judge declined to rate: {shown!r}")
        return Judgement(error=f"no rating ({' '.join(template.labels)}) in the "
                               f"judge's answer: {shown!r}")
    label, offset = parsed
    raw = dict(zip(template.labels, template.values))[label]
    tokens, top = answer.get("tokens"), answer.get("top")
    if (isinstance(tokens, list) and isinstance(top, list) and tokens and len(tokens) == len(top)
            and all(isinstance(t, str) for t in tokens)):
        i = _token_index(tokens, text, offset)
        if (i is not None and label_of(tokens[i], template) == label
                and isinstance(top[i], Mapping) and top[i]):
            expected = expected_rating(top[i], template)
            if expected is not None:
                return Judgement(score=expected[0], raw_rating=raw,
                                 used_probabilities=True, rating_mass=expected[1])
    return Judgement(score=raw, raw_rating=raw)
