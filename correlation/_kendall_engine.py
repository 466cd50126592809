"""Kendall sufficient statistics, once or for many variants of one data set (internal).

Every Kendall variant here is a function of the same few counts over the
n(n-1)/2 pairs of observations (the "sufficient statistics" of mt-metrics-eval's
`stats.py`): discordant pairs D, pairs tied in the metric Tx, tied in the human
score Ty, tied in both Txy, and the number of distinct values on each side
(tau-c). Concordant pairs follow: C = N - Tx - Ty + Txy - D.

D is counted without ever sorting per variant. Write the human scores as
integer classes 0..K-1 with B bits. A pair is discordant when the human score of
one row is higher and its metric score lower. For the highest bit b where two
classes differ, the pair lies in the same "prefix group" (equal higher bits) with
bit b set in the higher row: so D = sum over bits b of the number of (bit-1 row i,
bit-0 row j) pairs in the same prefix group with x_i < x_j. Per bit (a "stage"),
the bit-1 rows are laid out sorted by (group, metric value) once; each bit-0 row
asks how many laid-out rows of its group have a smaller metric value, which is a
difference of an exclusive cumulative sum over the layout at two precomputed
positions. The data-dependent work is therefore: gather weights into the layout,
one cumulative sum, a few gathers, per bit, for all variants at once as 2-D
arrays, which is what makes the bootstrap (variant = row multiplicities) and the
permutation test (variant = which of two metrics each row takes) fast.
The bits are one way of splitting the classes; when the classes differ much in
size, runs of classes are split where they halve the rows instead (see
`_class_splits`), so a row of a large class passes through fewer stages.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._inversions import pair_counts


def dense_codes(values) -> tuple[np.ndarray, int]:
    """Integer codes 0..K-1 of the values in sorted order (equal values share a code)."""
    uniq, inv = np.unique(values, return_inverse=True)
    return inv.reshape(-1).astype(np.int64), int(uniq.size)


@dataclass
class KendallCounts:
    """Pair counts behind every Kendall variant; fields are floats or 1-D arrays.

    n: observations (sum of multiplicities); pairs: n(n-1)/2; discordant: pairs
    ordered oppositely; ties_metric / ties_human: pairs tied in the metric /
    human score (including pairs tied in both); ties_both: tied in both;
    classes_metric / classes_human: distinct values (used by tau-c).
    With a tie threshold epsilon > 0, "tied in the metric" means
    |m_i - m_j| <= epsilon and discordant excludes those pairs.
    """

    n: np.ndarray
    pairs: np.ndarray
    discordant: np.ndarray
    ties_metric: np.ndarray
    ties_human: np.ndarray
    ties_both: np.ndarray
    classes_metric: np.ndarray
    classes_human: np.ndarray

    @property
    def concordant(self):
        return self.pairs - self.ties_metric - self.ties_human + self.ties_both - self.discordant


VARIANTS = ("b", "c", "23", "acc23")


def tau_from_counts(k: KendallCounts, variant: str) -> np.ndarray:
    """Kendall variant from counts, NaN where undefined; arrays in, arrays out.

    b and c reproduce scipy.stats.kendalltau operation for operation (so they
    agree to the last bit); 23 and acc23 are Deutsch et al. (2023), eq. for
    tau_eq and acc_eq: (C + Txy - D - Tx_only - Ty_only) / N and (C + Txy) / N.
    """
    pairs = np.asarray(k.pairs, dtype=float)
    disc = np.asarray(k.discordant, dtype=float)
    tx = np.asarray(k.ties_metric, dtype=float)
    ty = np.asarray(k.ties_human, dtype=float)
    txy = np.asarray(k.ties_both, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if variant in ("b", "c"):
            undefined = (tx == pairs) | (ty == pairs)
            cmd = pairs - tx - ty + txy - 2 * disc  # concordant minus discordant
            if variant == "b":
                tau = cmd / np.sqrt(pairs - tx) / np.sqrt(pairs - ty)
            else:
                n = np.asarray(k.n, dtype=float)
                m = np.minimum(np.asarray(k.classes_metric, dtype=float),
                               np.asarray(k.classes_human, dtype=float))
                tau = 2 * cmd / (n ** 2 * (m - 1) / m)
            tau = np.clip(tau, -1.0, 1.0)
            return np.where(undefined, np.nan, tau)
        conc = pairs - tx - ty + txy - disc
        if variant == "acc23":
            val = (conc + txy) / pairs
        elif variant == "23":
            val = (conc + txy - disc - (tx - txy) - (ty - txy)) / pairs
        else:
            raise ValueError(f"unknown Kendall variant {variant!r}; choose one of {VARIANTS}")
        return np.where(pairs > 0, val, np.nan)


# ---------------------------------------------------------------------------
# stages (one per bit of the human classes)

class _Stage(NamedTuple):
    rows: np.ndarray     # (L,) row of each layout slot
    cand: np.ndarray     # (L,) which candidate column of that row the slot holds
    q_rows: np.ndarray   # (Q,) querying rows (bit 0), ordered by q_hi[0]
    q_hi: np.ndarray     # (a, Q) exclusive-cumsum index: slots of the group with smaller metric
    q_lo: np.ndarray     # (Q,) exclusive-cumsum index of the group's first slot
    seg_end: np.ndarray  # (Q,) one past the group's last slot (used with epsilon)
    by_hi1: np.ndarray   # (Q,) order of the queries by q_hi[1] (a == 2), else empty


def _n_bits(k: int) -> int:
    return max(1, int(k - 1).bit_length())


#: Weighted splits only for at most this many human classes (a Python step per split).
_WEIGHTED_MAX_CLASSES = 4096


def _class_splits(yr: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per stage, for every human class: its side (1 higher, 0 lower, -1 not in this
    stage) and its group. Each group is a run of consecutive classes split in two;
    a discordant pair is counted in the one stage whose split first separates its
    two classes, so any splitting tree gives the same exact counts.

    The bits of the class codes are one tree (every row in every stage). When the
    classes are unequal in size (Flickr8k-CF: 88 % of rows in class 0), splitting
    every run where it halves the rows (a weight-balanced alphabetic tree) puts each
    row in about -log2(its class share) + 2 stages instead of every stage; that
    tree is used when it visits fewer rows.
    """
    bits = _n_bits(k)
    codes = np.arange(k, dtype=np.int64)
    by_bits = [(((codes >> (bits - 1 - b)) & 1).astype(np.int8), codes >> (bits - b))
               for b in range(bits)]
    if k < 3 or k > _WEIGHTED_MAX_CLASSES:
        return by_bits
    w = np.bincount(yr, minlength=k).astype(np.int64)
    prefix = np.concatenate([[0], np.cumsum(w)])
    stages, runs, visits = [], [(0, k)], 0
    while runs:
        side = np.full(k, -1, dtype=np.int8)
        group = np.zeros(k, dtype=np.int64)
        nxt = []
        for g, (lo, hi) in enumerate(runs):
            half = (prefix[lo] + prefix[hi]) / 2
            s = int(np.searchsorted(prefix, half, side="left"))
            s = min(max(s, lo + 1), hi - 1)
            if s - 1 > lo and abs(prefix[s - 1] - half) <= abs(prefix[s] - half):
                s -= 1
            side[lo:s], side[s:hi], group[lo:hi] = 0, 1, g
            visits += int(prefix[hi] - prefix[lo])
            nxt += [r for r in ((lo, s), (s, hi)) if r[1] - r[0] > 1]
        stages.append((side, group))
        runs = nxt
    return stages if visits < bits * int(prefix[-1]) else by_bits


