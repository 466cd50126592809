"""CLIPScore and RefCLIPScore.

Hessel, Holtzman, Forbes, Le Bras and Choi 2021, "CLIPScore: A
Reference-free Evaluation Metric for Image Captioning" (EMNLP;
arXiv:2104.08718), with the conventions of the authors' reference code,
jmhessel/clipscore, which computed the published numbers:

    CLIP-S(c, v)       = w * max(cos(E_c, E_v), 0),  w = 2.5          (Eq. 1)
    RefCLIP-S(c, R, v) = H-Mean(CLIP-S(c, v), max(max_r cos(E_c, E_r), 0))  (Eq. 2)

E_v is CLIP's image embedding, E_c and E_r the text embeddings of
"A photo depicts " + the candidate or reference (the prefix goes before
references too, as the reference code does); ViT-B/32 with OpenAI's weights.
The text-text term carries no w. The reference code takes max_r cos without
the clip at 0; the two agree whenever that cosine is positive, which it
always is for CLIP text embeddings sharing the prefix. When both terms are 0
the harmonic mean is taken as 0 (the reference code would give 0/0).
Embeddings are float32 and L2-normalised; the paper's numbers were computed
on GPU in float16 (`clip.load` on CUDA): `precision="auto"` does the same on
CUDA and uses float32 elsewhere, as the reference code does on CPU.

Loading, preprocessing and encoding are in clip_model.py. An image that cannot
be read (missing, truncated, not an image, over `max_image_pixels`) makes
its samples NaN with a reason naming the sample and the file.
"""
from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from .base import Metric, MetricError, MetricOutput, Sample
from .images import DEFAULT_MAX_IMAGE_PIXELS

DEFAULT_MODEL = "ViT-B-32"
DEFAULT_PRETRAINED = "openai"
DEFAULT_PREFIX = "A photo depicts"
DEFAULT_W = 2.5


def clip_s(cos: np.ndarray, w: float = DEFAULT_W) -> np.ndarray:
    """CLIP-S = w * max(cos(image, candidate), 0) (Hessel et al. 2021, Eq. 1)."""
    return w * np.maximum(np.asarray(cos, dtype=float), 0.0)


def refclip_s(clip: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """RefCLIP-S = harmonic mean of CLIP-S and the reference term (Eq. 2); 0 when both are 0."""
    clip, ref = np.asarray(clip, dtype=float), np.asarray(ref, dtype=float)
    total = clip + ref
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total == 0, 0.0, 2.0 * clip * ref / total)


