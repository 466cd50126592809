"""The shared internal model of the package: a Problem and its point values (internal).

`Problem` holds one or more metrics' scores against the same human scores,
cleaned once (non-finite rows dropped and counted, labels coded, pair margins
turned into outcomes); `level_point` computes a statistic at a level (see
`correlation.levels` for the definitions). `levels`, `bootstrap`, `compare`,
`ceiling`, `preferences` and `_resample` all build on this module, which
imports none of them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._grouped import grouped_values
from ._scaling import rescaled
from ._validate import as_float_vector, check_lengths, infinite_count, infinite_note, label_codes
from .statistics import STATISTICS, check_statistic, statistic_value

LEVELS = ("flat", "item", "system", "pair")
PAIR_STATISTICS = ("accuracy", "tau_like", "acc23")
UNITS = ("rows", "items", "systems", "both")


@dataclass
class PointInfo:
    value: float
    n: int
    n_groups: int | None
    n_dropped: int
    reason: str | None


def check_level_statistic(statistic: str, level: str, epsilon: float) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")
    if level == "pair":
        if statistic not in PAIR_STATISTICS:
            raise ValueError(f"level 'pair' takes statistics {', '.join(PAIR_STATISTICS)}, "
                             f"not {statistic!r}")
        if not (math.isfinite(epsilon) and epsilon >= 0):
            raise ValueError(f"epsilon must be a finite number >= 0, got {epsilon!r}")
    else:
        if statistic not in STATISTICS:
            raise ValueError(f"unknown statistic {statistic!r} for level {level!r}; choose one of "
                             f"{', '.join(STATISTICS)}")
        check_statistic(statistic, epsilon)


def pair_outcomes(margin: np.ndarray, epsilon: float) -> np.ndarray:
    """Metric outcome per pair: +1 prefers A (margin > epsilon), -1 prefers B, 0 tie."""
    out = np.sign(margin)
    out[np.abs(margin) <= epsilon] = 0
    return out


def pair_terms(outcome: np.ndarray, human: np.ndarray, statistic: str):
    """Numerator and denominator per pair: the statistic is sum(num) / sum(den)."""
    decisive = human != 0
    agree = outcome == human
    if statistic == "accuracy":   # metric strictly prefers the human-preferred side
        return (agree & decisive).astype(float), decisive.astype(float)
    if statistic == "tau_like":   # (concordant - discordant) / (concordant + discordant)
        conc = (agree & decisive).astype(float)
        return 2 * conc - decisive, decisive.astype(float)
    if statistic == "acc23":      # agreement including ties, over all pairs
        return agree.astype(float), np.ones(human.size)
    raise ValueError(f"unknown pair statistic {statistic!r}")


class Problem:
    """One or more metrics' scores against the same human scores, ready to correlate.

    Rows where any metric or the human score is NaN or infinite are dropped
    (counted in n_nan; infinite scores are also described in ``notes``); labels
    become integer codes. At level pair the metric columns are
    turned into outcomes (-1/0/+1) with epsilon once, here.
    """

    def __init__(self, metrics, human, statistic: str, level: str = "flat", items=None,
                 systems=None, epsilon: float = 0.0, names=None):
        check_level_statistic(statistic, level, epsilon)
        metrics = list(metrics)
        if names is None:
            names = ("metric",) if len(metrics) == 1 else tuple(f"metric {j}" for j in range(len(metrics)))
        if len(names) != len(metrics):
            raise ValueError(f"{len(names)} names for {len(metrics)} metrics")
        cols = [as_float_vector(m, name) for m, name in zip(metrics, names)]
        y = as_float_vector(human, "human")
        n = check_lengths([(name, c) for name, c in zip(names, cols)] + [("human", y)])
        item_codes = label_codes(items, "items", n)
        system_codes = label_codes(systems, "systems", n)
        if level == "item" and item_codes is None:
            raise ValueError("level 'item' needs items= (one label per row saying which item it scores)")
        if level == "system" and system_codes is None:
            raise ValueError("level 'system' needs systems= (one label per row saying which system produced it)")
        X = np.column_stack(cols) if cols else np.empty((n, 0))
        keep = np.isfinite(y) & np.isfinite(X).all(axis=1)
        self.n_nan = int(n - keep.sum())
        #: says how many infinite scores were treated as NaN ("" when none), for results' notes
        self.notes = infinite_note([(name, infinite_count(c)) for name, c in zip(names, cols)]
                                   + [("human", infinite_count(y))])
        self.X = X[keep]
        self.y = y[keep]
        self.items = _recode(item_codes[keep]) if item_codes is not None else None
        self.systems = _recode(system_codes[keep]) if system_codes is not None else None
        self.statistic, self.level, self.epsilon = statistic, level, float(epsilon)
        self.names = tuple(names)
        if level == "pair":
            bad = ~np.isin(self.y, (-1.0, 0.0, 1.0))
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                raise ValueError(f"human outcomes at level 'pair' must be +1 (A better), -1 (B better) "
                                 f"or 0 (tie); got {self.y[k]!r} at row {k}")
            self.X = np.column_stack([pair_outcomes(c, self.epsilon) for c in self.X.T]) \
                if self.X.shape[1] else self.X
        self._cache: dict = {}

    @property
    def n(self) -> int:
        return int(self.y.size)

    @property
    def a(self) -> int:
        return int(self.X.shape[1])

    def n_units(self, unit: str) -> int:
        if unit == "rows":
            return self.n
        codes = self.items if unit == "items" else self.systems
        return 0 if codes is None else int(codes.max() + 1) if codes.size else 0

    # -- point values ----------------------------------------------------------
    def point(self, j: int = 0) -> PointInfo:
        return level_point(self.X[:, j], self.y, self.items, self.systems, self.statistic,
                           self.level, self.epsilon)

    def group_values(self, j: int) -> np.ndarray:
        """Per-item values of column j (item level), cached."""
        key = ("groups", j)
        if key not in self._cache:
            g = int(self.items.max()) + 1 if self.items.size else 0
            self._cache[key] = grouped_values(self.X[:, j], self.y, self.items, g,
                                              self.statistic, self.epsilon)
        return self._cache[key]


def round_averages(v: np.ndarray) -> np.ndarray:
    """Round to 12 significant digits: equal averages summed in another order stay equal."""
    v = np.asarray(v, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mag = np.where(np.isfinite(v) & (v != 0), np.floor(np.log10(np.abs(v))), 0.0)
        # 10 ** (11 - mag) overflows for |v| below ~1e-297: apply it in two factors then
        power = 11 - mag
        first = np.clip(power, -300, 300)
        scale, rest = 10.0 ** first, 10.0 ** (power - first)
        out = np.round(v * scale * rest) / rest / scale
    return np.where(np.isfinite(v), out, v)


def _recode(codes: np.ndarray) -> np.ndarray:
    """Compact codes 0..G-1 after rows were dropped."""
    _, inv = np.unique(codes, return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def level_point(x, y, items, systems, statistic, level, epsilon) -> PointInfo:
    """Value of one metric column at a level, quietly (reason set when undefined)."""
    n = int(y.size)
    if level == "flat":
        v, reason = statistic_value(x, y, statistic, epsilon)
        return PointInfo(v, n, None, 0, reason)
    if level == "pair":
        num, den = pair_terms(x, y, statistic)
        d = den.sum()
        if d == 0:
            what = "no pair has a decisive human judgment" if statistic != "acc23" else "no pairs"
            return PointInfo(float("nan"), n, None, 0, what)
        return PointInfo(float(num.sum() / d), n, None, 0, None)
    if level == "item":
        g = int(items.max()) + 1 if items.size else 0
        vals = grouped_values(x, y, items, g, statistic, epsilon)
        ok = np.isfinite(vals)
        used = int(np.isin(items, np.flatnonzero(ok)).sum())
        if not ok.any():
            return PointInfo(float("nan"), 0, 0, g, "it is undefined in every item "
                             "(each needs two or more rows and, for this statistic, no constant side)")
        return PointInfo(float(vals[ok].mean()), used, int(ok.sum()), int(g - ok.sum()), None)
    if level == "system":
        s = int(systems.max()) + 1 if systems.size else 0
        cnt = np.bincount(systems, minlength=s)
        # averages of rescaled scores: the sums cannot overflow, the statistics do not change
        mx = round_averages(np.bincount(systems, weights=rescaled(x), minlength=s)[cnt > 0] / cnt[cnt > 0])
        my = round_averages(np.bincount(systems, weights=rescaled(y), minlength=s)[cnt > 0] / cnt[cnt > 0])
        v, reason = statistic_value(mx, my, statistic, epsilon)
        if reason:
            reason = f"{reason} (over {mx.size} system averages)"
        return PointInfo(v, int(mx.size), int(mx.size), 0, reason)
    raise ValueError(f"unknown level {level!r}")
