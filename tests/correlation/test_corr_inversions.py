"""The single-pass Kendall counts (`correlation._inversions`) against scipy and direct pair counts,
on every path: few classes on either side, the bit-by-bit count, heavy and total ties."""
import itertools
import math
import warnings

import numpy as np
import pytest
import scipy.stats

from correlation import UndefinedCorrelationWarning, kendall_tau
from correlation._inversions import FEW_CLASSES, pair_counts, strict_inversions


def direct_counts(x, y):
    """(discordant, tied in x, tied in y, tied in both, distinct x, distinct y) over every pair."""
    d = tx = ty = txy = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        d += sx * sy < 0
        tx += sx == 0
        ty += sy == 0
        txy += (sx == 0) and (sy == 0)
    return d, tx, ty, txy, len(set(x.tolist())), len(set(y.tolist()))


def scipy_tau(x, y, v):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scipy.stats.kendalltau(x, y, variant=v).statistic


def ours_tau(x, y, v):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedCorrelationWarning)
        return kendall_tau(x, y, v)


def assert_same(a, b):
    assert (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 1e-12, (a, b)


@pytest.mark.parametrize("kx,ky", [(3, 2), (100, 4), (4, 100), (100, 100), (40, FEW_CLASSES),
                                   (FEW_CLASSES + 1, 300), (1, 5), (5, 1), (1, 1)])
def test_pair_counts_equal_direct_counts(kx, ky):
    rng = np.random.default_rng(kx * 1000 + ky)
    for n in (0, 1, 2, 7, 61):
        x = rng.integers(0, kx, n).astype(float) * 0.37
        y = rng.integers(0, ky, n).astype(float) / 3
        assert tuple(int(v) for v in pair_counts(x, y)) == direct_counts(x, y)


def test_strict_inversions_equal_direct_count():
    rng = np.random.default_rng(5)
    for k in (2, 3, 8, 9, 100, 1025):
        seq = rng.integers(0, k, 300).astype(np.int32)
        expected = sum(int(a > b) for a, b in itertools.combinations(seq.tolist(), 2))
        assert strict_inversions(seq, k) == expected
    assert strict_inversions(np.arange(50, dtype=np.int32)[::-1].copy(), 50) == 50 * 49 // 2


def heavy_tie_cases(rng, n):
    q = rng.normal(size=n)
    return {
        "continuous both": (q + rng.normal(size=n), q + rng.normal(size=n)),
        "share of 3 yes votes": (np.round(q + rng.normal(size=n), 2),
                                 rng.binomial(3, 1 / (1 + np.exp(-q))) / 3),
        "metric mostly zero": (np.where(rng.random(n) < 0.7, 0.0, rng.random(n)),
                               rng.integers(1, 5, n).astype(float)),
        "two values each": (rng.integers(0, 2, n).astype(float), rng.integers(0, 2, n).astype(float)),
        "human continuous, metric few": (rng.integers(0, 5, n).astype(float), q),
        "caption repeats": (np.repeat(rng.normal(size=n // 3 + 1), 3)[:n],
                            rng.integers(1, 5, n).astype(float)),
        "all tied metric": (np.full(n, 0.5), q),
        "all tied human": (q, np.full(n, 2.0)),
        "all tied both": (np.full(n, 0.5), np.full(n, 2.0)),
        "negative zero and signs": (np.where(rng.random(n) < 0.5, -0.0, 0.0) + np.sign(q),
                                    np.round(q, 1)),
    }


@pytest.mark.parametrize("case", list(heavy_tie_cases(np.random.default_rng(0), 10)))
@pytest.mark.parametrize("variant", ["b", "c"])
def test_kendall_tau_equals_scipy_on_heavy_and_total_ties(case, variant):
    x, y = heavy_tie_cases(np.random.default_rng(3), 5000)[case]
    assert_same(ours_tau(x, y, variant), scipy_tau(x, y, variant))
    assert_same(ours_tau(y, x, variant), scipy_tau(y, x, variant))


@pytest.mark.parametrize("variant", ["b", "c"])
def test_kendall_tau_equals_scipy_at_20000_random_rows(variant):
    rng = np.random.default_rng(20000)
    q = rng.normal(size=20_000)
    for x, y in [(q + rng.normal(size=q.size), q + rng.normal(size=q.size)),
                 (np.round(q + rng.normal(size=q.size), 3), rng.integers(0, 40, q.size) / 7)]:
        assert_same(ours_tau(x, y, variant), scipy_tau(x, y, variant))


def test_large_inputs_counted_on_two_threads_equal_scipy():
    """Above 200,000 rows the sorts and the two halves of the count run on two threads."""
    rng = np.random.default_rng(250)
    q = rng.normal(size=250_000)
    x, y = q + rng.normal(size=q.size), q + rng.normal(size=q.size)
    for v in "bc":
        assert_same(ours_tau(x, y, v), scipy_tau(x, y, v))
    seq = rng.integers(0, 16, 250_000).astype(np.int32)
    # strict inversions of a sequence are the discordant pairs of (position, value), which
    # pair_counts finds by the few-classes path (no bit-by-bit count)
    assert strict_inversions(seq, 16) == pair_counts(np.arange(seq.size, dtype=float),
                                                     seq.astype(float))[0]
