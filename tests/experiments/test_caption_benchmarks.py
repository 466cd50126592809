"""PASCAL-50S, THumB, Nebula and Polaris read from ../shared/data: rows, ids and
protocols checked against the raw files, and PASCAL-50S accuracies with intervals."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from experiments.benchmarks import load_benchmark
from experiments.run_correlation import main
from tests.helpers.files import read_csv


def test_pascal50s_pairs_follow_the_label(shared_data):
    bench = load_benchmark("pascal50s", shared_data)
    raw = json.load(open(shared_data / "pascal50s" / "pascal_50s.json"))
    prefs = bench.preferences
    assert len(prefs) == 4000 and len(bench.samples) == 8000
    assert Counter(prefs.category) == {c: 1000 for c in ("HC", "HI", "HM", "MM")}
    samples = {s.id: s for s in bench.samples}
    for pair_id, a, b, outcome in zip(prefs.pair_ids, prefs.sample_a, prefs.sample_b, prefs.outcome):
        category, k = pair_id.split("/")
        entry = raw[category][int(k)]
        assert (a, b) == (f"{pair_id}/a", f"{pair_id}/b")
        assert (samples[a].candidate, samples[b].candidate) == tuple(entry["captions"])
        assert samples[a].references == tuple(entry["references"]) and len(entry["references"]) == 5
        preferred = a if outcome == 1 else b
        assert samples[preferred].candidate == entry["captions"][entry["label"]]


def test_thumb_rows_items_and_systems(shared_data):
    bench = load_benchmark("thumb", shared_data)
    folder = shared_data / "thumb"
    raw = [json.loads(line) for line in open(folder / "mscoco_THumB-1.0.jsonl") if line.strip()]
    refs = {str(r["seg_id"]): r["refs"] for r in
            (json.loads(line) for line in open(folder / "mscoco_references.jsonl") if line.strip())}
    r = bench.ratings
    assert len(r) == len(raw) == 2500
    assert len(set(r.items)) == 500 and len(set(r.systems)) == 5
    for sample, value, row in zip(bench.samples, r.values, raw):
        assert sample.id == f"{row['SYS']}/{row['seg_id']}"
        assert sample.candidate == row["hyp"] and value == row["human_score"]
        assert list(sample.references) == refs[str(row["seg_id"])]
    assert [(s.statistic, s.level) for s in bench.protocol] == [
        ("pearson", "flat"), ("pearson", "item"), ("pearson", "system")]


@pytest.mark.parametrize("name,path,count,has_refs", [
    ("nebula", "nebula/nebula_test.json", 3298, True),
    ("polaris", "polaris/polaris_val.json", 4237, False)])
def test_scalar_benchmarks(shared_data, name, path, count, has_refs):
    bench = load_benchmark(name, shared_data)
    raw = json.load(open(shared_data / path))
    assert len(bench.samples) == len(bench.ratings) == len(raw) == count
    for k, (sample, value, row) in enumerate(zip(bench.samples, bench.ratings.values, raw)):
        assert sample.id == (f"nebula/{k}" if name == "nebula" else row["id"])
        assert sample.candidate == row["mt"] and value == row["score"]
        assert sample.references == (tuple(row["refs"]) if has_refs else ())
    assert [(s.statistic, s.level) for s in bench.protocol] == [("kendall_c", "flat")]


@pytest.fixture(scope="module")
def pascal_run(shared_data, tmp_path_factory, pascal50s_score_cache):
    out = tmp_path_factory.mktemp("pascal")
    assert main(["--benchmark", "pascal50s", "--data-dir", str(shared_data),
                 "--metrics", "bleu1,bleu4,cider", "--out", str(out), "--bootstrap", "300",
                 "--permutations", "300", "--cache-dir", str(pascal50s_score_cache),
                 "--quiet"]) == 0
    return out


def test_pascal50s_accuracies_with_intervals(shared_data, pascal_run):
    """Accuracy per category: a direct count from scores.csv, the preferred caption
    strictly higher; the interval brackets it."""
    bench = load_benchmark("pascal50s", shared_data)
    prefs = bench.preferences
    scores = {(r["metric"], r["sample_id"]): float(r["score"])
              for r in read_csv(pascal_run / "scores.csv")}
    rows = [r for r in read_csv(pascal_run / "correlations.csv") if r["statistic"] == "accuracy"]
    assert {(r["metric"], r["subset"]) for r in rows} == {
        (m, c) for m in ("bleu1", "bleu4", "cider") for c in ("HC", "HI", "HM", "MM")}
    for r in rows:
        right = [(scores[r["metric"], a] - scores[r["metric"], b]) * o > 0
                 for a, b, o, c in zip(prefs.sample_a, prefs.sample_b, prefs.outcome, prefs.category)
                 if c == r["subset"]]
        assert int(r["n"]) == len(right) == 1000
        assert float(r["value"]) == pytest.approx(np.mean(right), abs=1e-12)
        low, high = float(r["ci_low"]), float(r["ci_high"])
        assert low < float(r["value"]) < high and high - low < 0.1, r


def test_pascal50s_comparisons_and_clusters(pascal_run):
    comparisons = read_csv(pascal_run / "comparisons.csv")
    assert len(comparisons) == 3 * 4
    values = {(r["metric"], r["statistic"], r["subset"]): float(r["value"])
              for r in read_csv(pascal_run / "correlations.csv")}
    for c in comparisons:
        delta = (values[c["metric_a"], c["statistic"], c["subset"]]
                 - values[c["metric_b"], c["statistic"], c["subset"]])
        assert float(c["delta"]) == pytest.approx(delta, abs=1e-12)
        assert 0 < float(c["p_value"]) <= 1
    report = (pascal_run / "report.md").read_text()
    assert "## Significance clusters" in report and "pascal50s, accuracy (pair, HI)" in report
