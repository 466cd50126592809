"""A seed numpy cannot use is a ValueError naming the seed parameter, not numpy's
"expected non-negative integer"."""
from __future__ import annotations

import numpy as np
import pytest

import correlation

SEED_ERROR = r"^seed=-1: the seed must be a whole number >= 0 \(or a numpy Generator\)$"


def test_a_negative_seed_is_named():
    x = np.arange(12.0)
    with pytest.raises(ValueError, match=SEED_ERROR):
        correlation.correlate(x, x ** 2, "pearson", "flat", ci_method="bca", n_resamples=20,
                              seed=-1)
    with pytest.raises(ValueError, match=SEED_ERROR):
        correlation.significance_clusters({"a": x, "b": x ** 2, "c": -x}, x, "pearson",
                                          n_permutations=20, seed=-1)


def test_numpy_integers_and_generators_still_seed():
    x = np.arange(12.0)
    by_int = correlation.correlate(x, x ** 2, "pearson", "flat", ci_method="bca",
                                   n_resamples=20, seed=3)
    by_numpy_int = correlation.correlate(x, x ** 2, "pearson", "flat", ci_method="bca",
                                         n_resamples=20, seed=np.int64(3))
    assert (by_int.ci_low, by_int.ci_high) == (by_numpy_int.ci_low, by_numpy_int.ci_high)
