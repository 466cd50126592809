"""Scores computed elsewhere, brought in as a metric (`--metric-scores NAME=FILE.csv`).

The file has columns `sample_id,score`; its ids must be the benchmark's
sample ids (each loader documents how it builds them). An id the benchmark
does not have is an error naming the line; a benchmark sample the file does
not score is NaN, counted and reported like any unscored sample.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..benchmarks.base import Benchmark, DataError
from ..benchmarks.files import csv_rows, require_file, text_number


@dataclass
class ExternalScores:
    name: str
    path: Path
    scores: dict[str, float]
    lines: dict[str, int]

    @classmethod
    def read(cls, name: str, path: Path) -> "ExternalScores":
        require_file(path, f"--metric-scores {name}")
        scores: dict[str, float] = {}
        lines: dict[str, int] = {}
        for number, row in csv_rows(path, ["sample_id", "score"]):
            sample_id = row["sample_id"].strip()
            if sample_id in scores:
                raise DataError(f"{path}:{number}: duplicate sample_id {sample_id!r} "
                                f"(first on line {lines[sample_id]})")
            score = text_number(row["score"]) if row["score"].strip() else np.nan
            if score is None:
                raise DataError(f"{path}:{number}: score {row['score']!r} is not a number")
            scores[sample_id] = score
            lines[sample_id] = number
        return cls(name, path, scores, lines)

    def align(self, bench: Benchmark) -> np.ndarray:
        """Scores in the order of `bench.samples`; unknown ids are an error."""
        index = bench.sample_index()
        unknown = [i for i in self.scores if i not in index]
        if unknown:
            first = unknown[0]
            raise DataError(
                f"{self.path}:{self.lines[first]}: sample_id {first!r} is not a sample of "
                f"{bench.name} ({len(unknown)} of {len(self.scores)} ids do not match; "
                f"its ids look like {bench.samples[0].id!r})")
        return np.array([self.scores.get(s.id, np.nan) for s in bench.samples])

