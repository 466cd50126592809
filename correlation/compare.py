"""Is one metric really better than another? Paired tests on the same judgments.

- `paired_bootstrap`: resample units once per replicate, compute both metrics'
  statistics on the same resample, and take the interval (BCa or percentile)
  of the difference a - b (Deutsch et al. 2021, arXiv:2104.00054).
- `permutation_test`: the paired permutation test of mt-metrics-eval's
  `PermutationSigDiff` and Deutsch et al. (2021): under the null hypothesis
  the two metrics are exchangeable, so each unit (a row = PERM-BOTH, a whole
  item = PERM-INPUTS, a whole system = PERM-SYSTEMS) independently swaps the
  two metrics' scores with probability 1/2. Scores are z-scored per metric
  first (as mt-metrics-eval does) so that swapping mixes comparable numbers,
  with scipy.stats.zscore's definition (`_zscore`); the observed statistic is
  that of the same z-scores (the draw that swaps nothing), and for a rank
  statistic distinct scores keep distinct z-scores, so it equals the raw
  scores' statistic.
  p-value = (1 + #{draws at least as extreme}) / (1 + #draws), "at least as
  extreme" allowing 1e-12 for rounding (Phipson & Smyth 2010).
- `significance_clusters`: metrics sorted by the statistic, best first; a
  metric opens a new cluster when at least one metric of the current cluster
  beats it significantly (one-sided permutation p <= alpha); otherwise it joins
  the current cluster. This is mt-metrics-eval's `AssignRanks`, the rule behind
  the significance clusters of the WMT22/WMT23 metrics shared tasks
  (Freitag et al. 2022, 2023). Where the data have too few units for the test
  to reach alpha at all (`smallest_p_value`), no clusters are formed: every
  metric's cluster is None and the notes say why.
- A comparison's interval and test can disagree (`ComparisonResult.
  interval_test_disagree`): they resample different units, or there are few.
"""
from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import signal
from typing import Mapping

import numpy as np
from threadpoolctl import threadpool_limits

from ._problem import Problem
from ._resample import (block_size, counts_by_units, own_unit_key, own_unit_matrices,
                        standardized, swapped_values)
from ._validate import check_seed, make_rng, renamed_keyword, undefined
from .bootstrap import (check_settings, interval, join_notes, resampled_units,
                        resampling_label, resolve_unit, seed_record)
from .replicates import shared_replicates
from .results import ClusterEntry, ComparisonResult, SignificanceClusters

__all__ = ["compare_metrics", "paired_bootstrap", "permutation_test", "compare_all",
           "significance_clusters", "assign_clusters", "smallest_p_value", "ALTERNATIVES"]

ALTERNATIVES = ("two-sided", "greater", "less")
_TOL = 1e-12


def _problem(metric_a, metric_b, human, statistic, level, items, systems, epsilon, names):
    return Problem([metric_a, metric_b], human, statistic, level, items, systems, epsilon,
                   names=tuple(names))


def _values(prob: Problem):
    pa, pb = prob.point(0), prob.point(1)
    for name, p in zip(prob.names, (pa, pb)):
        if p.reason is not None:
            undefined(f"{prob.statistic} of {name} at level {prob.level!r} is undefined: {p.reason}",
                      stacklevel=4)
    return pa, pb


def _permutation_unit(prob: Problem, unit: str | None) -> str:
    """The unit that swaps: by default whole items where rows share one (items= given: the
    captions of one image, the judgments of one pair), so the swap keeps the dependence
    within an item that the bootstrap keeps by resampling items; rows otherwise."""
    if unit is None:
        return "items" if prob.items is not None else "rows"
    if unit not in ("rows", "items", "systems"):
        raise ValueError(f"unknown permutation unit {unit!r}; choose rows, items or systems")
    if unit == "items" and prob.items is None:
        raise ValueError("permutation unit 'items' needs items= labels")
    if unit == "systems" and prob.systems is None:
        raise ValueError("permutation unit 'systems' needs systems= labels")
    return unit


