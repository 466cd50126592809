"""What run_correlation guarantees under bad input and faults: non-finite
scores are counted NaN, usage errors exit 2 naming the option, a metric the
user named that cannot run fails the run, a run owns its --out folder, and
make_figures reads only what run.json lists."""
from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from experiments.benchmarks import load_benchmark
from experiments.make_figures import main as make_figures
from experiments.pipeline.agreement import evaluate
from experiments.run_correlation import main
from metrics import registry
from tests.helpers.files import read_csv

SYSTEMS = ("sysA", "sysB", "sysC")


@pytest.fixture
def thumb_dir(tmp_path):
    """A tiny THumB: 8 images x 3 systems, human scores with a known pattern."""
    folder = tmp_path / "data" / "thumb"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(3)
    with open(folder / "mscoco_references.jsonl", "w") as f:
        for seg in range(8):
            f.write(json.dumps({"seg_id": seg, "refs": [f"a photo of thing {seg}"]}) + "\n")
    with open(folder / "mscoco_THumB-1.0.jsonl", "w") as f:
        for seg in range(8):
            for k, system in enumerate(SYSTEMS):
                f.write(json.dumps({"SYS": system, "seg_id": seg, "hyp": "word " * (1 + (seg * 5 + k * 3) % 7) + system,
                                    "human_score": round(float(rng.uniform(1, 5)), 2)}) + "\n")
    return tmp_path / "data"


def _scores_file(path, bench, values):
    with open(path, "w") as f:
        f.write("sample_id,score\n")
        for sample, value in zip(bench.samples, values):
            f.write(f"{sample.id},{value}\n")
    return path


def _flat_pearson(out, metric="ext"):
    return next(r for r in read_csv(out / "correlations.csv")
                if r["metric"] == metric and r["statistic"] == "pearson" and r["level"] == "flat")


def test_an_infinite_external_score_is_a_counted_nan(thumb_dir, tmp_path):
    bench = load_benchmark("thumb", thumb_dir)
    values = list(np.random.default_rng(5).normal(size=len(bench.samples)))
    values[4] = "inf"
    path = _scores_file(tmp_path / "ext.csv", bench, values)
    out = tmp_path / "out"
    assert main(["--benchmark", "thumb", "--data-dir", str(thumb_dir), "--metric-scores",
                 f"ext={path}", "--out", str(out), "--bootstrap", "20", "--quiet"]) == 0
    row = _flat_pearson(out)
    keep = [i for i in range(len(values)) if i != 4]
    expected = stats.pearsonr([float(values[i]) for i in keep],
                              bench.ratings.values[keep]).statistic
    assert float(row["value"]) == pytest.approx(expected, abs=1e-12)
    assert (int(row["n"]), int(row["n_nan"])) == (len(values) - 1, 1)
    failures = read_csv(out / "failures.csv")
    assert [(r["sample_id"], r["reason"]) for r in failures] == [
        (bench.samples[4].id, f"{path}:6: score inf is not a finite number")]


def test_an_infinite_metric_score_is_a_counted_nan(thumb_dir, tmp_path, monkeypatch):
    monkeypatch.setitem(registry._REGISTRY, "odd_scores",
                        ("tests.helpers.odd_metric", "OddScores", {}))
    out = tmp_path / "out"
    assert main(["--benchmark", "thumb", "--data-dir", str(thumb_dir), "--metrics", "odd_scores",
                 "--out", str(out), "--bootstrap", "20", "--quiet", "--no-cache"]) == 0
    bench = load_benchmark("thumb", thumb_dir)
    row = _flat_pearson(out, "odd_scores")
    lengths = np.array([len(s.candidate) for s in bench.samples], dtype=float)
    expected = stats.pearsonr(lengths[2:], bench.ratings.values[2:]).statistic
    assert float(row["value"]) == pytest.approx(expected, abs=1e-12)
    assert int(row["n_nan"]) == 2
    reasons = {r["sample_id"]: r["reason"] for r in read_csv(out / "failures.csv")}
    assert reasons == {bench.samples[0].id: "score inf is not a finite number",
                       bench.samples[1].id: "score -inf is not a finite number"}
    scores = {r["sample_id"]: r["score"] for r in read_csv(out / "scores.csv")}
    assert scores[bench.samples[0].id] == "nan"


def test_an_infinite_score_through_the_python_api_is_a_counted_nan(thumb_dir):
    bench = load_benchmark("thumb", thumb_dir)
    scores = np.random.default_rng(2).normal(size=len(bench.samples))
    scores[3] = -np.inf
    row = next(r for r in evaluate(bench, "m", scores) if r.level == "flat")
    keep = np.arange(len(scores)) != 3
    assert row.value == pytest.approx(stats.pearsonr(scores[keep], bench.ratings.values[keep])
                                      .statistic, abs=1e-12)
    assert row.n_nan == 1
    assert "1 non-finite score(s) treated as NaN" in row.notes


