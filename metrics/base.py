"""The one metric interface: samples in, one float per sample out.

`Sample` is what a metric reads, `Metric` is what every metric family
implements, and `MetricOutput` is what it returns. A sample the metric cannot
score is NaN with a reason in `MetricOutput.failures`; it is never dropped.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np


class MetricError(Exception):
    """A metric cannot run at all (missing weights, missing jars, bad option)."""


class InputError(ValueError):
    """The samples handed to a metric are malformed (duplicate ids, ...)."""


@dataclass(frozen=True)
class Sample:
    """One candidate text to score.

    id: unique within a scoring call (benchmarks document how they build it).
    candidate: the text being judged (a caption, a Socratis reason).
    references: human-written texts the candidate is compared against.
    image: path to the image, for metrics that look at it.
    context: extra inputs, e.g. {"caption": ..., "emotion": ...} for Socratis.
    """

    id: str
    candidate: str
    references: tuple[str, ...] = ()
    image: str | None = None
    context: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.references, tuple):
            object.__setattr__(self, "references", tuple(self.references))


@dataclass
class MetricOutput:
    """Scores for a list of samples, in the order they were given.

    scores: one float per sample; NaN where the metric could not score it.
    failures: sample id -> why it is NaN.
    extras: named per-sample arrays (BERTScore P/R, a judge's raw rating).
    corpus_score: a corpus-level score where the metric defines one (BLEU).
    """

    scores: np.ndarray
    failures: dict[str, str] = field(default_factory=dict)
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    corpus_score: float | None = None

    def __post_init__(self) -> None:
        self.scores = _per_sample_numbers(self.scores, "scores")
        self.extras = {k: _per_sample_numbers(v, f"extra {k!r}") for k, v in self.extras.items()}

    def __len__(self) -> int:
        return len(self.scores)

    @staticmethod
    def concatenate(parts: Sequence["MetricOutput"]) -> "MetricOutput":
        """Join outputs of consecutive chunks (the corpus score is not kept)."""
        if not parts:
            return MetricOutput(np.zeros(0))
        names = set().union(*(p.extras for p in parts))
        extras = {}
        for name in sorted(names):
            extras[name] = np.concatenate(
                [p.extras.get(name, np.full(len(p), np.nan)) for p in parts]
            )
        failures: dict[str, str] = {}
        for p in parts:
            failures.update(p.failures)
        return MetricOutput(np.concatenate([p.scores for p in parts]), failures, extras)


def _per_sample_numbers(values: Any, what: str) -> np.ndarray:
    """`values` as a 1-D float array; text (never read as a number, even "0.5") or
    any other shape than one number per sample is a ValueError saying what was found."""
    array = np.asarray(values)
    if array.dtype.kind in "USO":
        text = next((v for v in array.ravel() if isinstance(v, (str, bytes))), None)
        if text is not None:
            text = str(text) if isinstance(text, str) else bytes(text)  # not numpy's str_
            raise ValueError(f"MetricOutput {what} must be numbers, found text {text!r}")
    array = np.asarray(array, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"MetricOutput {what} must be one number per sample (shape (n,)), "
                         f"found shape {array.shape}")
    return array


class Metric(ABC):
    """A scoring function over samples.

    Subclasses set `name`, `needs_image`, `needs_references`, return every
    setting that changes a number from `settings()`, and implement
    `_score_chunk`. Metrics whose per-sample score depends on the other samples
    of the call (CIDEr's document frequencies) set `corpus_dependent = True`:
    they are always scored, and cached, as one whole call. Metrics whose
    numbers change, within float rounding, with which samples share a call
    (bert-score embeds a call's sentences in padded batches) set
    `whole_call = True`: an executor never splits such a call between
    workers, and the results are still handed out, and cached, by chunk.
    """

    name: str = ""
    needs_image: bool = False
    needs_references: bool = False
    corpus_dependent: bool = False
    whole_call: bool = False
    chunk_size: int = 1000

    @classmethod
    def needs_image_before_build(cls, options: dict[str, Any]) -> bool | None:
        """Whether this metric, built with `options`, scores against images, where that
        is known before it is built (a run then checks the images before a model is
        imported or loaded); None where only the built metric knows."""
        return cls.needs_image

    def settings(self) -> dict[str, Any]:
        """Every setting that changes this metric's numbers."""
        return {}

    def check_ready(self) -> None:
        """Raise MetricError saying why this metric cannot run on this machine (missing
        weights, no Java), without loading anything heavy; a metric with nothing to
        check returns."""

    def resolved_device(self) -> str | None:
        """The device this metric computes on ("cpu", "cuda", "mps", ...), with
        "auto" resolved; None for metrics that use none (n-gram metrics, a
        served judge). Runs record it; it is not part of the signature."""
        device = getattr(self, "device", None)
        if device is None:
            return None
        from .models import resolve_device

        return resolve_device(device)

    def signature(self) -> str:
        """A stable string naming the metric, the code that computes it
        (`implementation`) and every setting behind a number."""
        parts = [self.name, *implementation(type(self))] + [
            f"{k}={_format_setting(v)}" for k, v in sorted(self.settings().items())
        ]
        return "|".join(parts)

    def score(self, samples: Sequence[Sample], *, images_checked: bool = False) -> MetricOutput:
        """Score `samples`; one float per sample, in order (`images_checked`: see `iter_score`)."""
        samples = list(samples)
        parts = [out for _, _, out in self.iter_score(samples, images_checked=images_checked)]
        output = MetricOutput.concatenate(parts)
        if len(parts) == 1:
            output.corpus_score = parts[0].corpus_score
        return output

    def chunk_bounds(self, n: int) -> list[tuple[int, int]]:
        """The (start, stop) chunks a call of `n` samples is scored in: the whole
        call for a corpus-dependent metric, else `chunk_size` samples at a time."""
        if self.corpus_dependent:
            return [(0, n)]
        return [(i, min(i + self.chunk_size, n)) for i in range(0, n, self.chunk_size)]

    def iter_score(self, samples: Sequence[Sample], *, images_checked: bool = False
                   ) -> Iterator[tuple[int, int, MetricOutput]]:
        """Yield (start, stop, output) for consecutive chunks of `samples`.

        Chunks let the score cache write results as they are computed, so a
        killed run loses at most one chunk. `images_checked`: the caller ran
        `check_images` on the whole set these samples are part of (the score
        cache scores only the samples it lacks).
        """
        samples = list(samples)
        check_unique_ids(samples)
        check_text(samples)
        if not images_checked:
            self.check_images(samples)
        scorable, failures = self._screen(samples)
        self._prepare([s for s, ok in zip(samples, scorable) if ok])
        for start, stop in self.chunk_bounds(len(samples)):
            idx = [i for i in range(start, stop) if scorable[i]]
            scores = np.full(stop - start, np.nan)
            chunk_failures = {samples[i].id: failures[samples[i].id]
                              for i in range(start, stop) if not scorable[i]}
            out = MetricOutput(scores, chunk_failures)
            if idx:
                inner = self._score_checked([samples[i] for i in idx])
                local = [i - start for i in idx]
                out.scores[local] = inner.scores
                out.failures.update(inner.failures)
                for name, values in inner.extras.items():
                    full = np.full(stop - start, np.nan)
                    full[local] = values
                    out.extras[name] = full
                out.corpus_score = inner.corpus_score
            yield start, stop, out

    def _score_checked(self, chunk: list[Sample]) -> "MetricOutput":
        """`_score_chunk`, held to its contract (a MetricOutput with one score per
        sample): a breach is a MetricError naming the metric, where it comes from and
        what it returned. An exception a metric from outside this package (a plugin)
        raises is one too, naming the samples; the chunks scored before stay cached."""
        try:
            inner = self._score_chunk(chunk)
        except (MetricError, InputError):
            raise
        except Exception as exc:
            from .cache import CacheWriteError

            built_in = type(self).__module__.split(".")[0] == "metrics"
            if built_in or isinstance(exc, CacheWriteError):  # a bug here keeps its traceback
                raise
            raise MetricError(f"{self._origin()} raised {type(exc).__name__} on samples "
                              f"{chunk[0].id!r}..{chunk[-1].id!r}: {exc}") from exc
        if not isinstance(inner, MetricOutput):
            raise MetricError(f"{self._origin()} returned {type(inner).__name__} "
                              f"{str(inner)[:60]!r}, not a MetricOutput")
        if inner.scores.ndim != 1 or len(inner) != len(chunk):
            raise MetricError(f"{self._origin()} returned scores of shape "
                              f"{inner.scores.shape} for {len(chunk)} samples (one per sample)")
        return inner

    def _origin(self) -> str:
        """'metric NAME (SOURCE)': built-in, a plugin and its module or package, or a class."""
        from .registry import list_metrics, metric_source

        source = (metric_source(self.name) if self.name in list_metrics() else
                  f"class {type(self).__module__}.{type(self).__qualname__}")
        return f"metric {self.name!r} ({source})"

    def _screen(self, samples: Sequence[Sample]) -> tuple[list[bool], dict[str, str]]:
        """Mark samples this metric cannot score, with the reason."""
        ok = [True] * len(samples)
        failures: dict[str, str] = {}
        for i, s in enumerate(samples):
            reason = None
            if not s.candidate or not s.candidate.strip():
                reason = "empty candidate"
            elif self.needs_references and not [r for r in s.references if r and r.strip()]:
                reason = "no references (this metric needs at least one)"
            elif self.needs_image:
                if not s.image:
                    reason = "no image given"
                elif not os.path.isfile(s.image):
                    reason = f"image file not found: {s.image}"
            if reason:
                ok[i] = False
                failures[s.id] = reason
        return ok, failures

    def check_images(self, samples: Sequence[Sample]) -> None:
        """For an image metric, an InputError when not one of the samples' images
        exists (a wrong image root, not a few missing files: those are NaN)."""
        if self.needs_image:
            check_images_exist(self.name, samples)

    def attach_cache(self, cache) -> None:
        """Offered the run's score cache before scoring; metrics that keep raw
        responses (the VLM judge) store them there."""

    def _prepare(self, samples: Sequence[Sample]) -> None:
        """Work done once per call before chunks are scored (e.g. tokenising)."""

    @abstractmethod
    def _score_chunk(self, samples: Sequence[Sample]) -> MetricOutput:
        """Score samples that passed screening; one float per sample."""

    def __repr__(self) -> str:
        return f"<Metric {self.signature()}>"


def check_images_exist(metric: str, samples: Sequence[Sample],
                       hint: str = "check --image-root") -> None:
    """An InputError when samples name images and not one of them exists (a wrong image
    root, not a few missing files: those are NaN); `hint` says where to look."""
    given = [s for s in samples if s.image]
    if given and not any(os.path.isfile(s.image) for s in given):
        raise InputError(
            f"{metric}: none of the {len(given)} images exist "
            f"(first: sample {given[0].id!r} -> {given[0].image}); {hint}")


def check_unique_ids(samples: Iterable[Sample]) -> None:
    seen: set[str] = set()
    for s in samples:
        if s.id in seen:
            raise InputError(f"duplicate sample id {s.id!r}: sample ids must be unique")
        seen.add(s.id)


_OWN_PACKAGE = __name__.partition(".")[0]


def implementation(cls: type) -> list[str]:
    """The parts of a signature that name the class computing the numbers.

    None for this package's own classes: a built-in metric's name is theirs
    alone (nothing may register over it), so their signatures, and the score
    cache's entries, stay as they were. Any other class, a plugin's
    subclass of a built-in included, is named by module and qualified name,
    and by the distribution and version that installed it where there is one
    (`importlib.metadata.packages_distributions`): it never shares the
    cached scores of the class it extends, nor of an older release of itself.
    """
    module = cls.__module__
    if module == _OWN_PACKAGE or module.startswith(_OWN_PACKAGE + "."):
        return []
    parts = [f"class={module}.{cls.__qualname__}"]
    for dist in _distributions().get(module.partition(".")[0], []):
        try:
            parts.append(f"dist={dist}=={importlib_metadata.version(dist)}")
        except importlib_metadata.PackageNotFoundError:
            parts.append(f"dist={dist}")
    return parts


@functools.lru_cache(maxsize=None)
def _distributions() -> dict[str, list[str]]:
    """Top-level module -> the installed distributions that provide it (read once)."""
    return {top: sorted(set(dists))
            for top, dists in importlib_metadata.packages_distributions().items()}


def check_text(samples: Iterable[Sample]) -> None:
    """An InputError naming the sample and the field when a text is not valid Unicode:
    a lone surrogate (`"\\ud800"` in a JSON file, bytes decoded with
    errors="surrogateescape") has no UTF-8 form, so no tokenizer, cache key or
    output file could take it."""
    for s in samples:
        if _plain_ascii(s):
            continue
        fields = [("id", s.id), ("candidate", s.candidate),
                  *((f"reference {k}", r) for k, r in enumerate(s.references)),
                  *((f"context {key!r}", v) for key, v in s.context.items())]
        for what, text in fields:
            if not isinstance(text, str) or text.isascii():
                continue
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InputError(
                    f"sample {s.id!r}: the {what} holds a lone surrogate "
                    f"({text[exc.start]!r} at character {exc.start}), which is not valid "
                    "Unicode text; fix the input's encoding") from None


def _plain_ascii(sample: Sample) -> bool:
    """Every text of the sample is a str of ASCII characters alone (so valid Unicode)."""
    try:
        return "".join((sample.id, sample.candidate, *sample.references,
                        *sample.context.values())).isascii()
    except TypeError:
        return False


def _format_setting(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


_IMAGE_HASHES: dict[tuple[str, int, int], str] = {}


def image_digest(path: str) -> str:
    """SHA-256 of an image file's bytes, memoised by (path, size, mtime).

    The bytes read are handed to metrics.images, so that decoding the image
    next does not read the file a second time."""
    from .images import RECENT_FILE_MAX, file_key, keep_recent_bytes

    key = file_key(path)
    digest = _IMAGE_HASHES.get(key)
    if digest is None:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            if key[1] <= RECENT_FILE_MAX:
                data = f.read()
                h.update(data)
                keep_recent_bytes(key, data)
            else:  # large files (model weights) are hashed block by block
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        digest = h.hexdigest()
        _IMAGE_HASHES[key] = digest
    return digest


#: Keys of samples without an image already computed in this process (every metric of a
#: benchmark asks for the same ones), by (candidate, references or None, context items).
_TEXT_KEYS: dict[tuple, str] = {}
_TEXT_KEYS_MAX = 1 << 20


#: The same, by the sample object itself for samples without context (every field of
#: such a frozen Sample is immutable): id -> (the sample, kept alive so the id stays its
#: own, its key with and without references).
_OBJECT_KEYS: dict[int, tuple] = {}


def sample_key(sample: Sample, use_image: bool, use_references: bool = True) -> str:
    """A hash of every input of `sample` a metric reads (the image by content)."""
    if not use_image and not sample.context:
        known = _OBJECT_KEYS.get(id(sample))
        if known is None or known[0] is not sample:
            if len(_OBJECT_KEYS) >= _TEXT_KEYS_MAX:
                _OBJECT_KEYS.clear()
            known = _OBJECT_KEYS[id(sample)] = (sample, {})
        keys = known[1]
        if use_references not in keys:
            keys[use_references] = _text_key(sample, use_references)
        return keys[use_references]
    return _text_key(sample, use_references) if not use_image else \
        _sample_key(sample, use_image, use_references)


def _text_key(sample: Sample, use_references: bool) -> str:
    memo = _text_memo_key(sample, use_references)
    if memo is not None and memo in _TEXT_KEYS:
        return _TEXT_KEYS[memo]
    key = _sample_key(sample, False, use_references)
    if memo is not None:
        if len(_TEXT_KEYS) >= _TEXT_KEYS_MAX:
            _TEXT_KEYS.clear()
        _TEXT_KEYS[memo] = key
    return key


def _text_memo_key(sample: Sample, use_references: bool) -> tuple | None:
    """The inputs `_sample_key` reads without an image, or None unless all are str: equal
    tuples then mean equal JSON payloads (1 == 1.0 == True would not)."""
    texts = (sample.candidate, *sample.references, *sample.context.keys(),
             *sample.context.values())
    if not all(type(t) is str for t in texts):
        return None
    return (sample.candidate, sample.references if use_references else None,
            tuple(sorted(sample.context.items())))


def _sample_key(sample: Sample, use_image: bool, use_references: bool) -> str:
    payload = {
        "c": sample.candidate,
        "r": list(sample.references) if use_references else None,
        "x": dict(sorted(sample.context.items())),
    }
    if use_image:
        payload["i"] = (image_digest(sample.image)
                        if sample.image and os.path.isfile(sample.image) else None)
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
