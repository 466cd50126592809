"""Extra tables a benchmark family reports beside its agreement numbers.

A family (`Benchmark.kind`) maps to a function
`(bench, scores: {metric: per-sample scores}, settings: TableSettings) -> {table name: rows}`
whose rows (lists of flat dicts) `run_correlation` writes to
OUT/BENCHMARK.TABLE.csv and shows in report.md.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np

from ..benchmarks.base import Benchmark

_FAMILIES: dict[str, str] = {}


@dataclass(frozen=True)
class TableSettings:
    bootstrap: int = 1000
    confidence: float = 0.95
    seed: int = 0


def register_tables(kind: str, target: str) -> None:
    """`target` is 'module:function'."""
    _FAMILIES[kind] = target


def benchmark_tables(bench: Benchmark, scores: dict[str, np.ndarray],
                     settings: TableSettings) -> dict[str, list[dict]]:
    target = _FAMILIES.get(bench.kind)
    if target is None or not scores:
        return {}
    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)(bench, scores, settings)
