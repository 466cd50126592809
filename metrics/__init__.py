"""Metrics that score candidate texts (knows nothing of people or benchmarks)."""
from .base import InputError, Metric, MetricError, MetricOutput, Sample
from .cache import ScoreCache, default_cache_dir, score_with_cache
from .executors import LocalExecutor, RayExecutor
from .registry import get_metric, list_metrics, register_metric

__all__ = [
    "Sample", "Metric", "MetricOutput", "MetricError", "InputError",
    "get_metric", "list_metrics", "register_metric",
    "ScoreCache", "score_with_cache", "default_cache_dir",
    "LocalExecutor", "RayExecutor",
]
