"""Cohen's kappa on three-way decisions and Krippendorff's alpha."""
import numpy as np
import pytest

from correlation import preference_kappa
from correlation.agreement_kappa import cohen_kappa
from correlation.inter_annotator import krippendorff_alpha, krippendorff_alpha_ci
from correlation.warnings import UndefinedCorrelationWarning


def test_kappa_hand_worked():
    # metric (1,1,1,0,-1,-1) vs human (1,1,0,0,-1,1): agree on 4 of 6, p_o = 24/36;
    # marginals metric 3/1/2, human 3/2/1 -> p_e = (9 + 2 + 2)/36 = 13/36;
    # kappa = (24 - 13)/(36 - 13) = 11/23
    margin = np.array([0.4, 0.2, 0.1, 0.0, -0.3, -0.2])
    human = np.array([1, 1, 0, 0, -1, 1])
    assert cohen_kappa(np.sign(margin), human) == pytest.approx(11 / 23)
    r = preference_kappa(margin, human, n_resamples=200, ci_method="percentile")
    assert r.value == pytest.approx(11 / 23)
    assert r.statistic == "kappa" and r.n == 6
    assert r.ci_low <= r.value <= r.ci_high


def test_kappa_epsilon_turns_small_margins_into_ties():
    # with epsilon 0.15 the margin 0.1 becomes a tie: agree on 5 of 6 (p_o = 30/36);
    # marginals metric 2/2/2, human 3/2/1 -> p_e = (6 + 4 + 2)/36 = 12/36; kappa = 18/24
    margin = np.array([0.4, 0.2, 0.1, 0.0, -0.3, -0.2])
    human = np.array([1, 1, 0, 0, -1, 1])
    r = preference_kappa(margin, human, epsilon=0.15, n_resamples=50)
    assert r.value == pytest.approx(0.75)


def test_kappa_far_below_accuracy_when_one_side_dominates():
    # the human prefers A in 90 of 100 pairs; a metric that always says A is 90 % accurate
    # but agrees no better than chance: kappa 0
    human = np.r_[np.ones(90), -np.ones(10)]
    r = preference_kappa(np.ones(100), human, n_resamples=100)
    assert r.value == pytest.approx(0.0)


def test_kappa_pairs_resampled_together_and_nan_dropped():
    human = np.array([1, 1, -1, -1, 0, 0, 1, -1])
    margin = np.array([1, 1, -1, -1, 0, 0, np.nan, 1.0])
    items = np.array(["p1", "p1", "p2", "p2", "p3", "p3", "p4", "p5"])
    r = preference_kappa(margin, human, items=items, n_resamples=100)
    assert r.n_nan == 1 and r.n == 7 and r.unit == "pairs"
    # 6 of 7 agree; metric 3/2/2 (A/tie/B), human 2/2/3 -> p_e = (6+4+6)/49 = 16/49
    assert r.value == pytest.approx((42 - 16) / (49 - 16))


def _kappa_of_rows(a, b) -> float:
    """Cohen's kappa by its definition on the rows themselves (the reference)."""
    labels = np.unique(np.concatenate([a, b]))
    p_o = float(np.mean(a == b))
    p_e = sum(float(np.sum(a == k)) * float(np.sum(b == k)) for k in labels) / a.size ** 2
    return (p_o - p_e) / (1 - p_e)


