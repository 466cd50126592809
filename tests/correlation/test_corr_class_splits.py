"""Weighted class splits (few, unequal human classes) give the same exact counts and
p-values as the per-bit stages, and fewer rows to visit."""
import numpy as np
import pytest

import correlation._kendall_engine as engine
from correlation import permutation_test
from correlation._kendall_engine import KendallBatch, _class_splits, per_row_counts


def cf_like(rng, n):
    """Flickr8k-CF's shape: 12 human classes, 88 % of rows in the lowest; tied metrics."""
    shares = np.array([41970, 3, 22, 96, 3000, 8, 27, 8, 1360, 9, 4, 1323], dtype=float)
    y = rng.choice(12, size=n, p=shares / shares.sum()).astype(float) / 11
    y[:12] = np.arange(12) / 11                                  # every class present
    quality = y + rng.normal(scale=0.5, size=n)
    a = np.round(quality + rng.normal(scale=0.3, size=n), 1)     # many ties
    b = np.round(quality + rng.normal(scale=0.4, size=n), 2)
    return a, b, y


def brute_discordant(x, y):
    dx = np.sign(x[:, None] - x[None, :])
    dy = np.sign(y[:, None] - y[None, :])
    return int((dx * dy < 0).sum() // 2)


@pytest.fixture
def per_bit(monkeypatch):
    """Run a callable under the per-bit stages (the path before the weighted splits)."""
    def run(fn, *args, **kwargs):
        with monkeypatch.context() as m:
            m.setattr(engine, "_WEIGHTED_MAX_CLASSES", 0)
            return fn(*args, **kwargs)
    return run


def visited_rows(yr, splits):
    return sum(int((side[yr] >= 0).sum()) for side, _ in splits)


def test_skewed_classes_take_weighted_splits_that_visit_fewer_rows():
    rng = np.random.default_rng(3)
    _, _, y = cf_like(rng, 5000)
    yr = np.unique(y, return_inverse=True)[1]
    splits = _class_splits(yr, 12)
    # the per-bit tree puts every row in each of its 4 stages
    assert visited_rows(yr, splits) < 0.6 * 4 * yr.size
    # the first split separates the big lowest class from the rest
    side, group = splits[0]
    assert list(side) == [0] + [1] * 11 and not group.any()


def test_equal_classes_keep_per_bit_stages():
    yr = np.repeat(np.arange(8), 10)
    splits = _class_splits(yr, 8)
    assert len(splits) == 3
    assert [list(s) for s, _ in splits][2] == [0, 1] * 4


def test_discordant_counts_equal_per_bit_path_and_brute_force(per_bit):
    rng = np.random.default_rng(5)
    a, b, y = cf_like(rng, 600)
    fast = KendallBatch(np.column_stack([a, b]), y)
    slow = per_bit(KendallBatch, np.column_stack([a, b]), y)
    assert len(fast.stages) != len(slow.stages) or any(
        f.rows.size != s.rows.size for f, s in zip(fast.stages, slow.stages))
    choice = rng.random((30, a.size)) < 0.5
    d_fast = fast.discordant(choice=choice)
    assert np.array_equal(d_fast, slow.discordant(choice=choice))
    for r in range(3):
        assert d_fast[r] == brute_discordant(np.where(choice[r], b, a), y)
    W = rng.multinomial(a.size, np.full(a.size, 1 / a.size), size=6)
    one_fast, one_slow = KendallBatch(a, y), per_bit(KendallBatch, a, y)
    assert np.array_equal(one_fast.discordant(weights=W), one_slow.discordant(weights=W))
    tot_f, d_f, *_ = per_row_counts(a, y)
    tot_s, d_s, *_ = per_bit(per_row_counts, a, y)
    assert np.array_equal(d_f, d_s) and tot_f.discordant == tot_s.discordant
    assert tot_f.discordant == brute_discordant(a, y)


@pytest.mark.parametrize("statistic", ["kendall_b", "kendall_c"])
def test_permutation_p_values_equal_per_bit_path_on_tied_data(per_bit, statistic):
    rng = np.random.default_rng(11)
    a, b, y = cf_like(rng, 3000)
    fast = permutation_test(a, b, y, statistic, n_permutations=300, seed=4)
    slow = per_bit(permutation_test, a, b, y, statistic, n_permutations=300, seed=4)
    assert 0.01 < fast.p_value < 1                       # draws on both sides of the observed delta
    assert fast.p_value == slow.p_value and fast.delta == slow.delta


def test_tie_pair_plan_and_class_counts_give_the_same_taus():
    """Many tying row pairs go to the class counts; the pair test they replaced gives the
    same tau-b and tau-c (the pair test's distinct-value bound stands in for the count)."""
    rng = np.random.default_rng(2)
    n = 900
    y = rng.integers(0, 4, n).astype(float)
    a = np.round(rng.normal(size=n), 1)                    # ~40 values: many tying pairs
    b = np.round(rng.normal(size=n), 2)
    batch = KendallBatch(np.column_stack([a, b]), y)
    assert batch._tie_pairs is None
    choice = rng.random((20, n)) < 0.5
    k_classes = batch.counts(choice=choice)
    batch._tie_pairs = batch._pair_tie_plan(max_pairs_per_row=1000)
    assert batch._tie_pairs is not None and batch._tie_pairs[4] >= batch._my
    k_pairs = batch.counts(choice=choice)
    assert np.array_equal(k_classes.ties_metric, k_pairs.ties_metric)
    assert np.array_equal(k_classes.ties_both, k_pairs.ties_both)
    for v in "bc":
        assert np.array_equal(engine.tau_from_counts(k_classes, v),
                              engine.tau_from_counts(k_pairs, v))
    for r in range(3):
        sizes = np.unique(np.where(choice[r], b, a), return_counts=True)[1]
        assert k_classes.ties_metric[r] == (sizes * (sizes - 1) // 2).sum()
