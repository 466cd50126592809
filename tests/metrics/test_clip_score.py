"""CLIPScore / RefCLIPScore against a direct computation with a tiny random CLIP."""
from __future__ import annotations

import logging
import time

import numpy as np
import pytest
from PIL import Image

from metrics import MetricError, Sample, get_metric
from metrics.cache import ScoreCache, score_with_cache
from metrics.clip_score import ClipScore, RefClipScore

from .conftest import write_image

W = 2.5
PREFIX = "A photo depicts "


# -- the formula, written out here from open_clip's own calls -----------------
def _direct_model(tiny_clip):
    import open_clip

    arch, ckpt = tiny_clip
    model, _, preprocess = open_clip.create_model_and_transforms(arch, pretrained=ckpt)
    model.eval()
    return model, preprocess, open_clip.get_tokenizer(arch)


def _unit(x):
    x = x.detach().float().numpy()
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _direct_text(direct, texts):
    import torch

    model, _, tok = direct
    with torch.no_grad():
        return _unit(model.encode_text(tok([PREFIX + t for t in texts])))


def _direct_image(direct, path):
    import torch

    model, preprocess, _ = direct
    with Image.open(path) as im:
        pixels = preprocess(im.convert("RGB")).unsqueeze(0)
    with torch.no_grad():
        return _unit(model.encode_image(pixels))[0]


def _direct_clip_s(direct, path, text):
    return W * max(float(_direct_image(direct, path) @ _direct_text(direct, [text])[0]), 0.0)


def _direct_refclip_s(direct, path, text, refs):
    c = _direct_clip_s(direct, path, text)
    cand = _direct_text(direct, [text])[0]
    r = max(float(np.max(_direct_text(direct, refs) @ cand)), 0.0)
    return 0.0 if c + r == 0 else 2 * c * r / (c + r)


@pytest.fixture
def images(tmp_path):
    return [write_image(tmp_path / f"img{i}.png", size=(30 + 7 * i, 50 - 5 * i), seed=i)
            for i in range(3)]


def _samples(images):
    captions = ["a dog runs across the grass", "two people on a beach", "a red car",
                "a dog runs across the grass", "a man rides a horse"]
    refs = [("a dog running on grass", "a brown dog outside"), ("people at the sea",),
            ("a car parked on a street", "a red vehicle", "a small car")]
    return [Sample(f"s{i}", c, refs[i % 3], images[i % 3]) for i, c in enumerate(captions)]


# -- agreement with the formula ------------------------------------------------
def test_clipscore_equals_direct_formula(tiny_clip, images):
    direct = _direct_model(tiny_clip)
    samples = _samples(images)
    out = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1]).score(samples)
    expected = [_direct_clip_s(direct, s.image, s.candidate) for s in samples]
    np.testing.assert_allclose(out.scores, expected, rtol=0, atol=1e-6)
    assert not out.failures
    assert np.all(out.scores >= 0)


def test_refclipscore_equals_direct_formula(tiny_clip, images):
    direct = _direct_model(tiny_clip)
    samples = _samples(images)
    out = RefClipScore(model=tiny_clip[0], pretrained=tiny_clip[1]).score(samples)
    expected = [_direct_refclip_s(direct, s.image, s.candidate, list(s.references))
                for s in samples]
    np.testing.assert_allclose(out.scores, expected, rtol=0, atol=1e-6)
    clip_s = [_direct_clip_s(direct, s.image, s.candidate) for s in samples]
    np.testing.assert_allclose(out.extras["clip_s"], clip_s, rtol=0, atol=1e-6)


def test_refclipscore_prefixes_references_like_the_reference_code(tiny_clip, images):
    # Without the prefix on the references the text term would differ.
    direct = _direct_model(tiny_clip)
    s = _samples(images)[0]
    out = RefClipScore(model=tiny_clip[0], pretrained=tiny_clip[1]).score([s])
    cand = _direct_text(direct, [s.candidate])[0]
    with_prefix = max(float(np.max(_direct_text(direct, list(s.references)) @ cand)), 0.0)
    np.testing.assert_allclose(out.extras["ref_s"][0], with_prefix, atol=1e-6)


