"""Every benchmark's analysis on several worker processes, with the same numbers as one.

Two rounds of tasks:

1. one per (benchmark, view, metric): the metric's number and interval on that
   view (`evaluate`), which also yields the metric's bootstrap replicates and
   jackknife values (a `ReplicateCache`);
2. per (benchmark, view), in this process: every comparison and the
   significance clusters (`compare`), handed the replicates of round 1 so no
   metric is resampled again, each pair's permutation test on a worker
   (`compare_all(..., workers=...)`).

Every call draws from the run's seed on its own, so the numbers depend neither
on the number of workers nor on which worker ran a task; rows come back in the
order a one-process run writes them (per benchmark: metrics, then views).

Workers are forked (they inherit the benchmarks and scores, which hold closures
that cannot be pickled); where fork is unavailable the tasks run in this process.
"""
from __future__ import annotations

import math
import multiprocessing
import os
import time
from typing import Callable

from ..interrupts import ignore_interrupts_in_worker
from .agreement import ComparisonRow, ResultRow, compare, evaluate
from .settings import AnalysisSettings

_CONTEXT: tuple | None = None


#: Below this many row-draws (rows x (resamples x metrics + permutations x pairs), summed
#: over views) the analysis takes about a second in one process, less than starting and
#: feeding worker processes costs, so it runs in one.
SMALL_WORK = 50_000_000


def usable_cores() -> int:
    """Every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def choose_workers(cores: int, load: float, work: int) -> int:
    """Processes for an analysis of `work` row-draws on `cores` cores at a 1-minute load
    average `load` (which counts this process, up to 1, too).

    1 when the work is small (< SMALL_WORK); otherwise the free cores: cores minus the
    load of the other processes (load - 1, at least 0), rounded down, at least 1 and at
    most cores. A worker on a core another process holds only time-shares it, and on a
    busy 2-core machine 2 workers were 1.11-1.33x slower than 1 (issue 23)."""
    if work < SMALL_WORK:
        return 1
    others = max(0.0, float(load) - 1.0)
    return max(1, min(int(cores), math.floor(cores - others)))


def analysis_work(jobs: list[tuple], settings: AnalysisSettings) -> int:
    """Row-draws of `analyse(jobs, settings)`: per view, its rows x (bootstrap resamples x
    metrics + permutation draws x pairs of metrics)."""
    work = 0
    for _, scored, bench_views in jobs:
        m = len(scored)
        draws = settings.bootstrap * m + settings.permutations * (m * (m - 1) // 2)
        work += sum(len(view.human) for view in bench_views) * draws
    return work


def runnable_others(samples: int = 10, interval: float = 0.01) -> float | None:
    """Tasks of other processes runnable right now: the 4th field of /proc/loadavg counts
    the runnable tasks (this one, reading it, included), averaged over `samples` reads
    `interval` seconds apart; None where the file cannot be read. Unlike the 1-minute
    load average it does not count a process that has just ended (the bench runs the
    same job untimed right before the timed one)."""
    counts = []
    for i in range(samples):
        try:
            with open("/proc/loadavg", encoding="ascii") as f:
                counts.append(int(f.read().split()[3].split("/")[0]) - 1)
        except (OSError, ValueError, IndexError):
            return None
        if i + 1 < samples:
            time.sleep(interval)
    return max(0.0, sum(counts) / len(counts))


def default_workers(work: int | None = None) -> int:
    """`choose_workers` for this machine now (every usable core when `work` is None): the
    other processes' load from `runnable_others`, else the 1-minute load average."""
    cores = usable_cores()
    if work is None:
        return cores
    others = runnable_others()
    if others is not None:
        return choose_workers(cores, others + 1.0, work)
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):   # no load average here: assume the cores are free
        load = 0.0
    return choose_workers(cores, load, work)


def _interval_task(task):
    from correlation.replicates import ReplicateCache

    jobs, settings, _ = _CONTEXT
    b, v, metric = task
    bench, scored, bench_views = jobs[b]
    replicates = ReplicateCache()
    rows = evaluate(bench, metric, scored[metric], settings, [bench_views[v]], replicates)
    return rows, replicates.items()


def _compare_task(task):
    jobs, settings, caches, workers = _CONTEXT
    b, v = task
    bench, scored, bench_views = jobs[b]
    view = bench_views[v]
    rows = compare(bench, scored, settings, [view], caches[b, v], workers)
    return rows, view.clusters


def _map(fn, tasks: list, workers: int, context: tuple, progress) -> list:
    global _CONTEXT
    _CONTEXT = context
    out = []
    try:
        if workers > 1 and len(tasks) > 1 and "fork" in multiprocessing.get_all_start_methods():
            n = min(workers, len(tasks))
            with multiprocessing.get_context("fork").Pool(
                    n, initializer=ignore_interrupts_in_worker,
                    initargs=(max(1, usable_cores() // n),)) as pool:
                for result in pool.imap(fn, tasks, chunksize=1):
                    out.append(result)
                    progress()
        else:
            for task in tasks:
                out.append(fn(task))
                progress()
        return out
    finally:
        _CONTEXT = None


def analyse(jobs: list[tuple], settings: AnalysisSettings, workers: int = 1,
            progress: Callable[[], object] = lambda: None
            ) -> list[tuple[list[ResultRow], list[ComparisonRow]]]:
    """For each (benchmark, {metric: scores}, views) of `jobs`: (result rows, comparison
    rows), as `evaluate` per metric then `compare` would give them; each view's clusters
    are set on the view. `progress` is called after every finished task."""
    from correlation.replicates import ReplicateCache

    units = [(b, v, m) for b, (_, scored, bench_views) in enumerate(jobs)
             for m in scored for v in range(len(bench_views))]
    intervals = dict(zip(units, _map(_interval_task, units, workers, (jobs, settings, None),
                                     progress)))
    caches = {(b, v): ReplicateCache() for b, (_, scored, bench_views) in enumerate(jobs)
              if len(scored) > 1 for v in range(len(bench_views))}
    for (b, v, _), (_, entries) in intervals.items():
        if (b, v) in caches:
            caches[b, v].update(entries)
    # one view at a time here, its pairs of metrics on the worker processes
    views_left = list(caches)
    compared = dict(zip(views_left, _map(_compare_task, views_left, 1,
                                         (jobs, settings, caches, workers), progress)))
    out = []
    for b, (_, scored, bench_views) in enumerate(jobs):
        rows = [row for m in scored for v in range(len(bench_views))
                for row in intervals[b, v, m][0]]
        comparisons = []
        for v, view in enumerate(bench_views):
            if (b, v) in compared:
                view_rows, view.clusters = compared[b, v]
                comparisons += view_rows
        out.append((rows, comparisons))
    return out
