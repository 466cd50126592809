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
from typing import Any, Iterator, Sequence

from ..base import MetricError
from ..image_text_model import ImageTextModel, resolve_dtype
from ..images import open_batch
from .answers import label_of
from .served import Request
from .templates import Template

__all__ = ["LocalBackend", "resolve_dtype"]

log = logging.getLogger(__name__)


class LocalBackend:
    """Runs a transformers model (an `ImageTextModel`); see the module docstring."""

    def __init__(self, model: str, device: str, dtype: str, batch_size: int = 4,
                 max_tokens: int = 8, revision: str | None = None):
        self.local = ImageTextModel(model, device, dtype, revision, owner="vlm_judge")
        self.model_name = model
        self.device = self.local.device
        self.dtype = self.local.dtype
        self.batch_size = max(1, int(batch_size))
        self.max_tokens = max(1, int(max_tokens))
        self.revision = revision
        self._label_ids: dict[str, dict[str, list[int]]] = {}

    def decoding(self) -> dict[str, Any]:
        """Settings that change the answer."""
        return {"decoding": "greedy", "max_tokens": self.max_tokens, "dtype": self.dtype}

    def redact(self, text: str) -> str:
        return text

    def check_available(self) -> None:
        """Raise the missing-weights error now, without loading anything."""
        self.local.check_available()

    def load(self) -> None:
        self.local.load()

    @property
    def _model(self):
        return self.local.model

    @property
    def tokenizer(self):
        return self.local.tokenizer

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
            ready, images, failed = open_batch([requests[i].image for i in batch])
            for k, why in failed.items():
                yield batch[k], None, why
            if ready:
                answers = self._generate([requests[batch[k]] for k in ready], images, labels)
                for k, answer in zip(ready, answers):
                    yield batch[k], answer, None

    def _generate(self, requests: Sequence[Request], images: Sequence[Any],
                  labels: dict[str, list[int]]) -> list[dict]:
        import torch

        texts = [self.local.chat_text(r.prompt, img is not None)
                 for r, img in zip(requests, images)]
        with_images = [img for img in images if img is not None]
        if with_images and len(with_images) != len(images):
            # Mixed batches are not something processors agree on: one at a time.
            return [self._generate([r], [img], labels)[0] for r, img in zip(requests, images)]
        inputs = self.local.inputs(texts, with_images)
        model = self.local.model
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
