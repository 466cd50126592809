"""Statistics computed within every group at once (item level), vectorised (internal).

Kendall variants count pairs within groups directly (all within-group pairs,
grouped by group size so every size is one array operation); groups too large
for that fall back to the O(n log n) counts one group at a time. Pearson and
Spearman use per-group sums.
"""
from __future__ import annotations

import numpy as np

from ._kendall_engine import KendallCounts, kendall_counts, tau_from_counts
from ._scaling import scale_exponents
from .statistics import KENDALL_STATISTICS

_MAX_ENUMERATED_PAIRS = 20_000_000
_MAX_ENUMERATED_GROUP = 3_000


def _sorted_groups(codes: np.ndarray):
    order = np.argsort(codes, kind="stable")
    sc = codes[order]
    starts = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]]) if sc.size else np.array([], int)
    sizes = np.diff(np.r_[starts, sc.size])
    return order, sc[starts], starts, sizes


def _distinct_per_group(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    pairs = np.unique(np.stack([codes, values]), axis=1) if values.size else np.empty((2, 0))
    return np.bincount(pairs[0].astype(np.int64), minlength=n_groups).astype(float)


def grouped_kendall_counts(x, y, codes, n_groups: int, epsilon: float = 0.0) -> KendallCounts:
    """Per-group Kendall counts (arrays of length n_groups)."""
    order, gids, starts, sizes = _sorted_groups(codes)
    xs, ys = x[order], y[order]
    fields = {k: np.zeros(n_groups) for k in ("disc", "tx", "ty", "txy")}
    n = np.bincount(codes, minlength=n_groups).astype(float)
    small = (sizes >= 2) & (sizes <= _MAX_ENUMERATED_GROUP)
    if int((sizes[small] * (sizes[small] - 1) // 2).sum()) > _MAX_ENUMERATED_PAIRS:
        small[:] = False
    for s in np.unique(sizes[small]):
        sel = small & (sizes == s)
        gs, g = starts[sel], gids[sel]
        iu, ju = np.triu_indices(int(s), 1)
        # process in blocks so the pair arrays stay a few million long
        step = max(1, 4_000_000 // len(iu))
        for b in range(0, gs.size, step):
            i = (gs[b:b + step, None] + iu[None, :]).ravel()
            j = (gs[b:b + step, None] + ju[None, :]).ravel()
            grp = np.repeat(g[b:b + step], len(iu))
            with np.errstate(over="ignore"):  # an infinite difference keeps its sign
                dx = xs[i] - xs[j]
                dy = ys[i] - ys[j]
            tx = np.abs(dx) <= epsilon
            ty = dy == 0
            disc = ~tx & ~ty & (np.sign(dx) != np.sign(dy))
            fields["disc"] += np.bincount(grp, weights=disc, minlength=n_groups)
            fields["tx"] += np.bincount(grp, weights=tx, minlength=n_groups)
            fields["ty"] += np.bincount(grp, weights=ty, minlength=n_groups)
            fields["txy"] += np.bincount(grp, weights=tx & ty, minlength=n_groups)
    for k in np.flatnonzero(~small & (sizes >= 2)):
        sl = slice(starts[k], starts[k] + sizes[k])
        with np.errstate(over="ignore"):  # huge scores: an overflowing difference is no tie
            c = kendall_counts(xs[sl], ys[sl], epsilon)
        g = gids[k]
        fields["disc"][g], fields["tx"][g] = c.discordant, c.ties_metric
        fields["ty"][g], fields["txy"][g] = c.ties_human, c.ties_both
    return KendallCounts(n=n, pairs=n * (n - 1) / 2, discordant=fields["disc"],
                         ties_metric=fields["tx"], ties_human=fields["ty"], ties_both=fields["txy"],
                         classes_metric=_distinct_per_group(x, codes, n_groups),
                         classes_human=_distinct_per_group(y, codes, n_groups))


def _group_constant(v, codes, n_groups):
    order, gids, starts, _ = _sorted_groups(codes)
    vs = v[order]
    const = np.ones(n_groups, dtype=bool)
    if vs.size:
        const[gids] = np.maximum.reduceat(vs, starts) == np.minimum.reduceat(vs, starts)
    return const


def _group_rescaled(v, codes, n_groups: int) -> np.ndarray:
    """v with each group scaled by the power of two that `correlation._scaling` picks for it
    (extreme groups only), so no group's sums of squares over- or underflow."""
    if v.size == 0:
        return v
    top = np.zeros(n_groups)
    np.maximum.at(top, codes, np.abs(v))
    k = scale_exponents(top)
    return np.ldexp(v, k[codes]) if k.any() else v


def grouped_pearson(x, y, codes, n_groups: int) -> np.ndarray:
    """Per-group Pearson r; NaN for groups with < 2 rows or a constant side."""
    cnt = np.bincount(codes, minlength=n_groups).astype(float)
    x, y = _group_rescaled(x, codes, n_groups), _group_rescaled(y, codes, n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        mx = np.bincount(codes, weights=x, minlength=n_groups) / cnt
        my = np.bincount(codes, weights=y, minlength=n_groups) / cnt
        xm = x - mx[codes]
        ym = y - my[codes]
        sxx = np.bincount(codes, weights=xm * xm, minlength=n_groups)
        syy = np.bincount(codes, weights=ym * ym, minlength=n_groups)
        sxy = np.bincount(codes, weights=xm * ym, minlength=n_groups)
        r = np.clip(sxy / np.sqrt(sxx) / np.sqrt(syy), -1.0, 1.0)
    bad = (cnt < 2) | _group_constant(x, codes, n_groups) | _group_constant(y, codes, n_groups)
    return np.where(bad, np.nan, r)


def grouped_ranks(v, codes) -> np.ndarray:
    """Average ranks (1-based) of v within each group."""
    order = np.lexsort((v, codes))
    vs, cs = v[order], codes[order]
    n = v.size
    if n == 0:
        return np.zeros(0)
    gstart_flag = np.r_[True, cs[1:] != cs[:-1]]
    gstart = np.maximum.accumulate(np.where(gstart_flag, np.arange(n), 0))
    new_block = gstart_flag | np.r_[True, vs[1:] != vs[:-1]]
    bstart = np.flatnonzero(new_block)
    bend = np.r_[bstart[1:], n] - 1
    block = np.cumsum(new_block) - 1
    avg = (bstart + bend) / 2.0 - gstart[bstart] + 1.0
    ranks = np.empty(n)
    ranks[order] = avg[block]
    return ranks


def grouped_values(x, y, codes, n_groups: int, statistic: str, epsilon: float = 0.0) -> np.ndarray:
    """Named statistic within each group; NaN where undefined."""
    if statistic in KENDALL_STATISTICS:
        k = grouped_kendall_counts(x, y, codes, n_groups, epsilon)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(tau_from_counts(k, KENDALL_STATISTICS[statistic]), dtype=float)
    if statistic == "pearson":
        return grouped_pearson(x, y, codes, n_groups)
    if statistic == "spearman":
        return grouped_pearson(grouped_ranks(x, codes), grouped_ranks(y, codes), codes, n_groups)
    raise ValueError(f"unknown statistic {statistic!r}")
