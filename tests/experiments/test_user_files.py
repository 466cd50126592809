"""Your own ratings and preferences files: the documented formats, their bad-input
rules, and the numbers they lead to (against scipy and hand counts)."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import kendalltau, spearmanr

from experiments.benchmarks.base import A_BETTER, B_BETTER, TIE, DataError, ProtocolStep
from experiments.benchmarks.user_files import load_user_file, parse_protocol
from experiments.pipeline.agreement import evaluate, human_ceilings

RATINGS_CSV = """\
id,candidate,reference_1,reference_2,image,score,system,annotator
c1,A dog runs on grass.,A dog running.,A brown dog on a lawn.,img/1.jpg,4,sysA,ann1
c1,A dog runs on grass.,A dog running.,A brown dog on a lawn.,img/1.jpg,3,sysA,ann2
c2,A cat sleeps.,A dog running.,A brown dog on a lawn.,img/1.jpg,1,sysB,ann1
c2,A cat sleeps.,A dog running.,A brown dog on a lawn.,img/1.jpg,2,sysB,ann2
c3,Two kids play football.,Children playing soccer.,,img/2.jpg,4,sysA,ann1
c3,Two kids play football.,Children playing soccer.,,img/2.jpg,4,sysA,ann2
c4,A boy kicks a ball.,Children playing soccer.,,img/2.jpg,2,sysB,ann1
c4,A boy kicks a ball.,Children playing soccer.,,img/2.jpg,3,sysB,ann2
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _as_jsonl(csv_text: str) -> str:
    lines = []
    for row in csv.DictReader(csv_text.splitlines()):
        refs = [row.pop(k) for k in list(row) if k.startswith("reference_")]
        obj = {k: v for k, v in row.items() if v != ""}
        obj["references"] = [r for r in refs if r]
        if "score" in obj:
            obj["score"] = float(obj["score"])
        lines.append(json.dumps(obj))
    return "\n".join(lines) + "\n"


def test_ratings_csv_layout_and_default_protocol(tmp_path):
    bench = load_user_file("mine", _write(tmp_path, "r.csv", RATINGS_CSV))
    assert [s.id for s in bench.samples] == ["c1", "c2", "c3", "c4"]
    assert bench.samples[0].references == ("A dog running.", "A brown dog on a lawn.")
    assert bench.samples[2].references == ("Children playing soccer.",)
    assert bench.samples[0].image == str(tmp_path / "img" / "1.jpg")
    r = bench.ratings
    assert r.sample_ids == ["c1", "c1", "c2", "c2", "c3", "c3", "c4", "c4"]
    assert r.values.tolist() == [4, 3, 1, 2, 4, 4, 2, 3]
    assert r.items == ["img/1.jpg"] * 4 + ["img/2.jpg"] * 4  # item defaults to the image
    assert r.annotators == ["ann1", "ann2"] * 4
    assert bench.protocol == [ProtocolStep("kendall_c", "flat"), ProtocolStep("kendall_c", "item")]


def test_ratings_numbers_match_scipy_and_ceiling(tmp_path):
    bench = load_user_file("mine", _write(tmp_path, "r.csv", RATINGS_CSV))
    metric = np.array([0.9, 0.2, 0.7, 0.5])  # per sample c1..c4
    rows = {(row.statistic, row.level): row for row in evaluate(bench, "m", metric)}
    per_row = np.repeat(metric, 2)
    human = bench.ratings.values
    flat = kendalltau(per_row, human, variant="c").statistic
    assert rows["kendall_c", "flat"].value == pytest.approx(flat, abs=1e-12)
    by_image = [kendalltau(per_row[i:i + 4], human[i:i + 4], variant="c").statistic
                for i in (0, 4)]
    assert rows["kendall_c", "item"].value == pytest.approx(np.mean(by_image), abs=1e-12)
    assert rows["kendall_c", "item"].unit  # resampled by image
    ceiling = {r.level: r for r in human_ceilings(bench)}
    a1, a2 = human[0::2], human[1::2]  # each annotator against the other (the mean of the rest)
    expected = (kendalltau(a1, a2, variant="c").statistic
                + kendalltau(a2, a1, variant="c").statistic) / 2
    assert ceiling["flat"].value == pytest.approx(expected, abs=1e-12)


