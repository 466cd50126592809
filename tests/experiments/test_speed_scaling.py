"""The bench: its case modules, the growth-exponent fit, its synthetic view, and
cases judged on memory or on a time budget.

No timings are asserted: the fit is checked on exact synthetic inputs.
"""
import numpy as np
import pytest

from experiments.speed import _memory_row
from experiments.speed_cases import BenchCase
from experiments.speed_cases.scaling import SIZES, analyse, growth_exponent, rating_view


@pytest.mark.parametrize("power", [0.5, 1.0, 1.5, 2.0])
def test_growth_exponent_of_a_power_law_is_its_power(power):
    sizes = np.array(SIZES, dtype=float)
    assert growth_exponent(sizes, 3.7e-6 * sizes**power) == pytest.approx(power, abs=1e-12)


def test_growth_exponent_of_two_points_is_the_log_ratio():
    # hand-worked: time x8 for rows x4 -> log 8 / log 4 = 1.5
    assert growth_exponent([1_000, 4_000], [0.5, 4.0]) == pytest.approx(1.5, abs=1e-12)


def test_growth_exponent_of_n_log_n_over_the_bench_sizes():
    sizes = np.array(SIZES, dtype=float)
    reference = np.polyfit(np.log(sizes), np.log(sizes * np.log(sizes)), 1)[0]
    assert growth_exponent(sizes, 2e-7 * sizes * np.log(sizes)) == pytest.approx(reference, abs=1e-12)
    assert 1.05 < reference < 1.12


def test_growth_exponent_matches_numpy_least_squares_on_noisy_times():
    rng = np.random.default_rng(3)
    sizes = np.array([10_000, 30_000, 50_000, 200_000, 1_000_000], dtype=float)
    seconds = 1e-5 * sizes**1.2 * np.exp(rng.normal(0, 0.3, sizes.size))
    reference = np.polyfit(np.log(sizes), np.log(seconds), 1)[0]
    assert growth_exponent(sizes, seconds) == pytest.approx(reference, abs=1e-12)


@pytest.mark.parametrize("sizes, seconds", [
    ([10_000], [1.0]),                         # one size: no slope
    ([10_000, 10_000], [1.0, 2.0]),            # one distinct size
    ([10_000, 50_000], [1.0]),                 # lengths differ
    ([10_000, 50_000], [1.0, 0.0]),            # a zero time
    ([10_000, 50_000], [1.0, float("nan")]),
])
def test_growth_exponent_refuses_inputs_without_a_slope(sizes, seconds):
    with pytest.raises(ValueError):
        growth_exponent(sizes, seconds)


def test_rating_view_is_seeded_and_shaped_as_flickr8k_cf():
    a, b, human, items = rating_view(1_003)
    assert a.shape == b.shape == human.shape == items.shape == (1_003,)
    assert set(np.unique(human) * 3) <= {0.0, 1.0, 2.0, 3.0}
    assert np.bincount(items).tolist() == [5] * 200 + [3]
    again = rating_view(1_003)
    assert all(np.array_equal(x, y) for x, y in zip((a, b, human, items), again))


def test_analyse_gives_the_numbers_of_uncached_calls():
    from correlation import compare_all, correlate

    a, b, human, items = rating_view(600)
    intervals, (comparisons, _) = analyse(a, b, human, items, n_resamples=30)
    for result, metric in zip(intervals, (a, b)):
        alone = correlate(metric, human, "kendall_c", "flat", items=items, ci_method="bca",
                          n_resamples=30, seed=0)
        assert (result.value, result.ci_low, result.ci_high) == (alone.value, alone.ci_low, alone.ci_high)
    uncached, _ = compare_all({"a": a, "b": b}, human, "kendall_c", "flat", items=items,
                              n_resamples=30, n_permutations=30, seed=0)
    assert [(r.delta, r.ci_low, r.ci_high, r.p_value) for r in comparisons] == \
        [(r.delta, r.ci_low, r.ci_high, r.p_value) for r in uncached]


def test_a_memory_case_is_judged_by_peak_traced_mib_over_its_target():
    case = BenchCase(name="8 MiB array", ours=lambda: np.ones(2**20).sum(), baseline=None,
                     target_ratio=1.0, memory_target_mib=16.0)
    row = _memory_row(case)
    assert 8.0 <= row["peak_mb"]["ours"] < 9.0
    assert row["ratio"] == pytest.approx(row["peak_mb"]["ours"] / 16.0, abs=0.01)
    assert row["baseline_s"] is None


def test_every_bench_module_loads_and_each_case_can_be_judged():
    from experiments.speed import discover

    cases = discover()
    names = [case.name for case in cases]
    assert len(names) == len(set(names))
    for area in ("correlation:", "power:", "scaling:", "analysis:", "clipscore:",
                 "bertscore:", "ngram:", "vlm_judge"):
        assert any(name.startswith(area) for name in names), area
    for case in cases:
        judged_by = [case.baseline is not None, case.memory_target_mib is not None,
                     case.time_budget_s is not None]
        assert callable(case.ours) and sum(judged_by) == 1, case.name


def test_a_time_budget_case_is_judged_by_seconds_over_the_budget(tmp_path, monkeypatch, capsys):
    import json

    import experiments.speed as speed

    calls = []
    case = BenchCase(name="budgeted job", ours=lambda: calls.append("ours"), baseline=None,
                     target_ratio=1.0, time_budget_s=1000.0)
    monkeypatch.setattr(speed, "discover", lambda: [case])
    assert speed.main(["--out", str(tmp_path / "bench.json")]) == 0
    [row] = json.loads((tmp_path / "bench.json").read_text())
    assert calls == ["ours"] and row["baseline_s"] == 1000.0
    assert row["ratio"] == pytest.approx(row["ours_s"] / 1000.0, abs=1e-4)
    assert "budgeted job" in capsys.readouterr().out
