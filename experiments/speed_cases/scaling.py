"""Scaling bench: one rating view's whole analysis from 10,000 to 1,000,000 rows, and the
peak memory of a BCa interval at 1,000,000 rows against the 1 GiB target.

Data synthesised with a fixed seed per size (no data files), shaped as
Flickr8k-CF: items (images) of 5 rows; a latent quality per image; the human
score is the share of "yes" among 3 crowd voters (0, 1/3, 2/3, 1, mostly 0);
two metrics score each row as the quality plus noise, rounded to 2 decimals
(both sides tied, as in the real scores).

"The whole analysis" of the view is what `run_correlation` does per view:
`correlate(metric, human, "kendall_c", "flat", ci_method="bca", items=...)`
for each of the two metrics, then `compare_all` of the two (paired BCa
interval of the difference and the permutation test), sharing replicates
through one `ReplicateCache`; ANALYSIS_RESAMPLES resamples and permutations.
Each size is timed with its peak memory traced by tracemalloc (which slows
the timing a little), and the growth exponent is the least-squares slope of
log time against log rows (`growth_exponent`): about 1 for n log n work over
this range (n log n over these four sizes alone gives 1.09).
"""
from __future__ import annotations

import math
import time
import tracemalloc

import numpy as np

from . import BenchCase

SIZES = (10_000, 50_000, 200_000, 1_000_000)
ROWS_PER_ITEM = 5
ANALYSIS_RESAMPLES = 500
MEMORY_ROWS = 1_000_000
MEMORY_RESAMPLES = 1000
MEMORY_TARGET_MIB = 1024.0
_state: dict = {}


def growth_exponent(sizes, seconds) -> float:
    """Least-squares slope b of log(seconds) = a + b log(size): time grows as size^b."""
    n = np.asarray(sizes, dtype=float)
    t = np.asarray(seconds, dtype=float)
    if n.shape != t.shape or n.ndim != 1:
        raise ValueError(f"sizes and seconds must be two equal-length lists, got {n.shape} and {t.shape}")
    if not (np.all(np.isfinite(n) & (n > 0)) and np.all(np.isfinite(t) & (t > 0))):
        raise ValueError(f"sizes and seconds must be finite and > 0: {sizes!r}, {seconds!r}")
    x, y = np.log(n), np.log(t)
    if np.unique(x).size < 2:
        raise ValueError(f"at least two distinct sizes are needed for a slope, got {sizes!r}")
    dx = x - x.mean()
    return float(dx @ (y - y.mean()) / (dx @ dx))


def rating_view(n: int):
    """(metric_a, metric_b, human, items) of n rows, seeded by n."""
    rng = np.random.default_rng(n)
    n_items = -(-n // ROWS_PER_ITEM)
    items = np.arange(n) // ROWS_PER_ITEM
    quality = np.repeat(rng.normal(size=n_items), ROWS_PER_ITEM)[:n]
    human = rng.binomial(3, 1 / (1 + np.exp(-(2.5 * quality - 2.0)))) / 3
    a = np.round(quality + rng.normal(0, 0.8, n), 2)
    b = np.round(quality + rng.normal(0, 1.0, n), 2)
    return a, b, human, items


def analyse(a, b, human, items, n_resamples: int = ANALYSIS_RESAMPLES):
    """Both metrics' BCa intervals of tau-c over items, then their paired comparison."""
    from correlation import compare_all, correlate
    from correlation.replicates import ReplicateCache

    cache = ReplicateCache()
    intervals = [correlate(m, human, "kendall_c", "flat", items=items, ci_method="bca",
                           n_resamples=n_resamples, seed=0, cache=cache) for m in (a, b)]
    comparison = compare_all({"a": a, "b": b}, human, "kendall_c", "flat", items=items,
                             ci_method="bca", n_resamples=n_resamples, n_permutations=n_resamples,
                             seed=0, cache=cache)
    return intervals, comparison


def traced(fn) -> tuple[float, float]:
    """(seconds, peak traced MiB) of fn(); nests inside the runner's own tracing."""
    outer = tracemalloc.is_tracing()
    if outer:
        tracemalloc.reset_peak()
    else:
        tracemalloc.start()
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    if not outer:
        tracemalloc.stop()
    return seconds, peak


def _measure(n: int) -> None:
    data = rating_view(n)
    _state.setdefault("sweep", {})[n] = traced(lambda: analyse(*data))


def _setup_sweep() -> None:
    _state["sweep"] = {}
    for n in SIZES[1:-1]:
        _measure(n)


def _print_sweep() -> None:
    sweep = _state["sweep"]
    sizes = sorted(sweep)
    print(f"  {'rows':>10s} {'seconds':>9s} {'peak MiB':>9s}")
    for n in sizes:
        print(f"  {n:10,d} {sweep[n][0]:9.2f} {sweep[n][1]:9.1f}")
    print(f"  growth exponent (slope of log time vs log rows): "
          f"{growth_exponent(sizes, [sweep[n][0] for n in sizes]):.2f}")


def _smallest() -> None:
    _measure(SIZES[0])


def _largest() -> None:
    _measure(SIZES[-1])
    _print_sweep()


def _setup_memory() -> None:
    if "memory" not in _state:
        a, _, human, _ = rating_view(MEMORY_ROWS)
        _state["memory"] = (a, human)


def _bca_1m() -> None:
    from correlation import correlate

    a, human = _state["memory"]
    correlate(a, human, "kendall_c", "flat", ci_method="bca", n_resamples=MEMORY_RESAMPLES, seed=0)


CASES = [
    BenchCase(
        name="scaling: one view's analysis, 1,000,000 vs 10,000 rows",
        ours=_largest,
        baseline=_smallest,
        target_ratio=round(100 * math.log(SIZES[-1]) / math.log(SIZES[0]), 1),
        setup=_setup_sweep,
        notes=(f"analysis of one synthetic rating view (items of {ROWS_PER_ITEM} rows): "
               "correlate(kendall_c, flat, bca over items) for two metrics and compare_all of "
               f"the two, {ANALYSIS_RESAMPLES} resamples and permutations, one ReplicateCache; "
               "ours at 1,000,000 rows, baseline at 10,000; target: n log n growth from 10,000 "
               "rows (100 x ln 10^6 / ln 10^4 = 150). 50,000 and 200,000 rows run in setup; "
               "the sweep's seconds, peak traced MiB and growth exponent are printed."),
    ),
    BenchCase(
        name="scaling: peak memory, BCa tau-c, 1,000 resamples, 1M rows",
        ours=_bca_1m,
        baseline=None,
        target_ratio=1.0,
        setup=_setup_memory,
        memory_target_mib=MEMORY_TARGET_MIB,
        notes=("correlate(kendall_c, flat, ci_method='bca', n_resamples=1000) resampling rows; "
               "judged on peak traced memory (tracemalloc) over the 1 GiB target, not on time."),
    ),
]
