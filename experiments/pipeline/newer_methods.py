"""Rows for the meta-evaluation methods of 2024-2026, where a benchmark has the data.

- Cohen's kappa on three-way decisions (A better, B better, tie) for every
  metric and the pairwise judge, on each pair-level subset
  (`correlation.preference_kappa`; statistic ``kappa``, level pair).
- Krippendorff's alpha, interval and ordinal, between annotators where
  several rated the same samples (`correlation.krippendorff_alpha_ci`),
  reported as metric ``human_ceiling`` with statistic
  ``krippendorff_interval`` / ``krippendorff_ordinal`` (level flat), beside
  the leave-one-annotator-out ceiling.

The statistics live in `correlation/`; this module only lines up the arrays.
"""
from __future__ import annotations

import numpy as np

from ..benchmarks.base import Benchmark, scores_for
from .agreement import (HUMAN_CEILING, PairProbabilities, ResultRow, View, _finite, _quietly,
                        annotator_matrix)
from .settings import AnalysisSettings

KAPPA = "kappa"
ALPHA_STATISTICS = ("krippendorff_interval", "krippendorff_ordinal")
SPA, SYSTEM_ACCURACY = "spa", "pairwise_accuracy"


def kappa_rows(bench: Benchmark, scored: dict[str, np.ndarray | PairProbabilities],
               bench_views: list[View], settings: AnalysisSettings) -> list[ResultRow]:
    """Kappa of each metric on each pair-level subset (once per subset, whatever its steps)."""
    from correlation import preference_kappa

    rows = []
    seen = set()
    for view in bench_views:
        if view.step.level != "pair" or view.subset in seen:
            continue
        seen.add(view.subset)
        for metric, scores in scored.items():
            scores, nonfinite = _finite(scores)
            margin = view.metric_vector(scores)
            result, note = _quietly(lambda: preference_kappa(
                margin, view.human, items=view.items, ci_method=settings.ci_method,
                n_resamples=settings.bootstrap, confidence=settings.confidence,
                seed=settings.seed))
            notes = "; ".join(n for n in (nonfinite, note, result.notes) if n)
            rows.append(ResultRow(bench.name, metric, KAPPA, "pair", result.value, result.ci_low,
                                  result.ci_high, result.n, view.subset, unit=result.unit or "",
                                  n_units=result.n_units, n_nan=result.n_nan, notes=notes))
    return rows


def alpha_rows(bench: Benchmark, settings: AnalysisSettings) -> list[ResultRow]:
    """Krippendorff's alpha (interval, ordinal) between annotators, where known."""
    from correlation.inter_annotator import krippendorff_alpha_ci

    ratings = bench.ratings
    if ratings is None or ratings.annotators is None or len(set(ratings.annotators)) < 2:
        return []
    matrix, _, annotators = annotator_matrix(bench)
    rows = []
    for statistic in ALPHA_STATISTICS:
        level = statistic.partition("_")[2]
        result, note = _quietly(lambda: krippendorff_alpha_ci(
            matrix, level, ci_method=settings.ci_method, n_resamples=settings.bootstrap,
            confidence=settings.confidence, seed=settings.seed))
        notes = "; ".join(n for n in (f"annotator columns: {', '.join(annotators)}",
                                      f"{result.n_dropped} samples rated fewer than twice left "
                                      "out" if result.n_dropped else "", result.notes, note) if n)
        rows.append(ResultRow(bench.name, HUMAN_CEILING, statistic, "flat", result.value,
                              result.ci_low, result.ci_high, result.n, "", unit="samples",
                              n_units=result.n_units, notes=notes))
    return rows


def systems_share_items(bench: Benchmark) -> bool:
    """Whether the ratings name two or more systems that were rated on a common item (THumB:
    five systems on every image); a file whose items are its samples has none."""
    ratings = bench.ratings
    if ratings is None or ratings.systems is None or ratings.items is None:
        return False
    systems_of: dict[str, set] = {}
    for item, system in zip(ratings.items, ratings.systems):
        systems_of.setdefault(item, set()).add(system)
    return len(set(ratings.systems)) >= 2 and any(len(s) >= 2 for s in systems_of.values())


