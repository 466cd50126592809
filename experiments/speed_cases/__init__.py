"""Timed comparisons of the project against its baselines, one module per area.

Each module exposes `CASES`, a list of `BenchCase`; `python -m experiments.speed`
runs them all and prints each as a ratio against its baseline run in the same
process. A case with `memory_target_mib` is judged on memory instead: its
code runs under tracemalloc and the ratio is its peak traced MiB over that
target (`baseline` is then None). A case with `time_budget_s` is judged
against that fixed budget (an issue's target in seconds, for the machine it
names) instead of a baseline run: the ratio is its seconds over the budget.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass
class BenchCase:
    name: str
    ours: Callable[[], object]
    baseline: Callable[[], object] | None
    target_ratio: float
    notes: str = ""
    setup: Callable[[], None] | None = None
    memory_target_mib: float | None = None
    time_budget_s: float | None = None
