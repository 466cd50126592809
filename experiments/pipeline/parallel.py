"""A benchmark's analysis, one task per view, on several worker processes.

Each view (a protocol step on one subset) is analysed whole by one worker:
every metric's interval (`evaluate`) and then every comparison and the
clusters (`compare`), sharing each metric's bootstrap replicates through one
`ReplicateCache`. Every call draws from the run's seed on its own, so the
numbers do not depend on the number of workers or on which worker ran a
view; results come back in the order a one-process run writes them.

Workers are forked (they inherit the benchmark and the scores, which hold
closures that cannot be pickled); where fork is unavailable the views run in
this process.
"""
from __future__ import annotations

import multiprocessing
import os
from typing import TYPE_CHECKING

from .agreement import ComparisonRow, ResultRow, View, compare, evaluate
from .settings import AnalysisSettings

if TYPE_CHECKING:
    from ..benchmarks.base import Benchmark

_CONTEXT: tuple | None = None


def default_workers() -> int:
    """Every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _view_task(bench, scored, settings, bench_views, i: int):
    from correlation.replicates import ReplicateCache

    view = bench_views[i]
    replicates = ReplicateCache()
    rows = {metric: evaluate(bench, metric, scores, settings, [view], replicates)
            for metric, scores in scored.items()}
    comparisons = compare(bench, scored, settings, [view], replicates)
    return rows, comparisons, view.clusters


def _run_view(i: int):
    return _view_task(*_CONTEXT, i)


def analyse(bench: Benchmark, scored: dict, settings: AnalysisSettings, bench_views: list[View],
            workers: int = 1) -> tuple[list[ResultRow], list[ComparisonRow]]:
    """(result rows, comparison rows) of every view, as `evaluate` per metric then `compare`
    over all views would give them; each view's clusters are set on the view."""
    global _CONTEXT
    tasks = range(len(bench_views))
    workers = min(int(workers), len(bench_views))
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        _CONTEXT = (bench, scored, settings, bench_views)
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                results = pool.map(_run_view, tasks, chunksize=1)
        finally:
            _CONTEXT = None
    else:
        results = [_view_task(bench, scored, settings, bench_views, i) for i in tasks]
    for view, (_, _, clusters) in zip(bench_views, results):
        view.clusters = clusters
    rows = [row for metric in scored for per_metric, _, _ in results
            for row in per_metric[metric]]
    comparisons = [row for _, per_view, _ in results for row in per_view]
    return rows, comparisons
