"""CLIP models through open_clip: weights, loading, encoding (CLIPScore's plumbing).

The metric's definition is in clip_score.py; this module turns its options
into unit embeddings:

- `ClipWeights` names the weights (an open_clip architecture and a pretrained
  tag or checkpoint file), checks them without loading anything, finds the
  checkpoint in the local cache (downloading only when allowed) and loads
  it, sharing loaded models between metric objects of this process.
- `ClipModel` is a loaded model: its image transform, tokenizer, and text
  and image encoders (float32, L2-normalised).
- `CallEmbeddings` keeps the embeddings of one scoring call (the most
  recent `KEPT_EMBEDDINGS` images and texts, so memory stays bounded), so
  that each distinct image (by path) and text is encoded once however many
  samples and chunks share it; an image that cannot be read (see
  metrics.images) gets the reason instead of an embedding. Images are read
  and preprocessed in parallel: in threads when the model runs on the CPU,
  in DataLoader worker processes beside an accelerator.

OpenAI's models use QuickGELU; open_clip 3.x only warns when a tag's
activation differs from the architecture's config, so the activation is taken
from the tag here (`quick_gelu=None`), as OpenAI's `clip.load` builds it.
Images are preprocessed by open_clip's transform for the tag (resize the
short side bicubic, centre crop, RGB, CLIP's mean and std: the reference
code's steps and order). Texts are cut to the context length (77 tokens,
start and end included) as `clip.tokenize(..., truncate=True)` does.
"""
from __future__ import annotations

import logging
import os
import threading
import warnings
from collections import OrderedDict
from typing import Any, Sequence

import numpy as np

from .base import MetricError
from .images import DEFAULT_MAX_IMAGE_PIXELS, ImageReadError, forget_recent_bytes, open_image
from .models import (hf_cache_dir, hf_cached_file, hub_unavailable, missing_weights,
                     path_digest, resolve_device)

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "fp16", "bf16")


class ClipModel:
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
_MODELS: "OrderedDict[tuple, ClipModel]" = OrderedDict()
_MODELS_LOCK = threading.Lock()
_MODELS_MAX = 2


class ClipWeights:
    """Which CLIP to load: architecture, pretrained tag or checkpoint file, activation.

    `owner` names the metric in error messages. The constructor checks the
    names against open_clip's registry (nothing is loaded or downloaded).
    """

    def __init__(self, model: str, pretrained: str, quick_gelu: bool | None = None,
                 cache_dir: str | None = None, owner: str = "clipscore"):
        self.model_name = model
        self.pretrained = str(pretrained)
        self.quick_gelu = quick_gelu
        self.cache_dir = cache_dir
        self.owner = owner
        self._check()

    def _check(self) -> None:
        import open_clip

        if open_clip.get_model_config(self.model_name) is None:
            raise MetricError(
                f"{self.owner}: unknown open_clip architecture {self.model_name!r}; "
                "see open_clip.list_models() (or register a config with "
                "open_clip.add_model_config)")
        if not self.is_file and not self.tag_cfg():
            raise MetricError(
                f"{self.owner}: {self.pretrained!r} is neither a checkpoint file nor an "
                f"open_clip pretrained tag for {self.model_name}; tags: "
                f"{open_clip.list_pretrained_tags_by_model(self.model_name)}")

    @property
    def is_file(self) -> bool:
        return os.path.isfile(self.pretrained)

    def tag_cfg(self) -> dict:
        import open_clip

        return open_clip.get_pretrained_cfg(self.model_name, self.pretrained) or {}

    def resolved_quick_gelu(self) -> bool:
        if self.quick_gelu is not None:
            return bool(self.quick_gelu)
        if not self.is_file:
            return bool(self.tag_cfg().get("quick_gelu", False))
        import open_clip

        return bool((open_clip.get_model_config(self.model_name) or {}).get("quick_gelu", False))

    def settings(self) -> dict[str, Any]:
        """What names these weights in a metric signature (a file by its content)."""
        import open_clip

        weights = (f"file-sha256:{path_digest(self.pretrained)[:16]}" if self.is_file
                   else self.pretrained)
        return {"impl": f"open_clip-{open_clip.__version__}", "model": self.model_name,
                "pretrained": weights, "quick_gelu": self.resolved_quick_gelu()}

    def fetch_hint(self) -> str:
        return ("python -c \"import open_clip; open_clip.create_model_and_transforms("
                f"'{self.model_name}', pretrained='{self.pretrained}')\"")

    def checkpoint_path(self) -> str:
        """A local checkpoint file for the weights, downloading only when allowed."""
        if self.is_file:
            return self.pretrained
        import open_clip
        from open_clip.pretrained import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

        cfg = self.tag_cfg()
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
        missing = missing_weights(self.owner, f"{self.model_name}/{self.pretrained}", looked,
                                  self.fetch_hint(), option="pretrained")
        if hub_unavailable():
            raise missing
        try:
            path = open_clip.download_pretrained(cfg, cache_dir=self.cache_dir)
        except Exception as exc:
            raise missing from exc
        if not path:
            raise missing
        return path

    def load(self, device: str, precision: str) -> ClipModel:
        """The model on `device` in `precision` ("fp32", "fp16", "bf16"), shared
        with other metric objects of this process asking for the same."""
        device = resolve_device(device)
        checkpoint = self.checkpoint_path()
        key = (self.model_name, os.path.abspath(checkpoint), self.resolved_quick_gelu(),
               device, precision)
        with _MODELS_LOCK:
            model = _MODELS.get(key)
            if model is None:
                model = self._build(checkpoint, device, precision)
                _MODELS[key] = model
                while len(_MODELS) > _MODELS_MAX:
                    _MODELS.popitem(last=False)
            else:
                _MODELS.move_to_end(key)
        return model

    def _build(self, checkpoint: str, device: str, precision: str) -> ClipModel:
        import open_clip
        import torch

        cfg = {} if self.is_file else self.tag_cfg()
        preprocess_kwargs = {}
        for ours, theirs in (("image_mean", "mean"), ("image_std", "std"),
                             ("image_interpolation", "interpolation"),
                             ("image_resize_mode", "resize_mode")):
            if theirs in cfg:
                preprocess_kwargs[ours] = cfg[theirs]
        log.info("%s: loading %s from %s on %s (%s)", self.owner, self.model_name,
                 checkpoint, device, precision)
        try:
            with warnings.catch_warnings():
                # open_clip warns about the QuickGELU mismatch we resolve ourselves
                warnings.filterwarnings("ignore", message="QuickGELU mismatch")
                model, _, preprocess = open_clip.create_model_and_transforms(
                    self.model_name, pretrained=checkpoint, precision=precision,
                    device=device, force_quick_gelu=self.resolved_quick_gelu(),
                    **preprocess_kwargs)
        except Exception as exc:
            raise MetricError(
                f"{self.owner}: could not load {self.model_name} weights from {checkpoint}: "
                f"{exc}") from exc
        model.eval()
        tokenizer = open_clip.get_tokenizer(self.model_name)
        dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision, torch.float32)
        loaded = ClipModel(model, preprocess, tokenizer, device, dtype)
        loaded.check_trim()
        return loaded


