"""Pairwise preferences, hand-worked: the metric's margin first, the human outcomes second."""
import math

import numpy as np
import pytest

from correlation import (UndefinedCorrelationWarning, bootstrap_ci, pairwise_agreement,
                         preference_margin, preference_tie_calibration)


def test_hand_worked_scores():
    human = [1, -1, 0, 1, -1, 1]
    a = [0.9, 0.1, 0.5, 0.4, 0.7, 0.2]
    b = [0.2, 0.3, 0.5, 0.4, 0.6, 0.8]
    # metric outcomes: +1 (0.9 > 0.2), -1, 0 (tie), 0 (tie), +1, -1
    # decisive pairs 0, 1, 3, 4, 5: right, right, tie (wrong), wrong, wrong -> accuracy 2/5
    # tau_like = (2 - 3) / 5; acc23 over all 6: pairs 0, 1 and the tie-tie pair 2 -> 3/6
    r = pairwise_agreement(preference_margin(a, b), human)
    assert r.accuracy == pytest.approx(2 / 5)
    assert r.tau_like == pytest.approx(-1 / 5)
    assert r.acc23 == pytest.approx(3 / 6)
    assert (r.n, r.n_decisive, r.n_human_ties, r.n_metric_ties) == (6, 5, 1, 1)


def test_probability_input():
    # p(B better) > 0.5 prefers B; 0.5 is a tie
    human = [1, -1, 0, -1]
    p = [0.2, 0.9, 0.5, 0.5]
    # outcomes +1, -1, 0, 0 -> decisive 0, 1, 3: right, right, tie -> 2/3; acc23: 3/4
    r = pairwise_agreement(preference_margin(prob_b_better=p), human)
    assert (r.accuracy, r.acc23) == (pytest.approx(2 / 3), pytest.approx(3 / 4))
    assert preference_margin(prob_b_better=p) == pytest.approx([0.3, -0.4, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        preference_margin(prob_b_better=[1.2])
    with pytest.raises(ValueError, match="not both"):
        preference_margin([1], [2], prob_b_better=[0.5])


def test_end_to_end_with_a_missing_outcome():
    outcomes = [1, -1, 0, np.nan]  # human better, machine better, a tie, no verdict
    human_reason_score = [0.8, 0.3, 0.5, 0.9]
    machine_reason_score = [0.6, 0.4, 0.5, 0.1]
    r = pairwise_agreement(preference_margin(human_reason_score, machine_reason_score), outcomes)
    # pair 0: human better, metric agrees; pair 1: machine better, metric agrees; pair 2: tie-tie
    assert (r.accuracy, r.acc23, r.n, r.n_nan) == (1.0, 1.0, 3, 1)


def test_no_decisive_pairs_warn():
    with pytest.warns(UndefinedCorrelationWarning, match="decisive"):
        r = pairwise_agreement(preference_margin([1, 2], [2, 1]), [0, 0])
    assert math.isnan(r.accuracy) and r.acc23 == 0


def test_tie_calibration_for_preferences_is_exact():
    rng = np.random.default_rng(0)
    human = rng.choice([-1, 0, 1], size=80)
    margin = np.round(rng.normal(size=80) + 0.5 * human, 1)
    eps, acc = preference_tie_calibration(margin, human)

    def acc23(e):
        o = np.sign(margin) * (np.abs(margin) > e)
        return np.mean(o == human)

    assert acc == pytest.approx(acc23(eps))
    grid = np.unique(np.r_[np.abs(margin), np.linspace(0, 3, 301)])
    assert acc >= max(acc23(e) for e in grid) - 1e-12


def test_pair_level_bootstrap():
    rng = np.random.default_rng(1)
    human = rng.choice([-1, 1], size=300)
    margin = human * rng.normal(0.5, 1, 300)
    r = bootstrap_ci(margin, human, "accuracy", "pair")
    assert r.ci_low < r.value < r.ci_high and r.level == "pair"


def test_human_outcomes_first_is_an_error_not_a_number():
    """The old order (human first) must not pass silently: margins are no outcomes."""
    with pytest.raises(ValueError, match="human outcomes must be"):
        pairwise_agreement([1, -1, 0], [0.3, -0.2, 0.7])
