"""Agreement with pairwise human preferences (PASCAL-50S, Socratis, WMT DARR).

Each judged pair has two candidates, A and B. The human outcome is +1 (A
better), -1 (B better) or 0 (a tie: both equally good or bad). The metric's
view of the pair is a *margin*, positive when the metric prefers A:

- from two scores: margin = score_a - score_b;
- from a pairwise judge's probability that B beats A (> 0.5 prefers B, 0.5 is
  a tie): margin = 0.5 - prob_b_better.

The metric outcome is sign(margin), with |margin| <= epsilon counted as a
metric tie (epsilon = 0: only exact ties). Statistics:

- ``accuracy``: share of pairs with a decisive human outcome (+1/-1) where
  the metric strictly prefers the human-preferred candidate. A metric tie
  counts as wrong (no half credit): the strict reading of PASCAL-50S
  accuracy (Vedantam et al. 2015, CIDEr; Hessel et al. 2021, CLIPScore:
  correct when the human-preferred caption scores higher). Code that breaks
  ties towards one side can differ by up to the share of tied pairs, which
  `pairwise_agreement` reports (n_metric_ties).
- ``tau_like``: WMT DARR Kendall-like tau (Ma et al. 2018, 2019; mt-metrics-eval
  `KendallLike`): (Concordant - Discordant) / (Concordant + Discordant) over
  decisive human pairs, a metric tie counting as Discordant; so
  tau_like = 2 * accuracy - 1.
- ``acc23``: pairwise accuracy with ties (Deutsch et al. 2023, arXiv:2305.14324):
  share of all pairs, human ties included, where the metric outcome equals the
  human outcome (a tie matches only a tie).

Every function takes the metric's margin first and the human outcomes
second, as `correlation.correlate` / `bootstrap_ci` / `compare_metrics` do
with ``level="pair"`` (which give intervals and tests).
"""
from __future__ import annotations

import math
import numpy as np

from ._problem import pair_outcomes, pair_terms
from ._validate import (as_float_vector, check_lengths, infinite_count, infinite_note, undefined,
                        warn_infinite)
from .results import PreferenceResult, TieCalibration

__all__ = ["preference_margin", "pairwise_agreement", "preference_tie_calibration",
           "PreferenceResult"]

def _margin(score_a, score_b, prob_b_better):
    """(margin, [(input name, infinite entries)]): infinite inputs give a NaN margin."""
    if prob_b_better is not None:
        if score_a is not None or score_b is not None:
            raise ValueError("give either score_a and score_b, or prob_b_better, not both")
        p = as_float_vector(prob_b_better, "prob_b_better")
        bad = np.isfinite(p) & ((p < 0) | (p > 1))
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(f"prob_b_better must lie in [0, 1]; got {p[k]!r} at position {k}")
        return np.where(np.isinf(p), np.nan, 0.5 - p), [("prob_b_better", infinite_count(p))]
    if score_a is None or score_b is None:
        raise ValueError("give score_a and score_b (or prob_b_better)")
    a = as_float_vector(score_a, "score_a")
    b = as_float_vector(score_b, "score_b")
    check_lengths([("score_a", a), ("score_b", b)])
    with np.errstate(over="ignore", invalid="ignore"):
        margin = a - b
    # two finite scores whose difference overflows keep their side (and exceed any epsilon)
    margin = np.where(np.isfinite(a) & np.isfinite(b),
                      np.clip(margin, -np.finfo(float).max, np.finfo(float).max), np.nan)
    return margin, [("score_a", infinite_count(a)), ("score_b", infinite_count(b))]


def preference_margin(score_a=None, score_b=None, *, prob_b_better=None) -> np.ndarray:
    """Per-pair metric margin, > 0 when the metric prefers A (see the module docstring).

    NaN where an input is NaN; an infinite input also gives NaN, with a
    `NonFiniteScoreWarning` (so the pair is dropped, and counted, downstream).
    """
    margin, counts = _margin(score_a, score_b, prob_b_better)
    warn_infinite(counts)
    return margin