def test_ratings_jsonl_equals_csv(tmp_path):
    from_csv = load_user_file("mine", _write(tmp_path, "r.csv", RATINGS_CSV))
    from_jsonl = load_user_file("mine", _write(tmp_path, "r.jsonl", _as_jsonl(RATINGS_CSV)))
    assert from_jsonl.samples == from_csv.samples
    assert from_jsonl.ratings.sample_ids == from_csv.ratings.sample_ids
    assert from_jsonl.ratings.values.tolist() == from_csv.ratings.values.tolist()
    assert from_jsonl.ratings.items == from_csv.ratings.items


def test_ratings_without_ids_group_rows_by_content(tmp_path):
    text = ("candidate,score,annotator\n"
            "a red bus,3,x\na red bus,4,y\na blue car,1,x\n")
    bench = load_user_file("mine", _write(tmp_path, "r.csv", text))
    assert [s.id for s in bench.samples] == ["s1", "s2"]
    assert bench.ratings.sample_ids == ["s1", "s1", "s2"]
    assert bench.ratings.items == ["s1", "s1", "s2"]  # the bootstrap unit: a sample's rows
    assert bench.protocol == [ProtocolStep("kendall_c", "flat")]
    assert any("no item-level" in n for n in bench.notes)
    with pytest.raises(DataError, match="no `item` or `image` column"):
        load_user_file("mine", tmp_path / "r.csv", protocol=parse_protocol("kendall_c@item"))
    [row] = evaluate(bench, "m", np.array([0.2, 0.1]))
    assert row.unit and row.n == 3


PREFS_CSV = """\
pair_id,candidate_a,candidate_b,reference_1,image,preferred,category,annotator
q1,a man rides a horse,a horse,a person riding a horse,h.jpg,a,HC,w1
q1,a man rides a horse,a horse,a person riding a horse,h.jpg,a,HC,w2
q2,two dogs,a cat on a sofa,two dogs playing,d.jpg,tie,HI,w1
q3,a plane,an airplane taking off,a jet taking off,p.jpg,b,HI,w1
q3,a plane,an airplane taking off,a jet taking off,p.jpg,a,HI,w2
"""


def test_preferences_layout_and_accuracy_by_hand(tmp_path):
    bench = load_user_file("study", _write(tmp_path, "p.csv", PREFS_CSV))
    p = bench.preferences
    assert p.pair_ids == ["q1", "q1", "q2", "q3", "q3"]
    assert p.outcome.tolist() == [A_BETTER, A_BETTER, TIE, B_BETTER, A_BETTER]
    assert [s.id for s in bench.samples] == ["q1:a", "q1:b", "q2:a", "q2:b", "q3:a", "q3:b"]
    assert bench.protocol == [ProtocolStep(stat, "pair", by) for by in (None, "category")
                              for stat in ("accuracy", "tau_like", "acc23")]
    # metric prefers a on q1, b on q2, a on q3: decisive verdicts 4, right on q1 twice and q3/w2
    scores = np.array([0.9, 0.1, 0.2, 0.8, 0.6, 0.4])
    rows = {(r.statistic, r.subset): r for r in evaluate(bench, "m", scores)}
    assert rows["accuracy", ""].value == pytest.approx(3 / 4)
    assert rows["accuracy", ""].n == 4
    assert rows["tau_like", ""].value == pytest.approx((3 - 1) / 4)
    assert rows["accuracy", "HC"].value == 1.0
    assert rows["accuracy", "HI"].value == pytest.approx(1 / 2)


def test_preferences_jsonl_equals_csv(tmp_path):
    from_csv = load_user_file("study", _write(tmp_path, "p.csv", PREFS_CSV))
    from_jsonl = load_user_file("study", _write(tmp_path, "p.jsonl", _as_jsonl(PREFS_CSV)))
    assert from_jsonl.samples == from_csv.samples
    assert from_jsonl.preferences.outcome.tolist() == from_csv.preferences.outcome.tolist()
    assert from_jsonl.preferences.category == from_csv.preferences.category


