"""Metric names users type, mapped to the classes that implement them.

Classes are imported only when asked for, so `import metrics` stays light
(no torch, no Java) and a metric whose libraries are missing fails alone.
"""
from __future__ import annotations

import importlib
from typing import Any

from .base import Metric, MetricError

# name -> (module, class, fixed options)
_REGISTRY: dict[str, tuple[str, str, dict[str, Any]]] = {
    "bleu1": ("metrics.ngram", "Bleu", {"n": 1}),
    "bleu2": ("metrics.ngram", "Bleu", {"n": 2}),
    "bleu3": ("metrics.ngram", "Bleu", {"n": 3}),
    "bleu4": ("metrics.ngram", "Bleu", {"n": 4}),
    "meteor": ("metrics.ngram", "Meteor", {}),
    "rouge_l": ("metrics.ngram", "RougeL", {}),
    "cider": ("metrics.ngram", "Cider", {}),
    "spice": ("metrics.ngram", "Spice", {}),
    "clipscore": ("metrics.clip_score", "ClipScore", {}),
    "refclipscore": ("metrics.clip_score", "RefClipScore", {}),
    "bertscore": ("metrics.bert_score", "BertScore", {}),
    "bartscore": ("metrics.bart_score", "BartScore", {}),
    "vlm_judge": ("metrics.vlm_judge", "VlmJudge", {}),
}


def register_metric(name: str, module: str, cls: str, **fixed: Any) -> None:
    """Make `get_metric(name)` build `module.cls(**fixed, **options)`."""
    _REGISTRY[name] = (module, cls, dict(fixed))


def list_metrics() -> list[str]:
    """Every metric name `get_metric` accepts."""
    return sorted(_REGISTRY)


def metric_class(name: str) -> type[Metric]:
    """The class behind metric `name` (imports its module)."""
    try:
        module, cls, _ = _REGISTRY[name]
    except KeyError:
        raise MetricError(
            f"unknown metric {name!r}; known metrics: {', '.join(list_metrics())}") from None
    return getattr(importlib.import_module(module), cls)


def get_metric(name: str, **options: Any) -> Metric:
    """Build the metric called `name` with its options (model, device, ...)."""
    factory = metric_class(name)
    return factory(**_REGISTRY[name][2], **options)
