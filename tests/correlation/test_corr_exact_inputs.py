"""Inputs taken as given: integers float64 cannot hold are refused, not rounded into
ties; labels of different types (the number 1, the text "1") are different labels.

Issue 18, "nothing merged": distinct integer scores above 2**53 gave NaN ("constant")
where the integers' exact ranks give -1; items 1 and "1" were one item.
"""
import numpy as np
import pytest
import scipy.stats

from correlation import correlate, kendall_tau

BIG = 2 ** 60


@pytest.mark.parametrize("as_array", [False, True])
def test_distinct_integers_above_2_53_are_refused_not_tied(as_array):
    metric = [BIG + k for k in range(5)]          # distinct, but one float64 value
    human = [5.0, 4.0, 3.0, 2.0, 1.0]
    assert len({float(v) for v in metric}) == 1
    # ranked as integers (exact) they disagree perfectly with the human scores
    ranks = scipy.stats.rankdata(np.array(metric, dtype=np.int64))
    assert scipy.stats.kendalltau(ranks, human).statistic == pytest.approx(-1.0)
    given = np.array(metric, dtype=np.int64) if as_array else metric
    with pytest.raises(ValueError, match=r"metric\[1\] is the integer 1152921504606846977, "
                                         r"which float64 cannot hold exactly"):
        correlate(given, human, "kendall_b")
    with pytest.raises(ValueError, match=r"float64 cannot hold exactly"):
        kendall_tau(given, human, "b")


def test_integers_float64_holds_exactly_still_correlate():
    metric = [BIG * k for k in range(1, 6)]       # above 2**53 but exact in float64
    human = [5.0, 4.0, 3.0, 2.0, 1.0]
    assert correlate(metric, human, "kendall_b").value == pytest.approx(-1.0)
    assert correlate(np.array(metric, dtype=np.int64), human, "kendall_b").value \
        == pytest.approx(-1.0)


def test_item_labels_of_different_types_are_different_items():
    # items 1 and "1" hold two rows each; as one item the rows rank-agree perfectly
    metric = [1.0, 2.0, 3.0, 4.0]
    human = [2.0, 1.0, 3.0, 4.0]
    items = [1, 1, "1", "1"]
    result = correlate(metric, human, "kendall_b", level="item", items=items)
    # item 1: -1; item "1": +1; mean 0 (as one item of four rows it would be 2/3)
    assert result.n_groups == 2
    assert result.value == pytest.approx(0.0)
    merged = correlate(metric, human, "kendall_b", level="item", items=["1"] * 4)
    assert merged.value == pytest.approx(scipy.stats.kendalltau(metric, human).statistic)
    as_objects = correlate(metric, human, "kendall_b", level="item",
                           items=np.array(items, dtype=object))
    assert (as_objects.n_groups, as_objects.value) == (2, pytest.approx(0.0))
    # numbers compare by value, whatever their Python or numpy type
    same = correlate(metric, human, "kendall_b", level="item",
                     items=[1, np.int64(1), 2.0, 2])
    assert same.n_groups == 2 and same.value == pytest.approx(0.0)
