"""Exact leave-one-unit-out Kendall (BCa acceleration) against a naive loop over scipy."""
import warnings

import numpy as np
import pytest
import scipy.stats

from correlation import bootstrap_ci
from correlation._kendall_jackknife import leave_one_group_out_counts, per_row_discordant
from correlation._kendall_engine import tau_from_counts
from correlation._resample import jackknife_values
from correlation.levels import Problem


def scipy_tau(x, y, v):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scipy.stats.kendalltau(x, y, variant=v).statistic


def naive_per_row_discordant(x, y):
    s = np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :])
    return (s < 0).sum(axis=1)


def data(rng, n, kind):
    q = rng.normal(size=n)
    if kind == "few human values":
        return np.round(q + rng.normal(size=n), 1), rng.binomial(3, 1 / (1 + np.exp(-q))) / 3
    if kind == "few metric values":
        return rng.integers(0, 4, n).astype(float), q + rng.normal(size=n)
    if kind == "continuous":
        return q + rng.normal(size=n), q + rng.normal(size=n)
    return rng.integers(0, 30, n).astype(float), rng.integers(0, 25, n).astype(float)  # many ties


KINDS = ["few human values", "few metric values", "continuous", "many ties"]


@pytest.mark.parametrize("kind", KINDS)
def test_per_row_discordant_equals_naive(kind):
    x, y = data(np.random.default_rng(1), 300, kind)
    assert np.array_equal(per_row_discordant(x, y), naive_per_row_discordant(x, y))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("variant", ["b", "c", "23", "acc23"])
def test_leave_one_item_out_equals_naive_loop(kind, variant):
    rng = np.random.default_rng(2)
    x, y = data(rng, 400, kind)
    items = rng.integers(0, 37, x.size)
    items[:5] = 40                       # one item holding values nowhere else (tau-c classes)
    x[:5], y[:5] = [9.5, 9.6, 9.7, 9.8, 9.9], [7, 7, 8, 8, 9]
    prob = Problem([x], y, KENDALL[variant], items=items)
    jk, note = jackknife_values(prob, "items", np.random.default_rng(0))
    assert note == "leave-one-item-out"
    for g in range(prob.n_units("items")):
        keep = prob.items != g
        if variant in ("b", "c"):
            expected = scipy_tau(prob.X[keep, 0], prob.y[keep], variant)
        else:
            expected = direct_23(prob.X[keep, 0], prob.y[keep], variant)
        assert (np.isnan(expected) and np.isnan(jk[g, 0])) or abs(jk[g, 0] - expected) <= 1e-12


KENDALL = {"b": "kendall_b", "c": "kendall_c", "23": "kendall_23", "acc23": "acc23"}


def direct_23(x, y, variant):
    sx = np.sign(x[:, None] - x[None, :])
    sy = np.sign(y[:, None] - y[None, :])
    iu = np.triu_indices(x.size, 1)
    sx, sy = sx[iu], sy[iu]
    agree = np.count_nonzero(sx == sy)
    if variant == "acc23":
        return agree / sx.size
    return (2 * agree - sx.size) / sx.size


def test_systems_and_rows_leave_one_out_and_tiny_groups():
    rng = np.random.default_rng(3)
    x, y = data(rng, 120, "many ties")
    systems = rng.integers(0, 6, x.size)
    prob = Problem([x, -x + rng.normal(size=x.size)], y, "kendall_b", systems=systems)
    jk, note = jackknife_values(prob, "systems", np.random.default_rng(0))
    assert note == "leave-one-system-out"
    for g in range(6):
        keep = prob.systems != g
        for j in range(2):
            assert abs(jk[g, j] - scipy_tau(prob.X[keep, j], prob.y[keep], "b")) <= 1e-12
    jk_rows, _ = jackknife_values(prob, "rows", np.random.default_rng(0))
    for i in (0, 7, 119):
        keep = np.arange(x.size) != i
        assert abs(jk_rows[i, 0] - scipy_tau(prob.X[keep, 0], prob.y[keep], "b")) <= 1e-12
    # leaving out all but one row of the data: undefined, as scipy says
    k = leave_one_group_out_counts(np.array([1., 2., 3.]), np.array([1., 2., 2.]),
                                   np.array([0, 0, 1]), 2)
    assert np.isnan(tau_from_counts(k, "b")[0])


def test_bca_over_more_than_1000_items_uses_the_exact_jackknife():
    rng = np.random.default_rng(4)
    x, y = data(rng, 3000, "few human values")
    items = np.arange(x.size) // 2                       # 1,500 items of two rows
    res = bootstrap_ci(x, y, "kendall_b", items=items, n_resamples=200, seed=0)
    assert "acceleration from leave-one-item-out" in res.method
    assert res.ci_low < res.value < res.ci_high
