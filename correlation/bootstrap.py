"""Bootstrap confidence intervals for correlations (percentile and BCa).

Resampling follows Deutsch et al. (2021), "A Statistical Analysis of
Summarization Evaluation Metrics Using Resampling Methods" (arXiv:2104.00054):
draw the chosen unit with replacement, as many times as there are units, and
recompute the statistic on the resampled data:

- ``rows``: individual rows;
- ``items``: whole items (all rows of an item together; BOOT-INPUTS);
- ``systems``: whole systems (BOOT-SYSTEMS);
- ``both``: systems and items independently, keeping the rows of drawn
  systems on drawn items (BOOT-BOTH).

A drawn unit that appears k times contributes k copies (at item level, k
items; at system level, k systems). Default unit ("natural unit"): the
independent sampling unit of the data: items when items are given for flat,
item and pair levels (rows otherwise); at system level both when items are
given, otherwise systems.

Intervals (Efron & Tibshirani 1993, ch. 13-14; DiCiccio & Efron 1996):

- ``percentile``: the (1-c)/2 and (1+c)/2 quantiles of the replicates
  (numpy's linear interpolation).
- ``bca`` (default): bias-corrected and accelerated. z0 = Phi^-1 of the share
  of replicates below the estimate (ties count half); the acceleration
  a = sum(d^3) / (6 (sum d^2)^1.5), d = mean(jackknife) - jackknife values;
  the bounds are the replicate quantiles at Phi(z0 + (z0 + z)/(1 - a(z0 + z)))
  for z = Phi^-1((1 -+ c)/2). The jackknife leaves out one unit at a time
  (exactly and in O(n log n) for flat Kendall over rows); with more than 1,000
  units and no exact shortcut it leaves out 1,000 random groups of units.

Replicates where the statistic is undefined (e.g. a constant resample) are
left out and counted in the result's notes.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.special import ndtr, ndtri

from ._problem import UNITS, Problem
from ._validate import renamed_keyword, undefined
from .replicates import shared_replicates
from .results import CorrelationResult

__all__ = ["bootstrap_ci", "METHODS"]

METHODS = ("bca", "percentile")


def default_unit(level: str, has_items: bool, has_systems: bool) -> str:
    """The natural resampling unit for a level (see the module docstring)."""
    if level == "system":
        return "both" if has_items else "systems"
    return "items" if has_items else "rows"


def resolve_unit(prob: Problem, unit: str | None) -> str:
    if unit is None:
        return default_unit(prob.level, prob.items is not None, prob.systems is not None)
    if unit not in UNITS:
        raise ValueError(f"unknown resampling unit {unit!r}; choose one of {', '.join(UNITS)}")
    if unit in ("items", "both") and prob.items is None:
        raise ValueError(f"resampling unit {unit!r} needs items= labels")
    if unit in ("systems", "both") and prob.systems is None:
        raise ValueError(f"resampling unit {unit!r} needs systems= labels")
    return unit


def resampled_units(prob: Problem, unit: str) -> int:
    """How many units a bootstrap of `unit` draws from: rows, items or systems; for
    "both" the items (the systems are the statistic's n at system level)."""
    return prob.n_units("items" if unit == "both" else unit)


def check_settings(method: str, n_resamples: int, confidence: float) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown interval method {method!r}; choose one of {', '.join(METHODS)}")
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    if not (0 < confidence < 1):
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")


def seed_record(seed):
    """The seed as stored in results: the int, or None for a Generator."""
    return int(seed) if isinstance(seed, (int, np.integer)) else None


def resampling_label(kind: str, method: str, n_resamples: int, unit: str, confidence: float,
                     jnote: str = "") -> str:
    """How an interval was obtained, in words, e.g. "bootstrap bca (1000 resamples of items,
    95%); acceleration from leave-one-item-out"."""
    label = f"{kind} {method} ({n_resamples} resamples of {unit}, {confidence:.0%})"
    return label + f"; acceleration from {jnote}" if jnote else label


def join_notes(*notes: str) -> str:
    """The non-empty notes, joined with "; "."""
    return "; ".join(n for n in notes if n)


def percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    alpha = (1 - confidence) / 2
    lo, hi = np.percentile(replicates, [100 * alpha, 100 * (1 - alpha)])
    return float(lo), float(hi)


def bca_interval(estimate: float, replicates: np.ndarray, jackknife: np.ndarray,
                 confidence: float) -> tuple[float, float, str]:
    """BCa bounds; (NaN, NaN, reason) when the bias correction is infinite."""
    b = replicates.size
    share = (np.count_nonzero(replicates < estimate) + np.count_nonzero(replicates <= estimate)) / (2 * b)
    if share <= 0 or share >= 1:
        return math.nan, math.nan, ("every bootstrap replicate lies on one side of the estimate, "
                                    "so the BCa bias correction is infinite")
    z0 = float(ndtri(share))
    jk = jackknife[np.isfinite(jackknife)]
    accel = 0.0
    # no spread beyond rounding: no skewness to correct (the formula is scale-free and would
    # turn rounding noise into a sizeable acceleration)
    if jk.size > 1 and np.ptp(jk) > 1e-12 * max(1.0, float(np.abs(jk).max())):
        d = jk.mean() - jk
        accel = float((d ** 3).sum()) / (6 * float((d ** 2).sum()) ** 1.5)
    alpha = (1 - confidence) / 2
    z = ndtri(np.array([alpha, 1 - alpha]))
    levels = ndtr(z0 + (z0 + z) / (1 - accel * (z0 + z)))
    lo, hi = np.percentile(replicates, 100 * levels)
    return float(lo), float(hi), ""


def interval(estimate, replicates, jackknife, confidence, method) -> tuple[float, float, str]:
    """Interval from finite replicates; a note for dropped or degenerate cases."""
    finite = replicates[np.isfinite(replicates)]
    notes = []
    if finite.size < replicates.size:
        notes.append(f"{replicates.size - finite.size} of {replicates.size} bootstrap replicates "
                     "were undefined and left out")
    if finite.size == 0 or not math.isfinite(estimate):
        return math.nan, math.nan, "; ".join(notes + ["no interval: no defined replicate or estimate"])
    if method == "percentile":
        lo, hi = percentile_interval(finite, confidence)
        return lo, hi, "; ".join(notes)
    lo, hi, why = bca_interval(estimate, finite, jackknife, confidence)
    if why:
        warnings.warn(f"BCa interval undefined: {why}", RuntimeWarning, stacklevel=4)
        notes.append(why)
    return lo, hi, "; ".join(notes)


def bootstrap_ci(metric, human, statistic: str, level: str = "flat", items=None, systems=None, *,
                 ci_method: str = "bca", n_resamples: int = 1000, confidence: float = 0.95,
                 unit: str | None = None, seed=0, epsilon: float = 0.0, cache=None,
                 **deprecated) -> CorrelationResult:
    """Statistic with a bootstrap confidence interval (defaults: 1,000 resamples, 95 %, BCa).

    Parameters as `correlation.correlate`, plus: ci_method "bca" | "percentile"
    (``method=`` is its deprecated name); unit "rows" | "items" | "systems" |
    "both" (None: the natural unit, see the module docstring); seed an int or
    a numpy Generator (every draw comes from it, so the same inputs and seed
    give the same interval); cache a `correlation.ReplicateCache` to keep the
    replicates for `compare_all` on the same data (same numbers either way).
    """
    method = renamed_keyword(deprecated, "method", "ci_method", ci_method, "bca", "bootstrap_ci")
    check_settings(method, n_resamples, confidence)
    prob = Problem([metric], human, statistic, level, items, systems, epsilon)
    unit = resolve_unit(prob, unit)
    info = prob.point()
    common = dict(statistic=statistic, level=level, value=info.value, n=info.n,
                  n_dropped=info.n_dropped, n_nan=prob.n_nan, n_groups=info.n_groups,
                  confidence=confidence, n_resamples=int(n_resamples), unit=unit,
                  n_units=resampled_units(prob, unit), seed=seed_record(seed),
                  epsilon=float(epsilon))
    if info.reason is not None:
        undefined(f"{statistic} at level {level!r} is undefined: {info.reason}")
        return CorrelationResult(method=resampling_label("bootstrap", method, n_resamples, unit,
                                                         confidence),
                                 notes=join_notes(prob.notes, "no interval: the statistic is undefined"),
                                 **common)
    reps, jk, jnote = shared_replicates(prob, unit, method, n_resamples, seed, cache)
    lo, hi, note = interval(info.value, reps[:, 0], jk[:, 0], confidence, method)
    label = resampling_label("bootstrap", method, n_resamples, unit, confidence, jnote)
    return CorrelationResult(ci_low=lo, ci_high=hi, method=label, notes=join_notes(prob.notes, note),
                             **common)
