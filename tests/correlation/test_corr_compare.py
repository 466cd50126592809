"""Paired tests between two metrics and significance clusters."""
import math

import numpy as np
import pytest

from correlation import (assign_clusters, compare_all, compare_metrics, paired_bootstrap,
                         permutation_test, significance_clusters)
from correlation.compare import smallest_p_value
from correlation.results import ComparisonResult


def noisy_metrics(seed, n, noise_a, noise_b):
    rng = np.random.default_rng(seed)
    h = rng.normal(size=n)
    return h + rng.normal(0, noise_a, n), h + rng.normal(0, noise_b, n), h


def test_identical_metrics_give_p_one():
    a, _, h = noisy_metrics(0, 500, 1.0, 1.0)
    for stat in ("kendall_b", "kendall_c", "pearson", "spearman"):
        r = permutation_test(a, a.copy(), h, stat, n_permutations=200)
        assert r.delta == 0 and r.p_value == 1.0


def test_clearly_different_metrics_give_small_p():
    a, b, h = noisy_metrics(1, 2000, 0.5, 2.0)
    r = permutation_test(a, b, h, "kendall_c", n_permutations=1000)
    assert r.delta > 0
    assert r.p_value == pytest.approx(1 / 1001)          # no draw reaches the observed gap
    assert permutation_test(a, b, h, "kendall_c", alternative="greater", n_permutations=200).p_value < 0.01
    assert permutation_test(a, b, h, "kendall_c", alternative="less", n_permutations=200).p_value > 0.99


def test_exchangeable_metrics_give_moderate_p():
    # same noise level: no real difference; p should not be tiny
    a, b, h = noisy_metrics(2, 1000, 1.0, 1.0)
    assert permutation_test(a, b, h, "kendall_b", n_permutations=500).p_value > 0.05


def test_paired_bootstrap_covers_the_true_difference():
    """h ~ N(0,1), metric = h + N(0, s^2): its population Pearson r is 1/sqrt(1+s^2), so the
    true difference between noise 0.8 and noise 1.2 is known. Over 100 data sets of n = 300
    the 95 % paired-bootstrap interval must cover it in 0.95 +- 0.06 of them (binomial
    standard error 2.2 points)."""
    true = 1 / math.sqrt(1 + 0.8 ** 2) - 1 / math.sqrt(1 + 1.2 ** 2)
    hits = 0
    for seed in range(100):
        a, b, h = noisy_metrics(100 + seed, 300, 0.8, 1.2)
        r = paired_bootstrap(a, b, h, "pearson", seed=seed)
        hits += r.ci_low <= true <= r.ci_high
        assert r.delta == pytest.approx(r.value_a - r.value_b)
    assert 0.89 <= hits / 100 <= 1.0


def test_paired_bootstrap_of_identical_metrics_is_zero_width():
    a, _, h = noisy_metrics(3, 300, 1.0, 1.0)
    r = paired_bootstrap(a, a.copy(), h, "kendall_b", ci_method="percentile", n_resamples=100)
    assert r.ci_low == r.ci_high == 0


def test_compare_metrics_has_both_parts():
    a, b, h = noisy_metrics(4, 400, 0.5, 1.5)
    items = np.arange(400) // 4
    r = compare_metrics(a, b, h, "kendall_b", "item", items=items, n_resamples=300, n_permutations=300,
                        names=("good", "bad"))
    assert (r.metric_a, r.metric_b, r.unit) == ("good", "bad", "items")
    assert r.ci_low < r.delta < r.ci_high and 0 < r.p_value < 0.05
    import json
    json.dumps(r.to_dict(), allow_nan=False)


def test_epsilon_with_zscores_is_refused():
    a, b, h = noisy_metrics(5, 50, 1, 1)
    with pytest.raises(ValueError, match="standardize=False"):
        permutation_test(a, b, h, "acc23", epsilon=0.1)
    r = permutation_test(a, b, h, "acc23", epsilon=0.1, standardize=False, n_permutations=50)
    assert 0 < r.p_value <= 1


