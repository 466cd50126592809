"""A test metric whose output holds non-finite scores, registered as `odd_scores`."""
from __future__ import annotations

import numpy as np

from metrics.base import Metric, MetricOutput


class OddScores(Metric):
    """Score = the candidate's length, except +inf for the first sample of a call
    and -inf for the second (a metric gone wrong, as a user's plugin might)."""

    name = "odd_scores"

    def _score_chunk(self, samples):
        scores = np.array([float(len(s.candidate)) for s in samples])
        scores[:2] = [np.inf, -np.inf][: len(scores)]
        return MetricOutput(scores)
