"""`--metric-option METRIC.KEY=VALUE`, checked before anything is scored.

A value is read as JSON where it parses (`w=2.5`, `idf=true`), else as text.
Each option must name a selected metric and an option its constructor takes,
and its value must be of the type the constructor declares (a number for
`clipscore.w`, not `abc`); each problem is a `UsageError` naming the option,
with any secret in it masked (the message reaches stderr).
"""
from __future__ import annotations

import inspect
import json
import types
import typing
from typing import Any, Iterable

from metrics import metric_class
from metrics.redaction import MASK, is_secret_name, mask_text


class UsageError(ValueError):
    """A command-line value that cannot be used; the message names the option."""


def parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _accepted_types(annotation: Any) -> set[type] | None:
    """The plain types an annotation allows; None when it allows anything we cannot name."""
    if annotation is Any:
        return None
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        found: set[type] = set()
        for arg in typing.get_args(annotation):
            inner = _accepted_types(arg)
            if inner is None:
                return None
            found |= inner
        return found
    if origin is typing.Literal:
        return {type(v) for v in typing.get_args(annotation)}
    if origin is not None:
        return {origin} if isinstance(origin, type) else None
    if annotation is None or annotation is type(None):
        return {type(None)}
    return {annotation} if isinstance(annotation, type) else None


def _type_hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls.__init__)
    except Exception:  # an annotation that does not resolve: fall back to defaults
        return {}


def _fits(value: Any, accepted: set[type]) -> bool:
    if isinstance(value, bool):
        return bool in accepted
    if isinstance(value, int) and (int in accepted or float in accepted):
        return True
    return any(isinstance(value, t) for t in accepted if t not in (bool, int))


_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "text",
          type(None): "null", list: "a JSON list", dict: "a JSON object", tuple: "a JSON list"}


def check_option(metric: str, key: str, raw: str) -> Any:
    """The value of `--metric-option METRIC.KEY=RAW` as the metric's constructor takes it."""
    cls = metric_class(metric)
    params = inspect.signature(cls).parameters
    if key not in params:
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            options = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD,
                                                                   p.KEYWORD_ONLY)]
            raise UsageError(f"{metric}.{key}: {metric} has no option {key!r} " + (
                f"(its options: {', '.join(options)})" if options else "(it takes no options)"))
        return parse_value(raw)
    value = parse_value(raw)
    annotation = _type_hints(cls).get(key, inspect.Parameter.empty)
    if annotation is inspect.Parameter.empty:
        default = params[key].default
        accepted = (None if default is inspect.Parameter.empty or default is None
                    else {type(default)})
    else:
        accepted = _accepted_types(annotation)
    if accepted is None or _fits(value, accepted):
        return value
    if str in accepted:
        return raw  # text that happens to parse as JSON (a model named "1")
    names = sorted({_NAMES.get(t, t.__name__) for t in accepted}, key=lambda n: (n == "null", n))
    expected = " or ".join(names)
    shown = MASK if is_secret_name(key) else mask_text(raw)
    raise UsageError(f"{metric}.{key}={shown}: expected {expected}, found {shown!r}")


def parse_metric_options(items: Iterable[str], selected: Iterable[str]) -> dict[str, dict[str, Any]]:
    """['clipscore.model=ViT-B-16', ...] -> {'clipscore': {'model': 'ViT-B-16'}}, every
    option checked against the selected metrics and their constructors."""
    selected = list(selected)
    options: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        metric, dot, name = key.partition(".")
        shown = mask_text(item)
        if not sep or not dot or not metric or not name:
            raise UsageError(f"{shown!r}: expected METRIC.KEY=VALUE")
        if metric not in selected:
            raise UsageError(f"{shown!r}: metric {metric!r} is not selected "
                             f"(selected: {', '.join(selected) or 'none'})")
        if name in options.get(metric, {}):
            raise UsageError(f"{shown!r}: {metric}.{name} is given twice")
        options.setdefault(metric, {})[name] = check_option(metric, name, raw)
    return options
