"""PAC-S / RefPAC-S against a direct computation with a tiny random CLIP saved
as the authors' checkpoint is ({"state_dict": ...})."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from metrics import MetricError, Sample, get_metric
from metrics.pac_score import PACS_CHECKPOINT, PacScore, RefPacScore

from .conftest import write_image
from .test_clip_score import _direct_image, _direct_model, _direct_text

W = 2.0


@pytest.fixture(scope="module")
def pacs_checkpoint(tiny_clip, tmp_path_factory):
    """(architecture, checkpoint): the tiny CLIP with other random weights, in the
    authors' file layout."""
    import open_clip
    import torch

    torch.manual_seed(99)
    model = open_clip.create_model(tiny_clip[0])
    path = tmp_path_factory.mktemp("pacs") / PACS_CHECKPOINT
    torch.save({"state_dict": model.state_dict()}, path)
    return tiny_clip[0], str(path)


@pytest.fixture
def samples(tmp_path):
    images = [write_image(tmp_path / f"img{i}.png", size=(30 + 7 * i, 40), seed=i)
              for i in range(2)]
    return [Sample("a", "a dog runs across the grass", ("a dog on grass", "a brown dog"),
                   images[0]),
            Sample("b", "two people on a beach", ("people at the sea",), images[1]),
            Sample("c", "a red car", ("a car parked", "a red vehicle"), images[0])]


def _pac(arch, ckpt, **options):
    return PacScore(checkpoint=ckpt, model=arch, quick_gelu=False, **options)


def test_pacscore_is_clip_s_with_w_2_on_the_checkpoint(pacs_checkpoint, samples):
    direct = _direct_model(pacs_checkpoint)
    out = _pac(*pacs_checkpoint).score(samples)
    expected = [W * max(float(_direct_image(direct, s.image)
                              @ _direct_text(direct, [s.candidate])[0]), 0.0) for s in samples]
    np.testing.assert_allclose(out.scores, expected, rtol=0, atol=1e-6)
    assert not out.failures


def test_refpacscore_is_the_harmonic_mean(pacs_checkpoint, samples):
    direct = _direct_model(pacs_checkpoint)
    out = RefPacScore(checkpoint=pacs_checkpoint[1], model=pacs_checkpoint[0],
                      quick_gelu=False).score(samples)
    expected = []
    for s in samples:
        cand = _direct_text(direct, [s.candidate])[0]
        c = W * max(float(_direct_image(direct, s.image) @ cand), 0.0)
        r = max(float(np.max(_direct_text(direct, list(s.references)) @ cand)), 0.0)
        expected.append(2 * c * r / (c + r))
    np.testing.assert_allclose(out.scores, expected, rtol=0, atol=1e-6)


def test_defaults_are_the_authors(pacs_checkpoint):
    settings = PacScore(checkpoint=pacs_checkpoint[1]).settings()
    assert (settings["w"], settings["prefix"], settings["model"]) == (2.0, "A photo depicts",
                                                                      "ViT-B-32")
    assert settings["quick_gelu"] is True and settings["precision"] == "fp32"


def test_signature_names_the_checkpoint_sha256(pacs_checkpoint, tiny_clip):
    with open(pacs_checkpoint[1], "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    pac = _pac(*pacs_checkpoint)
    assert f"checkpoint_sha256={digest}" in pac.signature()
    other = _pac(*tiny_clip)
    assert other.signature() != pac.signature()
    assert pac.signature().startswith("pacscore|")


def test_missing_checkpoint_names_the_authors_file(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for name in ("pacscore", "refpacscore"):
        with pytest.raises(MetricError, match=PACS_CHECKPOINT) as err:
            get_metric(name)
        assert "OpenAI" in str(err.value) and str(tmp_path) in str(err.value)
    with pytest.raises(MetricError, match="no file .*nowhere.pth"):
        PacScore(checkpoint=str(tmp_path / "nowhere.pth"))


def test_no_openai_tag_is_accepted(pacs_checkpoint):
    with pytest.raises(MetricError, match="no 'pretrained' option"):
        PacScore(checkpoint=pacs_checkpoint[1], pretrained="openai")


def test_a_checkpoint_that_does_not_fit_the_model_fails(tmp_path, tiny_clip, samples):
    import torch

    bad = tmp_path / PACS_CHECKPOINT
    torch.save({"state_dict": {"visual.proj": torch.zeros(3, 3)}}, bad)
    with pytest.raises(MetricError, match="could not load"):
        _pac(tiny_clip[0], str(bad)).score(samples)


def test_list_shows_pac_s_and_its_weights_status(tmp_path, monkeypatch, pacs_checkpoint):
    from experiments.pipeline.plugins import metric_entry

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for name in ("pacscore", "refpacscore"):
        entry = metric_entry(name)
        assert entry.ready.startswith("no: ") and PACS_CHECKPOINT in entry.ready
        assert "PAC-S" in entry.description or "RefPAC-S" in entry.description
    target = tmp_path / "socratis_metaeval" / "pacscore" / PACS_CHECKPOINT
    target.parent.mkdir(parents=True)
    target.write_bytes(open(pacs_checkpoint[1], "rb").read())
    assert metric_entry("pacscore").ready == "yes"
