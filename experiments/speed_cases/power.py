"""Power bench: a 20-point power curve on Flickr8k-Expert-sized data vs the obvious loop.

Synthetic data (a fixed seed, no data files), then the real Flickr8k-Expert
scores (CIDEr vs ROUGE-L; skipped when the data is absent). The synthetic
data is shaped as Flickr8k-Expert:
1,000 images x 5.664 captions x 3 expert ratings in 1..4 = 16,992 rows; each
metric scores a caption once (its score repeats on the caption's 3 rows). The
planner draws studies of 100 to 5,000 images (20 sizes, `default_sizes`),
SIMULATIONS studies per size, and runs on each the report's paired
permutation test of Kendall tau-c (PERMUTATIONS draws, swapping rows).
"""
from __future__ import annotations

import numpy as np
import scipy.stats

from . import BenchCase
from .real_scores import flickr8k_view, rows_of_each

SIMULATIONS = 10
PERMUTATIONS = 20
_state: dict = {}


def _setup() -> None:
    if "expert" in _state:
        return
    rng = np.random.default_rng(5664)
    n_captions = 5_664
    image = np.sort(rng.integers(0, 1_000, n_captions))
    quality = rng.normal(size=n_captions)
    ratings = np.clip(np.rint(2.5 + 1.1 * quality[:, None] + rng.normal(0, 0.7, (n_captions, 3))), 1, 4)
    a = np.repeat(quality + rng.normal(0, 0.9, n_captions), 3)
    b = np.repeat(quality + rng.normal(0, 1.0, n_captions), 3)
    _state["expert"] = (a, b, ratings.ravel(), np.repeat(image, 3))


def _setup_real() -> None:
    """Real Flickr8k-Expert: CIDEr and ROUGE-L scores, expert ratings, images."""
    if "expert_real" in _state:
        return
    view = flickr8k_view("flickr8k-expert")
    _state["expert_real"] = (view.scores["cider"], view.scores["rouge_l"], view.human,
                             view.images)


def _ours(key: str = "expert"):
    from correlation.power import power_metric_vs_metric

    a, b, human, images = _state[key]
    return power_metric_vs_metric(a, b, human, "kendall_c", items=images,
                                  n_simulations=SIMULATIONS, n_permutations=PERMUTATIONS, seed=0)


def _baseline(key: str = "expert"):
    """The obvious loop: per size and study, draw images, gather their rows, z-score, and
    per permutation draw swap rows at random and call scipy.stats.kendalltau twice."""
    from correlation.power import default_sizes

    a, b, human, images = _state[key]
    rows_of = rows_of_each(images)
    rng = np.random.default_rng(0)
    power = []
    for n in default_sizes(len(rows_of)):
        hits = 0
        for _ in range(SIMULATIONS):
            drawn = rng.integers(0, len(rows_of), n)
            idx = np.concatenate([rows_of[k] for k in drawn])
            xa, xb, y = scipy.stats.zscore(a[idx]), scipy.stats.zscore(b[idx]), human[idx]
            observed = (scipy.stats.kendalltau(xa, y, variant="c").statistic
                        - scipy.stats.kendalltau(xb, y, variant="c").statistic)
            extreme = 0
            for _ in range(PERMUTATIONS):
                swap = rng.random(idx.size) < 0.5
                d = (scipy.stats.kendalltau(np.where(swap, xb, xa), y, variant="c").statistic
                     - scipy.stats.kendalltau(np.where(swap, xa, xb), y, variant="c").statistic)
                extreme += abs(d) >= abs(observed) - 1e-12
            hits += (1 + extreme) / (1 + PERMUTATIONS) <= 0.05
        power.append(hits / SIMULATIONS)
    return power


CASES = [
    BenchCase(
        name="power: 20-point curve, tau-c permutation test, Flickr8k-Expert size (16,992 rows)",
        ours=_ours,
        baseline=_baseline,
        target_ratio=0.25,
        setup=_setup,
        notes=(f"ours: correlation.power_metric_vs_metric(kendall_c, items=images), 20 sizes from "
               f"100 to 5,000 images, {SIMULATIONS} studies per size, {PERMUTATIONS} permutation "
               "draws each: every study keeps only the rows it drew, weighted by multiplicity, "
               "and its observed value and all its draws are one batch of Kendall counts; "
               "baseline: the same studies as a loop gathering rows and calling "
               "scipy.stats.kendalltau(variant='c') twice per draw, run in full. Data synthetic "
               "(seeded), Flickr8k-Expert shaped."),
    ),
    BenchCase(
        name="power: 20-point curve, tau-c permutation test, Flickr8k-Expert, cider vs rouge_l",
        ours=lambda: _ours("expert_real"),
        baseline=lambda: _baseline("expert_real"),
        target_ratio=0.25,
        setup=_setup_real,
        notes="the case above on the real Flickr8k-Expert scores (CIDEr vs ROUGE-L, 16,992 "
              "rows over 1,000 images) and expert ratings",
    ),
]
