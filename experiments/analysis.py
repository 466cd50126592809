"""Turn a benchmark's judgments and a metric's scores into result rows.

Each `ProtocolStep` of a benchmark becomes one or more `ResultRow`s (one per
subset when the step splits by a column). The statistics themselves live in
`correlation/`; this module only lines up the arrays.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .benchmark import Benchmark, ProtocolStep, scores_for

RATING_STATISTICS = ("kendall_b", "kendall_c", "kendall_23", "acc23", "spearman", "pearson")
PAIR_STATISTICS = ("accuracy", "tau_like", "acc23")


@dataclass
class ResultRow:
    benchmark: str
    metric: str
    statistic: str
    level: str
    value: float
    ci_low: float
    ci_high: float
    n: int
    subset: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _subsets(step: ProtocolStep, column: list[str] | None, size: int):
    if step.by is None:
        yield "", np.arange(size)
        return
    if column is None:
        raise ValueError(f"protocol splits by {step.by!r}, but the judgments have no such column")
    labels = np.asarray(column)
    for label in sorted(set(column)):
        yield label, np.flatnonzero(labels == label)


def evaluate(bench: Benchmark, metric: str, scores: np.ndarray) -> list[ResultRow]:
    """Every number of `bench`'s protocol for one metric's per-sample `scores`."""
    from correlation import kendall_tau

    index = bench.sample_index()
    rows: list[ResultRow] = []
    for step in bench.protocol:
        if step.level == "pair":
            prefs = bench.preferences
            a = scores_for(prefs.sample_a, index, scores)
            b = scores_for(prefs.sample_b, index, scores)
            for subset, idx in _subsets(step, getattr(prefs, step.by or "category"),
                                        len(prefs)):
                value, n = _pair_statistic(step.statistic, a[idx], b[idx], prefs.outcome[idx])
                rows.append(ResultRow(bench.name, metric, step.statistic, step.level, value,
                                      np.nan, np.nan, n, subset))
        else:
            ratings = bench.ratings
            m = scores_for(ratings.sample_ids, index, scores)
            h = ratings.values
            for subset, idx in _subsets(step, getattr(ratings, step.by or "items"), len(ratings)):
                ok = idx[np.isfinite(m[idx]) & np.isfinite(h[idx])]
                variant = step.statistic.split("_")[-1]
                value = kendall_tau(m[ok], h[ok], variant=variant)
                rows.append(ResultRow(bench.name, metric, step.statistic, step.level, value,
                                      np.nan, np.nan, len(ok), subset))
    return rows


def _pair_statistic(statistic: str, a: np.ndarray, b: np.ndarray, outcome: np.ndarray):
    ok = np.isfinite(a) & np.isfinite(b)
    a, b, outcome = a[ok], b[ok], outcome[ok]
    metric_says = np.sign(a - b)
    decisive = outcome != 0
    if statistic == "accuracy":
        n = int(decisive.sum())
        return float(np.mean(metric_says[decisive] == outcome[decisive])) if n else np.nan, n
    if statistic == "tau_like":
        concordant = int(np.sum(decisive & (metric_says == outcome)))
        discordant = int(np.sum(decisive & (metric_says == -outcome)))
        total = concordant + discordant
        return (concordant - discordant) / total if total else np.nan, int(decisive.sum())
    if statistic == "acc23":
        return float(np.mean(metric_says == outcome)) if len(a) else np.nan, len(a)
    raise ValueError(f"unknown pair statistic {statistic!r}")
