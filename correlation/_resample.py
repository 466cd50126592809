"""Statistic values for many reweighted or re-paired copies of a Problem (internal).

A bootstrap resample of a unit (rows, items, systems, or systems x items) is
represented by unit multiplicities; a permutation draw by one swap flag per
unit. Fast paths compute all copies at once from sufficient statistics; every
other case materialises each copy and recomputes the statistic (the same
definition, just slower), so both give the same numbers for the same draws.
"""
from __future__ import annotations

import warnings

import numpy as np

from ._kendall_engine import KendallBatch, dense_codes, tau_from_counts
from ._kendall_jackknife import leave_one_group_out_counts
from . import _unit_pairs as unit_pairs
from ._problem import Problem, level_point, pair_terms, round_averages
from ._scaling import rescaled, rescaled_columns
from ._zscore import distinct_zscores, zscores
from .statistics import KENDALL_STATISTICS, pearson_value, statistic_value

#: Statistics that depend on the metric scores only through their order.
RANK_STATISTICS = (*KENDALL_STATISTICS, "spearman")
#: Elements per (copies x rows) block: bounds memory to tens of MB per array.
_BLOCK_ELEMENTS = 2_500_000
#: Up to this many units the jackknife leaves out each unit; above it, blocks.
JACKKNIFE_MAX_UNITS = 1000
JACKKNIFE_BLOCKS = 1000
#: A leave-one-out variance below this share of the full one is recomputed, not downdated
#: (downdating then keeps fewer than ~10 significant digits).
_CANCELLATION = 1e-6
#: Scores spanning more than this ratio of magnitudes get a scale per bootstrap copy.
_MIXED_SCALES = 2.0 ** 400


