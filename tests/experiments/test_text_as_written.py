"""Every reader of a user's or a release's text file gives back the text as written.

A CSV field may hold line breaks, commas, quotes, U+2028 and U+0085 (csv and
pandas write them quoted); a JSON Lines string may hold U+2028 unescaped
(json.dumps(ensure_ascii=False)); a line-based file breaks lines at \\n, \\r\\n
and \\r only. And a number in a file is written as one: `1_0` is not 10.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from experiments.benchmarks.base import DataError
from experiments.benchmarks.files import csv_rows, parse_number, tsv_rows
try:
    from experiments.benchmarks.files import text_number
except ImportError:
    def text_number(t):
        try:
            return float(t)
        except ValueError:
            return None
from experiments.benchmarks.user_files import load_user_file
from experiments.fleur_scores import parse_fleur
from experiments.pipeline.external_scores import ExternalScores
from experiments.plots.names import parse_display_names
from experiments.socratis.data import load_socratis
from experiments.socratis.study import export_study, main as human_study_main
from metrics import MetricError
from metrics.vlm_judge.templates import parse_template
from tests.helpers.files import read_csv
from tests.helpers.socratis_fixture import (GENERATIONS, OFFICIAL, SAD, SAD_1, ANGRY, study_row,
                                            write_socratis, write_study)

# Texts a CSV writer quotes, and characters str.splitlines breaks at.
TEXTS = ["A dog\nruns fast", 'a cat, "the" cat', "line\u2028separator", "next\x85line",
         "windows\r\nbreak", "old mac\rbreak", "form\x0cfeed", "group\x1dseparator",
         "paragraph\u2029separator"]


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    """As csv (and pandas) write it: quoted where needed, \\r\\n between records."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# -- own ratings and preferences ------------------------------------------------

def test_own_ratings_csv_keeps_every_character(tmp_path):
    rows = [[text, f"reference of {k}\n{text}", str(k)] for k, text in enumerate(TEXTS)]
    path = write_csv(tmp_path / "ratings.csv", ["candidate", "reference_1", "score"], rows)
    bench = load_user_file("mine", path)
    assert [s.candidate for s in bench.samples] == TEXTS
    assert [s.references for s in bench.samples] == [(f"reference of {k}\n{t}",)
                                                     for k, t in enumerate(TEXTS)]
    assert bench.ratings.values.tolist() == [float(k) for k in range(len(TEXTS))]


def test_an_error_names_the_line_its_record_starts_on(tmp_path):
    path = write_csv(tmp_path / "ratings.csv", ["candidate", "score"],
                     [["zero", "1"], ["one\ntwo\nthree", "many"]])
    # line 1 header, line 2 the first record; the second runs from line 3 to line 5
    with pytest.raises(DataError, match=r"ratings\.csv:3: score 'many' is not a finite number"):
        load_user_file("mine", path)


