"""Statistical power: how many judged units a study needs, and what a finished one could detect.

Simulation (Card et al. 2020, "With Little Power Comes Great Responsibility",
EMNLP): treat a pilot as the population, draw studies of n units from it with
replacement (a unit is the resampling unit of the report: a judged pair, an
image, a system), run on each the test the report runs, at the same alpha,
and count how often it is significant. Power at n is that share; its
Monte-Carlo standard error is sqrt(p (1 - p) / simulations).

- `power_metric_vs_metric`: the two-sided paired permutation test of
  `correlation.compare` (swapping the metrics' scores per unit; z-scored
  scores at the flat level), significant when p <= alpha.
- `power_metric_vs_value`: the bootstrap interval (BCa or percentile, level
  1 - alpha) excludes a fixed value such as chance accuracy 0.5; or, for
  pair-level accuracy with one judgment per unit, the exact binomial test.
- `power_verdicts`: Socratis' human-study verdicts: are human-preferred and
  machine-preferred verdicts equally frequent? The exact two-sided sign
  (binomial) test of the two counts, ties (both good / both bad) left out.

Every draw of a simulated study (its units, its permutations or bootstrap
resamples) is a multiplicity matrix over the pilot's units, so the
statistics come from the engine's weighted fast paths (`_resample`) for many
studies at once: the permutation draws of a study of n units are swap counts
(how many copies of each unit swap), which at pair level reduce to binomial
draws per distinct margin. Two departures from running the report on each
materialised study, both documented: flat-level scores are z-scored with the
pilot's mean and standard deviation (the report z-scores each data set with
its own; a fixed transform keeps the permutation test exact); cases without a
batched path (system level, a tie threshold) materialise each study and call
the engine, one study at a time.

Closed forms, for checking the simulation and for planning without a pilot:

- `binomial_test_power`: the exact two-sided binomial test (scipy's
  `binomtest` p-value, "minlike").
- `sign_test_power`: the exact sign test with ties, which is also McNemar's
  test of two metrics' paired accuracy (the exact conditional binomial test
  on discordant pairs; power as in Connor 1987, Biometrics 43, computed
  exactly by summing over the number of discordant pairs), optionally for
  the Monte-Carlo permutation version with a given number of draws.
- `correlation_difference_power`: two dependent correlations with the same
  human scores, normal approximation on Fisher's z (Meng, Rosenthal & Rubin
  1992, Psychological Bulletin 111), with the variance of z for Spearman and
  Kendall from Bonett & Wright (2000, Psychometrika 65).
- `sign_test_size`, `detectable_share`: the same, turned round: units needed
  for an effect, and the effect k verdicts can detect.
- `minimum_detectable_difference`: (z_{1-alpha/2} + z_power) x SE.

Assumptions: the pilot is representative of the study to be run, and units
are exchangeable (independent draws from one population).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats
from scipy.special import ndtri

from ._kendall_engine import KendallBatch, tau_from_counts
from ._problem import Problem, pair_terms
from ._resample import (materialise, standardized, weighted_pearson, weighted_spearman,
                        weighted_values)
from ._validate import make_rng
from .bootstrap import resolve_unit
from .compare import _permutation_draws, _permutation_unit
from .results import _ToDict
from .statistics import KENDALL_STATISTICS

__all__ = ["PowerCurve", "power_metric_vs_metric", "power_metric_vs_value", "power_verdicts",
           "default_sizes", "smallest_size", "binomial_test_power", "sign_test_power",
           "sign_test_size", "detectable_share", "fisher_z_se", "pearson_equivalent",
           "correlation_difference_power", "minimum_detectable_difference"]

log = logging.getLogger(__name__)

_TOL = 1e-12
_BLOCK = 2_500_000   # elements per (variants x rows) block


# ---------------------------------------------------------------------------
# result

@dataclass(frozen=True)
class PowerCurve(_ToDict):
    """Power at each candidate study size.

    comparison: "metric vs metric", "metric vs value" or "verdicts".
    test: the test run on each simulated study, in words.
    sizes, power, mc_se: candidate sizes (units), estimated power, its
      Monte-Carlo standard error sqrt(p (1 - p) / n_simulations).
    n_required: the smallest size from which every larger candidate reaches
      target_power (None when the largest does not).
    pilot_units: units in the pilot; pilot_effect: the pilot's difference
      (a - b; value - fixed value; human share - 1/2 of decisive verdicts).
    """

    comparison: str
    test: str
    statistic: str
    level: str
    unit: str
    sizes: tuple
    power: tuple
    mc_se: tuple
    n_simulations: int
    alpha: float
    target_power: float
    n_required: int | None
    pilot_units: int
    pilot_effect: float
    seed: int | None = None
    notes: str = ""

    def rows(self) -> list[dict]:
        """One flat dict per candidate size (for CSV)."""
        return [{"n": int(n), "power": float(p), "mc_se": float(s)}
                for n, p, s in zip(self.sizes, self.power, self.mc_se)]


def smallest_size(sizes: Sequence[int], power: Sequence[float], target: float) -> int | None:
    """The first size from which every larger candidate has power >= target."""
    ok = np.asarray(power, dtype=float) >= target
    if ok.size == 0 or not ok[-1]:
        return None
    below = np.flatnonzero(~ok)
    return int(sizes[0] if below.size == 0 else sizes[below[-1] + 1])


def default_sizes(n_units: int, points: int = 20) -> list[int]:
    """`points` sizes, evenly spaced on a log scale from n_units / 10 (at least 10) to 5 x n_units."""
    lo, hi = max(10, n_units // 10), max(20, 5 * n_units)
    return sorted(set(int(round(v)) for v in np.geomspace(lo, hi, points)))


def _check_common(sizes, n_simulations, alpha, target_power):
    sizes = [int(s) for s in sizes]
    if not sizes or min(sizes) < 1:
        raise ValueError(f"sizes must be positive integers, got {sizes!r}")
    if sorted(set(sizes)) != sizes:
        raise ValueError(f"sizes must be increasing and distinct, got {sizes!r}")
    if not isinstance(n_simulations, (int, np.integer)) or n_simulations < 1:
        raise ValueError(f"n_simulations must be a positive integer, got {n_simulations!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    if not 0 < target_power < 1:
        raise ValueError(f"target_power must be between 0 and 1, got {target_power!r}")
    return sizes


def _progress(sizes, progress: bool, what: str):
    if not progress:
        return sizes
    from tqdm import tqdm
    return tqdm(sizes, desc=f"power ({what})", unit="size", leave=False)


def _curve(comparison, test, statistic, level, unit, sizes, hits, n_sim, alpha, target,
           pilot_units, effect, seed, notes) -> PowerCurve:
    power = np.asarray(hits, dtype=float) / n_sim
    se = np.sqrt(power * (1 - power) / n_sim)
    log.info("%s, %s (%s): power %s at sizes %s", comparison, statistic, level,
             np.round(power, 3).tolist(), list(sizes))
    return PowerCurve(comparison=comparison, test=test, statistic=statistic, level=level,
                      unit=unit, sizes=tuple(sizes), power=tuple(power.tolist()),
                      mc_se=tuple(se.tolist()), n_simulations=int(n_sim), alpha=float(alpha),
                      target_power=float(target), n_required=smallest_size(sizes, power, target),
                      pilot_units=int(pilot_units), pilot_effect=float(effect),
                      seed=int(seed) if isinstance(seed, (int, np.integer)) else None,
                      notes="; ".join(n for n in notes if n))


def _unit_codes(prob: Problem, unit: str) -> np.ndarray:
    if unit == "rows":
        return np.arange(prob.n)
    return prob.items if unit == "items" else prob.systems


def _studies(rng, n: int, n_units: int, n_sim: int) -> np.ndarray:
    """Multiplicity of every pilot unit in each simulated study of n units (n_sim x units)."""
    return rng.multinomial(n, np.full(n_units, 1.0 / n_units), size=n_sim)


# ---------------------------------------------------------------------------
# metric vs metric: the paired permutation test

def _p_significant(deltas: np.ndarray, alpha: float) -> np.ndarray:
    """Column 0 the observed delta, the rest permutation draws: two-sided p <= alpha
    with p = (1 + #finite draws as extreme) / (1 + #finite draws), as in `compare`."""
    obs, d = deltas[:, :1], deltas[:, 1:]
    finite = np.isfinite(d)
    with np.errstate(invalid="ignore"):
        hits = np.count_nonzero(finite & (np.abs(d) >= np.abs(obs) - _TOL), axis=1)
    p = (1 + hits) / (1 + finite.sum(axis=1))
    return np.isfinite(obs[:, 0]) & (p <= alpha)


class _PairPermutation:
    """Pair level: delta = sum over swapping parts p of (C_p - 2 S_p) d_p / sum_u C_u den_u,
    S_p ~ Bin(C_p, 1/2) the swapped copies of part p (a unit, or a row when rows swap one by
    one); parts with the same |d_p| pool their copies, so a draw is one binomial per margin."""

    def __init__(self, prob: Problem, codes: np.ndarray, n_units: int, rows_swap: bool):
        num, den = (np.column_stack(t) for t in zip(*(pair_terms(prob.X[:, j], prob.y, prob.statistic)
                                                     for j in range(2))))
        d_rows = num[:, 0] - num[:, 1]
        self.d = np.bincount(codes, weights=d_rows, minlength=n_units)
        self.den = np.bincount(codes, weights=den[:, 0], minlength=n_units)
        d_parts, part_unit = (d_rows, codes) if rows_swap else (self.d, np.arange(n_units))
        mags = np.round(np.abs(d_parts), 9)
        self.g, which = np.unique(mags[mags > 0], return_inverse=True)
        units = part_unit[mags > 0]
        self.groups = [units[which.reshape(-1) == k] for k in range(self.g.size)]

    def deltas(self, C: np.ndarray, n_perm: int, rng) -> np.ndarray:
        m = np.column_stack([C[:, u].sum(axis=1) for u in self.groups]) if self.groups \
            else np.zeros((C.shape[0], 0), dtype=np.int64)
        with np.errstate(divide="ignore", invalid="ignore"):
            denom = C @ self.den
            obs = (C @ self.d) / denom
            flips = m[:, None, :] - 2 * rng.binomial(m[:, None, :], 0.5,
                                                     size=(C.shape[0], n_perm, self.g.size))
            perm = (flips @ self.g) / denom[:, None]
        return np.column_stack([obs, perm])


class _ItemPermutation:
    """Item level, items swapped: per-item values, the mean over defined items."""

    def __init__(self, prob: Problem, n_units: int):
        V = np.column_stack([prob.group_values(0), prob.group_values(1)])
        self.ok = np.isfinite(V).astype(float)
        self.V = np.where(np.isfinite(V), V, 0.0)

    def deltas(self, C: np.ndarray, n_perm: int, rng) -> np.ndarray:
        out = np.empty((C.shape[0], n_perm + 1))
        per = max(1, _BLOCK // max(1, C.shape[1] * (n_perm + 1)))
        for s0 in range(0, C.shape[0], per):
            Cb = C[s0:s0 + per]
            S = np.concatenate([np.zeros((Cb.shape[0], 1, Cb.shape[1]), dtype=np.int64),
                                rng.binomial(Cb[:, None, :], 0.5, size=(Cb.shape[0], n_perm, Cb.shape[1]))],
                               axis=1)
            K = Cb[:, None, :] - S
            with np.errstate(divide="ignore", invalid="ignore"):
                a = (K @ self.V[:, 0] + S @ self.V[:, 1]) / (K @ self.ok[:, 0] + S @ self.ok[:, 1])
                b = (K @ self.V[:, 1] + S @ self.V[:, 0]) / (K @ self.ok[:, 1] + S @ self.ok[:, 0])
            out[s0:s0 + per] = a - b
        return out


class _FlatPermutation:
    """Flat level: a study whose row copies swap Sw of W is the weighted data set
    [x_a; x_b] with weights [W - Sw, Sw] for metric a and [Sw, W - Sw] for metric b
    (scores z-scored with the pilot's moments). A small study keeps only the rows it
    drew (its observed value and permutation draws are one batch); studies that draw
    at least a quarter of the pilot's rows share one batch over all of them."""

    def __init__(self, prob: Problem, codes: np.ndarray, runit: str, punit: str,
                 standardize: bool):
        X = standardized(prob) if standardize else prob.X  # the report's z-scores
        self.X, self.y, self.stat = X, prob.y, prob.statistic
        self.codes, self.same_unit = codes, punit == runit
        self._whole = None

    def _data(self, rows: np.ndarray | None):
        """Stacked (x, y) of the given rows (all when None) and its Kendall batch."""
        if rows is None and self._whole is not None:
            return self._whole
        sel = slice(None) if rows is None else rows
        x = np.concatenate([self.X[sel, 0], self.X[sel, 1]])
        y = np.concatenate([self.y[sel], self.y[sel]])
        # rows equal in both scores are one row with the summed weight (exact for every
        # statistic here; metric scores repeated per rated caption make many)
        xy, inv = np.unique(np.column_stack([x, y]), axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        order = np.argsort(inv, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(inv[order]) != 0])
        merge = None
        if xy.shape[0] < x.size:
            merge = order, starts
            x, y = xy[:, 0].copy(), xy[:, 1].copy()
        data = x, y, KendallBatch(x, y) if self.stat in KENDALL_STATISTICS else None, merge
        if rows is None:
            self._whole = data
        return data

    def _delta(self, W: np.ndarray, Sw: np.ndarray, data) -> np.ndarray:
        x, y, batch, merge = data
        out = []
        for weights in (np.concatenate([W - Sw, Sw], axis=1), np.concatenate([Sw, W - Sw], axis=1)):
            if merge is not None:
                weights = np.add.reduceat(np.take(weights, merge[0], axis=1), merge[1], axis=1)
            if self.stat == "pearson":
                out.append(weighted_pearson(weights, x, y))
            elif self.stat == "spearman":
                out.append(weighted_spearman(weights, x, y))
            else:
                out.append(tau_from_counts(batch.counts(weights=weights),
                                           KENDALL_STATISTICS[self.stat]))
        return out[0] - out[1]

    def _swaps(self, cu: np.ndarray, local: np.ndarray, perm: np.ndarray, rng):
        """Row weights and swapped copies for unit multiplicities cu (variants x units)."""
        W = np.take(cu, local, axis=1)
        if self.same_unit:   # every copy of a unit swaps as one
            Sw = np.take(rng.binomial(cu, 0.5), local, axis=1)
        else:                # unit copies hold rows that swap one by one
            Sw = rng.binomial(W, 0.5)
        Sw[perm == 0] = 0    # the observed study
        return W, Sw

    def deltas(self, C: np.ndarray, n_perm: int, rng) -> np.ndarray:
        n_rows = self.codes.size
        out = np.empty((C.shape[0], n_perm + 1))
        drawn = (np.take(C, self.codes, axis=1) > 0).sum(axis=1)
        large = np.flatnonzero(4 * drawn >= n_rows)
        for s in np.flatnonzero(4 * drawn < n_rows):
            rows = np.flatnonzero(C[s][self.codes] > 0)
            units, local = np.unique(self.codes[rows], return_inverse=True)
            data = self._data(rows)
            per = max(1, _BLOCK // (2 * rows.size))
            for p0 in range(0, n_perm + 1, per):
                perm = np.arange(p0, min(n_perm + 1, p0 + per))
                cu = np.broadcast_to(C[s][units], (perm.size, units.size))
                out[s, perm] = self._delta(*self._swaps(cu, local, perm, rng), data)
        if large.size:
            data = self._data(None)
            total = large.size * (n_perm + 1)
            flat = out.reshape(-1)
            per = max(1, _BLOCK // (2 * n_rows))
            for v0 in range(0, total, per):
                v = np.arange(v0, min(total, v0 + per))
                sim, perm = large[v // (n_perm + 1)], v % (n_perm + 1)
                flat[sim * (n_perm + 1) + perm] = self._delta(
                    *self._swaps(C[sim], self.codes, perm, rng), data)
        return out


class _MaterialisedPermutation:
    """Any other case: build each simulated study and run the engine's permutation draws."""

    def __init__(self, prob: Problem, runit: str, punit: str, standardize: bool):
        self.prob, self.runit, self.punit, self.standardize = prob, runit, punit, standardize

    def deltas(self, C: np.ndarray, n_perm: int, rng) -> np.ndarray:
        prob = self.prob
        out = np.full((C.shape[0], n_perm + 1), np.nan)
        for s in range(C.shape[0]):
            idx, it, sy = materialise(prob, self.runit, (C[s],))
            sub = Problem([prob.X[idx, 0], prob.X[idx, 1]], prob.y[idx], prob.statistic,
                          prob.level, it, sy, prob.epsilon, names=prob.names)
            if prob.level == "pair":
                sub.X = prob.X[idx]
            delta, d = _permutation_draws(sub, self.punit, n_perm, self.standardize, rng)
            out[s, 0] = delta
            out[s, 1:1 + d.size] = d
        return out


def _permutation_engine(prob: Problem, runit: str, punit: str, standardize: bool):
    codes = _unit_codes(prob, runit)
    n_units = prob.n_units(runit)
    if runit == "both":
        return _MaterialisedPermutation(prob, runit, punit, standardize), "materialised"
    if prob.level == "pair" and punit in (runit, "rows"):
        return _PairPermutation(prob, codes, n_units, rows_swap=punit != runit), "batched"
    if prob.level == "item" and runit == "items" and punit == "items":
        return _ItemPermutation(prob, n_units), "batched"
    if (prob.level == "flat" and prob.epsilon == 0 and punit in (runit, "rows")
            and (prob.statistic in ("pearson", "spearman") or prob.statistic in KENDALL_STATISTICS)):
        return _FlatPermutation(prob, codes, runit, punit, standardize), "batched"
    return _MaterialisedPermutation(prob, runit, punit, standardize), "materialised"


def power_metric_vs_metric(metric_a, metric_b, human, statistic: str, level: str = "flat",
                           items=None, systems=None, *, sizes: Sequence[int] | None = None,
                           n_simulations: int = 500, n_permutations: int = 1000,
                           alpha: float = 0.05, target_power: float = 0.8,
                           unit: str | None = None, permutation_unit: str | None = None,
                           standardize: bool = True, seed=0, epsilon: float = 0.0,
                           names=("a", "b"), progress: bool = False) -> PowerCurve:
    """Power of the two-sided paired permutation test of statistic(a) vs statistic(b).

    Arguments as `correlation.compare_metrics`; `unit` is the unit a study
    is made of (default: the bootstrap's natural unit, e.g. whole pairs or
    images), `permutation_unit` what swaps (default as in `compare`).
    sizes: candidate numbers of units (default `default_sizes`).
    """
    prob = Problem([metric_a, metric_b], human, statistic, level, items, systems, epsilon,
                   names=tuple(names))
    runit = resolve_unit(prob, unit)
    punit = _permutation_unit(prob, permutation_unit)
    n_units = prob.n_units("items" if runit == "both" else runit)
    sizes = _check_common(sizes or default_sizes(n_units), n_simulations, alpha, target_power)
    if not isinstance(n_permutations, (int, np.integer)) or n_permutations < 1:
        raise ValueError(f"n_permutations must be a positive integer, got {n_permutations!r}")
    if runit == "both":
        raise ValueError("power by simulation resamples one kind of unit; system level with "
                         "items resamples systems and items together: pass unit='systems'")
    engine, how = _permutation_engine(prob, runit, punit, standardize)
    rng = make_rng(seed)
    hits = []
    for n in _progress(sizes, progress, "permutation test"):
        C = _studies(rng, n, n_units, n_simulations)
        hits.append(int(_p_significant(engine.deltas(C, n_permutations, rng), alpha).sum()))
    effect = prob.point(0).value - prob.point(1).value
    test = (f"two-sided paired permutation test ({n_permutations} draws, swapping {punit}"
            f"{', z-scored with the pilot moments' if standardize and level == 'flat' else ''}), "
            f"p <= {alpha}")
    notes = ["each simulated study materialised (no batched path for this case)"
             if how == "materialised" else ""]
    return _curve("metric vs metric", test, statistic, level, runit, sizes, hits, n_simulations,
                  alpha, target_power, n_units, effect, seed, notes)


# ---------------------------------------------------------------------------
# metric vs a fixed value: the bootstrap interval (or the exact binomial test)

def _bca_bounds(est, reps, jk, jk_w, confidence):
    """Vectorised `bootstrap.bca_interval`: est (s,), reps (s, B), jackknife values (s, u)
    with multiplicities jk_w (s, u). NaN bounds where the bias correction is infinite."""
    finite = np.isfinite(reps)
    b = finite.sum(axis=1)
    share = ((finite & (reps < est[:, None])).sum(axis=1)
             + (finite & (reps <= est[:, None])).sum(axis=1)) / (2 * np.maximum(b, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z0 = ndtri(share)
        w = np.where(np.isfinite(jk), jk_w, 0)
        jkv = np.where(np.isfinite(jk), jk, 0.0)
        mean = (w * jkv).sum(axis=1) / w.sum(axis=1)
        d = np.where(w > 0, mean[:, None] - jkv, 0.0)
        s2 = (w * d ** 2).sum(axis=1)
        spread = np.where(w > 0, jkv, np.nan)
        ptp = np.nanmax(spread, axis=1) - np.nanmin(spread, axis=1)
        big = np.nanmax(np.abs(spread), axis=1)
        accel = np.where(ptp > 1e-12 * np.maximum(1.0, big), (w * d ** 3).sum(axis=1) / (6 * s2 ** 1.5), 0.0)
        alpha = (1 - confidence) / 2
        z = ndtri(np.array([alpha, 1 - alpha]))
        zz = z0[:, None] + z[None, :]
        levels = stats.norm.cdf(z0[:, None] + zz / (1 - accel[:, None] * zz))
    out = np.full((est.size, 2), np.nan)
    for s in range(est.size):
        if 0 < share[s] < 1 and np.all(np.isfinite(levels[s])) and b[s]:
            out[s] = np.percentile(reps[s][finite[s]], 100 * levels[s])
    return out


def _pair_classes(prob: Problem, runit: str, n_units: int):
    """Pair level: units grouped by their (numerator, denominator) sums; the statistic of a
    weighted set of units depends only on how many of each class it holds."""
    codes = _unit_codes(prob, runit)
    num, den = pair_terms(prob.X[:, 0], prob.y, prob.statistic)
    un = np.bincount(codes, weights=num, minlength=n_units)
    ud = np.bincount(codes, weights=den, minlength=n_units)
    classes, which = np.unique(np.round(np.column_stack([un, ud]), 9), axis=0, return_inverse=True)
    onehot = np.zeros((n_units, classes.shape[0]), dtype=np.int64)
    onehot[np.arange(n_units), which.reshape(-1)] = 1
    return classes[:, 0], classes[:, 1], onehot


def _item_loo(prob: Problem, C: np.ndarray) -> np.ndarray:
    """Item level resampling items: leave-one-item-out values of each study (s, items)."""
    V = prob.group_values(0)
    ok = np.isfinite(V)
    v0 = np.where(ok, V, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((C @ v0)[:, None] - v0) / ((C @ ok)[:, None] - ok)


def _replicate_counts(rng, C: np.ndarray, n_resamples: int) -> np.ndarray:
    """Bootstrap resamples of each study (a row of C: multiplicities of the pilot's units):
    n draws with replacement from its n unit copies, as multiplicities (s * B, units)."""
    s, u = C.shape
    out = np.empty((s * n_resamples, u), dtype=np.int64)
    for k in range(s):
        copies = np.repeat(np.arange(u), C[k])
        drawn = copies[rng.integers(0, copies.size, size=(n_resamples, copies.size))]
        flat = (np.arange(n_resamples)[:, None] * u + drawn).ravel()
        out[k * n_resamples:(k + 1) * n_resamples] = np.bincount(
            flat, minlength=n_resamples * u).reshape(n_resamples, u)
    return out


def _percentile_bounds(reps: np.ndarray, confidence: float) -> np.ndarray:
    import warnings

    q = 100 * (1 - confidence) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # an all-NaN study stays NaN
        return np.nanpercentile(reps, [q, 100 - q], axis=1).T


def _binomial_hits(prob, codes, n_units, C, value, alpha) -> int:
    num, den = pair_terms(prob.X[:, 0], prob.y, prob.statistic)
    x = (C @ np.bincount(codes, weights=num, minlength=n_units)).round().astype(int)
    k = (C @ np.bincount(codes, weights=den, minlength=n_units)).round().astype(int)
    cache: dict = {}
    hits = 0
    for xi, ki in zip(x, k):
        if ki not in cache:
            cache[ki] = _minlike_rejects(int(ki), value, alpha) if ki else np.zeros(1, bool)
        hits += bool(cache[ki][xi])
    return hits


def power_metric_vs_value(metric, human, statistic: str, level: str = "flat", items=None,
                          systems=None, *, value: float, sizes: Sequence[int] | None = None,
                          n_simulations: int = 500, n_resamples: int = 1000,
                          ci_method: str = "bca", test: str = "bootstrap", alpha: float = 0.05,
                          target_power: float = 0.8, unit: str | None = None, seed=0,
                          epsilon: float = 0.0, progress: bool = False) -> PowerCurve:
    """Power to tell a statistic from a fixed `value` (e.g. accuracy from chance, 0.5).

    test "bootstrap": significant when the bootstrap interval at level
    1 - alpha (ci_method "bca" or "percentile", n_resamples resamples of the
    study's units) excludes `value`, as the report's intervals. BCa needs an
    exact jackknife of each simulated study, available at pair level and at
    item level resampling items; elsewhere use "percentile".
    test "binomial": pair-level accuracy only, one judgment per unit: the
    exact two-sided binomial test of correct decisive pairs against `value`.
    """
    prob = Problem([metric], human, statistic, level, items, systems, epsilon)
    runit = resolve_unit(prob, unit)
    if runit == "both":
        raise ValueError("power by simulation resamples one kind of unit; pass unit='systems'")
    n_units = prob.n_units(runit)
    sizes = _check_common(sizes or default_sizes(n_units), n_simulations, alpha, target_power)
    if test not in ("bootstrap", "binomial"):
        raise ValueError(f"unknown test {test!r}; choose bootstrap or binomial")
    if ci_method not in ("bca", "percentile"):
        raise ValueError(f"unknown interval method {ci_method!r}; choose bca or percentile")
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}")
    codes = _unit_codes(prob, runit)
    if test == "binomial":
        if level != "pair" or statistic != "accuracy":
            raise ValueError("the binomial test is for pair-level accuracy")
        if np.bincount(codes, minlength=n_units).max() > 1:
            raise ValueError("the binomial test needs one judgment per unit; several judgments "
                             "of a unit are not independent trials (use test='bootstrap')")
    elif ci_method == "bca" and not (level == "pair" or (level == "item" and runit == "items")):
        raise ValueError(f"BCa needs each simulated study's jackknife, which is exact and fast "
                         f"only at pair level or item level resampling items, not {level!r} "
                         f"resampling {runit}; use ci_method='percentile'")
    rng = make_rng(seed)
    confidence = 1 - alpha
    classes = _pair_classes(prob, runit, n_units) if level == "pair" else None
    hits = []
    for n in _progress(sizes, progress, test):
        C = _studies(rng, n, n_units, n_simulations)
        if test == "binomial":
            hits.append(_binomial_hits(prob, codes, n_units, C, value, alpha))
            continue
        if classes is not None:   # pair level: resample class counts
            cn, cd, onehot = classes
            K = C @ onehot
            with np.errstate(divide="ignore", invalid="ignore"):
                est = (K @ cn) / (K @ cd)
                R = rng.multinomial(n, K / n, size=(n_resamples, n_simulations)).transpose(1, 0, 2)
                reps = (R @ cn) / (R @ cd)
                loo = ((K @ cn)[:, None] - cn) / ((K @ cd)[:, None] - cd)
            bounds = (_percentile_bounds(reps, confidence) if ci_method == "percentile"
                      else _bca_bounds(est, reps, loo, K, confidence))
        else:
            est = weighted_values(prob, runit, (C,))[:, 0]
            bounds = np.empty((n_simulations, 2))
            per = max(1, _BLOCK // (n_resamples * max(n_units, prob.n)))
            for s0 in range(0, n_simulations, per):
                Cb = C[s0:s0 + per]
                reps = weighted_values(prob, runit, (_replicate_counts(rng, Cb, n_resamples),))
                reps = reps[:, 0].reshape(Cb.shape[0], n_resamples)
                bounds[s0:s0 + per] = (_percentile_bounds(reps, confidence) if ci_method == "percentile"
                                       else _bca_bounds(est[s0:s0 + per], reps,
                                                        _item_loo(prob, Cb), Cb, confidence))
        hits.append(int((np.isfinite(est) & ((bounds[:, 0] > value) | (bounds[:, 1] < value))).sum()))
    label = (f"exact two-sided binomial test against {value}, p <= {alpha}" if test == "binomial"
             else f"{'BCa' if ci_method == 'bca' else 'percentile'} bootstrap interval "
                  f"({n_resamples} resamples of {runit}, {confidence:.0%}) excludes {value}")
    return _curve("metric vs value", label, statistic, level, runit, sizes, hits, n_simulations,
                  alpha, target_power, n_units, prob.point(0).value - value, seed, [])


# ---------------------------------------------------------------------------
# verdict counts (Socratis): human-preferred vs machine-preferred

def _sign_p(h: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Two-sided exact sign test p-values (binomtest at 1/2) of h vs m, vectorised."""
    k = h + m
    low = np.minimum(h, m)
    with np.errstate(invalid="ignore"):
        p = np.minimum(1.0, 2 * stats.binom.cdf(low, k, 0.5))
    return np.where(k == 0, 1.0, np.where(h == m, 1.0, p))


def power_verdicts(human_preferred, machine_preferred, *, sizes: Sequence[int] | None = None,
                   n_simulations: int = 2000, alpha: float = 0.05, target_power: float = 0.8,
                   seed=0, progress: bool = False) -> PowerCurve:
    """Power of the exact sign test "human-preferred and machine-preferred verdicts are
    equally frequent", for studies of n pairs drawn from a pilot's pairs.

    human_preferred, machine_preferred: per pair, how many of its verdicts
    preferred the human-written / the machine-written reason (ties, both
    good or both bad, count in neither). The test counts verdicts, so it
    assumes they are independent: one annotator per pair, as in the study of
    Deng et al. (2023).
    """
    h = np.asarray(human_preferred, dtype=np.int64)
    m = np.asarray(machine_preferred, dtype=np.int64)
    if h.shape != m.shape or h.ndim != 1:
        raise ValueError(f"one count per pair on each side; got shapes {h.shape} and {m.shape}")
    if (h < 0).any() or (m < 0).any():
        raise ValueError("verdict counts must be >= 0")
    n_units = h.size
    if n_units == 0:
        raise ValueError("no pairs")
    sizes = _check_common(sizes or default_sizes(n_units), n_simulations, alpha, target_power)
    rng = make_rng(seed)
    hits = []
    for n in _progress(sizes, progress, "sign test"):
        C = _studies(rng, n, n_units, n_simulations)
        hits.append(int((_sign_p(C @ h, C @ m) <= alpha).sum()))
    decisive = h.sum() + m.sum()
    effect = h.sum() / decisive - 0.5 if decisive else math.nan
    notes = ["pairs with several annotators: verdicts treated as independent"
             if (h + m).max() > 1 else ""]
    return _curve("verdicts", f"exact two-sided sign test of human- vs machine-preferred "
                  f"verdicts, p <= {alpha}", "human share", "pair", "pairs", sizes, hits,
                  n_simulations, alpha, target_power, n_units, effect, seed, notes)


# ---------------------------------------------------------------------------
# closed forms

def _minlike_rejects(k: int, p0: float, alpha: float) -> np.ndarray:
    """Outcomes x in 0..k where binomtest(x, k, p0) (two-sided) has p <= alpha."""
    pm = stats.binom.pmf(np.arange(k + 1), k, p0)
    order = np.sort(pm)
    cum = np.cumsum(order)
    # p-value of x: total probability of outcomes no more likely than x (scipy's tolerance)
    pval = cum[np.searchsorted(order, pm * (1 + 1e-7), side="right") - 1]
    return np.minimum(pval, 1.0) <= alpha


def binomial_test_power(n: int, p: float, p0: float = 0.5, alpha: float = 0.05) -> float:
    """Exact power of the two-sided binomial test of p0 with n trials when the truth is p."""
    if n <= 0:
        return 0.0
    rej = _minlike_rejects(int(n), p0, alpha)
    return float(stats.binom.pmf(np.arange(n + 1), n, p)[rej].sum())


def _sign_critical(k: np.ndarray, alpha: float) -> np.ndarray:
    """Largest x with the two-sided sign-test p-value 2 P(Bin(k, 1/2) <= x) <= alpha (-1: none)."""
    c = stats.binom.ppf(alpha / 2, k, 0.5)
    c = np.where(stats.binom.cdf(c, k, 0.5) * 2 <= alpha, c, c - 1)
    return c.astype(np.int64)


def sign_test_power(n: int, p_plus: float, p_minus: float, alpha: float = 0.05,
                    n_permutations: int | None = None) -> float:
    """Exact power of the two-sided sign test on n units each +, - or tied with
    probabilities p_plus, p_minus, 1 - p_plus - p_minus; the number of untied
    units is Binomial(n, p_plus + p_minus). With two metrics' paired accuracy,
    + = only metric a right, - = only b right: McNemar's exact test.

    n_permutations: the Monte-Carlo version used by the permutation test:
    p = (1 + hits) / (1 + draws) with hits ~ Binomial(draws, exact p).
    """
    q = p_plus + p_minus
    if not (0 <= p_plus and 0 <= p_minus and q <= 1 + 1e-12):
        raise ValueError(f"probabilities must be >= 0 and sum to at most 1: {p_plus}, {p_minus}")
    if q == 0 or n <= 0:
        return 0.0
    theta = p_plus / q
    pm = stats.binom.pmf(np.arange(n + 1), n, q)
    if n_permutations is None:
        k = np.arange(1, n + 1)
        c = _sign_critical(k, alpha)
        reject = np.where(c >= 0, stats.binom.cdf(c, k, theta) + stats.binom.sf(k - c - 1, k, theta), 0.0)
        return float(pm[1:] @ reject)
    power = 0.0
    # p_mc <= alpha  <=>  hits <= alpha (1 + draws) - 1
    limit = math.floor(alpha * (1 + n_permutations) + 1e-9) - 1
    if limit < 0:
        return 0.0
    for k in range(1, n + 1):
        if pm[k] < 1e-15:
            continue
        x = np.arange(k + 1)
        low = np.minimum(x, k - x)
        pval = np.where(2 * x == k, 1.0, np.minimum(1.0, 2 * stats.binom.cdf(low, k, 0.5)))
        reject = stats.binom.cdf(limit, n_permutations, pval)
        power += pm[k] * float(stats.binom.pmf(x, k, theta) @ reject)
    return float(power)


def sign_test_size(p_plus: float, p_minus: float, power: float = 0.8, alpha: float = 0.05,
                   max_n: int = 1_000_000) -> int | None:
    """Smallest n from which the exact sign test (`sign_test_power`) keeps power >= `power`:
    the exact test's power saws up and down with n, so the answer is the first n after
    the last one below the target, checked up to 25 % beyond the first n that reaches it.
    None when even max_n units fall short."""
    if p_plus == p_minus:
        return None
    hi = 8
    while sign_test_power(hi, p_plus, p_minus, alpha) < power:
        hi *= 2
        if hi > max_n:
            return None
    lo = hi // 2
    while hi - lo > 1:   # first n reaching the target, by bisection on the doubling bracket
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if sign_test_power(mid, p_plus, p_minus, alpha) >= power else (mid, hi)
    first = hi
    span = range(first, int(first * 1.25) + 2)
    below = [n for n in span if sign_test_power(n, p_plus, p_minus, alpha) < power]
    return below[-1] + 1 if below else first


def detectable_share(k: int, power: float = 0.8, alpha: float = 0.05) -> float:
    """Smallest share p >= 1/2 that the exact two-sided binomial test of 1/2 with k trials
    detects with the given power (`binomial_test_power`, increasing in p on [1/2, 1]);
    NaN when even p = 1 falls short."""
    if k <= 0 or binomial_test_power(k, 1.0, 0.5, alpha) < power:
        return math.nan
    lo, hi = 0.5, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if binomial_test_power(k, mid, 0.5, alpha) >= power else (mid, hi)
    return hi


def fisher_z_se(n: int, statistic: str = "pearson", r: float = 0.0) -> float:
    """Standard error of atanh(r): 1/sqrt(n - 3) for Pearson; sqrt((1 + r^2/2) / (n - 3)) for
    Spearman and sqrt(0.437 / (n - 4)) for Kendall (Bonett & Wright 2000)."""
    if statistic == "pearson":
        return 1 / math.sqrt(n - 3)
    if statistic == "spearman":
        return math.sqrt((1 + r * r / 2) / (n - 3))
    if statistic in ("kendall_b", "kendall_c", "kendall"):
        return math.sqrt(0.437 / (n - 4))
    raise ValueError(f"no Fisher-z variance for {statistic!r}")


def pearson_equivalent(r: float, statistic: str) -> float:
    """Pearson correlation of a bivariate normal with this Spearman or Kendall value:
    2 sin(pi rho / 6) and sin(pi tau / 2) (Greiner's relation; Kruskal 1958)."""
    if statistic == "pearson":
        return r
    if statistic == "spearman":
        return 2 * math.sin(math.pi * r / 6)
    if statistic in ("kendall_b", "kendall_c", "kendall"):
        return math.sin(math.pi * r / 2)
    raise ValueError(f"no normal-theory relation for {statistic!r}")


def correlation_difference_power(n: int, r_a: float, r_b: float, r_ab: float,
                                 statistic: str = "pearson", alpha: float = 0.05) -> float:
    """Approximate power of the two-sided test of r_a = r_b at n rows: two metrics'
    correlations with the same human scores, r_ab the metrics' correlation with each
    other, all three in the given statistic, data bivariate normal.

    The Fisher-z difference atanh(r_a) - atanh(r_b) is normal with variance
    var_z x 2 (1 - r_ab) h (Meng, Rosenthal & Rubin 1992): h = (1 - f rbar^2) / (1 - rbar^2),
    f = min(1, (1 - r_ab) / (2 (1 - rbar^2))), rbar^2 = (r_a^2 + r_b^2) / 2, with the
    three correlations taken on the Pearson scale (`pearson_equivalent`), and var_z
    = `fisher_z_se(n)`^2 of the statistic (Bonett & Wright 2000 for Spearman, Kendall).
    """
    pa, pb, pab = (pearson_equivalent(r, statistic) for r in (r_a, r_b, r_ab))
    rbar2 = (pa * pa + pb * pb) / 2
    f = min(1.0, (1 - pab) / (2 * (1 - rbar2)))
    h = (1 - f * rbar2) / (1 - rbar2)
    se = fisher_z_se(n, statistic, math.sqrt((r_a * r_a + r_b * r_b) / 2)) * math.sqrt(2 * (1 - pab) * h)
    delta = abs(math.atanh(r_a) - math.atanh(r_b)) / se
    z = ndtri(1 - alpha / 2)
    return float(stats.norm.cdf(delta - z) + stats.norm.cdf(-delta - z))


def minimum_detectable_difference(se: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest true difference a two-sided test at alpha detects with the given power when
    the estimate is normal with standard error se: (z_{1 - alpha/2} + z_power) x se
    (2.80 se at alpha 0.05 and power 0.8; e.g. Cohen 1988, ch. 12)."""
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError(f"alpha and power must lie in (0, 1), got {alpha}, {power}")
    return float((ndtri(1 - alpha / 2) + ndtri(power)) * se)
