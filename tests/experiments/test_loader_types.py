"""A value of the wrong type in a benchmark file is a DataError naming the
file and the place, never a traceback and never a silently converted value
(a string where a list belongs is not read as its characters)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from experiments.benchmarks import load_benchmark
from experiments.benchmarks.base import DataError
from experiments.benchmarks.flickr8k import load_cf, load_expert_json

PAIR = {"image": "VOC/a.jpg", "captions": ["A dog runs.", "A cat sits."], "label": 1,
        "references": ["A dog.", "A brown dog runs."]}
THUMB = {"SYS": "up-down", "seg_id": 7, "hyp": "A dog runs.", "image": "7.jpg",
         "human_score": 3.5}
THUMB_REFS = {"seg_id": 7, "refs": ["A dog.", "A dog running."]}
NEBULA = {"imgid": "n1", "mt": "A dog runs.", "refs": ["A dog.", "A dog running."], "score": 0.5}
POLARIS = {"id": "val_0", "imgid": "p1", "mt": "A dog runs.", "score": 0.75}
EXPERT = {"1000.jpg": {"image_path": "x/1000.jpg", "ground_truth": ["A dog.", "A dog running."],
                       "human_judgement": [{"caption": "A dog runs.", "rating": 3},
                                           {"caption": "A dog runs.", "rating": 4}]}}


def write(folder: Path, name: str, data) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if name.endswith(".jsonl"):
        path.write_text("".join(json.dumps(row) + "\n" for row in data))
    else:
        path.write_text(json.dumps(data))
    return path


def pascal(tmp_path, data):
    write(tmp_path / "pascal50s", "pascal_50s.json", data)
    return load_benchmark("pascal50s", tmp_path)


def thumb(tmp_path, rows, refs=(THUMB_REFS,)):
    write(tmp_path / "thumb", "mscoco_THumB-1.0.jsonl", rows)
    write(tmp_path / "thumb", "mscoco_references.jsonl", refs)
    return load_benchmark("thumb", tmp_path)


def scalar(tmp_path, name, rows):
    write(tmp_path / name, {"nebula": "nebula_test.json", "polaris": "polaris_val.json"}[name], rows)
    return load_benchmark(name, tmp_path)


def expert(tmp_path, data):
    return load_expert_json(write(tmp_path / "flickr8k", "flickr8k_expert.json", data))


def with_(row: dict, **changes) -> dict:
    out = copy.deepcopy(row)
    out.update(changes)
    return out


def test_valid_small_files_load(tmp_path):
    bench = pascal(tmp_path, {"HC": [PAIR]})
    assert [(s.id, s.candidate, s.references) for s in bench.samples] == [
        ("HC/0/a", "A dog runs.", ("A dog.", "A brown dog runs.")),
        ("HC/0/b", "A cat sits.", ("A dog.", "A brown dog runs."))]
    assert bench.preferences.outcome.tolist() == [-1]
    assert bench.notes == ["pascal_50s.json has no HI, HM, MM pairs"]
    bench = thumb(tmp_path, [THUMB])
    assert bench.samples[0].id == "up-down/7" and bench.ratings.values.tolist() == [3.5]
    assert scalar(tmp_path, "nebula", [NEBULA]).samples[0].references == ("A dog.", "A dog running.")
    assert scalar(tmp_path, "polaris", [POLARIS]).samples[0].id == "val_0"
    bench = expert(tmp_path, EXPERT)
    assert [s.id for s in bench.samples] == ["1000.jpg#0"]
    assert bench.ratings.values.tolist() == [3, 4]


@pytest.mark.parametrize("data,message", [
    ({"HC": [with_(PAIR, captions="ab")]},
     r"HC pair 0: captions must be a list, found text \('ab'\)"),
    ({"HC": [with_(PAIR, captions=["a", "b", "c"])]}, r"HC pair 0: captions must hold 2 texts, found 3"),
    ({"HC": [with_(PAIR, captions=["a", 5])]}, r"HC pair 0: captions\[1\] must be text, found a number"),
    ({"HC": [with_(PAIR, references="A dog.")]},
     r"HC pair 0: references must be a list, found text \('A dog.'\)"),
    ({"HC": [with_(PAIR, references=None)]}, r"HC pair 0: references must be a list, found null"),
    ({"HC": [with_(PAIR, label=True)]}, r"HC pair 0: label must be 0 or 1, found true/false"),
    ({"HC": [with_(PAIR, label="1")]}, r"HC pair 0: label must be 0 or 1, found text"),
    ({"HC": [PAIR, [1, 2]]}, r"HC pair 1: entry must be a JSON object, found a list of 2"),
    ({"HC": [PAIR, with_(PAIR, image=3)]}, r"HC pair 1: image must be text, found a number"),
    ({}, r"pascal_50s.json: expected an object with categories HC, HI, HM, MM, found none"),
    ({"HC": []}, r"pascal_50s.json: HC: the category is an empty list"),
    ({"HC": {"0": PAIR}}, r"pascal_50s.json: HC: the category must be a list, found an object"),
    ([PAIR], r"pascal_50s.json: the file must be a JSON object, found a list of 1"),
])
def test_pascal50s_wrong_types(tmp_path, data, message):
    with pytest.raises(DataError, match=message):
        pascal(tmp_path, data)


def test_duplicate_key_in_a_json_object_names_the_key_and_line(tmp_path):
    folder = tmp_path / "pascal50s"
    folder.mkdir()
    pair = json.dumps(PAIR)
    (folder / "pascal_50s.json").write_text(f'{{\n"HC": [{pair}],\n"HI": [{pair}],\n"HC": [{pair}]\n}}')
    with pytest.raises(DataError, match=r"pascal_50s.json:4: key 'HC' appears twice in one object"):
        load_benchmark("pascal50s", tmp_path)


@pytest.mark.parametrize("rows,refs,message", [
    ([with_(THUMB, hyp=None)], [THUMB_REFS], r"THumB-1.0.jsonl:1: hyp must be text, found null"),
    ([with_(THUMB, human_score="3.5")], [THUMB_REFS],
     r"THumB-1.0.jsonl:1: human_score must be a number, found text \('3.5'\)"),
    ([with_(THUMB, human_score=None)], [THUMB_REFS], r"THumB-1.0.jsonl:1: human_score must be a number, found null"),
    ([with_(THUMB, SYS=["x"])], [THUMB_REFS], r"THumB-1.0.jsonl:1: SYS must be text, found a list"),
    ([THUMB], [with_(THUMB_REFS, refs="A dog.")], r"references.jsonl:1: refs must be a list, found text"),
    ([THUMB], [THUMB_REFS, THUMB_REFS], r"references.jsonl:2: seg_id '7' appears twice \(first on line 1\)"),
    ([THUMB, THUMB], [THUMB_REFS], r"THumB-1.0.jsonl:2: system 'up-down' and seg_id '7' appear twice"),
    ([THUMB, 5], [THUMB_REFS], r"THumB-1.0.jsonl:2: the line must be a JSON object, found a number"),
])
def test_thumb_wrong_types(tmp_path, rows, refs, message):
    with pytest.raises(DataError, match=message):
        thumb(tmp_path, rows, refs)


def test_thumb_nan_human_score_is_an_error(tmp_path):
    write(tmp_path / "thumb", "mscoco_references.jsonl", [THUMB_REFS])
    (tmp_path / "thumb" / "mscoco_THumB-1.0.jsonl").write_text(
        json.dumps(THUMB).replace("3.5", "NaN") + "\n")
    with pytest.raises(DataError, match=r"THumB-1.0.jsonl:1: human_score nan is not a finite number"):
        load_benchmark("thumb", tmp_path)


@pytest.mark.parametrize("name,rows,message", [
    ("nebula", [with_(NEBULA, refs="A dog.")], r"nebula_test.json: row 0: refs must be a list, found text"),
    ("nebula", [with_(NEBULA, refs=None)], r"row 0: refs must be a list, found null"),
    ("nebula", [NEBULA, with_(NEBULA, score="0.5")], r"row 1: score must be a number, found text \('0.5'\)"),
    ("nebula", [with_(NEBULA, score=None)], r"row 0: score must be a number, found null"),
    ("nebula", [with_(NEBULA, score=7)], r"row 0: score 7.0 is outside \[0, 1\]"),
    ("nebula", [with_(NEBULA, mt=12)], r"row 0: mt must be text, found a number \(12\)"),
    ("nebula", [with_(NEBULA, imgid=None)], r"row 0: imgid must be text, found null"),
    ("nebula", [], r"nebula_test.json: the file \(a list of rows\) is an empty list"),
    ("nebula", {"0": NEBULA}, r"nebula_test.json: the file \(a list of rows\) must be a list"),
    ("nebula", ["row"], r"row 0: entry must be a JSON object, found text"),
    ("polaris", [with_(POLARIS, id=None)], r"polaris_val.json: row 0: id must be text, found null"),
    ("polaris", [POLARIS, POLARIS], r"row 1: id 'val_0' appears twice \(first in row 0\)"),
])
def test_scalar_benchmarks_wrong_types(tmp_path, name, rows, message):
    with pytest.raises(DataError, match=message):
        scalar(tmp_path, name, rows)


def test_nebula_missing_score_names_the_row(tmp_path):
    row = dict(NEBULA)
    del row["score"]
    with pytest.raises(DataError, match=r"row 1: missing field 'score'"):
        scalar(tmp_path, "nebula", [NEBULA, row])


def _expert_with(**changes):
    data = copy.deepcopy(EXPERT)
    entry = data["1000.jpg"]
    for key, value in changes.items():
        if key.startswith("row_"):
            entry["human_judgement"][1][key[4:]] = value
        else:
            entry[key] = value
    return data


@pytest.mark.parametrize("data,message", [
    (_expert_with(ground_truth="A dog."), r"image '1000.jpg': ground_truth must be a list, found text"),
    (_expert_with(human_judgement=[]), r"image '1000.jpg': human_judgement is an empty list"),
    (_expert_with(human_judgement="x"), r"image '1000.jpg': human_judgement must be a list"),
    (_expert_with(row_rating="3"), r"image '1000.jpg', judgement 1: rating must be a number, found text"),
    (_expert_with(row_rating=None), r"judgement 1: rating must be a number, found null"),
    (_expert_with(row_rating=9), r"judgement 1: rating 9.0 is outside \[1, 4\]"),
    (_expert_with(row_caption=4), r"judgement 1: caption must be text, found a number"),
    (_expert_with(image_path=4), r"image '1000.jpg': image_path must be text, found a number"),
    ({"1000.jpg": ["A dog."]}, r"image '1000.jpg': entry must be a JSON object, found a list"),
    ({}, r"flickr8k_expert.json: no images"),
])
def test_flickr8k_expert_json_wrong_types(tmp_path, data, message):
    with pytest.raises(DataError, match=message):
        expert(tmp_path, data)


def test_flickr8k_cf_share_must_be_a_finite_share(tmp_path):
    folder = tmp_path / "flickr8k"
    folder.mkdir()
    (folder / "Flickr8k.token.txt").write_text("a.jpg#0\tA dog runs.\nb.jpg#0\tA cat sits.\n")
    for share, message in (("nan", r"share of yes votes nan is not a finite number"),
                           ("1.5", r"share of yes votes 1.5 is outside \[0, 1\]"),
                           ("x", r"share of yes votes 'x' is not a number")):
        (folder / "CrowdFlowerAnnotations.txt").write_text(f"a.jpg\tb.jpg#0\t{share}\t1\t2\n")
        with pytest.raises(DataError, match=rf"CrowdFlowerAnnotations.txt:1: {message}"):
            load_cf(folder)
    (folder / "CrowdFlowerAnnotations.txt").write_text("a.jpg\tb.jpg#0\t0.5\t1\t1.5\n")
    with pytest.raises(DataError, match=r"CrowdFlowerAnnotations.txt:1: vote count '1.5' is not a whole number"):
        load_cf(folder)


def test_a_key_given_twice_on_a_json_lines_row_is_an_error(tmp_path):
    from experiments.benchmarks.user_files import load_user_file

    path = tmp_path / "mine.jsonl"
    path.write_text('{"candidate": "x", "score": 1}\n{"candidate": "y", "score": 1, "score": 2}\n')
    with pytest.raises(DataError, match=r"mine.jsonl:2: key 'score' appears twice"):
        load_user_file("mine", path)
    thumb_refs = tmp_path / "data" / "thumb"
    thumb_refs.mkdir(parents=True)
    (thumb_refs / "mscoco_references.jsonl").write_text('{"seg_id": 1, "refs": ["a"], "refs": "b"}\n')
    with pytest.raises(DataError, match=r"references.jsonl:1: key 'refs' appears twice"):
        load_benchmark("thumb", tmp_path / "data")
