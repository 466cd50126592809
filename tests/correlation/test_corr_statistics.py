"""Single statistics against scipy and against direct O(n^2) counts over all pairs."""
import itertools
import math
import warnings

import numpy as np
import pytest
import scipy.stats

from correlation import (UndefinedCorrelationWarning, kendall_tau, pearson, spearman,
                         tie_calibration)


def tied_data(rng, n, n_metric_values, n_human_values, nan_share=0.0):
    """Scores with many ties on both sides (and optional NaNs in both)."""
    m = rng.integers(0, n_metric_values, n).astype(float) / 7.0
    h = rng.integers(0, n_human_values, n).astype(float) / 3.0
    if nan_share:
        m[rng.random(n) < nan_share] = np.nan
        h[rng.random(n) < nan_share] = np.nan
    return m, h


def scipy_on_complete(fn, m, h, **kw):
    keep = ~(np.isnan(m) | np.isnan(h))
    return fn(m[keep], h[keep], **kw).statistic


def brute_counts(m, h, eps=0.0):
    """Concordant, discordant, metric-only ties, human-only ties, both-ties: every pair once."""
    c = d = tm = th = tb = 0
    for i, j in itertools.combinations(range(len(m)), 2):
        dm, dh = m[i] - m[j], h[i] - h[j]
        mt, ht = abs(dm) <= eps, dh == 0
        if mt and ht:
            tb += 1
        elif mt:
            tm += 1
        elif ht:
            th += 1
        elif (dm > 0) == (dh > 0):
            c += 1
        else:
            d += 1
    return c, d, tm, th, tb


def brute_23(m, h, eps=0.0):
    c, d, tm, th, tb = brute_counts(m, h, eps)
    return (c + tb - d - tm - th) / (c + d + tm + th + tb)


def brute_acc23(m, h, eps=0.0):
    c, d, tm, th, tb = brute_counts(m, h, eps)
    return (c + tb) / (c + d + tm + th + tb)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("variant", ["b", "c"])
def test_kendall_b_c_equal_scipy_with_ties_and_nans(seed, variant):
    rng = np.random.default_rng(seed)
    for n, km, kh in [(2, 2, 2), (3, 2, 2), (17, 3, 4), (200, 5, 4), (500, 40, 10),
                      (1000, 1000, 4), (300, 300, 300)]:
        m, h = tied_data(rng, n, km, kh, nan_share=0.1 if n > 10 else 0.0)
        expected = scipy_on_complete(scipy.stats.kendalltau, m, h, variant=variant)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedCorrelationWarning)
            got = kendall_tau(m, h, variant=variant)
        if math.isnan(expected):
            assert math.isnan(got)
        else:
            assert got == pytest.approx(expected, abs=1e-12, rel=0)


def test_kendall_continuous_equals_scipy():
    rng = np.random.default_rng(11)
    x = rng.normal(size=2000)
    y = x + rng.normal(size=2000)
    for v in "bc":
        assert kendall_tau(x, y, v) == pytest.approx(scipy.stats.kendalltau(x, y, variant=v).statistic,
                                                     abs=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_23_and_acc23_equal_direct_pair_counts(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2, 70))
    m, h = tied_data(rng, n, int(rng.integers(1, 9)), int(rng.integers(1, 5)))
    if seed % 2:
        m = np.round(rng.normal(size=n), 1)
    for eps in [0.0, 0.1, 0.25, 1 / 7, 2 / 7, 1.0]:
        assert kendall_tau(m, h, "23", epsilon=eps) == pytest.approx(brute_23(m, h, eps), abs=1e-12)
        assert kendall_tau(m, h, "acc23", epsilon=eps) == pytest.approx(brute_acc23(m, h, eps), abs=1e-12)


def test_epsilon_at_exact_pair_differences_counts_those_pairs_as_ties():
    # epsilon equal to a difference computed in float64 must tie that pair
    m = np.array([0.1, 0.3, 0.7, 1.3, 0.2])
    h = np.array([1.0, 0.0, 1.0, 2.0, 2.0])
    for i, j in itertools.combinations(range(5), 2):
        eps = abs(m[i] - m[j])
        assert kendall_tau(m, h, "acc23", epsilon=eps) == pytest.approx(brute_acc23(m, h, eps), abs=1e-15)


def test_acc23_known_value():
    # pairs of (m, h) = (1,1) (2,1) (3,2): (1,2): m differs, h tied -> human-only tie;
    # (1,3): concordant; (2,3): concordant. acc23 = 2/3; tau_23 = (2 - 1)/3.
    assert kendall_tau([1, 2, 3], [1, 1, 2], "acc23") == pytest.approx(2 / 3)
    assert kendall_tau([1, 2, 3], [1, 1, 2], "23") == pytest.approx(1 / 3)
    # epsilon = 1: (1,2) |dm| = 1 -> tied in both (agreement); (1,3) |dm| = 2 -> concordant
    # (agreement); (2,3) |dm| = 1 -> metric tie against a human preference (disagreement): 2/3
    assert kendall_tau([1, 2, 3], [1, 1, 2], "acc23", epsilon=1) == pytest.approx(2 / 3)


