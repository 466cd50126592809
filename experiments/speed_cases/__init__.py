"""Timed comparisons of the project against its baselines, one module per area.

Each module exposes `CASES`, a list of `BenchCase`; `python -m experiments.bench`
runs them all and prints each as a ratio against its baseline run in the same
process.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass
class BenchCase:
    name: str
    ours: Callable[[], object]
    baseline: Callable[[], object]
    target_ratio: float
    notes: str = ""
    setup: Callable[[], None] | None = None
