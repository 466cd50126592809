"""A vision-language model as judge: pointwise ratings and pairwise preferences.

Templates live in ``metrics/prompts``; see docs/vlm_judge.md.
"""
from .answers import Judgement, expected_rating, interpret, parse_rating
from .templates import Template, list_templates, load_template

__all__ = [
    "Template", "load_template", "list_templates",
    "Judgement", "interpret", "parse_rating", "expected_rating",
]
