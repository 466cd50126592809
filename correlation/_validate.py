"""Input checks shared by every public function (internal).

Conventions (DESIGN.md): a length mismatch is an error that names both lengths;
NaN scores are dropped pairwise and counted; an undefined statistic is NaN with
a warning that says why, never an exception.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from .warnings import UndefinedCorrelationWarning


def undefined(reason: str, stacklevel: int = 3) -> float:
    """Warn that a statistic is undefined and why; return NaN."""
    warnings.warn(reason, UndefinedCorrelationWarning, stacklevel=stacklevel)
    return float("nan")


def as_float_vector(values, name: str) -> np.ndarray:
    """1-D float64 array from any array-like, with a clear error otherwise."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be a sequence of numbers, got a scalar")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def check_lengths(named: Sequence[tuple[str, object]]) -> int:
    """Raise ValueError naming every length when the arrays differ in length."""
    lengths = [(name, len(arr)) for name, arr in named if arr is not None]
    if len({n for _, n in lengths}) > 1:
        desc = ", ".join(f"{name} has {n}" for name, n in lengths)
        raise ValueError(f"length mismatch: {desc} values")
    return lengths[0][1] if lengths else 0


def paired_finite(metric, human, names=("metric", "human")):
    """Float vectors with rows where either is NaN dropped; also the number dropped."""
    x = as_float_vector(metric, names[0])
    y = as_float_vector(human, names[1])
    check_lengths([(names[0], x), (names[1], y)])
    keep = ~(np.isnan(x) | np.isnan(y))
    n_nan = int(keep.size - np.count_nonzero(keep))
    if n_nan:
        x, y = x[keep], y[keep]
    return x, y, n_nan


def label_codes(labels, name: str, n: int) -> np.ndarray | None:
    """Integer codes 0..G-1 (in sorted label order) for a label array, or None."""
    if labels is None:
        return None
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if len(arr) != n:
        raise ValueError(f"length mismatch: {name} has {len(arr)} values but the scores have {n}")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN labels (row {int(np.flatnonzero(np.isnan(arr))[0])})")
    if arr.dtype == object:
        # mixed or None labels: compare by string so sorting never fails
        arr = np.array([repr(v) if not isinstance(v, str) else v for v in arr])
    _, codes = np.unique(arr, return_inverse=True)
    return codes.astype(np.int64).reshape(-1)


def make_rng(seed) -> np.random.Generator:
    """A numpy Generator from an int seed, a SeedSequence or a Generator (used as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise ValueError("seed is required (an int or a numpy Generator) so results are reproducible")
    return np.random.default_rng(seed)
