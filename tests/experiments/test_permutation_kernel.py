"""The bench's counting kernel (issue 23) is right, and so is the package it times:
the kernel's tau-c of every draw equals a direct count over all pairs, and its
draws, deltas and p-value are the package's permutation test's."""
import numpy as np
import pytest

from correlation import permutation_test
from correlation._problem import Problem
from correlation._zscore import distinct_zscores as package_distinct_zscores
from correlation.compare import _permutation_draws
from experiments.speed_cases.permutation_kernel import (CASES, counting_permutation_test,
                                                        distinct_zscores, swap_draws)

N_DRAWS = 40


def view(seed, n=30):
    """Rows of 10 items x 3 judgments in 1..4; two metrics with ties, one with scores so
    small beside its others that z-scoring merges them (distinct_zscores must split them)."""
    rng = np.random.default_rng(seed)
    items = np.arange(n) // 3
    human = rng.integers(1, 5, n).astype(float)
    a = np.round(human + rng.normal(0, 1.2, n), 1)
    b = np.where(rng.random(n) < 0.3, rng.choice([1e-17, 2e-17, 3e-17], n),
                 np.round(rng.random(n) * 4, 1))
    return a, b, human, items


def direct_tau_c(x, y):
    """tau-c from the signs of all n^2 pairs: 2 (P - Q) / (n^2 (m - 1) / m)."""
    s = np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :])
    cmd = float(s.sum()) / 2
    m = float(min(np.unique(x).size, np.unique(y).size))
    return 2 * cmd / (x.size ** 2 * (m - 1) / m)


@pytest.mark.parametrize("seed", range(4))
def test_the_kernels_draws_equal_a_direct_count_of_each_draw(seed):
    a, b, human, items = view(seed)
    za, zb = distinct_zscores(a), distinct_zscores(b)
    assert np.unique(zb).size == np.unique(b).size   # the merged tiny scores were split
    p, observed, d = counting_permutation_test(a, b, human, items, N_DRAWS, seed=seed)
    [swaps] = list(swap_draws(seed, N_DRAWS, a.size, 10))
    expected = []
    for draw in swaps[:, items]:
        expected.append(direct_tau_c(np.where(draw, zb, za), human)
                        - direct_tau_c(np.where(draw, za, zb), human))
    np.testing.assert_allclose(d, expected, rtol=0, atol=1e-14)
    assert observed == pytest.approx(direct_tau_c(za, human) - direct_tau_c(zb, human), abs=1e-14)
    hits = np.count_nonzero(np.abs(expected) >= abs(observed) - 1e-12)
    assert p == (1 + hits) / (1 + N_DRAWS)


@pytest.mark.parametrize("seed", range(4))
def test_the_kernel_and_the_package_give_the_same_test(seed):
    a, b, human, items = view(seed)
    np.testing.assert_array_equal(distinct_zscores(a), package_distinct_zscores(a))
    np.testing.assert_array_equal(distinct_zscores(b), package_distinct_zscores(b))
    p, observed, d = counting_permutation_test(a, b, human, items, N_DRAWS, seed=seed)
    ours = permutation_test(a, b, human, "kendall_c", items=items, n_permutations=N_DRAWS,
                            seed=seed)
    prob = Problem([a, b], human, "kendall_c", "flat", items, None, 0.0, names=("a", "b"))
    package_observed, package_d = _permutation_draws(prob, "items", N_DRAWS, True,
                                                     np.random.default_rng(seed))
    assert ours.swap_unit == "items"
    np.testing.assert_array_equal(d, package_d)
    assert observed == package_observed
    assert ours.p_value == p
    assert ours.delta == pytest.approx(observed, abs=1e-12)


def test_the_kernel_reads_blocks_of_draws_as_the_package_does():
    # 30,000 rows: 83 draws per block, so 200 draws span three blocks of the random stream
    rng = np.random.default_rng(7)
    n = 30_000
    items = np.arange(n) // 3
    human = rng.integers(1, 5, n).astype(float)
    a, b = np.round(human + rng.normal(0, 1, n)), np.round(rng.normal(0, 1, n), 1)
    p, observed, d = counting_permutation_test(a, b, human, items, 200, seed=3)
    prob = Problem([a, b], human, "kendall_c", "flat", items, None, 0.0, names=("a", "b"))
    package_observed, package_d = _permutation_draws(prob, "items", 200, True,
                                                     np.random.default_rng(3))
    np.testing.assert_array_equal(d, package_d)
    assert p == permutation_test(a, b, human, "kendall_c", items=items, n_permutations=200,
                                 seed=3).p_value


def test_a_case_per_real_pair_of_each_flickr8k_benchmark():
    names = [case.name for case in CASES]
    assert len(names) == 6 and len(set(names)) == 6
    assert all(case.baseline is not None and case.target_ratio == 1.0 for case in CASES)