# Embeddings a call keeps, each of images and texts (about 130 MB each for
# ViT-B-32): the most recently used, so a call's memory does not grow with
# its size, and samples sharing an image or text within that window (as a
# benchmark's captions of one image are) encode it once.
KEPT_EMBEDDINGS = 65536


class _Recent:
    """At most `size` entries; the least recently used goes first."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict = OrderedDict()

    def get(self, key):
        value = self.items.get(key)
        if value is not None:
            self.items.move_to_end(key)
        return value

    def put(self, key, value) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)


class CallEmbeddings:
    """Embeddings of one scoring call: each distinct image path and text once
    (within the last `KEPT_EMBEDDINGS` of each).

    `prefix` is put before every text (with a space); `owner` names the
    metric in log lines; `num_workers` readers decode and preprocess images
    in parallel (None: `default_workers` for the model's device; 0: none).
    """

    def __init__(self, model: ClipModel, prefix: str, batch_size: int,
                 max_image_pixels: int | None = DEFAULT_MAX_IMAGE_PIXELS,
                 owner: str = "clipscore", num_workers: int | None = 0):
        self.model = model
        self.num_workers = (default_workers(model.device) if num_workers is None
                            else int(num_workers))
        self.prefix = prefix if not prefix or prefix.endswith(" ") else prefix + " "
        self.batch_size = batch_size
        self.max_image_pixels = max_image_pixels
        self.owner = owner
        self._images = _Recent(KEPT_EMBEDDINGS)
        self._texts = _Recent(KEPT_EMBEDDINGS)

    def texts(self, texts: Sequence[str]) -> dict[str, tuple[np.ndarray, bool]]:
        """text -> (unit embedding of prefix + text, whether it was truncated)."""
        model = self.model
        found = {t: v for t in dict.fromkeys(texts) if (v := self._texts.get(t)) is not None}
        new = [t for t in dict.fromkeys(texts) if t not in found]
        if new:
            prompts = [self.prefix + t for t in new]
            emb = model.encode_texts(prompts, self.batch_size)
            for text, prompt, vec in zip(new, prompts, emb):
                found[text] = (vec.copy(), model.token_count(prompt) > model.context_length)
                self._texts.put(text, found[text])
            cut_now = sum(found[t][1] for t in new)
            if cut_now:
                log.warning("%s: %d of %d new texts were longer than %d tokens and were "
                            "truncated (see the 'truncated' extra)", self.owner, cut_now,
                            len(new), model.context_length)
        return {t: found[t] for t in texts}

    def images(self, paths: Sequence[str]) -> dict[str, np.ndarray | str]:
        """path -> unit embedding, or path -> reason string when it cannot be read.

        New images are read and preprocessed by `num_workers` readers (threads
        on the CPU, DataLoader processes beside an accelerator) while the
        model encodes the previous batch; the batches and numbers are the
        same for any worker count.
        """
        model = self.model
        found = {p: v for p in dict.fromkeys(paths) if (v := self._images.get(p)) is not None}
        new = [p for p in dict.fromkeys(paths) if p not in found]
        for batch in self._pixel_batches(new):
            ok = []
            for i, item in batch:
                if isinstance(item, str):
                    found[new[i]] = item
                    self._images.put(new[i], item)
                else:
                    ok.append((new[i], item))
            if ok:
                emb = model.encode_images([pixels for _, pixels in ok], self.batch_size)
                for (path, _), vec in zip(ok, emb):
                    found[path] = vec.copy()
                    self._images.put(path, found[path])
        return {p: found[p] for p in paths}

    def _pixel_batches(self, paths: Sequence[str]):
        bounds = [range(start, min(start + self.batch_size, len(paths)))
                  for start in range(0, len(paths), self.batch_size)]
        if self.num_workers and _on_cpu(self.model.device):
            image_steps, tensor_steps = split_at_tensor(self.model.preprocess)
            files = ImageFiles(paths, image_steps, self.max_image_pixels)
            for batch in _thread_batches(files, bounds, self.num_workers):
                yield [(i, item if isinstance(item, str) else tensor_steps(item))
                       for i, item in batch]
            return
        files = ImageFiles(paths, self.model.preprocess, self.max_image_pixels)
        if self.num_workers == 0 or len(bounds) == 1:  # one batch: not worth starting processes
            for batch in bounds:
                yield [files[i] for i in batch]
        else:
            yield from _process_batches(files, self.batch_size, self.num_workers)
            forget_recent_bytes(paths)  # the workers used their copies


def split_at_tensor(preprocess) -> tuple[Any, Any]:
    """(image steps, tensor steps) of a torchvision Compose, split before the
    first step that makes a tensor (ToTensor and its subclasses, such as
    open_clip's MaybeToTensor): reader threads run only PIL work, so no
    torch op starts a thread pool of its own in each of them. A transform
    that cannot be split runs whole in the readers (tensor steps: identity)."""
    from torchvision.transforms import Compose, PILToTensor, ToTensor

    steps = preprocess.transforms if isinstance(preprocess, Compose) else None
    for k, step in enumerate(steps or []):
        if isinstance(step, (ToTensor, PILToTensor)):
            return Compose(steps[:k]), Compose(steps[k:])
    return preprocess, _unchanged


def _unchanged(x):
    return x


def _thread_batches(files: "ImageFiles", bounds: list[range], workers: int):
    """Batches decoded by `workers` threads of this process, the next batch
    while the model encodes this one (PIL's decoders and resampling release
    the GIL). On the CPU, worker processes would compete with the model's
    own threads and send every tensor back; threads share the kept file
    bytes and the pixels without a copy."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers, thread_name_prefix="clip-images") as pool:
        def submit(batch: range) -> list:
            return [pool.submit(files.__getitem__, i) for i in batch]

        pending = submit(bounds[0]) if bounds else []
        for k in range(len(bounds)):
            current = pending
            pending = submit(bounds[k + 1]) if k + 1 < len(bounds) else []
            yield [future.result() for future in current]


def _process_batches(files: "ImageFiles", batch_size: int, workers: int):
    """Batches decoded by a torch DataLoader in `workers` processes, in order,
    while the accelerator encodes."""
    from torch.utils.data import DataLoader

    yield from DataLoader(files, batch_size=batch_size, shuffle=False,
                          num_workers=workers, collate_fn=_as_list)


class ImageFiles:
    """Image files as preprocessed pixels: item i is (i, tensor) or (i, reason)."""

    def __init__(self, paths: Sequence[str], preprocess, max_pixels: int | None):
        self.paths = list(paths)
        self.preprocess = preprocess
        self.max_pixels = max_pixels

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        try:
            return i, self.preprocess(open_image(self.paths[i], self.max_pixels))
        except ImageReadError as exc:
            return i, str(exc)


def _as_list(batch: list) -> list:
    return batch


def default_workers(device: str) -> int:
    """Image readers for a model on `device`: on the CPU one thread per usable
    core, at most 8; beside an accelerator one process per core but one, at
    most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    if _on_cpu(device):
        return max(1, min(8, cores))
    return max(0, min(8, cores - 1))


def _on_cpu(device: str) -> bool:
    return str(device).split(":")[0] == "cpu"
