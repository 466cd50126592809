"""Sample keys are remembered per process (every metric of a benchmark asks for the same
ones) without ever giving two different inputs one key; the text check skips only
samples whose every text is ASCII."""
from __future__ import annotations

import hashlib
import json

import pytest

from metrics.base import InputError, Sample, check_text, sample_key
import metrics.base as base


def _direct(sample: Sample, use_references: bool = True) -> str:
    payload = {"c": sample.candidate, "r": list(sample.references) if use_references else None,
               "x": dict(sorted(sample.context.items()))}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def test_remembered_keys_equal_the_hash_of_the_inputs(monkeypatch):
    monkeypatch.setattr(base, "_TEXT_KEYS", {})
    s = Sample("1", "a dog, running", ("a dog\nruns", "é"), context={"b": "2", "a": "1"})
    for _ in range(2):   # computed, then remembered
        assert sample_key(s, use_image=False) == _direct(s)
        assert sample_key(s, use_image=False, use_references=False) == _direct(s, False)
    assert len(base._TEXT_KEYS) == 2


def test_inputs_that_compare_equal_but_differ_get_their_own_keys(monkeypatch):
    monkeypatch.setattr(base, "_TEXT_KEYS", {})
    as_int = Sample("1", "x", context={"n": 1})
    as_float = Sample("2", "x", context={"n": 1.0})
    as_text = Sample("3", "x", context={"n": "1"})
    keys = [sample_key(s, use_image=False) for s in (as_int, as_float, as_text)]
    assert len(set(keys)) == 3
    assert keys == [_direct(as_int), _direct(as_float), _direct(as_text)]


def test_a_lone_surrogate_is_found_beside_ascii_texts():
    check_text([Sample("1", "plain"), Sample("2", "café", ("naïve",))])
    with pytest.raises(InputError, match="reference 1"):
        check_text([Sample("1", "plain"), Sample("2", "ok", ("fine", "bad \ud800"))])
    with pytest.raises(InputError, match="context 'k'"):
        check_text([Sample("3", "ok", context={"k": "\udcff"})])


def test_samples_without_context_are_remembered_by_object(monkeypatch):
    monkeypatch.setattr(base, "_OBJECT_KEYS", {})
    monkeypatch.setattr(base, "_TEXT_KEYS", {})
    first = Sample("1", "a cat", ("a cat sits",))
    second = Sample("2", "a dog", ("a dog runs",))
    for s in (first, second, first):
        assert sample_key(s, use_image=False) == _direct(s)
    assert sample_key(first, use_image=False, use_references=False) == _direct(first, False)
    assert set(base._OBJECT_KEYS) == {id(first), id(second)}
    assert base._OBJECT_KEYS[id(first)][0] is first    # kept alive: its id stays its own
