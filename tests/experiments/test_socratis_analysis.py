"""Socratis tables (experiments/socratis/tables.py) against numbers worked out by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.socratis.data import load_socratis
from experiments.pipeline.settings import AnalysisSettings
from experiments.socratis.tables import socratis_tables as benchmark_tables
from tests.helpers.socratis_fixture import paper_counts_rows, study_row, write_socratis

# Five pairs, their verdicts, and made-up scores of (machine reason, human reason).
STUDY = [("P1", "machine", "a1"), ("P1", "machine", "a2"),
         ("P2", "human", "a1"), ("P2", "machine", "a2"),
         ("P3", "human", "a1"), ("P3", "human", "a2"),
         ("P4", "both_good", "a1"), ("P4", "both_bad", "a2"),
         ("P5", "both_good", "a1")]
SCORES = {"P1": (0.9, 0.2), "P2": (0.5, 0.6), "P3": (0.1, 0.7), "P4": (0.4, 0.8),
          "P5": (0.6, 0.3)}
# By hand, over judgments (a pair judged twice the same way counts twice):
# Machine-better: P1, P1, P2 -> machine (0.9 + 0.9 + 0.5) / 3, human (0.2 + 0.2 + 0.6) / 3
# Human-better:   P2, P3, P3 -> machine (0.5 + 0.1 + 0.1) / 3, human (0.6 + 0.7 + 0.7) / 3
# Both-good:      P4, P5     -> machine (0.4 + 0.6) / 2,       human (0.8 + 0.3) / 2
# Both-bad:       P4         -> machine 0.4,                   human 0.8
EXPECTED = {"machine_better": (2.3 / 3, 1.0 / 3, 3, 2), "human_better": (0.7 / 3, 2.0 / 3, 3, 2),
            "both_good": (0.5, 0.55, 2, 2), "both_bad": (0.4, 0.8, 1, 1)}
SETTINGS = AnalysisSettings(bootstrap=500, confidence=0.95, seed=0)


@pytest.fixture
def bench(tmp_path):
    rows = [study_row(p, v, a, machine_reason=f"machine reason {p}") for p, v, a in STUDY]
    return load_socratis(write_socratis(tmp_path / "socratis", rows))


def hand_scores(bench, nan_for=()):
    values = []
    for s in bench.samples:
        if s.id.startswith("p:"):
            _, pair, side = s.id.split(":")
            values.append(math.nan if (pair, side) in nan_for
                          else SCORES[pair][0 if side == "machine" else 1])
        elif s.id.startswith("g:"):
            values.append({"blip2": 0.8, "text-only": 0.5}[s.context["generator"]]
                          + (0.1 if "happy" in s.id else 0.0))
        else:
            values.append(0.0)
    return np.array(values)


def test_subset_means_match_the_hand_computed_ones(bench):
    # The hook: loading the benchmark registered the Socratis tables.
    tables = benchmark_tables(bench, {"made_up": hand_scores(bench)}, SETTINGS)
    rows = {r["subset"]: r for r in tables["subset_means"]}
    assert [r["label"] for r in tables["subset_means"]] == [
        "Machine-better", "Human-better", "Both-good", "Both-bad"]
    for subset, (machine, human, n_judgments, n_pairs) in EXPECTED.items():
        row = rows[subset]
        assert row["machine_reason_mean"] == pytest.approx(machine, abs=1e-12), subset
        assert row["human_reason_mean"] == pytest.approx(human, abs=1e-12), subset
        assert (row["n_judgments"], row["n_pairs"]) == (n_judgments, n_pairs), subset
    for subset in ("machine_better", "human_better", "both_good"):
        for side in ("machine", "human"):
            row = rows[subset]
            assert row[f"{side}_reason_ci_low"] <= row[f"{side}_reason_mean"] \
                <= row[f"{side}_reason_ci_high"]
    # One pair is no basis for an interval.
    assert math.isnan(rows["both_bad"]["machine_reason_ci_low"])


def test_subset_test_reports_the_difference_and_a_valid_p_value(bench):
    tables = benchmark_tables(bench, {"made_up": hand_scores(bench)}, SETTINGS)
    tests = {r["scored_reason"]: r for r in tables["subset_tests"]}
    assert tests["machine"]["difference"] == pytest.approx(2.3 / 3 - 0.7 / 3, abs=1e-12)
    assert tests["human"]["difference"] == pytest.approx(1.0 / 3 - 2.0 / 3, abs=1e-12)
    # Three pairs (P1, P2, P3) carry the two subsets: 3! = 6 orderings, so scipy
    # enumerates them exactly. Machine side scores 0.9, 0.5, 0.1: only the observed
    # ordering and its mirror image are as extreme, p = 2/6.
    assert tests["machine"]["p_value"] == pytest.approx(2 / 6)
    assert (tests["machine"]["n_machine_better"], tests["machine"]["n_human_better"]) == (3, 3)


def test_unscored_judgments_are_left_out_and_counted(bench):
    scores = hand_scores(bench, nan_for={("P2", "machine")})
    rows = {r["subset"]: r for r in benchmark_tables(bench, {"m": scores}, SETTINGS)["subset_means"]}
    assert rows["machine_better"]["machine_reason_mean"] == pytest.approx(0.9)
    assert rows["human_better"]["machine_reason_mean"] == pytest.approx(0.1)
    assert rows["machine_better"]["human_reason_mean"] == pytest.approx(1.0 / 3)
    assert rows["machine_better"]["unscored_judgments"] == 1


def test_generator_means_and_paired_difference(bench):
    tables = benchmark_tables(bench, {"made_up": hand_scores(bench)}, SETTINGS)
    means = {r["generator"]: r for r in tables["generator_means"]}
    assert means["blip2"]["mean"] == pytest.approx((0.8 + 0.9) / 2)
    assert means["text-only"]["mean"] == pytest.approx((0.5 + 0.6) / 2)
    assert means["blip2"]["n"] == 2 and means["blip2"]["n_items"] == 2
    (diff,) = tables["generator_differences"]
    assert (diff["generator_a"], diff["generator_b"], diff["n"]) == ("blip2", "text-only", 2)
    assert diff["mean_difference"] == pytest.approx(0.3)
    # Both differences are +0.3: every resample gives 0.3.
    assert diff["ci_low"] == pytest.approx(0.3) and diff["ci_high"] == pytest.approx(0.3)


def test_verdict_counts_ratio_and_agreement(bench):
    tables = benchmark_tables(bench, {"m": hand_scores(bench)}, SETTINGS)
    counts = {r["verdict"]: r["count"] for r in tables["verdict_counts"] if r["generator"] == "all"}
    assert counts == {"human": 3, "machine": 3, "both_good": 2, "both_bad": 1}
    (summary,) = tables["study_summary"]
    assert summary["human_machine_ratio"] == 1.0
    assert (summary["n_judgments"], summary["n_pairs"], summary["n_annotators"]) == (9, 5, 2)
    # Pairs with two annotators: P1 agree, P2 not, P3 agree, P4 not -> 2/4.
    assert summary["agreement_pairs"] == 4 and summary["percent_agreement"] == 0.5


def test_a_summary_per_generator(tmp_path):
    # P1-P3 by blip2: human, machine, machine, machine -> ratio 1/3;
    # P4-P6 by text-only: human x3, machine, both_bad -> ratio 3.
    study = [("P1", "human", "a1", "blip2"), ("P1", "machine", "a2", "blip2"),
             ("P2", "machine", "a1", "blip2"), ("P3", "machine", "a1", "blip2"),
             ("P4", "human", "a1", "text-only"), ("P4", "human", "a2", "text-only"),
             ("P5", "human", "a1", "text-only"), ("P6", "machine", "a1", "text-only"),
             ("P6", "both_bad", "a2", "text-only")]
    rows = [study_row(p, v, a, generator=g, machine_reason=f"machine reason {p}")
            for p, v, a, g in study]
    bench = load_socratis(write_socratis(tmp_path / "socratis", rows))
    tables = benchmark_tables(bench, {"m": np.zeros(len(bench.samples))}, SETTINGS)
    summary = {r["generator"]: r for r in tables["study_summary"]}
    assert list(summary) == ["all", "blip2", "text-only"]
    assert summary["all"]["human_machine_ratio"] == pytest.approx(4 / 4)
    assert summary["blip2"]["human_machine_ratio"] == pytest.approx(1 / 3)
    assert summary["text-only"]["human_machine_ratio"] == pytest.approx(3 / 1)
    assert (summary["text-only"]["n_judgments"], summary["text-only"]["n_pairs"]) == (5, 3)
    # P4 agrees, P6 does not; P1 does not.
    assert summary["text-only"]["percent_agreement"] == 0.5
    assert summary["blip2"]["percent_agreement"] == 0.0
    low, high = summary["text-only"]["ratio_ci_low"], summary["text-only"]["ratio_ci_high"]
    assert low <= 3 <= high or math.isnan(low)


def test_the_papers_counts_give_the_papers_ratio(tmp_path):
    bench = load_socratis(write_socratis(tmp_path / "socratis", paper_counts_rows()))
    scores = np.zeros(len(bench.samples))
    tables = benchmark_tables(bench, {"zero": scores}, SETTINGS)
    (summary,) = tables["study_summary"]
    assert (summary["human"], summary["machine"], summary["both_good"], summary["both_bad"]) \
        == (223, 91, 47, 11)
    assert round(summary["human_machine_ratio"], 2) == 2.45
    assert summary["ratio_ci_low"] < 2.45 < summary["ratio_ci_high"]
    assert summary["agreement_pairs"] == 0 and math.isnan(summary["fleiss_kappa"])


def test_tables_are_reproducible_with_the_seed(bench):
    scores = {"made_up": hand_scores(bench)}
    first = benchmark_tables(bench, scores, SETTINGS)
    assert benchmark_tables(bench, scores, SETTINGS) == first


def test_tables_follow_the_ci_method_and_the_permutation_count(bench):
    from scipy import stats

    settings = AnalysisSettings(bootstrap=300, permutations=57, ci_method="percentile", seed=4)
    tables = benchmark_tables(bench, {"m": hand_scores(bench)}, settings)
    assert {row["n_permutations"] for row in tables["subset_tests"]} == {57}
    # Machine-better judgments: P1 twice (machine reason 0.9), P2 once (0.5); the
    # mean's interval is scipy's percentile bootstrap of sum / count over pairs.
    sums, counts = np.array([1.8, 0.5]), np.array([2.0, 1.0])
    direct = stats.bootstrap((sums, counts),
                             lambda s, c, axis=-1: s.sum(axis=axis) / c.sum(axis=axis),
                             paired=True, vectorized=True, n_resamples=300,
                             confidence_level=0.95, method="percentile",
                             rng=np.random.default_rng(4)).confidence_interval
    row = next(r for r in tables["subset_means"] if r["subset"] == "machine_better")
    assert row["machine_reason_ci_low"] == pytest.approx(direct.low, abs=1e-12)
    assert row["machine_reason_ci_high"] == pytest.approx(direct.high, abs=1e-12)
