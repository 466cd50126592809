"""metrics.score for plain lists, and metric classes importable from `metrics` lazily."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import metrics
from metrics import InputError, MetricError, Sample, ScoreCache, get_metric

from .conftest import write_image

REPO = Path(__file__).resolve().parents[2]


def test_importing_metrics_and_its_classes_loads_no_torch():
    code = ("import sys, metrics\n"
            "assert 'torch' not in sys.modules, 'import metrics'\n"
            "from metrics import (ClipScore, RefClipScore, BertScore, BartScore, Bleu, Meteor,\n"
            "                     RougeL, Cider, Spice, VlmJudge, ImageTextModel)\n"
            "bad = [m for m in ('torch', 'transformers', 'open_clip', 'bert_score') "
            "if m in sys.modules]\n"
            "assert not bad, bad\n"
            "from metrics.clip_score import ClipScore as direct\n"
            "assert ClipScore is direct and metrics.Cider.__module__ == 'metrics.ngram'\n"
            "assert set(metrics.__all__) <= set(dir(metrics))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    with pytest.raises(AttributeError, match="no attribute 'NoSuchMetric'"):
        metrics.NoSuchMetric


def test_every_registered_metric_class_is_a_public_name():
    for name in metrics.list_metrics():
        cls = metrics.metric_class(name)
        assert getattr(metrics, cls.__name__) is cls, name


# -- score() with the real n-gram metrics (Java's PTB tokenizer) ----------------
CANDS = ["a dog runs on the grass", "two people walk on a beach", "a red car"]
REFS = [["a dog is running on the grass", "a dog plays outside"],
        ["people walking along the beach", "two persons on a beach"],
        ["a red vehicle parked on a road"]]


def test_score_equals_the_metric_on_samples_built_by_hand():
    expected = get_metric("rouge_l").score(
        [Sample(str(i), c, tuple(r)) for i, (c, r) in enumerate(zip(CANDS, REFS))]).scores
    got = metrics.score("rouge_l", CANDS, REFS)
    assert isinstance(got, np.ndarray) and got.shape == (3,)
    np.testing.assert_array_equal(got, expected)
    assert len(set(got)) == 3  # the three candidates score differently
    # one string per candidate is one reference
    single = metrics.score("rouge_l", CANDS, [r[0] for r in REFS])
    np.testing.assert_array_equal(single, get_metric("rouge_l").score(
        [Sample(str(i), c, (r[0],)) for i, (c, r) in enumerate(zip(CANDS, REFS))]).scores)


def test_details_give_failures_and_a_metric_object_is_accepted():
    out = metrics.score(get_metric("bleu4"), CANDS + ["  "], REFS + [["x"]], details=True)
    assert np.isnan(out.scores[3]) and out.failures == {"3": "empty candidate"}
    assert np.isfinite(out.scores[:3]).all()
    with pytest.raises(MetricError, match="options .*'n'.* are for a metric name"):
        metrics.score(get_metric("bleu4"), CANDS, REFS, n=2)


def test_a_repeated_sample_is_scored_once_and_its_score_repeated():
    # one row per judgment (the README's ratings format): candidate 0 rated three
    # times, candidate 1 twice. CIDEr's document frequencies must count each distinct
    # sample once, as run_correlation does; per-judgment rows used to count the
    # repeats' references again and change every score.
    rows = [0, 0, 0, 1, 1, 2]
    once = metrics.score("cider", CANDS, REFS, details=True)
    repeated = metrics.score("cider", [CANDS[k] for k in rows], [REFS[k] for k in rows],
                             details=True)
    assert np.isfinite(once.scores).all() and len(set(once.scores)) == 3
    np.testing.assert_array_equal(repeated.scores, once.scores[rows])
    assert repeated.corpus_score == once.corpus_score
    # failures and extras go to every repeat, keyed by the candidate's own index
    out = metrics.score("bleu4", ["  ", CANDS[0], "  "], [["x"], REFS[0], ["x"]], details=True)
    assert out.failures == {"0": "empty candidate", "2": "empty candidate"}
    assert np.isnan(out.scores[[0, 2]]).all() and np.isfinite(out.scores[1])
    # the same text with other references is another sample
    other = metrics.score("cider", [CANDS[0], CANDS[0], CANDS[2]], [REFS[0], REFS[1], REFS[2]])
    assert other[0] != other[1]


def test_bad_arguments_are_named():
    with pytest.raises(InputError, match="2 references for 3 candidates"):
        metrics.score("bleu4", CANDS, REFS[:2])
    with pytest.raises(InputError, match="not one string"):
        metrics.score("bleu4", "a dog", REFS)
    with pytest.raises(InputError, match="candidate 1 is a int"):
        metrics.score("bleu4", ["a", 3], [["a"], ["b"]])
    with pytest.raises(MetricError, match="unknown metric 'bleu5'"):
        metrics.score("bleu5", CANDS, REFS)


# -- images: paths or PIL images; the cache knows a PIL image again --------------
def test_images_as_paths_or_pil_images_score_the_same(tiny_clip, tmp_path, monkeypatch):
    paths = [write_image(tmp_path / f"i{k}.png", size=(30 + 5 * k, 24), seed=k)
             for k in range(2)]
    pil = [Image.open(p).convert("RGB") for p in paths]
    options = {"model": tiny_clip[0], "pretrained": tiny_clip[1]}
    caps = ["a dog", "a cat on a mat"]
    by_path = metrics.score("clipscore", caps, images=paths, **options)
    by_pil = metrics.score("clipscore", caps, images=pil, **options)
    assert np.isfinite(by_path).all()
    np.testing.assert_array_equal(by_pil, by_path)
    # a PIL image gets a file named by its pixels: a second call is a cache hit
    cache = ScoreCache(tmp_path / "cache")
    first = metrics.score("clipscore", caps, images=pil, cache=cache, **options)

    def no_scoring(self, samples):
        raise AssertionError("scored again although cached")

    from metrics.clip_score import ClipScore

    monkeypatch.setattr(ClipScore, "_score_chunk", no_scoring)
    again = metrics.score("clipscore", caps, images=[im.copy() for im in pil], cache=cache,
                          **options)
    np.testing.assert_array_equal(again, first)
    with pytest.raises(InputError, match="image 0 is a int"):
        metrics.score("clipscore", caps, images=[3, paths[1]], **options)


def test_model_metrics_default_to_device_auto(monkeypatch):
    import metrics.registry

    built = {}
    real = metrics.registry.get_metric

    def spy(name, **options):
        built[name] = options
        return real(name, **options) if name == "bleu4" else real("bleu4")

    monkeypatch.setattr(metrics.registry, "get_metric", spy)
    metrics.score("bleu4", CANDS, REFS)
    metrics.score("bertscore", CANDS, REFS, model="x")
    metrics.score("bartscore", CANDS, REFS, device="cpu")
    assert built == {"bleu4": {}, "bertscore": {"model": "x", "device": "auto"},
                     "bartscore": {"device": "cpu"}}


def test_resolved_device_says_where_a_metric_runs(tiny_clip, minilm_folder):
    import torch

    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert get_metric("bleu4").resolved_device() is None
    assert get_metric("clipscore", model=tiny_clip[0], pretrained=tiny_clip[1],
                      device="auto").resolved_device() == expected
    assert metrics.BertScore(model=minilm_folder, num_layers=2).resolved_device() == "cpu"
    judge = metrics.VlmJudge(backend="served", base_url="http://127.0.0.1:9/v1")
    assert judge.resolved_device() is None
