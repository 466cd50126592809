"""Bootstrap: fast paths equal recomputation, exact jackknives, BCa, coverage."""
import math
import warnings

import numpy as np
import pytest

from correlation import UndefinedCorrelationWarning, bootstrap_ci, correlate
from correlation._resample import (_materialised_values, draw_counts, jackknife_values, materialise,
                                   swapped_values, weighted_values)
from correlation.bootstrap import bca_interval, percentile_interval
from correlation._problem import Problem, level_point


def grouped_data(seed, n_items=9, n_systems=4):
    """Every system scores every item (a few rows missing), with ties on both sides."""
    rng = np.random.default_rng(seed)
    items = np.repeat(np.arange(n_items), n_systems)
    systems = np.tile(np.arange(n_systems), n_items)
    keep = rng.random(items.size) > 0.1
    items, systems = items[keep], systems[keep]
    h = rng.integers(0, 4, items.size).astype(float)
    m = np.round(h + rng.normal(0, 1.5, items.size), 0)
    m2 = np.round(h + rng.normal(0, 2.0, items.size), 1)
    return m, m2, h, items, systems


CASES = (
    [("flat", s, u) for s in ("kendall_b", "kendall_c", "kendall_23", "acc23", "spearman", "pearson")
     for u in ("rows", "items", "systems", "both")]
    + [("item", s, u) for s in ("kendall_b", "kendall_c", "acc23", "pearson", "spearman")
       for u in ("items", "rows", "both")]
    + [("system", s, u) for s in ("kendall_b", "pearson") for u in ("rows", "items", "systems", "both")]
    + [("pair", s, u) for s in ("accuracy", "tau_like", "acc23") for u in ("rows", "items")]
)


@pytest.mark.parametrize("level,statistic,unit", CASES)
def test_fast_paths_equal_recomputing_each_resample(level, statistic, unit):
    m, m2, h, items, systems = grouped_data(1)
    if level == "pair":
        h = np.sign(h - 1.5) * (h != 2)
        m, m2 = m - 1.5, m2 - 2
    prob = Problem([m, m2], h, statistic, level, items, systems, names=("m", "m2"))
    sizes = (prob.n_units("systems"), prob.n_units("items")) if unit == "both" else (prob.n_units(unit),)
    counts = next(draw_counts(np.random.default_rng(5), sizes, 12, 12))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = weighted_values(prob, unit, counts)
        slow = _materialised_values(prob, unit, counts)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-10)


def test_materialise_both_copies_units():
    # 2 systems x 2 items, one row each; draw system 0 twice, item 1 twice (and nothing else)
    prob = Problem([[1.0, 2, 3, 4]], [1.0, 2, 3, 4], "pearson", "flat", items=[0, 1, 0, 1],
                   systems=[0, 0, 1, 1])
    idx, items, systems = materialise(prob, "both", (np.array([2, 0]), np.array([0, 2])))
    # rows of system 0 on item 1: row 1, four times (2 system copies x 2 item copies)
    assert sorted(idx.tolist()) == [1, 1, 1, 1]
    assert sorted(zip(items.tolist(), systems.tolist())) == [(0, 0), (0, 1), (1, 0), (1, 1)]


@pytest.mark.parametrize("statistic", ["kendall_b", "kendall_c", "acc23", "pearson"])
def test_exact_row_jackknife_equals_leaving_each_row_out(statistic):
    m, _, h, items, systems = grouped_data(2)
    prob = Problem([m], h, statistic, "flat")
    jk, note = jackknife_values(prob, "rows", np.random.default_rng(0))
    assert "exact" in note
    for i in range(prob.n):
        keep = np.arange(prob.n) != i
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = level_point(m[keep], h[keep], None, None, statistic, "flat", 0.0).value
        assert jk[i, 0] == pytest.approx(expected, abs=1e-10, nan_ok=True)


@pytest.mark.parametrize("level,statistic", [("item", "kendall_b"), ("pair", "accuracy")])
def test_exact_item_jackknife_equals_leaving_each_item_out(level, statistic):
    m, _, h, items, systems = grouped_data(3)
    if level == "pair":
        h = np.sign(h - 1.5)
    prob = Problem([m], h, statistic, level, items=items)
    jk, note = jackknife_values(prob, "items", np.random.default_rng(0))
    for g in range(prob.n_units("items")):
        keep = prob.items != g
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = level_point(prob.X[keep, 0], prob.y[keep], prob.items[keep], None, statistic,
                                   level, 0.0).value
        assert jk[g, 0] == pytest.approx(expected, abs=1e-12)


