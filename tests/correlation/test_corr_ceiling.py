"""Human ceiling: leave-one-annotator-out agreement."""
import numpy as np
import pytest
import scipy.stats

from correlation import human_ceiling


def test_two_annotators_hand_worked():
    # annotator 0 = (1,2,3,4), annotator 1 = (2,1,3,4); each is the other's "mean of others".
    # deviations from 2.5: (-1.5,-.5,.5,1.5) and (-.5,-1.5,.5,1.5): cov sum 4, each var sum 5
    # -> Pearson 0.8 both ways; ceiling = 0.8
    R = np.array([[1, 2], [2, 1], [3, 3], [4, 4]], dtype=float)
    r = human_ceiling(R, "pearson")
    assert r.value == pytest.approx(0.8)
    assert r.n == 4


def test_three_annotators_with_missing_ratings():
    rng = np.random.default_rng(0)
    R = rng.integers(1, 5, size=(60, 3)).astype(float)
    R[rng.random((60, 3)) < 0.1] = np.nan
    expected = []
    for a in range(3):
        others = np.delete(R, a, axis=1)
        cnt = np.isfinite(others).sum(1)
        mean = np.where(cnt > 0, np.nansum(others, 1) / np.maximum(cnt, 1), np.nan)
        keep = np.isfinite(R[:, a]) & np.isfinite(mean)
        expected.append(scipy.stats.kendalltau(R[keep, a], mean[keep], variant="c").statistic)
    r = human_ceiling(R, "kendall_c")
    assert r.value == pytest.approx(np.mean(expected), abs=1e-12)


def test_bad_shapes():
    with pytest.raises(ValueError, match="two annotators"):
        human_ceiling(np.ones((5, 1)))
    with pytest.raises(ValueError, match="2-D"):
        human_ceiling([1, 2, 3])
