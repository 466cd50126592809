"""The shape every benchmark loader returns.

A `Benchmark` holds the samples to score, the human judgments they are
compared with (scalar `Ratings`, pairwise `Preferences`, or both), the
benchmark's standard protocol (which statistic at which level is the number
papers report), and its citation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from metrics import Sample

if TYPE_CHECKING:
    from ..pipeline.settings import AnalysisSettings


class DataError(ValueError):
    """A benchmark file is malformed; the message names the file and line."""


@dataclass
class Ratings:
    """Scalar human judgments, one row per judgment.

    Several rows may share a sample (Flickr8k-Expert has three expert rows
    per caption). `items` groups rows for item-level correlation (the image),
    `systems` names the system that wrote the candidate, `annotators` who gave
    the judgment.
    """

    sample_ids: list[str]
    values: np.ndarray
    items: list[str] | None = None
    systems: list[str] | None = None
    annotators: list[str] | None = None

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=float)
        n = len(self.sample_ids)
        for name in ("values", "items", "systems", "annotators"):
            column = getattr(self, name)
            if column is not None and len(column) != n:
                raise ValueError(f"Ratings.{name} has {len(column)} rows, sample_ids has {n}")

    def __len__(self) -> int:
        return len(self.sample_ids)


# Pairwise outcomes: which candidate people preferred.
A_BETTER, TIE, B_BETTER = 1, 0, -1


@dataclass
class Preferences:
    """Pairwise human judgments: for each pair, was A or B better, or a tie.

    `category` splits pairs into the subsets a benchmark reports (PASCAL-50S'
    HC/HI/HM/MM); `verdict` keeps the original label (Socratis' human /
    machine / both_good / both_bad). `system_a` / `system_b` name the systems
    that wrote A and B, when known (Socratis: "human" and the generator), for
    rankings from the pairs as battles.
    """

    pair_ids: list[str]
    sample_a: list[str]
    sample_b: list[str]
    outcome: np.ndarray
    category: list[str] | None = None
    verdict: list[str] | None = None
    annotators: list[str] | None = None
    system_a: list[str] | None = None
    system_b: list[str] | None = None

    def __post_init__(self) -> None:
        self.outcome = np.asarray(self.outcome, dtype=int)
        n = len(self.pair_ids)
        if (self.system_a is None) != (self.system_b is None):
            raise ValueError("Preferences.system_a and system_b go together: give both or neither")
        for name in ("sample_a", "sample_b", "outcome", "category", "verdict", "annotators",
                     "system_a", "system_b"):
            column = getattr(self, name)
            if column is not None and len(column) != n:
                raise ValueError(f"Preferences.{name} has {len(column)} rows, pair_ids has {n}")
        bad = set(np.unique(self.outcome)) - {A_BETTER, TIE, B_BETTER}
        if bad:
            raise ValueError(f"Preferences.outcome must be +1, 0 or -1, found {sorted(bad)}")

    def __len__(self) -> int:
        return len(self.pair_ids)


@dataclass(frozen=True)
class ProtocolStep:
    """One number a benchmark reports: a statistic at a level, maybe per subset.

    statistic: kendall_b kendall_c kendall_23 acc23 spearman pearson accuracy tau_like
    level: flat item system pair
    by: split the judgments by this column first ("category") and report each.
    """

    statistic: str
    level: str
    by: str | None = None


@dataclass
class Benchmark:
    """A benchmark's samples, the human judgments they are compared with, and how.

    `name` is given by the registry (`load_benchmark` sets the name the user
    typed), so a loader never spells it. `illustrative`, when not empty, marks
    data made up for a smoke run (the demo) and says so in words; reports and
    figures show it. `tables`, when a
    benchmark family reports extra tables (Socratis), is called as
    `tables(bench, {metric: per-sample scores}, settings)` and returns
    `{table name: rows}`.
    """

    samples: list[Sample]
    protocol: list[ProtocolStep]
    citation: str
    ratings: Ratings | None = None
    preferences: Preferences | None = None
    notes: list[str] = field(default_factory=list)
    name: str = ""
    illustrative: str = ""
    tables: Callable[["Benchmark", dict[str, np.ndarray], "AnalysisSettings"],
                     dict[str, list[dict]]] | None = None

    def __post_init__(self) -> None:
        if not self.samples:
            raise DataError(f"{self.name}: the benchmark has no samples")
        ids = {s.id for s in self.samples}
        if len(ids) != len(self.samples):
            seen: set[str] = set()
            dup = next(s.id for s in self.samples if s.id in seen or seen.add(s.id))
            raise DataError(f"{self.name or 'benchmark'}: duplicate sample id {dup!r}")
        unknown = []
        if self.ratings is not None:
            unknown += [i for i in self.ratings.sample_ids if i not in ids]
        if self.preferences is not None:
            unknown += [i for i in self.preferences.sample_a + self.preferences.sample_b
                        if i not in ids]
        if unknown:
            raise DataError(f"{self.name or 'benchmark'}: judgments name {len(unknown)} unknown sample ids, "
                            f"e.g. {unknown[0]!r}")

    def sample_index(self) -> dict[str, int]:
        return {s.id: i for i, s in enumerate(self.samples)}


def scores_for(ids: Sequence[str], index: dict[str, int], scores: np.ndarray) -> np.ndarray:
    """Look up per-sample scores for a column of sample ids."""
    return np.asarray([scores[index[i]] for i in ids], dtype=float)
