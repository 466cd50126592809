"""Soft pairwise accuracy (SPA) and pairwise accuracy at system level.

SPA (Thompson, Mathur, Deutsch, Khayrallah 2024, "Improving Statistical
Significance in Human Evaluation of Automatic Metrics via Soft Pairwise
Accuracy", arXiv:2409.09598; the WMT24/25 system-level meta-metric;
mt-metrics-eval `pce.py`, `stats.PairwiseConfidenceError`):

- segment scores form a systems x segments matrix X (here: the mean of a
  (system, item) cell's rows; items where a system has no finite value, for
  the human or the metric, are dropped and counted);
- for every pair of systems i < j, a one-sided paired permutation p-value
  that i beats j: with a matrix of random signs s (draws x segments, +-1 with
  probability 1/2), the null deltas are s @ (X_i - X_j) and
  p_ij = #{null delta >= sum(X_i) - sum(X_j)} / draws (MTME's count, no +1);
  system scores are segment sums;
- one sign matrix for every pair and for human and metric alike (MTME draws
  it from the same seed for both);
- SPA = mean over pairs i < j of 1 - |p^human_ij - p^metric_ij|.

Where ours differs from MTME: the signs come from the caller's seed
(default 0) through `numpy.random.default_rng(seed).integers`, in float64,
while MTME rounds `default_rng(4).random` in float32. Both are Monte-Carlo
estimates of the same exact p-values (averages over all 2^segments sign
vectors); tests/correlation/test_corr_spa.py checks that the two agree
within Monte-Carlo error.

Pairwise accuracy at system level (WMT22-23; Kocmi et al. 2021, "To Ship or
Not to Ship"): the share of system pairs whose order (sign of the difference
of system means, a tie only matching a tie) is the same for metric and
humans.
"""
from __future__ import annotations

import math

import numpy as np

from ._unit_bootstrap import unit_bootstrap
from ._validate import as_float_vector, check_lengths, make_rng, undefined, warn_infinite
from .bootstrap import join_notes, seed_record
from .compare import assign_clusters
from .results import ClusterEntry, CorrelationResult, SignificanceClusters

__all__ = ["segment_matrix", "pairwise_p_values", "soft_pairwise_accuracy", "spa_ci",
           "system_pairwise_accuracy", "spa_clusters"]