def random_bits(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """Fair coin flips (rows x cols bool) from the generator's raw bytes."""
    raw = np.frombuffer(rng.bytes((rows * cols + 7) // 8), dtype=np.uint8)
    return np.unpackbits(raw)[:rows * cols].reshape(rows, cols).view(bool)


def _permutation_draws(prob, unit, n_permutations, standardize, rng):
    """(observed delta a - b, finite deltas of the swapped draws), all of the same scores (the
    z-scores when standardize): the observed delta is the draw that swaps no unit, so the
    p-value compares like with like (as mt-metrics-eval's PermutationSigDiff does). For a
    rank statistic it equals the delta of the raw scores (`_zscore.distinct_zscores`)."""
    if not isinstance(n_permutations, (int, np.integer)) or n_permutations < 1:
        raise ValueError(f"n_permutations must be a positive integer, got {n_permutations!r}")
    if standardize and prob.epsilon > 0 and prob.level != "pair":
        raise ValueError("epsilon is in the metrics' own units; z-scoring before swapping would change "
                         "which pairs tie. Pass standardize=False to swap raw scores.")
    pa, pb = prob.point(0), prob.point(1)
    delta = pa.value - pb.value
    if not math.isfinite(delta):
        return delta, np.zeros(0)
    n_units = prob.n_units(unit)
    unswapped = swapped_values(prob, unit, np.zeros((1, n_units), dtype=bool), standardize)
    observed = unswapped[0, 0] - unswapped[0, 1]
    block = block_size(prob.n)
    deltas = []
    for start in range(0, n_permutations, block):
        c = min(block, n_permutations - start)
        swaps = random_bits(rng, c, n_units)
        v = swapped_values(prob, unit, swaps, standardize)
        deltas.append(v[:, 0] - v[:, 1])
    d = np.concatenate(deltas)
    return float(observed), d[np.isfinite(d)]


def _p_value(delta: float, d: np.ndarray, alternative: str) -> float:
    """(1 + #draws at least as extreme, within 1e-12) / (1 + #draws); NaN without an estimate."""
    if not math.isfinite(delta):
        return math.nan
    if alternative == "two-sided":
        hits = np.count_nonzero(np.abs(d) >= abs(delta) - _TOL)
    elif alternative == "greater":
        hits = np.count_nonzero(d >= delta - _TOL)
    else:
        hits = np.count_nonzero(d <= delta + _TOL)
    return float((1 + hits) / (1 + d.size))


def _check_alternative(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"unknown alternative {alternative!r}; choose one of {', '.join(ALTERNATIVES)}")


def _permutation_p(prob, unit, n_permutations, alternative, standardize, rng):
    """(p-value, observed delta of the test's scores, draws used) for a - b."""
    _check_alternative(alternative)
    delta, d = _permutation_draws(prob, unit, n_permutations, standardize, rng)
    return _p_value(delta, d, alternative), delta, int(d.size)


def _draws_note(delta: float, used: int, n_permutations: int) -> str:
    if not math.isfinite(delta):
        return "no test: a statistic is undefined"
    return "" if used == n_permutations else f"{n_permutations - used} permutation draws undefined and left out"


def permutation_test(metric_a, metric_b, human, statistic: str, level: str = "flat", items=None,
                     systems=None, *, n_permutations: int = 1000, alternative: str = "two-sided",
                     unit: str | None = None, standardize: bool = True, seed=0,
                     epsilon: float = 0.0, names=("a", "b")) -> ComparisonResult:
    """Paired permutation test of statistic(a) vs statistic(b) on the same human scores.

    unit: "rows", "items" or "systems": what swaps together (default: "items"
    when items= is given, else "rows"; the result's ``swap_unit``).
    alternative: "two-sided" (the statistics differ),
    "greater" (a is better), "less" (a is worse). Rows with a NaN in any of
    the three vectors are dropped for both metrics.
    """
    prob = _problem(metric_a, metric_b, human, statistic, level, items, systems, epsilon, names)
    unit = _permutation_unit(prob, unit)
    pa, pb = _values(prob)
    p, observed, used = _permutation_p(prob, unit, n_permutations, alternative, standardize,
                                       make_rng(seed))
    note = _draws_note(observed, used, n_permutations)
    return ComparisonResult(statistic=statistic, level=level, metric_a=names[0], metric_b=names[1],
                            value_a=pa.value, value_b=pb.value, delta=pa.value - pb.value,
                            p_value=p,
                            alternative=alternative, n=pa.n, n_nan=prob.n_nan,
                            method=_permutation_label(n_permutations, unit, standardize),
                            n_permutations=int(n_permutations), unit=unit,
                            n_units=prob.n_units(unit), seed=seed_record(seed),
                            epsilon=float(epsilon), notes=join_notes(prob.notes, note),
                            swap_unit=unit)


def paired_bootstrap(metric_a, metric_b, human, statistic: str, level: str = "flat", items=None,
                     systems=None, *, ci_method: str = "bca", n_resamples: int = 1000,
                     confidence: float = 0.95, unit: str | None = None, seed=0,
                     epsilon: float = 0.0, names=("a", "b"), **deprecated) -> ComparisonResult:
    """Bootstrap interval of statistic(a) - statistic(b), both on every same resample.

    ci_method: "bca" | "percentile" (``method=`` is its deprecated name).
    """
    method = renamed_keyword(deprecated, "method", "ci_method", ci_method, "bca", "paired_bootstrap")
    check_settings(method, n_resamples, confidence)
    prob = _problem(metric_a, metric_b, human, statistic, level, items, systems, epsilon, names)
    unit = resolve_unit(prob, unit)
    pa, pb = _values(prob)
    return _paired_bootstrap(prob, pa, pb, unit, method, n_resamples, confidence, seed)


def _paired_bootstrap(prob, pa, pb, unit, method, n_resamples, confidence, seed, rng=None):
    rng = make_rng(seed) if rng is None else rng
    delta = pa.value - pb.value
    reps, jk, jnote = shared_replicates(prob, unit, method, n_resamples, seed, rng=rng)
    lo, hi, note = _difference_interval(delta, reps, jk, 0, 1, confidence, method)
    return ComparisonResult(statistic=prob.statistic, level=prob.level, metric_a=prob.names[0],
                            metric_b=prob.names[1], value_a=pa.value, value_b=pb.value, delta=delta,
                            ci_low=lo, ci_high=hi, se=_difference_se(reps, 0, 1), n=pa.n,
                            n_nan=prob.n_nan,
                            method=resampling_label("paired bootstrap", method, n_resamples, unit,
                                                    confidence, jnote),
                            confidence=confidence, n_resamples=int(n_resamples), unit=unit,
                            n_units=resampled_units(prob, unit), seed=seed_record(seed),
                            epsilon=prob.epsilon,
                            notes=join_notes(prob.notes, note))


def _difference_interval(delta, reps, jk, a: int, b: int, confidence, method):
    """Interval of column a minus column b from the same replicates and jackknife values."""
    return interval(delta, reps[:, a] - reps[:, b], jk[:, a] - jk[:, b], confidence, method)


def _difference_se(reps, a: int, b: int) -> float:
    """Bootstrap standard error of column a minus column b (finite replicates, ddof 1)."""
    d = reps[:, a] - reps[:, b]
    d = d[np.isfinite(d)]
    return float(d.std(ddof=1)) if d.size > 1 else math.nan


def _permutation_label(n_permutations: int, unit: str, standardize: bool) -> str:
    return (f"paired permutation test ({n_permutations} draws, swapping {unit}"
            f"{', z-scored' if standardize else ''})")


def compare_metrics(metric_a, metric_b, human, statistic: str, level: str = "flat", items=None,
                    systems=None, *, ci_method: str = "bca", n_resamples: int = 1000,
                    confidence: float = 0.95, unit: str | None = None,
                    n_permutations: int = 1000, alternative: str = "two-sided",
                    permutation_unit: str | None = None, standardize: bool = True, seed=0,
                    epsilon: float = 0.0, names=("a", "b"), **deprecated) -> ComparisonResult:
    """Both tests at once: paired-bootstrap interval of a - b and the permutation p-value.

    Draws come from one Generator made from ``seed``: the bootstrap first, then
    the permutations. permutation_unit: what the permutation test swaps (as
    `permutation_test`'s ``unit``). ci_method: "bca" | "percentile" (``method=``
    is its deprecated name).
    """
    method = renamed_keyword(deprecated, "method", "ci_method", ci_method, "bca", "compare_metrics")
    check_settings(method, n_resamples, confidence)
    prob = _problem(metric_a, metric_b, human, statistic, level, items, systems, epsilon, names)
    unit = resolve_unit(prob, unit)
    punit = _permutation_unit(prob, permutation_unit)
    pa, pb = _values(prob)
    rng = make_rng(seed)
    boot = _paired_bootstrap(prob, pa, pb, unit, method, n_resamples, confidence, seed, rng=rng)
    p, observed, used = _permutation_p(prob, punit, n_permutations, alternative, standardize, rng)
    notes = [n for n in (boot.notes, _draws_note(observed, used, n_permutations)) if n]
    return dataclasses.replace(
        boot, p_value=p, alternative=alternative, n_permutations=int(n_permutations),
        method=boot.method + "; " + _permutation_label(n_permutations, punit, standardize),
        notes="; ".join(notes), swap_unit=punit)


# ---------------------------------------------------------------------------
# significance clusters

def assign_clusters(p_values, alpha: float = 0.05) -> list[int]:
    """Cluster numbers (1 = best) for metrics already sorted best first.

    p_values[i][j] (i < j): p-value for "metric i is better than metric j".
    Walking down the ranking, metric j starts a new cluster when some metric
    i of the current cluster (from its first member to j - 1) has
    p_values[i][j] <= alpha; otherwise it joins the current cluster
    (mt-metrics-eval `AssignRanks`; WMT22/23 metrics shared tasks).
    """
    p = np.asarray(p_values, dtype=float)
    m = p.shape[0]
    clusters, current, start = [], 1, 0
    for j in range(m):
        if j > 0 and np.any(p[start:j, j] <= alpha):
            current += 1
            start = j
        clusters.append(current)
    return clusters


def _child_rngs(seed, k: int) -> list[np.random.Generator]:
    if isinstance(seed, np.random.Generator):
        return list(seed.spawn(k))
    return [np.random.default_rng(s) for s in np.random.SeedSequence(check_seed(seed)).spawn(k)]


def _ranking(scores: Mapping[str, object], human, statistic, level, items, systems, epsilon):
    """All metrics on the rows where none is NaN, and the defined ones ranked best first."""
    names = list(scores)
    if len(names) < 1:
        raise ValueError("scores must name at least one metric")
    full = Problem([scores[k] for k in names], human, statistic, level, items, systems, epsilon,
                   names=tuple(names))
    vals = [full.point(j) for j in range(full.a)]
    notes = []
    undefined_names = [names[j] for j in range(full.a) if not math.isfinite(vals[j].value)]
    if undefined_names:
        notes.append("undefined (left out): " + ", ".join(undefined_names))
    if full.n_nan:
        notes.append(f"{full.n_nan} rows with a NaN score dropped for all metrics")
    if full.notes:
        notes.append(full.notes)
    ranked = sorted((j for j in range(full.a) if math.isfinite(vals[j].value)),
                    key=lambda j: (-vals[j].value, names[j]))
    return full, names, vals, ranked, notes


#: What the forked workers of `_forked_map` read (set around each map; forked, not pickled).
_CONTEXT: tuple | None = None


def _pair_draws(job):
    """(permutation unit, observed delta, draws) of one pair (r, c, a, b, rng) of the view
    in `_CONTEXT`."""
    full, names, n_permutations, unit, standardize, swap_X, own = _CONTEXT
    _, _, a, b, rng = job
    sub = Problem([full.X[:, a], full.X[:, b]], full.y, full.statistic, full.level,
                  full.items, full.systems, full.epsilon, names=(names[a], names[b]))
    if full.level == "pair":  # already outcomes; do not re-threshold
        sub.X = full.X[:, [a, b]]
    if swap_X is not None:    # each metric's z-scores, computed once for the view
        sub._cache[("swap_X", True)] = swap_X[:, [a, b]]
    punit = _permutation_unit(sub, unit)
    if own is not None:       # each metric's pair counts between swap units, once for the view
        sub._cache[("unit_own", standardize, punit)] = (own[a], own[b])
    delta, d = _permutation_draws(sub, punit, n_permutations, standardize, rng)
    return punit, delta, d


def _start_worker(threads: int) -> None:
    """A worker ignores Ctrl-C (the terminal sends it to the whole process group): the
    parent's KeyboardInterrupt ends the pool, and the worker prints no traceback. Its
    BLAS uses `threads` threads: every worker's BLAS starting one thread per core
    oversubscribes the cores (OpenBLAS threads spin while they wait), which made two
    workers slower than one on 2 cores."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threadpool_limits(threads, user_api="blas")


def worker_threads(workers: int) -> int:
    """BLAS threads per worker process: the usable cores shared out, at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers))


def _own_column(j):
    """(j, metric j's own unit pair counts) for the view in `_CONTEXT`."""
    full, unit, X = _CONTEXT
    return j, own_unit_matrices(full, unit, X, j)


def _forked_map(fn, jobs: list, workers: int, context: tuple) -> list:
    """[fn(job) for job in jobs] with `_CONTEXT` set to `context`, on `workers` forked
    processes where there are several."""
    global _CONTEXT
    _CONTEXT = context
    try:
        if workers > 1 and len(jobs) > 1 and "fork" in multiprocessing.get_all_start_methods():
            n = min(workers, len(jobs))
            with multiprocessing.get_context("fork").Pool(
                    n, initializer=_start_worker, initargs=(worker_threads(n),)) as pool:
                return pool.map(fn, jobs, chunksize=1)
        return [fn(job) for job in jobs]
    finally:
        _CONTEXT = None


def _ranked_pair_draws(full, names, ranked, n_permutations, unit, standardize, seed,
                       workers: int = 1, cache=None):
    """For every two ranked metrics r above c: (r, c, permutation unit, the test's observed
    delta, draws), each pair with its own random stream derived from ``seed``, so the pairs
    may run on `workers` forked processes with the same numbers."""
    m = len(ranked)
    rngs = _child_rngs(seed, max(1, m * (m - 1) // 2))
    pairs = [(r, c) for r in range(m) for c in range(r + 1, m)]
    jobs = [(r, c, ranked[r], ranked[c], rng) for (r, c), rng in zip(pairs, rngs)]
    # a column's z-scores depend on that column only: once per metric, not once per pair
    swap_X = standardized(full) if standardize and len(jobs) > 1 else None
    own = None
    punit = _permutation_unit(full, unit) if jobs else None
    if len(jobs) > 1 and counts_by_units(full, punit):
        X = full.X if swap_X is None else swap_X
        own = {}
        for j in ranked:    # the intervals' bootstrap may have counted them already
            counts = None if cache is None else cache.unit_pairs(own_unit_key(full, punit, X, j))
            if counts is not None:
                own[j] = counts
        missing = [j for j in ranked if j not in own]
        own.update(_forked_map(_own_column, missing, workers, (full, punit, X)))
    drawn = _forked_map(_pair_draws, jobs, workers,
                        (full, names, n_permutations, unit, standardize, swap_X, own))
    for (r, c), (punit, delta, d) in zip(pairs, drawn):
        yield r, c, punit, delta, d


def smallest_p_value(n_units: int, n_permutations: int | None = None,
                     alternative: str = "greater") -> float:
    """The smallest p-value the paired permutation test can give with `n_units` swap units.

    Each unit swaps the two metrics' scores with probability 1/2, so under the
    null the 2^n swap patterns are equally likely: the exact test enumerates
    them, the draws sample them. Two patterns are always at least as extreme as
    the observed difference delta: no swap (delta itself) and, two-sided, every
    unit swapped, which exchanges the two metrics and gives -delta (every
    statistic here is invariant to the z-scoring). So the exact p-value is at
    least 2^-n one-sided and 2^(1-n) two-sided; a unit whose swap changes nothing
    only raises it. With B random draws, p = (1 + hits) / (1 + B) is at least
    1 / (1 + B) (Phipson & Smyth 2010), and a p below the exact floor would come
    from the luck of the draws, not from the data. The smallest attainable p
    is the larger floor (the exact one alone without `n_permutations`); when it
    exceeds alpha, no outcome of the test is significant. E.g. 3 units:
    2^-3 = 0.125 one-sided; 5 units: 0.03125; 10 draws: 1/11.
    """
    _check_alternative(alternative)
    exponent = (1 if alternative == "two-sided" else 0) - int(n_units)
    floor = 1.0 if exponent >= 0 else math.ldexp(1.0, exponent)
    if n_permutations is not None:
        floor = max(floor, 1.0 / (1 + int(n_permutations)))
    return floor


def _fewest_units(prob: Problem, unit: str) -> tuple[int, str]:
    """(count, unit) a claim that one metric beats another rests on: the fewest of the
    units the test swaps and the data's independent units (items where items are
    given; systems at system level, whose statistic orders just those systems).
    A swap test is exact only when the units it swaps are independent, so with k
    independent units no valid swap test gets below 2^-k, however finely its draws
    swap (Deutsch et al. 2021: PERM-INPUTS, PERM-SYSTEMS)."""
    counts = [(prob.n_units(unit), unit)]
    if prob.items is not None:
        counts.append((prob.n_units("items"), "items"))
    if prob.level == "system":
        counts.append((prob.n_units("systems"), "systems"))
    return min(counts)


def _unreachable(full: Problem, unit: str | None, n_permutations: int, alpha: float) -> str:
    """Why no one-sided permutation test of these data can reach alpha ("" if one can)."""
    count, what = _fewest_units(full, _permutation_unit(full, unit))
    exact = smallest_p_value(count, None, "greater")
    if max(exact, 1.0 / (1 + n_permutations)) <= alpha:
        return ""
    if exact > alpha:
        why = (f"with {count} {what} the one-sided permutation p-value is at least "
               f"2^-{count} = {exact:.4g}")
    else:
        why = (f"{n_permutations} permutation draws give p >= 1/{n_permutations + 1} = "
               f"{1 / (n_permutations + 1):.4g}")
    return f"no clusters: {why}, above alpha {alpha:g}, so no difference can be significant"


def _clusters(full, names, vals, ranked, pmat, alpha, n_permutations, seed, notes, swap_unit):
    clusters = assign_clusters(pmat, alpha) if ranked else []
    why = _unreachable(full, swap_unit, n_permutations, alpha) if len(ranked) > 1 else ""
    if why:
        clusters = [None] * len(ranked)
        notes = [*notes, why]
    entries = tuple(ClusterEntry(names[j], vals[j].value, c) for j, c in zip(ranked, clusters))
    m = len(ranked)
    ptable = tuple(tuple(None if not (r < c) else float(pmat[r, c]) for c in range(m))
                   for r in range(m))
    return SignificanceClusters(statistic=full.statistic, level=full.level, alpha=alpha,
                                entries=entries, p_values=ptable,
                                method=f"one-sided paired permutation tests ({n_permutations} draws "
                                       f"per pair, swapping {swap_unit}); clusters by "
                                       "mt-metrics-eval AssignRanks",
                                n_permutations=int(n_permutations), seed=seed_record(seed),
                                notes="; ".join(notes))


def significance_clusters(scores: Mapping[str, object], human, statistic: str, level: str = "flat",
                          items=None, systems=None, *, alpha: float = 0.05,
                          n_permutations: int = 1000, unit: str | None = None,
                          standardize: bool = True, seed=0,
                          epsilon: float = 0.0) -> SignificanceClusters:
    """Rank metrics by a statistic and group them into significance clusters (WMT style).

    scores: metric name -> per-row scores (all the same length as human).
    Rows where any metric or the human score is NaN are dropped for all
    metrics, so every metric is judged on the same rows. Each pair (i above j)
    gets a one-sided paired permutation test "i is better than j" with its own
    random stream derived from ``seed``; see `assign_clusters` for the rule.
    With too few units (or draws) for any test to reach alpha (`smallest_p_value`
    of the fewest of the swapped units, the items, and at system level the
    systems), every cluster is None and `notes` says why.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    full, names, vals, ranked, notes = _ranking(scores, human, statistic, level, items, systems,
                                                epsilon)
    pmat = np.full((len(ranked), len(ranked)), np.nan)
    for r, c, _, observed, d in _ranked_pair_draws(full, names, ranked, n_permutations, unit,
                                                      standardize, seed):
        pmat[r, c] = _p_value(observed, d, "greater")
    return _clusters(full, names, vals, ranked, pmat, alpha, n_permutations, seed, notes,
                     _permutation_unit(full, unit))


def compare_all(scores: Mapping[str, object], human, statistic: str, level: str = "flat",
                items=None, systems=None, *, ci_method: str = "bca", n_resamples: int = 1000,
                confidence: float = 0.95, unit: str | None = None, n_permutations: int = 1000,
                permutation_unit: str | None = None, standardize: bool = True, seed=0,
                epsilon: float = 0.0, alpha: float = 0.05, cache=None, workers: int = 1,
                **deprecated) -> tuple[list[ComparisonResult], SignificanceClusters]:
    """Every two metrics compared, and the significance clusters, with the work shared.

    All metrics are judged on the rows where none is NaN. For every pair, a
    above b in the ranking (best first; undefined metrics are left out and
    named in the clusters' notes), the result holds the paired-bootstrap
    interval of delta = value_a - value_b and the two-sided permutation
    p-value. The numbers are those of `paired_bootstrap(a, b, ..., seed=seed)`
    (resample draws depend only on the data's size, so each metric's
    replicates and jackknife values are computed once for all pairs) and of
    `significance_clusters(..., seed=seed)`, whose one-sided p-values come
    from the same permutation draws as the two-sided ones reported here.
    ci_method: "bca" | "percentile" (``method=`` is its deprecated name).
    cache: a `correlation.ReplicateCache` that `correlate(..., cache=...)` filled
    on the same data: metrics found there are not resampled again (same numbers).
    workers: processes for the pairs' permutation tests (forked; each pair draws from
    its own stream, so the numbers do not depend on it). permutation_unit: what the
    permutation tests swap (as `permutation_test`'s ``unit``; each result's ``swap_unit``).
    """
    method = renamed_keyword(deprecated, "method", "ci_method", ci_method, "bca", "compare_all")
    check_settings(method, n_resamples, confidence)
    if not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    full, names, vals, ranked, notes = _ranking(scores, human, statistic, level, items, systems,
                                                epsilon)
    boot_unit = resolve_unit(full, unit)
    reps, jk, jnote = shared_replicates(full, boot_unit, method, n_resamples, seed, cache)
    label = resampling_label("paired bootstrap", method, n_resamples, boot_unit, confidence, jnote)
    pmat = np.full((len(ranked), len(ranked)), np.nan)
    results = []
    for r, c, punit, observed, d in _ranked_pair_draws(full, names, ranked, n_permutations,
                                                       permutation_unit, standardize, seed,
                                                       int(workers), cache):
        a, b = ranked[r], ranked[c]
        delta = vals[a].value - vals[b].value
        pmat[r, c] = _p_value(observed, d, "greater")
        lo, hi, note = _difference_interval(delta, reps, jk, a, b, confidence, method)
        notes_ab = [n for n in (full.notes, note, _draws_note(observed, int(d.size), n_permutations))
                    if n]
        results.append(ComparisonResult(
            statistic=statistic, level=level, metric_a=names[a], metric_b=names[b],
            value_a=vals[a].value, value_b=vals[b].value, delta=delta, ci_low=lo, ci_high=hi,
            se=_difference_se(reps, a, b),
            p_value=_p_value(observed, d, "two-sided"), alternative="two-sided", n=vals[a].n,
            n_nan=full.n_nan,
            method=label + "; " + _permutation_label(n_permutations, punit, standardize),
            confidence=confidence, n_resamples=int(n_resamples),
            n_permutations=int(n_permutations), unit=boot_unit,
            n_units=resampled_units(full, boot_unit), seed=seed_record(seed),
            epsilon=float(epsilon), notes="; ".join(notes_ab), swap_unit=punit))
    return results, _clusters(full, names, vals, ranked, pmat, alpha, n_permutations, seed, notes,
                              _permutation_unit(full, permutation_unit))
