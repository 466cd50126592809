"""The human-study kit: export, import, validation and annotator agreement."""
from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from experiments.benchmarks.base import A_BETTER, B_BETTER, DataError
from experiments.socratis.study import (KEY_COLUMNS, StudyPair, agreement, export_id, export_study,
                                     fleiss_kappa, import_answers, main, percent_agreement,
                                     verdict_counts)
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
                    "answer": "left" if clicks_left else "right",
                    "export_id": row["export_id"]})  # platforms keep the task's columns
    return out


def write_answers(path, rows, columns=("pair_id", "annotator", "answer", "export_id"),
                  export=None):
    """An answers file; `export` fills the export_id of rows that lack one."""
    rows = [{"export_id": export, **r} if export else r for r in rows]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_export_shows_no_side_and_is_reproducible(kit, tmp_path):
    folder, task, key = kit
    rows = read_csv(task)
    assert list(rows[0]) == ["pair_id", "item_id", "image", "caption", "emotion",
                             "reason_left", "reason_right", "export_id"]
    keyed = read_csv(key)
    assert {r["export_id"] for r in rows} == {r["export_id"] for r in keyed} == {
        export_id([StudyPair(**{c: r[c] for c in KEY_COLUMNS}, image="", caption="")
                   for r in keyed])}
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
               + [{"pair_id": rows[0]["pair_id"], "annotator": "third", "answer": "Both good",
                   "export_id": rows[0]["export_id"]}])
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
    rows = [{"Input.pair_id": r["pair_id"], "WorkerId": r["annotator"], "Answer.choice": r["answer"],
             "Input.export_id": r["export_id"]}
            for r in answer(read_csv(task), "machine", "w1")]
    path = write_answers(tmp_path / "mturk.csv", rows, ("Input.pair_id", "WorkerId", "Answer.choice",
                                                        "Input.export_id"))
    result = import_answers(key, [path], "Input.pair_id", "WorkerId", "Answer.choice",
                            "Input.export_id")
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
    path = write_answers(tmp_path / "answers.csv", rows, export=read_csv(key)[0]["export_id"])
    with pytest.raises(DataError) as info:
        import_answers(key, [path])
    assert f"{path}:{line}: {message}" in str(info.value)


def test_a_duplicate_across_answer_files_names_both_places(kit, tmp_path):
    _, _, key = kit
    export = read_csv(key)[0]["export_id"]
    first = write_answers(tmp_path / "a.csv", [{"pair_id": "pair0002", "annotator": "x",
                                                "answer": "both_bad"}], export=export)
    second = write_answers(tmp_path / "b.csv", [{"pair_id": "pair0003", "annotator": "x",
                                                 "answer": "left"},
                                                {"pair_id": "pair0002", "annotator": "x",
                                                 "answer": "left"}], export=export)
    with pytest.raises(DataError, match=r"b\.csv:3: annotator 'x' answered pair 'pair0002' "
                                        r"twice \(first at .*a\.csv:2\)"):
        import_answers(key, [first, second])


