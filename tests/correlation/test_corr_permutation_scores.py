"""The paired permutation test's observed statistic and its null come from the same scores,
z-scored with scipy.stats.zscore's definition, distinct scores kept distinct for rank statistics."""
import numpy as np
import pytest
import scipy.stats

from correlation import permutation_test
from correlation._problem import Problem
from correlation._resample import standardized, swapped_values
from correlation._validate import make_rng
from correlation._zscore import distinct_zscores, zscores
from correlation.compare import _permutation_draws


def _vectors():
    rng = np.random.default_rng(7)
    for n in (2, 3, 17, 500, 4000):
        for scale in (1e-9, 1.0, 1e6):
            yield rng.normal(3.0, 1.0, n) * scale
            yield rng.integers(0, 5, n).astype(float)   # few distinct values, like ratings
    yield np.r_[np.zeros(300), rng.uniform(0, 1, 700)]   # BLEU-like: many zeros


def test_z_scores_are_scipys_bit_for_bit():
    for x in _vectors():
        np.testing.assert_array_equal(zscores(x), scipy.stats.zscore(x))


def test_the_swapped_columns_are_scipys_z_scores():
    """Each column z-scored on its own: a 2-D reduction along axis 0 sums in another order
    (it differed from scipy by up to 8e-14 on Flickr8k scores, flipping ties between the
    swapped metrics)."""
    rng = np.random.default_rng(3)
    a, b, h = rng.normal(0.4, 0.2, 5000), rng.gamma(2.0, 0.1, 5000), rng.normal(size=5000)
    for statistic in ("pearson", "kendall_c"):
        X = standardized(Problem([a, b], h, statistic))
        np.testing.assert_array_equal(X[:, 0], scipy.stats.zscore(a))
        np.testing.assert_array_equal(X[:, 1], scipy.stats.zscore(b))


def _merged_by_rounding():
    """Scores whose smallest values are distinct but merge when z-scored (x - mean rounds
    1e-17 and 3e-17 alike), with human scores that tell them apart."""
    tiny = np.array([1e-17, 2e-17, 3e-17, 4e-17, 5e-17, 6e-17])
    x = np.r_[tiny, np.linspace(0.2, 0.9, 14)]
    y = np.r_[[1.0, 2.0, 1.0, 3.0, 2.0, 3.0], np.arange(14.0) % 4]
    return x, y


def test_rank_statistics_keep_distinct_scores_distinct():
    x, _ = _merged_by_rounding()
    assert np.unique(scipy.stats.zscore(x)).size < np.unique(x).size   # the problem exists
    z = distinct_zscores(x)
    np.testing.assert_array_equal(scipy.stats.rankdata(z), scipy.stats.rankdata(x))
    np.testing.assert_allclose(z, scipy.stats.zscore(x), rtol=0, atol=1e-14)
    untouched = x > 1e-3
    np.testing.assert_array_equal(z[untouched], scipy.stats.zscore(x)[untouched])
    ties = np.array([0.0, 0.0, 1e-17, 1e-17, 0.5, 0.5, 0.9])      # equal scores stay equal
    assert np.unique(distinct_zscores(ties)).size == np.unique(ties).size


@pytest.mark.parametrize("statistic", ["kendall_b", "kendall_c", "spearman"])
def test_observed_delta_is_the_unswapped_draw(statistic):
    x, y = _merged_by_rounding()
    other = np.r_[np.linspace(0.1, 0.6, 6), np.linspace(0.3, 1.0, 14)[::-1] ** 2]
    prob = Problem([x, other], y, statistic)
    raw = prob.point(0).value - prob.point(1).value
    observed, draws = _permutation_draws(prob, "rows", 50, True, make_rng(0))
    unswapped = swapped_values(prob, "rows", np.zeros((1, prob.n), dtype=bool))[0]
    assert observed == unswapped[0] - unswapped[1]
    assert observed == raw                      # a rank statistic of the z-scores is the raw one
    assert draws.size == 50


def test_pearson_observed_delta_is_that_of_the_z_scores():
    rng = np.random.default_rng(5)
    h = rng.normal(size=300)
    a, b = h + rng.normal(size=300), 1e3 * (h + rng.normal(size=300)) + 7
    prob = Problem([a, b], h, "pearson")
    observed, _ = _permutation_draws(prob, "rows", 10, True, make_rng(0))
    unswapped = swapped_values(prob, "rows", np.zeros((1, prob.n), dtype=bool))[0]
    assert observed == unswapped[0] - unswapped[1]
    result = permutation_test(a, b, h, "pearson", n_permutations=10)
    assert result.delta == result.value_a - result.value_b   # the reported delta stays the raw one


@pytest.mark.slow
def test_flickr8k_expert_bleu1_vs_bleu4_observed_and_null_share_scores(shared_data):
    """The issue's case: BLEU-1 has 678 distinct scores on Flickr8k-Expert and 632 distinct
    scipy z-scores; the observed tau-c difference was 1.06e-4 away from the unswapped draw."""
    from experiments.benchmarks.base import scores_for
    from experiments.benchmarks.flickr8k import load_expert
    from metrics import get_metric

    bench = load_expert(shared_data / "flickr8k")
    index = bench.sample_index()
    bleu1, bleu4 = (scores_for(bench.ratings.sample_ids, index,
                               get_metric(m).score(bench.samples).scores) for m in ("bleu1", "bleu4"))
    prob = Problem([bleu1, bleu4], bench.ratings.values, "kendall_c", "flat",
                   names=("bleu1", "bleu4"))
    assert np.unique(prob.X[:, 0]).size == 678
    assert np.unique(scipy.stats.zscore(prob.X[:, 0])).size == 632
    Z = standardized(prob)
    assert [np.unique(Z[:, j]).size for j in (0, 1)] == [np.unique(prob.X[:, j]).size for j in (0, 1)]
    raw = prob.point(0).value - prob.point(1).value
    observed, draws = _permutation_draws(prob, "rows", 20, True, make_rng(0))
    unswapped = swapped_values(prob, "rows", np.zeros((1, prob.n), dtype=bool))[0]
    assert observed == unswapped[0] - unswapped[1] == raw
    assert raw == pytest.approx(0.015482092751006926, abs=1e-15)
    assert draws.size == 20


def test_each_metric_is_z_scored_once_per_view(monkeypatch):
    """compare_all's pairwise tests share each metric's z-scores (a column's z-scores depend
    on that column only) and give the numbers of separate permutation tests."""
    import correlation._resample as resample
    from correlation import compare_all

    calls = []

    def counted(x):
        calls.append(1)
        return distinct_zscores(x)

    monkeypatch.setattr(resample, "distinct_zscores", counted)
    rng = np.random.default_rng(8)
    h = rng.normal(size=200)
    scores = {f"m{j}": np.round(h + rng.normal(0, 0.5 + j, 200), 2) for j in range(4)}
    results, _ = compare_all(scores, h, "kendall_c", n_resamples=20, n_permutations=30, seed=1)
    assert len(results) == 6 and len(calls) == 4
    rngs = np.random.SeedSequence(1).spawn(6)
    for result, stream in zip(results, rngs):
        alone = permutation_test(scores[result.metric_a], scores[result.metric_b], h, "kendall_c",
                                 n_permutations=30, seed=np.random.default_rng(stream))
        assert alone.p_value == result.p_value
