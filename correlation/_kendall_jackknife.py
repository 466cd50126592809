"""Exact leave-one-group-out Kendall counts in O(n log n) (internal).

Leaving out a group g (an item, a system) removes every pair with at least one
row in g. Summing each row's own pair counts over g counts the pairs with both
rows in g twice, so

    D(-g) = D - sum_{i in g} d_i + D_within(g)

and likewise for the pairs tied in the metric, in the human score and in both
(a row's tied pairs are its class size minus one). The per-row counts d_i come
from one pass over the data, the within-group counts from the item-level
engine (`_grouped`), and the distinct values left (tau-c) from the values that
occur in one group only. This is the jackknife the BCa acceleration needs
(Efron & Tibshirani 1993, ch. 14), with every left-out group at once.
"""
from __future__ import annotations

import numpy as np

from ._grouped import grouped_kendall_counts
from ._inversions import _few_classes
from ._kendall_engine import KendallCounts, dense_codes, per_row_counts


def _merged(parts) -> list[np.ndarray]:
    """Running merges: out[c] = sorted concatenation of parts[:c]."""
    out = [np.zeros(0, dtype=parts[0].dtype if parts else float)]
    for p in parts:
        out.append(np.sort(np.concatenate([out[-1], p]), kind="stable"))
    return out


def per_row_discordant(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Discordant pairs each row takes part in (int64), exact."""
    n = x.size
    if _few_classes(y) is None and _few_classes(x) is not None:
        x, y = y, x   # the count is symmetric; let y be the side with few values
    few = _few_classes(y)
    if few is None:
        return per_row_counts(x, y)[1]
    _, uniq = few
    rows = [np.flatnonzero(y == u) for u in uniq]
    parts = [np.sort(x[r]) for r in rows]
    below = _merged(parts)                 # classes under c: lower human score
    above = _merged(parts[::-1])[::-1]     # above[c]: classes from c up; above[c + 1] over c
    d = np.empty(n, dtype=np.int64)
    for c, r in enumerate(rows):
        q = x[r]
        higher, lower = above[c + 1], below[c]
        d[r] = np.searchsorted(higher, q, side="left") + (
            lower.size - np.searchsorted(lower, q, side="right"))
    return d


def _class_sizes_per_row(codes: np.ndarray) -> np.ndarray:
    return np.bincount(codes)[codes]


def _classes_only_in(codes: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group: how many classes of `codes` occur in that group and in no other."""
    pairs = np.unique(codes.astype(np.int64) * n_groups + groups)
    cls, grp = pairs // n_groups, pairs % n_groups
    spread = np.bincount(cls)
    single = spread[cls] == 1
    return np.bincount(grp[single], minlength=n_groups)


def leave_one_group_out_counts(x: np.ndarray, y: np.ndarray, groups: np.ndarray,
                               n_groups: int) -> KendallCounts:
    """Counts of the data with each group (codes 0..n_groups-1) left out in turn."""
    n = x.size
    cx, _ = dense_codes(x)
    cy, _ = dense_codes(y)
    cxy, _ = dense_codes(cx * (int(cy.max(initial=0)) + 1) + cy)
    sx, sy, sxy = (_class_sizes_per_row(c) for c in (cx, cy, cxy))
    d = per_row_discordant(x, y)

    def by_group(v):
        return np.bincount(groups, weights=v, minlength=n_groups)

    if n_groups == n:   # one row per group: no pair lies within a group
        zero = np.zeros(n_groups)
        within = KendallCounts(zero, zero, zero, zero, zero, zero, zero, zero)
    else:
        within = grouped_kendall_counts(x, y, groups, n_groups)
    tot_d = float(d.sum()) / 2
    tot_tx = float(((sx - 1).sum())) / 2
    tot_ty = float(((sy - 1).sum())) / 2
    tot_txy = float(((sxy - 1).sum())) / 2
    size = np.bincount(groups, minlength=n_groups).astype(float)
    left = n - size
    mx = float(np.count_nonzero(np.bincount(cx)))
    my = float(np.count_nonzero(np.bincount(cy)))
    return KendallCounts(
        n=left, pairs=left * (left - 1) / 2,
        discordant=tot_d - by_group(d) + within.discordant,
        ties_metric=tot_tx - by_group(sx - 1) + within.ties_metric,
        ties_human=tot_ty - by_group(sy - 1) + within.ties_human,
        ties_both=tot_txy - by_group(sxy - 1) + within.ties_both,
        classes_metric=mx - _classes_only_in(cx, groups, n_groups),
        classes_human=my - _classes_only_in(cy, groups, n_groups))
