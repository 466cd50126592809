"""VlmJudge: a vision-language model rates each candidate, or each pair.

Pointwise (`score`, the Metric interface): the template's prompt for each
sample, the judge's answer read as the expected rating over the template's
scale (see answers.py). Pairwise (`compare`): the judge sees two candidates
that share an image and context and says which is better; each pair is
asked in both orders and the two answers are mapped back to P(b better) and
averaged, so a judge that favours one slot gains nothing from it.

Every answer goes through the response cache (ScoreCache blobs) under a key
naming the backend, model, template text, decoding settings and the inputs
(the image by content hash), so nothing is asked twice.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
from tqdm import tqdm

from ..base import (InputError, Metric, MetricError, MetricOutput, Sample, _format_setting,
                    image_digest)
from ..base import implementation
from ..cache import ScoreCache
from .answers import Judgement, interpret
from .local import LocalBackend, resolve_dtype
from .provenance import (PROVENANCE_NAMESPACE, REPORTED_KEY, local_environment, stamp,
                         summarise)
from .served import (DEFAULT_CONCURRENCY, DEFAULT_STOP_AFTER_FAILURES, KEY_ADVICE, Request,
                     ServedBackend)
from .templates import MissingPlaceholder, Template, load_template, sample_fields

log = logging.getLogger(__name__)

DEFAULT_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"
CACHE_NAMESPACE = "vlm_judge/v1"
BACKENDS = ("auto", "local", "served", "batch")


@dataclass
class PairwiseOutput:
    """What `VlmJudge.compare` returns, one entry per pair, in order.

    prob_b_better: P(b is better than a) = (P(b | a in slot A) + P(b | b in
    slot A)) / 2; > 0.5 prefers b, 0.5 is a tie; NaN where either order
    failed (the reason is in `failures`, keyed by pair id).
    per_order: for "ab" (a shown as A, b as B) and "ba" (b shown as A, a as
    B): "prob_b_better" (that order's P(b better)), "used_probabilities"
    (1 where it came from token probabilities, 0 where from the parsed
    answer) and "raw_choice" (the slot the judge wrote: 0 for A, 1 for B).
    signature: the judge's settings behind these numbers.
    """

    ids: list[str]
    prob_b_better: np.ndarray
    failures: dict[str, str] = field(default_factory=dict)
    per_order: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    signature: str = ""

    def __len__(self) -> int:
        return len(self.ids)

    def position_bias(self) -> float:
        """Mean P(the judge picks slot B) minus 0.5 over pairs with both orders
        answered; 0 for a judge without a position preference."""
        ab, ba = self.per_order["ab"]["prob_b_better"], self.per_order["ba"]["prob_b_better"]
        slot_b = np.concatenate([ab, 1.0 - ba])
        slot_b = slot_b[np.isfinite(slot_b)]
        return float(slot_b.mean() - 0.5) if len(slot_b) else math.nan


class VlmJudge(Metric):
    """A vision-language model as judge, local (transformers) or served
    (OpenAI-compatible chat completions). Options are documented in
    docs/vlm_judge.md; strings are accepted for every number and flag so
    that command lines can pass them as typed."""

    name = "vlm_judge"
    needs_image = True
    needs_references = False
    chunk_size = 64

    @classmethod
    def needs_image_before_build(cls, options):
        return None  # its template says

    def __init__(self, template: str = "socratis_reason", pair_template: str = "socratis_pairwise",
                 backend: str = "auto", model: str = DEFAULT_MODEL, model_revision: str | None = None,
                 max_tokens: int = 8,
                 # served
                 base_url: str | Sequence[str] | None = None, api_key_env: str = "OPENAI_API_KEY",
                 max_concurrency: int = DEFAULT_CONCURRENCY, timeout: float = 120.0,
                 max_retries: int = 5, stop_after_failures: int = DEFAULT_STOP_AFTER_FAILURES,
                 backoff_base: float = 1.0, backoff_max: float = 60.0, seed: int = 0,
                 temperature: float = 0.0, logprobs: bool = True, top_logprobs: int = 20,
                 extra_body: Mapping[str, Any] | str | None = None,
                 # local
                 device: str = "cpu", dtype: str = "auto", batch_size: int = 4,
                 # response cache
                 cache_dir: str | None = None, response_cache: bool = True,
                 api_key: Any = None):
        if api_key is not None:
            raise MetricError(f"vlm_judge: api_key is not an option: {KEY_ADVICE}")
        self.template = load_template(template)
        if self.template.pairwise:
            raise MetricError(f"vlm_judge: template {self.template.name!r} is pairwise; "
                              "pass it as pair_template and use VlmJudge.compare")
        self.pair_template = load_template(pair_template)
        if not self.pair_template.pairwise:
            raise MetricError(f"vlm_judge: pair_template {self.pair_template.name!r} does not "
                              "use {candidate_a} and {candidate_b}")
        self.needs_image = self.template.image
        backend = str(backend).lower()
        if backend not in BACKENDS:
            raise MetricError(f"vlm_judge: backend must be one of {', '.join(BACKENDS)}, "
                              f"got {backend!r}")
        if backend == "auto":
            backend = "served" if base_url else "local"
        if backend == "batch" and base_url:
            raise MetricError("vlm_judge: the batch backend reads answers imported from batch "
                              "files and asks no server; drop base_url or use backend=served")
        if backend == "served" and not base_url:
            raise MetricError("vlm_judge: the served backend needs base_url "
                              "(e.g. http://localhost:8000/v1)")
        self.backend_name = backend
        self.model = str(model)
        self.model_revision = model_revision or None
        self.max_tokens = _as_int(max_tokens, "max_tokens", minimum=1)
        if backend == "served":
            self.backend: ServedBackend | LocalBackend = ServedBackend(
                base_url=base_url, model=self.model, api_key_env=str(api_key_env),
                max_concurrency=_as_int(max_concurrency, "max_concurrency", minimum=1),
                timeout=_as_float(timeout, "timeout"),
                max_retries=_as_int(max_retries, "max_retries", minimum=0),
                stop_after_failures=_as_int(stop_after_failures, "stop_after_failures", minimum=0),
                backoff_base=_as_float(backoff_base, "backoff_base"),
                backoff_max=_as_float(backoff_max, "backoff_max"),
                seed=_as_int(seed, "seed"), temperature=_as_float(temperature, "temperature"),
                max_tokens=self.max_tokens, logprobs=_as_bool(logprobs, "logprobs"),
                top_logprobs=_as_int(top_logprobs, "top_logprobs", minimum=0),
                extra_body=_as_dict(extra_body, "extra_body"))
            # Requests overlap only within a chunk: keep every worker busy.
            self.chunk_size = max(type(self).chunk_size, 8 * self.backend.max_concurrency)
        elif backend == "batch":
            from .batch import BatchBackend

            self.backend = BatchBackend(
                model=self.model, seed=_as_int(seed, "seed"),
                temperature=_as_float(temperature, "temperature"), max_tokens=self.max_tokens,
                logprobs=_as_bool(logprobs, "logprobs"),
                top_logprobs=_as_int(top_logprobs, "top_logprobs", minimum=0),
                extra_body=_as_dict(extra_body, "extra_body"))
        else:
            from ..models import resolve_device

            resolved = resolve_device(device)
            self.backend = LocalBackend(
                model=self.model, device=resolved, dtype=resolve_dtype(dtype, resolved),
                batch_size=_as_int(batch_size, "batch_size", minimum=1),
                max_tokens=self.max_tokens, revision=self.model_revision)
            self.backend.check_available()
        self.cache_dir = cache_dir
        self.response_cache = _as_bool(response_cache, "response_cache")
        self._cache: ScoreCache | None = None

    def resolved_device(self) -> str | None:
        """The local backend's device; None for a served judge."""
        return getattr(self.backend, "device", None) if self.backend_name == "local" else None

    # -- signature ------------------------------------------------------------
    def _settings_for(self, template: Template) -> dict[str, Any]:
        # A batch file carries the served client's very request body: the two
        # share answers (and a batch request's custom_id is the served cache key).
        backend = "served" if self.backend_name == "batch" else self.backend_name
        out: dict[str, Any] = {"backend": backend, "model": self.model,
                               "template": template.name,
                               "template_sha256": template.sha256[:16],
                               "score": "expected_rating"}
        if self.model_revision:
            out["model_revision"] = self.model_revision
        out.update(self.backend.decoding())
        return out

    def check_ready(self) -> None:
        """The local backend's weights are cached; a served backend is asked nothing here."""
        if isinstance(self.backend, LocalBackend):
            self.backend.check_available()

    def settings(self) -> dict[str, Any]:
        """Backend, model, template (name and text hash) and decoding settings.

        base_url is left out on purpose: it says where the model runs, not
        which model answers (moving a server must not void a paid-for cache),
        and URLs can carry credentials. Where two servers give one model name
        to different weights, set model_revision to tell them apart. The API
        key is never part of it."""
        return self._settings_for(self.template)

    def pair_signature(self) -> str:
        """The signature behind `compare`'s numbers (the pairwise template's)."""
        settings = self._settings_for(self.pair_template)
        return "|".join([f"{self.name}_pairwise", *implementation(type(self))] + [
            f"{k}={_format_setting(v)}" for k, v in sorted(settings.items())])

    # -- pointwise --------------------------------------------------------------
    def pointwise_requests(self, samples: Sequence[Sample]
                           ) -> tuple[list[Request | None], dict[str, str]]:
        """One request per sample (None where its prompt cannot be filled, the
        reason in the dict by sample id)."""
        failures: dict[str, str] = {}
        requests: list[Request | None] = []
        for s in samples:
            try:
                prompt = self.template.fill(sample_fields(s), s.id)
            except MissingPlaceholder as exc:
                failures[s.id] = str(exc)
                requests.append(None)
                continue
            requests.append(self._request(s.id, self.template, prompt, s.image))
        return requests, failures

    def _score_chunk(self, samples: Sequence[Sample]) -> MetricOutput:
        n = len(samples)
        scores, raw, used, mass = (np.full(n, np.nan) for _ in range(4))
        requests, failures = self.pointwise_requests(samples)
        results = self._ask(requests, self.template)
        for i, (s, result) in enumerate(zip(samples, results)):
            if result is None:
                continue
            if result.error:
                failures[s.id] = result.error
                continue
            scores[i], raw[i], mass[i] = result.score, result.raw_rating, result.rating_mass
            used[i] = 1.0 if result.used_probabilities else 0.0
        parsed_only = int(np.sum(used == 0))
        if parsed_only:
            log.info("vlm_judge: %d of %d scores are parsed ratings, not expected ratings "
                     "(the answer came without token probabilities)", parsed_only, n)
        return MetricOutput(scores, failures, {"raw_rating": raw, "used_probabilities": used,
                                               "rating_mass": mass})

    # -- pairwise -----------------------------------------------------------------
    def compare(self, pairs: Sequence[tuple[str, Sample, Sample]],
                executor: Any = None) -> PairwiseOutput:
        """P(b better than a) for each (pair_id, a, b); a and b must share image and context.

        `executor` (metrics.executors) asks the requests not yet cached: here
        by default, or on Ray actors (`RayExecutor`), `chunk_size` requests
        per task, each answer cached here as its task finishes.
        """
        pairs = list(pairs)
        ids = [str(p[0]) for p in pairs]
        template = self.pair_template
        requests, failures = self.pair_requests(pairs)
        results = self._ask(requests, template, executor)
        return self._pair_output(pairs, ids, failures, results)

    def pair_requests(self, pairs: Sequence[tuple[str, Sample, Sample]]
                      ) -> tuple[list[Request | None], dict[str, str]]:
        """Two requests per pair, orders AB then BA (None, None where the pair
        cannot be asked, the reason in the dict by pair id)."""
        ids = [str(p[0]) for p in pairs]
        seen: set[str] = set()
        for pair_id in ids:
            if pair_id in seen:
                raise InputError(f"duplicate pair id {pair_id!r}: pair ids must be unique")
            seen.add(pair_id)
        template = self.pair_template
        failures: dict[str, str] = {}
        requests: list[Request | None] = []
        for pair_id, a, b in pairs:
            problem = self._pair_problem(pair_id, a, b, template)
            prompts: list[str] = []
            if problem is None:
                fields = sample_fields(a)
                try:
                    for first, second in ((a, b), (b, a)):
                        prompts.append(template.fill(
                            {**fields, "candidate_a": first.candidate,
                             "candidate_b": second.candidate}, str(pair_id)))
                except MissingPlaceholder as exc:
                    problem = str(exc)
            if problem is not None:
                failures[str(pair_id)] = problem
                requests += [None, None]
                continue
            requests += [self._request(f"pair {pair_id} ({order})", template, prompt, a.image)
                         for order, prompt in zip(("ab", "ba"), prompts)]
        return requests, failures

    def _pair_output(self, pairs, ids, failures, results) -> PairwiseOutput:
        n = len(pairs)
        orders = {o: {k: np.full(n, np.nan) for k in ("prob_b_better", "used_probabilities",
                                                      "raw_choice")} for o in ("ab", "ba")}
        for i, pair_id in enumerate(ids):
            errors = []
            for j, order in enumerate(("ab", "ba")):
                result = results[2 * i + j]
                if result is None:
                    continue
                if result.error:
                    errors.append(f"order {order.upper()}: {result.error}")
                    continue
                # The judge's expected slot is P(second shown is better).
                p_b = result.score if order == "ab" else 1.0 - result.score
                orders[order]["prob_b_better"][i] = p_b
                orders[order]["used_probabilities"][i] = float(result.used_probabilities)
                orders[order]["raw_choice"][i] = result.raw_rating
            if errors and pair_id not in failures:
                failures[pair_id] = "; ".join(errors)
        prob = (orders["ab"]["prob_b_better"] + orders["ba"]["prob_b_better"]) / 2.0
        return PairwiseOutput(ids, prob, failures, orders, self.pair_signature())

    def _pair_problem(self, pair_id: str, a: Sample, b: Sample, template: Template) -> str | None:
        for role, s in (("a", a), ("b", b)):
            if not s.candidate or not s.candidate.strip():
                return f"pair {pair_id!r}: sample {role} ({s.id!r}) has an empty candidate"
        shown = [k for k in template.placeholders if k not in ("candidate_a", "candidate_b")]
        differ = [k for k in shown if a.context.get(k) != b.context.get(k)]
        if differ:  # context the prompt does not show (e.g. the generator) may differ
            return (f"pair {pair_id!r}: samples {a.id!r} and {b.id!r} have different contexts "
                    f"({', '.join(differ)})")
        if template.image:
            if not a.image:
                return f"pair {pair_id!r}: no image given"
            if not os.path.isfile(a.image):
                return f"pair {pair_id!r}: image file not found: {a.image}"
            if a.image != b.image and (not b.image or not os.path.isfile(b.image)
                                       or image_digest(a.image) != image_digest(b.image)):
                return f"pair {pair_id!r}: samples {a.id!r} and {b.id!r} have different images"
        return None

    # -- provenance --------------------------------------------------------------------
    def provenance_record(self, template: Template) -> dict[str, Any]:
        """The settings and software behind an answer of this judge under
        `template` (provenance.py). Served: top_p and seed are those sent in
        extra_body, None where the server's default applied (the `seed` option
        only seeds the client's retry waits)."""
        backend = self.backend
        if isinstance(backend, LocalBackend):
            decoding = {"temperature": 0.0, "top_p": None, "max_tokens": self.max_tokens,
                        "seed": None, "greedy": True}
            environment = local_environment(str(backend.device), str(backend.dtype))
            batch_size, concurrency = backend.batch_size, None
        else:
            extra = backend.extra_body
            decoding = {"temperature": backend.temperature, "top_p": extra.get("top_p"),
                        "max_tokens": backend.max_tokens, "seed": extra.get("seed")}
            environment = {}
            batch_size, concurrency = None, getattr(backend, "max_concurrency", None)
        return {"backend": self.backend_name, "model": self.model,
                "model_revision": self.model_revision, "template": template.name,
                "template_sha256": template.sha256, "decoding": decoding,
                "batch_size": batch_size, "max_concurrency": concurrency,
                "environment": environment}

    def provenance_of(self, requests: Sequence[Request | None]) -> dict[str, Any]:
        """Counts of each provenance value over the distinct answers behind
        `requests` that are in the response cache (provenance.summarise)."""
        cache = self._response_cache()
        records = []
        for key in dict.fromkeys(r.key for r in requests if r is not None):
            if cache is None or cache.get_blob(CACHE_NAMESPACE, key) is None:
                continue
            records.append(_loads(cache.get_blob(PROVENANCE_NAMESPACE, key) or "null"))
        return summarise(records)

    def drift_check(self, requests: Sequence[Request | None], template: Template, n: int,
                    seed: int = 0, tolerance: float = 1e-9) -> dict[str, Any]:
        """Ask again `n` randomly chosen requests whose answers are cached,
        without touching the cache, and count how many answers and scores
        changed (a score changes by more than `tolerance`, or becomes or stops
        being NaN)."""
        import random

        if self.backend_name == "batch":
            raise MetricError("vlm_judge: a drift check asks the model again; the batch "
                              "backend asks nothing (use backend=served or local)")
        cache = self._response_cache()
        distinct = list({r.key: r for r in requests if r is not None}.values())
        cached = {r.key: _loads(cache.get_blob(CACHE_NAMESPACE, r.key)) for r in distinct
                  if cache is not None and cache.get_blob(CACHE_NAMESPACE, r.key) is not None}
        pool = [r for r in distinct if r.key in cached]
        chosen = random.Random(seed).sample(pool, min(max(0, int(n)), len(pool)))
        answer_changed, score_changed, failed, largest = [], [], {}, 0.0
        for i, answer, error in self.backend.run(chosen, template):
            request = chosen[i]
            if answer is None:
                failed[request.label] = error or "no answer"
                continue
            answer = {k: v for k, v in answer.items() if k != REPORTED_KEY}
            old, new = cached[request.key], answer
            if json.dumps(old, sort_keys=True) != json.dumps(new, sort_keys=True):
                answer_changed.append(request.label)
            a, b = interpret(old, template).score, interpret(new, template).score
            if math.isnan(a) != math.isnan(b) or (
                    not math.isnan(a) and abs(a - b) > tolerance):
                score_changed.append(request.label)
                if not (math.isnan(a) or math.isnan(b)):
                    largest = max(largest, abs(a - b))
        return {"template": template.name, "cached": len(pool), "checked": len(chosen),
                "seed": seed, "answer_changed": len(answer_changed),
                "score_changed": len(score_changed), "max_abs_score_change": largest,
                "failed": len(failed), "changed": sorted(score_changed)[:20],
                "failures": dict(list(failed.items())[:20])}

    # -- asking, through the response cache -------------------------------------------
    def _request(self, label: str, template: Template, prompt: str, image: str | None) -> Request:
        image = image if template.image else None
        payload = {"settings": self._settings_for(template), "prompt": prompt,
                   "image": image_digest(image) if image else None}
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        return Request(hashlib.sha256(text.encode("utf-8")).hexdigest(), label, prompt, image)

    def attach_cache(self, cache: ScoreCache) -> None:
        """Keep responses in the run's cache unless `cache_dir` names another."""
        if self.response_cache and self.cache_dir is None:
            self._cache = cache

    def _response_cache(self) -> ScoreCache | None:
        if self.response_cache and self._cache is None:
            self._cache = ScoreCache(self.cache_dir) if self.cache_dir else ScoreCache()
        return self._cache

    def _ask(self, requests: Sequence[Request | None], template: Template,
             executor: Any = None) -> list[Judgement | None]:
        """One Judgement per request (None stays None); cached answers are
        read, the rest asked once per distinct key and cached as they come."""
        cache = self._response_cache()
        judged: dict[str, Judgement | None] = {}
        errors: dict[str, str] = {}
        todo: dict[str, Request] = {}
        for r in requests:
            if r is None or r.key in judged or r.key in todo:
                continue
            stored = cache.get_blob(CACHE_NAMESPACE, r.key) if cache else None
            judgement = _judge_safely(_loads(stored), template) if stored is not None else None
            if judgement is not None:
                judged[r.key] = judgement
            else:  # not cached, or cached by an older version in a form that no longer reads
                todo[r.key] = r
        if todo:
            record = self.provenance_record(template)
            pending = list(todo.values())
            bar = tqdm(total=len(pending), desc=f"{self.name} ({self.backend_name})",
                       unit="request", disable=None, leave=False)
            try:
                answers = (self.backend.run(pending, template) if executor is None else
                           executor.run_requests(self.backend, pending, template,
                                                 self.chunk_size))
                for i, answer, error in answers:
                    key = pending[i].key
                    if answer is None:
                        errors[key] = error or "no answer"
                    else:
                        reported = (answer.pop(REPORTED_KEY, None)
                                    if isinstance(answer, dict) else None)
                        judged[key] = _judge_safely(answer, template)
                        # Only an answer that was read without crashing is kept.
                        if cache and judged[key] is not None:
                            cache.put_blob(CACHE_NAMESPACE, key,
                                           json.dumps(answer, ensure_ascii=False))
                            cache.put_blob(PROVENANCE_NAMESPACE, key,
                                           stamp(record, self.backend_name, reported))
                    bar.update(1)
            finally:
                bar.close()
        out: list[Judgement | None] = []
        for r in requests:
            if r is None:
                out.append(None)
            elif judged.get(r.key) is not None:
                out.append(judged[r.key])
            elif r.key in judged:
                out.append(Judgement(error="the judge's answer could not be read"))
            else:
                out.append(Judgement(error=errors.get(r.key, "no answer")))
        return out


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _judge_safely(answer: Any, template: Template) -> Judgement | None:
    """The answer's Judgement, or None when reading it crashed (a bug:
    logged, and the answer is neither used nor cached)."""
    if answer is None:
        return None
    try:
        return interpret(answer, template)
    except Exception:
        log.exception("vlm_judge: reading an answer failed; it is not cached")
        return None


def _as_int(value: Any, name: str, minimum: int | None = None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise MetricError(f"vlm_judge: {name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise MetricError(f"vlm_judge: {name} must be at least {minimum}, got {number}")
    return number


def _as_float(value: Any, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MetricError(f"vlm_judge: {name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise MetricError(f"vlm_judge: {name} must be a finite number >= 0, got {value!r}")
    return number


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise MetricError(f"vlm_judge: {name} must be true or false, got {value!r}")


def _as_dict(value: Any, name: str) -> dict:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise MetricError(f"vlm_judge: {name} must be a JSON object, got {value!r}") from None
    if not isinstance(value, Mapping):
        raise MetricError(f"vlm_judge: {name} must be a JSON object, got {value!r}")
    return dict(value)