def _build_stages(yr: np.ndarray, k: int, xr: np.ndarray, with_values=None) -> list[_Stage]:
    """Stages for human classes yr (0..k-1) and metric ranks xr (n, a) over all candidates.

    with_values: optional (n, a) float metric values used only to order slots
    (identical order to xr); kept so epsilon searches can read values.
    """
    n, a = xr.shape
    span = np.int64(xr.max() + 2 if xr.size else 2)
    stages = []
    for side, group in _class_splits(yr, k):
        bit = side[yr]
        grp = group[yr]
        ones = np.flatnonzero(bit == 1)
        zeros = np.flatnonzero(bit == 0)
        if ones.size == 0 or zeros.size == 0:
            continue
        rows = np.repeat(ones, a)
        cand = np.tile(np.arange(a, dtype=np.int8), ones.size)
        keys = grp[rows] * span + xr[rows, cand]
        order = np.argsort(keys, kind="stable")
        keys, rows, cand = keys[order], rows[order], cand[order]
        gkey = grp[zeros] * span
        q_hi = np.stack([np.searchsorted(keys, gkey + xr[zeros, c], side="left") for c in range(a)])
        q_lo = np.searchsorted(keys, gkey, side="left")
        seg_end = np.searchsorted(keys, gkey + span, side="left")
        # queries in increasing gather position: the gathers then walk memory forwards,
        # several times faster than in row order
        o = np.argsort(q_hi[0], kind="stable")
        q_hi, q_lo, seg_end, zeros = q_hi[:, o], q_lo[o], seg_end[o], zeros[o]
        by_hi1 = np.argsort(q_hi[1], kind="stable") if a == 2 else np.zeros(0, dtype=np.int64)
        stages.append(_Stage(rows, cand, zeros, q_hi, q_lo, seg_end, by_hi1))
    return stages


