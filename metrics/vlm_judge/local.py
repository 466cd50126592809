"""The local backend: a transformers image-text-to-text model on this machine.

The model and its processor load on the first request, never at
construction, and only from a local folder or the Hugging Face cache
(``local_files_only``). Prompts go through the processor's chat template
(one user turn: the image, then the text), are left-padded into batches and
decoded greedily. At every generated position the log-softmax over the whole
vocabulary gives the log-probabilities of the tokens that spell a scale
label; answers.py reads them at the position where the rating is written,
which for a judge that answers as asked is the first generated token.
"""
from __future__ import annotations

import logging
import os
from typing import Any, Iterator, Sequence

from ..base import MetricError
from ..models import hf_cache_dir, missing_weights
from .answers import label_of
from .served import Request
from .templates import Template

log = logging.getLogger(__name__)

_DTYPES = ("float32", "float16", "bfloat16")


def resolve_dtype(dtype: str, device: str) -> str:
    """'auto': float32 on CPU, bfloat16 on a GPU that has it, else float16."""
    dtype = (dtype or "auto").lower()
    if dtype == "auto":
        if device == "cpu":
            return "float32"
        import torch

        if device.startswith("cuda") and torch.cuda.is_bf16_supported():
            return "bfloat16"
        return "float16"
    if dtype not in _DTYPES:
        raise MetricError(f"vlm_judge: dtype must be auto or one of {', '.join(_DTYPES)}, "
                          f"got {dtype!r}")
    return dtype


