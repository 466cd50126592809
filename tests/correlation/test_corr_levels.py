"""Levels (flat, item, system, pair) against small examples worked by hand."""
import math

import numpy as np
import pytest

from correlation import CorrelationResult, UndefinedCorrelationWarning, correlate


def test_flat_hand_example():
    # m = 1 2 3 4, h = 1 3 2 4: of the 6 pairs only (2,3) is discordant -> C = 5, D = 1,
    # no ties: tau_b = (5 - 1) / 6 = 2/3
    r = correlate([1, 2, 3, 4], [1, 3, 2, 4], "kendall_b")
    assert r.value == pytest.approx(2 / 3)
    assert (r.level, r.n, r.n_nan, r.n_dropped) == ("flat", 4, 0, 0)


def test_item_level_hand_example_drops_undefined_items():
    items = ["a", "a", "a", "b", "b", "b", "c", "c"]
    m = [1, 2, 3, 3, 1, 2, 5, 5]
    h = [1, 2, 3, 1, 2, 3, 1, 2]
    # item a: perfectly concordant -> tau_b = 1
    # item b: m (3,1,2) vs h (1,2,3): pairs (3,1)/(1,2) D, (3,2)/(1,3) D, (1,2)/(2,3) C
    #         -> tau_b = (1 - 2) / 3 = -1/3
    # item c: constant metric -> undefined, dropped
    # item level = mean(1, -1/3) = 1/3 over 6 rows of 2 items, 1 item dropped
    r = correlate(m, h, "kendall_b", "item", items=items)
    assert r.value == pytest.approx(1 / 3)
    assert (r.n, r.n_groups, r.n_dropped) == (6, 2, 1)


def test_system_level_hand_example():
    systems = ["s1", "s1", "s2", "s2", "s3", "s3"]
    m = [1, 3, 4, 4, 0, 2]
    h = [2, 2, 1, 5, 4, 4]
    # system means: m = (2, 4, 1), h = (2, 3, 4)
    # Kendall over systems: (s1,s2) C, (s1,s3) D, (s2,s3) D -> (1 - 2) / 3 = -1/3
    r = correlate(m, h, "kendall_b", "system", systems=systems)
    assert r.value == pytest.approx(-1 / 3)
    assert (r.n, r.n_groups) == (3, 3)
    # Pearson over the means: deviations m (-1/3, 5/3, -4/3), h (-1, 0, 1):
    # cov sum = 1/3 - 4/3 = -1; sum dm^2 = 42/9, sum dh^2 = 2 -> r = -1 / sqrt(28/3)
    r = correlate(m, h, "pearson", "system", systems=systems)
    assert r.value == pytest.approx(-1 / math.sqrt(28 / 3))


def test_pair_level_hand_example():
    human = [1, -1, 0, 1, -1]
    margin = [0.5, -0.2, 0.0, 0.0, 0.3]   # > 0: the metric prefers A
    # metric outcomes (1, -1, 0, 0, 1); decisive pairs 0, 1, 3, 4: right, right, tie (wrong), wrong
    assert correlate(margin, human, "accuracy", "pair").value == pytest.approx(2 / 4)
    assert correlate(margin, human, "tau_like", "pair").value == pytest.approx((2 - 2) / 4)
    # acc23 over all 5: pairs 0, 1 and the tie-tie pair 2 agree
    assert correlate(margin, human, "acc23", "pair").value == pytest.approx(3 / 5)
    # epsilon = 0.25 turns the -0.2 margin into a tie: outcomes (1, 0, 0, 0, 1)
    assert correlate(margin, human, "accuracy", "pair", epsilon=0.25).value == pytest.approx(1 / 4)
    assert correlate(margin, human, "acc23", "pair", epsilon=0.25).value == pytest.approx(2 / 5)


def test_nan_rows_counted():
    r = correlate([1, 2, np.nan, 4, 5], [1, 3, 2, np.nan, 4], "kendall_b")
    assert (r.n, r.n_nan) == (3, 2)


def test_all_items_undefined_warns_and_returns_nan():
    with pytest.warns(UndefinedCorrelationWarning, match="every item"):
        r = correlate([1, 2, 3, 4], [1, 1, 2, 2], "kendall_b", "item", items=[0, 0, 1, 1])
    assert math.isnan(r.value) and r.n_dropped == 2


def test_level_needs_labels_and_lengths():
    with pytest.raises(ValueError, match="items="):
        correlate([1, 2], [1, 2], "pearson", "item")
    with pytest.raises(ValueError, match="systems="):
        correlate([1, 2], [1, 2], "pearson", "system")
    with pytest.raises(ValueError, match=r"items has 3 values but the scores have 2"):
        correlate([1, 2], [1, 2], "pearson", "item", items=[1, 2, 3])
    with pytest.raises(ValueError, match=r"metric has 2.*human has 3"):
        correlate([1, 2], [1, 2, 3], "pearson")
    with pytest.raises(ValueError, match="level"):
        correlate([1, 2], [1, 2], "pearson", "segment")
    with pytest.raises(ValueError, match="pair"):
        correlate([1, 2], [1, -1], "pearson", "pair")
    with pytest.raises(ValueError, match=r"\+1 \(A better\)"):
        correlate([1, 2], [1, 2], "accuracy", "pair")


def test_result_is_json_friendly():
    import json

    r = correlate([1, 2, 3], [1, 2, 3], "kendall_c")
    d = r.to_dict()
    assert isinstance(r, CorrelationResult)
    assert d["value"] == pytest.approx(1.0) and d["ci_low"] is None
    json.dumps(d, allow_nan=False)