def test_w_and_prefix_options_change_scores_and_signature(tiny_clip, images):
    samples = _samples(images)[:2]
    base = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1])
    doubled = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1], w=5.0)
    np.testing.assert_allclose(doubled.score(samples).scores, 2 * base.score(samples).scores,
                               atol=1e-6)
    no_prefix = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1], prefix="")
    assert len({base.signature(), doubled.signature(), no_prefix.signature()}) == 3
    assert not np.allclose(no_prefix.score(samples).scores, base.score(samples).scores)


# -- each distinct input encoded once; batching does not matter ----------------
def test_each_image_and_text_encoded_once_per_call(tiny_clip, images):
    metric = RefClipScore(model=tiny_clip[0], pretrained=tiny_clip[1], batch_size=2)
    metric.chunk_size = 2  # samples sharing an image fall in different chunks
    bundle = metric._load()
    seen = {"image": 0, "text": 0}
    enc_img, enc_txt = bundle.model.encode_image, bundle.model.encode_text
    trimmed = bundle._encode_trimmed

    def count_image(x, *a, **k):
        seen["image"] += x.shape[0]
        return enc_img(x, *a, **k)

    def count_text(x, *a, **k):
        seen["text"] += x.shape[0]
        return enc_txt(x, *a, **k)

    def count_trimmed(x):
        seen["text"] += x.shape[0]
        return trimmed(x)

    bundle.model.encode_image, bundle.model.encode_text = count_image, count_text
    bundle._encode_trimmed = count_trimmed
    try:
        samples = _samples(images)
        metric.score(samples)
    finally:
        del bundle.model.encode_image, bundle.model.encode_text, bundle._encode_trimmed
    texts = {s.candidate for s in samples} | {r for s in samples for r in s.references}
    assert seen["image"] == len(set(images))
    assert seen["text"] == len(texts)


def test_batch_size_chunking_and_order_do_not_change_scores(tiny_clip, images):
    samples = _samples(images)
    a = RefClipScore(model=tiny_clip[0], pretrained=tiny_clip[1], batch_size=64).score(samples)
    metric = RefClipScore(model=tiny_clip[0], pretrained=tiny_clip[1], batch_size=1)
    metric.chunk_size = 2
    b = metric.score(samples[::-1])
    np.testing.assert_allclose(a.scores, b.scores[::-1], atol=1e-6)


# -- truncation ----------------------------------------------------------------
def test_long_texts_are_truncated_and_reported(tiny_clip, images, caplog):
    direct = _direct_model(tiny_clip)
    long_text = " ".join(["a very long caption about a dog"] * 20)
    samples = [Sample("long", long_text, ("a dog",), images[0]),
               Sample("short", "a dog", (long_text,), images[0])]
    with caplog.at_level(logging.WARNING, logger="metrics.clip_score"):
        out = RefClipScore(model=tiny_clip[0], pretrained=tiny_clip[1]).score(samples)
    assert out.extras["truncated"].tolist() == [1.0, 0.0]
    assert out.extras["refs_truncated"].tolist() == [0.0, 1.0]
    assert "truncated" in caplog.text
    # truncation is the tokenizer's: first 76 tokens plus the end token
    np.testing.assert_allclose(out.extras["clip_s"][0],
                               _direct_clip_s(direct, images[0], long_text), atol=1e-6)


# -- images --------------------------------------------------------------------
@pytest.mark.parametrize("mode,suffix", [("L", ".png"), ("RGBA", ".png"), ("CMYK", ".jpg"),
                                         ("P", ".png"), ("I;16", ".png"), ("RGB", ".jpg")])
def test_image_modes_are_converted_to_rgb(tiny_clip, tmp_path, mode, suffix):
    direct = _direct_model(tiny_clip)
    path = write_image(tmp_path / f"img{suffix}", mode=mode, size=(45, 33), seed=3)
    with Image.open(path) as im:
        assert im.mode == mode
    out = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1]).score(
        [Sample("a", "a dog", (), path)])
    assert not out.failures
    np.testing.assert_allclose(out.scores[0], _direct_clip_s(direct, path, "a dog"), atol=1e-6)


