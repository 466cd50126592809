"""The z-scores the paired permutation test swaps (internal).

One definition, `scipy.stats.zscore`'s (ddof 0): z = (x - mean) / sd with
mean = sum(x) / n and sd = sqrt(mean((x - mean)**2)), each computed on the
1-D vector (numpy's pairwise summation, as scipy does), so the numbers are
scipy's bit for bit. A constant vector gives zeros (scipy: NaN); a vector
whose largest magnitude lies outside [2**-400, 2**400] is first multiplied by
an exact power of two, which leaves the z-scores unchanged and keeps the
variance finite.

Rounding can merge distinct scores: x - mean loses the low bits of scores far
smaller than the mean, so BLEU-1 values of 1e-17 and 2e-17 both become
-mean / sd (Flickr8k-Expert BLEU-1: 678 distinct scores, 632 distinct
z-scores). A rank statistic of the z-scores would then differ from the same
statistic of the scores. `distinct_zscores` keeps every distinct score
distinct: where rounding merged scores, the larger ones are raised by the
fewest representable steps (ulps) that restore the order of the scores.
"""
from __future__ import annotations

import numpy as np

from ._scaling import rescaled

_SIGN = np.int64(-2 ** 63)
_MAGNITUDE = np.int64(2 ** 63 - 1)


def zscores(x) -> np.ndarray:
    """scipy.stats.zscore(x) bit for bit (zeros for a constant x)."""
    x = rescaled(np.asarray(x, dtype=float))
    if x.size == 0:
        return x.copy()
    mean = np.mean(x)
    centred = x - mean
    sd = np.sqrt(np.mean(centred * centred))
    return centred / sd if sd > 0 else np.zeros_like(x)


def _ordered(v: np.ndarray) -> np.ndarray:
    """Integers in the order of the floats v, consecutive floats giving consecutive integers."""
    bits = v.view(np.int64)
    return np.where(bits < 0, -(bits & _MAGNITUDE), bits)


def _from_ordered(k: np.ndarray) -> np.ndarray:
    return np.where(k < 0, (-k) | _SIGN, k).view(np.float64)


def distinct_zscores(x) -> np.ndarray:
    """`zscores(x)`, where distinct scores keep distinct z-scores in the scores' order.

    z-scoring rounds monotonically (a difference and a division by a positive
    number), so merged scores form runs of equal z-scores; within a run, and
    wherever a raised value meets the next, each larger score is raised to one
    ulp above the one below it. Unmerged z-scores are scipy's."""
    x = np.asarray(x, dtype=float)
    z = zscores(x)
    if x.size < 2:
        return z
    unique, first, inverse = np.unique(x, return_index=True, return_inverse=True)
    zu = z[first]
    if np.all(zu[1:] > zu[:-1]):
        return z
    steps = np.arange(zu.size, dtype=np.int64)
    kept = np.maximum.accumulate(_ordered(zu) - steps) + steps
    return _from_ordered(kept)[inverse.reshape(-1)]
