"""Kendall counts when whole units swap or are resampled, as quadratic forms (internal).

When the permutation test swaps whole units (the captions of one image, the rows of one
system) rather than rows, every count behind a Kendall tau of the swapped scores is a
sum over pairs of units. Write s_g = 1 when unit g trades the two metrics' scores, and
M_pq[g, h] for the row pairs (i in unit g scored by metric p, j in unit h scored by
metric q) that are discordant, tied in the metric, or tied in both (p, q in {a, b}).
Metric A after the swap takes b in the swapped units, so its count is

    sum_{g,h} M_{s_g s_h}[g, h] = sum(M_aa) + s . r_A + s' Q s,
    Q = M_aa - M_ab - M_ba + M_bb,

with r_A the row sums of M_ba - M_aa plus the column sums of M_ab - M_aa (expand
(1 - s_g)(1 - s_h) etc.; s_g^2 = s_g keeps the diagonal right, and the rows of one unit
always take the same metric, so the diagonals of M_ab and M_ba are zero). Metric B after
the swap has the same Q and its own constant and linear term. A block of draws then costs
one matrix product (draws x units) @ (units x 3 units) instead of a pass over every row
per draw; all terms are integers below 2**53, so float64 keeps them exact and the counts
equal `KendallBatch.swapped_counts` on the rows.

A bootstrap copy that draws unit g w_g times has the same shape: its discordant pairs
are w' D w (copies of one unit pair up like different units), its tied pairs
w' T w / 2 plus, for every row, the pairs among its own copies (`UnitResampleKendall`).

The M matrices need O(rows x units) work once: M_aa and M_bb depend on one metric each
(shared by every pair a view compares, `own_matrices`), M_ab and M_ba on the pair.
Discordant pairs are counted per stage of the human classes as in `_kendall_engine`:
each discordant pair lies in the one stage whose split separates its two classes, where
it is a (higher-class row, lower-class row of the same group, greater metric value) pair.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import NamedTuple

import numpy as np
from scipy.sparse import csr_matrix

from ._kendall_engine import KendallCounts, _class_splits, dense_codes

#: At most this many units, and at most this many units squared per row: the product per
#: draw (3 U^2 multiply-adds in BLAS) then costs less than a pass over the rows, and each
#: U x U matrix stays below 72 MB.
MAX_UNITS = 3000
MAX_UNITS_SQUARED_PER_ROW = 256
#: Rows of the sorted lower-class side per block when the ranges are summed.
_BLOCK = 64


def applies(n_rows: int, n_units: int) -> bool:
    """Whether swapping `n_units` whole units of `n_rows` rows goes through quadratic forms."""
    return 2 <= n_units <= MAX_UNITS and n_units * n_units <= MAX_UNITS_SQUARED_PER_ROW * n_rows


class PairMatrices(NamedTuple):
    """Ordered row-pair counts between units (U x U): discordant (i of the higher human
    class), tied in the metric and tied in both (every ordered pair of distinct rows)."""
    discordant: np.ndarray
    ties_metric: np.ndarray
    ties_both: np.ndarray


#: Integers up to this size, and every sum of them that stays below it, are exact in float32.
_FLOAT32_EXACT = 2 ** 24


def exact_dtype(bound: float):
    """float32 where every partial sum of a product is shown to stay below `bound` < 2**24
    in magnitude (integers are then exact, and BLAS is about twice as fast), else float64
    (exact below 2**53)."""
    return np.float32 if bound < _FLOAT32_EXACT else np.float64


def _range_counts(units_q, start, stop, items, n_units: int) -> np.ndarray:
    """M[g, h] = sum over queries q of unit g of #{k in [start_q, stop_q) : items[k] = h}.

    The sorted items are cut into blocks of _BLOCK: a range's whole blocks come from one
    matrix product with suffix counts per block, its ragged ends from one bincount."""
    n = items.size
    nb = -(-n // _BLOCK)
    g = np.concatenate([units_q, units_q])
    pos = np.concatenate([start, stop])
    weight = np.concatenate([np.ones(start.size), -np.ones(stop.size)])
    # |partial sums| <= (queries of unit g) x (rows of unit h)
    dtype = exact_dtype(float(np.bincount(g).max(initial=0)) *
                        float(np.bincount(items).max(initial=0)))
    per_block = np.bincount(np.arange(n) // _BLOCK * n_units + items,
                            minlength=nb * n_units).reshape(nb, n_units)
    suffix = np.zeros((nb + 1, n_units), dtype=dtype)
    np.cumsum(per_block[::-1], axis=0, dtype=dtype, out=suffix[:nb][::-1])
    # whole blocks after each position's block: suffix[block + 1]
    next_block = pos // _BLOCK + 1
    at = np.bincount(g * (nb + 1) + np.minimum(next_block, nb), weights=weight,
                     minlength=n_units * (nb + 1)).reshape(n_units, nb + 1)
    out = (at.astype(dtype, copy=False) @ suffix).astype(np.float64, copy=False)
    # the rest of each position's own block
    length = np.maximum(np.minimum(next_block * _BLOCK, n) - pos, 0)
    total = int(length.sum())
    if total:
        q = np.repeat(np.arange(pos.size), length)
        offset = np.arange(total) - np.repeat(np.cumsum(length) - length, length)
        out += np.bincount(g[q] * n_units + items[pos[q] + offset], weights=weight[q],
                           minlength=n_units * n_units).reshape(n_units, n_units)
    return out


def _discordant(ri, rj, yr, splits, units, n_units: int) -> np.ndarray:
    """M[g, h] = #{(i, j): units i = g, j = h, yr_i > yr_j, ri_i < rj_j} (ranks in one order)."""
    span = np.int64(max(ri.max(initial=0), rj.max(initial=0)) + 2)
    out = np.zeros((n_units, n_units))
    for side, group in splits:
        s, grp = side[yr], group[yr]
        hi, lo = np.flatnonzero(s == 1), np.flatnonzero(s == 0)
        if hi.size == 0 or lo.size == 0:
            continue
        key = grp[lo] * span + rj[lo]
        order = np.argsort(key, kind="stable")
        key, items = key[order], units[lo][order]
        start = np.searchsorted(key, grp[hi] * span + ri[hi], side="right")
        stop = np.searchsorted(key, (grp[hi] + 1) * span, side="left")
        out += _range_counts(units[hi], start, stop, items, n_units)
    return out


