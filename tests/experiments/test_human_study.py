"""The human-study kit: export, import, validation and annotator agreement."""
from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from experiments.benchmarks.base import A_BETTER, B_BETTER, DataError
from experiments.socratis.study import (agreement, export_study, fleiss_kappa, import_answers,
                                     main, percent_agreement, verdict_counts)
from experiments.socratis.data import load_socratis
from tests.helpers.files import read_csv
from tests.helpers.socratis_fixture import GENERATIONS, write_socratis

MACHINE_TEXTS = {g["reason"] for g in GENERATIONS}


# -- agreement, by hand --------------------------------------------------------

def test_fleiss_kappa_on_four_verdicts_by_hand():
    # Three pairs, two annotators each: (human, human), (machine, human), (both_good, both_good).
    # P_i = 1, 0, 1 -> P = 2/3. Shares: human 3/6, machine 1/6, both_good 2/6, both_bad 0
    # -> P_e = (9 + 1 + 4) / 36 = 7/18. kappa = (2/3 - 7/18) / (1 - 7/18) = 5/11.
    pairs = ["a", "a", "b", "b", "c", "c"]
    verdicts = ["human", "human", "machine", "human", "both_good", "both_good"]
    counts = verdict_counts(pairs, verdicts)
    np.testing.assert_array_equal(counts, [[2, 0, 0, 0], [1, 1, 0, 0], [0, 0, 2, 0]])
    assert percent_agreement(counts) == pytest.approx(2 / 3)
    assert fleiss_kappa(counts) == pytest.approx(5 / 11)
    result = agreement(pairs, verdicts)
    assert (result.n_pairs, result.n_judgments) == (3, 6)