def test_external_scores_named_like_a_computed_metric_or_twice_are_refused(tmp_path, capsys):
    path = tmp_path / "s.csv"
    path.write_text("sample_id,score\n")
    assert _exit(["--metrics", "bleu1", "--metric-scores", f"bleu1={path}",
                  "--out", str(tmp_path / "o")]) == 2
    assert "argument --metric-scores: bleu1 is also a computed metric" in capsys.readouterr().err
    assert _exit(["--metric-scores", f"x={path}", "--metric-scores", f"x={path}",
                  "--out", str(tmp_path / "o")]) == 2
    assert "argument --metric-scores: x is given twice" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def _exit(argv) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.mark.parametrize("argv,message", [
    (["--metrics", "bleu4", "--metric-option", "blue4.n=1"],
     "argument --metric-option: 'blue4.n=1': metric 'blue4' is not selected (selected: bleu4)"),
    (["--metrics", "clipscore", "--metric-option", "clipscore.w=abc"],
     "argument --metric-option: clipscore.w=abc: expected a number, found 'abc'"),
    (["--metrics", "bleu1", "--metric-option", "bleu1"],
     "argument --metric-option: 'bleu1': expected METRIC.KEY=VALUE"),
    (["--metric-scores", "nofile"], "argument --metric-scores: 'nofile': expected NAME=FILE.csv"),
    (["--metrics", ""], "argument --metrics: no metric selected"),
    (["--metrics", " , "], "argument --metrics: no metric selected"),
    (["--benchmark", ""], "argument --benchmark: no benchmark selected"),
    (["--metrics", "bleu5"], "argument --metrics: unknown metric(s) bleu5"),
    (["--bootstrap", "1"], "argument --bootstrap: 1 is out of range"),
])
def test_usage_errors_exit_2_with_one_line_naming_the_option(tmp_path, capsys, argv, message):
    assert _exit(argv + ["--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err and len([l for l in err.splitlines() if "error" in l]) == 1
    assert not (tmp_path / "o").exists()


def test_a_named_metric_that_cannot_run_fails_the_run_after_writing_the_rest(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--metrics", "bleu1,clipscore", "--metric-option", "clipscore.precision=fp99",
            "--out", str(out), "--bootstrap", "20", "--quiet"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "clipscore could not run" in err and "--skip-unavailable" in err
    assert {r["metric"] for r in read_csv(out / "correlations.csv")} == {"bleu1"}
    assert "clipscore: skipped: clipscore: precision must be one of" in (out / "report.md").read_text()
    assert main(argv + ["--skip-unavailable"]) == 0


@pytest.mark.parametrize("make,message", [
    (lambda p: (p.write_text("x"), p)[1], "is a file, not a folder"),
    (lambda p: (p.write_text("x"), p / "sub")[1], "which is a file"),
])
def test_an_out_that_cannot_be_a_folder_stops_before_scoring(tmp_path, capsys, make, message):
    out = make(tmp_path / "target")
    cache = tmp_path / "cache"
    assert main(["--metrics", "bleu1", "--out", str(out), "--cache-dir", str(cache),
                 "--quiet"]) == 2
    assert message in capsys.readouterr().err
    assert (tmp_path / "target").read_text() == "x"
    assert not cache.exists()  # nothing was scored


def test_an_out_holding_other_files_is_refused_and_left_alone(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "draft.md").write_text("mine")
    assert main(["--metrics", "bleu1", "--out", str(out), "--quiet"]) == 2
    assert "holds files this package did not write (draft.md)" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["draft.md"]


def test_a_rerun_owns_the_folder_and_make_figures_reads_only_its_files(thumb_dir, tmp_path):
    out, figures = tmp_path / "out", tmp_path / "figures"
    assert main(["--metrics", "bleu1,rouge_l", "--out", str(out), "--bootstrap", "20",
                 "--quiet"]) == 0
    assert (out / "subset_means.csv").is_file()
    assert main(["--benchmark", "thumb", "--data-dir", str(thumb_dir), "--metrics", "bleu1",
                 "--out", str(out), "--bootstrap", "20", "--quiet"]) == 0
    record = json.loads((out / "run.json").read_text())
    on_disk = sorted(p.name for p in out.iterdir())
    assert on_disk == sorted([*record["files"], "run.json"])
    assert "subset_means.csv" not in on_disk
    assert make_figures(["--results", str(out), "--out", str(figures)]) == 0
    index = (figures / "README.md").read_text()
    assert "demo" not in index and "illustrative" not in index


def test_make_figures_stops_on_a_cut_results_file(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--metrics", "bleu1", "--out", str(out), "--bootstrap", "20", "--quiet"]) == 0
    text = (out / "correlations.csv").read_text()
    (out / "correlations.csv").write_text(text[: text.index("\n") + 12])
    assert make_figures(["--results", str(out), "--out", str(tmp_path / "figures")]) == 2
    err = capsys.readouterr().err
    assert "correlations.csv is not the file the run wrote" in err
    assert not (tmp_path / "figures").exists()



def test_a_bad_external_scores_file_is_a_data_error_before_the_out_folder(tmp_path, capsys):
    path = tmp_path / "s.csv"
    path.write_text("sample_id,score\nx,high\n")
    assert main(["--metric-scores", f"ext={path}", "--out", str(tmp_path / "o")]) == 2
    assert "s.csv:2: score 'high' is not a number" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
