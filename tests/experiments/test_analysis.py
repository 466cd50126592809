"""experiments.analysis: protocol steps to intervals, comparisons, clusters and ceilings.

Values are checked against hand-worked or directly computed numbers (numpy,
scipy), not against the correlation engine that produced them.
"""
from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
from scipy import stats

from experiments.pipeline.agreement import (HUMAN_CEILING, AnalysisSettings, annotate_clusters, compare,
                                  evaluate, human_ceilings, views)
from experiments.benchmarks.base import Benchmark, Preferences, ProtocolStep, Ratings
from metrics.base import Sample

FAST = AnalysisSettings(bootstrap=300, permutations=300, seed=3)


def rating_bench() -> Benchmark:
    """Three images x three systems, one rating per candidate."""
    ids = [f"{img}/{sys}" for img in ("i1", "i2", "i3") for sys in ("s1", "s2", "s3")]
    human = [1, 2, 3, 2, 1, 3, 3, 3, 1]
    return Benchmark(
        [Sample(i, i, ("ref",)) for i in ids],
        [ProtocolStep("pearson", "flat"), ProtocolStep("pearson", "item"),
         ProtocolStep("pearson", "system")], "toy",
        ratings=Ratings(ids, np.array(human, float), items=[i.split("/")[0] for i in ids],
                        systems=[i.split("/")[1] for i in ids]), name="toy")


def test_levels_match_direct_numpy():
    bench = rating_bench()
    metric = np.array([0.1, 0.5, 0.9, 0.4, 0.2, 0.3, 0.8, 0.6, 0.7])
    human = bench.ratings.values
    rows = {r.level: r for r in evaluate(bench, "m", metric, FAST)}
    assert rows["flat"].value == pytest.approx(np.corrcoef(metric, human)[0, 1], abs=1e-12)
    per_item = [np.corrcoef(metric[k:k + 3], human[k:k + 3])[0, 1] for k in (0, 3, 6)]
    assert rows["item"].value == pytest.approx(np.mean(per_item), abs=1e-12)
    sys_m = [metric[j::3].mean() for j in range(3)]
    sys_h = [human[j::3].mean() for j in range(3)]
    assert rows["system"].value == pytest.approx(np.corrcoef(sys_m, sys_h)[0, 1], abs=1e-12)
    assert [rows[level].unit for level in ("flat", "item", "system")] == ["items", "items", "both"]
    assert rows["flat"].n == 9 and rows["system"].n == 3


def preference_bench() -> tuple[Benchmark, np.ndarray]:
    """Two categories; pair P0 judged by three annotators, the others by one."""
    rng = np.random.default_rng(11)
    samples, cols = [], {"pair_ids": [], "sample_a": [], "sample_b": [], "outcome": [],
                         "category": []}
    for k in range(40):
        a, b = f"P{k}/a", f"P{k}/b"
        samples += [Sample(a, a, ("r",)), Sample(b, b, ("r",))]
        for outcome in ([1, 1, 0] if k == 0 else [int(rng.choice([1, -1, 0]))]):
            cols["pair_ids"].append(f"P{k}")
            cols["sample_a"].append(a)
            cols["sample_b"].append(b)
            cols["outcome"].append(outcome)
            cols["category"].append("odd" if k % 2 else "even")
    bench = Benchmark(samples, [ProtocolStep("accuracy", "pair", by="category"),
                                ProtocolStep("acc23", "pair")], "toy",
                      preferences=Preferences(**cols), name="prefs")
    return bench, rng.random(len(samples))


def test_pair_statistics_by_category_match_a_direct_count():
    bench, scores = preference_bench()
    scores[1] = scores[0]  # P0: a metric tie, which counts as wrong
    prefs = bench.preferences
    score = {s.id: v for s, v in zip(bench.samples, scores)}
    rows = evaluate(bench, "m", scores, FAST)
    for category in ("even", "odd"):
        right = decisive = 0
        for a, b, o, c in zip(prefs.sample_a, prefs.sample_b, prefs.outcome, prefs.category):
            if c == category and o != 0:
                decisive += 1
                right += (score[a] > score[b] and o == 1) or (score[a] < score[b] and o == -1)
        row = next(r for r in rows if r.statistic == "accuracy" and r.subset == category)
        assert row.n == decisive and row.value == pytest.approx(right / decisive, abs=1e-12)
        # the pairs are resampled (P0's three judgments together), and said so
        assert row.ci_low <= row.value <= row.ci_high and row.unit == "pairs"
        assert row.n_units == 20  # of 20 pairs in each category
    agree = [np.sign(score[a] - score[b]) == o
             for a, b, o in zip(prefs.sample_a, prefs.sample_b, prefs.outcome)]
    row = next(r for r in rows if r.statistic == "acc23")
    assert row.n == len(prefs) and row.value == pytest.approx(np.mean(agree), abs=1e-12)
    assert (row.n, row.unit, row.n_units) == (42, "pairs", 40)  # 42 judgments of 40 pairs


