"""Extreme but finite scores give scipy's numbers; infinite scores never reach a statistic.

Issue 10, "silently wrong numbers": Pearson clamped NaN to 1.0, so one `inf`
or subnormal scores gave r = 1.0; huge scores overflowed the sums of squares.
References: scipy.stats on the same values, or on the values multiplied by a
power of two (exact in floating point, and every statistic is invariant to
it), and direct O(n^2) pair counts for kendall_23 / acc23.
"""
import itertools
import math
import warnings

import numpy as np
import pytest
import scipy.stats

from correlation import (bootstrap_ci, compare_all, compare_metrics, correlate, human_ceiling,
                         kendall_tau, paired_bootstrap, pairwise_agreement, pearson,
                         permutation_test, preference_margin, preference_tie_calibration,
                         significance_clusters, spearman, tie_calibration)
from correlation._problem import Problem
from correlation._resample import draw_counts, jackknife_values, materialise, replicate_values
from correlation.warnings import NonFiniteScoreWarning

STATISTICS = ("kendall_b", "kendall_c", "kendall_23", "acc23", "spearman", "pearson")


def brute_23(m, h, which):
    """tau_eq or acc_eq (Deutsch et al. 2023) from every pair's signs."""
    agree = total = 0
    for i, j in itertools.combinations(range(len(m)), 2):
        sm, sh = np.sign(m[i] - m[j]), np.sign(h[i] - h[j])
        total += 1
        agree += sm == sh
    return (2 * agree - total) / total if which == "kendall_23" else agree / total


def scipy_statistic(stat, m, h):
    m, h = np.asarray(m, float), np.asarray(h, float)
    if stat in ("kendall_b", "kendall_c"):
        return scipy.stats.kendalltau(m, h, variant=stat[-1]).statistic
    if stat in ("kendall_23", "acc23"):
        return brute_23(m, h, stat)
    if stat == "spearman":
        return scipy.stats.spearmanr(m, h).statistic
    return scipy.stats.pearsonr(m, h).statistic


