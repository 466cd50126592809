"""A vision-language model as judge: pointwise ratings and pairwise preferences.

`VlmJudge` is the metric (registered as ``vlm_judge``); `VlmJudge.compare`
judges pairs. Templates live in ``metrics/prompts``; see docs/vlm_judge.md.
`ServedBackend` (with its `Request`) is the client for OpenAI-compatible
servers, also used to generate Socratis reasons.
"""
from .answers import Judgement, expected_rating, interpret, parse_rating
from .judge import DEFAULT_MODEL, PairwiseOutput, VlmJudge
from .served import Request, ServedBackend
from .templates import Template, list_templates, load_template

__all__ = [
    "VlmJudge", "PairwiseOutput", "DEFAULT_MODEL", "Template", "load_template",
    "list_templates", "Judgement", "interpret", "parse_rating", "expected_rating",
    "ServedBackend", "Request",
]
