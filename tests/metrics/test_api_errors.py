"""What the Python API says where it used to raise a library's traceback: a cache path
that is a file, a full cache, a lone surrogate, an unknown device, a BERTScore layer
the model lacks, a metric object that returns the wrong scores."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest

import metrics
from metrics import (CacheFolderError, CacheWriteError, InputError, Metric, MetricError,
                     MetricOutput, Sample, ScoreCache, score_with_cache)
from metrics.models import check_device_name, resolve_device


def test_a_cache_path_that_is_a_file_names_the_cache_parameter(tmp_path):
    path = tmp_path / "cache"
    path.write_text("mine")
    with pytest.raises(CacheFolderError) as err:
        metrics.score("bleu1", ["a dog"], [["a dog runs"]], cache=path)
    assert str(err.value) == (f"cache={str(path)!r}: score cache folder {path} is a file, "
                              "not a folder")
    assert path.read_text() == "mine"


def test_a_full_cache_keeps_what_it_stored_and_says_which_file(tmp_path):
    cache = ScoreCache(tmp_path)
    cache.put_scores("sig", [("a", 1.0, {})])
    pages = cache._conn.execute("PRAGMA page_count").fetchone()[0]
    cache._conn.execute(f"PRAGMA max_page_count={pages}")
    rows = [(f"k{i}", float(i), {"x": "y" * 50}) for i in range(500)]
    with pytest.raises(CacheWriteError) as err:
        cache.put_scores("sig", rows)
    assert str(err.value) == (f"score cache {tmp_path / 'scores.sqlite'}: cannot store 500 "
                              "scores (database or disk is full); the scores stored before "
                              "stay cached")
    assert cache.get_scores("sig", ["a", "k1"]) == {"a": (1.0, {})}


def test_a_full_disk_when_a_warm_cache_is_opened_does_not_set_it_aside(tmp_path,
                                                                       monkeypatch):
    ScoreCache(tmp_path).put_scores("sig", [("a", 1.0, {})])

    def disk_full(self):
        exc = sqlite3.OperationalError("database or disk is full")
        exc.sqlite_errorcode = 13  # SQLITE_FULL, as Python >= 3.11 sets it on a full disk
        raise exc

    monkeypatch.setattr(ScoreCache, "_open", disk_full)
    with pytest.raises(CacheWriteError, match=r"scores\.sqlite: cannot open it \(database or "
                                              r"disk is full\)$"):
        ScoreCache(tmp_path)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir() if "damaged" in p.name) == []
    assert ScoreCache(tmp_path).get_scores("sig", ["a"]) == {"a": (1.0, {})}


@pytest.mark.parametrize("candidate,references,what", [
    ("a dog \ud800 runs", ["a dog"], "the candidate holds a lone surrogate ('\\ud800' at "
                                     "character 6)"),
    ("a dog", ["a dog", "x\udfff"], "the reference 1 holds a lone surrogate ('\\udfff' at "
                                    "character 1)"),
])
def test_a_lone_surrogate_is_an_input_error_naming_the_sample(candidate, references, what):
    with pytest.raises(InputError) as err:
        metrics.score("bleu1", ["fine", candidate], [["fine"], references])
    assert str(err.value) == (f"sample '1': {what}, which is not valid Unicode text; fix the "
                              "input's encoding")


def test_a_surrogate_pair_is_text():
    assert metrics.score("bleu1", ["a \U0001F600 dog"], [["a \U0001F600 dog"]])[0] == \
        pytest.approx(1.0)


def test_an_unknown_device_is_named_before_torch_is_asked():
    with pytest.raises(MetricError, match=r"^device 'foo' is not a device: give auto, cpu, "
                                          r"cuda, cuda:N or mps$"):
        resolve_device("foo")
    assert check_device_name("CUDA:1") == "cuda:1"
    assert resolve_device("cpu") == "cpu"


def test_bertscore_num_layers_beyond_the_model_is_a_metric_error(minilm_folder):
    metric = metrics.get_metric("bertscore", model=minilm_folder, num_layers=99)
    message = (f"bertscore: num_layers=99, but {minilm_folder!r} has 6 layers: give "
               "num_layers between 0 and 6")
    with pytest.raises(MetricError) as err:
        metric.check_ready()
    assert str(err.value) == message
    with pytest.raises(MetricError) as err:
        metric.score([Sample("a", "a dog", ("a dog runs",))])
    assert str(err.value) == message


class _TooFew(Metric):
    name = "too_few"

    def _score_chunk(self, samples):
        return MetricOutput(np.ones(len(samples) - 1))


def test_a_metric_object_returning_too_few_scores_is_named_by_its_class(tmp_path):
    cache = ScoreCache(tmp_path)
    samples = [Sample(str(i), f"text {i}") for i in range(4)]
    with pytest.raises(MetricError) as err:
        score_with_cache(_TooFew(), samples, cache)
    assert str(err.value) == ("metric 'too_few' (class tests.metrics.test_api_errors._TooFew) "
                              "returned scores of shape (3,) for 4 samples (one per sample)")


@pytest.mark.parametrize("scores,message", [
    (["0.5", "0.7"], "MetricOutput scores must be numbers, found text '0.5'"),
    (np.ones((2, 2)), r"MetricOutput scores must be one number per sample \(shape \(n,\)\), "
                      r"found shape \(2, 2\)"),
])
def test_metric_output_refuses_text_and_other_shapes(scores, message):
    with pytest.raises(ValueError, match=message):
        MetricOutput(scores)
