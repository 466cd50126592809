"""Exact Kendall pair counts of one data set in a few numpy passes (internal).

The discordant pairs D of (x, y) are the strict inversions of the sequence of
y ranks laid out in (x, y) order: after sorting by x, and by y within runs of
equal x, a pair i < j is discordant exactly when y_i > y_j (Knight 1966, the
approach of scipy.stats.kendalltau). scipy counts the inversions with a
compiled Fenwick tree; here they are counted by bits of the ranks, as a wavelet
matrix is built (Claude, Navarro & Ordonez 2015): at every bit, from the most
significant, a pair agreeing on the higher bits is an inversion at this bit when
the earlier element has the bit set and the later one does not. The elements of
one higher-bits prefix lie contiguously, in their original order, once the
sequence is stably partitioned by every higher bit (zeros first); so each bit
costs a mask, a sum of positions and one stable partition, all whole-array
numpy operations, and per-prefix totals come from a histogram of the ranks.
The side with fewer distinct values supplies the bits (D is symmetric in x, y).

When one side has at most FEW_CLASSES distinct values (human ratings usually
do) no rank is needed at all: the other side is value-sorted within each class,
and a row is discordant with every row of a higher class with a smaller value,
counted by binary search in the merged values of the classes above it.
Above 200,000 rows the two sorts, and the two halves of the bit-by-bit count
under the top bit, run on two threads (numpy releases the GIL while it works).
"""
from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def sorted_runs(v: np.ndarray):
    """(order, dense rank 0..K-1 of each element in sorted order, K, size of each class)."""
    n = v.size
    order = np.argsort(v)
    s = v[order]
    new = np.empty(n, dtype=bool)
    new[:1] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    k = int(starts.size)
    dt = np.int32 if n < 2 ** 31 else np.int64
    if k == n:
        return order, np.arange(n, dtype=dt), k, None
    ranks_sorted = np.cumsum(new, dtype=dt)
    ranks_sorted -= 1
    return order, ranks_sorted, k, np.diff(np.append(starts, n))


def _codes(order: np.ndarray, ranks_sorted: np.ndarray) -> np.ndarray:
    """Dense rank of every element in its original position."""
    codes = np.empty_like(ranks_sorted)
    codes[order] = ranks_sorted
    return codes