def test_images_over_pils_bomb_limit_are_scored(tiny_clip, tmp_path, monkeypatch):
    # A 10000 x 9000 image (90 Mpx) is over PIL's default 89.5 Mpx limit.
    import PIL.Image

    pixels = np.zeros((9000, 10000), np.uint8)
    pixels[::7] = 200
    big = tmp_path / "big.png"
    PIL.Image.fromarray(pixels).save(big)
    small = write_image(tmp_path / "small.png", size=(200, 200))
    metric = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1])
    out = metric.score([Sample("big", "stripes", (), str(big))])
    assert np.isfinite(out.scores[0]) and not out.failures
    # Even when PIL's global limit is tiny (it would raise DecompressionBombError)
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 1000)
    out = metric.score([Sample("small", "noise", (), small)])
    assert np.isfinite(out.scores[0]) and not out.failures
    assert PIL.Image.MAX_IMAGE_PIXELS == 1000  # and the global is left as it was


def test_max_image_pixels_refuses_with_reason(tiny_clip, images):
    metric = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1], max_image_pixels=100)
    out = metric.score([Sample("s", "a dog", (), images[0])])
    assert np.isnan(out.scores[0])
    assert "max_image_pixels" in out.failures["s"] and images[0] in out.failures["s"]


def test_unreadable_images_are_nan_with_reason_and_others_scored(tiny_clip, images, tmp_path):
    truncated = tmp_path / "truncated.png"
    data = open(images[0], "rb").read()
    truncated.write_bytes(data[: len(data) // 2])
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("this is not an image\n")
    missing = tmp_path / "missing.png"
    samples = [Sample("ok", "a dog", (), images[1]),
               Sample("trunc", "a dog", (), str(truncated)),
               Sample("text", "a dog", (), str(not_image)),
               Sample("gone", "a dog", (), str(missing))]
    out = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1]).score(samples)
    assert np.isfinite(out.scores[0])
    assert np.isnan(out.scores[1:]).all()
    for sid, path in [("trunc", truncated), ("text", not_image), ("gone", missing)]:
        assert str(path) in out.failures[sid], out.failures[sid]
    assert "trunc" in out.failures["trunc"] and "truncated" in out.failures["trunc"]
    assert "ok" not in out.failures


def test_empty_references_and_empty_candidate_are_nan_with_reason(tiny_clip, images):
    samples = [Sample("norefs", "a dog", (), images[0]),
               Sample("blankrefs", "a dog", ("", "  "), images[0]),
               Sample("nocand", "  ", ("a dog",), images[0]),
               Sample("fine", "a dog", ("", "a dog"), images[0])]
    out = RefClipScore(model=tiny_clip[0], pretrained=tiny_clip[1]).score(samples)
    assert "reference" in out.failures["norefs"] and "reference" in out.failures["blankrefs"]
    assert "candidate" in out.failures["nocand"]
    assert np.isnan(out.scores[:3]).all() and np.isfinite(out.scores[3])
    # clipscore itself needs no references
    out = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1]).score(samples[:1])
    assert np.isfinite(out.scores[0])


# -- weights, options, laziness ------------------------------------------------
def test_constructor_loads_nothing_and_checks_options(tiny_clip):
    t0 = time.monotonic()
    metric = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1])
    assert metric._bundle is None
    assert time.monotonic() - t0 < 5
    with pytest.raises(MetricError, match="architecture"):
        ClipScore(model="no-such-arch")
    with pytest.raises(MetricError, match="neither a checkpoint file"):
        ClipScore(model="ViT-B-32", pretrained="/no/such/file.pt")
    with pytest.raises(MetricError, match="precision"):
        ClipScore(precision="fp8")


def test_missing_weights_offline_fail_fast_with_instructions(tmp_path, monkeypatch, images):
    empty_cache = tmp_path / "hf-empty"
    empty_cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(empty_cache))
    metric = get_metric("clipscore")  # paper defaults: ViT-B-32 / openai
    t0 = time.monotonic()
    with pytest.raises(MetricError) as err:
        metric.score([Sample("s", "a dog", (), images[0])])
    assert time.monotonic() - t0 < 30
    msg = str(err.value)
    assert "ViT-B-32" in msg and "openai" in msg and str(empty_cache) in msg
    assert "open_clip.create_model_and_transforms('ViT-B-32', pretrained='openai')" in msg
    assert "pretrained option" in msg


