"""Rankings from pairwise battles: Bradley-Terry against choix, Elo by hand,
CapArena's caption-level agreement, rank correlations between rankings."""
import numpy as np
import pytest

from correlation import caption_agreement, ranking_agreement
from correlation.battles import battle_ranking, bradley_terry, elo_ratings
from correlation.warnings import UndefinedCorrelationWarning


def _battles(seed, n=400, strength=(0, 0.3, 0.6, 1.0, 1.5), tie_band=0.1):
    rng = np.random.default_rng(seed)
    strength = np.asarray(strength)
    k = strength.size
    a = rng.integers(0, k, n)
    b = (a + rng.integers(1, k, n)) % k
    p = 1 / (1 + np.exp(-(strength[a] - strength[b])))
    u = rng.random(n)
    o = np.where(u < p - tie_band / 2, 1, np.where(u < p + tie_band / 2, 0, -1))
    names = np.array([f"sys{i}" for i in range(k)])
    return names[a], names[b], o


@pytest.mark.parametrize("seed", [0, 1])
def test_bradley_terry_matches_choix_with_ties_as_half_wins(seed):
    choix = pytest.importorskip("choix")
    a, b, o = _battles(seed)
    names = sorted(set(a) | set(b))
    pos = {s: i for i, s in enumerate(names)}
    wins = np.zeros((len(names), len(names)))  # wins[i, j]: times i beat j, a tie half each
    for x, y, r in zip(a, b, o):
        i, j = pos[x], pos[y]
        if r == 0:
            wins[i, j] += 0.5
            wins[j, i] += 0.5
        else:
            wins[(i, j) if r > 0 else (j, i)] += 1
    theta = choix.ilsr_pairwise_dense(wins, alpha=0.0, tol=1e-13, max_iter=10_000)
    ours = bradley_terry(a, b, o)
    on_log_scale = (np.array([ours[s] for s in names]) - 1000) * np.log(10) / 400
    np.testing.assert_allclose(on_log_scale, theta - theta.mean(), atol=1e-8)


def test_bradley_terry_undefined_when_a_system_never_wins():
    with pytest.warns(UndefinedCorrelationWarning):
        scores = bradley_terry(["x", "x", "y"], ["y", "z", "z"], [1, 1, 1])
    assert all(np.isnan(v) for v in scores.values())


def test_elo_hand_worked():
    # battle 1: A beats B, both at 1000: E = 1/2, A 1002, B 998.
    # battle 2: B (as system A) ties A: E_B = 1/(1 + 10^((1002 - 998)/400)) = 0.4942438,
    # step = 4 (1/2 - E_B) = 0.0230248: B 998.0230248, A 1001.9769752
    r = elo_ratings(["A", "B"], ["B", "A"], [1, 0])
    assert r["A"] == pytest.approx(1001.9769751663554, abs=1e-9)
    assert r["B"] == pytest.approx(998.0230248336446, abs=1e-9)
    r = elo_ratings(["A"], ["B"], [-1], k=32, initial=1500)
    assert r == pytest.approx({"A": 1484.0, "B": 1516.0})


def test_battle_ranking_intervals_and_ranks():
    a, b, o = _battles(2)
    for method in ("bt", "elo"):
        r = battle_ranking(a, b, o, model=method, n_resamples=200)
        assert r.systems == tuple(f"sys{i}" for i in range(5))
        assert r.rank[4] == 1 and r.rank[0] == 5  # the strongest and weakest
        for s, lo, hi, rank, rlo, rhi in zip(r.scores, r.ci_low, r.ci_high, r.rank, r.rank_low,
                                             r.rank_high):
            assert lo <= s <= hi and rlo <= rank <= rhi
    with pytest.raises(ValueError, match="ranking model"):
        battle_ranking(a, b, o, model="glicko")


def test_ranking_agreement_perfect_and_reversed():
    a, b, o = _battles(3)
    rho, tau = ranking_agreement(o, o, a, b, n_resamples=50)
    assert rho.value == pytest.approx(1.0) and tau.value == pytest.approx(1.0)
    rho, tau = ranking_agreement(-o, o, a, b, model="elo", n_resamples=50)
    assert rho.value == pytest.approx(-1.0) and tau.value == pytest.approx(-1.0)
    assert rho.statistic == "ranking_spearman" and rho.n == 5 and rho.unit == "battles"


def test_caption_agreement_with_and_without_ties():
    # metric (1, 0, -1, 1, 1) vs human (1, 0, 1, 0, -1): equal on 2 of 5 with ties;
    # battles where neither tied: 1st, 3rd, 5th; equal on 1 of 3
    assert caption_agreement([1, 0, -1, 1, 1], [1, 0, 1, 0, -1]) == (
        pytest.approx(2 / 5), pytest.approx(1 / 3), 5, 3)


def test_elo_ranking_does_not_depend_on_the_battles_order():
    # A beats B in 60 of 100 battles, but the file ends with B's 40 wins: a single online
    # pass ends with B ahead; the bootstrap median (random orders) puts A first
    a, b = ["A"] * 100, ["B"] * 100
    o = [1] * 60 + [-1] * 40
    single = elo_ratings(a, b, o)
    assert single["B"] > single["A"]
    r = battle_ranking(a, b, o, model="elo", n_resamples=200)
    assert r.rank == (1.0, 2.0)
    assert all(lo <= s <= hi for s, lo, hi in zip(r.scores, r.ci_low, r.ci_high))


def test_elo_of_many_resamples_at_once_equals_one_by_one():
    from correlation.battles import _elo, _elo_many

    a, b, o = _battles(4, n=60)
    names = sorted(set(a) | set(b))
    ia = np.array([names.index(x) for x in a])
    ib = np.array([names.index(x) for x in b])
    idx = np.random.default_rng(0).integers(0, 60, (5, 60))
    many = _elo_many(ia[idx], ib[idx], o[idx], 5, 4, 400, 10, 1000)
    for row, sel in zip(many, idx):
        np.testing.assert_allclose(row, _elo(ia[sel], ib[sel], o[sel], 5, 4, 400, 10, 1000),
                                   rtol=0, atol=1e-9)