def base_data(seed=0, n=40):
    """Metric scores with ties, and 1-5 human ratings that follow them loosely."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    m = np.round(z + 0.6 * rng.normal(size=n), 1)
    h = np.clip(np.round(z + 3), 1, 5)
    return m, h


# Each case: (metric as given, the same scores times a power of two; a well-scaled reference).
def extreme_cases(seed=0):
    m, h = base_data(seed)
    rng = np.random.default_rng(seed + 100)
    mixed = np.sign(m) * 10.0 ** np.clip(60 * m, -300, 300)  # monotone in m, 1e-300 .. 1e300
    subnormal = np.ldexp(m, -1062)                            # ~1e-320: few significant bits
    return {
        "subnormal": (subnormal, np.ldexp(subnormal, 1062)),  # upscaling a subnormal is exact
        "huge": (np.ldexp(m, 1015), m),                       # ~1e305
        "tiny normal": (m * 2.0 ** -1000, m),
        "mixed scales": (mixed, mixed),
        "huge and tiny in one vector": (np.where(rng.random(m.size) < 0.5, m * 2.0 ** 1000,
                                                 m * 2.0 ** -1000),) * 2,
    }, h


CASES = list(extreme_cases()[0])


def test_pearson_of_an_infinite_score_drops_the_row_as_the_issue_reports():
    with pytest.warns(NonFiniteScoreWarning, match="1 infinite score"):
        r = pearson([np.inf, 1, 2, 3], [4, 3, 2, 1])
    assert r == pytest.approx(scipy.stats.pearsonr([1, 2, 3], [3, 2, 1]).statistic, abs=1e-12)
    assert r == pytest.approx(-1.0, abs=1e-12)


def test_pearson_of_subnormal_scores_as_the_issue_reports():
    x, y = [3e-320, 2e-320, 1e-320], [1, 2, 3]
    assert pearson(x, y) == pytest.approx(scipy.stats.pearsonr(x, y).statistic, abs=1e-12)
    assert pearson(x, y) == pytest.approx(-1.0, abs=1e-12)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("statistic", STATISTICS)
def test_flat_statistics_equal_scipy_on_extreme_scores(statistic, case):
    cases, h = extreme_cases()
    given, reference = cases[case]
    assert np.all(np.isfinite(given))
    want = scipy_statistic(statistic, reference, h)
    assert math.isfinite(want)
    got = correlate(given, h, statistic).value
    assert got == pytest.approx(want, abs=1e-12)
    # the human side may be extreme too
    got_both = correlate(given, np.ldexp(h, -1065), statistic).value
    assert got_both == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_direct_functions_equal_scipy_on_extreme_scores(case):
    cases, h = extreme_cases(1)
    given, reference = cases[case]
    assert pearson(given, h) == pytest.approx(scipy.stats.pearsonr(reference, h).statistic, abs=1e-12)
    assert spearman(given, h) == pytest.approx(scipy.stats.spearmanr(reference, h).statistic, abs=1e-12)
    for v in ("b", "c"):
        assert kendall_tau(given, h, v) == pytest.approx(
            scipy.stats.kendalltau(reference, h, variant=v).statistic, abs=1e-12)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("statistic", STATISTICS)
def test_item_and_system_levels_equal_scipy_on_extreme_scores(statistic, case):
    cases, h = extreme_cases(2)
    given, reference = cases[case]
    items = np.repeat(np.arange(8), 5)
    systems = np.tile(np.arange(10), 4)
    per_item = []
    for g in range(8):
        sel = items == g
        if statistic in ("kendall_23", "acc23") or (len(set(reference[sel])) > 1
                                                    and len(set(h[sel])) > 1):
            per_item.append(scipy_statistic(statistic, reference[sel], h[sel]))
    got = correlate(given, h, statistic, "item", items=items).value
    assert got == pytest.approx(np.mean(per_item), abs=1e-12)
    # system level: scipy on the per-system means (means of the rescaled values: exact
    # scaling, so the same ranking and r as the means of the given scores)
    scale = 2.0 ** -int(np.frexp(np.max(np.abs(reference)))[1])
    mx = [np.mean(reference[systems == s] * scale) for s in range(10)]
    my = [np.mean(h[systems == s]) for s in range(10)]
    got = correlate(given, h, statistic, "system", systems=systems).value
    assert got == pytest.approx(scipy_statistic(statistic, mx, my), abs=1e-9)


@pytest.mark.parametrize("case", ["subnormal", "huge", "tiny normal"])
@pytest.mark.parametrize("level,unit", [("flat", "rows"), ("flat", "items"), ("item", "items"),
                                        ("system", "both"), ("system", "systems")])
@pytest.mark.parametrize("statistic", STATISTICS)
def test_bootstrap_intervals_ignore_a_power_of_two_scale(statistic, level, unit, case):
    """Same draws (seed), every replicate invariant to the scale: the intervals of the scaled
    scores equal those of the well-scaled reference scores."""
    cases, h = extreme_cases(3)
    given, reference = cases[case]
    kw = dict(items=np.repeat(np.arange(8), 5), systems=np.tile(np.arange(10), 4), unit=unit,
              n_resamples=60, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for method in ("percentile", "bca"):
            got = bootstrap_ci(given, h, statistic, level, ci_method=method, **kw)
            want = bootstrap_ci(reference, h, statistic, level, ci_method=method, **kw)
            assert math.isfinite(want.ci_low) and math.isfinite(want.ci_high)
            assert (got.value, got.ci_low, got.ci_high) == pytest.approx(
                (want.value, want.ci_low, want.ci_high), abs=1e-9), method


@pytest.mark.parametrize("unit", ["rows", "items"])
@pytest.mark.parametrize("statistic", ["pearson", "spearman", "kendall_b"])
def test_bootstrap_replicates_of_mixed_scale_scores_equal_scipy_on_each_resample(statistic, unit):
    """Scores of very different sizes: resamples that miss the few large scores must still be
    computed from their own values (a global centring loses every digit there)."""
    rng = np.random.default_rng(5)
    h = rng.normal(size=40)
    m = h + rng.normal(size=40)
    m[:3] *= 1e12  # three outliers dominate the variance of the full vector
    items = np.repeat(np.arange(20), 2)
    prob = Problem([m], h, statistic, "flat", items=items)
    reps = replicate_values(prob, unit, 40, np.random.default_rng(6))[:, 0]
    sizes = (prob.n_units(unit),)
    counts = np.concatenate([c[0] for c in draw_counts(np.random.default_rng(6), sizes, 40, 100)])
    for r in range(40):
        idx, _, _ = materialise(prob, unit, (counts[r],))
        want = scipy_statistic(statistic, prob.X[idx, 0], prob.y[idx])
        assert reps[r] == pytest.approx(want, rel=1e-9, abs=1e-12), r


def test_jackknife_of_pearson_with_an_outlier_equals_scipy_leaving_each_row_out():
    rng = np.random.default_rng(7)
    h = rng.normal(size=30)
    m = h + rng.normal(size=30)
    m[4] = 1e12
    jk, _ = jackknife_values(Problem([m], h, "pearson"), "rows", np.random.default_rng(0))
    for i in range(30):
        want = scipy.stats.pearsonr(np.delete(m, i), np.delete(h, i)).statistic
        assert jk[i, 0] == pytest.approx(want, rel=1e-9, abs=1e-12), i


@pytest.mark.parametrize("case", ["subnormal", "huge"])
@pytest.mark.parametrize("statistic", ["kendall_c", "pearson", "spearman"])
def test_paired_tests_and_clusters_ignore_a_power_of_two_scale(statistic, case):
    cases, h = extreme_cases(8)
    given, reference = cases[case]
    other = np.round(reference[::-1] + h, 1)
    kw = dict(n_resamples=50, n_permutations=50, seed=9)
    got = compare_metrics(given, other, h, statistic, **kw)
    want = compare_metrics(reference, other, h, statistic, **kw)
    assert got.p_value == want.p_value
    assert (got.delta, got.ci_low, got.ci_high) == pytest.approx((want.delta, want.ci_low,
                                                                   want.ci_high), abs=1e-9)
    got_all, got_clusters = compare_all({"a": given, "b": other}, h, statistic, **kw)
    want_all, want_clusters = compare_all({"a": reference, "b": other}, h, statistic, **kw)
    assert got_all[0].p_value == want_all[0].p_value
    assert got_clusters.p_values == want_clusters.p_values


def test_tie_calibration_never_picks_an_infinite_epsilon():
    """|1e308 - (-1e308)| overflows: no finite epsilon ties that pair, so tying it is no option
    (it was chosen, as epsilon = inf, before)."""
    m, h = [-1e308, 1e308, 5.0], [1.0, 1.0, 1.0]
    got = tie_calibration(m, h)
    # epsilon = 1e308 ties the two pairs with the score 5.0; the third pair stays untied
    assert got == (1e308, pytest.approx(2 / 3))
    assert kendall_tau(m, h, "acc23", epsilon=got.epsilon) == pytest.approx(2 / 3)


def test_preference_margin_of_huge_finite_scores_keeps_its_side():
    margin = preference_margin([1e308, -1e308, 1.0], [-1e308, 1e308, 2.0])
    assert np.all(np.isfinite(margin)) and list(np.sign(margin)) == [1, -1, -1]
    r = correlate(margin, [1, -1, 1], "accuracy", "pair")
    assert r.value == pytest.approx(2 / 3) and r.n_nan == 0


# ---------------------------------------------------------------------------
# one rule: an infinite score is NaN (dropped pairwise), counted in n_nan, and said

def with_nan_and_inf(seed=10, n=30):
    rng = np.random.default_rng(seed)
    h = rng.normal(size=n)
    m = h + rng.normal(size=n)
    bad = [2, 11, 20]
    m_inf, m_nan = m.copy(), m.copy()
    m_inf[bad] = [np.inf, -np.inf, np.inf]
    m_nan[bad] = np.nan
    return m, m_inf, m_nan, h


@pytest.mark.parametrize("statistic", STATISTICS)
@pytest.mark.parametrize("level", ["flat", "item", "system"])
def test_correlate_and_bootstrap_treat_infinite_scores_as_nan(statistic, level):
    _, m_inf, m_nan, h = with_nan_and_inf()
    kw = dict(items=np.repeat(np.arange(10), 3), systems=np.tile(np.arange(5), 6))
    for ci in (None, "bca"):
        got = correlate(m_inf, h, statistic, level, ci_method=ci, n_resamples=40, **kw)
        want = correlate(m_nan, h, statistic, level, ci_method=ci, n_resamples=40, **kw)
        assert math.isfinite(got.value)
        assert (got.value, got.n, got.n_nan) == (want.value, want.n, want.n_nan) == (
            want.value, want.n, 3)
        np.testing.assert_equal((got.ci_low, got.ci_high), (want.ci_low, want.ci_high))
        assert "3 infinite scores (3 in metric) treated as NaN" in got.notes
        assert "infinite score" not in want.notes


def test_infinite_human_scores_are_treated_as_nan_too():
    m, _, _, h = with_nan_and_inf()
    h_inf, h_nan = h.copy(), h.copy()
    h_inf[5], h_nan[5] = -np.inf, np.nan
    got, want = correlate(m, h_inf, "pearson"), correlate(m, h_nan, "pearson")
    assert (got.value, got.n_nan) == (want.value, 1)
    assert "1 infinite score (1 in human)" in got.notes


def test_pair_level_treats_an_infinite_margin_as_nan():
    margin = np.array([0.5, np.inf, -0.2, 0.1, -np.inf])
    human = np.array([1, 1, -1, -1, 1])
    got = correlate(margin, human, "accuracy", "pair")
    assert got.value == pytest.approx(2 / 3) and got.n_nan == 2
    assert "2 infinite scores" in got.notes


def test_comparisons_and_clusters_treat_infinite_scores_as_nan():
    m, m_inf, m_nan, h = with_nan_and_inf()
    other = m[::-1].copy()
    kw = dict(seed=3)
    for fn, extra in ((paired_bootstrap, dict(n_resamples=40)),
                      (permutation_test, dict(n_permutations=40)),
                      (compare_metrics, dict(n_resamples=40, n_permutations=40))):
        got = fn(m_inf, other, h, "kendall_b", names=("x", "y"), **kw, **extra)
        want = fn(m_nan, other, h, "kendall_b", names=("x", "y"), **kw, **extra)
        np.testing.assert_equal((got.delta, got.ci_low, got.ci_high, got.p_value, got.n_nan),
                                (want.delta, want.ci_low, want.ci_high, want.p_value, 3))
        assert "3 infinite scores (3 in x)" in got.notes, fn.__name__
    results, clusters = compare_all({"x": m_inf, "y": other}, h, "pearson", n_resamples=40,
                                    n_permutations=40, **kw)
    want, _ = compare_all({"x": m_nan, "y": other}, h, "pearson", n_resamples=40,
                          n_permutations=40, **kw)
    assert (results[0].delta, results[0].n_nan) == (want[0].delta, 3)
    assert "infinite" in results[0].notes and "3 in x" in clusters.notes
    sig = significance_clusters({"x": m_inf, "y": other}, h, "pearson", n_permutations=40, **kw)
    assert "3 infinite scores (3 in x)" in sig.notes


@pytest.mark.parametrize("fn", [pearson, spearman, kendall_tau])
def test_direct_functions_warn_and_drop_infinite_scores(fn):
    _, m_inf, m_nan, h = with_nan_and_inf()
    with pytest.warns(NonFiniteScoreWarning, match="3 infinite scores"):
        got = fn(m_inf, h)
    assert got == fn(m_nan, h)


def test_tie_calibrations_warn_and_drop_infinite_scores():
    _, m_inf, m_nan, h = with_nan_and_inf()
    with pytest.warns(NonFiniteScoreWarning):
        got = tie_calibration(np.round(m_inf, 1), h)
    assert got == tie_calibration(np.round(m_nan, 1), h)
    with pytest.warns(NonFiniteScoreWarning):
        got = tie_calibration(np.round(m_inf, 1), h, items=np.repeat(np.arange(10), 3))
    assert got == tie_calibration(np.round(m_nan, 1), h, items=np.repeat(np.arange(10), 3))
    outcome = np.sign(np.round(h))
    with pytest.warns(NonFiniteScoreWarning):
        got = preference_tie_calibration(m_inf, outcome)
    assert got == preference_tie_calibration(m_nan, outcome)


def test_preference_functions_treat_infinite_scores_as_nan():
    a = np.array([1.0, np.inf, 0.2, 3.0])
    b = np.array([0.0, 1.0, 0.5, -np.inf])
    with pytest.warns(NonFiniteScoreWarning, match="2 infinite scores"):
        margin = preference_margin(a, b)
    assert np.isnan(margin[[1, 3]]).all() and list(margin[[0, 2]]) == pytest.approx([1.0, -0.3])
    with pytest.warns(NonFiniteScoreWarning):
        assert np.isnan(preference_margin(prob_b_better=[0.2, np.inf])[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFiniteScoreWarning)  # a result says it in its notes
        r = pairwise_agreement([1.0, np.inf, -0.3, -np.inf], [1, 1, -1, 1])
    assert (r.accuracy, r.n, r.n_nan) == (1.0, 2, 2)
    assert "2 infinite scores (2 in margin)" in r.notes


def test_human_ceiling_treats_infinite_ratings_as_missing():
    rng = np.random.default_rng(11)
    R = rng.integers(1, 5, size=(30, 3)).astype(float)
    R_inf, R_nan = R.copy(), R.copy()
    R_inf[3, 1], R_nan[3, 1] = np.inf, np.nan
    got, want = human_ceiling(R_inf, "kendall_c"), human_ceiling(R_nan, "kendall_c")
    assert got.value == want.value
    assert "1 infinite rating treated as missing" in got.notes


def test_epsilon_ties_between_huge_scores_hand_worked():
    """Differences beyond the largest float overflow to inf: such a pair is never a tie."""
    m = [-1.7e308, 1.7e308, 0.0, 1e308, -1e308]
    h = [1.0, 2.0, 3.0, 4.0, 5.0]
    # epsilon 1e308: pairs (0,4) (1,3) (2,3) (2,4) tie; concordant (0,1) (0,2) (0,3);
    # discordant (1,2) (1,4) (3,4): tau_eq = (3 - 3 - 4) / 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kendall_tau(m, h, "23", epsilon=1e308) == pytest.approx(-0.4)
        # epsilon 1.5e308 ties the same four; acc_eq = 3 concordant / 10
        assert kendall_tau(m, h, "acc23", epsilon=1.5e308) == pytest.approx(0.3)
        items = [0, 0, 0, 0, 0]
        assert correlate(m, h, "kendall_23", "item", items=items, epsilon=1e308).value == \
            pytest.approx(-0.4)
