"""Kendall counts by swap / resample units as quadratic forms (correlation/_unit_pairs.py)
equal the row-by-row engine's exact counts, and the tests that use them give the same
numbers as with rows expanded."""
from __future__ import annotations

import numpy as np
from correlation import bootstrap_ci, compare_all, permutation_test
from correlation import _unit_pairs
from correlation._kendall_engine import KendallBatch, tau_from_counts

FIELDS = ("n", "pairs", "discordant", "ties_metric", "ties_human", "ties_both", "classes_human")


def _data(rng, n_max=50, units_max=10):
    n = int(rng.integers(2, n_max))
    n_units = int(rng.integers(1, min(n, units_max) + 1))
    units = rng.integers(0, n_units, n)
    units[:n_units] = np.arange(n_units)
    X = rng.integers(0, int(rng.integers(1, 8)), (n, 2)) / 7
    y = rng.integers(0, int(rng.integers(1, 6)), n).astype(float)
    return X, y, units, n_units


def _same(ref, got, fields):
    for f in fields:
        want = np.broadcast_to(np.asarray(getattr(ref, f), float), np.shape(got.n))
        assert np.array_equal(want, np.asarray(getattr(got, f), float)), f


def test_swapped_counts_equal_the_rows_engine():
    rng = np.random.default_rng(11)
    for _ in range(150):
        X, y, units, k = _data(rng)
        if rng.random() < 0.3:                      # many values shared by the two metrics
            X[:, 1] = np.where(rng.random(X.shape[0]) < 0.5, X[:, 0], X[:, 1])
        swaps = rng.random((5, k)) < 0.5
        ref = KendallBatch(X, y).counts(choice=np.concatenate([swaps[:, units], ~swaps[:, units]]))
        got = _unit_pairs.UnitSwapKendall(X, y, units, k).swapped_counts(swaps)
        _same(ref, got, FIELDS)
        for variant in ("b", "c", "23", "acc23"):
            assert np.array_equal(tau_from_counts(ref, variant), tau_from_counts(got, variant),
                                  equal_nan=True), variant


def test_distinct_values_of_swapped_scores_are_counted_exactly():
    rng = np.random.default_rng(12)
    for _ in range(100):
        X, y, units, k = _data(rng, 30, 8)
        swaps = rng.random((4, k)) < 0.5
        got = _unit_pairs.UnitSwapKendall(X, y, units, k).swapped_counts(swaps).classes_metric
        rows = swaps[:, units]
        want = [np.unique(np.where(r, X[:, 1], X[:, 0])).size for r in rows] + \
               [np.unique(np.where(r, X[:, 0], X[:, 1])).size for r in rows]
        assert got.tolist() == want


def test_resampled_counts_equal_the_rows_engine():
    rng = np.random.default_rng(13)
    for _ in range(150):
        X, y, units, k = _data(rng)
        weights = np.stack([np.bincount(rng.integers(0, k, k), minlength=k) for _ in range(5)])
        ref = KendallBatch(X[:, 0], y).counts(weights=weights[:, units])
        got = _unit_pairs.UnitResampleKendall(X[:, 0], y, units, k).counts(weights)
        _same(ref, got, (*FIELDS, "classes_metric"))


def test_units_too_large_for_float32_products_count_in_float64():
    """Two units of 4,100 rows: the partial sums pass 2**24, so float64 products."""
    rng = np.random.default_rng(14)
    units = np.repeat([0, 1], 4100)
    X = rng.integers(0, 50, (units.size, 2)).astype(float)
    y = rng.integers(0, 3, units.size).astype(float)
    assert _unit_pairs.exact_dtype(4100.0 * 4100) is np.float64
    swaps = np.array([[False, False], [True, False], [False, True], [True, True]])
    ref = KendallBatch(X, y).counts(choice=np.concatenate([swaps[:, units], ~swaps[:, units]]))
    _same(ref, _unit_pairs.UnitSwapKendall(X, y, units, 2).swapped_counts(swaps), FIELDS)
    weights = np.array([[2, 0], [1, 1], [0, 2]])
    ref = KendallBatch(X[:, 0], y).counts(weights=weights[:, units])
    _same(ref, _unit_pairs.UnitResampleKendall(X[:, 0], y, units, 2).counts(weights),
          (*FIELDS, "classes_metric"))


