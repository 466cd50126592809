"""Real Flickr8k-CF and Flickr8k-Expert scores for the bench cases.

`flickr8k_view(name)` scores the benchmark's captions with the n-gram
metrics the cases use (`METRICS`) through the score cache (the first call on a machine scores
them; later calls read them) and returns the benchmark's flat view: one row
per human judgment, its image, and each metric's score for the row's
caption. Rows with a NaN anywhere are left out (Flickr8k has none).
`require_flickr8k(name)` raises FileNotFoundError when the benchmark's
files are absent, so the bench skips the case. `rows_of_each(items)`
groups row numbers by item, as a resampling loop draws them.
"""
from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(os.environ.get("METAEVAL_SHARED_DATA",
                           Path(__file__).resolve().parents[2].parent / "shared" / "data"))
_RAW = {"flickr8k-cf": "CrowdFlowerAnnotations.txt", "flickr8k-expert": "ExpertAnnotations.txt"}
METRICS = ("cider", "bleu4", "rouge_l")
_views: dict = {}


@dataclass(frozen=True)
class RealView:
    human: np.ndarray
    images: np.ndarray   # the image of each row (integer codes, in row order)
    scores: dict         # metric name -> per-row scores


def require_flickr8k(name: str) -> None:
    if not (DATA / "flickr8k" / _RAW[name]).is_file():
        raise FileNotFoundError(f"{name} data not found at {DATA}/flickr8k")


def rows_of_each(items: np.ndarray) -> list[np.ndarray]:
    """Row numbers of each item (in order of item code), rows in their order."""
    order = np.argsort(items, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(items[order])) + 1)


def flickr8k_view(name: str) -> RealView:
    if name in _views:
        return _views[name]
    require_flickr8k(name)
    from metrics import ScoreCache, default_cache_dir, get_metric, score_with_cache

    from ..benchmarks import load_benchmark
    from ..benchmarks.base import scores_for

    bench = load_benchmark(name, DATA)
    index = bench.sample_index()
    cache = ScoreCache(default_cache_dir())
    columns = {}
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            for metric in METRICS:
                result, _ = score_with_cache(get_metric(metric), bench.samples, cache,
                                             progress=False)
                columns[metric] = scores_for(bench.ratings.sample_ids, index,
                                             np.asarray(result.scores))
    finally:
        cache.close()
    human = bench.ratings.values
    keep = np.isfinite(human) & np.all([np.isfinite(c) for c in columns.values()], axis=0)
    images = np.unique(np.asarray(bench.ratings.items), return_inverse=True)[1]
    view = RealView(human[keep], images[keep], {m: c[keep] for m, c in columns.items()})
    _views[name] = view
    return view
