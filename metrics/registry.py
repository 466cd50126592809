"""Metric names users type, mapped to the classes that implement them.

Classes are imported only when asked for, so `import metrics` stays light
(no torch, no Java) and a metric whose libraries are missing fails alone.

Other packages add metrics without any change here, through the entry-point
group `socratis_metaeval.metrics` (`name = "package.module:ClassOrFactory"`),
or by calling `register_metric` from a module (`run_correlation --plugin`).
A plugin is imported only when its metric is used; one that fails to import
raises `MetricError` with its error there, and stays out of nobody's way
otherwise.
"""
from __future__ import annotations

import functools
import importlib
import logging
from importlib.metadata import entry_points
from typing import Any

from .base import Metric, MetricError

ENTRY_POINT_GROUP = "socratis_metaeval.metrics"
log = logging.getLogger(__name__)

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
    "pacscore": ("metrics.pac_score", "PacScore", {}),
    "refpacscore": ("metrics.pac_score", "RefPacScore", {}),
    "bertscore": ("metrics.bert_score", "BertScore", {}),
    "bartscore": ("metrics.bart_score", "BartScore", {}),
    "vlm_judge": ("metrics.vlm_judge", "VlmJudge", {}),
}


BUILT_IN = frozenset(_REGISTRY)
_SOURCES: dict[str, str] = {}  # plugin metric name -> where it came from


def register_metric(name: str, module: str, cls: str, **fixed: Any) -> None:
    """Make `get_metric(name)` build `module.cls(**fixed, **options)`.

    A name already taken (a built-in's, or another plugin's for another class) is a
    ValueError: under one name, two metrics' scores would pass for each other's."""
    _discover()
    taken = _REGISTRY.get(name)
    if taken is not None and taken != (module, cls, dict(fixed)):
        owner = "a built-in metric" if name in BUILT_IN else f"metric from {metric_source(name)}"
        raise ValueError(f"register_metric({name!r}, {module!r}, {cls!r}): {name} is the name "
                         f"of {owner}; register yours under a name of its own")
    _REGISTRY[name] = (module, cls, dict(fixed))
    if name not in BUILT_IN:
        _SOURCES.setdefault(name, f"plugin (module {module})")


@functools.lru_cache(maxsize=None)
def _discover() -> None:
    """Register every metric installed packages declare as entry points (imports nothing)."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep.dist, "name", None) or "unknown package"
        if ep.name in _REGISTRY:
            log.warning("metric plugin %s from %s ignored: the name is taken by %s",
                        ep.name, dist, metric_source(ep.name))
            continue
        module, _, attr = ep.value.partition(":")
        _REGISTRY[ep.name] = (module.strip(), attr.strip(), {})
        _SOURCES[ep.name] = f"plugin ({dist})"


def list_metrics() -> list[str]:
    """Every metric name `get_metric` accepts, plugins included."""
    _discover()
    return sorted(_REGISTRY)


def metric_source(name: str) -> str:
    """'built-in', or 'plugin (PACKAGE)' / 'plugin (module MODULE)'."""
    _discover()
    return "built-in" if name in BUILT_IN else _SOURCES.get(name, "plugin")


def metric_class(name: str) -> type[Metric]:
    """The class behind metric `name` (imports its module)."""
    _discover()
    try:
        module, cls, _ = _REGISTRY[name]
    except KeyError:
        raise MetricError(
            f"unknown metric {name!r}; known metrics: {', '.join(list_metrics())}") from None
    if name in BUILT_IN:
        return getattr(importlib.import_module(module), cls)
    try:
        return functools.reduce(getattr, cls.split("."), importlib.import_module(module))
    except Exception as exc:  # a plugin's import may fail in any way: say which and why
        raise MetricError(f"metric {name!r} from {metric_source(name)} could not be loaded "
                          f"({module}:{cls}): {type(exc).__name__}: {exc}") from exc


def needs_image_before_build(name: str, options: dict[str, Any]) -> bool | None:
    """Whether metric `name`, built with `options`, scores against images, where its class
    says so before it is built (`Metric.needs_image_before_build`); None where only the
    built metric knows (a plugin's factory function has no such class method)."""
    known = getattr(metric_class(name), "needs_image_before_build", None)
    return None if known is None else known(options)


def get_metric(name: str, **options: Any) -> Metric:
    """Build the metric called `name` with its options (model, device, ...)."""
    factory = metric_class(name)
    return factory(**_REGISTRY[name][2], **options)
