"""A deterministic test metric that takes time per chunk, for resume tests."""
from __future__ import annotations

import hashlib
import os
import time

import numpy as np

from metrics.base import Metric, MetricOutput


class SlowLengthMetric(Metric):
    """Score = a hash-derived number of the candidate; sleeps per chunk and
    appends a line to `progress_file` after each chunk."""

    name = "slow_length"

    def __init__(self, delay: float = 0.0, progress_file: str | None = None, chunk_size: int = 10):
        self.delay = delay
        self.progress_file = progress_file
        self.chunk_size = chunk_size
        self.scored = 0

    def _score_chunk(self, samples):
        time.sleep(self.delay)
        self.scored += len(samples)
        scores = [int(hashlib.md5(s.candidate.encode()).hexdigest()[:6], 16) / 1e7 for s in samples]
        if self.progress_file:
            with open(self.progress_file, "a") as f:
                f.write(f"{len(samples)}\n")
                f.flush()
                os.fsync(f.fileno())
        return MetricOutput(np.array(scores), extras={"double": 2 * np.array(scores)})
