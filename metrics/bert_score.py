"""BERTScore through the bert-score package (Tiiiger/bert_score).

Zhang, Kishore, Wu, Weinberger and Artzi 2020, "BERTScore: Evaluating Text
Generation with BERT" (ICLR; arXiv:1904.09675). The numbers are bert-score's
own: the metric holds one `bert_score.BERTScorer` (model kept between calls)
and hands it the candidates and their reference lists.

- Defaults are bert-score's for English: roberta-large, layer 17, no idf, no
  baseline rescaling. The score is F1; P and R are kept as extras.
- Several references: bert-score scores the candidate against each and keeps
  the best (max, per P, R and F separately), as `bert_score.score` does with a
  list of reference lists. Empty references are ignored.
- idf: weights come from the references of the call (bert-score's
  `get_idf_dict` over every reference of every sample), so a sample's score
  depends on the other samples; the metric is then corpus-dependent and
  always scores (and caches) the whole call at once.
- One call, one bert-score call: bert-score embeds the distinct sentences of
  a call in length-sorted, padded batches, so a sentence's embedding (and a
  score, by up to ~1e-3) depends on the other sentences of the call. The
  whole call is therefore scored at once, each distinct sentence embedded
  once, and its F1 equals `bert_score.score` on the same samples whatever
  the chunk size; the chunks only hand the results to the score cache.
- Baseline rescaling: bert-score ships baseline files per Hub model name, in
  its package at `rescale_baseline/<lang>/<model>.tsv`. For a local model
  folder, or a model without a shipped file, pass `baseline_path`.
- RoBERTa/GPT-2 tokenisation: bert-score 0.3.13 asks the tokenizer for a
  leading space on each sentence (`add_prefix_space=True` in `sent_encode`).
  transformers 5 ignores that per-call argument, which silently changes the
  first token of every sentence; here such tokenizers are loaded with
  `add_prefix_space=True` instead, giving bert-score's tokenisation (and the
  numbers its published baselines were computed with) again. Nothing changes
  where the per-call argument still works.
"""
from __future__ import annotations

import logging
import os
import warnings
from typing import Any, Sequence

import numpy as np

from .base import Metric, MetricError, MetricOutput, Sample
from .models import hf_model_source, path_digest, resolve_device, transformers_fetch_command

log = logging.getLogger(__name__)

DEFAULT_MODEL = "roberta-large"


def _baseline_file(lang: str, model: str) -> str:
    import bert_score

    return os.path.join(os.path.dirname(bert_score.__file__), "rescale_baseline", lang,
                        f"{model}.tsv")