def test_quick_gelu_follows_the_openai_tag(tiny_clip):
    assert ClipScore()._resolved_quick_gelu() is True  # OpenAI's weights use QuickGELU
    assert ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1])._resolved_quick_gelu() is False
    assert ClipScore(quick_gelu=False)._resolved_quick_gelu() is False
    sig = ClipScore().signature()
    assert "model=ViT-B-32" in sig and "pretrained=openai" in sig and "w=2.5" in sig
    assert "prefix=A photo depicts" in sig and "precision=fp32" in sig


def test_registry_and_score_cache_round_trip(tiny_clip, images, tmp_path):
    metric = get_metric("refclipscore", model=tiny_clip[0], pretrained=tiny_clip[1])
    assert isinstance(metric, RefClipScore) and metric.needs_image
    samples = _samples(images)
    cache = ScoreCache(tmp_path / "cache")
    first, stats1 = score_with_cache(metric, samples, cache, progress=False)
    second, stats2 = score_with_cache(metric, samples, cache, progress=False)
    assert stats1.computed == len(samples) and stats2.cached == len(samples)
    np.testing.assert_allclose(first.scores, second.scores)
    np.testing.assert_allclose(first.extras["ref_s"], second.extras["ref_s"])


def test_text_tower_runs_only_up_to_the_longest_text(tiny_clip, images):
    # Standard CLIP text towers are causal and pool at the end token, so the
    # metric cuts padding (a speed-up the agreement tests above hold exact).
    metric = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1])
    bundle = metric._load()
    assert bundle.trim_text is True
    lengths = []
    hook = bundle.model.transformer.register_forward_hook(
        lambda module, args, output: lengths.append(args[0].shape[1]))
    try:
        metric.score(_samples(images)[:2])
    finally:
        hook.remove()
    assert lengths and max(lengths) < 20


def _worker_samples(images, tmp_path):
    cut = tmp_path / "cut.png"
    cut.write_bytes(open(images[0], "rb").read()[:60])
    more = [write_image(tmp_path / f"w{k}.png", size=(20 + k, 30), seed=10 + k) for k in range(7)]
    return [Sample(f"s{k}", f"caption {k % 4}", (), path)
            for k, path in enumerate(images + more + [str(cut)])]


def test_image_workers_change_no_number(tiny_clip, images, tmp_path):
    samples = _worker_samples(images, tmp_path)
    outs = [ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1], batch_size=3,
                      num_workers=w).score(samples) for w in (0, 1, 3, None)]
    for out in outs[1:]:
        np.testing.assert_array_equal(outs[0].scores, out.scores)
        assert out.failures == outs[0].failures
    assert list(outs[0].failures) == ["s10"]
    assert np.isfinite(outs[0].scores[:10]).all()


def test_cpu_image_readers_are_threads_of_this_process(tiny_clip, images, tmp_path,
                                                        monkeypatch):
    import threading

    import metrics.clip_model

    def no_processes(*args):
        raise AssertionError("worker processes started for a CPU model")

    monkeypatch.setattr(metrics.clip_model, "_process_batches", no_processes)
    metric = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1], batch_size=3,
                       num_workers=2)
    bundle = metric._load()
    readers = []
    preprocess = bundle.preprocess

    def recording(image):
        readers.append(threading.current_thread().name)
        return preprocess(image)

    monkeypatch.setattr(bundle, "preprocess", recording)
    metric.score(_worker_samples(images, tmp_path))
    assert len(readers) == 10  # the truncated file never reaches preprocessing
    assert all(name.startswith("clip-images") for name in readers)


