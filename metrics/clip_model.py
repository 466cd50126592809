"""CLIPScore and RefCLIPScore through open_clip.

Hessel, Holtzman, Forbes, Le Bras and Choi 2021, "CLIPScore: A
Reference-free Evaluation Metric for Image Captioning" (EMNLP;
arXiv:2104.08718). The conventions below follow the authors' reference
implementation, jmhessel/clipscore (`clipscore.py`), which is what the
published numbers were computed with:

- Model: ViT-B/32 with OpenAI's weights (open_clip: architecture `ViT-B-32`,
  pretrained tag `openai`). OpenAI's models use QuickGELU; open_clip 3.x only
  warns when a tag's activation differs from the architecture's config, so the
  activation is taken from the tag here (`quick_gelu=None`), as OpenAI's
  `clip.load` builds it.
- Texts: the prefix "A photo depicts " is put before every text -- the
  candidate and, for RefCLIP-S, every reference too (the reference code sends
  both through the same caption dataset). Texts are cut to CLIP's 77 tokens
  (start and end tokens included) as `clip.tokenize(..., truncate=True)` does;
  how many were cut is logged and kept per sample in the `truncated` extra.
- Images: PIL, resized so the short side is 224 (bicubic), centre-cropped,
  converted to RGB, normalised with CLIP's mean and std (open_clip's
  preprocessing for the tag, same steps and order as the reference). EXIF
  orientation is not applied (the reference does not either).
- Embeddings are L2-normalised in float32. CLIP-S = w * max(cos(image,
  candidate), 0) with w = 2.5.
- RefCLIP-S = harmonic mean of CLIP-S and max(max_r cos(candidate, r), 0)
  (Eq. 2 of the paper; the text-text term carries no w). The reference code
  takes the max cosine without the clip at 0; the two agree whenever that
  cosine is positive, which it always is for CLIP text embeddings sharing the
  prefix. When both terms are 0 the harmonic mean is taken as 0 (the
  reference code would give 0/0).
- Precision: the paper's numbers were computed on GPU in float16 (what
  `clip.load` does on CUDA); `precision="auto"` does the same on CUDA and uses
  float32 elsewhere, as the reference does on CPU.

Every distinct image (by path) and every distinct text of a scoring call is
encoded once, however many samples share it. An image that cannot be read
(missing, truncated, not an image, over `max_image_pixels`) makes its samples
NaN with a reason naming the sample and the file; the rest of the call goes on.
"""
from __future__ import annotations

import logging
import os
import threading
import warnings
from collections import OrderedDict
from typing import Any, Sequence

import numpy as np

from .base import Metric, MetricError, MetricOutput, Sample
from .models import (hf_cache_dir, hf_cached_file, hub_unavailable,
                     missing_weights, path_digest, resolve_device)

log = logging.getLogger(__name__)

# The paper's constants (Hessel et al. 2021, Sec. 3).
DEFAULT_MODEL = "ViT-B-32"
DEFAULT_PRETRAINED = "openai"
DEFAULT_PREFIX = "A photo depicts"
DEFAULT_W = 2.5
# Pixels an image may have before it is refused rather than decoded (about
# 0.8 GB as RGB). PIL's own decompression-bomb limit (89 Mpx warns, 179 Mpx
# refuses) guards against hostile files; benchmark images are local files a
# user chose, so that limit is replaced by this one, which `max_image_pixels`
# sets (None: no limit).
DEFAULT_MAX_IMAGE_PIXELS = 2 ** 28

_PRECISIONS = ("auto", "fp32", "fp16", "bf16")


class ImageReadError(Exception):
    """An image file could not be turned into pixels."""


_PIL_LIMIT_LOCK = threading.Lock()


