"""Cohen's kappa on three-way pairwise decisions (A better, B better, tie).

Accuracy on decisive pairs overstates agreement when one side dominates (a
metric that always prefers the majority side is often right); kappa
discounts the agreement expected by chance from the two marginals (Cohen
1960, "A coefficient of agreement for nominal scales", Educ. Psychol. Meas.
20(1)):

    kappa = (p_o - p_e) / (1 - p_e),
    p_o = share of pairs where the two decisions are equal,
    p_e = sum over k in {A, tie, B} of P_metric(k) * P_human(k),

over every pair (human ties included), with the metric's decision
sign(margin) and a tie when |margin| <= epsilon. Kappa is 1 for perfect
agreement, 0 for chance agreement, negative below chance; undefined (NaN,
with a warning) when p_e = 1 (both sides always give the same one decision).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ._unit_bootstrap import unit_bootstrap
from ._validate import as_float_vector, check_lengths, label_codes, undefined, warn_infinite
from .bootstrap import join_notes, seed_record
from .results import CorrelationResult

__all__ = ["cohen_kappa", "preference_kappa"]


def cohen_kappa(decisions_a, decisions_b) -> float:
    """Cohen's kappa between two equally long sequences of nominal decisions."""
    a, b = np.asarray(decisions_a), np.asarray(decisions_b)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"decisions must be two 1-D sequences of one length, got {a.shape} "
                         f"and {b.shape}")
    labels, codes = np.unique(np.concatenate([a, b]), return_inverse=True)
    k = labels.size
    table = np.bincount(codes[:a.size] * k + codes[a.size:], minlength=k * k).reshape(k, k)
    return _kappa_of_table(table)


def _kappa_of_table(table: np.ndarray, stacklevel: int = 4) -> float:
    """Cohen's kappa of a k x k table of decision counts (rows: one side's decision,
    columns: the other's): p_o and p_e are ratios of whole counts."""
    n = int(table.sum())
    if n == 0:
        return undefined("Cohen's kappa is undefined: no decisions", stacklevel)
    p_o = int(np.trace(table)) / n
    p_e = int(table.sum(axis=1) @ table.sum(axis=0)) / n ** 2
    if p_e >= 1 - 1e-12:
        return undefined("Cohen's kappa is undefined: both sides always give the same decision",
                         stacklevel)
    return (p_o - p_e) / (1 - p_e)


def preference_kappa(margin, human, items=None, *, epsilon: float = 0.0, ci_method: str = "bca",
                     n_resamples: int = 1000, confidence: float = 0.95,
                     seed=0) -> CorrelationResult:
    """Kappa between the metric's three-way decision and the human's, with a bootstrap interval.

    margin: per pair, score(A) - score(B) (or `correlation.preference_margin`
    of a judge's P(B better)); human: +1 (A better), 0 (tie), -1 (B better);
    items: the pair id of each row when a pair has several human judgments
    (the bootstrap then draws pairs, their judgments together; else rows).
    A pair whose margin or human outcome is NaN or infinite is dropped and
    counted in n_nan.
    """
    m = as_float_vector(margin, "margin")
    h = as_float_vector(human, "human")
    n = check_lengths([("margin", m), ("human", h)] + ([("items", items)] if items is not None
                                                          else []))
    warn_infinite([("margin", int(np.isinf(m).sum())), ("human", int(np.isinf(h).sum()))])
    keep = np.isfinite(m) & np.isfinite(h)
    if np.any(~np.isin(h[keep], (-1, 0, 1))):
        raise ValueError("human outcomes must be +1 (A better), 0 (tie) or -1 (B better)")
    codes = label_codes(items, "items", n)
    metric_decision = np.where(np.abs(m) <= epsilon, 0, np.sign(m))[keep]
    h = h[keep]
    units = (np.arange(int(keep.sum())) if codes is None
             else np.unique(codes[keep], return_inverse=True)[1])
    n_units = int(units.max()) + 1 if units.size else 0
    # Each unit's 3 x 3 table of (metric, human) decisions: a replicate's table is the sum
    # of its units' tables, as many times as it draws each.
    cells = (metric_decision.astype(np.int64) + 1) * 3 + (h.astype(np.int64) + 1)
    unit_tables = np.zeros((n_units, 9), dtype=np.int64)
    np.add.at(unit_tables, (units, cells), 1)

    def statistic(idx):
        drawn = np.bincount(idx, minlength=n_units) @ unit_tables
        return _kappa_of_table(drawn.reshape(3, 3))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined replicates are counted in the notes
        value, lo, hi, label, note = unit_bootstrap(
            statistic, n_units, ci_method=ci_method, n_resamples=n_resamples,
            confidence=confidence, seed=seed, unit_name="pairs" if codes is not None else "rows")
    if not math.isfinite(value):
        cohen_kappa(metric_decision, h)  # warns with the reason
    return CorrelationResult(statistic="kappa", level="pair", value=value, ci_low=lo, ci_high=hi,
                             n=int(h.size), method=f"Cohen's kappa, three-way; {label}",
                             n_nan=int((~keep).sum()), confidence=confidence,
                             n_resamples=int(n_resamples),
                             unit="pairs" if codes is not None else "rows", n_units=n_units,
                             seed=seed_record(seed), epsilon=float(epsilon),
                             notes=join_notes(note))