def _class_stats(codes: np.ndarray) -> tuple[int, int, np.ndarray]:
    """(tied pairs, number of classes, class size of each row) for integer codes."""
    cnt = np.bincount(codes)
    return int((cnt * (cnt - 1) // 2).sum()), int(np.count_nonzero(cnt)), cnt[codes]


# ---------------------------------------------------------------------------
# single data set

def kendall_counts(x: np.ndarray, y: np.ndarray, epsilon: float = 0.0) -> KendallCounts:
    """Exact pair counts of (metric x, human y): two sorts and O(n log K) passes,
    K = the smaller number of distinct values (see `_inversions`).

    With epsilon > 0, metric differences |x_i - x_j| <= epsilon (as computed in
    float64) count as metric ties; the searches then use a vectorised bisection on
    that exact predicate, so the counts equal a direct count over all pairs.
    """
    n = x.size
    pairs = n * (n - 1) // 2
    if epsilon == 0.0:
        disc, tx, ty, txy, mx, my = pair_counts(x, y)
    else:
        yr, ky = dense_codes(y)
        ty, my, _ = _class_stats(yr)
        disc = _discordant_eps(x, yr, ky, epsilon)
        tx = _ties_eps(x, np.zeros(n, dtype=np.int64), epsilon)
        txy = _ties_eps(x, yr, epsilon)
        mx = dense_codes(x)[1]
    return KendallCounts(float(n), float(pairs), float(disc), float(tx), float(ty), float(txy),
                         float(mx), float(my))


def _bisect_prefix(pred, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """First index in [lo, hi) where pred(idx, sel) is False; pred must hold on a prefix."""
    lo = lo.astype(np.int64).copy()
    hi = hi.astype(np.int64).copy()
    active = np.flatnonzero(lo < hi)
    while active.size:
        mid = (lo[active] + hi[active]) // 2
        ok = pred(mid, active)
        lo[active[ok]] = mid[ok] + 1
        hi[active[~ok]] = mid[~ok]
        active = active[lo[active] < hi[active]]
    return lo


def _ties_eps(x: np.ndarray, cls: np.ndarray, epsilon: float) -> int:
    """Pairs in the same class cls with |x_i - x_j| <= epsilon (float64 differences)."""
    order = np.lexsort((x, cls))
    xs, cs = x[order], cls[order]
    n = xs.size
    if n < 2:
        return 0
    seg_end = np.searchsorted(cs, cs, side="right")
    start = np.arange(1, n + 1)

    def within(mid, sel):  # xs[mid] - xs[i] <= eps holds for a prefix of i+1..seg_end
        return (xs[mid] - xs[sel]) <= epsilon

    stop = _bisect_prefix(within, start, seg_end)
    return int((stop - start).sum())


def _discordant_eps(x: np.ndarray, yr: np.ndarray, ky: int, epsilon: float) -> int:
    """Pairs with y_i > y_j and x_j - x_i > epsilon, counted per stage by bisection."""
    xr, _ = dense_codes(x)
    total = 0
    for st in _build_stages(yr, ky, xr[:, None]):
        vals = x[st.rows]
        q = x[st.q_rows]

        def beyond(mid, sel):  # q_j - v > eps holds for the smallest v of the group
            return (q[sel] - vals[mid]) > epsilon

        stop = _bisect_prefix(beyond, st.q_lo, st.seg_end)
        total += int((stop - st.q_lo).sum())
    return total


def per_row_counts(x: np.ndarray, y: np.ndarray):
    """Per-row pair counts for leave-one-out: (total counts, discordant pairs of each row,
    class sizes of each row in x, y and jointly). Exact, O(n log n log K)."""
    n = x.size
    yr, ky = dense_codes(y)
    xr, kx = dense_codes(x)
    d = np.zeros(n, dtype=np.int64)
    for st in _build_stages(yr, ky, xr[:, None]):
        d[st.q_rows] += st.q_hi[0] - st.q_lo
        L = st.rows.size
        diff = np.bincount(st.q_lo, minlength=L + 1) - np.bincount(st.q_hi[0], minlength=L + 1)
        d[st.rows] += np.cumsum(diff)[:L]
    tx, mx, cx = _class_stats(xr)
    ty, my, cy = _class_stats(yr)
    txy, _, cxy = _class_stats(dense_codes(yr * (kx + 1) + xr)[0])
    pairs = n * (n - 1) // 2
    total = KendallCounts(float(n), float(pairs), float(d.sum() // 2), float(tx), float(ty),
                          float(txy), float(mx), float(my))
    return total, d, cx, cy, cxy


def leave_one_out_counts(x: np.ndarray, y: np.ndarray) -> KendallCounts:
    """Counts of the data with each row left out in turn (arrays of length n)."""
    tot, d, cx, cy, cxy = per_row_counts(x, y)
    n = tot.n - 1
    return KendallCounts(
        n=np.full(d.size, n), pairs=np.full(d.size, n * (n - 1) / 2),
        discordant=tot.discordant - d, ties_metric=tot.ties_metric - (cx - 1),
        ties_human=tot.ties_human - (cy - 1), ties_both=tot.ties_both - (cxy - 1),
        classes_metric=tot.classes_metric - (cx == 1), classes_human=tot.classes_human - (cy == 1))


# ---------------------------------------------------------------------------
# many variants of one data set

_DIRECT_MAX_CLASSES = 12  # above this, the per-bit stages do less work


class KendallBatch:
    """Counts for many variants of one data set: (metric columns X (n, a), human y).

    A batch is a 2-D array over variants x rows, either of multiplicities
    (`weights`, a == 1: bootstrap) or of candidate choices (`choice`, a == 2:
    row i takes X[i, choice]; permutation test). Results are exact integers.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray):
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[:, None]
        self.n, self.a = X.shape
        self.yr, self.ky = dense_codes(y)
        flat_codes, self.kx = dense_codes(X.ravel())
        self.xr = flat_codes.reshape(self.n, self.a)
        self.stages = _build_stages(self.yr, self.ky, self.xr)
        ycnt = np.bincount(self.yr)
        self._ty = float((ycnt * (ycnt - 1) // 2).sum())
        self._my = float(np.count_nonzero(ycnt))
        self._y_order = np.argsort(self.yr, kind="stable")
        self._y_starts = np.flatnonzero(np.r_[True, np.diff(self.yr[self._y_order]) != 0])
        # metric / joint classes shared by different rows (the only source of ties
        # between rows in the metric); ids are compact, -1 = value unique to its row
        joint = self.yr[:, None] * (self.kx + 1) + self.xr
        self._tie_x = self._shared_classes(self.xr)
        self._ties_joint = self._joint_tie_plan(joint) if self._tie_x is not None else None
        self._tie_pairs = self._pair_tie_plan() if (self._tie_x is not None and self.a == 2) else None
        self._direct = self._build_direct() if (self.a == 1 and self.ky <= _DIRECT_MAX_CLASSES) else None

    def _build_direct(self):
        """Layout for few human classes: rows sorted by (class, metric); for every
        row j of class v and every higher class u, the number of class-u rows with
        a smaller metric value, as an index into the exclusive cumulative sum."""
        order = np.lexsort((self.xr[:, 0], self.yr))
        yr, xr = self.yr[order], self.xr[order, 0]
        starts = np.searchsorted(yr, np.arange(self.ky + 1), side="left")
        queries = []
        for v in range(self.ky - 1):
            xv = xr[starts[v]:starts[v + 1]]
            idx = [starts[u] + np.searchsorted(xr[starts[u]:starts[u + 1]], xv, side="left")
                   for u in range(v + 1, self.ky)]
            queries.append(idx)
        return order, starts, queries

    def _shared_classes(self, codes: np.ndarray):
        rows = np.repeat(np.arange(self.n), self.a)
        flat = codes.ravel()
        pair = np.unique(flat * self.n + rows)          # distinct (class, row)
        cls_of_pair = pair // self.n
        u, cnt = np.unique(cls_of_pair, return_counts=True)
        shared = u[cnt > 1]
        if shared.size == 0:
            return None
        ids = np.full(flat.size, -1, dtype=np.int64)
        pos = np.searchsorted(shared, flat)
        hit = (pos < shared.size) & (shared[np.minimum(pos, shared.size - 1)] == flat)
        ids[hit] = pos[hit]
        return ids.reshape(codes.shape), int(shared.size)

    # -- the discordant pairs ------------------------------------------------
    def discordant(self, weights=None, choice=None) -> np.ndarray:
        """Discordant pairs per variant (int64): weighted for a == 1, chosen for a == 2."""
        c = (weights if weights is not None else choice).shape[0]
        out = np.zeros(c, dtype=np.int64)
        for st in self.stages:
            if choice is None:
                lay = np.take(weights, st.rows, axis=1)
                dtype = np.int64
            else:
                lay = np.take(choice, st.rows, axis=1)
                np.equal(lay, st.cand.astype(bool), out=lay)  # slot present in this variant
                dtype = np.int32
            cum = np.empty((c, st.rows.size + 1), dtype=dtype)
            cum[:, 0] = 0
            np.cumsum(lay, axis=1, dtype=dtype, out=cum[:, 1:])
            if choice is None:
                hi = np.take(cum, st.q_hi[0], axis=1)
                hi -= np.take(cum, st.q_lo, axis=1)
                out += np.einsum("ij,ij->i", hi, np.take(weights, st.q_rows, axis=1))
                continue
            # sum over queries of cum at the position of the candidate each row takes,
            # split by candidate so that each gather runs over sorted positions
            h0 = np.take(cum, st.q_hi[0], axis=1)
            h0 *= ~np.take(choice, st.q_rows, axis=1)
            out += h0.sum(axis=1, dtype=np.int64)
            o1 = st.by_hi1
            h1 = np.take(cum, st.q_hi[1][o1], axis=1)
            h1 *= np.take(choice, st.q_rows[o1], axis=1)
            out += h1.sum(axis=1, dtype=np.int64)
            # every query of a group subtracts the same group start
            starts, counts = np.unique(st.q_lo, return_counts=True)
            nz = starts > 0
            if nz.any():
                out -= cum[:, starts[nz]].astype(np.int64) @ counts[nz]
        return out

    # -- everything ------------------------------------------------------------
    def counts(self, weights=None, choice=None) -> KendallCounts:
        """All counts per variant; give exactly one of weights (a == 1) or choice (a == 2)."""
        if (weights is None) == (choice is None):
            raise ValueError("give exactly one of weights (bootstrap) or choice (permutation)")
        if choice is not None and self.a != 2:
            raise ValueError("choice needs two metric columns")
        if weights is not None and self.a != 1:
            raise ValueError("weights need one metric column")
        if weights is not None:
            w = np.asarray(weights, dtype=np.int64)
            if self._direct is not None:
                disc, wy = self._direct_discordant(w)
            else:
                disc = self.discordant(weights=w).astype(float)
                wy = np.add.reduceat(np.take(w, self._y_order, axis=1), self._y_starts, axis=1)
            n = w.sum(axis=1).astype(float)
            ty = (wy * (wy - 1)).sum(axis=1) / 2
            my = np.count_nonzero(wy, axis=1).astype(float)
            tx, mx, txy = self._weighted_ties_both(w)
        else:
            c = choice.shape[0]
            if self._counts_cells():
                disc, tx, mx, txy = self._tabled_counts(choice)
            else:
                disc = self.discordant(choice=choice).astype(float)
                tx, mx, txy = self._chosen_ties(choice)
            n = np.full(c, float(self.n))
            ty = np.full(c, self._ty)
            my = np.full(c, self._my)
        return KendallCounts(n, n * (n - 1) / 2, disc, tx, ty, txy, mx, my)

    #: The counting path when (human classes x metric values) cells are at most this share
    #: of the rows: one bincount per block and cumulative sums over the cells then cost less
    #: than the per-stage gathers and the tie counts. Measured (permutation blocks, z-scored
    #: real scores): Flickr8k-Expert BLEU-1/BLEU-4/ROUGE-L pairs (0.4-0.6 cells a row) 2-3x
    #: faster; Flickr8k-CF BLEU-1 vs ROUGE-L (0.85) level; BLEU-4 vs ROUGE-L (1.6) 1.2x slower.
    _CELLS_PER_ROW = 0.75
    #: Float sums of products of counts are exact while n**2 stays below 2**53.
    _MAX_COUNTED_ROWS = 2 ** 26

    def _counts_cells(self) -> bool:
        return (self.a == 2 and self.n < self._MAX_COUNTED_ROWS
                and self.ky * self.kx <= self._CELLS_PER_ROW * self.n)

    def swapped_counts(self, swaps) -> KendallCounts:
        """`counts(choice=[swaps; ~swaps])`: both metrics after the rows flagged in swaps
        (variants x rows) trade scores, the first half "metric 0", the second "metric 1".
        On the counting path the second half's tables are the full table minus the first's."""
        if not self._counts_cells():
            return self.counts(choice=np.concatenate([swaps, ~swaps]))
        c = swaps.shape[0]
        T = self._tables(swaps)
        if "_both_table" not in self.__dict__:    # every row's two candidates
            cells = self.yr[:, None] * self.kx + self.xr
            self._both_table = np.bincount(cells.ravel(), minlength=self.ky * self.kx).reshape(
                self.ky, self.kx)
        disc, tx, mx, txy = self._table_counts(np.concatenate([T, self._both_table[None] - T]))
        n = np.full(2 * c, float(self.n))
        return KendallCounts(n, n * (n - 1) / 2, disc, tx, np.full(2 * c, self._ty), txy, mx,
                             np.full(2 * c, self._my))

    def _tables(self, choice) -> np.ndarray:
        """(variants, human classes, metric values) contingency tables, one bincount."""
        c = choice.shape[0]
        cells = self.ky * self.kx
        first = self.yr * self.kx + self.xr[:, 0]
        code = choice * (self.xr[:, 1] - self.xr[:, 0])       # the cell moves by the value change
        code += first
        code += (np.arange(c, dtype=np.int64) * cells)[:, None]
        return np.bincount(code.ravel(), minlength=c * cells).reshape(c, self.ky, self.kx)

    def _tabled_counts(self, choice):
        return self._table_counts(self._tables(choice))

    def _table_counts(self, T):
        """(discordant, tied in metric, distinct metric values, tied in both) per variant from
        its (human class x chosen metric value) contingency table T: discordant = sum over
        cells (v, x) of T[v, x] times the rows of a higher class with a smaller value; ties
        from the cells and the column totals. Exact: the counts stay below 2**53, so float
        sums of integer products are exact, and equal what `discordant` and `_chosen_ties`
        give."""
        Tf = T.astype(float)
        smaller = np.cumsum(Tf, axis=2)
        smaller -= Tf                                   # same class, smaller value
        higher = np.zeros_like(smaller[:, 0])           # classes above v, smaller value
        disc = np.zeros(T.shape[0])
        for v in range(self.ky - 1, -1, -1):
            disc += np.einsum("ij,ij->i", Tf[:, v], higher)
            higher += smaller[:, v]
        col = Tf.sum(axis=1)
        cells = Tf.reshape(T.shape[0], -1)
        tx = (np.einsum("ij,ij->i", col, col) - self.n) / 2
        txy = (np.einsum("ij,ij->i", cells, cells) - self.n) / 2
        return disc, tx, np.count_nonzero(col, axis=1).astype(float), txy

    def _direct_discordant(self, w):
        """Weighted discordant pairs and human-class totals, few-classes layout."""
        order, starts, queries = self._direct
        # int32 halves the memory traffic of the gathers; totals stay far below 2**31
        small = w.shape[1] < 2 ** 31 and int(w.sum(axis=1).max(initial=0)) < 2 ** 31 // max(1, self.ky)
        dt = np.int32 if small else np.int64
        wm = np.take(w.astype(dt, copy=False), order, axis=1)
        c = wm.shape[0]
        cum = np.zeros((c, self.n + 1), dtype=dt)
        np.cumsum(wm, axis=1, dtype=dt, out=cum[:, 1:])
        at_start = cum[:, starts].astype(np.int64)   # (c, K + 1) weight before each class
        class_tot = np.diff(at_start, axis=1)        # (c, K)
        disc = np.zeros(c, dtype=np.int64)
        for v, idx in enumerate(queries):
            acc = np.take(cum, idx[0], axis=1)
            for more in idx[1:]:
                acc += np.take(cum, more, axis=1)
            disc += np.einsum("ij,ij->i", acc, wm[:, starts[v]:starts[v + 1]], dtype=np.int64)
            disc -= at_start[:, v + 1:self.ky].sum(axis=1) * class_tot[:, v]
        return disc.astype(float), class_tot

    #: Above this share of rows whose metric value is shared, tie counts run over every row
    #: (no separate count for unshared rows); below it, over the shared rows only.
    _ALL_ROWS_TIE_SHARE = 0.5

    def _weighted_tie_plan(self):
        """Rows to aggregate for the weighted tie counts, in (metric, human) order, with the
        starts of their joint classes and of their metric classes among those."""
        if "_wt_plan" not in self.__dict__:
            ids = self._tie_x[0][:, 0]
            shared = ids >= 0
            all_rows = shared.mean() > self._ALL_ROWS_TIE_SHARE
            rows = np.arange(self.n) if all_rows else np.flatnonzero(shared)
            xr, yr = self.xr[rows, 0], self.yr[rows]
            order = np.lexsort((yr, xr))
            rows, xr, yr = rows[order], xr[order], yr[order]
            new_x = np.r_[True, xr[1:] != xr[:-1]]
            new_xy = new_x | np.r_[True, yr[1:] != yr[:-1]]
            joint_starts = np.flatnonzero(new_xy)
            x_starts = np.flatnonzero(new_x[joint_starts])
            self._wt_plan = (all_rows, rows, joint_starts, x_starts)
        return self._wt_plan

    def _weighted_ties_both(self, w):
        """(pairs tied in the metric, distinct metric values, pairs tied in both) under
        multiplicities w (a == 1), gathering the weights once: joint (metric, human) class
        totals first, metric class totals from those."""
        total = w.sum(axis=1)
        if self._tie_x is None:   # only copies of one row tie
            own = (np.einsum("ij,ij->i", w, w) - total) / 2
            return own, np.count_nonzero(w, axis=1).astype(float), own
        all_rows, rows, joint_starts, x_starts = self._weighted_tie_plan()
        ws = np.take(w, rows, axis=1)
        agg_xy = np.add.reduceat(ws, joint_starts, axis=1)
        agg_x = np.add.reduceat(agg_xy, x_starts, axis=1)
        sq_xy = np.einsum("ij,ij->i", agg_xy, agg_xy)
        sq_x = np.einsum("ij,ij->i", agg_x, agg_x)
        if all_rows:
            return ((sq_x - total) / 2, np.count_nonzero(agg_x, axis=1).astype(float),
                    (sq_xy - total) / 2)
        # rows whose metric value is their own contribute only pairs among their copies
        sel_total = ws.sum(axis=1)
        rest = (np.einsum("ij,ij->i", w, w) - np.einsum("ij,ij->i", ws, ws)) - (total - sel_total)
        present = np.count_nonzero(w, axis=1) - np.count_nonzero(ws, axis=1)
        return ((rest + sq_x - sel_total) / 2,
                (present + np.count_nonzero(agg_x, axis=1)).astype(float),
                (rest + sq_xy - sel_total) / 2)

    def _joint_tie_plan(self, joint: np.ndarray):
        """Classes for counting both kinds of ties with one bincount per variant.

        Candidates whose metric value is shared with another row get a joint
        (human class, metric value) id, numbered so that the ids of one metric
        value are consecutive; everything else goes to a spare id at the end.
        """
        ids_x, _ = self._tie_x
        shared = ids_x >= 0
        jcodes, _ = dense_codes(np.where(shared, joint, -1).ravel())
        jcodes = jcodes.reshape(joint.shape)
        # order joint ids by their metric class so metric classes are contiguous runs
        present = np.unique(jcodes[shared])
        xcls = np.empty(present.size, dtype=np.int64)
        xcls[np.searchsorted(present, jcodes[shared])] = ids_x[shared]
        order = np.argsort(xcls, kind="stable")
        remap = np.empty(present.size, dtype=np.int64)
        remap[order] = np.arange(present.size)
        ids = np.full(joint.shape, present.size, dtype=np.int32)
        ids[shared] = remap[np.searchsorted(present, jcodes[shared])]
        xs = xcls[order]
        x_ends = np.flatnonzero(np.r_[xs[1:] != xs[:-1], True])  # last joint id of each value
        return ids, int(present.size), x_ends

    def _pair_tie_plan(self, max_pairs_per_row: int = 2):
        """Row pairs that can tie in the metric, when there are few of them.

        Few: at most max_pairs_per_row per row. Testing a pair costs more than
        counting a row into its class (random gathers); on Flickr8k-CF's meteor and
        cider (6.4 pairs a row) the pairs took 7x the time of the class counts.

        For each such pair (r, r') and each choice of candidates (k, k') it keeps
        whether X[r, k] == X[r', k']; a variant's metric ties are then the pairs
        whose chosen candidates are equal. Also a lower bound on the number of
        distinct metric values any variant can have: n / (most rows sharing one
        value). Returns None when the pairs would be too many (large tie classes).
        """
        ids, k = self._tie_x
        rows = np.repeat(np.arange(self.n), self.a)
        flat = ids.ravel()
        keep = flat >= 0
        pair = np.unique(flat[keep] * self.n + rows[keep])      # distinct (class, row)
        cls, rws = pair // self.n, pair % self.n
        sizes = np.bincount(cls, minlength=k)
        if int((sizes * (sizes - 1) // 2).sum()) > max_pairs_per_row * self.n:
            return None
        starts = np.cumsum(sizes) - sizes
        p1, p2 = [], []
        for size in np.unique(sizes):
            if size < 2:
                continue
            g = starts[sizes == size]
            iu, ju = np.triu_indices(int(size), 1)
            p1.append(rws[(g[:, None] + iu[None, :]).ravel()])
            p2.append(rws[(g[:, None] + ju[None, :]).ravel()])
        pr = np.unique(np.stack([np.concatenate(p1), np.concatenate(p2)]), axis=1)
        r1, r2 = pr[0], pr[1]
        same_y = self.yr[r1] == self.yr[r2]
        order = np.argsort(~same_y, kind="stable")             # pairs tied in y first
        r1, r2 = r1[order], r2[order]
        eq = [(self.xr[r1, k1] == self.xr[r2, k2]) for k1 in (0, 1) for k2 in (0, 1)]
        bound = -(-self.n // int(sizes.max()))
        return r1, r2, eq, int(same_y.sum()), bound

    def _chosen_ties(self, choice):
        """((tied pairs in metric, distinct metric values, tied pairs in both)) per variant,
        each row taking one of two candidates."""
        c = choice.shape[0]
        if self._ties_joint is None:
            zero = np.zeros(c)
            return zero, np.full(c, float(self.n)), zero
        if self._tie_pairs is not None and self._tie_pairs[4] >= self._my:
            # few row pairs can tie: test them directly. The distinct-value count is then
            # only needed by tau-c through min(metric, human), and the bound shows the
            # human side is the smaller, so the bound stands in for it.
            r1, r2, (e00, e01, e10, e11), n_same_y, bound = self._tie_pairs
            a = np.take(choice, r1, axis=1)
            b = np.take(choice, r2, axis=1)
            same = a == b
            if not (e01.any() or e10.any()) and np.array_equal(e00, e11):
                eq = same & e00        # typical: rows sharing a value in each metric alike
            else:
                eq = (same & np.where(a, e11, e00)) | (~same & np.where(a, e10, e01))
            tx = np.count_nonzero(eq, axis=1).astype(float)
            txy = np.count_nonzero(eq[:, :n_same_y], axis=1).astype(float)
            return tx, np.full(c, float(bound)), txy
        ids, k, x_ends = self._ties_joint
        chosen = np.where(choice, ids[:, 1], ids[:, 0])
        cnt = np.empty((c, k + 1), dtype=np.int64)
        for r in range(c):
            cnt[r] = np.bincount(chosen[r], minlength=k + 1)
        alone = cnt[:, k]
        joint = cnt[:, :k]
        hits = self.n - alone
        at_end = np.cumsum(joint, axis=1)[:, x_ends]
        by_x = np.diff(at_end, axis=1, prepend=0)   # count of each shared metric value
        txy = (np.einsum("ij,ij->i", joint, joint) - hits) / 2
        tx = (np.einsum("ij,ij->i", by_x, by_x) - hits) / 2
        m = alone + np.count_nonzero(by_x, axis=1)
        return tx.astype(float), m.astype(float), txy.astype(float)
