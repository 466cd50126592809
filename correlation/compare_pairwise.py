"""Every two metrics compared on the rows both scored (pairwise-complete rows).

`compare_all` judges all metrics on the rows where none is NaN, so one metric
that could not score many rows (a missing image, an empty candidate) shrinks
every other comparison with it. `compare_all_pairwise` compares each pair of
metrics on the rows where both metrics and the human score are finite, the
pairwise deletion of missing values:

- each pair's numbers are those of `paired_bootstrap(a, b, ...)` and a
  paired permutation test on the rows both scored (Deutsch et al. 2021,
  arXiv:2104.00054; mt-metrics-eval `PermutationSigDiff`), the two-sided and
  the one-sided p-value from the same draws;
- the metrics are ranked by their statistic on their own scored rows (the
  number `correlate` reports for each), undefined ones left out and named;
- the clusters follow `assign_clusters` (mt-metrics-eval `AssignRanks`) over the
  one-sided p-values "a is better than b", each from that pair's rows.

Two values of one metric in two pairs may differ (other rows), and a pair's
`delta` may be negative although `metric_a` ranks higher on its own rows; the
notes say on how many rows each pair was compared.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from ._problem import Problem
from .bootstrap import (check_settings, join_notes, resampled_units, resampling_label,
                        resolve_unit, seed_record)
from .compare import (_child_rngs, _difference_interval, _difference_se, _draws_note,
                      _p_value, _permutation_draws, _permutation_label, _permutation_unit,
                      _unreachable, assign_clusters)
from .replicates import shared_replicates
from .results import ClusterEntry, ComparisonResult, SignificanceClusters

__all__ = ["compare_all_pairwise"]


def compare_all_pairwise(scores: Mapping[str, object], human, statistic: str,
                         level: str = "flat", items=None, systems=None, *,
                         ci_method: str = "bca", n_resamples: int = 1000,
                         confidence: float = 0.95, unit: str | None = None,
                         n_permutations: int = 1000, permutation_unit: str | None = None,
                         standardize: bool = True, seed=0, epsilon: float = 0.0,
                         alpha: float = 0.05, cache=None
                         ) -> tuple[list[ComparisonResult], SignificanceClusters]:
    """`compare_all`, but each pair of metrics judged on the rows both scored.

    Returns the comparisons (a above b in the ranking by each metric's statistic on
    its own rows; undefined metrics left out and named in the clusters' notes) and the
    significance clusters. Pair k of the ranking (in the order a above b, a from the
    top) draws its permutations from the k-th stream spawned from ``seed``, as in
    `compare_all`. cache: a `ReplicateCache` filled by `correlate` on the same data; a
    pair whose rows are a metric's own reuses its replicates (same numbers).
    """
    check_settings(ci_method, n_resamples, confidence)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    names = list(scores)
    if not names:
        raise ValueError("scores must name at least one metric")
    own = [Problem([scores[k]], human, statistic, level, items, systems, epsilon, names=(k,))
           for k in names]
    vals = [prob.point(0) for prob in own]
    notes = []
    undefined_names = [k for k, v in zip(names, vals) if not math.isfinite(v.value)]
    if undefined_names:
        notes.append("undefined (left out): " + ", ".join(undefined_names))
    ranked = sorted((j for j in range(len(names)) if math.isfinite(vals[j].value)),
                    key=lambda j: (-vals[j].value, names[j]))
    m = len(ranked)
    rngs = _child_rngs(seed, max(1, m * (m - 1) // 2))
    pmat = np.full((m, m), np.nan)
    results = []
    unreachable = []
    pairs = [(r, c) for r in range(m) for c in range(r + 1, m)]
    for (r, c), rng in zip(pairs, rngs):
        a, b = names[ranked[r]], names[ranked[c]]
        result, pmat[r, c], why = _pair(scores[a], scores[b], human, statistic, level, items, systems,
                                   epsilon, (a, b), ci_method, n_resamples, confidence, unit,
                                   n_permutations, permutation_unit, standardize, seed, cache,
                                   rng, alpha)
        results.append(result)
        if why:
            unreachable.append(f"{a} vs {b}: {why}")
    clusters = assign_clusters(pmat, alpha) if m else []
    if unreachable:
        clusters = [None] * m
        notes.append("; ".join(unreachable))
    entries = tuple(ClusterEntry(names[j], vals[j].value, cl) for j, cl in zip(ranked, clusters))
    ptable = tuple(tuple(None if not (r < c) else float(pmat[r, c]) for c in range(m))
                   for r in range(m))
    swap_unit = _permutation_unit(own[0], permutation_unit)
    clusters = SignificanceClusters(
        statistic=statistic, level=level, alpha=alpha, entries=entries, p_values=ptable,
        method=f"one-sided paired permutation tests ({n_permutations} draws per pair, each "
               f"pair on the rows both scored, swapping {swap_unit}); clusters by "
               "mt-metrics-eval AssignRanks",
        n_permutations=int(n_permutations), seed=seed_record(seed), notes="; ".join(notes))
    return results, clusters


def _pair(va, vb, human, statistic, level, items, systems, epsilon, names, method, n_resamples,
          confidence, unit, n_permutations, permutation_unit, standardize, seed, cache, rng,
          alpha) -> tuple[ComparisonResult, float, str]:
    """One pair on the rows both scored: its comparison (two-sided p), the one-sided
    p-value "a is better than b" from the same permutation draws, and why no test on
    these rows can reach alpha ("" when one can; `compare._unreachable`)."""
    prob = Problem([va, vb], human, statistic, level, items, systems, epsilon, names=names)
    punit = _permutation_unit(prob, permutation_unit)
    observed, d = _permutation_draws(prob, punit, n_permutations, standardize, rng)
    boot_unit = resolve_unit(prob, unit)
    pa, pb = prob.point(0), prob.point(1)
    delta = pa.value - pb.value
    lo = hi = se = math.nan
    note, jnote = "", ""
    if math.isfinite(delta):
        reps, jk, jnote = shared_replicates(prob, boot_unit, method, n_resamples, seed, cache)
        lo, hi, note = _difference_interval(delta, reps, jk, 0, 1, confidence, method)
        se = _difference_se(reps, 0, 1)
    rows = f"compared on the {prob.n} rows both scored ({prob.n_nan} rows with a NaN left out)"
    label = resampling_label("paired bootstrap", method, n_resamples, boot_unit, confidence, jnote)
    return ComparisonResult(
        statistic=statistic, level=level, metric_a=names[0], metric_b=names[1],
        value_a=pa.value, value_b=pb.value, delta=delta, ci_low=lo, ci_high=hi, se=se,
        p_value=_p_value(observed, d, "two-sided"), alternative="two-sided", n=pa.n,
        n_nan=prob.n_nan,
        method=label + "; " + _permutation_label(n_permutations, punit, standardize),
        confidence=confidence, n_resamples=int(n_resamples),
        n_permutations=int(n_permutations), unit=boot_unit,
        n_units=resampled_units(prob, boot_unit), seed=seed_record(seed),
        epsilon=float(epsilon),
        notes=join_notes(rows, prob.notes, note,
                         _draws_note(observed, int(d.size), n_permutations)),
        swap_unit=punit,
    ), _p_value(observed, d, "greater"), _unreachable(prob, punit, n_permutations, alpha)