def test_assign_clusters_rule():
    nan = float("nan")
    # sorted best first; p[i][j] = p-value for "i better than j"
    p = [[nan, 0.30, 0.01, 0.01],
         [nan, nan, 0.20, 0.01],
         [nan, nan, nan, 0.40],
         [nan, nan, nan, nan]]
    # metric 1 is not beaten by 0 -> cluster 1; metric 2 is beaten by 0 (p = .01) -> new cluster
    # starting at 2; metric 3 is compared with cluster {2} only: p = .40 -> same cluster
    assert assign_clusters(p, 0.05) == [1, 1, 2, 2]
    # alpha = 0.25: metric 1 still not beaten (p = .30); metric 2 beaten by 0; 3 vs 2: .40 -> stays
    assert assign_clusters(p, 0.25) == [1, 1, 2, 2]
    # at alpha = 0.005 nothing is significant
    assert assign_clusters(p, 0.005) == [1, 1, 1, 1]
    # a metric beaten only by a metric of an earlier cluster does not open a new one
    q = [[nan, 0.01, 0.01], [nan, nan, 0.5], [nan, nan, nan]]
    assert assign_clusters(q, 0.05) == [1, 2, 2]


def test_significance_clusters_separate_good_from_bad():
    rng = np.random.default_rng(6)
    h = rng.normal(size=1500)
    scores = {"good": h + rng.normal(0, 0.5, 1500), "good_too": h + rng.normal(0, 0.5, 1500),
              "bad": h + rng.normal(0, 3, 1500)}
    scores["good"][3] = np.nan
    r = significance_clusters(scores, h, "kendall_b", n_permutations=300)
    clusters = r.clusters()
    assert sorted(clusters[0]) == ["good", "good_too"] and clusters[1] == ["bad"]
    assert r.entries[0].value >= r.entries[1].value >= r.entries[2].value
    assert "1 rows" in r.notes
    assert r.p_values[0][0] is None and r.p_values[0][2] < 0.05


def test_smallest_attainable_p_value_is_two_to_the_minus_units():
    assert smallest_p_value(3) == 0.125 and smallest_p_value(3, alternative="two-sided") == 0.25
    assert smallest_p_value(5) == 0.03125 and smallest_p_value(1, alternative="two-sided") == 1.0
    assert smallest_p_value(0) == 1.0 and smallest_p_value(2000) == 0.0
    assert smallest_p_value(40, n_permutations=10) == 1 / 11   # the draws' floor binds
    assert smallest_p_value(3, n_permutations=1000) == 0.125
    # the engine agrees: 3 items, a perfect and a reversed metric. Of the 2^3 whole-item
    # swap patterns only "no swap" reaches the observed gap one-sided, and "swap all"
    # (-delta) too two-sided, so the exact p-values are 1/8 and 2/8.
    items = np.repeat(np.arange(3), 4)
    h = np.tile([1.0, 2.0, 3.0, 4.0], 3)
    good, bad = h + 0.1 * items, -h
    greater = permutation_test(good, bad, h, "pearson", "item", items, alternative="greater",
                               n_permutations=4000, seed=1)
    both = permutation_test(good, bad, h, "pearson", "item", items, n_permutations=4000, seed=1)
    assert greater.unit == "items" and greater.n_units == 3
    assert greater.p_value == pytest.approx(0.125, abs=0.015)
    assert both.p_value == pytest.approx(0.25, abs=0.02)


def three_systems(n_systems: int):
    """The issue's case: rows swapped within n systems; b puts the first system on top."""
    rng = np.random.default_rng(0)
    k = 30
    systems = np.repeat(np.arange(n_systems), k)
    h = systems + 1 + rng.normal(0, 0.3, systems.size)
    a = h + rng.normal(0, 0.3, systems.size)
    b = a.copy()
    b[:k] += n_systems - 0.5
    return {"a": a, "b": b}, h, systems


def test_too_few_systems_for_the_test_give_no_clusters():
    scores, h, systems = three_systems(3)
    kw = dict(systems=systems, n_permutations=200)
    r = significance_clusters(scores, h, "kendall_c", "system", **kw)
    assert r.p_values[0][1] < 0.05     # rows swapped: "significant" on three systems
    assert [e.cluster for e in r.entries] == [None, None] and r.clusters() == []
    assert "no clusters: with 3 systems the one-sided permutation p-value is at least " \
           "2^-3 = 0.125, above alpha 0.05" in r.notes
    results, shared = compare_all(scores, h, "kendall_c", "system", n_resamples=200, **kw)
    assert shared == r
    (c,) = results
    assert c.ci_low <= 0 <= c.ci_high and c.p_value < 0.05 and c.interval_test_disagree()
    assert (c.unit, c.n_units) == ("systems", 3)
    # with six systems the test can reach alpha (2^-6 < 0.05): clusters as before
    scores, h, systems = three_systems(6)
    six = significance_clusters(scores, h, "kendall_c", "system", systems=systems,
                                n_permutations=200)
    assert six.clusters() == [["a"], ["b"]] and six.notes == ""