def _margin_and_outcomes(margin, human):
    """Float margin and outcome vectors, rows with NaN or infinity in either dropped; the
    kept mask; the infinite counts."""
    m = as_float_vector(margin, "margin")
    h = as_float_vector(human, "human")
    check_lengths([("margin", m), ("human", h)])
    keep = np.isfinite(m) & np.isfinite(h)
    return m[keep], h[keep], keep, [("margin", infinite_count(m)), ("human", infinite_count(h))]


def pairwise_agreement(margin, human, *, epsilon: float = 0.0) -> PreferenceResult:
    """accuracy, tau_like and acc23 of a metric against human outcomes (+1 A, -1 B, 0 tie).

    margin: the metric's per-pair margin, > 0 when it prefers A
    (`preference_margin(score_a, score_b)` or `preference_margin(prob_b_better=p)`);
    human: the outcomes. A pair with a NaN or infinite value is dropped and
    counted in n_nan (infinite values also in notes).
    """
    if not (math.isfinite(epsilon) and epsilon >= 0):
        raise ValueError(f"epsilon must be a finite number >= 0, got {epsilon!r}")
    margin, h, keep, counts = _margin_and_outcomes(margin, human)
    bad = ~np.isin(h, (-1.0, 0.0, 1.0))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(f"human outcomes must be +1 (A better), -1 (B better) or 0 (tie); "
                         f"got {h[k]!r} at position {k} (after dropping NaN)")
    o = pair_outcomes(margin, float(epsilon))
    vals = {}
    for stat in ("accuracy", "tau_like", "acc23"):
        num, den = pair_terms(o, h, stat)
        vals[stat] = float(num.sum() / den.sum()) if den.sum() > 0 else math.nan
    if h.size == 0:
        undefined("pairwise agreement is undefined: no pairs")
    elif not np.any(h != 0):
        undefined("accuracy and tau_like are undefined: no pair has a decisive human judgment")
    decisive = h != 0
    return PreferenceResult(accuracy=vals["accuracy"], tau_like=vals["tau_like"], acc23=vals["acc23"],
                            n=int(h.size), n_decisive=int(decisive.sum()),
                            n_human_ties=int((~decisive).sum()),
                            n_metric_ties=int((decisive & (o == 0)).sum()),
                            n_nan=int((~keep).sum()), epsilon=float(epsilon),
                            notes=infinite_note(counts))


def preference_tie_calibration(margin, human) -> TieCalibration:
    """Epsilon maximising pair-level acc23, by an exact sweep over the sorted |margin|.

    margin and human as in `pairwise_agreement` (an infinite value is dropped
    with a `NonFiniteScoreWarning`). Raising epsilon past |margin| of a pair
    turns the metric's choice into a tie: +1 agreement if the humans tied, -1
    if the metric had been right, 0 otherwise. Returns the smallest optimal
    epsilon and acc23 there.
    """
    margin, h, _, counts = _margin_and_outcomes(margin, human)
    warn_infinite(counts)
    if h.size == 0:
        undefined("tie calibration is undefined: no pairs")
        return TieCalibration(math.nan, math.nan)
    o = np.sign(margin)
    base = float(np.count_nonzero(o == h))
    ad = np.abs(margin)
    gain = np.where(h == 0, 1, np.where(o == h, -1, 0))
    sel = (ad > 0) & (gain != 0)
    ad, gain = ad[sel], gain[sel]
    if ad.size == 0:
        return TieCalibration(0.0, base / h.size)
    order = np.argsort(ad, kind="stable")
    ad, total = ad[order], base + np.cumsum(gain[order])
    last = np.r_[ad[1:] != ad[:-1], True]
    cand_eps, cand_val = ad[last], total[last]
    best = max(base, float(cand_val.max()))
    if base >= best:
        return TieCalibration(0.0, base / h.size)
    k = int(np.flatnonzero(cand_val >= best)[0])
    return TieCalibration(float(cand_eps[k]), float(cand_val[k]) / h.size)
