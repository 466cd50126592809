"""Inter-annotator agreement: Krippendorff's alpha (interval and ordinal).

Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability"
(repository.upenn.edu/asc_papers/43), with the coincidence matrix:
units are rated samples, values the ratings (NaN = not rated). Only
pairable units count (two or more ratings); a unit u with m_u ratings adds
(number of ordered pairs of ratings (c, k) in u) / (m_u - 1) to o_ck.
With n_c = sum_k o_ck and n = sum_c n_c (the pairable ratings),

    alpha = 1 - (n - 1) * sum_ck o_ck d2(c, k) / sum_ck n_c n_k d2(c, k)

- interval: d2(c, k) = (c - k)^2;
- ordinal:  d2(c, k) = (sum_{g between c and k} n_g - (n_c + n_k) / 2)^2,
  over the values that occur (the ranks, not the numbers, matter).

alpha = 1 is perfect agreement, 0 agreement at chance level; undefined
(NaN, with a warning) when fewer than two different values occur.
The interval bootstraps the units (rated samples) with replacement.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ._unit_bootstrap import unit_bootstrap
from ._validate import infinite_count, undefined
from .bootstrap import join_notes, seed_record
from .results import CorrelationResult

__all__ = ["krippendorff_alpha", "krippendorff_alpha_ci", "ALPHA_LEVELS"]

ALPHA_LEVELS = ("interval", "ordinal")


def _matrix(ratings) -> tuple[np.ndarray, int]:
    R = np.asarray(ratings, dtype=float)
    if R.ndim != 2:
        raise ValueError(f"ratings must be 2-D (samples x annotators), got shape {R.shape}")
    n_inf = infinite_count(R)
    return (np.where(np.isinf(R), np.nan, R) if n_inf else R), n_inf


def _histograms(R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values that occur in pairable units, counts per pairable unit x value)."""
    rated = np.isfinite(R)
    R = R[rated.sum(axis=1) >= 2]
    values = np.unique(R[np.isfinite(R)])
    counts = np.zeros((R.shape[0], values.size))
    rows, cols = np.nonzero(np.isfinite(R))
    np.add.at(counts, (rows, np.searchsorted(values, R[rows, cols])), 1)
    return values, counts


def _alpha_from_counts(values: np.ndarray, counts: np.ndarray, weights: np.ndarray,
                       level: str) -> float:
    m = counts.sum(axis=1)
    scaled = counts * (weights / (m - 1))[:, None]
    coincidence = scaled.T @ counts - np.diag(scaled.sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    if level == "interval":
        d2 = (values[:, None] - values[None, :]) ** 2
    else:
        cum = np.cumsum(n_c)
        lower = np.minimum.outer(np.arange(values.size), np.arange(values.size))
        # sum of n_g for g from c to k inclusive (the lower end's n_g added back)
        between = np.abs(cum[:, None] - cum[None, :]) + n_c[lower]
        d2 = (between - (n_c[:, None] + n_c[None, :]) / 2) ** 2
    expected = float(n_c @ d2 @ n_c)
    if n < 2 or expected <= 0:
        return math.nan
    return 1.0 - (n - 1) * float((coincidence * d2).sum()) / expected


def krippendorff_alpha(ratings, level: str = "interval") -> float:
    """Krippendorff's alpha of a samples x annotators matrix (NaN = not rated).

    Infinite ratings are treated as not rated (with the others' values).
    """
    if level not in ALPHA_LEVELS:
        raise ValueError(f"unknown level of measurement {level!r}; choose one of "
                         f"{', '.join(ALPHA_LEVELS)}")
    R, _ = _matrix(ratings)
    values, counts = _histograms(R)
    value = _alpha_from_counts(values, counts, np.ones(counts.shape[0]), level)
    if math.isnan(value):
        return undefined("Krippendorff's alpha is undefined: fewer than two pairable ratings "
                         "or a single value")
    return value


def krippendorff_alpha_ci(ratings, level: str = "interval", *, ci_method: str = "bca",
                          n_resamples: int = 1000, confidence: float = 0.95,
                          seed=0) -> CorrelationResult:
    """`krippendorff_alpha` with a bootstrap interval over rated samples.

    The result's statistic is ``krippendorff_<level>``, its level "flat",
    n the pairable samples (rated at least twice), n_dropped the samples
    rated fewer than twice.
    """
    if level not in ALPHA_LEVELS:
        raise ValueError(f"unknown level of measurement {level!r}; choose one of "
                         f"{', '.join(ALPHA_LEVELS)}")
    R, n_inf = _matrix(ratings)
    values, counts = _histograms(R)
    n_units = counts.shape[0]

    def statistic(idx):
        return _alpha_from_counts(values, counts, np.bincount(idx, minlength=n_units), level)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, lo, hi, label, note = unit_bootstrap(
            statistic, n_units, ci_method=ci_method, n_resamples=n_resamples,
            confidence=confidence, seed=seed, unit_name="samples")
    if math.isnan(value):
        krippendorff_alpha(R, level)  # warns with the reason
    infinite = (f"{n_inf} infinite rating{'s' if n_inf > 1 else ''} treated as not rated"
                if n_inf else "")
    return CorrelationResult(statistic=f"krippendorff_{level}", level="flat", value=value,
                             ci_low=lo, ci_high=hi, n=n_units,
                             method=f"Krippendorff's alpha ({level}); {label}",
                             n_dropped=int(R.shape[0] - n_units), confidence=confidence,
                             n_resamples=int(n_resamples), unit="samples", n_units=n_units,
                             seed=seed_record(seed),
                             notes=join_notes(f"{R.shape[1]} annotators", infinite, note))
