"""Correlation statistics between one metric's scores and human scores.

Every function takes two equal-length vectors (metric first, human second),
drops rows where either is NaN or infinite (an infinite score is treated as
NaN, with a `NonFiniteScoreWarning`), and returns a float. Undefined cases (fewer
than two pairs, a constant vector) return NaN with an
`UndefinedCorrelationWarning` that says why.

Kendall variants (`kendall_tau(..., variant=...)`), after mt-metrics-eval's
`stats.KendallVariants`:

- ``"b"``: tau-b, (C - D) / sqrt((N - Tx)(N - Ty)) [Kendall 1945]; equals
  ``scipy.stats.kendalltau(variant="b")``.
- ``"c"``: tau-c (Stuart's), 2 (C - D) / (n^2 (m - 1) / m) with m the smaller
  number of distinct values [Stuart 1953]; equals ``scipy.stats.kendalltau(variant="c")``.
- ``"23"``: tau_eq of Deutsch et al. (2023), "Ties Matter" (arXiv:2305.14324):
  (C + T_hm - D - T_h - T_m) / N, where a pair tied in both counts as agreement
  and a pair tied on one side only counts as disagreement.
- ``"acc23"``: acc_eq of the same paper, pairwise accuracy with ties:
  (C + T_hm) / N.

C, D: concordant and discordant pairs; N = n(n-1)/2 all pairs; Tx / T_m: pairs
tied in the metric only, Ty / T_h: tied in the human score only, T_hm: tied in
both. For "23" and "acc23", ``epsilon`` turns metric differences
|m_i - m_j| <= epsilon (as computed in float64) into ties; `tie_calibration`
picks the epsilon that maximises acc23.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.stats import rankdata

from ._kendall_engine import VARIANTS, KendallCounts, kendall_counts, tau_from_counts
from ._scaling import rescaled
from ._validate import label_codes, make_rng, paired_finite, undefined
from .results import TieCalibration

__all__ = ["kendall_tau", "spearman", "pearson", "tie_calibration", "TieCalibration", "STATISTICS"]

#: Statistic names used in results tables (DESIGN.md), mapped to Kendall variants.
KENDALL_STATISTICS = {"kendall_b": "b", "kendall_c": "c", "kendall_23": "23", "acc23": "acc23"}
STATISTICS = ("kendall_b", "kendall_c", "kendall_23", "acc23", "spearman", "pearson")


def _check_variant(variant: str, epsilon: float) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"unknown Kendall variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    if not (isinstance(epsilon, (int, float, np.floating, np.integer)) and math.isfinite(epsilon)
            and epsilon >= 0):
        raise ValueError(f"epsilon must be a finite number >= 0, got {epsilon!r}")
    if epsilon > 0 and variant in ("b", "c"):
        raise ValueError("epsilon (metric tie threshold) is defined for variants '23' and 'acc23' "
                         f"only, not {variant!r}")


def _kendall_reason(k: KendallCounts, variant: str) -> str:
    if k.n < 2:
        return "fewer than two (metric, human) pairs"
    if variant in ("b", "c"):
        if k.ties_metric == k.pairs:
            return "the metric scores are constant"
        if k.ties_human == k.pairs:
            return "the human scores are constant"
    return "undefined"


def kendall_value(x: np.ndarray, y: np.ndarray, variant: str, epsilon: float = 0.0):
    """(value, reason or None) for clean float vectors; no warnings (internal)."""
    if x.size < 2:
        return float("nan"), "fewer than two (metric, human) pairs"
    with np.errstate(over="ignore"):  # huge scores: an overflowing difference is no tie
        k = kendall_counts(x, y, float(epsilon))
    val = float(tau_from_counts(k, variant))
    return val, (None if not math.isnan(val) else _kendall_reason(k, variant))


def kendall_tau(metric, human, variant: str = "b", epsilon: float = 0.0) -> float:
    """Kendall's tau between metric and human scores, in the named variant.

    Parameters
    ----------
    metric, human : array-like of equal length; NaN in either drops that row.
    variant : "b" | "c" | "23" | "acc23" (see the module docstring).
    epsilon : metric tie threshold for "23" and "acc23" (default 0: exact ties).

    Returns the statistic as a float; NaN with a warning when undefined.
    Two sorts and O(n log K) whole-array passes, K = the smaller number of
    distinct values (no sort per class when one side has at most 16 values);
    see `correlation._inversions`.
    """
    _check_variant(variant, epsilon)
    x, y, _ = paired_finite(metric, human)
    val, reason = kendall_value(x, y, variant, epsilon)
    if reason is not None:
        return undefined(f"Kendall tau-{variant} is undefined: {reason}")
    return val


def pearson_value(x: np.ndarray, y: np.ndarray):
    """(Pearson r, reason or None) for clean float vectors; no warnings (internal).

    Each side is first rescaled by a power of two when its magnitude is extreme
    (`correlation._scaling`), so subnormal or huge scores give scipy's r rather
    than an overflow or a division by an underflowed norm.
    """
    if x.size < 2:
        return float("nan"), "fewer than two (metric, human) pairs"
    if np.all(x == x[0]):
        return float("nan"), "the metric scores are constant"
    if np.all(y == y[0]):
        return float("nan"), "the human scores are constant"
    x, y = rescaled(x), rescaled(y)
    xm = x - x.mean()
    ym = y - y.mean()
    nx = np.sqrt(np.dot(xm, xm))
    ny = np.sqrt(np.dot(ym, ym))
    r = float(np.dot(xm / nx, ym / ny))
    if math.isnan(r):  # not reached for finite, non-constant input; never let NaN pass as a value
        return float("nan"), "the computation did not give a number"
    return float(np.clip(r, -1.0, 1.0)), None


def pearson(metric, human) -> float:
    """Pearson's r (equals scipy.stats.pearsonr(...).statistic)."""
    x, y, _ = paired_finite(metric, human)
    val, reason = pearson_value(x, y)
    if reason is not None:
        return undefined(f"Pearson r is undefined: {reason}")
    return val