def test_a_metric_and_its_z_scores_share_their_unit_pair_counts():
    from correlation._zscore import distinct_zscores

    rng = np.random.default_rng(15)
    X, y, units, k = _data(rng, 60, 12)
    raw = _unit_pairs.own_matrices(X[:, 0], y, units, k)
    assert _unit_pairs.own_matrices(distinct_zscores(X[:, 0]), y, units, k) is raw
    assert not raw.discordant.flags.writeable
    other = _unit_pairs.own_matrices(X[:, 0], y[::-1].copy(), units, k)
    assert other is not raw


def _view(seed=3, n_items=40):
    rng = np.random.default_rng(seed)
    items = np.repeat(np.arange(n_items), rng.integers(1, 7, n_items))
    human = rng.integers(1, 5, items.size).astype(float)
    base = human + rng.normal(0, 2, items.size)
    scores = {"a": np.round(base, 1), "b": np.round(base + rng.normal(0, 1, items.size), 1),
              "c": rng.integers(0, 4, items.size) / 4}
    return scores, human, items


def _permutation_numbers():
    scores, human, items = _view()
    out = []
    for stat in ("kendall_b", "kendall_c"):
        r = permutation_test(scores["a"], scores["c"], human, stat, items=items,
                             n_permutations=300, seed=5)
        out.append((r.p_value, r.delta))
        results, clusters = compare_all(scores, human, stat, items=items, n_resamples=200,
                                        n_permutations=300, seed=7)
        out += [(c.p_value, c.delta, c.ci_low, c.ci_high) for c in results]
        out.append(clusters.p_values)
        b = bootstrap_ci(scores["b"], human, stat, items=items, n_resamples=300, seed=2)
        out.append((b.value, b.ci_low, b.ci_high))
    return out


def test_tests_by_units_give_the_numbers_of_the_rows_engine(monkeypatch):
    fast = _permutation_numbers()
    monkeypatch.setattr(_unit_pairs, "applies", lambda n_rows, n_units: False)
    assert _permutation_numbers() == fast


def _blas_threads(_):
    from threadpoolctl import threadpool_info

    return sorted({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})


def test_forked_workers_share_the_cores_among_their_blas_threads():
    """Each worker of compare_all's pool runs its BLAS on its share of the cores (a BLAS
    thread per core in every worker oversubscribed them: two workers were slower than one)."""
    import multiprocessing

    from correlation import compare

    if "fork" not in multiprocessing.get_all_start_methods():
        return
    with multiprocessing.get_context("fork").Pool(
            2, initializer=compare._start_worker, initargs=(compare.worker_threads(2),)) as pool:
        seen = pool.map(_blas_threads, range(2))
    assert seen == [[compare.worker_threads(2)]] * 2
    assert compare.worker_threads(2) == max(1, len(__import__("os").sched_getaffinity(0)) // 2)


def test_compare_all_takes_each_metrics_unit_pair_counts_from_the_intervals_cache(monkeypatch):
    """The intervals' bootstrap counted each metric's unit pairs (raw scores); the
    permutation tests (z-scores, same order) take them from the ReplicateCache, as worker
    processes hand it to the one that compares, and give the same numbers."""
    from correlation import correlate
    from correlation.replicates import ReplicateCache

    scores, human, items = _view(4)
    want = compare_all(scores, human, "kendall_b", items=items, n_resamples=100,
                       n_permutations=100, seed=3)
    cache = ReplicateCache()
    for name in scores:
        correlate(scores[name], human, "kendall_b", items=items, ci_method="bca",
                  n_resamples=100, seed=3, cache=cache)
    shipped = ReplicateCache()
    shipped.update(cache.items())              # as parallel.analyse sends it
    computed = []
    real = _unit_pairs._own_matrices
    monkeypatch.setattr(_unit_pairs, "_OWN", type(_unit_pairs._OWN)())
    monkeypatch.setattr(_unit_pairs, "_own_matrices",
                        lambda *a, **k: computed.append(1) or real(*a, **k))
    got = compare_all(scores, human, "kendall_b", items=items, n_resamples=100,
                      n_permutations=100, seed=3, cache=shipped)
    assert computed == []
    assert [(r.p_value, r.ci_low, r.ci_high) for r in got[0]] == \
        [(r.p_value, r.ci_low, r.ci_high) for r in want[0]]
    assert len(shipped) == len(scores)         # replicates per metric; unit pairs beside them
