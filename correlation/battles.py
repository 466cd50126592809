"""Rankings of systems from pairwise battles: Bradley-Terry and online Elo.

Arena-style evaluation (Chatbot Arena, Chiang et al. 2024, arXiv:2403.04132;
CapArena, Cheng et al. 2025, ACL Findings, arXiv:2503.12329) ranks systems
from pairwise preferences. A battle is (system_a, system_b, outcome) with
outcome +1 (A better), 0 (tie), -1 (B better), as everywhere in this package.

- Bradley-Terry (Bradley & Terry 1952), by maximum likelihood: P(i beats j) =
  pi_i / (pi_i + pi_j). **A tie counts as half a win for each side** (the
  CapArena and Chatbot Arena convention, not the Davidson tie model). Fitted
  by Hunter's (2004) MM iteration pi_i <- W_i / sum_j n_ij / (pi_i + pi_j),
  W_i the (half-)wins of i, n_ij the battles between i and j, to a relative
  change below 1e-12. The MLE exists only when every system can be reached
  from every other through "beat or tied" edges (Ford 1957); otherwise the
  fit is undefined (NaN, with a warning). Reported on the Elo scale:
  scale * log(pi_i) / ln(base) + initial, log(pi) centred on mean 0 (as
  Chatbot Arena reports its BT scores).
- Online Elo, in the order of the battles: E_a = 1 / (1 + base^((R_b -
  R_a) / scale)), S_a = 1, 1/2, 0 for a win, tie, loss;
  R_a += K (S_a - E_a), R_b -= K (S_a - E_a). CapArena's defaults: K = 4,
  scale 400, base 10, initial rating 1000. Online Elo depends on the order
  of the battles, so `battle_ranking` and `ranking_agreement` take as its
  score the median over the bootstrap resamples (each in random order), as
  CapArena and Chatbot Arena rank by; `elo_ratings` is the single pass.

Intervals (`battle_ranking`): percentile bootstrap over battles (a
resample is drawn with replacement and in random order, as CapArena's
`get_bootstrap_result`), for each system's score and for its rank (1 = best).
`ranking_agreement` compares two rankings fitted on the same battles (e.g.
human outcomes and a metric's) by Spearman's rho and Kendall's tau-b between
the systems' scores, with a percentile interval from the same resamples for
both. Metric scores first, human second, as everywhere. `caption_agreement` is CapArena's caption-level agreement.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.stats import kendalltau, rankdata, spearmanr

from ._validate import check_lengths, make_rng, undefined
from .bootstrap import check_settings, percentile_interval
from .results import CorrelationResult

__all__ = ["bradley_terry", "elo_ratings", "battle_ranking", "ranking_agreement",
           "caption_agreement", "BattleRanking", "RANKING_MODELS"]

RANKING_MODELS = ("bt", "elo")


@dataclass(frozen=True)
class BattleRanking:
    """Systems ranked from battles: per system its score (Elo scale), percentile interval,
    rank (1 = best, ties share the best rank) and rank interval."""

    model: str
    systems: tuple
    scores: tuple
    ci_low: tuple
    ci_high: tuple
    rank: tuple
    rank_low: tuple
    rank_high: tuple
    n_battles: int
    n_resamples: int
    n_undefined: int = 0
    notes: str = ""


def _battles(system_a, system_b, outcome, systems=None):
    a, b = np.asarray(system_a).astype(str), np.asarray(system_b).astype(str)
    o = np.asarray(outcome, dtype=float)
    check_lengths([("system_a", a), ("system_b", b), ("outcome", o)])
    if not np.all(np.isin(o, (-1, 0, 1))):
        raise ValueError("battle outcomes must be +1 (A better), 0 (tie) or -1 (B better)")
    if np.any(a == b):
        k = int(np.flatnonzero(a == b)[0])
        raise ValueError(f"battle {k}: a system ({a[k]!r}) cannot battle itself")
    labels = np.array(sorted(set(a) | set(b)) if systems is None else [str(s) for s in systems])
    pos = {s: k for k, s in enumerate(labels)}
    unknown = (set(a) | set(b)) - set(pos)
    if unknown:
        raise ValueError(f"battles name systems not in systems=: {sorted(unknown)}")
    return labels, np.array([pos[s] for s in a], dtype=int), \
        np.array([pos[s] for s in b], dtype=int), o


def _bt_fit(ia, ib, o, k: int, max_iter: int = 10_000) -> np.ndarray:
    """log-strengths (mean 0) or NaNs when the MLE does not exist."""
    s_a = (o + 1) / 2  # 1, 1/2, 0
    wins = np.bincount(ia, s_a, k) + np.bincount(ib, 1 - s_a, k)
    n = np.zeros((k, k))
    np.add.at(n, (ia, ib), 1)
    n = n + n.T
    beat = np.zeros((k, k), dtype=bool)  # i -> j: i beat or tied j at least once
    beat[ia[o >= 0], ib[o >= 0]] = True
    beat[ib[o <= 0], ia[o <= 0]] = True
    if k < 2 or connected_components(csr_matrix(beat), directed=True,
                                     connection="strong")[0] != 1:
        return np.full(k, np.nan)
    pi = np.ones(k)
    for _ in range(max_iter):
        new = wins / (n / (pi[:, None] + pi[None, :])).sum(axis=1)
        new /= np.exp(np.mean(np.log(new)))
        done = np.max(np.abs(new - pi) / pi) < 1e-12
        pi = new
        if done:
            break
    return np.log(pi) - np.mean(np.log(pi))


def bradley_terry(system_a, system_b, outcome, systems=None, *, scale: float = 400,
                  base: float = 10, initial: float = 1000) -> dict[str, float]:
    """{system: Bradley-Terry score on the Elo scale} by maximum likelihood (ties half wins).

    NaN for every system, with a warning, when the MLE does not exist (some
    system never beat or tied the rest, or the battles split the systems).
    """
    labels, ia, ib, o = _battles(system_a, system_b, outcome, systems)
    theta = _bt_fit(ia, ib, o, labels.size)
    if np.isnan(theta).any():
        undefined("Bradley-Terry scores are undefined: the battles do not connect every system "
                  "in both directions (some system never beat or tied the others)")
    return dict(zip(labels.tolist(), (scale * theta / math.log(base) + initial).tolist()))


def _elo(ia, ib, o, k: int, K: float, scale: float, base: float, initial: float) -> np.ndarray:
    rating = np.full(k, float(initial))
    s_a = (o + 1) / 2
    for x, y, s in zip(ia, ib, s_a):
        expected = 1 / (1 + base ** ((rating[y] - rating[x]) / scale))
        step = K * (s - expected)
        rating[x] += step
        rating[y] -= step
    return rating


def elo_ratings(system_a, system_b, outcome, systems=None, *, k: float = 4, scale: float = 400,
                base: float = 10, initial: float = 1000) -> dict[str, float]:
    """{system: online Elo rating} after the battles in the order given (CapArena defaults)."""
    labels, ia, ib, o = _battles(system_a, system_b, outcome, systems)
    return dict(zip(labels.tolist(), _elo(ia, ib, o, labels.size, k, scale, base,
                                          initial).tolist()))


def _elo_many(ia, ib, o, k: int, K: float, scale: float, base: float,
              initial: float) -> np.ndarray:
    """`_elo` of many battle sequences at once: ia, ib, o are resamples x battles; one row
    of ratings per resample (the same arithmetic, battle by battle)."""
    rating = np.full((ia.shape[0], k), float(initial))
    rows = np.arange(ia.shape[0])
    s_a = (o + 1) / 2
    for t in range(ia.shape[1]):
        x, y = ia[:, t], ib[:, t]
        expected = 1 / (1 + base ** ((rating[rows, y] - rating[rows, x]) / scale))
        step = K * (s_a[:, t] - expected)
        rating[rows, x] += step
        rating[rows, y] -= step
    return rating


def _scorer(model: str, k: int, elo_k: float, scale: float, base: float, initial: float):
    """fit(ia, ib, o) -> scores, for one battle sequence (1-D) or many (resamples x battles,
    one row of scores each)."""
    if model not in RANKING_MODELS:
        raise ValueError(f"unknown ranking model {model!r}; choose one of "
                         f"{', '.join(RANKING_MODELS)}")
    if model == "bt":
        def fit(ia, ib, o):
            if ia.ndim == 2:
                return np.array([fit(x, y, z) for x, y, z in zip(ia, ib, o)]).reshape(
                    ia.shape[0], k)
            return scale * _bt_fit(ia, ib, o, k) / math.log(base) + initial
        return fit
    return lambda ia, ib, o: (_elo_many(ia, ib, o, k, elo_k, scale, base, initial)
                              if ia.ndim == 2 else _elo(ia, ib, o, k, elo_k, scale, base,
                                                        initial))


def _percentile_only(function: str, ci_method: str) -> None:
    if ci_method != "percentile":
        raise ValueError(f"{function}: ci_method must be 'percentile' (a ranking's interval is "
                         f"the percentile bootstrap), got {ci_method!r}")


def _ranks(scores: np.ndarray) -> np.ndarray:
    return rankdata(-scores, method="min")


def battle_ranking(system_a, system_b, outcome, systems=None, *, model: str = "bt",
                   k: float = 4, scale: float = 400, base: float = 10, initial: float = 1000,
                   ci_method: str = "percentile", n_resamples: int = 1000,
                   confidence: float = 0.95, seed=0) -> BattleRanking:
    """Scores, ranks and their percentile bootstrap intervals over battles (model "bt" or
    "elo"; k is Elo's K; Elo's score is the median over the resamples, see the module
    docstring; ci_method "percentile" only). Resamples where BT is undefined are left out
    and counted."""
    _percentile_only("battle_ranking", ci_method)
    check_settings("percentile", n_resamples, confidence)
    labels, ia, ib, o = _battles(system_a, system_b, outcome, systems)
    fit = _scorer(model, labels.size, k, scale, base, initial)
    point = fit(ia, ib, o)
    if np.isnan(point).any():
        undefined("Bradley-Terry scores are undefined: the battles do not connect every system "
                  "in both directions")
    rng = make_rng(seed)
    idx = np.stack([rng.integers(0, o.size, o.size) for _ in range(n_resamples)])
    reps = fit(ia[idx], ib[idx], o[idx])
    ok = ~np.isnan(reps).any(axis=1)
    reps = reps[ok]
    if model == "elo" and reps.size:
        point = np.median(reps, axis=0)
    alpha = (1 - confidence) / 2
    if reps.size:
        lo, hi = np.percentile(reps, [100 * alpha, 100 * (1 - alpha)], axis=0)
        rank_reps = np.apply_along_axis(_ranks, 1, reps)
        r_lo = np.percentile(rank_reps, 100 * alpha, axis=0, method="lower")
        r_hi = np.percentile(rank_reps, 100 * (1 - alpha), axis=0, method="higher")
    else:
        lo = hi = r_lo = r_hi = np.full(labels.size, np.nan)
    ranks = _ranks(point) if not np.isnan(point).any() else np.full(labels.size, np.nan)
    dropped = int((~ok).sum())
    return BattleRanking(
        model=model, systems=tuple(labels.tolist()), scores=tuple(point.tolist()),
        ci_low=tuple(np.asarray(lo).tolist()), ci_high=tuple(np.asarray(hi).tolist()),
        rank=tuple(np.asarray(ranks, dtype=float).tolist()),
        rank_low=tuple(np.asarray(r_lo, dtype=float).tolist()),
        rank_high=tuple(np.asarray(r_hi, dtype=float).tolist()), n_battles=int(o.size),
        n_resamples=int(n_resamples), n_undefined=dropped,
        notes=(f"{dropped} of {n_resamples} resamples left out: Bradley-Terry undefined there"
               if dropped else ""))


def _rank_correlations(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if x.size < 2 or np.isnan(x).any() or np.isnan(y).any() or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan, math.nan
    return float(spearmanr(x, y).statistic), float(kendalltau(x, y).statistic)


def ranking_agreement(metric, human, system_a, system_b, *, model: str = "bt",
                      k: float = 4, scale: float = 400, base: float = 10,
                      initial: float = 1000, ci_method: str = "percentile",
                      n_resamples: int = 1000, confidence: float = 0.95,
                      seed=0) -> tuple[CorrelationResult, CorrelationResult]:
    """Spearman and Kendall tau-b between the system rankings fitted (by `model`) from the
    metric's and the humans' battle outcomes (+1, 0, -1) on the same battles, with
    percentile bootstrap intervals over battles (one resample for both; ci_method
    "percentile" only: no BCa jackknife of a ranking refit). Battles where either outcome
    is NaN are dropped and counted in n_nan."""
    _percentile_only("ranking_agreement", ci_method)
    check_settings("percentile", n_resamples, confidence)
    m = np.asarray(metric, dtype=float)
    h = np.asarray(human, dtype=float)
    check_lengths([("metric", m), ("human", h), ("system_a", system_a),
                   ("system_b", system_b)])
    keep = np.isfinite(m) & np.isfinite(h)
    labels, ia, ib, hh = _battles(np.asarray(system_a)[keep], np.asarray(system_b)[keep],
                                  h[keep])
    _, _, _, mm = _battles(np.asarray(system_a)[keep], np.asarray(system_b)[keep], m[keep],
                           labels)
    fit = _scorer(model, labels.size, k, scale, base, initial)
    metric_scores, human_scores = fit(ia, ib, mm), fit(ia, ib, hh)
    rng = make_rng(seed)
    idx = np.stack([rng.integers(0, hh.size, hh.size) for _ in range(n_resamples)])
    metric_reps = fit(ia[idx], ib[idx], mm[idx])
    human_reps = fit(ia[idx], ib[idx], hh[idx])
    reps = np.array([_rank_correlations(x, y) for x, y in zip(metric_reps, human_reps)])
    if model == "elo" and reps.size:  # order-free scores: the bootstrap medians
        metric_scores = np.median(metric_reps, axis=0)
        human_scores = np.median(human_reps, axis=0)
    rho, tau = _rank_correlations(metric_scores, human_scores)
    out = []
    for col, (name, value) in enumerate((("ranking_spearman", rho), ("ranking_kendall", tau))):
        finite = reps[:, col][np.isfinite(reps[:, col])]
        lo, hi = (percentile_interval(finite, confidence) if finite.size and math.isfinite(value)
                  else (math.nan, math.nan))
        note = (f"{reps.shape[0] - finite.size} of {n_resamples} resamples undefined and left "
                "out" if finite.size < reps.shape[0] else "")
        if not math.isfinite(value):
            undefined(f"{name} is undefined: a ranking could not be fitted or is constant")
        out.append(CorrelationResult(
            statistic=name, level="system", value=value, ci_low=lo, ci_high=hi,
            n=int(labels.size), method=f"{'Bradley-Terry' if model == 'bt' else 'online Elo'} "
                                       f"rankings; bootstrap percentile ({n_resamples} "
                                       f"resamples of battles, {confidence:.0%})",
            n_nan=int((~keep).sum()), n_groups=int(hh.size), confidence=confidence,
            n_resamples=int(n_resamples), unit="battles", n_units=int(hh.size),
            seed=int(seed) if isinstance(seed, (int, np.integer)) else None, notes=note))
    return out[0], out[1]


def caption_agreement(metric, human) -> tuple[float, float, int, int]:
    """CapArena's caption-level agreement (Cheng et al. 2025; `cal_agreement` of its code):
    (with ties: share of battles where the decisions are equal, a tie matching only a tie;
    without ties: the same over battles where neither side tied; and the two counts).
    Battles with a NaN outcome are dropped."""
    m = np.asarray(metric, dtype=float)
    h = np.asarray(human, dtype=float)
    check_lengths([("metric", m), ("human", h)])
    keep = np.isfinite(m) & np.isfinite(h)
    m, h = np.sign(m[keep]), h[keep]
    decisive = (m != 0) & (h != 0)
    with_ties = float(np.mean(m == h)) if m.size else math.nan
    without = float(np.mean(m[decisive] == h[decisive])) if decisive.any() else math.nan
    return with_ties, without, int(m.size), int(decisive.sum())