def spearman_value(x: np.ndarray, y: np.ndarray):
    """(Spearman rho, reason or None): Pearson r of average ranks (internal)."""
    if x.size < 2:
        return float("nan"), "fewer than two (metric, human) pairs"
    return pearson_value(rankdata(x), rankdata(y))


def spearman(metric, human) -> float:
    """Spearman's rho, Pearson r of average ranks (equals scipy.stats.spearmanr)."""
    x, y, _ = paired_finite(metric, human)
    val, reason = spearman_value(x, y)
    if reason is not None:
        return undefined(f"Spearman rho is undefined: {reason}")
    return val


def statistic_value(x: np.ndarray, y: np.ndarray, statistic: str, epsilon: float = 0.0):
    """(value, reason or None) of a named statistic on clean vectors (internal)."""
    if statistic in KENDALL_STATISTICS:
        return kendall_value(x, y, KENDALL_STATISTICS[statistic], epsilon)
    if statistic == "pearson":
        return pearson_value(x, y)
    if statistic == "spearman":
        return spearman_value(x, y)
    raise ValueError(f"unknown statistic {statistic!r}; choose one of {', '.join(STATISTICS)}")


def check_statistic(statistic: str, epsilon: float = 0.0) -> None:
    """Raise ValueError for an unknown statistic or an epsilon it does not take."""
    if statistic not in STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r}; choose one of {', '.join(STATISTICS)}")
    if statistic in KENDALL_STATISTICS:
        _check_variant(KENDALL_STATISTICS[statistic], epsilon)
    elif epsilon:
        raise ValueError(f"epsilon applies to kendall_23 and acc23 only, not {statistic!r}")


# ---------------------------------------------------------------------------
# tie calibration

def _pair_gains(x: np.ndarray, y: np.ndarray, i: np.ndarray, j: np.ndarray):
    """|metric difference| and the change in agreements when the pair becomes a metric tie."""
    with np.errstate(over="ignore"):  # huge scores: an infinite difference keeps its sign
        dx = x[i] - x[j]
        dy = y[i] - y[j]
    ad = np.abs(dx)
    # A pair tied in the human score gains an agreement when the metric ties it;
    # a concordant pair loses one; a discordant pair stays a disagreement.
    gain = np.where(dy == 0, 1, np.where(np.sign(dx) == np.sign(dy), -1, 0)).astype(np.int8)
    # a difference that overflows (|m_i - m_j| > max float) is no candidate: no finite epsilon ties it
    keep = (ad > 0) & (gain != 0) & np.isfinite(ad)
    return ad[keep], gain[keep]


def _all_pairs(n: int, chunk_rows: int):
    """Yield (i, j) index arrays for all i < j, a block of rows at a time."""
    for start in range(0, n - 1, chunk_rows):
        stop = min(n - 1, start + chunk_rows)
        lens = n - 1 - np.arange(start, stop)
        i = np.repeat(np.arange(start, stop), lens)
        offs = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
        yield i, i + 1 + offs


def _best_threshold(ad: np.ndarray, gain: np.ndarray, base: float, weights=None):
    """Smallest epsilon maximising base + sum of gains of pairs with |diff| <= epsilon."""
    if ad.size == 0:
        return 0.0, base
    order = np.argsort(ad, kind="stable")
    ad = ad[order]
    g = gain[order].astype(float) if weights is None else gain[order] * weights[order]
    total = base + np.cumsum(g)
    last_of_run = np.r_[ad[1:] != ad[:-1], True]
    cand_eps = ad[last_of_run]
    cand_val = total[last_of_run]
    best = max(base, float(cand_val.max()))
    tol = 1e-12 * max(1.0, abs(best)) if weights is not None else 0.0
    if base >= best - tol:
        return 0.0, base
    k = int(np.flatnonzero(cand_val >= best - tol)[0])
    return float(cand_eps[k]), float(cand_val[k])


