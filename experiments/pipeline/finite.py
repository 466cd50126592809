"""One rule for scores that are not finite numbers, whatever their source (a
metric's output, a `--metric-scores` file, scores handed to the Python API):
each becomes NaN with its reason, so it is listed in failures.csv, counted in
`n_nan`, and never reaches a statistic.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def nonfinite_reason(value: float) -> str:
    return f"score {value!r} is not a finite number"


def finite_or_nan(scores: np.ndarray, ids: Sequence[str], failures: dict[str, str],
                  where: dict[str, str] | None = None) -> tuple[np.ndarray, dict[str, str]]:
    """Scores with every +-inf (or unexplained NaN) made NaN, and the failures with a
    reason for each; `where` may name a place per id (a file and line) for the reasons."""
    scores = np.array(scores, dtype=float)
    failures = dict(failures)
    for i in np.flatnonzero(~np.isfinite(scores)):
        sample_id = ids[i]
        if sample_id in failures:
            scores[i] = np.nan
            continue
        place = f"{where[sample_id]}: " if where and sample_id in where else ""
        failures[sample_id] = place + (nonfinite_reason(float(scores[i])) if not np.isnan(scores[i])
                                       else "NaN score without a reason")
        scores[i] = np.nan
    return scores, failures


def count_nonfinite(values) -> int:
    return int((~np.isfinite(np.asarray(values, dtype=float))).sum())
