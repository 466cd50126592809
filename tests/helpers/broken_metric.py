"""A plugin metric that breaks the metric contract in the way `behaviour` names."""
from __future__ import annotations

import numpy as np

from metrics.base import Metric, MetricOutput


class Broken(Metric):
    """Score = the candidate's length, returned wrongly: `too_few` scores, `strings`,
    `two_columns` (an (n, 2) array), a `list` instead of a MetricOutput, or `raises`
    ZeroDivisionError from the second chunk on; `chunk` samples a chunk."""

    name = "broken"

    def __init__(self, behaviour: str = "too_few", chunk: int = 1000):
        self.behaviour = behaviour
        self.chunk_size = chunk
        self.calls = 0

    def _score_chunk(self, samples):
        self.calls += 1
        lengths = np.array([float(len(s.candidate)) for s in samples])
        if self.behaviour == "too_few":
            return MetricOutput(lengths[:-1])
        if self.behaviour == "strings":
            return MetricOutput(["good"] * len(samples))
        if self.behaviour == "two_columns":
            return MetricOutput(np.stack([lengths, lengths], axis=1))
        if self.behaviour == "list":
            return [1.0] * len(samples)
        if self.behaviour == "raises" and self.calls > 1:
            raise ZeroDivisionError("division by zero")
        return MetricOutput(lengths)
