"""Correlation at a level: flat, grouped by item, system, or over judged pairs.

Definitions follow mt-metrics-eval (`stats.AverageCorrelation`, "none"/"item"/
"sys") and Deutsch et al. (2021), "A Statistical Analysis of Summarization
Evaluation Metrics Using Resampling Methods" (arXiv:2104.00054):

- ``flat``: one statistic over all rows at once (every candidate of every item).
- ``item``: within each item (the rows sharing an ``items`` label, e.g. all
  candidates for one image) compute the statistic, then average over items
  (unweighted). Items where it is undefined (fewer than two rows, or a
  constant side for tau-b/tau-c/Pearson/Spearman) are dropped and counted in
  ``n_dropped``.
- ``system``: average metric and human scores per system (``systems`` label),
  then one statistic over the per-system averages. The averages are rounded
  to 12 significant digits, so systems with equal averages tie whatever the
  order of summation (which matters for the Kendall variants).
- ``pair``: pre-formed judged pairs (see `correlation.preferences`): the
  "metric" is a per-pair margin (> 0: the metric prefers A) and the "human" an
  outcome (+1 A better, -1 B better, 0 tie); statistics accuracy, tau_like, acc23.
"""
from __future__ import annotations

from ._problem import LEVELS, PAIR_STATISTICS, UNITS, Problem
from ._validate import renamed_keyword, undefined
from .bootstrap import bootstrap_ci
from .results import CorrelationResult

__all__ = ["correlate", "LEVELS", "PAIR_STATISTICS", "UNITS"]


def correlate(metric, human, statistic: str, level: str = "flat", items=None, systems=None, *,
              ci_method: str | None = None, n_resamples: int = 1000, confidence: float = 0.95,
              unit: str | None = None, seed=0, epsilon: float = 0.0, cache=None,
              **deprecated) -> CorrelationResult:
    """Statistic between metric and human scores at a level, optionally with a bootstrap interval.

    Parameters
    ----------
    metric, human : equal-length score vectors, one entry per row (for level
        "pair": per-pair metric margin, > 0 when the metric prefers A, and the
        human outcome +1/-1/0). NaN or an infinite score in either drops the
        row (counted in n_nan; infinite scores also named in notes).
    statistic : kendall_b kendall_c kendall_23 acc23 spearman pearson, or at
        level pair: accuracy tau_like acc23.
    level : "flat" | "item" | "system" | "pair" (see the module docstring).
    items, systems : per-row labels; items is needed for level "item",
        systems for level "system"; either may also define the bootstrap unit.
    epsilon : metric tie threshold (kendall_23, acc23, pair statistics).
    ci_method : None (point estimate only), "bca" or "percentile": add a
        bootstrap interval via `correlation.bootstrap_ci` with n_resamples,
        confidence, unit and seed (``ci=`` is the deprecated name).
    cache : a `correlation.ReplicateCache` keeping the interval's bootstrap
        replicates for `compare_all` on the same data (same numbers either way).

    Returns a `CorrelationResult`; an undefined statistic is NaN with a warning.
    """
    ci = renamed_keyword(deprecated, "ci", "ci_method", ci_method, None, "correlate")
    if ci is not None:
        return bootstrap_ci(metric, human, statistic, level, items, systems, ci_method=ci,
                            n_resamples=n_resamples, confidence=confidence, unit=unit, seed=seed,
                            epsilon=epsilon, cache=cache)
    prob = Problem([metric], human, statistic, level, items, systems, epsilon)
    info = prob.point()
    if info.reason is not None:
        undefined(f"{statistic} at level {level!r} is undefined: {info.reason}")
    return CorrelationResult(statistic=statistic, level=level, value=info.value, n=info.n,
                             n_dropped=info.n_dropped, n_nan=prob.n_nan, n_groups=info.n_groups,
                             epsilon=float(epsilon), notes=prob.notes)