def test_oracle_beats_noise_and_twins_share_a_cluster():
    bench, noise = preference_bench()
    prefs = bench.preferences
    index = bench.sample_index()
    oracle = np.zeros(len(bench.samples))
    for a, o in zip(prefs.sample_a, prefs.outcome):
        oracle[index[a]] += o  # A scores above B exactly when people preferred A
    scored = {"noise": noise, "oracle": oracle, "twin": oracle.copy()}
    bench_views = views(bench)
    comparisons = compare(bench, scored, FAST, bench_views)
    assert len(comparisons) == 3 * len(bench_views)  # every pair of metrics, every view
    rows = [r for m, s in scored.items() for r in evaluate(bench, m, s, FAST, bench_views)]
    annotate_clusters(rows, bench_views)
    for view in bench_views:
        cluster = {r.metric: r.cluster for r in rows if (r.statistic, r.level, r.subset) == view.key}
        assert cluster == {"oracle": 1, "twin": 1, "noise": 2}, view.key
        value = {r.metric: r.value for r in rows if (r.statistic, r.level, r.subset) == view.key}
        for c in (c for c in comparisons if (c.statistic, c.level, c.subset) == view.key):
            assert c.delta == pytest.approx(value[c.metric_a] - value[c.metric_b], abs=1e-12)
            if {c.metric_a, c.metric_b} == {"oracle", "twin"}:
                assert c.delta == 0 and c.p_value == 1.0
            else:
                assert c.p_value < 0.05 and not (c.ci_low <= 0 <= c.ci_high), c
                assert (c.cluster_a, c.cluster_b) == (cluster[c.metric_a], cluster[c.metric_b])


def three_system_bench() -> tuple[Benchmark, dict[str, np.ndarray]]:
    """Thirty images, each rated for three systems; metric b puts the first system on top."""
    rng = np.random.default_rng(0)
    k = 30
    systems, items = np.repeat(np.arange(3), k), np.tile(np.arange(k), 3)
    human = systems + 1 + rng.normal(0, 0.3, 3 * k)
    a = human + rng.normal(0, 0.3, 3 * k)
    b = a.copy()
    b[:k] += 2.5
    ids = [f"i{i}/s{s}" for i, s in zip(items, systems)]
    bench = Benchmark([Sample(i, i, ("ref",)) for i in ids],
                      [ProtocolStep("kendall_c", "system"), ProtocolStep("kendall_c", "item")],
                      "toy", ratings=Ratings(ids, human, items=[f"i{i}" for i in items],
                                             systems=[f"s{s}" for s in systems]), name="three")
    return bench, {"a": a, "b": b}


def test_three_systems_give_no_clusters_and_a_marked_disagreement():
    from experiments.pipeline.report import cluster_lines, power_lines, results_table

    bench, scored = three_system_bench()
    settings = AnalysisSettings(bootstrap=200, permutations=200)
    bench_views = views(bench)
    comparisons = compare(bench, scored, settings, bench_views)
    rows = [r for m, s in scored.items() for r in evaluate(bench, m, s, settings, bench_views)]
    annotate_clusters(rows, bench_views)
    system = next(c for c in comparisons if c.level == "system")
    # rows swapped: p far below 0.05 on three systems, while the interval spans 0
    assert system.p_value < 0.05 and system.ci_low <= 0 <= system.ci_high
    assert system.interval_test_disagree is True
    assert (system.cluster_a, system.cluster_b, system.unit, system.n_units) == \
        (None, None, "both", 30)
    assert [r.cluster for r in rows if r.level == "system"] == [None, None]
    lines = cluster_lines({"three": bench_views})
    assert "- three, kendall_c (system): no clusters" in lines
    assert "  (no clusters: with 3 systems the one-sided permutation p-value is at least 2^-3 " \
           "= 0.125, above alpha 0.05, so no difference can be significant)" in lines
    marked = [line for line in power_lines(comparisons, settings.alpha)
              if "**interval and test disagree**" in line]
    assert marked[0].startswith("| three | kendall_c (system) |")
    assert marked[-1].startswith(f"{sum(c.interval_test_disagree is True for c in comparisons)} "
                                 f"of {len(comparisons)} comparisons marked")
    # item level: n counts the rows, n_units the thirty images resampled
    item = next(r for r in rows if r.level == "item" and r.metric == "a")
    assert (item.n, item.unit, item.n_units) == (90, "items", 30)
    assert f"| 90 | 30 items | {item.cluster} |" in "\n".join(results_table([item]))


def test_undefined_statistic_is_nan_with_the_reason():
    bench = rating_bench()
    rows = evaluate(bench, "flat_metric", np.full(9, 0.5), FAST)
    flat = next(r for r in rows if r.level == "flat")
    assert math.isnan(flat.value) and "constant" in flat.notes


def test_nan_scores_are_dropped_and_counted():
    bench = rating_bench()
    metric = np.array([0.1, 0.5, np.nan, 0.4, 0.2, 0.3, 0.8, 0.6, 0.7])
    flat = next(r for r in evaluate(bench, "m", metric, FAST) if r.level == "flat")
    keep = np.isfinite(metric)
    assert flat.n == 8 and flat.n_nan == 1
    assert flat.value == pytest.approx(stats.pearsonr(metric[keep],
                                                      bench.ratings.values[keep])[0], abs=1e-12)


