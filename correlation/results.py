"""Result objects: small frozen dataclasses with named fields and `to_dict()`.

`to_dict()` returns plain Python values only (float, int, str, None, lists and
dicts of those) so `json.dumps(result.to_dict())` works; NaN and infinite
floats become None there, because JSON has no NaN.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

import numpy as np

__all__ = ["CorrelationResult", "ComparisonResult", "ClusterEntry", "SignificanceClusters",
           "PreferenceResult", "TieCalibration"]

NAN = float("nan")


def _plain(value: Any) -> Any:
    """JSON-friendly copy of a value (numpy scalars to Python, NaN to None)."""
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


class _ToDict:
    def to_dict(self) -> dict:
        """Field name -> JSON-friendly value (NaN -> None)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class CorrelationResult(_ToDict):
    """One statistic at one level, with its interval when one was computed.

    statistic: kendall_b kendall_c kendall_23 acc23 spearman pearson (levels
      flat/item/system) or accuracy tau_like acc23 (level pair).
    level: flat | item | system | pair.
    value: the statistic, a raw value (correlations in [-1, 1]); NaN if undefined.
    ci_low, ci_high: interval bounds (NaN when no interval was computed).
    n: pairs of (metric, human) values the statistic used: rows (flat, item,
      pair) or systems (system level).
    method: how value and interval were obtained, in words.
    n_dropped: groups (items at item level, systems at system level) dropped
      because the statistic was undefined in them.
    n_nan: rows dropped because a score was NaN.
    n_groups: groups the value averages over (item level) or systems (system).
    confidence, n_resamples, unit, seed: the bootstrap settings (None if none).
    n_units: how many of `unit` the bootstrap resampled (rows, items or systems
      after NaN rows were dropped; with unit "both", the items, the systems being
      `n`); None without an interval.
    epsilon: metric tie threshold (kendall_23, acc23).
    notes: anything else worth knowing (e.g. resamples where the statistic was undefined).
    """

    statistic: str
    level: str
    value: float
    ci_low: float = NAN
    ci_high: float = NAN
    n: int = 0
    method: str = "point estimate"
    n_dropped: int = 0
    n_nan: int = 0
    n_groups: int | None = None
    confidence: float | None = None
    n_resamples: int | None = None
    unit: str | None = None
    n_units: int | None = None
    seed: int | None = None
    epsilon: float = 0.0
    notes: str = ""

    def __str__(self) -> str:
        ci = ""
        if math.isfinite(self.ci_low) or math.isfinite(self.ci_high):
            ci = f" [{self.ci_low:.4f}, {self.ci_high:.4f}]"
        return f"{self.statistic} ({self.level}) = {self.value:.4f}{ci}, n={self.n}"


@dataclass(frozen=True)
class ComparisonResult(_ToDict):
    """Two metrics scored against the same human judgments.

    delta = value_a - value_b. ci_low/ci_high: paired-bootstrap interval of
    delta (NaN if not computed); se: standard deviation of the paired-bootstrap
    replicates of delta, its standard error (NaN if not computed). p_value: paired permutation test (NaN if not
    computed), for the hypothesis named by `alternative` ("two-sided": the
    statistics differ; "greater": a is better than b; "less": a is worse).
    unit, n_units: what the bootstrap resampled (the permutation test's swapped
    unit for a test alone) and how many (as in `CorrelationResult`).
    swap_unit: what the permutation test swapped (rows, items or systems; None without one).
    """

    statistic: str
    level: str
    metric_a: str
    metric_b: str
    value_a: float
    value_b: float
    delta: float
    ci_low: float = NAN
    ci_high: float = NAN
    p_value: float = NAN
    se: float = NAN
    alternative: str = "two-sided"
    n: int = 0
    n_nan: int = 0
    method: str = ""
    confidence: float | None = None
    n_resamples: int | None = None
    n_permutations: int | None = None
    unit: str | None = None
    n_units: int | None = None
    seed: int | None = None
    epsilon: float = 0.0
    notes: str = ""
    swap_unit: str | None = None

    def interval_test_disagree(self) -> bool | None:
        """Whether the interval and the two-sided test disagree on "a and b differ".

        A two-sided test at level 1 - confidence and the interval at that
        confidence answer the same question: the interval excludes 0 exactly
        when the difference is significant. True when one says so and the other
        does not (the interval excludes 0 but p > 1 - confidence, or includes 0
        but p <= 1 - confidence): the two resampling schemes see the data
        differently, typically because there are few units, and neither verdict
        should be reported alone. None without both, or for a one-sided p-value.
        """
        if self.alternative != "two-sided" or self.confidence is None:
            return None
        if not all(math.isfinite(v) for v in (self.ci_low, self.ci_high, self.p_value)):
            return None
        excludes_zero = self.ci_low > 0 or self.ci_high < 0
        return excludes_zero != (self.p_value <= round(1 - self.confidence, 12))


@dataclass(frozen=True)
class ClusterEntry(_ToDict):
    """One metric's place in the significance clusters (1 = top cluster; None when
    the clusters could not be formed, see `SignificanceClusters.notes`)."""

    metric: str
    value: float
    cluster: int | None


@dataclass(frozen=True)
class SignificanceClusters(_ToDict):
    """Metrics ranked by a statistic and grouped into significance clusters.

    entries: sorted by value, best first. p_values[i][j] (i above j in the
    ranking) is the one-sided permutation p-value for "metric i is better
    than metric j"; None on and below the diagonal. When the data have too
    few units for the test to reach alpha at all, every entry's cluster is
    None and `notes` says why (`correlation.compare.smallest_p_value`).
    """

    statistic: str
    level: str
    alpha: float
    entries: tuple = field(default_factory=tuple)
    p_values: tuple = field(default_factory=tuple)
    method: str = ""
    n_permutations: int | None = None
    seed: int | None = None
    notes: str = ""

    def clusters(self) -> list[list[str]]:
        """Metric names per cluster, best cluster first (none without clusters)."""
        out: dict[int, list[str]] = {}
        for e in self.entries:
            if e.cluster is not None:
                out.setdefault(e.cluster, []).append(e.metric)
        return [out[k] for k in sorted(out)]


@dataclass(frozen=True)
class PreferenceResult(_ToDict):
    """Agreement of a metric with pairwise human preferences (see `correlation.preferences`).

    n: pairs used; n_decisive: pairs with a human preference; n_human_ties:
    pairs judged a tie; n_metric_ties: decisive pairs the metric tied (counted
    wrong by accuracy); n_nan: pairs dropped for NaN (an infinite score counts
    as NaN); notes: how many scores were infinite.
    """

    accuracy: float
    tau_like: float
    acc23: float
    n: int
    n_decisive: int
    n_human_ties: int
    n_metric_ties: int
    n_nan: int
    epsilon: float = 0.0
    notes: str = ""


class TieCalibration(NamedTuple):
    """Result of `tie_calibration`: the chosen epsilon and acc23 at that epsilon."""

    epsilon: float
    acc23: float
