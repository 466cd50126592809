"""The main job end to end on the bundled demo."""
from __future__ import annotations

import json

import numpy as np
import pytest

from experiments.benchmarks import load_benchmark
from experiments.run_correlation import main
from tests.helpers.files import read_csv


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    cache = tmp_path_factory.mktemp("cache")
    args = ["--metrics", "bleu1,rouge_l,spice", "--out", str(out), "--cache-dir", str(cache),
            "--bootstrap", "200", "--quiet", "--skip-unavailable"]
    assert main(args) == 0
    return out, cache, args


def test_outputs_are_written(demo_run):
    out, _, _ = demo_run
    for name in ("scores.csv", "failures.csv", "correlations.csv", "comparisons.csv",
                 "report.md", "run.json"):
        assert (out / name).is_file(), name
    bench = load_benchmark("demo")
    scores = read_csv(out / "scores.csv")
    assert len(scores) == 2 * len(bench.samples)
    assert {r["metric"] for r in scores} == {"bleu1", "rouge_l"}


def test_preference_accuracy_matches_a_direct_count(demo_run):
    out, _, _ = demo_run
    bench = load_benchmark("demo")
    scores = {r["sample_id"]: float(r["score"]) for r in read_csv(out / "scores.csv")
              if r["metric"] == "rouge_l"}
    prefs = bench.preferences
    correct = decisive = 0
    for a, b, outcome in zip(prefs.sample_a, prefs.sample_b, prefs.outcome):
        if outcome == 0:
            continue
        decisive += 1
        correct += (scores[a] > scores[b]) == (outcome == 1) and scores[a] != scores[b]
    row = next(r for r in read_csv(out / "correlations.csv")
               if r["metric"] == "rouge_l" and r["statistic"] == "accuracy" and not r["subset"])
    assert int(row["n"]) == decisive
    assert float(row["value"]) == pytest.approx(correct / decisive, abs=1e-12)
    assert float(row["ci_low"]) <= float(row["value"]) <= float(row["ci_high"])


def test_skipped_metric_says_why(demo_run, capsys):
    out, _, _ = demo_run
    report = (out / "report.md").read_text()
    assert "spice: skipped: SPICE needs Stanford CoreNLP 3.6.0" in report
    record = json.loads((out / "run.json").read_text())
    spice = next(m for m in record["metrics"] if m["metric"] == "spice")
    assert "stanford-corenlp-3.6.0.jar" in spice["skipped"]


def test_second_run_scores_nothing_and_writes_the_same_files(demo_run, tmp_path):
    out, cache, args = demo_run
    again = tmp_path / "again"
    assert main([a if a != str(out) else str(again) for a in args]) == 0
    record = json.loads((again / "run.json").read_text())
    for m in record["metrics"]:
        if not m["skipped"]:
            assert m["computed"] == 0 and m["cached"] > 0, m
    for name in ("scores.csv", "correlations.csv", "comparisons.csv", "failures.csv"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_external_scores_join_on_sample_ids(demo_run, tmp_path):
    out, cache, _ = demo_run
    bench = load_benchmark("demo")
    path = tmp_path / "mine.csv"
    rng = np.random.default_rng(0)
    with open(path, "w") as f:
        f.write("sample_id,score\n")
        for s in bench.samples[:-1]:
            f.write(f"{s.id},{rng.random()}\n")
    dest = tmp_path / "ext"
    assert main(["--metric-scores", f"mine={path}", "--out", str(dest), "--cache-dir", str(cache),
                 "--bootstrap", "50", "--quiet"]) == 0
    failures = read_csv(dest / "failures.csv")
    assert [(r["metric"], r["sample_id"]) for r in failures] == [("mine", bench.samples[-1].id)]
    assert any(r["metric"] == "mine" for r in read_csv(dest / "correlations.csv"))


def test_unknown_metric_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--metrics", "bleu5", "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert "argument --metrics: unknown metric(s) bleu5" in capsys.readouterr().err


def test_report_notes_counted_from_extras():
    from experiments.run_correlation import extras_note

    note = extras_note({"truncated": np.array([0.0, 1.0, np.nan, 1.0]),
                        "refs_truncated": np.array([2.0, 0.0, 1.0, 0.0]),
                        "used_probabilities": np.array([1.0, 0.0, np.nan, 1.0])})
    assert note == ("2 candidates cut at the model's length limit (extra 'truncated'); "
                    "3 references cut at the model's length limit; "
                    "1 of 3 scores are parsed ratings (no token probabilities)")
    assert extras_note({"truncated": np.zeros(3), "P": np.ones(3)}) == ""