def block_size(n_rows: int) -> int:
    """Copies per block; depends only on the data size so draws are reproducible."""
    return max(1, min(100, _BLOCK_ELEMENTS // max(1, n_rows)))


def unit_sizes(prob: Problem, unit: str) -> tuple[int, ...]:
    if unit == "both":
        return (prob.n_units("systems"), prob.n_units("items"))
    return (prob.n_units(unit),)


def draw_counts(rng: np.random.Generator, sizes: tuple[int, ...], n_resamples: int, block: int):
    """Yield tuples of (copies x units) multiplicity matrices, `block` copies at a time.

    Each copy draws every unit kind uniformly with replacement, as many draws
    as there are units (for "both": systems first, then items).
    """
    for start in range(0, n_resamples, block):
        c = min(block, n_resamples - start)
        mats = []
        for size in sizes:
            idx = rng.integers(0, size, size=(c, size))
            cnt = np.empty((c, size), dtype=np.int64)
            for r in range(c):
                cnt[r] = np.bincount(idx[r], minlength=size)
            mats.append(cnt)
        yield tuple(mats)


def row_weights(prob: Problem, unit: str, counts) -> np.ndarray:
    """Multiplicity of every row in every copy (copies x rows)."""
    if unit == "rows":
        return counts[0]
    if unit == "items":
        return np.take(counts[0], prob.items, axis=1)
    if unit == "systems":
        return np.take(counts[0], prob.systems, axis=1)
    return np.take(counts[0], prob.systems, axis=1) * np.take(counts[1], prob.items, axis=1)


# ---------------------------------------------------------------------------
# materialising one copy

def _expand(codes: np.ndarray, mult: np.ndarray, rows: np.ndarray):
    """Rows of each unit copy: (row indices, new unit label per row) for unit codes of `rows`."""
    order = np.argsort(codes[rows], kind="stable")
    sorted_rows = rows[order]
    n_units = mult.size
    sizes = np.bincount(codes[rows], minlength=n_units)
    starts = np.cumsum(sizes) - sizes
    copy_unit = np.repeat(np.arange(n_units), mult)
    copy_sizes = sizes[copy_unit]
    total = int(copy_sizes.sum())
    offs = np.arange(total) - np.repeat(np.cumsum(copy_sizes) - copy_sizes, copy_sizes)
    idx = sorted_rows[np.repeat(starts[copy_unit], copy_sizes) + offs]
    labels = np.repeat(np.arange(copy_unit.size), copy_sizes)
    return idx, labels


def materialise(prob: Problem, unit: str, counts_one):
    """(row indices, item codes, system codes) of one bootstrap copy; unit copies get new labels."""
    items, systems = prob.items, prob.systems
    all_rows = np.arange(prob.n)
    if unit == "rows":
        idx = np.repeat(all_rows, counts_one[0])
        return idx, None if items is None else items[idx], None if systems is None else systems[idx]
    if unit == "items":
        idx, new_items = _expand(items, counts_one[0], all_rows)
        return idx, new_items, None if systems is None else systems[idx]
    if unit == "systems":
        idx, new_sys = _expand(systems, counts_one[0], all_rows)
        return idx, None if items is None else items[idx], new_sys
    # both: item copies first, then every row repeated once per copy of its system
    idx, new_items = _expand(items, counts_one[1], all_rows)
    cs = counts_one[0]
    reps = cs[systems[idx]]
    copy_start = np.cumsum(cs) - cs
    rep_idx = np.repeat(idx, reps)
    within = np.arange(rep_idx.size) - np.repeat(np.cumsum(reps) - reps, reps)
    new_sys = copy_start[systems[rep_idx]] + within
    return rep_idx, np.repeat(new_items, reps), new_sys


def _materialised_values(prob: Problem, unit: str, counts, X=None) -> np.ndarray:
    X = prob.X if X is None else X
    c = counts[0].shape[0]
    out = np.empty((c, X.shape[1]))
    for r in range(c):
        idx, it, sy = materialise(prob, unit, tuple(m[r] for m in counts))
        for j in range(X.shape[1]):
            out[r, j] = level_point(X[idx, j], prob.y[idx], it, sy, prob.statistic, prob.level,
                                    prob.epsilon).value
    return out


# ---------------------------------------------------------------------------
# fast paths: weighted statistics

def _class_count_nonzero(W: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Distinct values of v present (positive weight) in each copy."""
    codes, k = dense_codes(v)
    if k == v.size:  # all values distinct: one class per row
        return np.count_nonzero(W, axis=1)
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0])
    sums = np.add.reduceat(np.take(W, order, axis=1), starts, axis=1)
    return np.count_nonzero(sums, axis=1)


def _centred_copies(W: np.ndarray, present: np.ndarray, sw: np.ndarray, v: np.ndarray) -> np.ndarray:
    """v in every copy minus the copy's weighted mean (copies x rows), after scaling each copy by
    the power of two that brings its largest present |v| into [0.5, 1): two passes, so data of
    mixed scales keep their precision, and no sum of squares over- or underflows."""
    a = np.abs(v)
    nonzero = a[a > 0]
    if nonzero.size == 0 or nonzero.max() / _MIXED_SCALES <= nonzero.min():
        V = rescaled(v)[None, :]  # one scale serves every copy
    else:
        top = np.max(np.where(present, a[None, :], 0.0), axis=1)
        V = np.ldexp(v[None, :], -np.frexp(top)[1][:, None])
    return V - (np.einsum("ij,ij->i", W, np.broadcast_to(V, W.shape)) / sw)[:, None]


def weighted_pearson(W: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each copy (rows repeated by W): the two-pass formula of `pearson_value`
    on every copy at once."""
    Wf = W.astype(float)
    present = W > 0
    sw = Wf.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dx = _centred_copies(Wf, present, sw, x)
        dy = _centred_copies(Wf, present, sw, y)
        wdx = Wf * dx
        r = np.clip(np.einsum("ij,ij->i", wdx, dy) / np.sqrt(np.einsum("ij,ij->i", wdx, dx))
                    / np.sqrt(np.einsum("ij,ij->i", Wf * dy, dy)), -1.0, 1.0)
    const = (_class_count_nonzero(W, x) < 2) | (_class_count_nonzero(W, y) < 2)
    return np.where(const, np.nan, r)


def weighted_ranks(W: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Average rank of every row within each copy (copies x rows; rows with weight 0 get a value too)."""
    order = np.argsort(v, kind="stable")
    vs = v[order]
    new = np.r_[True, vs[1:] != vs[:-1]]
    Ws = np.take(W, order, axis=1).astype(float)
    if new.all():
        B = Ws
    else:
        B = np.add.reduceat(Ws, np.flatnonzero(new), axis=1)
    rb = np.cumsum(B, axis=1) - B + (B + 1) / 2
    ranks_sorted = rb if new.all() else np.take(rb, np.cumsum(new) - 1, axis=1)
    inv = np.empty_like(order)
    inv[order] = np.arange(order.size)
    return np.take(ranks_sorted, inv, axis=1)


def weighted_spearman(W: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rho of each copy: weighted Pearson r of the copies' average ranks."""
    Wf = W.astype(float)
    sw = Wf.sum(axis=1)
    mid = ((sw + 1) / 2)[:, None]
    rx = weighted_ranks(W, x) - mid
    ry = weighted_ranks(W, y) - mid
    vx = np.einsum("ij,ij->i", Wf * rx, rx)
    vy = np.einsum("ij,ij->i", Wf * ry, ry)
    cxy = np.einsum("ij,ij->i", Wf * rx, ry)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.clip(cxy / np.sqrt(vx) / np.sqrt(vy), -1.0, 1.0)
    return np.where((vx == 0) | (vy == 0), np.nan, r)


def _kendall_batch(prob: Problem, j: int) -> KendallBatch:
    key = ("kbatch", j)
    if key not in prob._cache:
        prob._cache[key] = KendallBatch(prob.X[:, j], prob.y)
    return prob._cache[key]


def _unit_resample(prob: Problem, unit: str, j: int) -> "unit_pairs.UnitResampleKendall":
    """Column j's Kendall counts for bootstrap copies of whole units (`_unit_pairs`)."""
    key = ("unit_resample", unit, j)
    if key not in prob._cache:
        prob._cache[key] = unit_pairs.UnitResampleKendall(
            prob.X[:, j], prob.y, unit_codes(prob, unit), prob.n_units(unit))
    return prob._cache[key]


def resampled_unit_pairs(prob: Problem) -> list[tuple[bytes, "unit_pairs.PairMatrices"]]:
    """(key, own unit pair counts) of every column a bootstrap of `prob` counted by units."""
    return [(k.own_key, k.own) for key, k in prob._cache.items() if key[0] == "unit_resample"]


def _system_values(prob: Problem, unit: str, counts) -> np.ndarray:
    """System level: per-copy system averages, then the statistic over (copies of) systems."""
    s = prob.n_units("systems")
    X, y = rescaled_columns(prob.X), rescaled(prob.y)  # as `level_point`: sums cannot overflow
    order = np.argsort(prob.systems, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(prob.systems[order]) != 0])
    c = counts[0].shape[0]
    if unit == "rows":
        Wr, mult = counts[0], None
    elif unit == "items":
        Wr, mult = np.take(counts[0], prob.items, axis=1), None
    elif unit == "systems":
        Wr, mult = None, counts[0]
    else:
        Wr, mult = np.take(counts[1], prob.items, axis=1), counts[0]
    if Wr is None:
        tot = np.broadcast_to(np.bincount(prob.systems, minlength=s).astype(float), (c, s))
        sums = [np.broadcast_to(np.bincount(prob.systems, weights=X[:, j], minlength=s), (c, s))
                for j in range(prob.a)]
        ysum = np.broadcast_to(np.bincount(prob.systems, weights=y, minlength=s), (c, s))
    else:
        Wo = np.take(Wr, order, axis=1).astype(float)
        tot = np.add.reduceat(Wo, starts, axis=1)
        sums = [np.add.reduceat(Wo * X[order, j], starts, axis=1) for j in range(prob.a)]
        ysum = np.add.reduceat(Wo * y[order], starts, axis=1)
    out = np.empty((c, prob.a))
    with np.errstate(divide="ignore", invalid="ignore"):
        ymean = round_averages(ysum / tot)
        means = [round_averages(sm / tot) for sm in sums]
    for r in range(c):
        m = np.ones(s, dtype=np.int64) if mult is None else mult[r]
        keep = (tot[r] > 0) & (m > 0)
        yv = np.repeat(ymean[r, keep], m[keep])
        for j in range(prob.a):
            xv = np.repeat(means[j][r, keep], m[keep])
            out[r, j] = statistic_value(xv, yv, prob.statistic, prob.epsilon)[0]
    return out


def _pair_terms(prob: Problem):
    key = ("pair_terms",)
    if key not in prob._cache:
        terms = [pair_terms(prob.X[:, j], prob.y, prob.statistic) for j in range(prob.a)]
        prob._cache[key] = (np.column_stack([t[0] for t in terms]),
                            np.column_stack([t[1] for t in terms]))
    return prob._cache[key]


def weighted_values(prob: Problem, unit: str, counts) -> np.ndarray:
    """Statistic of every metric column in every bootstrap copy (copies x columns)."""
    level, stat = prob.level, prob.statistic
    if (level == "flat" and stat in KENDALL_STATISTICS and prob.epsilon == 0
            and unit in ("items", "systems") and unit_pairs.applies(prob.n, prob.n_units(unit))):
        variant = KENDALL_STATISTICS[stat]
        return np.column_stack([tau_from_counts(_unit_resample(prob, unit, j).counts(counts[0]),
                                                variant) for j in range(prob.a)])
    if level == "flat" and (stat in ("pearson", "spearman") or
                            (stat in KENDALL_STATISTICS and prob.epsilon == 0)):
        W = row_weights(prob, unit, counts)
        cols = []
        for j in range(prob.a):
            if stat == "pearson":
                cols.append(weighted_pearson(W, prob.X[:, j], prob.y))
            elif stat == "spearman":
                cols.append(weighted_spearman(W, prob.X[:, j], prob.y))
            else:
                k = _kendall_batch(prob, j).counts(weights=W)
                cols.append(tau_from_counts(k, KENDALL_STATISTICS[stat]))
        return np.column_stack(cols)
    if level == "pair":
        W = row_weights(prob, unit, counts).astype(float)
        num, den = _pair_terms(prob)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (W @ num) / (W @ den)
    if level == "item" and unit == "items":
        V = np.column_stack([prob.group_values(j) for j in range(prob.a)])
        ok = np.isfinite(V)
        C = counts[0].astype(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (C @ np.where(ok, V, 0.0)) / (C @ ok)
    if level == "system":
        return _system_values(prob, unit, counts)
    return _materialised_values(prob, unit, counts)


def replicate_values(prob: Problem, unit: str, n_resamples: int, rng) -> np.ndarray:
    """Bootstrap replicates (n_resamples x columns)."""
    blocks = [weighted_values(prob, unit, cnt)
              for cnt in draw_counts(rng, unit_sizes(prob, unit), n_resamples, block_size(prob.n))]
    return np.concatenate(blocks, axis=0)


# ---------------------------------------------------------------------------
# jackknife (for the BCa acceleration)

def _loo_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r leaving out each row in turn, by downdating the sums in O(n).

    Where leaving a row out removes nearly all of a side's variance (an outlier
    far from the rest), downdating would cancel most digits; those rows are
    recomputed directly with `pearson_value`.
    """
    n = x.size
    xs, ys = rescaled(x), rescaled(y)
    xm, ym = xs - xs.mean(), ys - ys.mean()
    sx, sy = xm.sum(), ym.sum()
    sxx, syy, sxy = xm @ xm, ym @ ym, xm @ ym
    m = n - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        ax, ay = sx - xm, sy - ym
        vx = (sxx - xm * xm) - ax * ax / m
        vy = (syy - ym * ym) - ay * ay / m
        r = np.clip(((sxy - xm * ym) - ax * ay / m) / np.sqrt(vx) / np.sqrt(vy), -1.0, 1.0)
    cx, kx = dense_codes(x)
    cy, ky = dense_codes(y)
    const = (kx - (np.bincount(cx)[cx] == 1) < 2) | (ky - (np.bincount(cy)[cy] == 1) < 2)
    ill = ~const & ((vx < _CANCELLATION * sxx) | (vy < _CANCELLATION * syy) | ~np.isfinite(r))
    for i in np.flatnonzero(ill):
        r[i] = pearson_value(np.delete(x, i), np.delete(y, i))[0]
    return np.where(const, np.nan, r)


def _kendall_jackknife(prob: Problem, unit: str) -> tuple[np.ndarray, str]:
    """Exact leave-one-unit-out flat Kendall for every unit at once (O(n log n) per metric);
    with unit "both", items are left out and systems kept."""
    jk_unit = "items" if unit == "both" else unit
    n_units = prob.n_units(jk_unit)
    codes = {"rows": None, "items": prob.items, "systems": prob.systems}[jk_unit]
    if codes is None:
        codes = np.arange(prob.n)
    v = KENDALL_STATISTICS[prob.statistic]
    values = np.column_stack([
        tau_from_counts(leave_one_group_out_counts(prob.X[:, j], prob.y, codes, n_units), v)
        for j in range(prob.a)])
    # the wording of the per-unit loop this replaces, so reports read as before
    note = "leave-one-row-out (exact)" if jk_unit == "rows" else f"leave-one-{jk_unit[:-1]}-out"
    return values, note + (" (systems kept)" if unit == "both" else "")


def jackknife_values(prob: Problem, unit: str, rng) -> tuple[np.ndarray, str]:
    """Leave-one-unit-out values (units x columns) and a note on how they were formed.

    Exact shortcuts: flat Kendall over rows, items or systems (O(n log n),
    `_kendall_jackknife`), flat Pearson over rows (O(n)), item level over items,
    pair level. Otherwise each unit is left out in turn
    when there are at most JACKKNIFE_MAX_UNITS of them; above that, the units are
    split at random (from `rng`) into JACKKNIFE_BLOCKS blocks and each block is
    left out (a delete-a-group jackknife; the acceleration formula is the same).
    With unit "both" the jackknife leaves out items.
    """
    level, stat = prob.level, prob.statistic
    if level == "flat" and stat in KENDALL_STATISTICS and prob.epsilon == 0:
        return _kendall_jackknife(prob, unit)
    if unit == "rows" and level == "flat" and stat == "pearson":
        return np.column_stack([_loo_pearson(prob.X[:, j], prob.y) for j in range(prob.a)]), \
            "leave-one-row-out (exact)"
    if level == "item" and unit == "items":
        V = np.column_stack([prob.group_values(j) for j in range(prob.a)])
        ok = np.isfinite(V)
        tot, cnt = np.where(ok, V, 0).sum(axis=0), ok.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            loo = np.where(ok, (tot - np.where(ok, V, 0)) / (cnt - ok), tot / cnt)
        return loo, "leave-one-item-out (exact)"
    jk_unit = "items" if unit == "both" else unit
    n_units = prob.n_units(jk_unit)
    if level == "pair" and unit != "both":
        num, den = _pair_terms(prob)
        codes = np.arange(prob.n) if jk_unit == "rows" else (prob.items if jk_unit == "items" else prob.systems)
        un = np.stack([np.bincount(codes, weights=num[:, j], minlength=n_units) for j in range(prob.a)], 1)
        ud = np.stack([np.bincount(codes, weights=den[:, j], minlength=n_units) for j in range(prob.a)], 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (num.sum(0) - un) / (den.sum(0) - ud), f"leave-one-{jk_unit[:-1]}-out (exact)"
    if n_units <= JACKKNIFE_MAX_UNITS:
        groups = np.arange(n_units)
        n_groups = n_units
        note = f"leave-one-{jk_unit[:-1]}-out"
    else:
        groups = rng.permutation(n_units) % JACKKNIFE_BLOCKS
        n_groups = JACKKNIFE_BLOCKS
        note = (f"delete-a-group jackknife: {n_units} {jk_unit} in {JACKKNIFE_BLOCKS} random groups")
    if unit == "both":
        note += " (systems kept)"
    out = []
    block = block_size(prob.n)
    for start in range(0, n_groups, block):
        g = np.arange(start, min(n_groups, start + block))
        keep = (groups[None, :] != g[:, None]).astype(np.int64)
        counts = (keep,) if unit != "both" else (np.ones((g.size, prob.n_units("systems")), np.int64), keep)
        out.append(weighted_values(prob, unit, counts))
    return np.concatenate(out, axis=0), note


# ---------------------------------------------------------------------------
# permutation: swapped copies of two metrics

def standardized(prob: Problem) -> np.ndarray:
    """Metric columns as z-scores (mt-metrics-eval's PermutationSigDiff does this before
    swapping): scipy.stats.zscore's, per column (`_zscore`); for a rank statistic
    (Kendall, Spearman) distinct scores keep distinct z-scores, so the statistic of the
    unswapped z-scores is the statistic of the scores. Pair-level outcomes are left as
    they are."""
    if prob.level == "pair" or prob.n == 0:
        return prob.X.copy()
    z = distinct_zscores if prob.statistic in RANK_STATISTICS else zscores
    return np.column_stack([z(prob.X[:, j]) for j in range(prob.a)])


def unit_codes(prob: Problem, unit: str) -> np.ndarray:
    return prob.items if unit == "items" else prob.systems


def _unit_swapped_taus(prob: Problem, unit: str, swaps: np.ndarray, standardize: bool, X):
    """Kendall taus of both metrics when whole units swap (`_unit_pairs`); each metric's own
    pair counts come from the cache when the view computed them (`own_unit_matrices`)."""
    key = ("unit_kpair", standardize, unit)
    if key not in prob._cache:
        own = prob._cache.get(("unit_own", standardize, unit))
        prob._cache[key] = unit_pairs.UnitSwapKendall(X[:, :2], prob.y, unit_codes(prob, unit),
                                                      swaps.shape[1], own=own)
    variant = KENDALL_STATISTICS[prob.statistic]
    t = tau_from_counts(prob._cache[key].swapped_counts(swaps, classes=variant == "c"), variant)
    c = swaps.shape[0]
    return np.column_stack([t[:c], t[c:]])


def counts_by_units(prob: Problem, unit: str) -> bool:
    """Whether permutation tests swapping `unit` count through `_unit_pairs`."""
    return (prob.level == "flat" and prob.statistic in KENDALL_STATISTICS and prob.epsilon == 0
            and unit != "rows" and unit_pairs.applies(prob.n, prob.n_units(unit)))


def own_unit_key(prob: Problem, unit: str, X: np.ndarray, j: int) -> bytes:
    """What column j's own unit pair counts depend on (`_unit_pairs.own_key`)."""
    return unit_pairs.own_key(X[:, j], prob.y, unit_codes(prob, unit), prob.n_units(unit))


def own_unit_matrices(prob: Problem, unit: str, X: np.ndarray, j: int):
    """Column j's own unit pair counts (`_unit_pairs.own_matrices`) for the swapped
    permutation tests of a view (X: the scores they swap)."""
    return unit_pairs.own_matrices(X[:, j], prob.y, unit_codes(prob, unit), prob.n_units(unit))


def swapped_values(prob: Problem, unit: str, swaps: np.ndarray, standardize: bool = True) -> np.ndarray:
    """Both metrics' statistics when units flagged in `swaps` (copies x units) trade scores.

    Column 0 of the result is "metric A" after the swap (it takes B's score in
    swapped units), column 1 is "metric B".
    """
    level, stat = prob.level, prob.statistic
    key = ("swap_X", standardize)
    if key not in prob._cache:
        prob._cache[key] = standardized(prob) if standardize else prob.X
    X = prob._cache[key]
    if counts_by_units(prob, unit):
        return _unit_swapped_taus(prob, unit, swaps, standardize, X)
    if unit == "rows":
        C = swaps
    elif unit == "items":
        C = np.take(swaps, prob.items, axis=1)
    else:
        C = np.take(swaps, prob.systems, axis=1)
    c = C.shape[0]
    if level == "flat" and stat in KENDALL_STATISTICS and prob.epsilon == 0:
        key = ("kpair", standardize)
        if key not in prob._cache:
            prob._cache[key] = KendallBatch(X[:, :2], prob.y)
        k = prob._cache[key].swapped_counts(C)
        t = tau_from_counts(k, KENDALL_STATISTICS[stat])
        return np.column_stack([t[:c], t[c:]])
    if level == "flat" and stat == "pearson":
        out = []
        ys = rescaled(prob.y)
        ym = ys - ys.mean()
        Cf = C.astype(float)
        for a_, b_ in ((0, 1), (1, 0)):
            xa, xb = X[:, a_], X[:, b_]
            d1, d2, dy = xb - xa, xb * xb - xa * xa, (xb - xa) * ym
            n = prob.n
            s1 = xa.sum() + Cf @ d1
            s2 = (xa * xa).sum() + Cf @ d2
            sxy = (xa * ym).sum() + Cf @ dy
            with np.errstate(divide="ignore", invalid="ignore"):
                r = (sxy - s1 * ym.sum() / n) / np.sqrt(s2 - s1 * s1 / n) / np.sqrt(ym @ ym - ym.sum() ** 2 / n)
            out.append(np.clip(r, -1.0, 1.0))
        return np.column_stack(out)
    if level == "pair":
        num, den = _pair_terms(prob)
        Cf = C.astype(float)
        va = (num[:, 0].sum() + Cf @ (num[:, 1] - num[:, 0])) / den[:, 0].sum()
        vb = (num[:, 1].sum() + Cf @ (num[:, 0] - num[:, 1])) / den[:, 0].sum()
        return np.column_stack([va, vb])
    if level == "item" and unit == "items":
        V = np.column_stack([prob.group_values(0), prob.group_values(1)])
        A = np.where(swaps, V[None, :, 1], V[None, :, 0])
        B = np.where(swaps, V[None, :, 0], V[None, :, 1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN copies stay NaN
            return np.column_stack([np.nanmean(A, axis=1), np.nanmean(B, axis=1)])
    out = np.empty((c, 2))
    for r in range(c):
        xa = np.where(C[r], X[:, 1], X[:, 0])
        xb = np.where(C[r], X[:, 0], X[:, 1])
        for j, x in enumerate((xa, xb)):
            out[r, j] = level_point(x, prob.y, prob.items, prob.systems, stat, level, prob.epsilon).value
    return out
