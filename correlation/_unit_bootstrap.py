"""Bootstrap intervals for statistics the engine's `Problem` does not model.

The newer meta-evaluation statistics (Cohen's kappa, Krippendorff's alpha,
soft pairwise accuracy, rankings from battles) are computed from a set of
independent units (pairs, rated samples, segments, battles). This module
draws those units with replacement and hands the replicates to the same
interval code as `bootstrap_ci` (`correlation.bootstrap.interval`:
percentile or BCa, the BCa acceleration from a leave-one-unit-out
jackknife, at most 1,000 leave-out groups).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ._validate import make_rng
from .bootstrap import check_settings, interval, resampling_label

#: The jackknife leaves out one unit at a time up to this many units, else this many groups.
JACKKNIFE_GROUPS = 1000


def unit_bootstrap(statistic: Callable[[np.ndarray], float], n_units: int, *,
                   ci_method: str = "bca", n_resamples: int = 1000, confidence: float = 0.95,
                   seed=0, unit_name: str = "units") -> tuple[float, float, float, str, str]:
    """(estimate, ci_low, ci_high, method label, notes) of `statistic`.

    `statistic(idx)` computes the statistic on the units `idx` (an int array
    of unit indices, repeats allowed); the estimate is `statistic(arange(n))`.
    """
    check_settings(ci_method, n_resamples, confidence)
    rng = make_rng(seed)
    everything = np.arange(n_units)
    estimate = float(statistic(everything))
    label = resampling_label("bootstrap", ci_method, n_resamples, unit_name, confidence)
    if n_units == 0 or not math.isfinite(estimate):
        return estimate, math.nan, math.nan, label, "no interval: the statistic is undefined"
    reps = np.array([statistic(rng.integers(0, n_units, n_units)) for _ in range(n_resamples)],
                    dtype=float)
    jack = np.array([])
    if ci_method == "bca":
        groups = np.array_split(rng.permutation(n_units) if n_units > JACKKNIFE_GROUPS
                                else everything, min(n_units, JACKKNIFE_GROUPS))
        jack = np.array([statistic(np.setdiff1d(everything, g, assume_unique=True))
                         for g in groups], dtype=float)
    lo, hi, note = interval(estimate, reps, jack, confidence, ci_method)
    return estimate, lo, hi, label, note