def test_reader_threads_do_only_pil_work_and_tensors_are_made_here(tiny_clip, images,
                                                                    tmp_path, monkeypatch):
    # Each thread that runs a torch op gets a thread pool of its own (one
    # per core): the readers decode and resize, this thread makes tensors.
    import threading

    import torch
    from PIL import Image as PILImage

    import metrics.clip_model
    from metrics.clip_model import split_at_tensor

    bundle = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1])._load()
    image_steps, tensor_steps = split_at_tensor(bundle.preprocess)
    with PILImage.open(images[1]) as im:
        rgb = im.convert("RGB")
    resized = image_steps(rgb)
    assert isinstance(resized, PILImage.Image) and resized.size == (32, 32)
    assert torch.equal(tensor_steps(resized), bundle.preprocess(rgb))

    seen = {"image": set(), "tensor": set()}

    def recording_split(preprocess):
        image_part, tensor_part = split_at_tensor(preprocess)

        def image_side(x):
            seen["image"].add(threading.current_thread().name)
            return image_part(x)

        def tensor_side(x):
            assert isinstance(x, PILImage.Image)
            seen["tensor"].add(threading.current_thread().name)
            return tensor_part(x)

        return image_side, tensor_side

    monkeypatch.setattr(metrics.clip_model, "split_at_tensor", recording_split)
    samples = _worker_samples(images, tmp_path)
    threaded = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1], batch_size=3,
                         num_workers=2).score(samples)
    assert seen["tensor"] == {threading.current_thread().name}
    assert seen["image"] and all(name.startswith("clip-images") for name in seen["image"])
    serial = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1], batch_size=3,
                       num_workers=0).score(samples)
    np.testing.assert_array_equal(threaded.scores, serial.scores)


def test_accelerator_image_readers_are_dataloader_processes(tiny_clip, images, tmp_path,
                                                             monkeypatch):
    import torch

    import metrics.clip_model
    from metrics.clip_model import CallEmbeddings, ImageFiles, _process_batches

    samples = _worker_samples(images, tmp_path)
    paths = [s.image for s in samples]
    bundle = ClipScore(model=tiny_clip[0], pretrained=tiny_clip[1])._load()
    serial = [ImageFiles(paths, bundle.preprocess, None)[i] for i in range(len(paths))]
    batches = list(_process_batches(ImageFiles(paths, bundle.preprocess, None), 3, 2))
    assert [len(b) for b in batches] == [3, 3, 3, 2]
    flat = [item for batch in batches for item in batch]
    assert [i for i, _ in flat] == list(range(len(paths)))
    for (_, got), (_, want) in zip(flat, serial):
        if isinstance(want, str):
            assert got == want
        else:
            assert torch.equal(got, want)

    calls = []
    monkeypatch.setattr(metrics.clip_model, "_process_batches",
                        lambda files, size, workers: calls.append(workers) or iter(()))
    monkeypatch.setattr(bundle, "device", "cuda")
    list(CallEmbeddings(bundle, "", 3, None, num_workers=2)._pixel_batches(paths))
    assert calls == [2]
    one_batch = list(CallEmbeddings(bundle, "", 64, None, num_workers=2)._pixel_batches(paths))
    assert calls == [2] and len(one_batch) == 1  # one batch: no processes started


def test_default_image_readers_follow_the_device(monkeypatch):
    import os

    from metrics.clip_model import default_workers

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(12)), raising=False)
    assert default_workers("cpu") == 8
    assert default_workers("cuda") == 8 and default_workers("cuda:1") == 8
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(4)), raising=False)
    assert default_workers("cpu") == 4 and default_workers("cuda") == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert default_workers("cpu") == 1 and default_workers("mps") == 0


def test_embeddings_kept_are_bounded_and_change_no_number(tiny_clip, images, monkeypatch):
    import metrics.clip_model

    samples = _samples(images)
    full = RefClipScore(model=tiny_clip[0], pretrained=tiny_clip[1]).score(samples)
    monkeypatch.setattr(metrics.clip_model, "KEPT_EMBEDDINGS", 2)
    metric = RefClipScore(model=tiny_clip[0], pretrained=tiny_clip[1])
    metric.chunk_size = 2
    bounded = metric.score(samples)  # texts re-encoded in other batches: float noise only
    np.testing.assert_allclose(bounded.scores, full.scores, rtol=0, atol=1e-6)
    assert len(metric._call._images.items) <= 2 and len(metric._call._texts.items) <= 2