def load_rgb_image(path: str, max_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS):
    """Open `path` with PIL, decode it fully and return it as an RGB image.

    Raises ImageReadError with the reason for a missing, truncated, non-image
    or over-large file. Any PIL mode (L, RGBA, CMYK, P, I;16, ...) becomes RGB.
    """
    from PIL import Image

    if not os.path.isfile(path):
        raise ImageReadError(f"image file not found: {path}")
    try:
        # Only the header is read here; the pixel budget is checked below,
        # against our limit instead of PIL's global one.
        with _PIL_LIMIT_LOCK:
            saved = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
            try:
                image = Image.open(path)
            finally:
                Image.MAX_IMAGE_PIXELS = saved
    except Exception as exc:  # UnidentifiedImageError, OSError, ...
        raise ImageReadError(f"not a readable image: {path} ({exc})") from exc
    try:
        width, height = image.size
        if max_pixels is not None and width * height > max_pixels:
            raise ImageReadError(
                f"image {path} has {width}x{height} = {width * height} pixels, more than "
                f"max_image_pixels={max_pixels}; raise that option to score it")
        try:
            image.load()
        except Exception as exc:  # truncated data, broken stream
            raise ImageReadError(f"image data is damaged or truncated: {path} ({exc})") from exc
        try:
            return image.convert("RGB")
        except Exception as exc:
            raise ImageReadError(
                f"image mode {image.mode} cannot be converted to RGB: {path} ({exc})") from exc
    finally:
        image.close()


class _ClipBundle:
    """A loaded open_clip model with its image transform and tokenizer."""

    def __init__(self, model, preprocess, tokenizer, device: str, dtype):
        self.model = model
        self.preprocess = preprocess
        self.tokenizer = tokenizer
        self.device = device
        self.dtype = dtype
        self.context_length = getattr(tokenizer, "context_length", None) or 77
        self.trim_text = False

    def token_count(self, text: str) -> int:
        """Tokens `text` needs, start and end tokens included (before truncation)."""
        encode = getattr(self.tokenizer, "encode", None)
        if callable(encode):  # open_clip's SimpleTokenizer (CLIP's BPE)
            return len(encode(text)) + 2
        inner = getattr(self.tokenizer, "tokenizer", None)  # HFTokenizer
        if inner is not None:
            return len(inner(text)["input_ids"])
        return 0

    def encode_texts(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        """Unit text embeddings, one row per text, in order.

        Texts are batched by length. For open_clip's standard CLIP text tower
        (causal attention, pooled at the end-of-text token) each batch is cut
        after its longest text: under a causal mask no position attends to
        later ones, so the padding positions cannot change the pooled
        feature, and captions of ~15 tokens cost a fifth of 77. A probe at
        load time checks this equals the full-length encoding
        (`self.trim_text`), else every text runs at full length.
        """
        import torch

        if not texts:
            return np.zeros((0, 0), np.float32)
        tokens = self.tokenizer(list(texts))
        order = np.argsort(-_text_lengths(tokens), kind="stable")
        rows: list[np.ndarray | None] = [None] * len(texts)
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                idx = order[i:i + batch_size]
                batch = tokens[torch.as_tensor(idx)].to(self.device)
                feats = (self._encode_trimmed(batch) if self.trim_text
                         else self.model.encode_text(batch))
                for j, row in zip(idx, feats.float().cpu().numpy()):
                    rows[j] = row
        return _l2_normalise(np.stack(rows))

    def _encode_trimmed(self, tokens):
        import torch
        from open_clip.transformer import text_global_pool

        model = self.model
        length = int(_text_lengths(tokens).max())
        tokens = tokens[:, :length]
        cast = model.transformer.get_cast_dtype()
        x = model.token_embedding(tokens).to(cast)
        x = x + model.positional_embedding[:length].to(cast)
        x = model.transformer(x, attn_mask=model.attn_mask[:length, :length])
        x = model.ln_final(x)
        x = text_global_pool(x, tokens, model.text_pool_type,
                             eos_token_id=getattr(model, "text_eos_id", None))
        projection = model.text_projection
        if projection is not None:
            x = projection(x) if isinstance(projection, torch.nn.Linear) else x @ projection
        return x

    def check_trim(self) -> None:
        """Use trimmed text encoding only if it matches the full one here."""
        import open_clip
        import torch

        model = self.model
        self.trim_text = False
        if (type(model) is not open_clip.CLIP or getattr(model, "attn_mask", None) is None
                or getattr(model, "text_pool_type", None) != "argmax"
                or not callable(getattr(self.tokenizer, "encode", None))):
            return
        probe = self.tokenizer(["A photo depicts a dog.",
                                "A photo depicts two people walking along a beach at dusk."])
        with torch.inference_mode():
            try:
                probe = probe.to(self.device)
                full = _l2_normalise(model.encode_text(probe).float().cpu().numpy())
                cut = _l2_normalise(self._encode_trimmed(probe).float().cpu().numpy())
            except Exception as exc:  # an open_clip whose internals differ
                log.info("text trimming disabled (%s)", exc)
                return
        tol = 1e-5 if self.dtype == torch.float32 else 1e-2
        self.trim_text = bool(np.max(np.abs(full - cut)) < tol)
        if not self.trim_text:
            log.info("text trimming disabled: trimmed and full encodings differ here")

    def encode_images(self, pixels: Sequence[Any], batch_size: int) -> np.ndarray:
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(pixels), batch_size):
                batch = torch.stack(list(pixels[i:i + batch_size]))
                batch = batch.to(device=self.device, dtype=self.dtype)
                out.append(self.model.encode_image(batch).float().cpu().numpy())
        return _l2_normalise(np.concatenate(out)) if out else np.zeros((0, 0), np.float32)


