"""`metrics.score`: scores for plain lists, as short as `bert_score.score`.

    import metrics
    metrics.score("bleu4", ["a dog runs"], [["a dog is running", "a dog runs fast"]])
    metrics.score("clipscore", captions, images=["img/1.jpg", pil_image])

It builds the `Sample`s itself (ids "0", "1", ...), scores them with the
metric (through the score cache when asked) and returns one float per
candidate, NaN where the metric could not score one (why: `details=True`).
Each distinct sample (candidate, references, image and context) is scored
once and its score given to every candidate that repeats it, as
`run_correlation` scores each distinct sample of a benchmark once: a file
with one row per judgment (several annotators rating one caption) gets the
same numbers from both, also from CIDEr, whose document frequencies would
otherwise count a repeated candidate's references once per repeat.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .base import InputError, Metric, MetricError, MetricOutput, Sample
from .cache import CacheFolderError, ScoreCache, score_with_cache
from .registry import metric_class


def score(metric: str | Metric, candidates: Sequence[str],
          references: Sequence[str | Sequence[str]] | None = None,
          images: Sequence[Any] | None = None, *, contexts: Sequence[dict] | None = None,
          cache: bool | str | os.PathLike | ScoreCache | None = None,
          progress: bool = False, details: bool = False, **options: Any
          ) -> np.ndarray | MetricOutput:
    """Score `candidates` with `metric`; one float per candidate, in order.

    metric: a registered name (`metrics.list_metrics()`), built with
      `options` (model, device, ...; model metrics default to device="auto",
      as bert_score does), or a `Metric` object (then no options).
    references: per candidate, a list of reference texts or one string.
    images: per candidate, an image file path or a PIL image (PIL images are
      written to a temporary PNG named by the hash of their pixels, so the
      cache recognises the same image again).
    contexts: per candidate, a dict of extra inputs (the VLM judge's templates).
    cache: None/False (default) scores directly; True uses the default cache
      folder ($METAEVAL_CACHE_DIR), a path that folder, or a ScoreCache.
    details: return the whole `MetricOutput` (failures, extras such as
      BERTScore's P and R, the corpus score) instead of the scores.

    Candidates with the same text, references, image and context are one
    sample, scored once (its id is the index of its first candidate); every
    repeat gets its score, failure and extras. So a corpus-dependent metric
    (CIDEr's document frequencies, BERTScore's idf) and the corpus score see
    each distinct sample once, as in `run_correlation`.
    """
    if isinstance(metric, Metric):
        if options:
            raise MetricError(f"options {sorted(options)} are for a metric name; the metric "
                              f"object {metric.signature()} is already built")
        scorer = metric
    else:
        cls = metric_class(str(metric))
        if "device" in inspect.signature(cls).parameters:
            options.setdefault("device", "auto")
        from .registry import get_metric

        scorer = get_metric(str(metric), **options)
    if isinstance(candidates, str):
        raise InputError("candidates must be a list of strings, not one string")
    candidates = list(candidates)
    n = len(candidates)
    refs = _per_candidate(references, n, "references")
    imgs = _per_candidate(images, n, "images")
    ctxs = _per_candidate(contexts, n, "contexts")
    with ExitStack() as stack:
        folder: list[Path] = []

        def image_path(i: int, image: Any) -> str | None:
            if image is None or isinstance(image, (str, os.PathLike)):
                return None if image is None else os.fspath(image)
            if not folder:
                folder.append(Path(stack.enter_context(
                    tempfile.TemporaryDirectory(prefix="metrics-images-"))))
            return _write_pil(image, folder[0], i)

        samples: list[Sample] = []
        distinct: dict[tuple, int] = {}  # a sample's content -> its place in `samples`
        where = []  # each candidate's place in `samples`
        for i, cand in enumerate(candidates):
            if not isinstance(cand, str):
                raise InputError(f"candidate {i} is a {type(cand).__name__}, not a string")
            ref = refs[i]
            ref = () if ref is None else (ref,) if isinstance(ref, str) else tuple(ref)
            if not all(isinstance(r, str) for r in ref):
                raise InputError(f"references of candidate {i} must be strings")
            sample = Sample(str(i), cand, ref, image_path(i, imgs[i]), dict(ctxs[i] or {}))
            key = _content(sample)
            if key not in distinct:
                distinct[key] = len(samples)
                samples.append(sample)
            where.append(distinct[key])
        store = _cache(cache)
        output, _ = score_with_cache(scorer, samples, store, progress=progress)
    output = _expanded(output, [samples[k].id for k in where], where)
    return output if details else output.scores


def _content(sample: Sample) -> tuple:
    """What makes two samples the same: text, references, image and context."""
    return (sample.candidate, sample.references, sample.image,
            json.dumps(sample.context, sort_keys=True, default=repr))


def _expanded(output: MetricOutput, ids: list[str], where: list[int]) -> MetricOutput:
    """The distinct samples' output given back per candidate (candidate i has the
    output of distinct sample where[i], whose id is ids[i])."""
    index = np.asarray(where, dtype=np.intp)
    failures = {str(i): output.failures[ident] for i, ident in enumerate(ids)
                if ident in output.failures}
    return MetricOutput(output.scores[index], failures,
                        {name: values[index] for name, values in output.extras.items()},
                        output.corpus_score)


def _per_candidate(values: Sequence[Any] | None, n: int, what: str) -> list[Any]:
    if values is None:
        return [None] * n
    if isinstance(values, (str, bytes)):
        raise InputError(f"{what} must be a list with one entry per candidate, not one string")
    values = list(values)
    if len(values) != n:
        raise InputError(f"{len(values)} {what} for {n} candidates: give one per candidate")
    return values


def _cache(cache: bool | str | os.PathLike | ScoreCache | None) -> ScoreCache | None:
    if cache is None or cache is False:
        return None
    if cache is True:
        return ScoreCache()
    if isinstance(cache, ScoreCache):
        return cache
    try:
        return ScoreCache(cache)
    except CacheFolderError as exc:
        raise CacheFolderError(f"cache={os.fspath(cache)!r}: {exc}") from None


def _write_pil(image: Any, folder: Path, index: int) -> str:
    """A PNG of PIL image `image` in `folder`, named by the SHA-256 of its mode,
    size, pixels and palette (the same picture always gets the same name)."""
    from PIL import Image

    if not isinstance(image, Image.Image):
        raise InputError(f"image {index} is a {type(image).__name__}: give a file path or "
                         "a PIL image")
    h = hashlib.sha256(f"{image.mode}:{image.size}:".encode())
    h.update(image.tobytes())
    if image.mode in ("P", "PA"):
        h.update(bytes(image.getpalette() or []))
    path = folder / f"{h.hexdigest()}.png"
    if not path.exists():
        try:
            image.save(path, format="PNG")
        except (OSError, ValueError):  # a mode PNG cannot hold (CMYK, ...)
            image.convert("RGB").save(path, format="PNG")
    return str(path)