def spa_rows(bench: Benchmark, scored: dict[str, np.ndarray | PairProbabilities],
             settings: AnalysisSettings) -> list[ResultRow]:
    """SPA with an interval over items and its clusters, and system-level pairwise accuracy,
    for every per-sample metric, where the ratings name systems and items."""
    from correlation import spa_ci, spa_clusters, system_pairwise_accuracy

    ratings = bench.ratings
    if not systems_share_items(bench):
        return []
    index = bench.sample_index()
    systems, items = np.asarray(ratings.systems), np.asarray(ratings.items)
    vectors = {m: _finite(s)[0] for m, s in scored.items() if not isinstance(s, PairProbabilities)}
    vectors = {m: scores_for(ratings.sample_ids, index, s) for m, s in vectors.items()}
    rows = []
    for metric, vector in vectors.items():
        result, note = _quietly(lambda: spa_ci(
            vector, ratings.values, systems, items, n_permutations=settings.permutations,
            ci_method=settings.ci_method, n_resamples=settings.bootstrap,
            confidence=settings.confidence, seed=settings.seed))
        rows.append(ResultRow(bench.name, metric, SPA, "system", result.value, result.ci_low,
                              result.ci_high, result.n, "", unit="items",
                              n_units=result.n_units,
                              notes="; ".join(n for n in (note, result.notes) if n)))
        value, note = _quietly(lambda: system_pairwise_accuracy(vector, ratings.values, systems))
        rows.append(ResultRow(bench.name, metric, SYSTEM_ACCURACY, "system", value, np.nan,
                              np.nan, len(set(ratings.systems)), notes=note))
    if len(vectors) > 1:
        clusters, _ = _quietly(lambda: spa_clusters(
            vectors, ratings.values, systems, items, n_permutations=settings.permutations,
            n_tests=settings.permutations, alpha=settings.alpha, seed=settings.seed))
        cluster_of = {e.metric: e.cluster for e in clusters.entries}
        for row in rows:
            if row.statistic == SPA:
                row.cluster = cluster_of.get(row.metric)
    return rows


HUMANS = "humans"  # the ranking fitted from the human outcomes, in rankings.csv
RANKING_METHODS = ("bt", "elo")


def battle_outcomes(bench: Benchmark, scores: np.ndarray | PairProbabilities) -> np.ndarray:
    """Per verdict row, the metric's battle outcome: +1 when it prefers A, -1 when B, 0 on a
    tie, NaN where it has no score."""
    from correlation import preference_margin

    prefs = bench.preferences
    scores, _ = _finite(scores)
    if isinstance(scores, PairProbabilities):
        prob = np.array([scores.prob_b_better.get(i, np.nan) for i in prefs.pair_ids])
        return np.sign(preference_margin(prob_b_better=prob))
    index = bench.sample_index()
    return np.sign(scores_for(prefs.sample_a, index, scores)
                   - scores_for(prefs.sample_b, index, scores))


def rating_battles(bench: Benchmark, scored: dict[str, np.ndarray | PairProbabilities]):
    """Battles derived from ratings that name systems and items (THumB): on each item, every
    two systems with a human score battle, the outcome the sign of the difference of their
    mean scores (humans' and each metric's; NaN where the metric has none). None when the
    ratings name no systems or items."""
    from correlation.spa import segment_matrix

    ratings = bench.ratings
    if not systems_share_items(bench):
        return None
    index = bench.sample_index()
    H, systems, _ = segment_matrix(ratings.values, ratings.systems, ratings.items)
    i, j = np.triu_indices(len(systems), 1)
    both = np.isfinite(H[i]) & np.isfinite(H[j])  # pairs x items
    pair, item = np.nonzero(both)
    a, b = np.asarray(systems)[i[pair]], np.asarray(systems)[j[pair]]
    human = np.sign(H[i[pair], item] - H[j[pair], item])
    outcomes = {}
    for metric, scores in scored.items():
        if isinstance(scores, PairProbabilities):
            continue
        vector = scores_for(ratings.sample_ids, index, _finite(scores)[0])
        M = segment_matrix(vector, ratings.systems, ratings.items)[0]
        outcomes[metric] = np.sign(M[i[pair], item] - M[j[pair], item])
    return a, b, human, outcomes


def battle_rankings(bench: Benchmark, scored: dict[str, np.ndarray | PairProbabilities],
                    settings: AnalysisSettings) -> tuple[list[ResultRow], list[dict]]:
    """(agreement rows, rankings.csv rows) where the preferences name the systems, or else
    where ratings name systems and items (battles derived per item, `rating_battles`)."""
    prefs = bench.preferences
    if prefs is not None and prefs.system_a is not None and len(
            set(prefs.system_a + prefs.system_b)) >= 2:
        outcomes = {m: battle_outcomes(bench, s) for m, s in scored.items()}
        return _ranked(bench.name, np.asarray(prefs.system_a), np.asarray(prefs.system_b),
                       prefs.outcome.astype(float), outcomes, settings, "judged pairs")
    derived = rating_battles(bench, scored)
    if derived is None:
        return [], []
    return _ranked(bench.name, *derived, settings, "derived from ratings per item")


