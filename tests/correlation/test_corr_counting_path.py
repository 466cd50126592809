"""The permutation test's counting path (contingency tables of human class x metric value)
gives the exact counts of the sorting path and of a direct count over all pairs."""
import numpy as np
import pytest

from correlation import compare_all, permutation_test
from correlation._kendall_engine import KendallBatch, tau_from_counts


def few_values(seed, n=400):
    """Two metrics with few distinct values, some shared between them, and 4 human classes."""
    rng = np.random.default_rng(seed)
    y = rng.integers(1, 5, n).astype(float)
    a = np.round(y + rng.normal(0, 1.5, n))
    b = np.round(y / 2 + rng.normal(0, 1.0, n), 1)
    return np.column_stack([a, b]), y


def direct_counts(x, y):
    """(discordant, tied in x, tied in both) over all pairs, O(n^2)."""
    dx, dy = np.sign(x[:, None] - x[None, :]), np.sign(y[:, None] - y[None, :])
    upper = np.triu(np.ones((x.size, x.size), dtype=bool), 1)
    return (int(np.count_nonzero((dx * dy < 0) & upper)), int(np.count_nonzero((dx == 0) & upper)),
            int(np.count_nonzero((dx == 0) & (dy == 0) & upper)))


@pytest.mark.parametrize("seed", range(5))
def test_tables_count_every_pair_exactly(seed):
    X, y = few_values(seed)
    batch = KendallBatch(X, y)
    assert batch._counts_cells()
    swaps = np.random.default_rng(seed).random((7, y.size)) < 0.5
    k = batch.swapped_counts(swaps)
    for r, choice in enumerate(np.concatenate([swaps, ~swaps])):
        x = np.where(choice, X[:, 1], X[:, 0])
        assert (k.discordant[r], k.ties_metric[r], k.ties_both[r]) == direct_counts(x, y)
        assert k.classes_metric[r] == np.unique(x).size


@pytest.mark.parametrize("seed", range(5))
def test_counting_and_sorting_paths_give_the_same_statistics(seed, monkeypatch):
    X, y = few_values(seed)
    swaps = np.random.default_rng(seed).random((20, y.size)) < 0.5
    counted = KendallBatch(X, y).swapped_counts(swaps)
    monkeypatch.setattr(KendallBatch, "_CELLS_PER_ROW", -1.0)   # sorting path only
    sorting = KendallBatch(X, y)
    assert not sorting._counts_cells()
    sorted_ = sorting.swapped_counts(swaps)
    for field in ("discordant", "ties_metric", "ties_both", "n", "pairs", "ties_human"):
        np.testing.assert_array_equal(getattr(counted, field), getattr(sorted_, field))
    for variant in ("b", "c", "23", "acc23"):
        np.testing.assert_array_equal(tau_from_counts(counted, variant),
                                      tau_from_counts(sorted_, variant))


def test_the_cheaper_path_is_chosen_by_cells_per_row():
    X, y = few_values(0)
    assert KendallBatch(X, y)._counts_cells()           # few values: a small table
    rng = np.random.default_rng(1)
    continuous = rng.normal(size=(400, 2))
    assert not KendallBatch(continuous, y)._counts_cells()


def test_p_values_do_not_depend_on_the_path(monkeypatch):
    X, y = few_values(3)
    items = np.arange(400) // 4
    scores = {"a": X[:, 0], "b": X[:, 1], "c": np.round(X[:, 0] + X[:, 1])}
    kw = dict(n_resamples=20, n_permutations=99, seed=4)

    def run():
        single = permutation_test(X[:, 0], X[:, 1], y, "kendall_c", items=items,
                                  n_permutations=99, seed=1)
        results, clusters = compare_all(scores, y, "kendall_b", items=items, **kw)
        return single.p_value, [(r.delta, r.p_value) for r in results], clusters.p_values

    counted = run()
    monkeypatch.setattr(KendallBatch, "_CELLS_PER_ROW", -1.0)
    assert run() == counted
