"""Every benchmark's analysis on several worker processes, with the same numbers as one.

All benchmarks go through one `analyse` call, so that no core waits for the last
task of one benchmark while the next has work. Two rounds of tasks:

1. one per (benchmark, view, metric): the metric's number and interval on that
   view (`evaluate`), which also yields the metric's bootstrap replicates and
   jackknife values (a `ReplicateCache`); and one per benchmark for the rows of
   `newer_methods.newer_rows` (kappa, Krippendorff's alpha, SPA);
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
from .newer_methods import newer_rows
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


def _rows(job) -> int:
    """Human judgments over every view of one (benchmark, scores, views) job."""
    _, _, bench_views = job
    return sum(len(view.human) for view in bench_views)


def analysis_work(jobs: list[tuple], settings: AnalysisSettings) -> int:
    """Row-draws of `analyse(jobs, settings)`: per view, its rows x (bootstrap resamples x
    metrics + permutation draws x pairs of metrics)."""
    work = 0
    for job in jobs:
        m = len(job[1])
        draws = settings.bootstrap * m + settings.permutations * (m * (m - 1) // 2)
        work += _rows(job) * draws
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


def _first_round_task(task):
    """("interval", b, v, metric): that metric's rows and replicates on view v of job b;
    ("newer", b): job b's `newer_rows`."""
    from correlation.replicates import ReplicateCache

    jobs, settings, _ = _CONTEXT
    bench, scored, bench_views = jobs[task[1]]
    if task[0] == "newer":
        return newer_rows(bench, scored, bench_views, settings), []
    _, _, v, metric = task
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


class Background:
    """`fn(*args)` computed on a forked process beside the analysis's workers, so that it
    takes the core time they leave idle (the last tasks of a round, this process's own
    work between rounds); computed by `get` itself where fork is unavailable or `fork` is
    false. A context manager: leaving it ends the process."""

    def __init__(self, fn: Callable, *args, fork: bool = True):
        self._fn, self._args = fn, args
        self._pool = self._pending = None
        if fork and "fork" in multiprocessing.get_all_start_methods():
            self._pool = multiprocessing.get_context("fork").Pool(
                1, initializer=ignore_interrupts_in_worker, initargs=(1,))
            self._pending = self._pool.apply_async(fn, args)

    def get(self):
        if self._pool is None:
            return self._fn(*self._args)
        return self._pending.get()

    def __enter__(self) -> "Background":
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None


def analysis_steps(jobs: list[tuple]) -> int:
    """Tasks `analyse(jobs, ...)` reports to its `progress`."""
    return sum(len(bench_views) * (len(scored) + (len(scored) > 1)) + 1
               for _, scored, bench_views in jobs)


def analyse(jobs: list[tuple], settings: AnalysisSettings, workers: int = 1,
            progress: Callable[[], object] = lambda: None
            ) -> list[tuple[list[ResultRow], list[ComparisonRow], list[ResultRow]]]:
    """For each (benchmark, {metric: scores}, views) of `jobs`: (result rows, comparison
    rows, `newer_rows`), as `evaluate` per metric, then `compare`, then `newer_rows` would
    give them; each view's clusters are set on the view. `progress` is called after every
    finished task (`analysis_steps`)."""
    from correlation.replicates import ReplicateCache

    # the largest benchmarks' tasks first, so that the small ones fill the last gaps
    order = sorted(range(len(jobs)), key=lambda b: -_rows(jobs[b]))
    tasks = [task for b in order for task in
             [("interval", b, v, m) for m in jobs[b][1] for v in range(len(jobs[b][2]))]
             + [("newer", b)]]
    done = dict(zip(tasks, _map(_first_round_task, tasks, workers, (jobs, settings, None),
                                progress)))
    caches = {(b, v): ReplicateCache() for b, (_, scored, bench_views) in enumerate(jobs)
              if len(scored) > 1 for v in range(len(bench_views))}
    for task, (_, entries) in done.items():
        if task[0] == "interval" and (task[1], task[2]) in caches:
            caches[task[1], task[2]].update(entries)
    # one view at a time here, its pairs of metrics on the worker processes
    views_left = list(caches)
    compared = dict(zip(views_left, _map(_compare_task, views_left, 1,
                                         (jobs, settings, caches, workers), progress)))
    out = []
    for b, (_, scored, bench_views) in enumerate(jobs):
        rows = [row for m in scored for v in range(len(bench_views))
                for row in done["interval", b, v, m][0]]
        comparisons = []
        for v, view in enumerate(bench_views):
            if (b, v) in compared:
                view_rows, view.clusters = compared[b, v]
                comparisons += view_rows
        out.append((rows, comparisons, done["newer", b][0]))
    return out