def test_kappa_replicates_equal_kappa_on_the_drawn_rows():
    """A replicate's kappa (summed per-pair tables) is, bit for bit, the kappa of the rows
    it draws (each pair's judgments, as many times as the pair is drawn)."""
    from correlation._unit_bootstrap import unit_bootstrap

    rng = np.random.default_rng(3)
    pairs = np.repeat(np.arange(40), rng.integers(1, 6, 40))
    margin = np.round(rng.normal(0.1, 1, pairs.size), 1)
    human = rng.choice([-1, 0, 1], pairs.size, p=[0.35, 0.2, 0.45])
    decision = np.where(np.abs(margin) <= 0.2, 0, np.sign(margin))
    rows_of = [np.flatnonzero(pairs == u) for u in range(40)]

    def reference(idx):
        rows = np.concatenate([rows_of[u] for u in idx])
        return _kappa_of_rows(decision[rows], human[rows])

    want = unit_bootstrap(reference, 40, n_resamples=300, seed=5, unit_name="pairs")
    got = preference_kappa(margin, human, items=pairs, epsilon=0.2, n_resamples=300, seed=5)
    assert (got.value, got.ci_low, got.ci_high) == want[:3]
    assert len({got.value, got.ci_low, got.ci_high}) == 3


def test_kappa_without_any_scored_pair_is_undefined_not_an_error():
    with pytest.warns(UndefinedCorrelationWarning):
        r = preference_kappa([np.nan, np.nan], [1, -1], items=["p1", "p2"], n_resamples=20)
    assert np.isnan(r.value) and r.n_nan == 2 and r.n == 0


def test_kappa_undefined_when_both_always_agree_on_one_decision():
    with pytest.warns(UndefinedCorrelationWarning):
        assert np.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))


@pytest.mark.parametrize("level", ["interval", "ordinal"])
def test_alpha_matches_krippendorff_package(level):
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(3)
    for _ in range(4):
        R = rng.integers(1, 6, size=(50, 4)).astype(float)
        R[:, 1] = np.clip(R[:, 0] + rng.integers(-1, 2, 50), 1, 5)
        R[rng.random(R.shape) < 0.25] = np.nan
        expected = krippendorff.alpha(reliability_data=R.T, level_of_measurement=level)
        assert krippendorff_alpha(R, level) == pytest.approx(expected, abs=1e-12)


def test_alpha_ordinal_ignores_the_spacing_of_values_interval_does_not():
    R = np.array([[1, 2], [2, 2], [3, 4], [4, 4], [1, 1], [2, 3]], dtype=float)
    stretched = np.where(R == 4, 40.0, R)
    ordinal, interval = (krippendorff_alpha(R, level) for level in ("ordinal", "interval"))
    assert krippendorff_alpha(stretched, "ordinal") == pytest.approx(ordinal)
    assert krippendorff_alpha(stretched, "interval") != pytest.approx(interval)


def test_alpha_hand_worked_interval():
    # two annotators, units (1,1), (2,3): pairable values 1,1,2,3, n = 4
    # observed: o_11 = 2, o_23 = o_32 = 1 -> sum o d2 = 2 * 1 = 2
    # expected: n_1 = 2, n_2 = 1, n_3 = 1 -> sum n_c n_k d2 = 2*(2*1*1 + 2*1*4 + 1*1*1) = 22
    # alpha = 1 - 3 * 2 / 22
    R = np.array([[1, 1], [2, 3], [4, np.nan]])
    assert krippendorff_alpha(R, "interval") == pytest.approx(1 - 6 / 22)
    r = krippendorff_alpha_ci(R, "interval", n_resamples=50, ci_method="percentile")
    assert r.statistic == "krippendorff_interval" and r.n == 2 and r.n_dropped == 1


def test_alpha_interval_covers_the_estimate():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=200)
    # ratings on a 0.1 grid: continuous ones would make 600 distinct values, and the
    # interval alpha's work grows with their square
    R = np.round(np.column_stack([truth + rng.normal(scale=0.5, size=200) for _ in range(3)]), 1)
    r = krippendorff_alpha_ci(R, "interval", n_resamples=300)
    assert 0.6 < r.value < 0.9
    assert r.ci_low < r.value < r.ci_high


def test_alpha_undefined_for_a_single_value():
    with pytest.warns(UndefinedCorrelationWarning):
        assert np.isnan(krippendorff_alpha(np.ones((4, 3)), "interval"))
    with pytest.raises(ValueError, match="level of measurement"):
        krippendorff_alpha(np.ones((4, 3)), "nominal")