def tied_pairs(sizes: np.ndarray | None) -> int:
    """Pairs within the same class, for class sizes (int64 arithmetic; None: all distinct)."""
    if sizes is None:
        return 0
    s = sizes.astype(np.int64, copy=False)
    return int((s * (s - 1) // 2).sum())


#: From this many rows on, the two sorts and the two halves of the count run on two threads.
_PARALLEL_MIN = 200_000
_pool: list = []
if hasattr(os, "register_at_fork"):   # a forked child has no helper thread: start its own
    os.register_at_fork(after_in_child=_pool.clear)


@functools.lru_cache(maxsize=8)
def _bit_reversal(bits: int) -> np.ndarray:
    """rev[i] = i with its `bits` low bits in reverse order (read-only, cached)."""
    rev = np.zeros(1, dtype=np.int64)
    for _ in range(bits):
        rev = np.concatenate([2 * rev, 2 * rev + 1])
    rev.flags.writeable = False
    return rev


def strict_inversions(seq: np.ndarray, k: int) -> int:
    """Pairs i < j with seq[i] > seq[j], for integers 0..k-1 (wavelet-matrix count).

    For large inputs the top bit splits the sequence into two halves that share no
    further pair, counted on two threads."""
    n = seq.size
    if n >= _PARALLEL_MIN and k > 2 and (os.cpu_count() or 1) >= 2:
        top = 1 << (int(k - 1).bit_length() - 1)
        high = seq >= top
        ones = np.flatnonzero(high)
        n1 = int(ones.size)
        pairs = (n - 1) * n1 - int(ones.sum()) - n1 * (n1 - 1) // 2
        upper = np.take(seq, ones)
        upper -= top
        other = _thread().submit(_strict_inversions, upper, k - top)
        np.logical_not(high, out=high)
        return pairs + _strict_inversions(np.compress(high, seq), top) + other.result()
    return _strict_inversions(seq, k)


def _strict_inversions(seq: np.ndarray, k: int) -> int:
    n = seq.size
    bits = max(1, int(k - 1).bit_length())
    # Block sizes in the order the blocks lie: at bit b the elements sharing their top b
    # bits are contiguous, blocks ordered by the reversed prefix. wave[L][r] = number of
    # elements whose top L bits, reversed, equal r; wave[L] halves into wave[L - 1].
    wave = [np.bincount(seq, minlength=1 << bits).astype(np.int64)[_bit_reversal(bits)]]
    for _ in range(bits):
        w = wave[-1]
        wave.append(w[:w.size // 2] + w[w.size // 2:])
    wave.reverse()
    total = 0
    buf = np.empty_like(seq)
    bit = np.empty_like(seq)
    mask = np.empty(n, dtype=bool)
    for b in range(bits):
        child = wave[b + 1]
        n0, n1 = child[:1 << b], child[1 << b:]   # per block: elements without / with bit b
        ones_total = int(n1.sum())
        if ones_total == 0 or ones_total == n:
            continue
        np.bitwise_and(seq, 1 << (bits - 1 - b), out=bit)
        np.not_equal(bit, 0, out=mask)
        ones = np.flatnonzero(mask)
        # every (one before zero) pair of the sequence, less those whose one lies in an
        # earlier block than its zero
        total += (n - 1) * ones_total - int(ones.sum()) - ones_total * (ones_total - 1) // 2
        total -= int(np.dot(n0, np.cumsum(n1) - n1))
        if b < bits - 1:
            n_zero = n - ones_total
            np.logical_not(mask, out=mask)
            np.take(seq, np.flatnonzero(mask), out=buf[:n_zero])
            np.take(seq, ones, out=buf[n_zero:])
            seq, buf = buf, seq
    return total


#: At most this many distinct values on one side: count per class with value sorts only.
FEW_CLASSES = 16
_SAMPLE = 4096


def _few_classes(v: np.ndarray):
    """(sorted values, distinct values) of v when it has at most FEW_CLASSES distinct values,
    else None; a look at the first values skips the sort when it clearly has more."""
    if np.unique(v[:_SAMPLE]).size > FEW_CLASSES:
        return None
    s = np.sort(v)
    uniq = s[np.append(True, s[1:] != s[:-1])] if s.size else s
    return (s, uniq) if uniq.size <= FEW_CLASSES else None


def _merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two sorted arrays as one (timsort finds the two runs: linear time)."""
    return np.sort(np.concatenate([a, b]), kind="stable")


def _class_sizes(s: np.ndarray) -> np.ndarray:
    """Sizes of the runs of equal values of a sorted array."""
    if s.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.diff(np.append(np.flatnonzero(np.append(True, s[1:] != s[:-1])), s.size))


def _few_class_counts(x: np.ndarray, y: np.ndarray, y_sorted: np.ndarray, y_uniq: np.ndarray):
    """Counts when y has few distinct values: x sorted within each y class; a row of class
    c is discordant with every row of a higher class that has a smaller x."""
    disc = txy = 0
    above = np.zeros(0, dtype=x.dtype)      # sorted x of the classes above the current one
    for u in y_uniq[::-1]:
        part = np.sort(x[y == u])
        disc += int(np.searchsorted(above, part, side="left").sum(dtype=np.int64))
        txy += tied_pairs(_class_sizes(part))
        above = _merge(above, part)
    sx = _class_sizes(above)
    return disc, tied_pairs(sx), tied_pairs(_class_sizes(y_sorted)), txy, int(sx.size), \
        int(y_uniq.size)


def _thread() -> ThreadPoolExecutor:
    """One helper thread, started on first use."""
    if not _pool:
        _pool.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="kendall"))
    return _pool[0]


def _both_sorted(x: np.ndarray, y: np.ndarray):
    """`sorted_runs` of x and of y, the two sorts on two threads for large inputs (numpy
    releases the GIL while it sorts)."""
    if x.size < _PARALLEL_MIN or (os.cpu_count() or 1) < 2:
        return sorted_runs(x), sorted_runs(y)
    other = _thread().submit(sorted_runs, y)
    return sorted_runs(x), other.result()


def pair_counts(x: np.ndarray, y: np.ndarray):
    """(discordant, tied in x, tied in y, tied in both, distinct x, distinct y), exact ints."""
    few = _few_classes(y)
    if few is not None:
        return _few_class_counts(x, y, *few)
    few = _few_classes(x)
    if few is not None:
        d, ty, tx, txy, ky, kx = _few_class_counts(y, x, *few)
        return d, tx, ty, txy, kx, ky
    (ox, rx, kx, sx), (oy, ry, ky, sy) = _both_sorted(x, y)
    tx, ty = tied_pairs(sx), tied_pairs(sy)
    # lay out by the side with more classes; the other side supplies the bits
    if kx >= ky:
        order, outer_ranks, outer_k, inner, inner_k = ox, rx, kx, _codes(oy, ry), ky
    else:
        order, outer_ranks, outer_k, inner, inner_k = oy, ry, ky, _codes(ox, rx), kx
    seq = inner[order]
    n = x.size
    if outer_k < n:   # runs of equal outer values: order them by the inner rank too
        base = outer_ranks.astype(np.int64) * inner_k
        key = base + seq
        key.sort(kind="stable")             # sorted but for those runs: near linear
        txy = tied_pairs(_class_sizes(key))
        key -= base
        seq = key.astype(seq.dtype)
    else:
        txy = 0
    disc = strict_inversions(seq, inner_k) if inner_k > 1 else 0
    return disc, tx, ty, txy, kx, ky