def test_too_few_items_or_draws_give_no_clusters():
    a, b, h = noisy_metrics(1, 300, 0.3, 3.0)
    items = np.repeat(np.arange(4), 75)   # flat level, rows swapped, but only 4 images
    r = significance_clusters({"a": a, "b": b}, h, "kendall_c", items=items, n_permutations=200,
                              unit="rows")
    assert r.p_values[0][1] < 0.05 and r.clusters() == []
    whole = significance_clusters({"a": a, "b": b}, h, "kendall_c", items=items,
                                  n_permutations=200)  # the default swaps the 4 images
    assert whole.p_values[0][1] >= 2 ** -4 and whole.clusters() == []
    assert "with 4 items the one-sided permutation p-value is at least 2^-4 = 0.0625" in r.notes
    few = significance_clusters({"a": a, "b": b}, h, "kendall_c", n_permutations=10)
    assert few.clusters() == [] and "10 permutation draws give p >= 1/11 = 0.09091" in few.notes
    enough = significance_clusters({"a": a, "b": b}, h, "kendall_c", n_permutations=19)
    assert enough.clusters() == [["a"], ["b"]]   # 1/20 = alpha: reachable


@pytest.mark.parametrize("low,high,p,confidence,alternative,disagree", [
    (0.01, 0.20, 0.30, 0.95, "two-sided", True),    # interval excludes 0, test does not
    (-0.10, 0.20, 0.01, 0.95, "two-sided", True),   # test says differ, interval includes 0
    (0.01, 0.20, 0.01, 0.95, "two-sided", False),
    (-0.10, 0.20, 0.30, 0.95, "two-sided", False),
    (-0.20, -0.01, 0.05, 0.95, "two-sided", False),  # p = 1 - confidence is significant
    (0.01, 0.20, 0.08, 0.90, "two-sided", False),   # a 90 % interval is the test at 0.10
    (0.01, 0.20, 0.30, 0.95, "greater", None),
    (math.nan, math.nan, 0.30, 0.95, "two-sided", None)])
def test_interval_and_test_disagreement(low, high, p, confidence, alternative, disagree):
    r = ComparisonResult("kendall_c", "flat", "a", "b", 0.5, 0.4, 0.1, ci_low=low, ci_high=high,
                         p_value=p, alternative=alternative, confidence=confidence)
    assert r.interval_test_disagree() is disagree


@pytest.mark.parametrize("statistic,level,unit", [("kendall_c", "flat", None),
                                                  ("pearson", "item", None),
                                                  ("accuracy", "pair", "items")])
def test_compare_all_equals_the_pairwise_functions(statistic, level, unit):
    """compare_all shares work between pairs but gives the numbers of paired_bootstrap,
    permutation_test (each pair's own stream) and significance_clusters, on the rows
    where no metric is NaN."""
    rng = np.random.default_rng(7)
    n = 240
    items = np.repeat(np.arange(40), 6)
    if level == "pair":
        human = rng.choice([-1.0, 0.0, 1.0], n)
        scores = {k: human * s + rng.normal(0, 1, n) for k, s in (("x", 1.0), ("y", 0.3), ("z", 0.0))}
    else:
        human = np.round(rng.normal(size=n), 1)
        scores = {k: np.round(human + rng.normal(0, s, n), 1) for k, s in (("x", .5), ("y", 1.), ("z", 3.))}
    scores["y"][5] = np.nan  # one NaN: every metric is judged without that row
    keep = np.isfinite(scores["y"])
    kw = dict(items=items, n_permutations=150, seed=3)
    results, clusters = compare_all(scores, human, statistic, level, n_resamples=120,
                                    permutation_unit=unit, **kw)
    reference = significance_clusters(scores, human, statistic, level, unit=unit, **kw)
    assert clusters == reference
    ranked = [e.metric for e in clusters.entries]
    pairs = [(a, b) for i, a in enumerate(ranked) for b in ranked[i + 1:]]
    assert [(r.metric_a, r.metric_b) for r in results] == pairs
    streams = np.random.SeedSequence(3).spawn(len(pairs))
    for r, stream in zip(results, streams):
        a, b = scores[r.metric_a][keep], scores[r.metric_b][keep]
        boot = paired_bootstrap(a, b, human[keep], statistic, level, items[keep],
                                n_resamples=120, seed=3)
        perm = permutation_test(a, b, human[keep], statistic, level, items[keep], n_permutations=150,
                                unit=unit, seed=np.random.default_rng(stream))
        assert (r.delta, r.ci_low, r.ci_high) == (boot.delta, boot.ci_low, boot.ci_high)
        assert r.p_value == perm.p_value and r.n_nan == 1
