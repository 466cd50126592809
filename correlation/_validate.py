"""Input checks shared by every public function (internal).

Conventions (docs/correlation.md): a length mismatch is an error that names
both lengths; NaN scores are dropped pairwise and counted; an infinite score
is NaN too (dropped, counted, and said: in a result's notes, or as a
`NonFiniteScoreWarning` where a bare number is returned); an undefined
statistic is NaN with a warning that says why, never an exception.
"""
from __future__ import annotations

import numbers
import warnings
from typing import Sequence

import numpy as np

from .warnings import NonFiniteScoreWarning, UndefinedCorrelationWarning


def undefined(reason: str, stacklevel: int = 3) -> float:
    """Warn that a statistic is undefined and why; return NaN."""
    warnings.warn(reason, UndefinedCorrelationWarning, stacklevel=stacklevel)
    return float("nan")


def as_float_vector(values, name: str) -> np.ndarray:
    """1-D float64 array from any array-like, with a clear error otherwise; an integer
    score that float64 cannot hold exactly is an error (`check_exact_integers`)."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be a sequence of numbers, got a scalar")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    check_exact_integers(values, arr, name)
    return arr


FLOAT_EXACT = 2 ** 53  # float64 holds every integer of at most this magnitude exactly


def check_exact_integers(values, arr: np.ndarray, name: str) -> None:
    """A ValueError naming the first integer in `values` that its float64 `arr` rounds:
    distinct integers above 2**53 may round to one float and tie (a NaN "constant"
    statistic where the integers rank perfectly), so they are refused, not rounded."""
    near = np.flatnonzero(np.abs(arr) >= FLOAT_EXACT)  # where a rounded integer can be
    if not near.size:
        return
    raw = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if raw.dtype.kind not in "iuO":
        return  # floats are what they are
    candidates = ((int(k), int(raw[k])) for k in near
                  if isinstance(raw[k], numbers.Integral) and not isinstance(raw[k], bool))
    for k, v in candidates:
        if int(arr[k]) != v:
            raise ValueError(
                f"{name}[{k}] is the integer {v}, which float64 cannot hold exactly (it "
                f"becomes {int(arr[k])}; integers above 2**53 = {FLOAT_EXACT} are rounded, so "
                "distinct scores could tie): subtract a common offset or give their ranks")


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
    if not isinstance(labels, np.ndarray) or arr.dtype == object:
        # a list [1, "1"] becomes the strings "1", "1" in numpy: compare the labels as given
        given = arr.tolist() if arr.dtype == object else list(labels)
        kinds = {type(v) for v in given}
        if kinds == {str}:
            arr = arr.astype(str) if arr.dtype == object else arr
        elif len(kinds) > 1 or arr.dtype == object:
            return _typed_codes(given, name)
    _, codes = np.unique(arr, return_inverse=True)
    return codes.astype(np.int64).reshape(-1)


def _typed_codes(labels: list, name: str) -> np.ndarray:
    """Codes for labels of mixed types, each compared with its type: the number 1 and the
    text "1" are two labels (numbers compare by value, so 1 and 1.0 are one label)."""
    keys = []
    for k, v in enumerate(labels):
        if isinstance(v, numbers.Real) and not isinstance(v, bool):
            if v != v:
                raise ValueError(f"{name} contains NaN labels (row {k})")
            keys.append((0, "", v))
        elif isinstance(v, str):
            keys.append((1, "", str(v)))
        else:  # None, bools, tuples, ...: by type, then by repr so sorting never fails
            keys.append((2, type(v).__qualname__, repr(v)))
    order = {key: code for code, key in enumerate(sorted(set(keys)))}
    return np.array([order[key] for key in keys], dtype=np.int64)


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
