"""correlation.power: simulated power against exact and published closed forms.

Simulations estimate a probability with Monte-Carlo error; each check allows
four standard errors (of the simulation), plus, where the closed form is
itself an approximation (a normal approximation, a bootstrap interval against
an exact test), a stated margin.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from correlation.power import (_minlike_rejects, binomial_test_power, correlation_difference_power,
                               default_sizes, detectable_share, minimum_detectable_difference,
                               power_metric_vs_metric, power_metric_vs_value, power_verdicts,
                               sign_test_power, sign_test_size, smallest_size)


def _within(curve, expected, margin=0.0):
    for p, se, e in zip(curve.power, curve.mc_se, expected):
        assert abs(p - e) <= 4 * max(se, 0.005) + margin, (curve.power, expected)


def _paired_outcomes(n, p_a, p_b_only, seed):
    """Pair-level outcomes of two metrics on n decisive pairs: a right with probability
    p_a; b right where a is, except a share; and right alone with probability p_b_only."""
    rng = np.random.default_rng(seed)
    human = rng.choice([1.0, -1.0], n)
    u = rng.random(n)
    right_a = u < p_a
    right_b = (u < p_a - 0.1) | ((u >= p_a) & (u < p_a + p_b_only))
    return np.where(right_a, human, -human), np.where(right_b, human, -human), human, right_a, right_b


# -- closed forms against scipy and brute force --------------------------------------------

@pytest.mark.parametrize("k, p0", [(20, 0.5), (37, 0.3), (50, 0.65)])
def test_binomial_rejection_region_is_scipys(k, p0):
    expected = [stats.binomtest(x, k, p0).pvalue <= 0.05 for x in range(k + 1)]
    assert _minlike_rejects(k, p0, 0.05).tolist() == expected


def test_binomial_power_sums_the_rejected_outcomes():
    n, p = 30, 0.7
    brute = sum(stats.binom.pmf(x, n, p) for x in range(n + 1)
                if stats.binomtest(x, n, 0.5).pvalue <= 0.05)
    assert binomial_test_power(n, p) == pytest.approx(brute, abs=1e-12)


def test_sign_test_power_by_enumerating_every_study():
    # n = 7 units, each +, - or tied: sum the probability of every outcome sequence
    # whose exact binomial test on the untied units rejects.
    n, p_plus, p_minus = 7, 0.5, 0.15
    brute = 0.0
    for seq in itertools.product((1, -1, 0), repeat=n):
        plus, minus = seq.count(1), seq.count(-1)
        prob = p_plus ** plus * p_minus ** minus * (1 - p_plus - p_minus) ** (n - plus - minus)
        if plus + minus and stats.binomtest(plus, plus + minus, 0.5).pvalue <= 0.05:
            brute += prob
    assert sign_test_power(n, p_plus, p_minus) == pytest.approx(brute, abs=1e-12)


def test_monte_carlo_permutation_version_is_close_to_the_exact_test():
    exact = sign_test_power(300, 0.12, 0.06)
    mc = sign_test_power(300, 0.12, 0.06, n_permutations=1000)
    assert abs(mc - exact) < 0.02 and mc != exact


def test_minimum_detectable_difference_is_2_8_standard_errors():
    # z_0.975 + z_0.8 = 1.959964 + 0.841621 (Cohen 1988)
    assert minimum_detectable_difference(0.01) == pytest.approx(0.02801585, abs=1e-7)
    assert minimum_detectable_difference(1.0, alpha=0.01, power=0.9) == pytest.approx(
        stats.norm.ppf(0.995) + stats.norm.ppf(0.9), abs=1e-12)


def test_fisher_z_power_by_hand():
    # Meng, Rosenthal & Rubin (1992) with r_a = .3, r_b = .1, r_ab = 0, n = 200:
    # rbar^2 = .05, f = 1 / (2 x .95), h = (1 - f x .05) / .95, var = 2 h / 197.
    z = stats.norm.ppf(0.975)
    f = 1 / (2 * 0.95)
    h = (1 - f * 0.05) / 0.95
    d = (math.atanh(0.3) - math.atanh(0.1)) / math.sqrt(2 * h / 197)
    expected = stats.norm.cdf(d - z) + stats.norm.cdf(-d - z)
    assert correlation_difference_power(200, 0.3, 0.1, 0.0) == pytest.approx(expected, abs=1e-12)


# -- simulation against the closed forms ---------------------------------------------------

def test_permutation_test_power_matches_mcnemar():
    a, b, human, right_a, right_b = _paired_outcomes(3000, 0.7, 0.04, seed=1)
    p_a_only = np.mean(right_a & ~right_b)
    p_b_only = np.mean(~right_a & right_b)
    sizes = [100, 300, 700]
    curve = power_metric_vs_metric(a, b, human, "accuracy", "pair", sizes=sizes,
                                   n_simulations=1500, n_permutations=500, seed=0)
    expected = [sign_test_power(n, p_a_only, p_b_only, n_permutations=500) for n in sizes]
    _within(curve, expected)
    assert curve.power[0] < 0.5 < curve.power[-1]


def test_permutation_test_power_matches_the_sign_test_with_several_judgments_per_pair():
    # Two annotators per pair who always agree: the pair is the unit, and the permutation
    # test swaps whole pairs, so the power is that of the sign test on pairs.
    a, b, human, right_a, right_b = _paired_outcomes(1500, 0.7, 0.04, seed=2)
    pairs = np.repeat(np.arange(a.size), 2)
    p_a_only = np.mean(right_a & ~right_b)
    p_b_only = np.mean(~right_a & right_b)
    sizes = [150, 400]
    curve = power_metric_vs_metric(a[pairs], b[pairs], human[pairs], "accuracy", "pair",
                                   items=pairs, sizes=sizes, n_simulations=1500,
                                   n_permutations=500, permutation_unit="items", seed=3)
    assert curve.unit == "items" and curve.pilot_units == 1500
    _within(curve, [sign_test_power(n, p_a_only, p_b_only, n_permutations=500) for n in sizes])


def test_pair_level_batched_draws_match_the_engines_on_a_materialised_study():
    # Swapping rows one by one inside resampled pairs: the batched draws have the
    # distribution of the engine's own permutation test of the materialised study.
    from correlation.levels import Problem
    from correlation.power import _MaterialisedPermutation, _PairPermutation

    a, b, human, _, _ = _paired_outcomes(200, 0.7, 0.1, seed=5)
    items = np.arange(200) // 2
    prob = Problem([a, b], human, "accuracy", "pair", items)
    C = np.random.default_rng(0).multinomial(100, np.full(100, 0.01), size=1)
    fast = _PairPermutation(prob, items, 100, rows_swap=True).deltas(C, 20000, np.random.default_rng(1))
    slow = _MaterialisedPermutation(prob, "items", "rows", False).deltas(C, 20000,
                                                                        np.random.default_rng(2))
    assert fast[0, 0] == pytest.approx(slow[0, 0], abs=1e-12)
    for q in (0.5, 0.9, 0.99):
        assert np.quantile(np.abs(fast[0, 1:]), q) == pytest.approx(np.quantile(np.abs(slow[0, 1:]), q),
                                                                   abs=0.011)


def test_binomial_test_simulation_matches_the_exact_power():
    a, _, human, right_a, _ = _paired_outcomes(4000, 0.6, 0.04, seed=4)
    sizes = [50, 150, 400]
    curve = power_metric_vs_value(a, human, "accuracy", "pair", value=0.5, test="binomial",
                                  sizes=sizes, n_simulations=2000, seed=0)
    _within(curve, [binomial_test_power(n, right_a.mean(), 0.5) for n in sizes])


@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_bootstrap_interval_power_is_close_to_the_binomial_tests(method):
    # The interval is a large-sample test: within 0.06 of the exact test's power.
    a, _, human, right_a, _ = _paired_outcomes(4000, 0.6, 0.04, seed=4)
    sizes = [150, 400]
    curve = power_metric_vs_value(a, human, "accuracy", "pair", value=0.5, ci_method=method,
                                  n_resamples=400, sizes=sizes, n_simulations=600, seed=1)
    _within(curve, [binomial_test_power(n, right_a.mean(), 0.5) for n in sizes], margin=0.06)


def test_verdict_power_matches_the_sign_test():
    # The paper's shares: 223 human, 91 machine, 58 ties out of 372 pairs.
    human = np.array([1] * 223 + [0] * 149)
    machine = np.array([0] * 223 + [1] * 91 + [0] * 58)
    sizes = [20, 40, 80]
    curve = power_verdicts(human, machine, sizes=sizes, n_simulations=3000, seed=0)
    _within(curve, [sign_test_power(n, 223 / 372, 91 / 372) for n in sizes])
    assert curve.pilot_effect == pytest.approx(223 / 314 - 0.5)


def _normal_pilot(n, r_a, r_b, r_ab, seed):
    cov = np.array([[1, r_ab, r_a], [r_ab, 1, r_b], [r_a, r_b, 1]])
    return np.random.default_rng(seed).multivariate_normal(np.zeros(3), cov, size=n).T


@pytest.mark.parametrize("statistic, to_stat", [
    ("pearson", lambda r: r),
    ("spearman", lambda r: 6 / math.pi * math.asin(r / 2)),
    ("kendall_b", lambda r: 2 / math.pi * math.asin(r)),
])
def test_correlation_difference_power_matches_the_normal_theory(statistic, to_stat):
    # Bivariate normal pilot, large enough to stand for the population; the closed form
    # is an approximation (Meng et al. 1992; Bonett & Wright 2000): margin 0.06.
    a, b, y = _normal_pilot(6000, 0.5, 0.35, 0.6, seed=5)
    curve = power_metric_vs_metric(a, b, y, statistic, sizes=[120], n_simulations=300,
                                   n_permutations=100, seed=0)
    expected = correlation_difference_power(120, to_stat(0.5), to_stat(0.35), to_stat(0.6),
                                            statistic)
    assert 0.3 < expected < 0.7
    _within(curve, [expected], margin=0.06)


@pytest.mark.slow
def test_exchangeable_metrics_reject_at_most_alpha():
    # A pilot where the metrics are exchangeable (every row also appears with a and b
    # swapped, so both have the same tau): the rejection rate is the test's size, whatever
    # the study's size (60 items: 180 rows).
    a, b, y = _normal_pilot(1500, 0.5, 0.5, 0.6, seed=6)
    a, b, y = np.r_[a, b], np.r_[b, a], np.r_[y, y]
    curve = power_metric_vs_metric(a, b, y, "kendall_c", items=np.arange(3000) // 3,
                                   sizes=[60], n_simulations=400, n_permutations=100, seed=2)
    assert curve.pilot_effect == pytest.approx(0.0, abs=1e-12)
    assert curve.unit == "items"
    assert curve.power[0] <= 0.05 + 4 * math.sqrt(0.05 * 0.95 / 400)


def test_item_level_batched_path_agrees_with_materialising_each_study():
    from correlation.levels import Problem
    from correlation.power import _ItemPermutation, _MaterialisedPermutation

    a, b, y = _normal_pilot(600, 0.5, 0.3, 0.5, seed=7)
    items = np.arange(600) // 6
    prob = Problem([a, b], y, "pearson", "item", items)
    C = np.random.default_rng(0).multinomial(100, np.full(100, 0.01), size=3)
    fast = _ItemPermutation(prob, 100).deltas(C, 1, np.random.default_rng(1))
    slow = _MaterialisedPermutation(prob, "items", "items", True).deltas(C, 1,
                                                                        np.random.default_rng(1))
    np.testing.assert_allclose(fast[:, 0], slow[:, 0], atol=1e-12)


def test_flat_batched_observed_values_equal_the_engines_on_the_materialised_study():
    from correlation import kendall_tau, pearson, spearman
    from correlation._resample import materialise
    from correlation.levels import Problem
    from correlation.power import _FlatPermutation

    a, b, y_cont = _normal_pilot(300, 0.5, 0.3, 0.5, seed=8)
    items = np.arange(300) // 3
    # rounded human scores: ties, and rows equal in both scores (merged); continuous: none;
    # a study drawing 80 of 100 items (compact rows) and one drawing 300 (all rows)
    for y in (np.round(y_cont), y_cont):
        for size in (80, 300):
            C = np.random.default_rng(size).multinomial(size, np.full(100, 0.01), size=2)
            for statistic, f in (("kendall_c", lambda x, h: kendall_tau(x, h, variant="c")),
                                 ("pearson", pearson), ("spearman", spearman)):
                prob = Problem([a, b], y, statistic, "flat", items)
                got = _FlatPermutation(prob, items, "items", "rows", True).deltas(
                    C, 0, np.random.default_rng(0))
                for s in range(2):
                    idx, _, _ = materialise(prob, "items", (C[s],))
                    assert got[s, 0] == pytest.approx(f(a[idx], y[idx]) - f(b[idx], y[idx]),
                                                      abs=1e-12)


# -- bookkeeping -------------------------------------------------------------------------------

def test_smallest_size_needs_every_larger_size_to_reach_the_target():
    assert smallest_size([10, 20, 40, 80], [0.5, 0.81, 0.79, 0.9], 0.8) == 80
    assert smallest_size([10, 20, 40], [0.85, 0.9, 0.95], 0.8) == 10
    assert smallest_size([10, 20], [0.5, 0.7], 0.8) is None


def test_same_seed_same_curve_and_rows():
    a, b, human, _, _ = _paired_outcomes(500, 0.7, 0.04, seed=9)
    one = power_metric_vs_metric(a, b, human, "accuracy", "pair", sizes=[50, 100],
                                 n_simulations=200, n_permutations=100, seed=4)
    two = power_metric_vs_metric(a, b, human, "accuracy", "pair", sizes=[50, 100],
                                 n_simulations=200, n_permutations=100, seed=4)
    assert one == two
    assert one.rows()[1]["n"] == 100 and one.rows()[1]["power"] == one.power[1]


def test_default_sizes_span_a_tenth_to_five_times_the_pilot():
    sizes = default_sizes(1000)
    assert sizes[0] == 100 and sizes[-1] == 5000 and len(sizes) == 20


@pytest.mark.parametrize("kwargs, message", [
    (dict(sizes=[50, 20]), "increasing"),
    (dict(sizes=[50], n_simulations=0), "n_simulations"),
    (dict(sizes=[50], alpha=1.5), "alpha"),
])
def test_bad_settings_are_errors(kwargs, message):
    a, b, human, _, _ = _paired_outcomes(100, 0.7, 0.04, seed=0)
    with pytest.raises(ValueError, match=message):
        power_metric_vs_metric(a, b, human, "accuracy", "pair", **kwargs)


def test_bca_without_an_exact_jackknife_is_an_error_not_a_silent_switch():
    a, _, y = _normal_pilot(200, 0.5, 0.3, 0.5, seed=0)
    with pytest.raises(ValueError, match="percentile"):
        power_metric_vs_value(a, y, "kendall_c", value=0.0, sizes=[50], n_simulations=10)


def test_binomial_test_refuses_several_judgments_per_unit():
    a, _, human, _, _ = _paired_outcomes(100, 0.7, 0.04, seed=0)
    items = np.arange(100) // 2
    with pytest.raises(ValueError, match="one judgment per unit"):
        power_metric_vs_value(a, human, "accuracy", "pair", items, value=0.5, test="binomial",
                              sizes=[20], n_simulations=10)


def test_sign_test_size_is_where_the_power_stays_above_the_target():
    n = sign_test_size(0.6, 0.25)
    assert sign_test_power(n, 0.6, 0.25) >= 0.8
    assert all(sign_test_power(m, 0.6, 0.25) >= 0.8 for m in range(n, int(n * 1.25)))
    assert sign_test_power(n - 1, 0.6, 0.25) < 0.8
    assert sign_test_size(0.3, 0.3) is None


def test_detectable_share_reaches_the_power_just_there():
    p = detectable_share(314)
    assert binomial_test_power(314, p) >= 0.8 > binomial_test_power(314, p - 1e-3)
    assert math.isnan(detectable_share(3))   # 3 verdicts cannot reach p <= 0.05