@pytest.mark.parametrize("seed", range(6))
def test_tie_calibration_is_the_exact_optimum(seed):
    rng = np.random.default_rng(200 + seed)
    n = int(rng.integers(5, 60))
    m = np.round(rng.normal(size=n), 1)
    h = rng.integers(0, 3, n).astype(float)
    eps, acc = tie_calibration(m, h)
    assert acc == pytest.approx(brute_acc23(m, h, eps), abs=1e-12)
    # a fine sweep (every pairwise difference, midpoints between them, and beyond) cannot beat it
    diffs = np.unique(np.abs(m[:, None] - m[None, :]))
    sweep = np.unique(np.r_[diffs, (diffs[1:] + diffs[:-1]) / 2, np.linspace(0, diffs.max() * 1.1, 50)])
    best = max(brute_acc23(m, h, e) for e in sweep)
    assert acc >= best - 1e-12
    # the smallest optimal epsilon: anything below it is strictly worse
    if eps > 0:
        below = diffs[diffs < eps]
        assert all(brute_acc23(m, h, e) < acc - 1e-12 for e in below)


def test_tie_calibration_grouped_by_item():
    rng = np.random.default_rng(7)
    items = np.repeat(np.arange(12), 6)
    m = np.round(rng.normal(size=items.size), 1)
    h = rng.integers(0, 3, items.size).astype(float)

    def item_acc(e):
        return np.mean([brute_acc23(m[items == g], h[items == g], e) for g in range(12)])

    eps, acc = tie_calibration(m, h, items=items)
    assert acc == pytest.approx(item_acc(eps), abs=1e-12)
    diffs = np.unique(np.abs(m[:, None] - m[None, :]))
    assert acc >= max(item_acc(e) for e in diffs) - 1e-12


def test_tie_calibration_sampled_reports_exact_acc23():
    rng = np.random.default_rng(3)
    m = np.round(rng.normal(size=400), 2)
    h = rng.integers(0, 3, 400).astype(float)
    with pytest.warns(RuntimeWarning, match="random sample"):
        eps, acc = tie_calibration(m, h, max_pairs=5000, seed=1)
    assert acc == pytest.approx(kendall_tau(m, h, "acc23", epsilon=eps), abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_spearman_and_pearson_equal_scipy(seed):
    rng = np.random.default_rng(300 + seed)
    m, h = tied_data(rng, 250, 6, 4, nan_share=0.05)
    assert spearman(m, h) == pytest.approx(scipy_on_complete(scipy.stats.spearmanr, m, h), abs=1e-12)
    assert pearson(m, h) == pytest.approx(scipy_on_complete(scipy.stats.pearsonr, m, h), abs=1e-12)


@pytest.mark.parametrize("fn", [lambda m, h: kendall_tau(m, h, "b"), lambda m, h: kendall_tau(m, h, "c"),
                                spearman, pearson])
def test_constant_vectors_give_nan_with_reason(fn):
    with pytest.warns(UndefinedCorrelationWarning, match="metric scores are constant"):
        assert math.isnan(fn([2, 2, 2, 2], [1, 2, 3, 4]))
    with pytest.warns(UndefinedCorrelationWarning, match="human scores are constant"):
        assert math.isnan(fn([1, 2, 3, 4], [5, 5, 5, 5]))


@pytest.mark.parametrize("fn", [kendall_tau, spearman, pearson,
                                lambda m, h: kendall_tau(m, h, "acc23")])
def test_fewer_than_two_pairs_give_nan(fn):
    with pytest.warns(UndefinedCorrelationWarning, match="fewer than two"):
        assert math.isnan(fn([1.0, np.nan, 3.0], [np.nan, 2.0, 1.0]))
    with pytest.warns(UndefinedCorrelationWarning, match="fewer than two"):
        assert math.isnan(fn([], []))


def test_acc23_is_defined_for_constant_human():
    # all human pairs tied: agreement = metric ties among them (here 1 of 3 pairs)
    assert kendall_tau([1, 1, 2], [3, 3, 3], "acc23") == pytest.approx(1 / 3)


def test_nan_rows_are_dropped_pairwise():
    m = [1, 2, np.nan, 4, 5]
    h = [1, 3, 2, np.nan, 4]
    assert kendall_tau(m, h) == pytest.approx(scipy.stats.kendalltau([1, 2, 5], [1, 3, 4]).statistic)


@pytest.mark.parametrize("fn", [kendall_tau, spearman, pearson, tie_calibration])
def test_length_mismatch_names_both_lengths(fn):
    with pytest.raises(ValueError, match=r"metric has 3.*human has 2"):
        fn([1, 2, 3], [1, 2])


def test_bad_arguments():
    with pytest.raises(ValueError, match="variant"):
        kendall_tau([1, 2], [1, 2], variant="a")
    with pytest.raises(ValueError, match="epsilon"):
        kendall_tau([1, 2], [1, 2], variant="b", epsilon=0.1)
    with pytest.raises(ValueError, match="epsilon"):
        kendall_tau([1, 2], [1, 2], variant="acc23", epsilon=-1)


def test_public_import():
    from correlation import kendall_tau as kt
    assert kt([1, 2, 3], [1, 2, 3], variant="c") == pytest.approx(1.0)