def test_same_seed_same_interval_and_generator_accepted():
    m, _, h, items, _ = grouped_data(4, n_items=30)
    a = bootstrap_ci(m, h, "kendall_b", seed=3, n_resamples=200)
    b = bootstrap_ci(m, h, "kendall_b", seed=3, n_resamples=200)
    c = bootstrap_ci(m, h, "kendall_b", seed=4, n_resamples=200)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)
    g = bootstrap_ci(m, h, "kendall_b", seed=np.random.default_rng(3), n_resamples=200)
    assert math.isfinite(g.ci_low) and g.seed is None
    assert a.seed == 3 and a.n_resamples == 200 and a.confidence == 0.95


def test_defaults_and_natural_units():
    m, _, h, items, systems = grouped_data(5, n_items=20)
    r = bootstrap_ci(m, h, "kendall_c")
    assert (r.n_resamples, r.confidence, r.unit) == (1000, 0.95, "rows")
    assert "bca" in r.method and r.ci_low <= r.value <= r.ci_high
    assert bootstrap_ci(m, h, "kendall_c", items=items).unit == "items"
    assert bootstrap_ci(m, h, "kendall_c", "item", items=items).unit == "items"
    assert bootstrap_ci(m, h, "pearson", "system", systems=systems).unit == "systems"
    assert bootstrap_ci(m, h, "pearson", "system", items=items, systems=systems).unit == "both"
    assert correlate(m, h, "kendall_c", ci_method="percentile").to_dict()["ci_low"] is not None


def test_n_units_counts_what_the_bootstrap_resampled():
    """n counts rows at item level; n_units the items (or rows, systems) drawn."""
    m, _, h, items, systems = grouped_data(5, n_items=20)
    m = m.copy()
    m[items == 7] = np.nan  # item 7 leaves entirely: 19 items are resampled
    rows = int(np.isfinite(m).sum())
    by_item = bootstrap_ci(m, h, "kendall_c", "item", items=items, n_resamples=50)
    assert (by_item.n_units, by_item.n_nan) == (19, int((items == 7).sum()))
    assert by_item.n <= rows and by_item.n_units != by_item.n
    assert bootstrap_ci(m, h, "kendall_c", items=items, n_resamples=50).n_units == 19
    assert bootstrap_ci(m, h, "kendall_c", n_resamples=50).n_units == rows
    assert bootstrap_ci(m, h, "pearson", "system", systems=systems, n_resamples=50).n_units == 4
    both = bootstrap_ci(m, h, "pearson", "system", items=items, systems=systems, n_resamples=50)
    assert (both.unit, both.n_units, both.n) == ("both", 19, 4)  # items drawn; n = systems
    assert correlate(m, h, "kendall_c", "item", items=items).n_units is None  # no interval


def test_bca_equals_percentile_without_bias_or_skew():
    reps = np.linspace(-1, 1, 2001)          # symmetric around the estimate 0: z0 = 0
    jack = np.full(50, 0.3)                  # no spread: acceleration 0
    lo, hi, why = bca_interval(0.0, reps, jack, 0.9)
    assert not why
    assert (lo, hi) == pytest.approx(percentile_interval(reps, 0.9))


def test_bca_corrects_a_shift_bias():
    # replicates centred 0.1 above the estimate 0 (a = 0): z0 = Phi^-1(P(rep < 0)) ~ -0.1, and
    # the bounds move to the replicate quantiles at Phi(2 z0 -+ 1.645): about 0.1 - 0.2 -+ 1.645,
    # i.e. the percentile interval shifted down by twice the bias
    rng = np.random.default_rng(0)
    reps = rng.normal(0.1, 1, 20000)
    lo, hi, _ = bca_interval(0.0, reps, np.zeros(10), 0.9)
    assert lo == pytest.approx(-0.1 - 1.645, abs=0.05)
    assert hi == pytest.approx(-0.1 + 1.645, abs=0.05)


