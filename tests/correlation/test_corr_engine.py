"""The batched Kendall counts behind the fast bootstrap and permutation test, against scipy."""
import warnings

import numpy as np
import pytest
import scipy.stats

from correlation._kendall_engine import KendallBatch, leave_one_out_counts, tau_from_counts


def same(a, b):
    return (np.isnan(a) and np.isnan(b)) or abs(a - b) < 1e-12


def scipy_tau(x, y, v):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scipy.stats.kendalltau(x, y, variant=v).statistic


@pytest.mark.parametrize("n_human_values", [2, 4, 11, 60])      # few classes and the per-bit layout
@pytest.mark.parametrize("metric_kind", ["continuous", "tied", "partly tied"])
def test_weighted_counts_equal_scipy_on_resampled_rows(n_human_values, metric_kind):
    """Tie counts run over every row (most rows share a metric value) or over the rows that
    share one (a few do): both exact."""
    rng = np.random.default_rng(n_human_values)
    n = 150
    y = rng.integers(0, n_human_values, n).astype(float)
    x = rng.normal(size=n) if metric_kind == "continuous" else rng.integers(0, 6, n).astype(float)
    if metric_kind == "partly tied":
        x = rng.normal(size=n)
        x[:45] = rng.integers(0, 5, 45)      # 30 % of the rows share five values
    batch = KendallBatch(x, y)
    W = rng.multinomial(n, np.full(n, 1 / n), size=8)
    W[0] = 0
    W[0, :3] = [1, 1, 5]                       # a tiny resample
    k = batch.counts(weights=W)
    for r in range(W.shape[0]):
        idx = np.repeat(np.arange(n), W[r])
        for v in "bc":
            assert same(tau_from_counts(k, v)[r], scipy_tau(x[idx], y[idx], v))


def swap_cases(rng, n):
    y = rng.integers(1, 5, n).astype(float)
    cont_a, cont_b = rng.normal(size=n), rng.normal(size=n)
    cap_a = np.repeat(rng.normal(size=n // 3), 3)           # one score per caption, 3 rows each
    cap_b = np.repeat(rng.normal(size=n // 3), 3)
    return {
        "continuous": (cont_a, cont_b, y),
        "caption repeats": (cap_a, cap_b, y),
        "cross-metric equal values": (cap_a, np.roll(cap_a, 7) + (rng.random(n) < 0.5), y),
        "heavy ties": (rng.integers(0, 3, n).astype(float), rng.integers(0, 5, n).astype(float), y),
        "few rows, many human classes": (np.repeat([0.1, 0.2], n // 2), np.repeat([0.3, 0.1], n // 2),
                                         np.arange(n, dtype=float)),
    }


@pytest.mark.parametrize("case", ["continuous", "caption repeats", "cross-metric equal values",
                                  "heavy ties", "few rows, many human classes"])
def test_choice_counts_equal_scipy_on_swapped_scores(case):
    rng = np.random.default_rng(1)
    a, b, y = swap_cases(rng, 12 if case.startswith("few") else 150)[case]
    batch = KendallBatch(np.column_stack([a, b]), y)
    choice = rng.random((10, a.size)) < 0.5
    k = batch.counts(choice=choice)
    for r in range(10):
        x = np.where(choice[r], b, a)
        for v in "bc":
            assert same(tau_from_counts(k, v)[r], scipy_tau(x, y, v)), (case, r, v)
        for v in ("23", "acc23"):
            c_, d_ = 0, 0
            for i in range(x.size):
                for j in range(i + 1, x.size):
                    dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
                    c_ += dx == dy
                    d_ += dx != dy
            expected = c_ / (c_ + d_) if v == "acc23" else (c_ - d_) / (c_ + d_)
            assert tau_from_counts(k, v)[r] == pytest.approx(expected, abs=1e-12)


def test_leave_one_out_counts_equal_scipy():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 5, 40).astype(float)
    y = rng.integers(0, 3, 40).astype(float)
    x[:2] = [9, 10]   # two singleton metric values: leaving one out changes tau-c's class count
    loo = leave_one_out_counts(x, y)
    for i in range(40):
        keep = np.arange(40) != i
        for v in "bc":
            assert same(tau_from_counts(loo, v)[i], scipy_tau(x[keep], y[keep], v))
