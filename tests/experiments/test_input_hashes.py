"""run.json records the SHA-256 of every file a run read, and the commands that read a
run back (plan_study, make_figures) refuse input files changed since.

Issue 18: a row inserted at the top of an own ratings file (without an id column,
so its automatic ids shift) made plan_study join the pilot's scores to the wrong
captions, without a word."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from experiments.make_figures import main as figures_main
from experiments.plan_study import main as plan_main
from experiments.run_correlation import main as run_main

RATINGS = [("A dog runs on grass.", 4), ("A cat sleeps on a sofa.", 1),
           ("Two kids play football.", 3), ("A man rides a bike.", 2),
           ("A dog runs on the beach.", 5), ("A red car in the street.", 2)]
REFERENCE = "A dog running on the grass."


def _ratings_csv(rows) -> str:
    return "candidate,reference_1,score\n" + "".join(f"{c},{REFERENCE},{s}\n" for c, s in rows)


def _digest(path: Path) -> dict:
    data = path.read_bytes()
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _pilot(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    own = tmp_path / "mine.csv"
    own.write_text(_ratings_csv(RATINGS))
    external = tmp_path / "ext.csv"
    external.write_text("sample_id,score\n" + "".join(f"s{k},{k % 3}\n" for k in range(1, 7)))
    names = tmp_path / "names.txt"
    names.write_text("bleu1=BLEU-1\n")
    results = tmp_path / "results"
    assert run_main(["--benchmark", f"mine={own}", "--metrics", "bleu1", "--metric-scores",
                     f"ext={external}", "--display-names", str(names), "--out", str(results),
                     "--bootstrap", "20", "--permutations", "20", "--quiet"]) == 0
    return results, own, external, names


def _plan(results: Path) -> int:
    return plan_main(["--results", str(results), "--metrics", "bleu1,ext", "--sizes", "4,8",
                      "--simulations", "20", "--permutations", "20", "--bootstrap", "20",
                      "--quiet"])


def test_run_json_records_every_input_file_by_sha256(tmp_path):
    results, own, external, names = _pilot(tmp_path)
    record = json.loads((results / "run.json").read_text())
    assert record["inputs"] == {str(p.resolve()): _digest(p) for p in (own, external, names)}


def test_plan_study_refuses_an_own_file_changed_since_the_run(tmp_path, capsys):
    results, own, _, _ = _pilot(tmp_path)
    assert _plan(results) == 0  # unchanged: planned, and the plan names its inputs
    plan = results.parent / "results-plan"
    planned_from = json.loads((plan / "run.json").read_text())["inputs"]
    assert planned_from == {str(own.resolve()): _digest(own),
                            str((results / "scores.csv").resolve()): _digest(results / "scores.csv")}
    capsys.readouterr()
    # one row inserted on top: every automatic id now names another caption
    own.write_text(_ratings_csv([("A bird on a branch.", 3), *RATINGS]))
    before = (plan / "power_curve.csv").read_bytes()
    assert _plan(results) == 2
    err = capsys.readouterr().err
    assert f"error: {own.resolve()}: changed since the run in {results} read it" in err
    assert "run run_correlation again" in err
    assert (plan / "power_curve.csv").read_bytes() == before  # the earlier plan stays


def test_make_figures_refuses_results_whose_inputs_changed(tmp_path, capsys):
    results, _, external, _ = _pilot(tmp_path)
    external.write_text(external.read_text() + "s7,1\n")
    out = tmp_path / "figures"
    assert figures_main(["--results", str(results), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"error: {external.resolve()}: changed since the run in {results} read it" in err
    assert not out.exists()


def test_a_moved_input_passes_and_another_file_does_not(tmp_path):
    from experiments.benchmarks.inputs import changed_inputs, file_digest

    first, moved, other = tmp_path / "a.csv", tmp_path / "moved.csv", tmp_path / "b.csv"
    first.write_text(_ratings_csv(RATINGS))
    moved.write_text(_ratings_csv(RATINGS))
    other.write_text(_ratings_csv(RATINGS[:3]))
    recorded = {str(first): file_digest(first)}
    assert changed_inputs(recorded, "res", {str(moved): file_digest(moved)}) == []
    [problem] = changed_inputs(recorded, "res", {str(other): file_digest(other)})
    assert problem.startswith(f"{other}: not a file the run in res read")
    first.unlink()  # gone: cannot be checked, so not refused by make_figures
    assert changed_inputs(recorded, "res") == []