class LocalBackend:
    """Runs a transformers model; see the module docstring."""

    def __init__(self, model: str, device: str, dtype: str, batch_size: int = 4,
                 max_tokens: int = 8, revision: str | None = None):
        self.model_name = model
        self.device = device
        self.dtype = dtype
        self.batch_size = max(1, int(batch_size))
        self.max_tokens = max(1, int(max_tokens))
        self.revision = revision
        self._model = None
        self._processor = None
        self._label_ids: dict[str, dict[str, list[int]]] = {}

    def decoding(self) -> dict[str, Any]:
        """Settings that change the answer."""
        return {"decoding": "greedy", "max_tokens": self.max_tokens, "dtype": self.dtype}

    def redact(self, text: str) -> str:
        return text

    def check_available(self) -> None:
        """Raise the missing-weights error now, without loading anything."""
        if os.path.isdir(self.model_name):
            return
        looks_like_path = self.model_name.startswith((".", "/", "~")) or self.model_name.count("/") > 1
        if not looks_like_path:
            from huggingface_hub import try_to_load_from_cache

            found = try_to_load_from_cache(self.model_name, "config.json",
                                           cache_dir=hf_cache_dir(), revision=self.revision)
            if isinstance(found, str):
                return
        raise missing_weights("vlm_judge", self.model_name,
                              self.model_name if looks_like_path else hf_cache_dir(),
                              f"hf download {self.model_name}")

    def load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.check_available()
        options = {"local_files_only": True, "revision": self.revision}
        try:
            processor = AutoProcessor.from_pretrained(self.model_name, **options)
            model = AutoModelForImageTextToText.from_pretrained(
                self.model_name, dtype=getattr(torch, self.dtype), **options)
        except OSError as exc:
            raise missing_weights("vlm_judge", self.model_name, hf_cache_dir(),
                                  f"hf download {self.model_name}") from exc
        tokenizer = getattr(processor, "tokenizer", processor)
        tokenizer.padding_side = "left"
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._processor = processor
        self._model = model.to(self.device).eval()
        log.info("vlm_judge: loaded %s on %s (%s)", self.model_name, self.device, self.dtype)

    @property
    def tokenizer(self):
        return getattr(self._processor, "tokenizer", self._processor)

    def label_token_ids(self, template: Template) -> dict[str, list[int]]:
        """Decoded token text -> the vocabulary ids that decode to it, for every
        token that spells one of the template's labels ("4", " 4", "Yes", "yes")."""
        if template.sha256 not in self._label_ids:
            tokenizer = self.tokenizer
            longest = max(len(lab) for lab in template.labels) + 4
            special = set(tokenizer.all_special_ids)
            found: dict[str, list[int]] = {}
            for token, token_id in tokenizer.get_vocab().items():
                if len(token) > longest or token_id in special:
                    continue
                text = tokenizer.decode([token_id])
                if label_of(text, template) is not None:
                    found.setdefault(text, []).append(token_id)
            if not found:
                raise MetricError(
                    f"vlm_judge: no token of {self.model_name}'s vocabulary spells a label of "
                    f"template {template.name!r} ({' '.join(template.labels)})")
            self._label_ids[template.sha256] = found
        return self._label_ids[template.sha256]

    def run(self, requests: Sequence[Request], template: Template
            ) -> Iterator[tuple[int, dict | None, str | None]]:
        """Yield (index, answer, error) batch by batch."""
        if not requests:
            return
        self.load()
        labels = self.label_token_ids(template)
        for start in range(0, len(requests), self.batch_size):
            batch = list(range(start, min(start + self.batch_size, len(requests))))
            images: dict[int, Any] = {}
            ready = []
            for i in batch:
                if requests[i].image is None:
                    ready.append(i)
                    continue
                try:
                    from PIL import Image

                    with Image.open(requests[i].image) as img:
                        images[i] = img.convert("RGB")
                    ready.append(i)
                except (OSError, ValueError) as exc:
                    yield i, None, f"cannot read image {requests[i].image}: {exc}"
            if ready:
                answers = self._generate([requests[i] for i in ready],
                                         [images.get(i) for i in ready], labels)
                for i, answer in zip(ready, answers):
                    yield i, answer, None

    def chat_text(self, prompt: str, with_image: bool) -> str:
        """The prompt wrapped in the model's chat template, ready for generation."""
        content: list[dict[str, str]] = [{"type": "image"}] if with_image else []
        content.append({"type": "text", "text": prompt})
        return self._processor.apply_chat_template(
            [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False)

    def _generate(self, requests: Sequence[Request], images: Sequence[Any],
                  labels: dict[str, list[int]]) -> list[dict]:
        import torch

        texts = [self.chat_text(r.prompt, img is not None) for r, img in zip(requests, images)]
        with_images = [img for img in images if img is not None]
        if with_images and len(with_images) != len(images):
            # Mixed batches are not something processors agree on: one at a time.
            return [self._generate([r], [img], labels)[0] for r, img in zip(requests, images)]
        inputs = self._processor(text=texts, images=with_images or None,
                                 return_tensors="pt", padding=True)
        model = self._model
        inputs = {k: (v.to(self.device, dtype=model.dtype) if v.is_floating_point()
                      else v.to(self.device)) if hasattr(v, "to") else v
                  for k, v in inputs.items()}
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=self.max_tokens, do_sample=False,
                                 num_beams=1, output_logits=True, return_dict_in_generate=True,
                                 pad_token_id=self.tokenizer.pad_token_id)
        prompt_len = inputs["input_ids"].shape[1]
        stop = self._stop_ids()
        groups = [(text, torch.tensor(ids, device=out.logits[0].device))
                  for text, ids in labels.items()]
        answers = []
        for row in range(len(requests)):
            ids = out.sequences[row, prompt_len:].tolist()
            steps = next((k for k, t in enumerate(ids) if t in stop), len(ids))
            tokens, text = self._tokens(ids[:steps])
            top = []
            for k in range(steps):
                logprobs = torch.log_softmax(out.logits[k][row].float(), dim=-1)
                alternatives = {s: float(torch.logsumexp(logprobs[g], dim=0)) for s, g in groups}
                chosen = self.tokenizer.decode([ids[k]])
                if chosen not in alternatives:
                    alternatives[chosen] = float(logprobs[ids[k]])
                top.append(alternatives)
            answers.append({"text": text, "tokens": tokens, "top": top})
        return answers

    def _stop_ids(self) -> set[int]:
        eos = self._model.generation_config.eos_token_id
        stop = set(eos if isinstance(eos, (list, tuple)) else [eos] if eos is not None else [])
        stop.update(i for i in (self.tokenizer.eos_token_id, self.tokenizer.pad_token_id)
                    if i is not None)
        return stop

    def _tokens(self, ids: list[int]) -> tuple[list[str], str]:
        """Each generated token's share of the decoded text (incremental
        decoding, so that the pieces join up to exactly the text)."""
        tokens, previous = [], ""
        for k in range(1, len(ids) + 1):
            current = self.tokenizer.decode(ids[:k], skip_special_tokens=True)
            tokens.append(current[len(previous):] if current.startswith(previous) else current)
            previous = current
        return tokens, previous
