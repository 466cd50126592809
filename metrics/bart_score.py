"""BARTScore: how likely a seq2seq model finds one text given another.

Yuan, Neubig and Liu 2021, "BARTScore: Evaluating Generated Text as Text
Generation" (NeurIPS; arXiv:2106.11520). Conventions follow the authors'
code, neulab/BARTScore (`bart_score.py`, `SUM/score.py`):

- Score of x -> y: the mean log-likelihood of y's tokens given x,
  (1/|y|) sum_t log p(y_t | y_<t, x), with |y| counting every target token
  the tokenizer makes, <s> and </s> included (the reference divides the
  summed NLL by the target attention mask). Higher is better; values are
  negative. Default model facebook/bart-large-cnn ("BARTScore-CNN").
- Texts are truncated to `max_length` = 1024 tokens as in the reference (and
  to the model's position limit if that is smaller); how many were cut is
  logged and kept per sample in the `truncated` extra.
- Directions (Sec. 3.3 of the paper):
    "source":    source -> candidate (faithfulness, s -> h),
    "precision": reference -> candidate (r -> h),
    "recall":    candidate -> reference (h -> r),
    "f":         the arithmetic mean of precision and recall (the paper's F
                 score, "avg_f" in the reference code). Default.
- Several references: each direction takes its max over the references, then
  F averages the two maxima -- the reference code's `*_max` / `avg_f_max`
  variant and its README's `multi_ref_score(..., agg="max")`. Its
  `multi_ref_score` function defaults to agg="mean"; `ref_agg="mean"` gives
  that instead. Empty references are ignored.
- Source text: `sample.context["source"]` if present, else
  `sample.context["caption"]`. For Socratis the caption is the text that goes
  with the image whose emotion the candidate explains, so "source" scores how
  well the reason follows from the caption. `source_key` picks another field.

Padding does not change a score: encoder padding is masked, and targets are
padded on the right, where the causal decoder cannot see them.
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np

from .base import Metric, MetricError, MetricOutput, Sample
from .models import hf_model_source, path_digest, resolve_device, transformers_fetch_command

log = logging.getLogger(__name__)

DEFAULT_MODEL = "facebook/bart-large-cnn"
DEFAULT_MAX_LENGTH = 1024  # BARTScorer(max_length=1024)

_DIRECTIONS = {
    "f": "f", "avg_f": "f", "fscore": "f",
    "precision": "precision", "p": "precision", "ref_hypo": "precision",
    "recall": "recall", "r": "recall", "hypo_ref": "recall",
    "source": "source", "src": "source", "faithfulness": "source", "src_hypo": "source",
}
_SOURCE_KEYS = ("source", "caption")


class BartScore(Metric):
    """BARTScore of the candidate in one direction (see the module docstring).

    Options:
      model: a Hub name or a local folder with a seq2seq model and its
        tokenizer (default facebook/bart-large-cnn).
      direction: "f" (default), "precision", "recall" or "source".
      ref_agg: "max" (default) or "mean" over several references.
      max_length: tokens each text is cut to (1024).
      source_key: the context field holding the source (default: "source",
        else "caption").
      batch_size: (source, target) pairs per forward pass.
      device: "cpu" (default), "cuda", "mps" or "auto".
      cache_dir: Hugging Face cache folder (default: the standard one).

    Extras: "P" and "R" for direction "f"; "truncated" (1 when a text of the
    sample was cut to max_length).
    """

    name = "bartscore"

    def __init__(self, model: str = DEFAULT_MODEL, direction: str = "f", ref_agg: str = "max",
                 max_length: int = DEFAULT_MAX_LENGTH, source_key: str | None = None,
                 batch_size: int = 8, device: str = "cpu", cache_dir: str | None = None):
        key = str(direction).lower()
        if key not in _DIRECTIONS:
            raise MetricError(f"{self.name}: direction must be one of f, precision, recall, "
                              f"source (not {direction!r})")
        if ref_agg not in ("max", "mean"):
            raise MetricError(f"{self.name}: ref_agg must be 'max' or 'mean', not {ref_agg!r}")
        if int(max_length) < 2 or int(batch_size) < 1:
            raise MetricError(f"{self.name}: max_length must be >= 2 and batch_size >= 1")
        self.model_name = model
        self.direction = _DIRECTIONS[key]
        self.ref_agg = ref_agg
        self.max_length = int(max_length)
        self.source_key = source_key
        self.batch_size = int(batch_size)
        self.device = device
        self.cache_dir = cache_dir
        self.needs_references = self.direction != "source"
        self._model = None
        self._tokenizer = None
        self._memo: dict[tuple[str, str], tuple[float, bool]] = {}

    def settings(self) -> dict[str, Any]:
        import os

        import transformers

        model = self.model_name
        if os.path.isdir(os.path.expanduser(model)):
            model = f"dir-sha256:{path_digest(os.path.expanduser(model))[:16]}"
        out = {"impl": f"transformers-{transformers.__version__}", "model": model,
               "direction": self.direction, "max_length": self.max_length}
        if self.direction != "source":
            out["ref_agg"] = self.ref_agg
        else:
            out["source_key"] = self.source_key or "source|caption"
        return out

    # -- model ---------------------------------------------------------------
    def _fetch_hint(self) -> str:
        return transformers_fetch_command(self.model_name, "AutoModelForSeq2SeqLM")

    def check_ready(self) -> None:
        hf_model_source(self.model_name, self.name, self._fetch_hint(), cache_dir=self.cache_dir)

    def _load(self):
        if self._model is not None:
            return self._model, self._tokenizer
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        device = resolve_device(self.device)
        source = hf_model_source(self.model_name, self.name, self._fetch_hint(),
                                 cache_dir=self.cache_dir)
        log.info("%s: loading %s from %s on %s", self.name, self.model_name, source, device)
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, cache_dir=self.cache_dir)
            model = AutoModelForSeq2SeqLM.from_pretrained(source, cache_dir=self.cache_dir)
        except OSError as exc:
            raise MetricError(f"{self.name}: could not load {self.model_name!r} from {source}: "
                              f"{exc}. Fetch it with: {self._fetch_hint()}") from exc
        if tokenizer.pad_token_id is None:
            raise MetricError(f"{self.name}: the tokenizer of {self.model_name!r} has no pad token")
        model.eval()
        model.to(device)
        self._device = device
        self._model, self._tokenizer = model, tokenizer
        limit = getattr(model.config, "max_position_embeddings", None)
        self._max_len = min(self.max_length, limit) if limit else self.max_length
        return model, tokenizer

    # -- scoring -------------------------------------------------------------
    def _prepare(self, samples: Sequence[Sample]) -> None:
        self._memo = {}
        if samples:
            self._load()

    def _source(self, sample: Sample) -> str | None:
        keys = (self.source_key,) if self.source_key else _SOURCE_KEYS
        for key in keys:
            text = sample.context.get(key)
            if text and text.strip():
                return text
        return None

    def log_likelihood(self, pairs: Sequence[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
        """Mean token log-likelihood of each target given its source, and
        whether either text was truncated. Each distinct pair is run once."""
        import torch

        model, tokenizer = self._load()
        new = [p for p in dict.fromkeys(pairs) if p not in self._memo]
        if new:
            texts = list(dict.fromkeys(t for p in new for t in p))
            lengths = dict(zip(texts, (len(ids) for ids in tokenizer(texts)["input_ids"])))
            # longest first, so each batch pads little
            new.sort(key=lambda p: (lengths[p[0]] + lengths[p[1]], p), reverse=True)
            pad = tokenizer.pad_token_id
            with torch.inference_mode():
                for i in range(0, len(new), self.batch_size):
                    batch = new[i:i + self.batch_size]
                    enc = tokenizer([s for s, _ in batch], max_length=self._max_len,
                                    truncation=True, padding=True, return_tensors="pt")
                    tgt = tokenizer([t for _, t in batch], max_length=self._max_len,
                                    truncation=True, padding=True, return_tensors="pt")
                    labels = tgt["input_ids"].to(self._device)
                    decoder_in = _shift_right(model, labels, pad)
                    logits = model(input_ids=enc["input_ids"].to(self._device),
                                   attention_mask=enc["attention_mask"].to(self._device),
                                   decoder_input_ids=decoder_in).logits.float()
                    logp = torch.log_softmax(logits, dim=-1)
                    token_lp = logp.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
                    keep = labels.ne(pad).float()
                    n_tokens = tgt["attention_mask"].to(self._device).sum(dim=1).float()
                    means = (token_lp * keep).sum(dim=1) / n_tokens
                    for (s, t), value in zip(batch, means.cpu().numpy()):
                        cut = lengths[s] > self._max_len or lengths[t] > self._max_len
                        self._memo[(s, t)] = (float(value), cut)
            cut_now = sum(self._memo[p][1] for p in new)
            if cut_now:
                log.warning("%s: %d of %d text pairs had a text longer than %d tokens, "
                            "truncated as BARTScore does (see the 'truncated' extra)",
                            self.name, cut_now, len(new), self._max_len)
        values = np.array([self._memo[p][0] for p in pairs], dtype=float)
        cuts = np.array([self._memo[p][1] for p in pairs], dtype=bool)
        return values, cuts

    def _aggregate(self, values: np.ndarray) -> float:
        return float(np.max(values) if self.ref_agg == "max" else np.mean(values))

    def _score_chunk(self, samples: Sequence[Sample]) -> MetricOutput:
        scores = np.full(len(samples), np.nan)
        truncated = np.zeros(len(samples))
        failures: dict[str, str] = {}
        if self.direction == "source":
            pairs, rows = [], []
            for i, s in enumerate(samples):
                src = self._source(s)
                if src is None:
                    keys = self.source_key or "'source' or 'caption'"
                    failures[s.id] = f"sample {s.id!r}: no source text (context {keys})"
                    continue
                pairs.append((src, s.candidate))
                rows.append(i)
            if pairs:
                values, cuts = self.log_likelihood(pairs)
                scores[rows] = values
                truncated[rows] = cuts
            return MetricOutput(scores, failures, {"truncated": truncated})

        refs = [[r for r in s.references if r and r.strip()] for s in samples]
        want_p = self.direction in ("precision", "f")
        want_r = self.direction in ("recall", "f")
        pairs = []
        for s, group in zip(samples, refs):
            for r in group:
                if want_p:
                    pairs.append((r, s.candidate))
                if want_r:
                    pairs.append((s.candidate, r))
        values, cuts = self.log_likelihood(pairs)
        p = np.full(len(samples), np.nan)
        r_ = np.full(len(samples), np.nan)
        k = 0
        for i, group in enumerate(refs):
            n = len(group) * (int(want_p) + int(want_r))
            part, part_cut = values[k:k + n], cuts[k:k + n]
            k += n
            step = int(want_p) + int(want_r)
            if want_p:
                p[i] = self._aggregate(part[0::step])
            if want_r:
                r_[i] = self._aggregate(part[step - 1::step])
            truncated[i] = float(part_cut.any())
        extras = {"truncated": truncated}
        if self.direction == "precision":
            scores = p
        elif self.direction == "recall":
            scores = r_
        else:
            scores = (p + r_) / 2.0
            extras.update({"P": p, "R": r_})
        return MetricOutput(scores, failures, extras)


def _shift_right(model, labels, pad: int):
    """Decoder inputs for teacher forcing: the start token, then labels[:-1]
    (what BART builds from `labels=` in the reference code)."""
    prepare = getattr(model, "prepare_decoder_input_ids_from_labels", None)
    if callable(prepare):
        return prepare(labels=labels)
    start = model.config.decoder_start_token_id
    if start is None:
        raise MetricError("the model config has no decoder_start_token_id")
    out = labels.new_full(labels.shape, pad)
    out[:, 1:] = labels[:, :-1]
    out[:, 0] = start
    return out
