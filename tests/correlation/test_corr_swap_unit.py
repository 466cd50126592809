"""What a paired permutation test swaps: whole items by default where rows share one, stated
in every result; its size stays at alpha when the rows of an item are correlated."""
import math

import numpy as np
import pytest

from correlation import compare_all, compare_metrics, permutation_test, significance_clusters

ALPHA = 0.05
SIMULATIONS = 300
#: three binomial standard deviations of a rejection rate at ALPHA over SIMULATIONS studies
TOLERANCE = 3 * math.sqrt(ALPHA * (1 - ALPHA) / SIMULATIONS)


def image_study(seed, images=20, captions=5):
    """A true null with within-image correlation: each metric adds its own offset per image
    (alpha_g for a, beta_g for b, drawn alike), so a and b are exchangeable image by image,
    not row by row; human ratings share an image effect, as captions of one image do."""
    rng = np.random.default_rng(seed)
    items = np.repeat(np.arange(images), captions)
    n = items.size
    quality = rng.normal(0, 1.0, images)[items] + rng.normal(0, 0.5, n)
    human = np.round(2 * quality + rng.normal(0, 0.5, n))
    offset_a, offset_b = rng.normal(0, 0.7, images), rng.normal(0, 0.7, images)
    a = quality + offset_a[items] + rng.normal(0, 0.3, n)
    b = quality + offset_b[items] + rng.normal(0, 0.3, n)
    return a, b, human, items


def _rejection_rate(unit):
    rejected, units = 0, set()
    for s in range(SIMULATIONS):
        a, b, human, items = image_study(s)
        result = permutation_test(a, b, human, "kendall_c", items=items, unit=unit,
                                  n_permutations=99, seed=s)
        rejected += result.p_value <= ALPHA
        units.add(result.swap_unit)
    return rejected / SIMULATIONS, units


def test_size_stays_at_alpha_when_whole_images_swap():
    """The default with items= swaps whole images: exchangeable by construction, so the
    rejection rate under this null is alpha within binomial noise. Swapping rows one by one
    mixes the two metrics' image offsets inside an image, so the null draws vary less than
    the observed difference does and the test rejects a true null far too often."""
    rate, units = _rejection_rate(None)
    assert units == {"items"}
    assert abs(rate - ALPHA) <= TOLERANCE, rate
    rows_rate, units = _rejection_rate("rows")
    assert units == {"rows"}
    assert rows_rate > ALPHA + TOLERANCE, rows_rate


def test_default_unit_follows_the_labels():
    a, b, human, items = image_study(0)
    systems = np.tile(np.arange(5), 20)
    assert permutation_test(a, b, human, "kendall_c", n_permutations=9).swap_unit == "rows"
    assert permutation_test(a, b, human, "kendall_c", items=items,
                            n_permutations=9).swap_unit == "items"
    for level in ("item", "system"):
        r = permutation_test(a, b, human, "pearson", level, items=items, systems=systems,
                             n_permutations=9)
        assert r.swap_unit == "items", level
    r = permutation_test(a, b, human, "pearson", "system", systems=systems, n_permutations=9)
    assert r.swap_unit == "rows"


def test_every_comparison_states_its_swap_unit():
    a, b, human, items = image_study(1)
    scores = {"a": a, "b": b, "c": (a + b) / 2}
    kw = dict(n_resamples=50, n_permutations=49, seed=2)
    results, clusters = compare_all(scores, human, "kendall_c", items=items, **kw)
    assert {r.swap_unit for r in results} == {"items"} and {r.unit for r in results} == {"items"}
    assert "swapping items" in clusters.method
    rows, row_clusters = compare_all(scores, human, "kendall_c", items=items,
                                     permutation_unit="rows", **kw)
    assert {r.swap_unit for r in rows} == {"rows"} and {r.unit for r in rows} == {"items"}
    assert "swapping rows" in row_clusters.method
    assert [r.p_value for r in rows] != [r.p_value for r in results]
    single = compare_metrics(a, b, human, "kendall_c", items=items, **kw)
    assert single.swap_unit == "items" and single.to_dict()["swap_unit"] == "items"
    assert "swapping items" in significance_clusters(scores, human, "kendall_c", items=items,
                                                     n_permutations=9).method


def test_an_item_swap_needs_item_labels():
    a, b, human, _ = image_study(0)
    with pytest.raises(ValueError, match="needs items= labels"):
        permutation_test(a, b, human, "kendall_c", unit="items")
