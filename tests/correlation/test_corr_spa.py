"""Soft pairwise accuracy (Thompson et al. 2024) against MTME's definition, and
system-level pairwise accuracy by hand."""
import itertools

import numpy as np
import pytest

from correlation import soft_pairwise_accuracy, spa_ci, spa_clusters, system_pairwise_accuracy
from correlation.spa import pairwise_p_values


def mtme_p_values(seg, num_permutations, seed=4):
    """MTME pce.compute_pairwise_p_values as its docstring defines it: float32 scores, a
    0/1 mask from rounding default_rng(seed).random, mapped to -1/+1 and shared by all
    pairs; p = #(null delta >= observed delta) / draws, upper triangle."""
    seg = np.asarray(seg, dtype=np.float32)
    signs = np.rint(np.random.default_rng(seed).random((num_permutations, seg.shape[1]),
                                                       dtype=np.float32)) * 2 - 1
    k = seg.shape[0]
    p = np.full((k, k), np.nan)
    for i in range(k):
        for j in range(i + 1, k):
            null = signs @ seg[i] - signs @ seg[j]
            p[i, j] = np.mean(null >= seg[i].sum() - seg[j].sum())
    return p


def mtme_spa(metric_seg, human_seg, num_permutations):
    ph, pm = (mtme_p_values(x, num_permutations) for x in (human_seg, metric_seg))
    i, j = np.triu_indices(ph.shape[0], 1)
    return 1 - np.mean(np.abs(ph[i, j] - pm[i, j]))


def _synthetic(seed, systems=5, items=60):
    rng = np.random.default_rng(seed)
    quality = np.linspace(0, 0.4, systems)
    human = quality[:, None] + rng.normal(size=(systems, items))
    metric = human + rng.normal(scale=1.5, size=(systems, items))
    labels = np.repeat(np.arange(systems), items), np.tile(np.arange(items), systems)
    return metric, human, labels


def test_p_values_equal_the_exact_permutation_distribution():
    # every one of the 2^8 sign vectors once: the p-values are the exact ones
    rng = np.random.default_rng(1)
    seg = rng.normal(size=(3, 8))
    signs = np.array(list(itertools.product([-1.0, 1.0], repeat=8)))
    p = pairwise_p_values(seg, signs)
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        d = seg[i] - seg[j]
        exact = np.mean([(s @ d) >= d.sum() - 1e-12 for s in signs])
        assert p[i, j] == pytest.approx(exact)
    assert np.isnan(p[1, 0]) and np.isnan(p[0, 0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spa_agrees_with_mtme_within_monte_carlo_error(seed):
    metric, human, (systems, items) = _synthetic(seed)
    draws = 20_000
    ours = soft_pairwise_accuracy(metric.ravel(), human.ravel(), systems, items,
                                  n_permutations=draws, seed=seed)
    theirs = mtme_spa(metric, human, draws)
    # each p-value has Monte-Carlo sd <= 0.5/sqrt(20000) = 0.0035 in either scheme
    assert abs(ours - theirs) < 0.01
    assert 0.5 < ours < 1.0


def test_spa_is_one_for_the_human_scores_and_ignores_affine_changes():
    metric, human, (systems, items) = _synthetic(5)
    assert soft_pairwise_accuracy(human.ravel(), human.ravel(), systems, items) == 1.0
    a = soft_pairwise_accuracy(metric.ravel(), human.ravel(), systems, items)
    b = soft_pairwise_accuracy(3 * metric.ravel() - 7, human.ravel(), systems, items)
    assert a == pytest.approx(b)
    # a reversed metric is far from the humans
    assert soft_pairwise_accuracy(-human.ravel(), human.ravel(), systems, items) < 0.5


def test_rows_are_averaged_per_cell_and_incomplete_items_dropped():
    metric, human, (systems, items) = _synthetic(7, systems=3, items=20)
    # two annotators per cell whose mean is the human score
    h2 = np.r_[human.ravel() + 1, human.ravel() - 1]
    m2 = np.r_[metric.ravel(), metric.ravel()]
    s2, i2 = np.r_[systems, systems], np.r_[items, items]
    assert soft_pairwise_accuracy(m2, h2, s2, i2) == pytest.approx(
        soft_pairwise_accuracy(metric.ravel(), human.ravel(), systems, items))
    m3 = metric.ravel().copy()
    m3[0] = np.nan  # system 0 on item 0: item 0 leaves the matrix
    r = spa_ci(m3, human.ravel(), systems, items, n_resamples=50)
    assert r.n_dropped == 1 and r.n_groups == 19 and r.n == 3
    assert r.ci_low <= r.value <= r.ci_high


def test_system_pairwise_accuracy_by_hand():
    # system means: human A 1, B 2, C 3; metric A 0.1, B 0.3, C 0.2
    # pairs AB agree, AC agree, BC disagree -> 2/3
    human = np.array([1, 1, 2, 2, 3, 3.0])
    metric = np.array([0.1, 0.1, 0.2, 0.4, 0.2, 0.2])
    systems = np.array(["A", "A", "B", "B", "C", "C"])
    assert system_pairwise_accuracy(metric, human, systems) == pytest.approx(2 / 3)


def test_clusters_separate_a_noisy_metric():
    metric, human, (systems, items) = _synthetic(3, items=200)
    rng = np.random.default_rng(0)
    noisy = rng.normal(size=human.shape)  # unrelated to the humans
    c = spa_clusters({"noisy": noisy.ravel(), "good": metric.ravel()}, human.ravel(), systems,
                     items, n_tests=100)
    assert c.clusters() == [["good"], ["noisy"]]
    assert c.p_values[0][1] < 0.05