def _ranked(bench_name: str, a: np.ndarray, b: np.ndarray, human: np.ndarray,
            metric_outcomes: dict[str, np.ndarray], settings: AnalysisSettings,
            battles: str) -> tuple[list[ResultRow], list[dict]]:
    from correlation import caption_agreement, ranking_agreement
    from correlation.battles import battle_ranking

    outcomes = {HUMANS: human, **metric_outcomes}
    table, rows = [], []
    options = dict(n_resamples=settings.bootstrap, confidence=settings.confidence,
                   seed=settings.seed)
    for name, outcome in outcomes.items():
        keep = np.isfinite(outcome)
        for method in RANKING_METHODS:
            ranking, note = _quietly(lambda: battle_ranking(a[keep], b[keep], outcome[keep],
                                                            model=method, **options))
            for k, system in enumerate(ranking.systems):
                table.append({"ranking": name, "method": method, "system": system,
                              "score": ranking.scores[k], "ci_low": ranking.ci_low[k],
                              "ci_high": ranking.ci_high[k], "rank": ranking.rank[k],
                              "rank_low": ranking.rank_low[k], "rank_high": ranking.rank_high[k],
                              "n_battles": ranking.n_battles, "battles": battles,
                              "notes": "; ".join(n for n in (ranking.notes, note) if n)})
        if name == HUMANS:
            continue
        for method in RANKING_METHODS:
            (rho, tau), note = _quietly(lambda: ranking_agreement(outcome, human, a, b,
                                                                  model=method, **options))
            for result in (rho, tau):
                rows.append(ResultRow(bench_name, name, f"{result.statistic}_{method}", "system",
                                      result.value, result.ci_low, result.ci_high, result.n,
                                      unit="battles", n_units=result.n_units,
                                      n_nan=result.n_nan,
                                      notes="; ".join(n for n in (note, result.notes) if n)))
        with_ties, without, n, n_decisive = caption_agreement(outcome, human)
        rows.append(ResultRow(bench_name, name, "caption_agreement", "pair", with_ties, np.nan,
                              np.nan, n, n_nan=int((~np.isfinite(outcome)).sum())))
        rows.append(ResultRow(bench_name, name, "caption_agreement_no_ties", "pair", without,
                              np.nan, np.nan, n_decisive,
                              n_nan=int((~np.isfinite(outcome)).sum())))
    return rows, table


def newer_rows(bench: Benchmark, scored: dict[str, np.ndarray | PairProbabilities],
               bench_views: list[View], settings: AnalysisSettings) -> list[ResultRow]:
    """Every row of this module that `bench`'s data allow (rankings.csv: `battle_rankings`)."""
    return (kappa_rows(bench, scored, bench_views, settings) + alpha_rows(bench, settings)
            + spa_rows(bench, scored, settings))


def report_lines(rows: list[ResultRow]) -> list[str]:
    """What report.md says about this module's rows, for those present."""
    present = {r.statistic for r in rows}
    lines = []
    if KAPPA in present:
        lines.append("- `kappa` rows: Cohen's kappa between the metric's three-way decision (A "
                     "better, B better, tie) and the human one, over every pair; chance "
                     "agreement removed, so it is lower than accuracy when one side dominates.")
    if present & set(ALPHA_STATISTICS):
        lines.append("- `krippendorff_interval` / `krippendorff_ordinal` rows (metric "
                     f"`{HUMAN_CEILING}`): Krippendorff's alpha between the annotators, "
                     "samples rated at least twice, interval over samples.")
    if SPA in present:
        lines.append("- `spa` rows (level system): soft pairwise accuracy (Thompson et al. 2024, "
                     "the WMT24-25 system-level meta-metric): mean over system pairs of 1 - "
                     "|p_human - p_metric|, each p a one-sided paired permutation p-value that "
                     "one system beats the other; interval over items; `pairwise_accuracy` "
                     "rows: the share of system pairs ordered alike by system means (WMT22-23; "
                     "no interval).")
        for bench in dict.fromkeys(r.benchmark for r in rows if r.statistic == SPA):
            ranked = sorted((r for r in rows if r.benchmark == bench and r.statistic == SPA
                             and r.cluster is not None), key=lambda r: (r.cluster, -r.value))
            if ranked:
                groups: dict[int, list[str]] = {}
                for r in ranked:
                    groups.setdefault(r.cluster, []).append(r.metric)
                lines.append(f"  - {bench}, spa clusters: " + " > ".join(
                    "{" + ", ".join(g) + "}" for g in groups.values()))
    if any(r.statistic.startswith("ranking_") for r in rows):
        lines.append("- `ranking_spearman_bt|elo`, `ranking_kendall_bt|elo` rows: the pairs as "
                     "battles between the systems that wrote A and B; Spearman and Kendall "
                     "tau-b between the systems' Bradley-Terry (ties half wins) or online Elo "
                     "(K 4, scale 400, initial 1000; median over the resamples) scores from "
                     "the metric's outcomes (its preferred side, a tie where it ties) and from "
                     "the humans'; percentile "
                     "intervals over battles. Each ranking, with score and rank intervals per "
                     "system: rankings.csv. `caption_agreement` (ties included) and "
                     "`caption_agreement_no_ties`: CapArena's caption-level agreement (no "
                     "interval).")
    return lines