def test_socratis_study_csv_maps_onto_preferences(tmp_path):
    """The README's conversion of a Socratis human_study.csv (one row per verdict)."""
    from experiments.socratis.data import load_socratis

    demo = Path(__file__).resolve().parents[2] / "experiments" / "socratis" / "demo_data"
    out = tmp_path / "study_prefs.csv"
    # -- as in the README (reading the demo's file, writing into tmp_path) --
    to_preferred = {"human": "a", "machine": "b", "both_good": "tie", "both_bad": "tie"}
    with open(demo / "human_study.csv", newline="") as src, open(out, "w", newline="") as dst:
        writer = csv.writer(dst)
        writer.writerow(["pair_id", "candidate_a", "candidate_b", "preferred", "category",
                         "annotator"])
        for r in csv.DictReader(src):
            writer.writerow([r["pair_id"], r["human_reason"], r["machine_reason"],
                             to_preferred[r["verdict"]], r["generator"], r["annotator"]])
    # --
    mine = load_user_file("study", out).preferences
    theirs = load_socratis(demo).preferences
    assert mine.pair_ids == theirs.pair_ids
    assert mine.outcome.tolist() == theirs.outcome.tolist()
    assert mine.category == theirs.category
    assert mine.annotators == theirs.annotators


BAD = [
    ("r.csv", "candidate,score,colour\nx,1,red\n", r"r\.csv:2: unknown column\(s\) colour"),
    ("r.csv", "candidate,score\nx,1\n,2\n", r"r\.csv:3: empty candidate"),
    ("r.csv", "candidate,score\nx,1\ny,nan\n", r"r\.csv:3: score 'nan' is not a finite number"),
    ("r.csv", "candidate,score\nx,1\ny,good\n", r"r\.csv:3: score 'good'"),
    ("r.csv", "candidate,score,annotator\nx,1,a\nx,2,a\n",
     r"r\.csv:3: annotator 'a' judged sample 's1' twice, first on line 2"),
    ("r.csv", "candidate,score\nx,1\nx,2\n", r"r\.csv:3: judged again .*need an `annotator`"),
    ("r.csv", "id,candidate,score,annotator\nk,x,1,a\nk,y,2,b\n",
     r"r\.csv:3: sample 'k' differs from its first row \(line 2\)"),
    ("r.csv", "candidate,score,item\nx,1,i1\ny,2,\n", r"r\.csv:3: empty item"),
    ("r.csv", "candidate,score,score\nx,1,2\n", r"r\.csv:1: column 'score' appears twice"),
    ("r.csv", "candidate,score\nx,1,3\n", r"r\.csv:2: expected 2 columns, found 3"),
    ("r.csv", "candidate,references,score\nx,a|b,1\n", r"r\.csv:1: in a CSV file references are"),
    ("r.csv", "candidate,rating\nx,1\n", r"r\.csv: neither a `score` column"),
    ("r.csv", "candidate,score,preferred\nx,1,a\n", r"r\.csv: has both `score`"),
    ("r.jsonl", '{"candidate": "x", "score": 1}\n{"candidate": "y", "score": \n',
     r"r\.jsonl:2: invalid JSON"),
    ("r.jsonl", '{"candidate": "x", "score": 1, "references": "one"}\n',
     r"r\.jsonl:1: references must be a list of strings"),
    ("r.jsonl", '{"candidate": "x", "score": true}\n', r"r\.jsonl:1: score True"),
    ("r.txt", "candidate,score\nx,1\n", r"r\.txt: expected a \.csv or \.jsonl file"),
    ("p.csv", "candidate_a,candidate_b,preferred\nx,y,left\n",
     r"p\.csv:2: preferred 'left' is not one of a, b, tie"),
    ("p.csv", "candidate_a,candidate_b\nx,y\n", r"p\.csv: neither"),
    ("p.csv", "pair_id,candidate_a,candidate_b,preferred,annotator\nq,x,y,a,w\nq,x,z,a,v\n",
     r"p\.csv:3: pair 'q' differs from its first row \(line 2\)"),
    ("p.csv", "candidate_a,candidate_b,preferred,annotator\nx,y,a,w\nx,y,b,w\n",
     r"p\.csv:3: annotator 'w' judged pair 'p1' twice"),
]


@pytest.mark.parametrize("name, text, message", BAD)
def test_bad_input_names_file_and_line(tmp_path, name, text, message):
    with pytest.raises(DataError, match=message):
        load_user_file("mine", _write(tmp_path, name, text))


