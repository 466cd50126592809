"""Bootstrap replicates and jackknife values computed once and shared.

A benchmark analysis asks, for every metric, for an interval (`correlate(...,
ci_method=...)`) and then for every two metrics a paired interval of the
difference (`compare_all`). Both need the same thing per metric: its statistic
on every bootstrap resample, and for BCa its jackknife values. The resample
draws depend only on the seed and the data's size (rows, units and block size),
so a metric's replicates are the same whichever call computes them: pass one
`ReplicateCache` to both calls and each metric's replicates and jackknife are
computed once per benchmark view.

The cache keys a column by everything its numbers depend on: the metric and
human values of the rows used, the item and system labels, the statistic,
level, epsilon, resampling unit, interval method, number of resamples and the
integer seed. A call whose rows differ (another metric's NaN dropped them)
finds nothing and computes its own; a numpy Generator as seed is never cached
(its draws depend on its state). Numbers are the same with and without a cache.
"""
from __future__ import annotations

import copy
import hashlib

import numpy as np

from ._resample import jackknife_values, replicate_values, resampled_unit_pairs
from ._validate import make_rng

__all__ = ["ReplicateCache"]


class ReplicateCache:
    """Each metric column's bootstrap replicates and jackknife values, kept for reuse.

    Pass the same object as ``cache=`` to `correlation.correlate` /
    `correlation.bootstrap_ci` and `correlation.compare_all` on the same data.
    ``hits`` and ``misses`` count the columns found and computed.
    """

    #: Unit pair counts (`_unit_pairs.own_matrices`) are kept only up to this size each.
    UNIT_PAIRS_MAX_BYTES = 64 * 2 ** 20

    def __init__(self) -> None:
        self._store: dict = {}
        # each column's unit pair counts from its bootstrap, for the permutation tests
        self._unit_pairs: dict = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        self._store.clear()
        self._unit_pairs.clear()

    def items(self) -> list:
        """(key, (replicates, jackknife, note)) of every column held, and (("unit_pairs",
        key), counts) of its unit pair counts, e.g. to send the work of another process to
        the one that compares."""
        return list(self._store.items()) + [(("unit_pairs", k), v)
                                            for k, v in self._unit_pairs.items()]

    def update(self, items) -> None:
        """Add entries from `items()` of another cache."""
        for key, value in items:
            if isinstance(key, tuple) and key[:1] == ("unit_pairs",):
                self._unit_pairs[key[1]] = value
            else:
                self._store[key] = value

    def keep_unit_pairs(self, key: bytes, counts) -> None:
        if sum(part.nbytes for part in counts) <= self.UNIT_PAIRS_MAX_BYTES:
            self._unit_pairs[key] = counts

    def unit_pairs(self, key: bytes):
        """A column's unit pair counts kept here, or None."""
        return self._unit_pairs.get(key)


def _digest(*arrays) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    for a in arrays:
        if a is None:
            h.update(b"none")
        else:
            a = np.ascontiguousarray(a)
            h.update(str((a.dtype.str, a.shape)).encode())
            h.update(a.tobytes())
    return h.digest()


def _column_key(prob, j: int, unit: str, method: str, n_resamples: int, seed: int):
    data = _digest(prob.X[:, j], prob.y, prob.items, prob.systems)
    return (data, prob.statistic, prob.level, prob.epsilon, unit, method, int(n_resamples), seed)


def _column_problem(prob, j: int):
    """The problem restricted to metric column j (same rows and labels)."""
    sub = copy.copy(prob)
    sub.X = prob.X[:, [j]]
    sub.names = (prob.names[j],)
    sub._cache = {}
    return sub


def compute(prob, unit: str, method: str, n_resamples: int, rng):
    """Bootstrap replicates (resamples x columns), and for BCa the jackknife values
    (units x columns) with a note on how they were formed; draws come from `rng`."""
    reps = replicate_values(prob, unit, n_resamples, rng)
    if method != "bca":
        return reps, np.zeros((0, prob.a)), ""
    jk, jnote = jackknife_values(prob, unit, rng)
    return reps, jk, jnote


def shared_replicates(prob, unit: str, method: str, n_resamples: int, seed,
                      cache: ReplicateCache | None = None, rng=None):
    """`compute` for every column of `prob` with draws from an int `seed`, one column at a
    time, so a column's numbers never depend on which others share the call (the same bits
    as a one-metric call); each column is taken from `cache` when it holds it and stored
    there otherwise. `rng`: a generator made from `seed` that the caller goes on drawing
    from; column 0 draws from it (leaving it as a one-column call would), the others from
    fresh generators. A Generator as seed: all columns at once from it, nothing cached."""
    if not isinstance(seed, (int, np.integer)):
        return compute(prob, unit, method, n_resamples, rng if rng is not None else make_rng(seed))
    if cache is not None and rng is not None:
        raise ValueError("a cache hit would leave rng where a computation would not: "
                         "give cache or rng, not both")
    if prob.a == 0:
        return compute(prob, unit, method, n_resamples, make_rng(int(seed)))
    reps, jks, note = [], [], ""
    for j in range(prob.a):
        key = None if cache is None else _column_key(prob, j, unit, method, n_resamples, int(seed))
        found = None if cache is None else cache._store.get(key)
        if found is None:
            draws = rng if (j == 0 and rng is not None) else make_rng(int(seed))
            column = prob if prob.a == 1 else _column_problem(prob, j)
            found = compute(column, unit, method, n_resamples, draws)
            if cache is not None:
                cache.misses += 1
                cache._store[key] = found
                for unit_key, counts in resampled_unit_pairs(column):
                    cache.keep_unit_pairs(unit_key, counts)
        else:
            cache.hits += 1
        reps.append(found[0])
        jks.append(found[1])
        note = note or found[2]
    return np.concatenate(reps, axis=1), np.concatenate(jks, axis=1), note
