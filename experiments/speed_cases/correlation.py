"""Correlation bench: resampling at the sizes of the Flickr8k benchmarks vs scipy in a loop.

Both cases synthesise their data with a fixed seed (no data files):

- Flickr8k-CF size: 47,830 rows; the human score is the share of "yes" among
  3 crowd voters (values 0, 1/3, 2/3, 1, mostly 0 as in the real data); the
  metric is a continuous score correlated with the latent quality.
- Flickr8k-Expert size: 5,664 captions x 3 expert ratings in 1..4 = 16,992
  rows; each metric scores a caption once, so its score repeats on the
  caption's 3 rows (ties across rows, as in the flattened benchmark).
"""
from __future__ import annotations

import numpy as np
import scipy.stats

from . import BenchCase

N_RESAMPLES = 1000
_state: dict = {}


def _setup_cf() -> None:
    if "cf" in _state:
        return
    rng = np.random.default_rng(8047830)
    quality = rng.normal(size=47_830)
    p_yes = 1 / (1 + np.exp(-(2.5 * quality - 2.0)))
    human = rng.binomial(3, p_yes) / 3
    metric = quality + rng.normal(0, 0.8, quality.size)
    _state["cf"] = (metric, human)


def _ours_cf():
    from correlation import bootstrap_ci

    metric, human = _state["cf"]
    return bootstrap_ci(metric, human, "kendall_c", ci_method="bca", n_resamples=N_RESAMPLES, seed=0)


def _baseline_cf():
    """The obvious loop: resample rows, call scipy once per resample, take percentiles."""
    metric, human = _state["cf"]
    rng = np.random.default_rng(0)
    n = metric.size
    taus = np.empty(N_RESAMPLES)
    for b in range(N_RESAMPLES):
        idx = rng.integers(0, n, n)
        taus[b] = scipy.stats.kendalltau(metric[idx], human[idx], variant="c").statistic
    return np.percentile(taus, [2.5, 97.5])


def _setup_expert() -> None:
    if "expert" in _state:
        return
    rng = np.random.default_rng(5664)
    quality = rng.normal(size=5_664)
    ratings = np.clip(np.rint(2.5 + 1.1 * quality[:, None] + rng.normal(0, 0.7, (5_664, 3))), 1, 4)
    human = ratings.ravel()                                   # 3 rows per caption
    a = np.repeat(quality + rng.normal(0, 0.9, 5_664), 3)     # metric score per caption
    b = np.repeat(quality + rng.normal(0, 1.1, 5_664), 3)
    _state["expert"] = (a, b, human)


def _ours_expert():
    from correlation import permutation_test

    a, b, human = _state["expert"]
    return permutation_test(a, b, human, "kendall_c", n_permutations=N_RESAMPLES, seed=0)


def _baseline_expert():
    """The obvious loop: z-score both metrics, swap per row at random, call scipy twice per draw."""
    a, b, human = _state["expert"]
    za, zb = scipy.stats.zscore(a), scipy.stats.zscore(b)
    observed = (scipy.stats.kendalltau(a, human, variant="c").statistic
                - scipy.stats.kendalltau(b, human, variant="c").statistic)
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(N_RESAMPLES):
        swap = rng.random(za.size) < 0.5
        ta = scipy.stats.kendalltau(np.where(swap, zb, za), human, variant="c").statistic
        tb = scipy.stats.kendalltau(np.where(swap, za, zb), human, variant="c").statistic
        hits += abs(ta - tb) >= abs(observed)
    return (1 + hits) / (1 + N_RESAMPLES)


CASES = [
    BenchCase(
        name="correlation: BCa CI of tau-c, 1,000 resamples, 47,830 rows (Flickr8k-CF size)",
        ours=_ours_cf,
        baseline=_baseline_cf,
        target_ratio=0.1,
        setup=_setup_cf,
        notes=("ours: correlation.bootstrap_ci(kendall_c, bca, 1,000 resamples of rows) including the "
               "exact leave-one-row-out jackknife for the acceleration; baseline: 1,000 calls of "
               "scipy.stats.kendalltau(variant='c') on resampled rows, percentile interval only "
               "(no jackknife), run in full, not extrapolated. Data synthetic (seeded): human = share "
               "of 3 yes-votes. Peak traced memory (tracemalloc), measured: about 75 MiB for ours "
               "(blocks of 52 resamples), about 5 MiB for the baseline."),
    ),
    BenchCase(
        name="correlation: paired permutation test, tau-c, 1,000 draws, 16,992 rows (Flickr8k-Expert size)",
        ours=_ours_expert,
        baseline=_baseline_expert,
        target_ratio=0.1,
        setup=_setup_expert,
        notes=("ours: correlation.permutation_test(kendall_c, 1,000 per-row swaps of z-scored scores); "
               "baseline: the same swaps as a loop with two scipy.stats.kendalltau(variant='c') calls "
               "per draw, run in full. Data synthetic (seeded): 5,664 captions x 3 expert ratings "
               "in 1..4, each metric's caption score repeated on its 3 rows. Peak traced memory "
               "(tracemalloc), measured: about 50 MiB for ours (blocks of 100 draws), about 2 MiB "
               "for the baseline."),
    ),
]