def test_human_ceiling_leaves_one_annotator_out():
    rng = np.random.default_rng(5)
    n, k = 12, 3
    truth = rng.integers(1, 5, n)
    ratings = np.clip(truth[:, None] + rng.integers(-1, 2, (n, k)), 1, 4).astype(float)
    ids = [f"c{i}" for i in range(n) for _ in range(k)]
    bench = Benchmark([Sample(f"c{i}", "x", ("r",)) for i in range(n)],
                      [ProtocolStep("kendall_c", "flat")], "toy",
                      ratings=Ratings(ids, ratings.reshape(-1),
                                      annotators=[f"e{j}" for _ in range(n) for j in range(k)]),
                      name="experts")
    (row,) = human_ceilings(bench)
    direct = [stats.kendalltau(ratings[:, a], np.delete(ratings, a, axis=1).mean(axis=1),
                               variant="c").statistic for a in range(k)]
    assert row.metric == HUMAN_CEILING and row.n == n
    assert row.value == pytest.approx(np.mean(direct), abs=1e-12)


def test_benchmarks_without_annotators_have_no_ceiling():
    assert human_ceilings(rating_bench()) == []


def test_comparison_rows_cover_every_pair_once():
    bench = rating_bench()
    rng = np.random.default_rng(0)
    scored = {name: rng.random(9) for name in ("a", "b", "c", "d")}
    rows = compare(bench, scored, FAST)
    flat = [r for r in rows if r.level == "flat"]
    assert sorted(tuple(sorted((r.metric_a, r.metric_b))) for r in flat) == list(
        combinations("abcd", 2))
    # metric_a is the better-ranked metric of its pair
    assert all(r.value_a >= r.value_b for r in flat)


def test_sharing_replicates_between_evaluate_and_compare_changes_no_number():
    from correlation.replicates import ReplicateCache

    bench, _ = preference_bench()
    rng = np.random.default_rng(5)
    scored = {m: rng.normal(size=len(bench.samples)) for m in ("m1", "m2", "m3")}
    scored["m3"][4] = np.nan
    bench_views = views(bench)
    plain_rows = [r for m, s in scored.items() for r in evaluate(bench, m, s, FAST, bench_views)]
    plain_cmp = compare(bench, scored, FAST, bench_views)
    cache = ReplicateCache()
    shared_rows = [r for m, s in scored.items()
                   for r in evaluate(bench, m, s, FAST, bench_views, cache)]
    shared_cmp = compare(bench, scored, FAST, bench_views, cache)
    assert cache.hits > 0
    assert [r.to_dict() for r in plain_rows] == [r.to_dict() for r in shared_rows]
    assert plain_cmp == shared_cmp


def test_each_comparison_states_what_its_permutation_test_swapped():
    """Rows of one image swap together by default (as the bootstrap resamples images);
    --swap-unit row swaps rows; an item swap on a view without item labels swaps rows and
    says so in notes."""
    bench = rating_bench()
    rng = np.random.default_rng(1)
    scored = {name: rng.random(9) for name in ("a", "b", "c")}
    default = compare(bench, scored, FAST)
    assert {(r.level, r.unit, r.swap_unit) for r in default} == {
        ("flat", "items", "items"), ("item", "items", "items"), ("system", "both", "items")}
    by_row = compare(bench, scored, AnalysisSettings(bootstrap=300, permutations=300, seed=3,
                                                     swap_unit="row"))
    assert {r.swap_unit for r in by_row} == {"rows"}
    assert [r.delta for r in by_row] == [r.delta for r in default]
    assert [r.p_value for r in by_row] != [r.p_value for r in default]
    unlabelled = Benchmark(bench.samples, [ProtocolStep("pearson", "flat")], "toy",
                           ratings=Ratings(bench.ratings.sample_ids, bench.ratings.values),
                           name="toy")
    rows = compare(unlabelled, scored, AnalysisSettings(bootstrap=300, permutations=300,
                                                        swap_unit="item"))
    assert {r.swap_unit for r in rows} == {"rows"}
    assert all("no item labels, so rows were swapped" in r.notes for r in rows)
    with pytest.raises(ValueError, match="--swap-unit rows is out of range"):
        AnalysisSettings(swap_unit="rows")


def test_swap_unit_option_reaches_the_settings():
    from experiments.run_correlation import build_parser

    parse = build_parser().parse_args
    assert AnalysisSettings.from_args(parse([])).swap_unit is None
    assert AnalysisSettings.from_args(parse(["--swap-unit", "row"])).swap_unit == "row"
    assert AnalysisSettings.from_args(parse(["--swap-unit", "item"])).swap_unit == "item"
    assert "rows one by one (--swap-unit row)" in " ".join(AnalysisSettings(swap_unit="row").describe())
    with pytest.raises(SystemExit):
        parse(["--swap-unit", "image"])
