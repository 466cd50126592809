"""Input checks shared by every public function (internal).

Conventions (docs/correlation.md): a length mismatch is an error that names
both lengths; NaN scores are dropped pairwise and counted; an infinite score
is NaN too (dropped, counted, and said: in a result's notes, or as a
`NonFiniteScoreWarning` where a bare number is returned); an undefined
statistic is NaN with a warning that says why, never an exception.
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from .warnings import NonFiniteScoreWarning, UndefinedCorrelationWarning


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


def infinite_count(values: np.ndarray) -> int:
    """How many entries are +inf or -inf."""
    return int(np.count_nonzero(np.isinf(values)))


def infinite_note(counts: Sequence[tuple[str, int]]) -> str:
    """The note for infinite scores treated as NaN, e.g. "2 infinite scores (1 in metric,
    1 in human) treated as NaN: their rows dropped, counted in n_nan"; "" when none."""
    total = sum(k for _, k in counts)
    if not total:
        return ""
    where = ", ".join(f"{k} in {name}" for name, k in counts if k)
    return (f"{total} infinite score{'s' if total > 1 else ''} ({where}) treated as NaN: "
            "their rows dropped, counted in n_nan")


def warn_infinite(counts: Sequence[tuple[str, int]], stacklevel: int = 3) -> None:
    """`NonFiniteScoreWarning` with `infinite_note`, when there is anything to say."""
    note = infinite_note(counts)
    if note:
        warnings.warn(note, NonFiniteScoreWarning, stacklevel=stacklevel)


def paired_finite(metric, human, names=("metric", "human"), stacklevel: int = 4):
    """Float vectors with rows where either is NaN or infinite dropped; also the number
    dropped. Infinite scores are reported with a `NonFiniteScoreWarning`."""
    x = as_float_vector(metric, names[0])
    y = as_float_vector(human, names[1])
    check_lengths([(names[0], x), (names[1], y)])
    warn_infinite([(names[0], infinite_count(x)), (names[1], infinite_count(y))], stacklevel)
    keep = np.isfinite(x) & np.isfinite(y)
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


def renamed_keyword(legacy: dict, old: str, new: str, value, default, function: str):
    """The value for keyword `new`, or for its deprecated old name `old` (with a
    DeprecationWarning) when that was given in `legacy` (a function's **kwargs)."""
    unknown = sorted(set(legacy) - {old})
    if unknown:
        raise TypeError(f"{function}() got an unexpected keyword argument {unknown[0]!r}")
    if old not in legacy:
        return value
    if value != default:
        raise TypeError(f"{function}(): give {new}= only ({old}= is its deprecated name)")
    warnings.warn(f"{function}({old}=...) is deprecated; use {new}=... (the same values)",
                  DeprecationWarning, stacklevel=3)
    return legacy[old]


def make_rng(seed) -> np.random.Generator:
    """A numpy Generator from an int seed, a SeedSequence or a Generator (used as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise ValueError("seed is required (an int or a numpy Generator) so results are reproducible")
    return np.random.default_rng(check_seed(seed))


def check_seed(seed):
    """`seed` itself when numpy can seed a Generator with it, else a ValueError naming
    the seed parameter (numpy's own message, "expected non-negative integer", does not)."""
    if isinstance(seed, (np.random.SeedSequence, np.random.BitGenerator)):
        return seed
    try:
        np.random.SeedSequence(seed)
    except (TypeError, ValueError):
        raise ValueError(f"seed={seed!r}: the seed must be a whole number >= 0 "
                         "(or a numpy Generator)") from None
    return seed