def test_missing_file_and_protocol_choices(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_user_file("mine", tmp_path / "nope.csv")
    path = _write(tmp_path, "r.csv", RATINGS_CSV)
    steps = parse_protocol("pearson@flat,kendall_b@system")
    bench = load_user_file("mine", path, protocol=steps)
    assert bench.protocol == [ProtocolStep("pearson", "flat"), ProtocolStep("kendall_b", "system")]
    with pytest.raises(DataError, match="level pair needs a preferences file"):
        load_user_file("mine", path, protocol=parse_protocol("accuracy@pair"))
    with pytest.raises(DataError, match="expected STATISTIC@LEVEL"):
        parse_protocol("kendall@flat")
    prefs = _write(tmp_path, "p.csv", PREFS_CSV)
    with pytest.raises(DataError, match="judged at level pair"):
        load_user_file("study", prefs, protocol=parse_protocol("kendall_c@flat"))
    assert load_user_file("study", prefs, protocol=parse_protocol("accuracy@pair/category")
                          ).protocol == [ProtocolStep("accuracy", "pair", "category")]


def _run(args: list[str], cwd: Path, pythonpath: list[Path]) -> subprocess.CompletedProcess:
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, [*pythonpath, repo]))}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_user_file_through_run_correlation(tmp_path):
    """NAME=FILE on the command line, with --metric-scores for the metric."""
    (tmp_path / "mine.csv").write_text(
        "id,candidate,score,annotator\n" + "".join(
            f"c{k},caption {k},{h},{a}\n" for k, hs in enumerate([(1, 2), (3, 3), (4, 5), (2, 1)])
            for a, h in zip(("x", "y"), hs)))
    (tmp_path / "m.csv").write_text("sample_id,score\nc0,0.1\nc1,0.5\nc2,0.9\nc3,0.3\n")
    out = tmp_path / "res"
    done = _run(["-m", "experiments.run_correlation", "--benchmark",
                 f"mine={tmp_path / 'mine.csv'}", "--metric-scores", f"m={tmp_path / 'm.csv'}",
                 "--protocol", "mine=spearman@flat", "--out", str(out), "--bootstrap", "20",
                 "--quiet"], tmp_path, [])
    assert done.returncode == 0, done.stderr
    expected = spearmanr(np.repeat([0.1, 0.5, 0.9, 0.3], 2), [1, 2, 3, 3, 4, 5, 2, 1]).statistic
    with open(out / "correlations.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    mine = {(r["metric"], r["statistic"]): r for r in rows}
    assert float(mine["m", "spearman"]["value"]) == pytest.approx(expected, abs=1e-12)
    assert ("human_ceiling", "spearman") in mine
    figures = _run(["-m", "experiments.make_figures", "--results", str(out), "--out",
                    str(tmp_path / "fig")], tmp_path, [])
    assert figures.returncode == 0, figures.stderr
    for name in ("mine_agreement_forest", "mine_metric_vs_human"):
        assert (tmp_path / "fig" / f"{name}.png").stat().st_size > 0
    bad = _run(["-m", "experiments.run_correlation", "--benchmark", "mine=nowhere.csv",
                "--metrics", "bleu1", "--out", str(out)], tmp_path, [])
    assert bad.returncode == 2 and "nowhere.csv" in bad.stderr


def test_api_and_command_line_give_per_judgment_rows_the_same_cider(tmp_path):
    """`metrics.score` on the file's rows (one per judgment) = run_correlation's scores."""
    import metrics
    from experiments.run_correlation import main
    from tests.helpers.files import read_csv

    path = _write(tmp_path, "r.csv", RATINGS_CSV)
    rows = list(csv.DictReader(path.read_text().splitlines()))
    out = tmp_path / "res"
    assert main(["--benchmark", f"mine={path}", "--metrics", "cider", "--bootstrap", "20",
                 "--permutations", "20", "--out", str(out), "--quiet", "--no-cache"]) == 0
    cli = {r["sample_id"]: float(r["score"]) for r in read_csv(out / "scores.csv")}
    api = metrics.score("cider", [r["candidate"] for r in rows],
                        [[r[k] for k in ("reference_1", "reference_2") if r[k]] for r in rows])
    assert cli["c1"] > cli["c2"] > 0
    assert api.tolist() == [cli[r["id"]] for r in rows]