def _ties(ci, cj, units, n_units: int) -> np.ndarray:
    """M[g, h] = #{(i, j): units i = g, j = h, ci_i == cj_j}, i == j included."""
    k = int(max(ci.max(initial=0), cj.max(initial=0))) + 1
    ones = np.ones(units.size)
    a = csr_matrix((ones, (units, ci)), shape=(n_units, k))
    b = csr_matrix((ones, (units, cj)), shape=(n_units, k))
    return (a @ b.T).toarray()


def _human(y):
    yr, ky = dense_codes(y)
    return yr, ky, _class_splits(yr, ky)


#: Recently computed `own_matrices`, by a digest of what they depend on (the order of the
#: metric's values, the human classes, the units): a view's bootstrap intervals and its
#: permutation tests (raw scores and their z-scores order alike) ask for the same ones.
_OWN: "OrderedDict[bytes, PairMatrices]" = OrderedDict()
_OWN_BYTES = 256 * 2 ** 20


def _digest(*arrays) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.digest()


def own_key(x, y, units, n_units: int) -> bytes:
    """What `own_matrices` depends on, as a digest: the order of the metric's values (its
    z-scores give the same), the human classes, the units."""
    return _codes_key(dense_codes(x)[0], y, units, n_units)


def _codes_key(xr, y, units, n_units: int) -> bytes:
    return _digest(xr, dense_codes(y)[0], np.asarray(units, dtype=np.int64), np.array([n_units]))


def own_matrices(x, y, units, n_units: int) -> PairMatrices:
    """One metric's pair counts between units (M_aa): shared by every pair it is in, and
    remembered (up to 256 MB) for the next call on the same order of values."""
    xr, _ = dense_codes(x)
    units = np.asarray(units, dtype=np.int64)
    key = _codes_key(xr, y, units, n_units)
    if key in _OWN:
        _OWN.move_to_end(key)
        return _OWN[key]
    mats = _own_matrices(xr, y, units, n_units)
    for part in mats:
        part.flags.writeable = False      # shared by the calls that find them here
    size = 3 * n_units * n_units * 8
    while _OWN and (len(_OWN) + 1) * size > _OWN_BYTES:
        _OWN.popitem(last=False)
    if size <= _OWN_BYTES:
        _OWN[key] = mats
    return mats


def _own_matrices(xr, y, units, n_units: int) -> PairMatrices:
    yr, ky, splits = _human(y)
    sizes = np.bincount(units, minlength=n_units).astype(float)
    ties = _ties(xr, xr, units, n_units) - np.diag(sizes)
    both = _ties(xr * ky + yr, xr * ky + yr, units, n_units) - np.diag(sizes)
    return PairMatrices(_discordant(xr, xr, yr, splits, units, n_units), ties, both)