def tie_calibration(metric, human, items=None, *, max_pairs: int | None = 20_000_000,
                    seed=0) -> TieCalibration:
    """Epsilon that maximises acc23 (tie calibration, Deutsch et al. 2023, sec. 5).

    acc23(epsilon) changes only where epsilon crosses a pairwise metric
    difference |m_i - m_j|, so the function sorts those differences and sweeps
    them, tracking the exact number of agreements: no grid. It returns the
    smallest optimal epsilon (0 when no threshold helps) and acc23 there.

    With ``items``, the objective is the item-level acc23 (mean over items with
    at least two rows of the within-item acc23), and pairs are formed within items.

    Flat data have n(n-1)/2 pairs; above ``max_pairs`` the candidate epsilons
    come from a uniform random sample of ``max_pairs`` pairs (seeded by ``seed``),
    a warning says so, and acc23 is still computed exactly, over all pairs, at
    the chosen epsilon. ``max_pairs=None`` always sweeps all pairs.
    """
    x, y, _ = paired_finite(metric, human)
    n = x.size
    if items is not None:
        full = np.asarray(items)
        codes = label_codes(full, "items", len(np.asarray(metric)))
        keep = np.isfinite(np.asarray(metric, dtype=float)) & np.isfinite(np.asarray(human, dtype=float))
        return _tie_calibration_grouped(x, y, codes[keep], max_pairs)
    if n < 2:
        undefined("tie calibration is undefined: fewer than two (metric, human) pairs")
        return TieCalibration(float("nan"), float("nan"))
    n_pairs = n * (n - 1) // 2
    base_counts = kendall_counts(x, y)
    base = base_counts.concordant + base_counts.ties_both
    if max_pairs is None or n_pairs <= max_pairs:
        ads, gains = [], []
        for i, j in _all_pairs(n, max(1, 4_000_000 // n)):
            a, g = _pair_gains(x, y, i, j)
            ads.append(a)
            gains.append(g)
        eps, agree = _best_threshold(np.concatenate(ads), np.concatenate(gains), base)
        return TieCalibration(eps, agree / n_pairs)
    rng = make_rng(seed)
    i = rng.integers(0, n, size=max_pairs)
    j = rng.integers(0, n - 1, size=max_pairs)
    j = j + (j >= i)  # uniform over j != i
    sample_base = float(_sample_agreements(x, y, i, j))
    a, g = _pair_gains(x, y, i, j)
    eps, _ = _best_threshold(a, g, sample_base)
    warnings.warn(f"tie_calibration: {n_pairs} pairs exceed max_pairs={max_pairs}; epsilon was "
                  f"chosen on a random sample of {max_pairs} pairs (acc23 is exact at that epsilon); "
                  "pass max_pairs=None for the exact sweep", RuntimeWarning, stacklevel=2)
    return TieCalibration(eps, float(tau_from_counts(kendall_counts(x, y, eps), "acc23")))


def _sample_agreements(x, y, i, j) -> int:
    dx = np.sign(x[i] - x[j])
    dy = np.sign(y[i] - y[j])
    return int(np.count_nonzero(dx == dy))


def _tie_calibration_grouped(x, y, codes, max_pairs) -> TieCalibration:
    order = np.argsort(codes, kind="stable")
    x, y, codes = x[order], y[order], codes[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    sizes = np.diff(np.r_[starts, codes.size])
    ok = sizes >= 2
    if not ok.any():
        undefined("tie calibration is undefined: no item has two or more rows")
        return TieCalibration(float("nan"), float("nan"))
    pairs_g = sizes * (sizes - 1) // 2
    total_pairs = int(pairs_g[ok].sum())
    if max_pairs is not None and total_pairs > max_pairs:
        raise ValueError(f"item-level tie calibration would sweep {total_pairs} pairs "
                         f"(> max_pairs={max_pairs}); pass max_pairs=None to allow it")
    n_groups = int(ok.sum())
    ads, gains, wts = [], [], []
    base = 0.0
    for s in np.unique(sizes[ok]):
        gs = starts[sizes == s]
        iu, ju = np.triu_indices(int(s), 1)
        i = (gs[:, None] + iu[None, :]).ravel()
        j = (gs[:, None] + ju[None, :]).ravel()
        dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        w = 1.0 / (len(iu) * n_groups)
        base += float(np.count_nonzero(dx == dy)) * w
        a, g = _pair_gains(x, y, i, j)
        ads.append(a)
        gains.append(g)
        wts.append(np.full(a.size, w))
    eps, val = _best_threshold(np.concatenate(ads), np.concatenate(gains), base, np.concatenate(wts))
    return TieCalibration(eps, val)
