"""Exact rescaling by powers of two, so extreme but finite scores keep full precision (internal).

Every statistic here is invariant to multiplying the metric (or the human)
scores by a positive constant, and multiplying by a power of two is exact in
floating point (no rounding, subnormal inputs included). Scores whose largest
magnitude lies outside [2**-400, 2**400] are brought to [0.5, 1) before sums
of squares and products, which would otherwise overflow (|x| > ~1e154) or
underflow (subnormal inputs such as 1e-320). Within that range nothing is
rescaled, so ordinary data give the same bits as an unscaled computation.
"""
from __future__ import annotations

import numpy as np

_SAFE_LOW = 2.0 ** -400
_SAFE_HIGH = 2.0 ** 400


def scale_exponents(magnitudes: np.ndarray) -> np.ndarray:
    """Per entry, the power of two that brings a magnitude outside the safe range into [0.5, 1)
    (0 where the magnitude is 0 or already within [2**-400, 2**400])."""
    m = np.asarray(magnitudes, dtype=float)
    _, exponent = np.frexp(m)
    outside = (m > 0) & ((m < _SAFE_LOW) | (m > _SAFE_HIGH))
    return np.where(outside, -exponent, 0).astype(np.int64)


def rescaled(v: np.ndarray) -> np.ndarray:
    """v times the power of two that brings its largest magnitude into [0.5, 1), when outside
    the safe range (v itself otherwise)."""
    v = np.asarray(v, dtype=float)
    if v.size == 0:
        return v
    k = int(scale_exponents(np.max(np.abs(v))))
    return np.ldexp(v, k) if k else v


def rescaled_columns(X: np.ndarray) -> np.ndarray:
    """`rescaled` applied to every column of a 2-D array."""
    if X.size == 0:
        return X
    k = scale_exponents(np.max(np.abs(X), axis=0))
    return np.ldexp(X, k[None, :]) if k.any() else X
