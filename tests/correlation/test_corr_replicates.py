"""Sharing bootstrap replicates between correlate and compare_all changes no number."""
import dataclasses
import warnings

import numpy as np
import pytest

from correlation import compare_all, correlate
from correlation.replicates import ReplicateCache


def view_data(level, rng, n=240):
    q = rng.normal(size=n)
    items = np.repeat(np.arange(n // 4), 4)
    systems = np.tile(np.arange(4), n // 4)
    if level == "pair":
        human = rng.choice([-1.0, 0.0, 1.0], n)
        scores = {name: human * s + rng.normal(size=n) for name, s in
                  (("m1", 1.0), ("m2", 0.5), ("m3", 0.1))}
        return scores, human, items, None
    human = np.round(q + rng.normal(0, 0.5, n), 0)
    scores = {"m1": q + rng.normal(size=n), "m2": np.round(q + rng.normal(size=n), 1),
              "m3": rng.normal(size=n)}
    return scores, human, items, systems


CASES = [("kendall_b", "flat"), ("kendall_c", "flat"), ("pearson", "flat"), ("spearman", "item"),
         ("kendall_c", "system"), ("accuracy", "pair"), ("tau_like", "pair")]


def as_tuple(result):
    return tuple(v for v in dataclasses.astuple(result))


@pytest.mark.parametrize("statistic,level", CASES)
@pytest.mark.parametrize("ci_method", ["bca", "percentile"])
def test_same_numbers_with_and_without_a_shared_cache(statistic, level, ci_method):
    scores, human, items, systems = view_data(level, np.random.default_rng(7))
    kw = dict(ci_method=ci_method, n_resamples=60, seed=3)
    cache = ReplicateCache()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone = {m: correlate(s, human, statistic, level, items, systems, **kw)
                 for m, s in scores.items()}
        shared = {m: correlate(s, human, statistic, level, items, systems, cache=cache, **kw)
                  for m, s in scores.items()}
        assert cache.misses == 3 and cache.hits == 0
        plain = compare_all(scores, human, statistic, level, items, systems, n_permutations=40,
                            **kw)
        reused = compare_all(scores, human, statistic, level, items, systems, n_permutations=40,
                             cache=cache, **kw)
    assert cache.hits == 3 and cache.misses == 3          # every metric found: nothing resampled
    for m in scores:
        assert as_tuple(alone[m]) == as_tuple(shared[m])
    assert [as_tuple(r) for r in plain[0]] == [as_tuple(r) for r in reused[0]]
    assert plain[1] == reused[1]


def test_a_metric_with_other_rows_is_resampled_on_its_own_rows():
    scores, human, items, systems = view_data("flat", np.random.default_rng(8))
    scores["m3"] = scores["m3"].copy()
    scores["m3"][:10] = np.nan                       # compare_all drops these rows for every metric
    kw = dict(ci_method="bca", n_resamples=50, seed=1)
    cache = ReplicateCache()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in scores.values():
            correlate(s, human, "kendall_b", "flat", items, **kw, cache=cache)
        plain = compare_all(scores, human, "kendall_b", "flat", items, n_permutations=30, **kw)
        reused = compare_all(scores, human, "kendall_b", "flat", items, n_permutations=30,
                             cache=cache, **kw)
    # m1 and m2 alone used all rows, compare_all drops m3's NaN rows: only m3 is shared
    assert cache.hits == 1 and cache.misses == 5
    assert [as_tuple(r) for r in plain[0]] == [as_tuple(r) for r in reused[0]]
    again = compare_all(scores, human, "kendall_b", "flat", items, n_permutations=30,
                        cache=cache, **kw)
    assert cache.hits == 4
    assert [as_tuple(r) for r in again[0]] == [as_tuple(r) for r in plain[0]]


def test_a_generator_seed_is_never_cached():
    scores, human, items, _ = view_data("flat", np.random.default_rng(9))
    cache = ReplicateCache()
    correlate(scores["m1"], human, "kendall_b", ci_method="percentile", n_resamples=20,
              seed=np.random.default_rng(0), cache=cache)
    assert len(cache) == 0


def test_compare_all_on_two_worker_processes_gives_the_same_numbers():
    scores, human, items, _ = view_data("flat", np.random.default_rng(10))
    kw = dict(ci_method="bca", n_resamples=40, n_permutations=60, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = compare_all(scores, human, "kendall_c", "flat", items, **kw)
        two = compare_all(scores, human, "kendall_c", "flat", items, workers=2, **kw)
    assert [as_tuple(r) for r in one[0]] == [as_tuple(r) for r in two[0]]
    assert one[1] == two[1]
    with pytest.raises(ValueError, match="workers"):
        compare_all(scores, human, "kendall_c", workers=0)