def test_command_line_reports_errors_without_a_traceback(kit, tmp_path, capsys):
    _, _, key = kit
    path = write_answers(tmp_path / "answers.csv",
                         [{"pair_id": "pair0001", "annotator": "a", "answer": "maybe"}],
                         export=read_csv(key)[0]["export_id"])
    assert main(["import", "--key", str(key), "--answers", str(path),
                 "--out", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2: unknown answer 'maybe'" in err
    assert not (tmp_path / "out.csv").exists()


def test_an_export_never_replaces_a_key_without_force(kit, tmp_path, capsys):
    folder, task, key = kit
    kept = key.read_bytes(), task.read_bytes()
    other = tmp_path / "other_task.csv"
    args = ["export", "--socratis-dir", str(folder), "--seed", "4", "--key", str(key)]
    assert main([*args, "--out", str(other)]) == 2
    assert f"{key} exists; nothing was written: give another path, or --force to replace it" \
        in capsys.readouterr().err
    assert main(["export", "--socratis-dir", str(folder), "--seed", "4", "--key",
                 str(tmp_path / "new_key.csv"), "--out", str(task)]) == 2
    assert f"{task} exists" in capsys.readouterr().err
    assert (key.read_bytes(), task.read_bytes()) == kept and not other.exists()
    assert not (tmp_path / "new_key.csv").exists()
    assert main([*args, "--out", str(other), "--force"]) == 0
    assert key.read_bytes() != kept[0]  # seed 4 puts the reasons on other sides


def test_answers_to_another_export_are_refused(kit, tmp_path):
    folder, task, key = kit
    # A second export of the same pairs with other sides, whose key is kept by mistake.
    second_task, second_key = tmp_path / "t4.csv", tmp_path / "k4.csv"
    export_study(folder, folder / "generations.jsonl", second_task, second_key, n=None, seed=4)
    first_id, second_id = read_csv(task)[0]["export_id"], read_csv(second_key)[0]["export_id"]
    assert first_id != second_id
    assert [r["human_side"] for r in read_csv(key)] != [r["human_side"]
                                                       for r in read_csv(second_key)]
    path = write_answers(tmp_path / "answers.csv", answer(read_csv(task), "machine", "a1"))
    with pytest.raises(DataError, match=rf"answers.csv:2: an answer to export '{first_id}', but "
                                        rf"the key .*k4.csv is export '{second_id}': the answers "
                                        r"and the key are of different exports"):
        import_answers(second_key, [path])
    assert {r["verdict"] for r in import_answers(key, [path]).rows} == {"machine"}
    # Answers without the export id cannot be checked: refused, saying how to keep it.
    bare = write_answers(tmp_path / "bare.csv", [{k: v for k, v in r.items() if k != "export_id"}
                                                 for r in answer(read_csv(task), "human", "a2")],
                         columns=("pair_id", "annotator", "answer"))
    with pytest.raises(DataError, match=rf"bare.csv:1: no export_id column, so these answers "
                                        rf"cannot be checked against the key .*key.csv "
                                        rf"\(export {first_id}\); keep the task file's export_id"):
        import_answers(key, [bare])


def test_a_key_written_before_export_ids_still_imports_with_a_warning(kit, tmp_path, caplog):
    _, task, key = kit
    old_key = tmp_path / "old_key.csv"
    rows = read_csv(key)
    write_answers(old_key, [{c: r[c] for c in KEY_COLUMNS} for r in rows], columns=KEY_COLUMNS)
    path = write_answers(tmp_path / "answers.csv", answer(read_csv(task), "human", "a1"),
                         columns=("pair_id", "annotator", "answer", "export_id"))
    assert {r["verdict"] for r in import_answers(old_key, [path]).rows} == {"human"}
    assert "old_key.csv has no export_id column (written before exports had ids)" in caplog.text


def test_an_import_never_replaces_its_output_without_force(kit, tmp_path, capsys):
    _, task, key = kit
    path = write_answers(tmp_path / "answers.csv", answer(read_csv(task), "human", "a1"))
    out = tmp_path / "human_study.csv"
    out.write_text("my earlier import\n")
    args = ["import", "--key", str(key), "--answers", str(path), "--out", str(out)]
    assert main(args) == 2
    assert f"{out} exists; nothing was written" in capsys.readouterr().err
    assert out.read_text() == "my earlier import\n"
    assert main([*args, "--force"]) == 0
    assert read_csv(out)[0]["verdict"] == "human"


@pytest.mark.parametrize("missing", ["key", "answers"])
def test_import_names_a_missing_file_in_one_line(tmp_path, capsys, missing):
    from experiments.socratis.study import main
    files = {name: tmp_path / f"{name}.csv" for name in ("key", "answers")}
    for name, path in files.items():
        if name != missing:
            path.write_text("pair_id\n")
    assert main(["import", "--key", str(files["key"]), "--answers", str(files["answers"]),
                 "--out", str(tmp_path / "out.csv"), "-q"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: --{missing}: file not found: {files[missing]}\n"
    assert not (tmp_path / "out.csv").exists()
