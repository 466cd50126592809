"""Refusals that say what was found and what is expected: a header in capitals, a
semicolon-separated file, Excel's `sep=` line, a comma inside a --benchmark path, a
binary --display-names file, `plan_study --sizes abc`."""
from __future__ import annotations

import json

import pytest

from experiments.benchmarks.base import DataError
from experiments.benchmarks.user_files import load_user_file
from experiments.make_figures import main as make_figures_main
from experiments.pipeline.external_scores import ExternalScores
from experiments.plan_study import main as plan_main
from experiments.run_correlation import main as run_main

EXPECTED = ("expected candidate, score (ratings) or candidate_a, candidate_b, preferred "
            "(preferences)")


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_header_in_capitals_is_named_with_the_names_expected(tmp_path):
    path = write(tmp_path, "ratings.csv", "Candidate,Score\nA dog.,4\n")
    with pytest.raises(DataError) as info:
        load_user_file("mine", path)
    assert str(info.value) == (
        f"{path}: neither a `score` column (ratings) nor a `preferred` column (preferences); "
        "columns found: Candidate, Score -- column names are case-sensitive: write candidate, "
        f"not Candidate, score, not Score; {EXPECTED}")


def test_one_column_in_capitals_is_named(tmp_path):
    path = write(tmp_path, "ratings.jsonl", json.dumps({"Candidate": "A dog.", "score": 4}))
    with pytest.raises(DataError, match=r"ratings\.jsonl:1: unknown column\(s\) Candidate -- "
                                        r"column names are case-sensitive: write candidate, "
                                        r"not Candidate; this format has: id, candidate"):
        load_user_file("mine", path)
    scores = write(tmp_path, "scores.csv", "Sample_ID,score\ns1,0.5\n")
    with pytest.raises(DataError) as info:
        ExternalScores.read("mine", scores)
    assert str(info.value) == (f"{scores}:1: missing column(s) sample_id; columns found: "
                               "Sample_ID, score -- column names are case-sensitive: write "
                               "sample_id, not Sample_ID")


def test_a_semicolon_separated_file_is_named_as_one(tmp_path):
    path = write(tmp_path, "ratings.csv", "Candidate;Score\nA dog, running;4\n")
    with pytest.raises(DataError) as info:
        load_user_file("mine", path)
    assert str(info.value) == (f"{path}:1: columns found: Candidate;Score -- is the file "
                               f"semicolon-separated? Columns are separated by commas; {EXPECTED}")
    scores = write(tmp_path, "scores.csv", "sample_id\tscore\ns1\t0.5\n")
    with pytest.raises(DataError, match=r"scores\.csv:1: columns found: sample_id\tscore -- is "
                                        r"the file tab-separated\? Columns are separated by "
                                        r"commas; expected sample_id, score"):
        ExternalScores.read("mine", scores)


@pytest.mark.parametrize("first_line", ["sep=;", "sep=,", "SEP=\t"])
def test_excels_separator_line_is_named(tmp_path, first_line):
    path = write(tmp_path, "ratings.csv", f"{first_line}\ncandidate,score\nA dog.,4\n")
    with pytest.raises(DataError, match=r"ratings\.csv:1: found '(?i:sep=).*', Excel's separator "
                                        r"line: the header must be the first line of a "
                                        r"comma-separated file"):
        load_user_file("mine", path)


def test_a_comma_inside_a_benchmark_path_is_named(tmp_path, capsys):
    folder = tmp_path / "my,data"
    folder.mkdir()
    (folder / "ratings.csv").write_text("candidate,score\nA dog.,4\nA cat.,2\n")
    spec = f"mine={folder}/ratings.csv"
    with pytest.raises(SystemExit) as exit_info:
        run_main(["--benchmark", spec, "--metrics", "bleu1", "--out", str(tmp_path / "out"),
                  "--cache-dir", str(tmp_path / "cache")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert (f"argument --benchmark: {spec!r}: found the file '{folder}/ratings.csv', whose name "
            "holds a comma, which separates benchmarks here; expected NAME=FILE with no comma "
            "in FILE") in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("data, found", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "byte 0x89 at offset 0 is not UTF-8"),
    (b"bleu4=BLEU\x00\x00\x00\x01", "it holds NUL bytes"),
])
def test_a_binary_display_names_file_is_named(tmp_path, capsys, data, found):
    path = tmp_path / "names.png"
    path.write_bytes(data)
    assert make_figures_main(["--results", str(tmp_path / "results"), "--out",
                              str(tmp_path / "figures"), "--display-names", str(path)]) == 2
    assert capsys.readouterr().err == (f"error: {path}: not a text file: {found}; expected a "
                                       "UTF-8 text file of KEY=TEXT lines, e.g. bleu4=BLEU@4\n")


@pytest.mark.parametrize("sizes, found", [("abc", "'abc'"), ("50,1_0", "'1_0'"),
                                          ("50,,100", "''"), ("50,1e2", "'1e2'")])
def test_plan_study_sizes_that_are_not_whole_numbers(tmp_path, capsys, sizes, found):
    assert plan_main(["--benchmark", "demo", "--metrics", "bleu1,bleu4", "--sizes", sizes,
                      "--out", str(tmp_path / "plan")]) == 2
    assert capsys.readouterr().err == (f"error: --sizes: found {found} in {sizes!r}; expected "
                                       "comma-separated whole numbers of units, e.g. 50,100,200\n")