def test_undefined_replicates_are_left_out_and_counted():
    # few rows with one high human score: some resamples miss it and are constant
    m = [0.1, 0.4, 0.3, 0.9, 0.2, 0.5]
    h = [0, 0, 0, 1, 0, 1]
    r = bootstrap_ci(m, h, "kendall_b", n_resamples=300, ci_method="percentile")
    assert "undefined and left out" in r.notes
    assert math.isfinite(r.ci_low)


def test_undefined_statistic_gives_nan_interval_not_a_crash():
    with pytest.warns(UndefinedCorrelationWarning):
        r = bootstrap_ci([1, 1, 1], [1, 2, 3], "kendall_b")
    assert math.isnan(r.value) and math.isnan(r.ci_low)


def test_bad_settings():
    with pytest.raises(ValueError, match="method"):
        bootstrap_ci([1, 2, 3], [1, 2, 3], "pearson", ci_method="basic")
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([1, 2, 3], [1, 2, 3], "pearson", confidence=95)
    with pytest.raises(ValueError, match="needs items"):
        bootstrap_ci([1, 2, 3], [1, 2, 3], "pearson", unit="items")
    with pytest.raises(ValueError, match="seed"):
        bootstrap_ci([1, 2, 3], [1, 2, 3], "pearson", seed=None)


SWAP_CASES = [("flat", "kendall_b", "rows"), ("flat", "kendall_c", "items"), ("flat", "acc23", "systems"),
              ("flat", "pearson", "rows"), ("flat", "spearman", "rows"), ("item", "kendall_b", "items"),
              ("item", "pearson", "rows"), ("system", "kendall_b", "rows"), ("pair", "accuracy", "rows"),
              ("pair", "acc23", "items")]


@pytest.mark.parametrize("level,statistic,unit", SWAP_CASES)
def test_swapped_values_equal_recomputing_each_draw(level, statistic, unit):
    m, m2, h, items, systems = grouped_data(6)
    if level == "pair":
        h = np.sign(h - 1.5) * (h != 2)
        m, m2 = m - 1.5, m2 - 2
    prob = Problem([m, m2], h, statistic, level, items, systems)
    swaps = np.random.default_rng(1).random((10, prob.n_units(unit))) < 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = swapped_values(prob, unit, swaps, standardize=True)
    X = prob._cache[("swap_X", True)]
    codes = {"rows": np.arange(prob.n), "items": prob.items, "systems": prob.systems}[unit]
    for r in range(swaps.shape[0]):
        s = swaps[r][codes]
        xa, xb = np.where(s, X[:, 1], X[:, 0]), np.where(s, X[:, 0], X[:, 1])
        for j, x in enumerate((xa, xb)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = level_point(x, prob.y, prob.items, prob.systems, statistic, level, 0.0).value
            assert fast[r, j] == pytest.approx(expected, abs=1e-10, nan_ok=True)


@pytest.mark.slow
def test_coverage_of_95_percent_intervals_on_bivariate_normal():
    """200 data sets of n = 200 from a bivariate normal with rho = 0.5: the true Pearson
    correlation is 0.5 and the true Kendall tau is (2/pi) asin(0.5) = 1/3. A correct 95 %
    interval covers the truth in about 95 % of data sets; with 200 data sets the binomial
    standard error is 1.5 points, so we accept 0.95 +- 0.04 (about 2.6 standard errors).
    400 resamples per interval: coverage is a property of the interval, not of the number
    of resamples (1,000 give 0.98 and 0.975 here, 400 give 0.975 and 0.975)."""
    rng = np.random.default_rng(2024)
    rho, n, reps = 0.5, 200, 200
    cov = [[1, rho], [rho, 1]]
    truth = {"pearson": rho, "kendall_b": 2 / np.pi * np.arcsin(rho)}
    hits = {k: 0 for k in truth}
    for r in range(reps):
        x, y = rng.multivariate_normal([0, 0], cov, size=n).T
        for stat in truth:
            res = bootstrap_ci(x, y, stat, seed=r, n_resamples=400)
            hits[stat] += res.ci_low <= truth[stat] <= res.ci_high
    for stat, h in hits.items():
        assert 0.91 <= h / reps <= 0.99, (stat, h / reps)
