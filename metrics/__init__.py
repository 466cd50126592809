"""Metrics that score candidate texts (knows nothing of people or benchmarks).

    import metrics
    metrics.score("bleu4", candidates, references)           # one float per candidate
    from metrics import ClipScore, BertScore, Bleu, Cider, VlmJudge

`import metrics` loads neither torch nor Java: the metric classes and the
model helpers are imported when first used (module `__getattr__`).
"""
from __future__ import annotations

import importlib
from typing import Any

from .api import score
from .base import (InputError, Metric, MetricError, MetricOutput, Sample, check_images_exist,
                   image_digest)
from .cache import (CacheFolderError, CacheWriteError, ScoreCache, check_cache_folder,
                    default_cache_dir, score_with_cache)
from .cache import cache_writes
from .executors import LocalExecutor, RayExecutor
from .images import DEFAULT_MAX_IMAGE_PIXELS, ImageReadError, open_batch, open_image
from .registry import (get_metric, list_metrics, metric_class, metric_source,
                       needs_image_before_build, register_metric)

# public name -> module that defines it, imported on first access
_LAZY = {
    "Bleu": "metrics.ngram", "Meteor": "metrics.ngram", "RougeL": "metrics.ngram",
    "Cider": "metrics.ngram", "Spice": "metrics.ngram",
    "ClipScore": "metrics.clip_score", "RefClipScore": "metrics.clip_score",
    "PacScore": "metrics.pac_score", "RefPacScore": "metrics.pac_score",
    "BertScore": "metrics.bert_score", "BartScore": "metrics.bart_score",
    "VlmJudge": "metrics.vlm_judge",
    "ImageTextModel": "metrics.image_text_model", "resolve_dtype": "metrics.image_text_model",
    "resolve_device": "metrics.models",
}

__all__ = [
    "score", "Sample", "Metric", "MetricOutput", "MetricError", "InputError",
    "check_images_exist",
    "get_metric", "list_metrics", "metric_class", "metric_source", "register_metric",
    "needs_image_before_build",
    "ScoreCache", "score_with_cache", "default_cache_dir", "check_cache_folder",
    "CacheFolderError", "CacheWriteError",
    "cache_writes",
    "LocalExecutor", "RayExecutor",
    "open_image", "open_batch", "ImageReadError", "DEFAULT_MAX_IMAGE_PIXELS", "image_digest",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'metrics' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
