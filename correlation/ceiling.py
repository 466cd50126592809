"""Human ceiling: how well do people agree with each other?

When several annotators rated the same rows (Flickr8k-Expert: three expert
ratings per caption), a metric can hardly be expected to agree with "the
human score" better than one annotator agrees with the others. Definition
(leave-one-annotator-out):

    ceiling = mean over annotators a of
              statistic(ratings of a, mean rating of the other annotators)

computed at the requested level, on the rows where annotator a and at least
one other annotator gave a rating (NaN = no rating; an infinite rating is
treated as none and counted in the notes); annotator a plays the
"metric" and the mean of the others the "human". Annotators are the columns
of the ratings matrix; if columns are rating slots rather than fixed people
(as in Flickr8k-Expert's three expert columns), the ceiling is over slots.
Annotators for whom the statistic is undefined are left out of the mean and
counted in n_dropped.

Note the ceiling compares one annotator against the mean of k - 1 others,
while a metric is usually compared against the mean of all k, which is less
noisy; it is a reference point, not a strict upper bound.
"""
from __future__ import annotations

import math

import numpy as np

from ._problem import Problem
from ._validate import infinite_count, undefined
from .results import CorrelationResult

__all__ = ["human_ceiling"]


def human_ceiling(ratings, statistic: str = "kendall_c", level: str = "flat", items=None,
                  systems=None, *, epsilon: float = 0.0) -> CorrelationResult:
    """Leave-one-annotator-out agreement (see the module docstring).

    ratings: 2-D array, one row per rated row, one column per annotator, NaN
    where an annotator gave no rating (for per-annotator lists use
    ``np.column_stack``). Other parameters as in `correlation.correlate`.
    The result's notes list the value for each annotator.
    """
    R = np.asarray(ratings, dtype=float)
    if R.ndim != 2:
        raise ValueError(f"ratings must be 2-D (rows x annotators), got shape {R.shape}")
    n_infinite = infinite_count(R)
    if n_infinite:
        R = np.where(np.isinf(R), np.nan, R)
    k = R.shape[1]
    if k < 2:
        raise ValueError(f"the human ceiling needs at least two annotators (columns), got {k}")
    values, ns = [], []
    for a in range(k):
        mean_others = _nanmean_rows(np.delete(R, a, axis=1))  # NaN where nobody else rated
        prob = Problem([R[:, a]], mean_others, statistic, level, items, systems, epsilon)
        info = prob.point()
        values.append(info.value)
        ns.append(info.n)
    vals = np.array(values)
    ok = np.isfinite(vals)
    per = ", ".join(f"annotator {a}: {v:.4f}" for a, v in enumerate(values))
    method = "leave-one-annotator-out: annotator vs mean of the others, averaged over annotators"
    if not ok.any():
        undefined(f"human ceiling ({statistic}, {level}) is undefined for every annotator")
        value = math.nan
    else:
        value = float(vals[ok].mean())
    infinite = (f"; {n_infinite} infinite rating{'s' if n_infinite > 1 else ''} treated as "
                "missing (NaN)" if n_infinite else "")
    return CorrelationResult(statistic=statistic, level=level, value=value,
                             n=int(max(ns) if ns else 0), method=method,
                             n_dropped=int((~ok).sum()), epsilon=float(epsilon),
                             notes=f"{k} annotators; per annotator: {per}; "
                                   "n = most rows used by one annotator; n_dropped = annotators "
                                   "for whom the statistic was undefined" + infinite)


def _nanmean_rows(M: np.ndarray) -> np.ndarray:
    fin = np.isfinite(M)
    cnt = fin.sum(axis=1)
    tot = np.where(fin, M, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
