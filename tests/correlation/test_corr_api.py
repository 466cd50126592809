"""One argument order (metric scores first, human second) and one interval keyword
(`ci_method`) across the public functions; the old keywords still work, with a warning."""
import inspect

import numpy as np
import pytest

import correlation
from correlation import (bootstrap_ci, compare_all, compare_metrics, correlate, paired_bootstrap)

METRIC_SIDE = {"metric", "metric_a", "metric_b", "scores", "margin"}


def data():
    rng = np.random.default_rng(0)
    h = rng.normal(size=60)
    return h + rng.normal(size=60), h + 2 * rng.normal(size=60), h


@pytest.mark.parametrize("name", [n for n in correlation.__all__
                                  if n not in ("human_ceiling", "preference_margin")
                                  and not n.endswith("Warning")])
def test_metric_scores_come_first_then_human(name):
    params = list(inspect.signature(getattr(correlation, name)).parameters)
    human = params.index("human")
    assert set(params[:human]) <= METRIC_SIDE and params[:human], (name, params)
    assert not set(params[human:]) & METRIC_SIDE, (name, params)


@pytest.mark.parametrize("name", [n for n in correlation.__all__ if not n.endswith("Warning")])
def test_the_interval_method_has_one_name(name):
    params = inspect.signature(getattr(correlation, name)).parameters
    assert "method" not in params and "ci" not in params, name
    if "n_resamples" in params:
        assert params["ci_method"].kind is inspect.Parameter.KEYWORD_ONLY, name


def test_old_interval_keywords_still_work_with_a_deprecation_warning():
    a, b, h = data()
    kw = dict(n_resamples=50, seed=1)
    calls = [
        (lambda **k: correlate(a, h, "pearson", **k, **kw), "ci"),
        (lambda **k: bootstrap_ci(a, h, "pearson", **k, **kw), "method"),
        (lambda **k: paired_bootstrap(a, b, h, "pearson", **k, **kw), "method"),
        (lambda **k: compare_metrics(a, b, h, "pearson", n_permutations=20, **k, **kw), "method"),
        (lambda **k: compare_all({"a": a, "b": b}, h, "pearson", n_permutations=20, **k,
                                 **kw)[0][0], "method"),
    ]
    for call, old in calls:
        new = call(ci_method="percentile")
        with pytest.warns(DeprecationWarning, match=f"{old}=.*ci_method="):
            legacy = call(**{old: "percentile"})
        assert (legacy.ci_low, legacy.ci_high) == (new.ci_low, new.ci_high)
        assert "percentile" in legacy.method
        with pytest.raises(TypeError, match="give ci_method= only"):
            call(ci_method="percentile", **{old: "bca"})
        with pytest.raises(TypeError, match="unexpected keyword argument 'n_resample'"):
            call(n_resample=3)