class BertScore(Metric):
    """BERTScore F1 of the candidate against its references (best reference).

    Options:
      model: a Hub name bert-score knows (default roberta-large) or a local
        model folder (config, weights and tokenizer files).
      num_layers: the layer whose embeddings are matched; default bert-score's
        tuned layer for Hub names (17 for roberta-large); required for a
        local folder.
      idf: weight tokens by idf over the call's references (corpus-dependent).
      rescale_with_baseline: rescale P/R/F with bert-score's baseline for
        (lang, model); `baseline_path` gives the file for other models.
      lang: language of the baseline file ("en").
      batch_size: sentences per forward pass (64).
      device: "cpu" (default), "cuda", "mps" or "auto".
      use_fast_tokenizer: bert-score's option (False).
      nthreads: processes for the idf count (0: none, which is safe after
        torch has started threads; the counts are the same).
      cache_dir: Hugging Face cache folder to look in for a Hub name.

    Extras: "P" and "R".
    """

    name = "bertscore"
    whole_call = True  # see "One call, one bert-score call" above
    needs_references = True

    def __init__(self, model: str = DEFAULT_MODEL, num_layers: int | None = None,
                 idf: bool = False, rescale_with_baseline: bool = False,
                 baseline_path: str | None = None, lang: str = "en", batch_size: int = 64,
                 device: str = "cpu", use_fast_tokenizer: bool = False, nthreads: int = 0,
                 cache_dir: str | None = None):
        from bert_score.utils import model2layers

        self.model_name = model
        self.is_local = os.path.isdir(os.path.expanduser(model))
        if num_layers is None:
            if self.is_local:
                raise MetricError(
                    f"{self.name}: num_layers is required for a local model folder "
                    f"({model}); bert-score's tuned layers are known for Hub names only")
            if model not in model2layers:
                raise MetricError(
                    f"{self.name}: bert-score has no tuned layer for {model!r}; pass num_layers")
            num_layers = model2layers[model]
        if int(num_layers) < 0 or int(batch_size) < 1:
            raise MetricError(f"{self.name}: num_layers must be >= 0 and batch_size >= 1")
        self.num_layers = int(num_layers)
        self.idf = bool(idf)
        self.corpus_dependent = self.idf
        self.rescale_with_baseline = bool(rescale_with_baseline)
        self.lang = lang
        self.batch_size = int(batch_size)
        self.device = device
        self.use_fast_tokenizer = bool(use_fast_tokenizer)
        self.nthreads = int(nthreads)
        self.cache_dir = cache_dir
        self.baseline_path = None
        if self.rescale_with_baseline:
            self.baseline_path = self._resolve_baseline(baseline_path)
        elif baseline_path is not None:
            raise MetricError(f"{self.name}: baseline_path is used only with "
                              "rescale_with_baseline=True")
        self._scorer = None
        self._results: dict[str, tuple[float, float, float]] = {}

    def _resolve_baseline(self, baseline_path: str | None) -> str:
        if baseline_path is not None:
            if not os.path.isfile(baseline_path):
                raise MetricError(f"{self.name}: baseline file not found: {baseline_path}")
            return baseline_path
        shipped = _baseline_file(self.lang, self.model_name)
        if self.is_local or not os.path.isfile(shipped):
            raise MetricError(
                f"{self.name}: rescale_with_baseline needs a baseline file. bert-score ships "
                f"them per Hub model name as {os.path.dirname(shipped)}{os.sep}<model>.tsv; "
                f"none for {self.model_name!r}. Pass baseline_path= (a TSV with columns "
                "LAYER,P,R,F, one row per layer) -- for a local copy of a Hub model, the "
                "shipped file of that model name")
        return shipped

    def settings(self) -> dict[str, Any]:
        from importlib.metadata import version

        import transformers

        model = self.model_name
        if self.is_local:
            model = f"dir-sha256:{path_digest(os.path.expanduser(model))[:16]}"
        # the distribution's version: bert_score.__version__ says 0.3.12 in 0.3.13
        out = {"impl": f"bert-score-{version('bert-score')}",
               "transformers": transformers.__version__, "model": model,
               "num_layers": self.num_layers, "idf": self.idf,
               "rescale_with_baseline": self.rescale_with_baseline}
        if self.rescale_with_baseline:
            out["baseline"] = (os.path.basename(self.baseline_path) if self.baseline_path ==
                               _baseline_file(self.lang, self.model_name)
                               else f"file-sha256:{path_digest(self.baseline_path)[:16]}")
            out["lang"] = self.lang
        if self.use_fast_tokenizer:
            out["use_fast_tokenizer"] = True
        return out

    # -- model ---------------------------------------------------------------
    def _fetch_hint(self) -> str:
        return transformers_fetch_command(self.model_name, "AutoModel")

    def check_ready(self) -> None:
        self._check_layers(hf_model_source(self.model_name, self.name, self._fetch_hint(),
                                           cache_dir=self.cache_dir))

    def _check_layers(self, source: str) -> None:
        """A MetricError when the model has fewer layers than num_layers (bert-score's
        own check is an assert, gone under python -O, and then every layer is used)."""
        from transformers import AutoConfig

        try:
            layers = getattr(AutoConfig.from_pretrained(source, cache_dir=self.cache_dir),
                             "num_hidden_layers", None)
        except (OSError, ValueError):
            return  # no config to read here: loading the model says why
        if isinstance(layers, int) and self.num_layers > layers:
            raise MetricError(f"{self.name}: num_layers={self.num_layers}, but {self.model_name!r} "
                              f"has {layers} layers: give num_layers between 0 and {layers}")

    def _load(self):
        if self._scorer is not None:
            return self._scorer
        from bert_score import BERTScorer

        device = resolve_device(self.device)
        source = hf_model_source(self.model_name, self.name, self._fetch_hint(),
                                 cache_dir=self.cache_dir)
        self._check_layers(source)
        log.info("%s: loading %s (layer %s) from %s on %s", self.name, self.model_name,
                 self.num_layers, source, device)
        try:
            scorer = BERTScorer(
                model_type=source, num_layers=self.num_layers, batch_size=self.batch_size,
                nthreads=self.nthreads, idf=self.idf, device=device,
                lang=self.lang if self.rescale_with_baseline else None,
                rescale_with_baseline=self.rescale_with_baseline,
                baseline_path=self.baseline_path, use_fast_tokenizer=self.use_fast_tokenizer)
        except OSError as exc:
            raise MetricError(f"{self.name}: could not load {self.model_name!r} from {source}: "
                              f"{exc}. Fetch it with: {self._fetch_hint()}") from exc
        if not self.use_fast_tokenizer:
            scorer._tokenizer = _with_prefix_space(scorer._tokenizer, source,
                                                   self.use_fast_tokenizer)
        self._scorer = scorer
        return scorer

    # -- scoring -------------------------------------------------------------
    def _prepare(self, samples: Sequence[Sample]) -> None:
        # bert-score's numbers depend on which sentences share a call (they
        # are embedded in length-sorted, padded batches), so the whole call is
        # scored at once, as one bert_score.score on every sample would, and
        # the chunks only hand out the results.
        self._results = {}
        if samples:
            p, r, f = self._bert_score(samples)
            self._results = {s.id: (p[i], r[i], f[i]) for i, s in enumerate(samples)}

    def _bert_score(self, samples: Sequence[Sample]):
        scorer = self._load()
        cands = [s.candidate for s in samples]
        refs = [[r for r in s.references if r and r.strip()] for s in samples]
        if self.idf:
            # as bert_score.score(idf=True): idf over the flattened reference lists
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Overwriting the previous")
                scorer.compute_idf([r for group in refs for r in group])
        p, r, f = scorer.score(cands, refs, batch_size=self.batch_size)
        return p.numpy(), r.numpy(), f.numpy()

    def _score_chunk(self, samples: Sequence[Sample]) -> MetricOutput:
        results = self._results
        if not all(s.id in results for s in samples):
            p, r, f = self._bert_score(samples)
        else:
            rows = [results.pop(s.id) for s in samples]  # handed out once, then dropped
            p, r, f = (np.array([row[k] for row in rows]) for k in range(3))
        return MetricOutput(f, {}, {"P": p, "R": r})


def _with_prefix_space(tokenizer, source: str, use_fast: bool):
    """bert-score's RoBERTa/GPT-2 tokenisation: a space before each sentence."""
    from transformers import AutoTokenizer, GPT2Tokenizer, RobertaTokenizer

    if not isinstance(tokenizer, (GPT2Tokenizer, RobertaTokenizer)):
        return tokenizer
    probe = "a"
    asked = tokenizer.encode(probe, add_special_tokens=False, add_prefix_space=True)
    if asked == tokenizer.encode(" " + probe, add_special_tokens=False):
        return tokenizer  # the per-call argument works, as bert-score expects
    fixed = AutoTokenizer.from_pretrained(source, use_fast=use_fast, add_prefix_space=True)
    if fixed.encode(probe, add_special_tokens=False) != tokenizer.encode(
            " " + probe, add_special_tokens=False):
        log.warning("bertscore: could not make the tokenizer of %s add a prefix space; "
                    "scores may differ from bert-score under transformers 4", source)
        return tokenizer
    log.info("bertscore: tokenizer of %s loaded with add_prefix_space=True "
             "(transformers ignores bert-score's per-call argument)", source)
    return fixed