def test_an_unclosed_quote_is_named_with_the_lines_it_swallows(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text('candidate,score\n"open quote,1\nnext,2\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"ratings\.csv:2: expected 2 columns, found 1 \(the "
                                        r"record runs from line 2 to line 3: is a quote left "
                                        r"open\?\)"):
        load_user_file("mine", path)


def test_own_preferences_csv_keeps_every_character(tmp_path):
    rows = [[text, text[::-1], "a,b\nc", "b" if k % 2 else "a", f"w{k}"]
            for k, text in enumerate(TEXTS)]
    path = write_csv(tmp_path / "study.csv",
                     ["candidate_a", "candidate_b", "reference_1", "preferred", "annotator"], rows)
    bench = load_user_file("study", path)
    by_id = {s.id: s for s in bench.samples}
    assert [by_id[f"p{k + 1}:a"].candidate for k in range(len(TEXTS))] == TEXTS
    assert [by_id[f"p{k + 1}:b"].candidate for k in range(len(TEXTS))] == [t[::-1] for t in TEXTS]
    assert {s.references for s in bench.samples} == {("a,b\nc",)}


def test_own_jsonl_with_unescaped_line_separators_is_read(tmp_path):
    # json.dumps(ensure_ascii=False) leaves U+2028, U+2029 and U+0085 unescaped: valid JSON
    records = [{"candidate": text, "references": [text], "score": k}
               for k, text in enumerate(TEXTS)]
    path = tmp_path / "ratings.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    assert "\u2028" in path.read_text(encoding="utf-8")
    bench = load_user_file("mine", path)
    assert [s.candidate for s in bench.samples] == TEXTS
    assert [s.references for s in bench.samples] == [(t,) for t in TEXTS]


# -- the Socratis release and the human-study kit --------------------------------

SAD_WRITTEN = 'The water took\ntheir homes, "all" of them\u2028and nobody\x85came to help.'


def write_written_socratis(folder: Path, study: list[dict] | None = None) -> Path:
    """The fixture with worker 0's (and worker 2's) reason SAD written over three lines and
    a machine reason holding U+2028, stored as json.dumps(ensure_ascii=False) writes them."""
    write_socratis(folder, study)
    official = json.loads(json.dumps(OFFICIAL))
    for worker in official["101"]:
        worker[3] = [SAD_WRITTEN if r == SAD else r for r in worker[3]]
    (folder / "imCaptionEmotionExplanation_formatted.json").write_text(
        json.dumps(official, ensure_ascii=False), encoding="utf-8")
    generations = [{**g, "reason": g["reason"].replace(" because ", "\u2028because\n")}
                   for g in GENERATIONS]
    (folder / "generations.jsonl").write_text(
        "".join(json.dumps(g, ensure_ascii=False) + "\n" for g in generations), encoding="utf-8")
    return folder


def test_socratis_study_pair_keeps_its_reason_and_leaves_it_out_of_its_references(tmp_path):
    machine = "They feel\nsad, \"very\" sad\u2028because\x85of the flood."
    study = [study_row("q1", "human", "ann1", human_reason=SAD_WRITTEN, machine_reason=machine)]
    bench = load_socratis(write_written_socratis(tmp_path / "socratis", study))
    samples = {s.id: s for s in bench.samples}
    assert samples["p:q1:human"].candidate == SAD_WRITTEN
    assert samples["p:q1:machine"].candidate == machine
    # worker 0 wrote it: its own reasons are left out, worker 2's identical one stays
    assert samples["p:q1:human"].references == (SAD_1, ANGRY, SAD_WRITTEN)
    assert not any("not found" in note for note in bench.notes)
    generated = samples["g:101:blip2:sad"].candidate
    assert generated == "They feel sad\u2028because\nthe flood destroyed the houses."


def test_human_study_export_and_import_give_back_every_reason_as_written(tmp_path):
    folder = write_written_socratis(tmp_path / "socratis")
    task, key = tmp_path / "task.csv", tmp_path / "key.csv"
    export_study(folder, folder / "generations.jsonl", task, key, n=None, seed=3)
    keyed = {r["pair_id"]: r for r in read_csv(key)}
    assert SAD_WRITTEN in {r["human_reason"] for r in keyed.values()}
    answers = tmp_path / "answers.csv"
    write_csv(answers, ["pair_id", "annotator", "answer", "export_id"],
              [[pair, "ann\u20281", "left", row["export_id"]] for pair, row in keyed.items()])
    out = folder / "human_study.csv"
    assert human_study_main(["import", "--key", str(key), "--answers", str(answers),
                             "--out", str(out), "--quiet"]) == 0
    imported = read_csv(out)
    assert {r["annotator"] for r in imported} == {"ann\u20281"}
    for row in imported:
        assert row["human_reason"] == keyed[row["pair_id"]]["human_reason"]
        assert row["machine_reason"] == keyed[row["pair_id"]]["machine_reason"]
    bench = load_socratis(folder)
    assert not any("not found" in note for note in bench.notes)
    humans = {s.candidate: s.references for s in bench.samples
              if s.id.startswith("p:") and s.id.endswith(":human")}
    assert humans[SAD_WRITTEN] == (SAD_1, ANGRY, SAD_WRITTEN)


def test_study_csv_errors_name_the_line_a_record_starts_on(tmp_path):
    folder = write_socratis(tmp_path / "socratis")
    write_study(folder / "human_study.csv",
                [study_row("q1", "human", "a1"),
                 study_row("q2", "sideways", "a1", human_reason="one\ntwo")])
    with pytest.raises(DataError, match=r"human_study\.csv:3: unknown verdict 'sideways'"):
        load_socratis(folder)


# -- other files ------------------------------------------------------------------

def test_metric_scores_file_keeps_ids_as_written(tmp_path):
    ids = ["s,1", "s\n2", "s\u20283", "s\x854", "s5"]
    path = write_csv(tmp_path / "scores.csv", ["sample_id", "score"],
                     list(zip(ids, ["0", "1.5", "inf", "", "-2e-1"])))
    read = ExternalScores.read("mine", path)
    # inf is kept for the run's non-finite rule (NaN with its reason); a blank cell is NaN
    assert {i: str(v) for i, v in read.scores.items()} == {
        "s,1": "0.0", "s\n2": "1.5", "s\u20283": "inf", "s\x854": "nan", "s5": "-0.2"}
    assert read.lines == {"s,1": 2, "s\n2": 3, "s\u20283": 5, "s\x854": 6, "s5": 7}


def test_generic_csv_rows_keep_cells_and_start_lines(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["a", "b"], [[t, t] for t in TEXTS])
    rows = list(csv_rows(path, ["a", "b"]))
    assert [r["a"] for _, r in rows] == TEXTS
    # each break (\n, \r\n or \r) inside the two quoted cells of a record starts a line
    assert [n for n, _ in rows] == [2, 5, 6, 7, 8, 11, 14, 15, 16]


def test_tab_separated_lines_keep_unicode_line_separators(tmp_path):
    path = tmp_path / "Flickr8k.token.txt"
    path.write_bytes("a.jpg#0\tA dog\u2028runs\r\nb.jpg#0\tA cat\x85sits\x0c\n".encode())
    assert list(tsv_rows(path, 2)) == [(1, ["a.jpg#0", "A dog\u2028runs"]),
                                       (2, ["b.jpg#0", "A cat\x85sits\x0c"])]


def test_fleur_blocks_keep_unicode_line_separators(tmp_path):
    path = tmp_path / "fleur.txt"
    path.write_text("image file : x/1.jpg\ncaption : A dog\u2028runs\x85fast\n"
                    "model score : 0.5\nour score : 0.625\n", encoding="utf-8")
    (block,) = parse_fleur(path)
    assert block.captions == [("A dog\u2028runs\x85fast", {"model": 0.5, "our": 0.625})]


def test_display_names_file_keeps_unicode_line_separators(tmp_path):
    path = tmp_path / "names.txt"
    path.write_bytes("\ufeffbleu4=BLEU\u2028four\r\n# comment\r\ncider=CIDEr\x85D\n".encode())
    assert parse_display_names(files=[path]) == {"bleu4": "BLEU\u2028four",
                                                 "cider": "CIDEr\x85D"}


def test_judge_template_body_keeps_unicode_line_separators():
    template = parse_template("scale: 1 2\n---\nRate\u2028this: {candidate}\x85Answer.\n",
                              name="t")
    assert template.body == "Rate\u2028this: {candidate}\x85Answer."


# -- numbers as written ---------------------------------------------------------------

def test_numbers_are_read_as_csv_writes_them():
    written = {"4": 4.0, " -1.5 ": -1.5, "+.5": 0.5, "5.": 5.0, "1e3": 1000.0,
               "2.5E-1": 0.25, "-Infinity": float("-inf")}
    assert {t: text_number(t) for t in written} == written
    assert str(text_number("nan")) == "nan"
    # float() reads all of these (1_0 as 10, Arabic-Indic and full-width digits as 3 and 4)
    for text in ["1_0", "1__0", "\u0663", "\uff14", "0x10", "1e", "e5", "1.2.3", "", "four"]:
        assert text_number(text) is None, text
        with pytest.raises(DataError, match="is not a number"):
            parse_number(text, "f.tsv:3", "rating")
    # nan and inf are numbers, judged by the caller's rule (a rating must be finite)
    with pytest.raises(DataError, match=r"f\.tsv:3: rating inf is not a finite number"):
        parse_number("inf", "f.tsv:3", "rating")


def test_an_underscored_score_is_refused_in_every_file(tmp_path):
    ratings = write_csv(tmp_path / "ratings.csv", ["candidate", "score"], [["a", "1"], ["b", "1_0"]])
    with pytest.raises(DataError, match=r"ratings\.csv:3: score '1_0' is not a finite number"):
        load_user_file("mine", ratings)
    jsonl = tmp_path / "ratings.jsonl"
    jsonl.write_text('{"candidate": "a", "score": "1_0"}\n')
    with pytest.raises(DataError, match=r"ratings\.jsonl:1: score '1_0' is not a finite number"):
        load_user_file("mine", jsonl)
    scores = write_csv(tmp_path / "scores.csv", ["sample_id", "score"], [["s1", "1_0"]])
    with pytest.raises(DataError, match=r"scores\.csv:2: score '1_0' is not a number"):
        ExternalScores.read("mine", scores)
    fleur = tmp_path / "fleur.txt"
    fleur.write_text("image file : 1.jpg\ncaption : a dog\nmodel score : 0_5\n")
    with pytest.raises(DataError, match=r"fleur\.txt:3: score '0_5' is not a number"):
        parse_fleur(fleur)
    with pytest.raises(MetricError, match="scale item 'B=1_0' needs a numeric value"):
        parse_template("scale: A=0 B=1_0\n---\n{candidate_a} or {candidate_b}?", name="t")