def segment_matrix(values, systems, items) -> tuple[np.ndarray, list, list]:
    """(systems x items matrix of cell means, system labels, item labels); NaN for an empty
    cell. Rows whose value is NaN or infinite do not count."""
    v = as_float_vector(values, "values")
    check_lengths([("values", v), ("systems", systems), ("items", items)])
    sys_labels, s_code = np.unique(np.asarray(systems).astype(str), return_inverse=True)
    item_labels, i_code = np.unique(np.asarray(items).astype(str), return_inverse=True)
    ok = np.isfinite(v)
    total = np.zeros((sys_labels.size, item_labels.size))
    count = np.zeros_like(total)
    np.add.at(total, (s_code[ok], i_code[ok]), v[ok])
    np.add.at(count, (s_code[ok], i_code[ok]), 1)
    with np.errstate(invalid="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan), list(sys_labels), \
            list(item_labels)


def sign_matrix(n_permutations: int, n_segments: int, seed) -> np.ndarray:
    """Random +-1 signs, draws x segments, each sign +1 with probability 1/2."""
    return make_rng(seed).integers(0, 2, size=(n_permutations, n_segments)) * 2.0 - 1.0


def pairwise_p_values(seg_scores, signs) -> np.ndarray:
    """Systems x systems matrix, upper triangle: one-sided permutation p-value that system i
    beats system j (MTME `compute_pairwise_p_values` with the given sign matrix); NaN elsewhere."""
    X = np.asarray(seg_scores, dtype=float)
    totals = X.sum(axis=1)
    partial = signs @ X.T  # draws x systems
    k = X.shape[0]
    p = np.full((k, k), np.nan)
    i, j = np.triu_indices(k, 1)
    null = partial[:, i] - partial[:, j]
    # "at least as large", allowing for the rounding of a matrix product against a plain sum
    tol = 1e-9 * max(1.0, float(np.abs(X).sum(axis=1).max(initial=0.0)))
    p[i, j] = np.count_nonzero(null >= (totals[i] - totals[j]) - tol, axis=0) / signs.shape[0]
    return p


def _two_rngs(seed) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent generators for the sign matrix and the bootstrap draws."""
    if isinstance(seed, np.random.Generator):
        return seed, seed
    if seed is None:
        raise ValueError("seed is required (an int or a numpy Generator) so results are "
                         "reproducible")
    first, second = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(first), np.random.default_rng(second)


def _spa(p_human: np.ndarray, p_metric: np.ndarray) -> float:
    i, j = np.triu_indices(p_human.shape[0], 1)
    return float(1.0 - np.mean(np.abs(p_human[i, j] - p_metric[i, j])))


def _complete(metric, human, systems, items):
    """Metric and human segment matrices on the items complete for both, and items dropped."""
    m = as_float_vector(metric, "metric")
    h = as_float_vector(human, "human")
    if systems is None or items is None:
        raise ValueError("soft pairwise accuracy needs systems= and items= labels (the "
                         "permutation test pairs the systems' segments)")
    check_lengths([("metric", m), ("human", h), ("systems", systems), ("items", items)])
    warn_infinite([("metric", int(np.isinf(m).sum())), ("human", int(np.isinf(h).sum()))],
                  stacklevel=4)
    M, sys_labels, _ = segment_matrix(m, systems, items)
    H, _, _ = segment_matrix(h, systems, items)
    keep = np.isfinite(M).all(axis=0) & np.isfinite(H).all(axis=0)
    return M[:, keep], H[:, keep], sys_labels, int((~keep).sum())


def soft_pairwise_accuracy(metric, human, systems, items, *, n_permutations: int = 1000,
                           seed=0) -> float:
    """SPA of row-level metric and human scores (see the module docstring)."""
    M, H, _, _ = _complete(metric, human, systems, items)
    if M.shape[0] < 2 or M.shape[1] == 0:
        return undefined("soft pairwise accuracy is undefined: fewer than two systems or no "
                         "item scored for every system")
    signs = sign_matrix(n_permutations, M.shape[1], seed)
    return _spa(pairwise_p_values(H, signs), pairwise_p_values(M, signs))


def system_pairwise_accuracy(metric, human, systems) -> float:
    """Share of system pairs ordered alike by metric and human system means (a tie matches
    only a tie); NaN or infinite rows do not count."""
    m = as_float_vector(metric, "metric")
    h = as_float_vector(human, "human")
    check_lengths([("metric", m), ("human", h), ("systems", systems)])
    labels, code = np.unique(np.asarray(systems).astype(str), return_inverse=True)
    ms, hs = (np.array([np.mean(x[(code == k) & np.isfinite(x)]) if np.any(
        (code == k) & np.isfinite(x)) else np.nan for k in range(labels.size)]) for x in (m, h))
    ok = np.isfinite(ms) & np.isfinite(hs)
    ms, hs = ms[ok], hs[ok]
    if ms.size < 2:
        return undefined("system-level pairwise accuracy is undefined: fewer than two systems")
    i, j = np.triu_indices(ms.size, 1)
    return float(np.mean(np.sign(ms[i] - ms[j]) == np.sign(hs[i] - hs[j])))


def spa_ci(metric, human, systems, items, *, n_permutations: int = 1000,
           ci_method: str = "bca", n_resamples: int = 1000, confidence: float = 0.95,
           seed=0) -> CorrelationResult:
    """SPA with a bootstrap interval over items (segments), statistic "spa", level system.

    Each resample keeps the sign matrix by position, so every drawn item,
    repeats included, gets its own random sign."""
    M, H, sys_labels, dropped = _complete(metric, human, systems, items)
    n_items = M.shape[1]
    sign_rng, boot_rng = _two_rngs(seed)
    signs = sign_matrix(n_permutations, n_items, sign_rng)

    def statistic(idx):
        if M.shape[0] < 2 or idx.size == 0:
            return math.nan
        s = signs[:, :idx.size]
        return _spa(pairwise_p_values(H[:, idx], s), pairwise_p_values(M[:, idx], s))

    value, lo, hi, label, note = unit_bootstrap(
        statistic, n_items, ci_method=ci_method, n_resamples=n_resamples, confidence=confidence,
        seed=boot_rng, unit_name="items")
    if math.isnan(value):
        undefined("soft pairwise accuracy is undefined: fewer than two systems or no item "
                  "scored for every system")
    dropped_note = (f"{dropped} items left out: not scored for every system" if dropped else "")
    return CorrelationResult(statistic="spa", level="system", value=value, ci_low=lo, ci_high=hi,
                             n=len(sys_labels), n_dropped=dropped,
                             method=f"soft pairwise accuracy ({n_permutations} sign draws); "
                                    f"{label}",
                             n_groups=n_items, confidence=confidence,
                             n_resamples=int(n_resamples), unit="items", n_units=n_items,
                             seed=seed_record(seed), notes=join_notes(dropped_note, note))


def spa_clusters(scores, human, systems, items, *, n_permutations: int = 1000,
                 n_tests: int = 1000, alpha: float = 0.05, seed=0) -> SignificanceClusters:
    """Metrics ranked by SPA and grouped into significance clusters.

    scores: {metric name: row-level scores}. Between two metrics, a paired
    permutation test: each item independently swaps the two metrics' segment
    scores (every system's, z-scored per metric over the matrix; SPA is
    unchanged by a positive affine transform) with probability 1/2; p for "the
    higher-ranked is better" = (1 + #{draws with delta >= observed}) /
    (1 + draws). Clusters by `correlation.compare.assign_clusters`. Items are
    those complete for every metric and the humans; the sign matrix of the
    SPA p-values is the same in every draw.
    """
    names = list(scores)
    h = as_float_vector(human, "human")
    H, _, _ = segment_matrix(h, systems, items)
    raw = [segment_matrix(as_float_vector(scores[n], n), systems, items)[0] for n in names]
    common = np.logical_and.reduce([np.isfinite(M).all(axis=0) for M in raw + [H]])
    H = H[:, common]
    mats = []
    for M in raw:
        M = M[:, common]
        sd = M.std()
        mats.append((M - M.mean()) / (sd if sd > 0 else 1.0))
    rng = make_rng(seed)
    signs = sign_matrix(n_permutations, H.shape[1], rng)
    p_h = pairwise_p_values(H, signs)
    values = np.array([_spa(p_h, pairwise_p_values(M, signs)) for M in mats])
    order = np.argsort(-values, kind="stable")
    k = len(names)
    pmat = np.full((k, k), np.nan)
    for a in range(k):
        for b in range(a + 1, k):
            A, B = mats[order[a]], mats[order[b]]
            delta = values[order[a]] - values[order[b]]
            d = np.empty(n_tests)
            for t in range(n_tests):
                swap = rng.random(H.shape[1]) < 0.5
                A2, B2 = np.where(swap, B, A), np.where(swap, A, B)
                d[t] = _spa(p_h, pairwise_p_values(A2, signs)) - _spa(
                    p_h, pairwise_p_values(B2, signs))
            pmat[a, b] = (1 + np.count_nonzero(d >= delta - 1e-12)) / (1 + n_tests)
    cl = assign_clusters(pmat, alpha) if k else []
    entries = tuple(ClusterEntry(names[order[r]], float(values[order[r]]), cl[r])
                    for r in range(k))
    p_values = tuple(tuple(None if b <= a else float(pmat[a, b]) for b in range(k))
                     for a in range(k))
    return SignificanceClusters(
        statistic="spa", level="system", alpha=alpha, entries=entries, p_values=p_values,
        method=f"paired permutation test, items swap the two metrics' z-scored segment scores "
               f"({n_tests} draws); SPA from {n_permutations} sign draws",
        n_permutations=n_tests, seed=seed_record(seed),
        notes=(f"{int((~common).sum())} items left out: not scored for every system by every "
               "metric" if (~common).any() else ""))
