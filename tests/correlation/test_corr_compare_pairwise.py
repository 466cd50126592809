"""compare_all_pairwise: every two metrics on the rows both scored, with the numbers of
the two-metric functions on those rows, ranked by each metric's own number."""
import numpy as np
import pytest

from correlation import (assign_clusters, compare_all, compare_all_pairwise, correlate,
                         paired_bootstrap, permutation_test)


def _data(n=120):
    rng = np.random.default_rng(7)
    human = np.round(rng.normal(size=n), 1)
    scores = {k: np.round(human + rng.normal(0, s, n), 1)
              for k, s in (("x", .5), ("y", 1.), ("z", 3.))}
    return human, scores, np.repeat(np.arange(n // 6), 6)


def test_without_nan_it_gives_the_numbers_of_compare_all():
    human, scores, items = _data()
    kw = dict(items=items, n_permutations=100, n_resamples=80, seed=3)
    joint, joint_clusters = compare_all(scores, human, "kendall_c", "item", **kw)
    pairwise, clusters = compare_all_pairwise(scores, human, "kendall_c", "item", **kw)
    fields = ("metric_a", "metric_b", "value_a", "value_b", "delta", "ci_low", "ci_high",
              "p_value", "se", "n", "unit")
    assert [[getattr(r, f) for f in fields] for r in pairwise] == \
           [[getattr(r, f) for f in fields] for r in joint]
    assert clusters.entries == joint_clusters.entries
    assert clusters.p_values == joint_clusters.p_values


@pytest.mark.parametrize("statistic,level,unit", [("kendall_c", "flat", None),
                                                  ("accuracy", "pair", "items")])
def test_each_pair_is_judged_on_the_rows_both_scored(statistic, level, unit):
    human, scores, items = _data(180)
    if level == "pair":
        rng = np.random.default_rng(1)
        human = rng.choice([-1.0, 0.0, 1.0], human.size)
        scores = {k: human * s + rng.normal(0, 1, human.size)
                  for k, s in (("x", 1.0), ("y", 0.4), ("z", 0.0))}
    scores["x"][:60] = np.nan       # x scored a third of the rows less
    scores["y"][150:] = np.nan      # y misses other rows
    kw = dict(n_permutations=120, seed=5)
    results, clusters = compare_all_pairwise(scores, human, statistic, level, items,
                                             n_resamples=90, permutation_unit=unit, **kw)
    own = {k: correlate(v, human, statistic, level, items).value for k, v in scores.items()}
    ranked = sorted(own, key=lambda k: -own[k])
    assert [e.metric for e in clusters.entries] == ranked
    assert [e.value for e in clusters.entries] == [own[k] for k in ranked]
    pairs = [(a, b) for i, a in enumerate(ranked) for b in ranked[i + 1:]]
    assert [(r.metric_a, r.metric_b) for r in results] == pairs
    streams = np.random.SeedSequence(5).spawn(len(pairs))
    one_sided = np.full((3, 3), np.nan)
    for k, (r, stream) in enumerate(zip(results, streams)):
        keep = np.isfinite(scores[r.metric_a]) & np.isfinite(scores[r.metric_b])
        a, b = scores[r.metric_a][keep], scores[r.metric_b][keep]
        boot = paired_bootstrap(a, b, human[keep], statistic, level, items[keep],
                                n_resamples=90, seed=5)
        two = permutation_test(a, b, human[keep], statistic, level, items[keep],
                               n_permutations=120, unit=unit, seed=np.random.default_rng(stream))
        greater = permutation_test(a, b, human[keep], statistic, level, items[keep],
                                   n_permutations=120, unit=unit, alternative="greater",
                                   seed=np.random.default_rng(stream))
        assert (r.value_a, r.value_b, r.delta) == (boot.value_a, boot.value_b, boot.delta)
        assert (r.ci_low, r.ci_high) == (boot.ci_low, boot.ci_high)
        assert r.p_value == two.p_value and r.n == int(keep.sum())
        assert f"compared on the {int(keep.sum())} rows both scored" in r.notes
        one_sided[ranked.index(r.metric_a), ranked.index(r.metric_b)] = greater.p_value
    assert [e.cluster for e in clusters.entries] == assign_clusters(one_sided, 0.05)
    assert "each pair on the rows both scored" in clusters.method


def test_a_metric_undefined_on_its_own_rows_is_left_out_and_named():
    human, scores, _ = _data(60)
    scores["z"] = np.full(60, np.nan)
    scores["z"][:3] = 1.0  # constant where it scored: no statistic
    results, clusters = compare_all_pairwise(scores, human, "kendall_b", n_permutations=20,
                                             n_resamples=20)
    assert [e.metric for e in clusters.entries] == ["x", "y"]
    assert [(r.metric_a, r.metric_b) for r in results] == [("x", "y")]
    assert "undefined (left out): z" in clusters.notes