def _cross_matrices(xa, xb, y, units, n_units: int) -> tuple[PairMatrices, PairMatrices]:
    """(M_ab, M_ba): row i scored by one metric, row j by the other, in different units."""
    yr, ky, splits = _human(y)
    codes, _ = dense_codes(np.concatenate([xa, xb]))
    ra, rb = codes[:xa.size], codes[xa.size:]
    d_ab = _discordant(ra, rb, yr, splits, units, n_units)
    d_ba = _discordant(rb, ra, yr, splits, units, n_units)
    t_ab = _ties(ra, rb, units, n_units)
    b_ab = _ties(ra * ky + yr, rb * ky + yr, units, n_units)
    for part in (d_ab, d_ba, t_ab, b_ab):
        np.fill_diagonal(part, 0.0)
    return PairMatrices(d_ab, t_ab, b_ab), PairMatrices(d_ba, t_ab.T, b_ab.T)


class UnitSwapKendall:
    """Kendall counts of two metrics (X: n x 2) against human y when whole units (codes
    0..U-1 per row) swap; `own` may hold each metric's `own_matrices`, computed once."""

    def __init__(self, X, y, units, n_units: int, own=None):
        X = np.asarray(X, dtype=float)
        units = np.asarray(units, dtype=np.int64)
        self.n, self.n_units = X.shape[0], n_units
        if own is None:
            own = (own_matrices(X[:, 0], y, units, n_units), own_matrices(X[:, 1], y, units, n_units))
        aa, bb = own
        ab, ba = _cross_matrices(X[:, 0], X[:, 1], y, units, n_units)
        U = n_units
        parts = (("aa", aa), ("bb", bb), ("ab", ab), ("ba", ba))
        rows = {name: np.stack([m[k].sum(axis=1) for k in range(3)], 1) for name, m in parts}
        cols = {name: np.stack([m[k].sum(axis=0) for k in range(3)], 1) for name, m in parts}
        # every M is >= 0, so a column of Q sums in magnitude to at most their column sums,
        # which bounds each entry and every partial sum of a draw's S @ Q
        dtype = exact_dtype(float(sum(cols.values()).max(initial=0)))
        self._quad = np.empty((U, 3 * U), dtype=dtype)
        for k in range(3):
            q = self._quad[:, k * U:(k + 1) * U]
            np.add(aa[k], bb[k], out=q, casting="unsafe")
            np.subtract(q, ab[k], out=q, casting="unsafe")
            np.subtract(q, ba[k], out=q, casting="unsafe")
        self._const = np.stack([rows["aa"].sum(axis=0), rows["bb"].sum(axis=0)])
        self._lin = np.stack([rows["ba"] - rows["aa"] + cols["ab"] - cols["aa"],
                              rows["ab"] - rows["bb"] + cols["ba"] - cols["bb"]])
        yr, self._ky = dense_codes(y)
        ycnt = np.bincount(yr)
        self._ty = float((ycnt * (ycnt - 1) // 2).sum())
        self._my = float(np.count_nonzero(ycnt))
        self._X, self._units = X, units

    def swapped_counts(self, swaps, classes: bool = True) -> KendallCounts:
        """Counts of metric A then metric B (2c variants) when the units flagged in swaps
        (c x U) trade scores; as `KendallBatch.swapped_counts` with rows expanded. Without
        `classes`, the distinct metric values (needed by tau-c alone) are left NaN."""
        S = np.asarray(swaps, dtype=float)
        c, U = S.shape
        SQ = (S.astype(self._quad.dtype) @ self._quad).astype(np.float64, copy=False)
        quad = np.stack([np.einsum("ij,ij->i", SQ[:, k * U:(k + 1) * U], S) for k in range(3)], 1)
        counts = [self._const[side] + S @ self._lin[side] + quad for side in (0, 1)]
        disc, ties2, both2 = (np.concatenate([counts[0][:, k], counts[1][:, k]]) for k in range(3))
        n = np.full(2 * c, float(self.n))
        return KendallCounts(n, n * (n - 1) / 2, disc, ties2 / 2, np.full(2 * c, self._ty),
                             both2 / 2,
                             self._classes_metric(swaps) if classes else np.full(2 * c, np.nan),
                             np.full(2 * c, self._my))

    def _classes_metric(self, swaps) -> np.ndarray:
        """Distinct metric values of each variant (tau-c), exactly: a value is present when
        a unit that holds it takes the metric it came from. A value held by one unit in
        both metrics is always present, one held by one (unit, metric) alone is present
        with its unit's choice (a linear term); only the others need a product."""
        if "_presence" not in self.__dict__:
            self._presence = self._presence_plan()
        always, alone_a, alone_b, shared_a, shared_b = self._presence
        S = np.asarray(swaps, dtype=float)
        keep = 1.0 - S
        out = []
        for own, other, sa, sb in ((alone_a, alone_b, shared_a, shared_b),
                                   (alone_b, alone_a, shared_b, shared_a)):
            count = always + keep @ own + S @ other          # A keeps a where not swapped
            if sa.shape[0]:
                count += np.count_nonzero(sa @ keep.T + sb @ S.T, axis=0)
            out.append(count)
        return np.concatenate(out)

    def _presence_plan(self):
        """(values always present, per unit the values only it holds in metric a / b, and
        value x unit incidence of the remaining values in metric a / b)."""
        codes, k = dense_codes(self._X.T.ravel())
        holder = np.unique(codes * (2 * self.n_units) + np.r_[self._units * 2, self._units * 2 + 1])
        value, unit, metric = holder // (2 * self.n_units), holder % (2 * self.n_units) // 2, holder % 2
        per_value = np.bincount(value, minlength=k)
        both = np.zeros(k, dtype=bool)
        pair = value * self.n_units + unit                   # one unit holding it in a and b
        both[value[1:][pair[1:] == pair[:-1]]] = True
        alone = (per_value[value] == 1) & ~both[value]
        alone_a = np.bincount(unit[alone & (metric == 0)], minlength=self.n_units).astype(float)
        alone_b = np.bincount(unit[alone & (metric == 1)], minlength=self.n_units).astype(float)
        rest = ~alone & ~both[value]
        kept = np.unique(value[rest])
        row = np.searchsorted(kept, value[rest])
        mats = [csr_matrix((np.ones(int(np.count_nonzero(rest & (metric == m)))),
                            (row[metric[rest] == m], unit[rest & (metric == m)])),
                           shape=(kept.size, self.n_units)) for m in (0, 1)]
        return float(np.count_nonzero(both)), alone_a, alone_b, mats[0], mats[1]


def _presence_rows(codes, units, n_units: int):
    """For values coded 0..k-1 held by rows of the given units: per unit the values only it
    holds, and the value x unit incidence (0/1, CSR) of the values several units hold."""
    holder = np.unique(codes * n_units + units)
    value, unit = holder // n_units, holder % n_units
    alone = np.bincount(value)[value] == 1
    shared = np.unique(value[~alone])
    incidence = csr_matrix((np.ones(int(np.count_nonzero(~alone))),
                            (np.searchsorted(shared, value[~alone]), unit[~alone])),
                           shape=(shared.size, n_units))
    return np.bincount(unit[alone], minlength=n_units).astype(float), incidence


class UnitResampleKendall:
    """Kendall counts of one metric x against human y in bootstrap copies that draw whole
    units (codes 0..U-1 per row) with multiplicities; `own` may hold `own_matrices`."""

    def __init__(self, x, y, units, n_units: int, own=None):
        units = np.asarray(units, dtype=np.int64)
        if own is None:
            own = own_matrices(x, y, units, n_units)
        self.own, self.own_key = own, own_key(x, y, units, n_units)
        self._mats = np.hstack(list(own))
        self._column_sum = float(self._mats.sum(axis=0).max(initial=0))   # entries >= 0
        self._sizes = np.bincount(units, minlength=n_units).astype(float)
        yr, ky = dense_codes(y)
        self._classes = np.zeros((n_units, ky))
        np.add.at(self._classes, (units, yr), 1.0)
        self._alone, self._shared = _presence_rows(dense_codes(x)[0], units, n_units)
        self.n_units = n_units

    def counts(self, weights) -> KendallCounts:
        """All counts per copy for unit multiplicities `weights` (copies x U); equal to
        `KendallBatch.counts(weights=...)` with the multiplicities given to every row."""
        W = np.asarray(weights, dtype=float)
        U = self.n_units
        # |partial sums of W @ M| <= (largest multiplicity) x (largest column sum of M)
        if exact_dtype(W.max(initial=0) * self._column_sum) is np.float32:
            if "_mats32" not in self.__dict__:
                self._mats32 = self._mats.astype(np.float32)
            WM = (W.astype(np.float32) @ self._mats32).astype(np.float64)
        else:
            WM = W @ self._mats
        disc, ties2, both2 = (np.einsum("ij,ij->i", WM[:, k * U:(k + 1) * U], W) for k in range(3))
        own_copies = (W * (W - 1)) @ self._sizes / 2     # a row with its own copies: tied in both
        n = W @ self._sizes
        wy = W @ self._classes
        present = W > 0
        mx = present @ self._alone
        if self._shared.shape[0]:
            mx = mx + np.count_nonzero(self._shared @ present.T.astype(float), axis=0)
        return KendallCounts(n, n * (n - 1) / 2, disc, ties2 / 2 + own_copies,
                             (wy * (wy - 1)).sum(axis=1) / 2, both2 / 2 + own_copies,
                             mx, np.count_nonzero(wy, axis=1).astype(float))