def _text_lengths(tokens) -> np.ndarray:
    """Tokens up to and including the end-of-text token (CLIP's highest id)."""
    return tokens.argmax(dim=-1).cpu().numpy() + 1


def _l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.sqrt(np.sum(x * x, axis=1, keepdims=True))


# Loaded models shared by metric objects in this process (clipscore and
# refclipscore with the same settings load the weights once).
_BUNDLES: "OrderedDict[tuple, _ClipBundle]" = OrderedDict()
_BUNDLES_LOCK = threading.Lock()
_BUNDLES_MAX = 2


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
    """

    name = "clipscore"
    needs_image = True

    def __init__(self, model: str = DEFAULT_MODEL, pretrained: str | None = DEFAULT_PRETRAINED,
                 quick_gelu: bool | None = None, prefix: str = DEFAULT_PREFIX,
                 w: float = DEFAULT_W, device: str = "cpu", precision: str = "auto",
                 batch_size: int = 64, cache_dir: str | None = None,
                 max_image_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS):
        if precision not in _PRECISIONS:
            raise MetricError(f"{self.name}: precision must be one of {_PRECISIONS}, "
                              f"not {precision!r}")
        if int(batch_size) < 1:
            raise MetricError(f"{self.name}: batch_size must be at least 1")
        if not pretrained:
            raise MetricError(
                f"{self.name}: pretrained weights are required (an open_clip tag such as "
                "'openai' or a checkpoint file); a randomly initialised CLIP scores nothing")
        self.model_name = model
        self.pretrained = str(pretrained)
        self.quick_gelu = quick_gelu
        self.prefix = prefix
        self.w = float(w)
        self.device = device
        self.precision = precision
        self.batch_size = int(batch_size)
        self.cache_dir = cache_dir
        self.max_image_pixels = max_image_pixels
        self._bundle: _ClipBundle | None = None
        self._image_memo: dict[str, np.ndarray | str] = {}
        self._text_memo: dict[str, tuple[np.ndarray, bool]] = {}
        self._check_architecture()

    # -- options -------------------------------------------------------------
    def _check_architecture(self) -> None:
        import open_clip

        if open_clip.get_model_config(self.model_name) is None:
            raise MetricError(
                f"{self.name}: unknown open_clip architecture {self.model_name!r}; "
                "see open_clip.list_models() (or register a config with "
                "open_clip.add_model_config)")
        if not self._is_file and not self._tag_cfg():
            import open_clip as oc

            raise MetricError(
                f"{self.name}: {self.pretrained!r} is neither a checkpoint file nor an "
                f"open_clip pretrained tag for {self.model_name}; tags: "
                f"{oc.list_pretrained_tags_by_model(self.model_name)}")

    @property
    def _is_file(self) -> bool:
        return os.path.isfile(self.pretrained)

    def _tag_cfg(self) -> dict:
        import open_clip

        return open_clip.get_pretrained_cfg(self.model_name, self.pretrained) or {}

    def _resolved_quick_gelu(self) -> bool:
        if self.quick_gelu is not None:
            return bool(self.quick_gelu)
        if not self._is_file:
            return bool(self._tag_cfg().get("quick_gelu", False))
        import open_clip

        return bool((open_clip.get_model_config(self.model_name) or {}).get("quick_gelu", False))

    def _resolved_precision(self) -> str:
        if self.precision != "auto":
            return self.precision
        return "fp16" if resolve_device(self.device).startswith("cuda") else "fp32"

    def settings(self) -> dict[str, Any]:
        import open_clip

        weights = (f"file-sha256:{path_digest(self.pretrained)[:16]}" if self._is_file
                   else self.pretrained)
        return {"impl": f"open_clip-{open_clip.__version__}", "model": self.model_name,
                "pretrained": weights, "quick_gelu": self._resolved_quick_gelu(),
                "prefix": self.prefix, "w": self.w, "precision": self._resolved_precision()}

    # -- weights -------------------------------------------------------------
    def _fetch_hint(self) -> str:
        return ("python -c \"import open_clip; open_clip.create_model_and_transforms("
                f"'{self.model_name}', pretrained='{self.pretrained}')\"")

    def _checkpoint_path(self) -> str:
        """A local checkpoint file for the weights, downloading only when allowed."""
        if self._is_file:
            return self.pretrained
        import open_clip
        from open_clip.pretrained import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

        cfg = self._tag_cfg()
        cache = self.cache_dir or hf_cache_dir()
        repo, filename = os.path.split(cfg.get("hf_hub", "")) if cfg.get("hf_hub") else ("", "")
        if repo:
            names = [filename] if filename else [HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME]
            if filename.endswith((".bin", ".pth")):
                names.insert(0, filename[:-4] + ".safetensors")
            found = hf_cached_file(repo, names, cache_dir=self.cache_dir)
            if found:
                return found
        looked = f"the Hugging Face cache {cache}" + (f" (repo {repo})" if repo else "")
        if hub_unavailable():
            raise missing_weights(self.name, f"{self.model_name}/{self.pretrained}", looked,
                                  self._fetch_hint(), option="pretrained")
        try:
            path = open_clip.download_pretrained(cfg, cache_dir=self.cache_dir)
        except Exception as exc:
            raise missing_weights(self.name, f"{self.model_name}/{self.pretrained}", looked,
                                  self._fetch_hint(), option="pretrained") from exc
        if not path:
            raise missing_weights(self.name, f"{self.model_name}/{self.pretrained}", looked,
                                  self._fetch_hint(), option="pretrained")
        return path

    def _load(self) -> _ClipBundle:
        if self._bundle is not None:
            return self._bundle
        device = resolve_device(self.device)
        precision = self._resolved_precision()
        checkpoint = self._checkpoint_path()
        key = (self.model_name, os.path.abspath(checkpoint), self._resolved_quick_gelu(),
               device, precision)
        with _BUNDLES_LOCK:
            bundle = _BUNDLES.get(key)
            if bundle is None:
                bundle = self._build(checkpoint, device, precision)
                _BUNDLES[key] = bundle
                while len(_BUNDLES) > _BUNDLES_MAX:
                    _BUNDLES.popitem(last=False)
            else:
                _BUNDLES.move_to_end(key)
        self._bundle = bundle
        return bundle

    def _build(self, checkpoint: str, device: str, precision: str) -> _ClipBundle:
        import open_clip
        import torch

        cfg = {} if self._is_file else self._tag_cfg()
        preprocess_kwargs = {}
        for ours, theirs in (("image_mean", "mean"), ("image_std", "std"),
                             ("image_interpolation", "interpolation"),
                             ("image_resize_mode", "resize_mode")):
            if theirs in cfg:
                preprocess_kwargs[ours] = cfg[theirs]
        log.info("%s: loading %s from %s on %s (%s)", self.name, self.model_name,
                 checkpoint, device, precision)
        try:
            with warnings.catch_warnings():
                # open_clip warns about the QuickGELU mismatch we resolve ourselves
                warnings.filterwarnings("ignore", message="QuickGELU mismatch")
                model, _, preprocess = open_clip.create_model_and_transforms(
                    self.model_name, pretrained=checkpoint, precision=precision,
                    device=device, force_quick_gelu=self._resolved_quick_gelu(),
                    **preprocess_kwargs)
        except Exception as exc:
            raise MetricError(
                f"{self.name}: could not load {self.model_name} weights from {checkpoint}: "
                f"{exc}") from exc
        model.eval()
        tokenizer = open_clip.get_tokenizer(self.model_name)
        dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision, torch.float32)
        bundle = _ClipBundle(model, preprocess, tokenizer, device, dtype)
        bundle.check_trim()
        return bundle

    # -- scoring -------------------------------------------------------------
    def _prefixed(self, text: str) -> str:
        if not self.prefix:
            return text
        prefix = self.prefix if self.prefix.endswith(" ") else self.prefix + " "
        return prefix + text

    def _prepare(self, samples: Sequence[Sample]) -> None:
        # Embeddings live for one call: each distinct image and text of the
        # call is encoded once even when its samples fall in different chunks.
        self._image_memo = {}
        self._text_memo = {}
        self._call_truncated = 0
        if samples:
            self._load()

    def _text_embeddings(self, texts: Sequence[str]) -> dict[str, tuple[np.ndarray, bool]]:
        bundle = self._load()
        new = [t for t in dict.fromkeys(texts) if t not in self._text_memo]
        if new:
            prompts = [self._prefixed(t) for t in new]
            emb = bundle.encode_texts(prompts, self.batch_size)
            for text, prompt, vec in zip(new, prompts, emb):
                cut = bundle.token_count(prompt) > bundle.context_length
                self._text_memo[text] = (vec, cut)
            cut_now = sum(self._text_memo[t][1] for t in new)
            if cut_now:
                log.warning("%s: %d of %d new texts were longer than %d tokens and were "
                            "truncated (see the 'truncated' extra)", self.name, cut_now,
                            len(new), bundle.context_length)
        return {t: self._text_memo[t] for t in texts}

    def _image_embeddings(self, paths: Sequence[str]) -> dict[str, np.ndarray | str]:
        """path -> unit embedding, or path -> reason string when it cannot be read."""
        bundle = self._load()
        new = [p for p in dict.fromkeys(paths) if p not in self._image_memo]
        for start in range(0, len(new), self.batch_size):
            part = new[start:start + self.batch_size]
            pixels, ok = [], []
            for path in part:
                try:
                    pixels.append(bundle.preprocess(load_rgb_image(path, self.max_image_pixels)))
                    ok.append(path)
                except ImageReadError as exc:
                    self._image_memo[path] = str(exc)
            if ok:
                emb = bundle.encode_images(pixels, self.batch_size)
                for path, vec in zip(ok, emb):
                    self._image_memo[path] = vec
        return {p: self._image_memo[p] for p in paths}

    def _image_part(self, samples: Sequence[Sample]):
        """CLIP-S per sample, candidate embeddings, truncation flags, failures."""
        paths = [os.path.realpath(s.image) for s in samples]
        images = self._image_embeddings(paths)
        texts = self._text_embeddings([s.candidate for s in samples])
        scores = np.full(len(samples), np.nan)
        truncated = np.zeros(len(samples))
        cands = []
        failures: dict[str, str] = {}
        for i, (s, path) in enumerate(zip(samples, paths)):
            vec, cut = texts[s.candidate]
            cands.append(vec)
            truncated[i] = float(cut)
            image = images[path]
            if isinstance(image, str):
                failures[s.id] = f"sample {s.id!r}: {image}"
                continue
            cos = float(np.dot(image, vec))
            scores[i] = self.w * max(cos, 0.0)
        return scores, cands, truncated, failures

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
        clip_s, cands, truncated, failures = self._image_part(samples)
        refs = [[r for r in s.references if r and r.strip()] for s in samples]
        ref_emb = self._text_embeddings([r for group in refs for r in group])
        ref_s = np.full(len(samples), np.nan)
        refs_cut = np.zeros(len(samples))
        scores = np.full(len(samples), np.nan)
        for i, (cand, group) in enumerate(zip(cands, refs)):
            mat = np.stack([ref_emb[r][0] for r in group])
            refs_cut[i] = float(sum(ref_emb[r][1] for r in group))
            ref_s[i] = max(float(np.max(mat @ cand)), 0.0)
            if np.isnan(clip_s[i]):
                continue
            total = clip_s[i] + ref_s[i]
            scores[i] = 0.0 if total == 0 else 2.0 * clip_s[i] * ref_s[i] / total
        return MetricOutput(scores, failures, {
            "clip_s": clip_s, "ref_s": ref_s, "truncated": truncated,
            "refs_truncated": refs_cut})
