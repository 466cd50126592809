"""Offline plumbing shared by the model metrics."""
from __future__ import annotations

import time

import pytest

from metrics import MetricError
from metrics import models


def test_hub_offline_reads_the_environment_now(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert models.hub_offline()
    assert models.hub_unavailable()


def test_unreachable_hub_is_detected_within_seconds(monkeypatch):
    # a closed local port: refused at once, no retries
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(models, "_REACHABLE", {})
    t0 = time.monotonic()
    assert models.hub_reachable(timeout=2.0) is False
    assert time.monotonic() - t0 < 10


def test_hf_model_source_offline(monkeypatch, tmp_path, empty_hf_cache):
    folder = tmp_path / "model"
    folder.mkdir()
    assert models.hf_model_source(str(folder), "m", "fetch it") == str(folder)
    with pytest.raises(MetricError, match="does not exist"):
        models.hf_model_source(str(tmp_path / "absent"), "m", "fetch it")
    t0 = time.monotonic()
    with pytest.raises(MetricError) as err:
        models.hf_model_source("org/some-model", "m", "get-it --now")
    assert time.monotonic() - t0 < 30
    assert "org/some-model" in str(err.value) and empty_hf_cache in str(err.value)
    assert "get-it --now" in str(err.value)


def test_hf_model_source_finds_a_cached_snapshot(empty_hf_cache):
    from pathlib import Path

    snap = Path(empty_hf_cache) / "models--org--cached" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / "config.json").write_text("{}")
    refs = snap.parent.parent / "refs"
    refs.mkdir()
    (refs / "main").write_text("abc123")
    with pytest.raises(MetricError):  # config but no weights: not usable
        models.hf_model_source("org/cached", "m", "fetch")
    (snap / "model.safetensors").write_bytes(b"x")
    assert models.hf_model_source("org/cached", "m", "fetch") == str(snap)


def test_path_digest_follows_content(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"abc")
    first = models.path_digest(folder)
    (folder / "notes.md").write_text("ignored")
    assert models.path_digest(folder) == first
    (folder / "model.safetensors").write_bytes(b"abcd")
    assert models.path_digest(folder) != first
