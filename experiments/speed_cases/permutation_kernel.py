"""Permutation-test bench: the package's paired permutation test against a counting kernel
(issue 23), on every pair of the real Flickr8k metrics (`real_scores.METRICS`) of
Flickr8k-CF and Flickr8k-Expert, tau-c, 1,000 draws swapping whole images.

The kernel is plain numpy and scipy, written without the package's code: z-score
both metrics (`scipy.stats.zscore`, with distinct scores kept distinct, as the
test's definition asks), give every row a rank among the distinct z-scores of
either metric and a human class, then for each draw count the (draw, human class,
rank) cells with one `np.bincount` and take tau-c from cumulative cell counts:
concordant minus discordant pairs = sum over cells of count x (cells below-left
- cells below-right) (Kendall 1945; tau-c of Stuart 1953, scipy's variant "c").
It reads the random stream in the package's order (per block of draws,
`Generator.bytes` unpacked to one bit per image), so both see the same swaps and
must give the same p-value: each case asserts it, and the observed delta.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.stats

from . import BenchCase
from .real_scores import METRICS as REAL_METRICS, flickr8k_view

N_PERMUTATIONS = 1000
_ROWS_PER_BLOCK = 2_500_000   # the package's draws per block: min(100, this // rows), >= 1
_CELLS_PER_CHUNK = 4_000_000  # the kernel's own memory bound (cells counted at once)
_TOL = 1e-12                  # "at least as extreme" within rounding (Phipson & Smyth 2010)
_state: dict = {}


def distinct_zscores(x: np.ndarray) -> np.ndarray:
    """scipy.stats.zscore(x), where scores that rounding merged are raised by single ulps
    (in the scores' order) until every distinct score has a distinct z-score."""
    z = scipy.stats.zscore(x)
    unique, first, inverse = np.unique(x, return_index=True, return_inverse=True)
    zu = z[first]
    i = 1
    while True:
        bad = np.flatnonzero(zu[i:] <= zu[i - 1:-1])
        if bad.size == 0:
            break
        i += int(bad[0])
        zu[i] = np.nextafter(zu[i - 1], np.inf)
        i += 1
        if i >= zu.size:
            break
    return zu[inverse.reshape(-1)]


def swap_draws(seed: int, n_draws: int, n_rows: int, n_units: int):
    """Yield (draws x units) bool swap matrices in the package's order of the random stream."""
    rng = np.random.default_rng(seed)
    block = max(1, min(100, _ROWS_PER_BLOCK // max(1, n_rows)))
    for start in range(0, n_draws, block):
        c = min(block, n_draws - start)
        raw = np.frombuffer(rng.bytes((c * n_units + 7) // 8), dtype=np.uint8)
        yield np.unpackbits(raw)[:c * n_units].reshape(c, n_units).astype(bool)


def tau_c_of_cells(cells: np.ndarray) -> np.ndarray:
    """tau-c of each (human class x metric rank) count table in cells (draws x H x R)."""
    cells = cells.astype(np.int64)
    above = np.cumsum(cells, axis=1) - cells                 # same rank, lower human class
    below_left = np.cumsum(above, axis=2) - above            # lower class, lower rank
    lower_class = above.sum(axis=2, keepdims=True)           # lower class, any rank
    s = (cells * (2 * below_left + above - lower_class)).sum(axis=(1, 2))
    n = cells.sum(axis=(1, 2)).astype(float)
    m = np.minimum(np.count_nonzero(cells.sum(axis=1), axis=1),
                   np.count_nonzero(cells.sum(axis=2), axis=1)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = 2 * s.astype(float) / (n ** 2 * (m - 1) / m)
    return np.where(m > 1, np.clip(tau, -1.0, 1.0), np.nan)


def counting_permutation_test(a, b, human, items, n_draws: int = N_PERMUTATIONS, seed: int = 0):
    """(two-sided p-value, observed tau-c(a) - tau-c(b), deltas of the draws), swapping items."""
    za, zb = distinct_zscores(np.asarray(a, float)), distinct_zscores(np.asarray(b, float))
    values = np.unique(np.concatenate([za, zb]))
    ra, rb = np.searchsorted(values, za), np.searchsorted(values, zb)
    classes, h = np.unique(human, return_inverse=True)
    n_h, n_r, n = classes.size, values.size, za.size
    base = h.reshape(-1) * n_r
    items = np.asarray(items)
    n_units = int(items.max()) + 1

    def deltas(swaps: np.ndarray) -> np.ndarray:
        rows = swaps[:, items]
        out = []
        step = max(1, _CELLS_PER_CHUNK // (2 * n_h * n_r))
        for s in range(0, rows.shape[0], step):
            r = rows[s:s + step]
            c = r.shape[0]
            ranks = np.concatenate([np.where(r, rb, ra), np.where(r, ra, rb)])   # A then B
            cell = base + ranks + (np.arange(2 * c) * (n_h * n_r))[:, None]
            cells = np.bincount(cell.ravel(), minlength=2 * c * n_h * n_r)
            tau = tau_c_of_cells(cells.reshape(2 * c, n_h, n_r))
            out.append(tau[:c] - tau[c:])
        return np.concatenate(out)

    observed = float(deltas(np.zeros((1, n_units), dtype=bool))[0])
    d = np.concatenate([deltas(s) for s in swap_draws(seed, n_draws, n, n_units)])
    d = d[np.isfinite(d)]
    hits = np.count_nonzero(np.abs(d) >= abs(observed) - _TOL)
    return (1 + hits) / (1 + d.size), observed, d


# ---------------------------------------------------------------------------
# the cases

REAL = {"flickr8k-cf": "Flickr8k-CF", "flickr8k-expert": "Flickr8k-Expert"}
PAIRS = [(a, b) for i, a in enumerate(REAL_METRICS) for b in REAL_METRICS[i + 1:]]


def _check_same(key) -> None:
    """Once both sides ran: the package's p-value and delta are the kernel's."""
    if ("ours", key) not in _state or ("kernel", key) not in _state:
        return
    ours = _state.pop(("ours", key))
    p, observed, _ = _state.pop(("kernel", key))
    if ours.p_value != p or not math.isclose(ours.delta, observed, rel_tol=0, abs_tol=_TOL):
        raise AssertionError(f"{key}: package p={ours.p_value!r} delta={ours.delta!r}, "
                             f"counting kernel p={p!r} delta={observed!r}")


def _case(name: str, a: str, b: str) -> BenchCase:
    key = (name, a, b)

    def ours():
        from correlation import permutation_test

        view = flickr8k_view(name)
        _state[("ours", key)] = permutation_test(
            view.scores[a], view.scores[b], view.human, "kendall_c", items=view.images,
            n_permutations=N_PERMUTATIONS, seed=0)
        _check_same(key)

    def baseline():
        view = flickr8k_view(name)
        _state[("kernel", key)] = counting_permutation_test(
            view.scores[a], view.scores[b], view.human, view.images, N_PERMUTATIONS, seed=0)
        _check_same(key)

    return BenchCase(
        name=f"correlation: permutation test vs counting kernel, {REAL[name]}, {a} vs {b}",
        ours=ours, baseline=baseline, target_ratio=1.0, setup=lambda: flickr8k_view(name),
        notes=("ours: correlation.permutation_test(kendall_c, items=images, 1,000 draws "
               "swapping whole images, z-scored); baseline: the issue-23 counting kernel "
               "(one bincount of (draw, human class, rank) cells per block of draws, tau-c "
               "from cumulative cell counts), same draws; p-value and delta asserted equal."))


CASES = [_case(name, a, b) for name in REAL for a, b in PAIRS]