def test_fleiss_kappa_on_the_classic_fourteen_rater_table():
    # Ten subjects, fourteen raters, five categories: the worked example often used
    # for Fleiss' kappa (P = 0.378, P_e = 0.213, kappa = 0.210).
    table = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0],
                      [2, 2, 8, 1, 1], [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2],
                      [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
    assert percent_agreement(table) == pytest.approx(0.378, abs=5e-4)
    assert fleiss_kappa(table) == pytest.approx(0.210, abs=5e-4)


def test_agreement_edge_cases():
    # Single-annotator pairs are left out; unanimous single-category data has no kappa.
    assert math.isnan(fleiss_kappa(verdict_counts(["a", "b"], ["human", "machine"])))
    assert math.isnan(fleiss_kappa(verdict_counts(["a", "a"], ["human", "human"])))
    # Perfect agreement over two categories is kappa 1; mixed numbers of annotators work.
    counts = verdict_counts(["a", "a", "a", "b", "b", "c"], ["human"] * 3 + ["machine"] * 3)
    assert fleiss_kappa(counts) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown verdict 'meh'"):
        verdict_counts(["a"], ["meh"])


# -- export and import ---------------------------------------------------------

@pytest.fixture
def kit(tmp_path):
    folder = write_socratis(tmp_path / "socratis")
    task, key = tmp_path / "task.csv", tmp_path / "key.csv"
    export_study(folder, folder / "generations.jsonl", task, key, n=None, seed=3)
    return folder, task, key


def answer(task_rows, prefer, annotator):
    """What an annotator who always prefers `prefer` ('machine' or 'human') clicks,
    reading only the task file."""
    out = []
    for row in task_rows:
        left_is_machine = row["reason_left"] in MACHINE_TEXTS
        assert left_is_machine != (row["reason_right"] in MACHINE_TEXTS)
        clicks_left = left_is_machine == (prefer == "machine")
        out.append({"pair_id": row["pair_id"], "annotator": annotator,
                    "answer": "left" if clicks_left else "right"})
    return out


def write_answers(path, rows, columns=("pair_id", "annotator", "answer")):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_export_shows_no_side_and_is_reproducible(kit, tmp_path):
    folder, task, key = kit
    rows = read_csv(task)
    assert list(rows[0]) == ["pair_id", "item_id", "image", "caption", "emotion",
                             "reason_left", "reason_right"]
    assert len(rows) == 4  # every generation has a human reason with its emotion
    assert {r["image"] for r in rows} == {"flood.png", "final.png"}
    sides = [r["human_side"] for r in read_csv(key)]
    assert set(sides) == {"left", "right"}  # the seed puts human reasons on both sides
    again = tmp_path / "again"
    export_study(folder, folder / "generations.jsonl", again / "t.csv", again / "k.csv",
                 n=None, seed=3)
    assert (again / "t.csv").read_bytes() == task.read_bytes()
    assert (again / "k.csv").read_bytes() == key.read_bytes()
    export_study(folder, folder / "generations.jsonl", again / "t2.csv", again / "k2.csv",
                 n=2, seed=3, generators=["blip2"], image_url="https://host/img/")
    two = read_csv(again / "t2.csv")
    assert len(two) == 2 and all(r["image"].startswith("https://host/img/") for r in two)
    assert {r["generator"] for r in read_csv(again / "k2.csv")} == {"blip2"}


def test_round_trip_restores_every_verdict_to_the_right_side(kit, tmp_path):
    folder, task, key = kit
    rows = read_csv(task)
    answers = (answer(rows, "machine", "fan_of_machines") + answer(rows, "human", "fan_of_people")
               + [{"pair_id": rows[0]["pair_id"], "annotator": "third", "answer": "Both good"}])
    path = write_answers(tmp_path / "answers.csv", answers)
    result = import_answers(key, [path])
    verdicts = {(r["pair_id"], r["annotator"]): r["verdict"] for r in result.rows}
    for row in rows:
        assert verdicts[row["pair_id"], "fan_of_machines"] == "machine"
        assert verdicts[row["pair_id"], "fan_of_people"] == "human"
    assert verdicts[rows[0]["pair_id"], "third"] == "both_good"
    keyed = {r["pair_id"]: r for r in read_csv(key)}
    for r in result.rows:
        assert r["machine_reason"] in MACHINE_TEXTS
        assert r["human_reason"] == keyed[r["pair_id"]]["human_reason"]
    assert result.agreement.n_pairs == 4 and result.agreement.percent < 0.5

    # The file the benchmark reads: each verdict becomes the right outcome.
    assert main(["import", "--key", str(key), "--answers", str(path),
                 "--out", str(folder / "human_study.csv")]) == 0
    bench = load_socratis(folder)
    prefs = bench.preferences
    for annotator, outcome in zip(prefs.annotators, prefs.outcome):
        if annotator == "fan_of_machines":
            assert outcome == B_BETTER
        elif annotator == "fan_of_people":
            assert outcome == A_BETTER
    machine_side = {s.id: s.candidate for s in bench.samples if s.id.endswith(":machine")}
    assert set(machine_side.values()) == MACHINE_TEXTS


def test_platform_column_names_are_options(kit, tmp_path):
    _, task, key = kit
    rows = [{"Input.pair_id": r["pair_id"], "WorkerId": r["annotator"], "Answer.choice": r["answer"]}
            for r in answer(read_csv(task), "machine", "w1")]
    path = write_answers(tmp_path / "mturk.csv", rows, ("Input.pair_id", "WorkerId", "Answer.choice"))
    result = import_answers(key, [path], "Input.pair_id", "WorkerId", "Answer.choice")
    assert {r["verdict"] for r in result.rows} == {"machine"}


@pytest.mark.parametrize("bad, line, message", [
    ({"answer": "left-ish"}, 3, "unknown answer 'left-ish'"),
    ({"pair_id": "pair9999"}, 3, "pair 'pair9999' is not in the key file"),
    ({"annotator": "a1"}, 3, "annotator 'a1' answered pair 'pair0001' twice"),
    ({"annotator": "  "}, 3, "empty annotator"),
])
def test_import_errors_name_file_and_line(kit, tmp_path, bad, line, message):
    _, task, key = kit
    rows = [{"pair_id": "pair0001", "annotator": "a1", "answer": "left"},
            {"pair_id": "pair0001", "annotator": "a2", "answer": "right"}]
    rows[1].update(bad)
    path = write_answers(tmp_path / "answers.csv", rows)
    with pytest.raises(DataError) as info:
        import_answers(key, [path])
    assert f"{path}:{line}: {message}" in str(info.value)


def test_a_duplicate_across_answer_files_names_both_places(kit, tmp_path):
    _, _, key = kit
    first = write_answers(tmp_path / "a.csv", [{"pair_id": "pair0002", "annotator": "x",
                                                "answer": "both_bad"}])
    second = write_answers(tmp_path / "b.csv", [{"pair_id": "pair0003", "annotator": "x",
                                                 "answer": "left"},
                                                {"pair_id": "pair0002", "annotator": "x",
                                                 "answer": "left"}])
    with pytest.raises(DataError, match=r"b\.csv:3: annotator 'x' answered pair 'pair0002' "
                                        r"twice \(first at .*a\.csv:2\)"):
        import_answers(key, [first, second])


def test_command_line_reports_errors_without_a_traceback(kit, tmp_path, capsys):
    _, _, key = kit
    path = write_answers(tmp_path / "answers.csv",
                         [{"pair_id": "pair0001", "annotator": "a", "answer": "maybe"}])
    assert main(["import", "--key", str(key), "--answers", str(path),
                 "--out", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2: unknown answer 'maybe'" in err
    assert not (tmp_path / "out.csv").exists()
