"""A local image-text model: the one loader the VLM judge and reason generation share.

`ImageTextModel` holds a transformers image-text-to-text model (LLaVA,
Qwen2-VL, BLIP-2, ...) and its processor or, with ``text_only``, a seq2seq or
causal language model and its tokenizer (FLAN-T5, the Socratis paper's
text-only baseline). It loads on first use, never at construction, and only
from a local folder or the Hugging Face cache (``local_files_only``): a
model that is not on this machine is the one `missing_weights` error, raised
by `check_available` before anything is loaded. Tokenizers pad on the left
(batched generation); one without a pad token pads with its end token.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Sequence

from .base import MetricError
from .models import hf_cache_dir, missing_weights, resolve_device

log = logging.getLogger(__name__)

DTYPES = ("float32", "float16", "bfloat16")


def resolve_dtype(dtype: str | None, device: str) -> str:
    """'auto': float32 on CPU, bfloat16 on a GPU that has it, else float16."""
    dtype = (dtype or "auto").lower()
    if dtype == "auto":
        if device == "cpu":
            return "float32"
        import torch

        if device.startswith("cuda") and torch.cuda.is_bf16_supported():
            return "bfloat16"
        return "float16"
    if dtype not in DTYPES:
        raise MetricError(f"dtype must be auto or one of {', '.join(DTYPES)}, got {dtype!r}")
    return dtype


class ImageTextModel:
    """A transformers model on this machine; see the module docstring.

    model: a Hub id in the local cache, or a folder. device: as
    `resolve_device` ("auto" picks cuda, mps, cpu). dtype: "auto" or one of
    DTYPES. owner: who uses it, named in error messages.
    """

    def __init__(self, model: str, device: str = "cpu", dtype: str = "auto",
                 revision: str | None = None, text_only: bool = False, owner: str = "model"):
        self.name = str(model)
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        self.revision = revision
        self.text_only = bool(text_only)
        self.owner = owner
        self.model = None
        self.processor = None

    @property
    def loaded(self) -> bool:
        return self.model is not None

    @property
    def tokenizer(self):
        return getattr(self.processor, "tokenizer", self.processor)

    def _missing(self, looked_in: str) -> MetricError:
        return missing_weights(self.owner, self.name, looked_in, f"hf download {self.name}")

    def check_available(self) -> None:
        """Raise the missing-weights error now, without loading anything."""
        if os.path.isdir(self.name):
            return
        looks_like_path = self.name.startswith((".", "/", "~")) or self.name.count("/") > 1
        if not looks_like_path:
            from huggingface_hub import try_to_load_from_cache

            found = try_to_load_from_cache(self.name, "config.json", cache_dir=hf_cache_dir(),
                                           revision=self.revision)
            if isinstance(found, str):
                return
        raise self._missing(self.name if looks_like_path else hf_cache_dir())

    def load(self) -> "ImageTextModel":
        """Load the model and its processor (once); returns self."""
        if self.model is not None:
            return self
        import torch
        import transformers as tf

        self.check_available()
        options = {"local_files_only": True, "revision": self.revision}
        try:
            if self.text_only:
                config = tf.AutoConfig.from_pretrained(self.name, **options)
                cls = (tf.AutoModelForSeq2SeqLM if config.is_encoder_decoder
                       else tf.AutoModelForCausalLM)
                processor = tf.AutoTokenizer.from_pretrained(self.name, **options)
            else:
                cls = tf.AutoModelForImageTextToText
                processor = tf.AutoProcessor.from_pretrained(self.name, **options)
            model = cls.from_pretrained(self.name, dtype=getattr(torch, self.dtype), **options)
        except OSError as exc:
            raise self._missing(hf_cache_dir()) from exc
        tokenizer = getattr(processor, "tokenizer", processor)
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.processor = processor
        self.model = model.to(self.device).eval()
        log.info("%s: loaded %s on %s (%s)", self.owner, self.name, self.device, self.dtype)
        return self

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.processor, "chat_template", None))

    def chat_text(self, prompt: str, with_image: bool) -> str:
        """`prompt` as one user turn in the model's chat template, ready for
        generation (the image first, then the text, when `with_image`)."""
        if self.text_only:
            content: Any = prompt
        else:
            content = [{"type": "image"}] if with_image else []
            content.append({"type": "text", "text": prompt})
        return self.processor.apply_chat_template(
            [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False)

    def inputs(self, texts: Sequence[str], images: Sequence[Any] | None = None) -> dict:
        """The processor's padded batch for `texts` (and `images`, RGB PIL
        images, one per text), on the model's device, floats in its dtype."""
        if self.text_only:
            batch = self.processor(list(texts), return_tensors="pt", padding=True)
        else:
            batch = self.processor(text=list(texts), images=list(images) if images else None,
                                   return_tensors="pt", padding=True)
        dtype = self.model.dtype
        return {k: (v.to(self.device, dtype=dtype) if v.is_floating_point()
                    else v.to(self.device)) if hasattr(v, "to") else v
                for k, v in batch.items()}