class ClipScore(Metric):
    """CLIP-S = w * max(cos(E_image, E_text("A photo depicts " + candidate)), 0).

    Options:
      model: an open_clip architecture name (`open_clip.list_models()`),
        default "ViT-B-32".
      pretrained: an open_clip pretrained tag for that architecture (default
        "openai") or the path of a local checkpoint file (.pt/.bin/.safetensors).
      quick_gelu: use QuickGELU; None takes it from the tag (True for OpenAI's
        weights) or, for a checkpoint file, from the architecture's config.
        Set True for a local copy of OpenAI's weights under "ViT-B-32".
      prefix: text put before every text ("A photo depicts"; "" for none).
      w: the rescaling weight, 2.5.
      device: "cpu" (default), "cuda", "mps" or "auto".
      precision: "auto" (fp16 on CUDA as the paper, else fp32), "fp32",
        "fp16", "bf16".
      batch_size: images (and texts) per forward pass.
      cache_dir: the Hugging Face cache folder open_clip's weights live in
        (default: the standard one).
      max_image_pixels: images with more pixels are NaN with a reason instead
        of being decoded (None: no limit).
      num_workers: image readers that decode and preprocess images while the
        model encodes: threads when the model runs on the CPU (None: one per
        core, at most 8), DataLoader processes beside an accelerator (None:
        one per core but one, at most 8); 0 reads them one by one. Changes no
        number.
    """

    name = "clipscore"
    needs_image = True

    def __init__(self, model: str = DEFAULT_MODEL, pretrained: str | None = DEFAULT_PRETRAINED,
                 quick_gelu: bool | None = None, prefix: str = DEFAULT_PREFIX,
                 w: float = DEFAULT_W, device: str = "cpu", precision: str = "auto",
                 batch_size: int = 64, cache_dir: str | None = None,
                 max_image_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS,
                 num_workers: int | None = None):
        from .clip_model import PRECISIONS, ClipWeights

        if precision not in PRECISIONS:
            raise MetricError(f"{self.name}: precision must be one of {PRECISIONS}, "
                              f"not {precision!r}")
        if int(batch_size) < 1:
            raise MetricError(f"{self.name}: batch_size must be at least 1")
        if num_workers is not None and int(num_workers) < 0:
            raise MetricError(f"{self.name}: num_workers must be 0 or more")
        if not pretrained:
            raise MetricError(
                f"{self.name}: pretrained weights are required (an open_clip tag such as "
                "'openai' or a checkpoint file); a randomly initialised CLIP scores nothing")
        self.weights = ClipWeights(model, str(pretrained), quick_gelu, cache_dir, self.name)
        self.model_name = model
        self.pretrained = str(pretrained)
        self.prefix = prefix
        self.w = float(w)
        self.device = device
        self.precision = precision
        self.batch_size = int(batch_size)
        self.max_image_pixels = max_image_pixels
        self.num_workers = None if num_workers is None else int(num_workers)
        self._bundle = None
        self._call = None

    def _resolved_quick_gelu(self) -> bool:
        return self.weights.resolved_quick_gelu()

    def _resolved_precision(self) -> str:
        from .models import resolve_device

        if self.precision != "auto":
            return self.precision
        return "fp16" if resolve_device(self.device).startswith("cuda") else "fp32"

    def settings(self) -> dict[str, Any]:
        return {**self.weights.settings(), "prefix": self.prefix, "w": self.w,
                "precision": self._resolved_precision()}

    def check_ready(self) -> None:
        """Weights cached, or the Hub reachable to fetch them (nothing is downloaded here)."""
        from .models import hub_unavailable

        if hub_unavailable():
            self.weights.checkpoint_path()

    def _load(self):
        if self._bundle is None:
            self._bundle = self.weights.load(self.device, self._resolved_precision())
        return self._bundle

    def _prepare(self, samples: Sequence[Sample]) -> None:
        from .clip_model import CallEmbeddings

        self._call = None
        if samples:
            self._call = CallEmbeddings(self._load(), self.prefix, self.batch_size,
                                        self.max_image_pixels, self.name, self.num_workers)

    def _image_part(self, samples: Sequence[Sample]):
        """CLIP-S per sample, candidate embeddings, truncation flags, failures."""
        paths = [os.path.realpath(s.image) for s in samples]
        images = self._call.images(paths)
        texts = self._call.texts([s.candidate for s in samples])
        cos = np.full(len(samples), np.nan)
        cands = [texts[s.candidate][0] for s in samples]
        truncated = np.array([float(texts[s.candidate][1]) for s in samples])
        failures: dict[str, str] = {}
        for i, (s, path) in enumerate(zip(samples, paths)):
            image = images[path]
            if isinstance(image, str):
                failures[s.id] = f"sample {s.id!r}: {image}"
            else:
                cos[i] = float(np.dot(image, cands[i]))
        return clip_s(cos, self.w), cands, truncated, failures

    def _score_chunk(self, samples: Sequence[Sample]) -> MetricOutput:
        scores, _, truncated, failures = self._image_part(samples)
        return MetricOutput(scores, failures, {"truncated": truncated})


class RefClipScore(ClipScore):
    """RefCLIP-S = H-mean(CLIP-S, max(max_r cos(E("A photo depicts " + c),
    E("A photo depicts " + r)), 0)); same options as ClipScore.

    Extras: `clip_s` (the image term), `ref_s` (the text term), `truncated`
    (1 when the candidate was cut to 77 tokens) and `refs_truncated` (how many
    of the sample's references were cut). Empty references are ignored.
    """

    name = "refclipscore"
    needs_references = True

    def _score_chunk(self, samples: Sequence[Sample]) -> MetricOutput:
        clip, cands, truncated, failures = self._image_part(samples)
        refs = [[r for r in s.references if r and r.strip()] for s in samples]
        ref_emb = self._call.texts([r for group in refs for r in group])
        best_cos = np.array([np.max(np.stack([ref_emb[r][0] for r in group]) @ cand)
                             for cand, group in zip(cands, refs)], dtype=float)
        ref = np.maximum(best_cos, 0.0)
        refs_cut = np.array([float(sum(ref_emb[r][1] for r in group)) for group in refs])
        return MetricOutput(refclip_s(clip, ref), failures, {
            "clip_s": clip, "ref_s": ref, "truncated": truncated, "refs_truncated": refs_cut})
