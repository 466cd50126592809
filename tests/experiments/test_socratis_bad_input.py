"""Malformed Socratis files are a DataError naming the file and the item
(or line), never a traceback, a string read as its characters, or a value
silently taken from one worker."""
from __future__ import annotations

import copy
import json

import pytest

from experiments.benchmarks.base import DataError
from experiments.socratis.data import OFFICIAL_FILE, load_socratis
from tests.helpers.socratis_fixture import GENERATIONS, OFFICIAL, SAD, write_socratis


def official_with(change) -> dict:
    data = copy.deepcopy(OFFICIAL)
    change(data)
    return data


def load_official(tmp_path, data):
    folder = write_socratis(tmp_path / "socratis", generations=None)
    (folder / OFFICIAL_FILE).write_text(json.dumps(data))
    return load_socratis(folder)


def test_the_fixture_loads(tmp_path):
    bench = load_official(tmp_path, OFFICIAL)
    assert [s.candidate for s in bench.samples if s.id.startswith("h:101:0:")] == [SAD]


def _set(item, worker, index, value):
    def change(data):
        data[item][worker][index] = value
    return change


@pytest.mark.parametrize("change,message", [
    (_set("101", 0, 2, "sad"), r"item '101', worker 0: emotions must be a list, found text \('sad'\)"),
    (_set("101", 0, 3, SAD), r"item '101', worker 0: explanations must be a list, found text"),
    (_set("101", 0, 2, None), r"item '101', worker 0: emotions must be a list, found null"),
    (_set("101", 1, 2, ["sad", 5]), r"item '101', worker 1: emotions\[1\] must be text, found a number \(5\)"),
    (_set("101", 1, 3, [SAD, ["x"]]), r"item '101', worker 1: explanations\[1\] must be text, found a list"),
    (_set("101", 2, 1, 7), r"item '101', worker 2: caption must be text, found a number \(7\)"),
    (_set("101", 0, 0, None), r"item '101', worker 0: image_path must be text, found null"),
    (_set("101", 2, 0, "other.png"),
     r"item '101', worker 2: image_path 'other.png' differs from worker 0's 'flood.png'"),
    (_set("202", 1, 1, "Local team loses"),
     r"item '202', worker 1: caption 'Local team loses' differs from worker 0's 'Local team wins"),
    (_set("101", 1, 0, 3), r"item '101', worker 1: image_path must be text, found a number"),
    (lambda data: data.__setitem__("202", "x"), r"item '202': the item \(a list of worker entries\) must be a list"),
    (lambda data: data.__setitem__("202", []), r"item '202': the item \(a list of worker entries\) is an empty list"),
    (lambda data: data["202"].__setitem__(1, "x"), r"item '202', worker 1: expected \[image_path"),
    (lambda data: data.clear(), r"imCaptionEmotionExplanation_formatted.json: no items"),
])
def test_official_file_wrong_types(tmp_path, change, message):
    with pytest.raises(DataError, match=message):
        load_official(tmp_path, official_with(change))


def test_official_file_must_be_an_object(tmp_path):
    with pytest.raises(DataError, match=r"formatted.json: the file \(an object keyed by unique_id\) "
                                        r"must be a JSON object, found a list"):
        load_official(tmp_path, [OFFICIAL["101"]])


def test_duplicate_item_key_is_an_error_naming_the_item_and_line(tmp_path):
    folder = write_socratis(tmp_path / "socratis", generations=None)
    first, second = json.dumps(OFFICIAL["101"]), json.dumps(OFFICIAL["202"])
    (folder / OFFICIAL_FILE).write_text(f'{{\n"101": {first},\n"202": {second},\n"101": {second}\n}}\n')
    with pytest.raises(DataError, match=rf"{OFFICIAL_FILE}:4: key '101' appears twice in one object"):
        load_socratis(folder)


@pytest.mark.parametrize("field,value,message", [
    ("reason", None, r"generations.jsonl:2: reason must be text, found null"),
    ("reason", ["a", "b"], r"generations.jsonl:2: reason must be text, found a list"),
    ("emotion", 3, r"generations.jsonl:2: emotion must be text, found a number"),
    ("emotion", "", r"generations.jsonl:2: empty emotion"),
    ("generator", None, r"generations.jsonl:2: generator must be text, found null"),
    ("item_id", None, r"generations.jsonl:2: item_id must be text, found null"),
    ("item_id", 101.5, r"generations.jsonl:2: item_id must be text, found a number"),
])
def test_generations_wrong_types(tmp_path, field, value, message):
    rows = copy.deepcopy(GENERATIONS)
    rows[1][field] = value
    folder = write_socratis(tmp_path / "socratis", generations=rows)
    with pytest.raises(DataError, match=message):
        load_socratis(folder)


def test_generation_item_id_may_be_a_whole_number(tmp_path):
    rows = copy.deepcopy(GENERATIONS)
    rows[1]["item_id"] = 101
    bench = load_socratis(write_socratis(tmp_path / "socratis", generations=rows))
    assert "g:101:text-only:sad" in {s.id for s in bench.samples}
