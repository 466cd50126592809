"""`metaeval score`: plain line-aligned files (or JSON Lines) in, one CSV of per-line
scores out, with each metric's corpus score and signature; numbers as metrics.score
gives them on the same lists."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

import metrics
from experiments.score_files import main

CANDIDATES = ["a dog runs on the grass", "a cat sits on a mat", "two birds fly"]
REFS_1 = ["a dog is running on grass", "a cat is sitting on the mat", "birds flying in the sky"]
REFS_2 = ["the dog runs", "", "two birds are flying"]  # line 2: no second reference
REFERENCES = [[REFS_1[0], REFS_2[0]], [REFS_1[1]], [REFS_1[2], REFS_2[2]]]


def write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines))
    return path


@pytest.fixture
def files(tmp_path):
    return (write_lines(tmp_path / "cands.txt", CANDIDATES),
            write_lines(tmp_path / "refs1.txt", REFS_1),
            write_lines(tmp_path / "refs2.txt", REFS_2))


def read_scores(text):
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["line", "metric", "score"]
    out = {}
    for row in rows:
        out.setdefault(row["metric"], {})[int(row["line"])] = float(row["score"])
    return out


def test_line_files_score_as_the_api_does(files, tmp_path, capsys):
    cands, refs1, refs2 = files
    assert main(["--metric", "cider,bleu4", "--candidates", str(cands), "--references",
                 str(refs1), "--references", str(refs2), "--no-cache", "-q"]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # -q with the CSV on stdout: the CSV alone
    scores = read_scores(out)
    for name in ("cider", "bleu4"):
        expected = metrics.score(name, CANDIDATES, REFERENCES)
        assert [scores[name][line] for line in (1, 2, 3)] == pytest.approx(expected, rel=1e-12)
    assert len(set(scores["cider"].values())) == 3


def test_corpus_scores_and_signatures_are_printed(files, tmp_path, capsys):
    cands, refs1, refs2 = files
    out_file = tmp_path / "scores.csv"
    assert main(["--metric", "bleu4,cider", "--candidates", str(cands), "--references",
                 str(refs1), "--references", str(refs2), "--out", str(out_file),
                 "--cache-dir", str(tmp_path / "cache"), "-q"]) == 0
    printed = capsys.readouterr().out.splitlines()
    for name in ("bleu4", "cider"):
        details = metrics.score(name, CANDIDATES, REFERENCES, details=True)
        line = next(line for line in printed if line.startswith(f"{name}: "))
        assert f"corpus {details.corpus_score:.6g}" in line
        assert f"mean {np.mean(details.scores):.6g} over 3 lines" in line
        assert f"signature: {metrics.get_metric(name).signature()}|socratis-metaeval:" in line
    assert read_scores(out_file.read_text())["cider"][2] == pytest.approx(
        metrics.score("cider", CANDIDATES, REFERENCES)[1], rel=1e-12)
    # a second run reads every line from the cache: the same numbers, and it says
    # why there is no corpus score rather than leaving it out
    assert main(["--metric", "bleu4", "--candidates", str(cands), "--references", str(refs1),
                 "--references", str(refs2), "--out", str(tmp_path / "again.csv"),
                 "--cache-dir", str(tmp_path / "cache"), "-q"]) == 0
    assert "corpus score not recomputed" in capsys.readouterr().out
    assert (read_scores((tmp_path / "again.csv").read_text())["bleu4"]
            == read_scores(out_file.read_text())["bleu4"])


def test_json_lines_input_names_lines_by_the_file(tmp_path, capsys):
    path = tmp_path / "pairs.jsonl"
    rows = [{"candidate": c, "references": r} for c, r in zip(CANDIDATES, REFERENCES)]
    path.write_text(json.dumps(rows[0]) + "\n\n" + "".join(json.dumps(r) + "\n" for r in rows[1:]))
    assert main(["--metric", "bleu1", "--input", str(path), "--no-cache", "-q"]) == 0
    scores = read_scores(capsys.readouterr().out)["bleu1"]
    expected = metrics.score("bleu1", CANDIDATES, REFERENCES)
    assert scores == pytest.approx({1: expected[0], 3: expected[1], 4: expected[2]}, rel=1e-12)


def test_files_of_different_lengths_are_an_error_naming_each(files, tmp_path, capsys):
    cands, refs1, _ = files
    short = write_lines(tmp_path / "short.txt", REFS_1[:2])
    assert main(["--metric", "bleu1", "--candidates", str(cands), "--references", str(refs1),
                 "--references", str(short), "--no-cache"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: the files are not line-aligned: {cands} has 3 lines, {refs1} has 3 lines, "
        f"{short} has 2 lines")


def test_a_candidate_with_no_reference_is_an_error_for_a_reference_metric(tmp_path, capsys):
    cands = write_lines(tmp_path / "c.txt", ["a dog", "a cat"])
    refs = write_lines(tmp_path / "r.txt", ["a dog runs", ""])
    assert main(["--metric", "bleu1", "--candidates", str(cands), "--references", str(refs),
                 "--no-cache"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: bleu1 needs references; the candidate of {cands}:2 has none (its line is "
        "empty in every --references file)")


def test_an_empty_candidate_keeps_its_line_and_says_why_it_is_nan(tmp_path, capsys):
    cands = write_lines(tmp_path / "c.txt", ["a dog runs", "", "two birds fly"])
    refs = write_lines(tmp_path / "r.txt", REFS_1)
    assert main(["--metric", "bleu1", "--candidates", str(cands), "--references", str(refs),
                 "--no-cache", "-q"]) == 0
    out, err = capsys.readouterr()
    scores = read_scores(out)["bleu1"]
    assert sorted(scores) == [1, 2, 3] and np.isnan(scores[2])
    assert scores[3] == pytest.approx(metrics.score("bleu1", ["two birds fly"], [REFS_1[2]])[0],
                                      rel=1e-12)
    assert err.splitlines() == [
        f"warning: bleu1: {cands}:2: not scored (empty candidate); its score is nan"]


def test_images_are_checked_before_an_image_metric_is_built(tmp_path, capsys, monkeypatch):
    """No image given for a line, or none of the images there: an error naming the line or
    the first image, before CLIP's libraries are imported for a run that cannot score."""
    from metrics import clip_model

    def built(self):
        raise AssertionError("the CLIP weights were checked before the images")

    monkeypatch.setattr(clip_model.ClipWeights, "_check", built)
    cands = write_lines(tmp_path / "c.txt", ["a dog", "a cat"])
    assert main(["--metric", "clipscore", "--candidates", str(cands), "--no-cache"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: clipscore needs an image per candidate; {cands}:1 has none (give --images "
        "LIST.txt, or 'image' in the JSON Lines)")
    images = write_lines(tmp_path / "images.txt", [str(tmp_path / "dog.jpg"),
                                                  str(tmp_path / "cat.jpg")])
    assert main(["--metric", "clipscore", "--candidates", str(cands), "--images", str(images),
                 "--no-cache"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: clipscore: none of the 2 images exist (first: sample '0' -> "
        f"{tmp_path / 'dog.jpg'}); check the paths your --images file or JSON Lines give "
        "(relative ones are read from that file's folder)")
