"""Socratis' own tables, beside the preference agreement run_correlation reports.

Deng et al. 2023, "Socratis: Are large multimodal models emotionally
aware?" (arXiv:2308.16741) report three things this module recomputes for
any metric:

- `subset_means`: the mean metric score in each verdict subset of the
  human study (Machine-better, Human-better, Both-good, Both-bad). As we
  read the paper, it averages the score of the machine-written reason of
  each pair; a metric that tracks people should score it higher where
  people preferred it. We report that (`machine_reason_*`) and the same for
  the human-written reason of the pair (`human_reason_*`).
- `subset_tests`: do Machine-better and Human-better differ? A permutation
  test of the difference of the two subset means (below).
- `generator_means` and `generator_differences`: the mean score of each
  generator's reasons (the paper's BLIP-2 vs text-only FLAN-T5 table), and
  the paired difference between two generators on the same item and emotion.
- `verdict_counts` and `study_summary`: how often each verdict was given
  (the paper: 223 human, 91 machine, 47 both good, 11 both bad), the ratio
  of human-preferred to machine-preferred, and the annotators' agreement;
  for all generators together and, where there are several, per generator.
  The summary also says what the collected verdicts could detect:
  `detectable_human_share`, the smallest share of human-preferred among the
  decisive (human or machine) verdicts that the exact two-sided sign test at
  alpha finds with power 0.8 with this many decisive verdicts
  (`correlation.power.detectable_share`; docs/power.md), and the same as a ratio
  human / machine (`detectable_ratio`). A share of 1/2 is no preference.

Units. A judgment is one annotator's verdict on one pair; a pair judged by
k annotators adds k judgments, each to the subset of its verdict, so the
counts are those of the paper. Judgments of one pair share its scores, so
every interval resamples pairs (a cluster bootstrap: scipy.stats.bootstrap
with paired rows, BCa by default; Efron & Tibshirani 1993, ch. 14), and
generator means resample items. NaN scores are left out and counted.

Test. Under the null hypothesis a pair's scores say nothing of its
verdicts, so shuffling scores among the pairs that have a Machine-better or
Human-better verdict, each pair keeping its own verdict counts, leaves the
distribution of the statistic unchanged (Good 2005, Permutation, Parametric
and Bootstrap Tests of Hypotheses, ch. 3). The statistic is
mean(Machine-better) - mean(Human-better) over judgments; the two-sided
p-value is (1 + #{|draw| >= |observed|}) / (1 + draws) (scipy's
permutation_test; Phipson & Smyth 2010). Generator differences flip the
sign of each (item, emotion) difference (paired permutation).
"""
from __future__ import annotations

import math
import warnings
from collections import Counter
from itertools import combinations
from typing import Callable, Sequence

import numpy as np

from correlation.power import detectable_share

from ..benchmarks.base import Benchmark, scores_for
from ..pipeline.settings import AnalysisSettings
from .study import VERDICTS, agreement

SUBSETS = {"machine": ("machine_better", "Machine-better"),
           "human": ("human_better", "Human-better"),
           "both_good": ("both_good", "Both-good"),
           "both_bad": ("both_bad", "Both-bad")}
SIDES = ("machine", "human")  # the reason whose score is averaged


def socratis_tables(bench: Benchmark, scores: dict[str, np.ndarray],
                    settings: AnalysisSettings) -> dict[str, list[dict]]:
    """Every Socratis table that `bench`'s files allow (see the module docstring)."""
    tables: dict[str, list[dict]] = {}
    prefs = bench.preferences
    if prefs is not None and prefs.verdict is not None:
        tables["verdict_counts"] = verdict_count_rows(prefs.verdict, prefs.category)
        tables["study_summary"] = study_summary_rows(prefs.pair_ids, prefs.verdict,
                                                     prefs.annotators, prefs.category, settings)
        index = bench.sample_index()
        tables["subset_means"], tables["subset_tests"] = [], []
        for metric, values in scores.items():
            side_scores = {"machine": scores_for(prefs.sample_b, index, values),
                           "human": scores_for(prefs.sample_a, index, values)}
            tables["subset_means"] += subset_mean_rows(metric, prefs.pair_ids, prefs.verdict,
                                                       side_scores, settings)
            tables["subset_tests"] += subset_test_rows(metric, prefs.pair_ids, prefs.verdict,
                                                       side_scores, settings)
    generated = [i for i, s in enumerate(bench.samples)
                 if s.id.startswith("g:") and "generator" in s.context]
    if generated and scores:
        tables["generator_means"], tables["generator_differences"] = [], []
        samples = [bench.samples[i] for i in generated]
        generators = [s.context["generator"] for s in samples]
        items = [f"{s.image}\n{s.context.get('caption', '')}" for s in samples]
        emotions = [s.context.get("emotion", "") for s in samples]
        for metric, values in scores.items():
            v = np.asarray(values, dtype=float)[generated]
            tables["generator_means"] += generator_mean_rows(metric, generators, items, v, settings)
            tables["generator_differences"] += generator_difference_rows(
                metric, generators, items, emotions, v, settings)
    return tables


# -- intervals and tests ------------------------------------------------------

def _scipy_method(settings: AnalysisSettings) -> str:
    return {"bca": "BCa", "percentile": "percentile"}[settings.ci_method]


def cluster_bootstrap(statistic: Callable, columns: Sequence[np.ndarray],
                      settings: AnalysisSettings) -> tuple[float, float, str]:
    """Interval of `statistic(*columns, axis=-1)` resampling rows (clusters) of
    the columns together; (low, high, note)."""
    from scipy import stats

    columns = tuple(np.asarray(c, dtype=float) for c in columns)
    if len(columns[0]) < 2:
        return math.nan, math.nan, "fewer than two pairs or items: no interval"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(divide="ignore", invalid="ignore"):
            res = stats.bootstrap(columns, statistic, paired=True, vectorized=True,
                                  n_resamples=settings.bootstrap,
                                  confidence_level=settings.confidence,
                                  method=_scipy_method(settings),
                                  rng=np.random.default_rng(settings.seed))
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    replicates = res.bootstrap_distribution
    if np.ptp(replicates) == 0 and np.isfinite(replicates[0]):
        return float(replicates[0]), float(replicates[0]), "every resample gives the same value"
    if not (math.isfinite(low) and math.isfinite(high)):
        return math.nan, math.nan, "interval undefined (degenerate resamples)"
    return low, high, ""


def _ratio(sums, counts, axis=-1):
    return np.sum(sums, axis=axis) / np.sum(counts, axis=axis)


def _by_cluster(clusters: Sequence[str], keep: np.ndarray, values: np.ndarray):
    """Sum of the kept `values` and their count per cluster (a pair, an item),
    clusters in first-seen order."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for cluster, k, v in zip(clusters, keep, values):
        if k:
            sums[cluster] = sums.get(cluster, 0.0) + v
            counts[cluster] = counts.get(cluster, 0) + 1
    return np.array(list(sums.values())), np.array(list(counts.values()), dtype=float)


def subset_mean_rows(metric: str, pair_ids: Sequence[str], verdicts: Sequence[str],
                     side_scores: dict[str, np.ndarray], settings: AnalysisSettings) -> list[dict]:
    """One row per verdict subset: mean score of each side's reason over the
    subset's judgments, with a pair-resampling bootstrap interval."""
    verdicts = np.asarray(verdicts)
    rows = []
    for verdict, (subset, label) in SUBSETS.items():
        in_subset = verdicts == verdict
        row: dict = {"metric": metric, "subset": subset, "label": label,
                     "n_judgments": int(in_subset.sum()),
                     "n_pairs": len(set(np.asarray(pair_ids)[in_subset]))}
        unscored = 0
        for side in SIDES:
            values = side_scores[side]
            keep = in_subset & np.isfinite(values)
            unscored = max(unscored, int((in_subset & ~np.isfinite(values)).sum()))
            sums, counts = _by_cluster(pair_ids, keep, np.nan_to_num(values))
            mean = float(sums.sum() / counts.sum()) if counts.sum() else math.nan
            low, high, _ = (cluster_bootstrap(_ratio, (sums, counts), settings)
                            if counts.sum() else (math.nan, math.nan, ""))
            row.update({f"{side}_reason_mean": mean, f"{side}_reason_ci_low": low,
                        f"{side}_reason_ci_high": high})
        row["unscored_judgments"] = unscored
        rows.append(row)
    return rows


def subset_test_rows(metric: str, pair_ids: Sequence[str], verdicts: Sequence[str],
                     side_scores: dict[str, np.ndarray], settings: AnalysisSettings) -> list[dict]:
    """Permutation test of mean(Machine-better) - mean(Human-better), per side."""
    from scipy import stats

    rows = []
    verdicts = np.asarray(verdicts)
    for side in SIDES:
        values = side_scores[side]
        pairs = _pair_table(pair_ids, verdicts, values, np.isfinite(values))
        row = {"metric": metric, "scored_reason": side,
               "comparison": "Machine-better minus Human-better",
               "n_machine_better": int(pairs["m"].sum()), "n_human_better": int(pairs["h"].sum()),
               "difference": math.nan, "p_value": math.nan,
               "n_permutations": settings.permutations, "method": "", "note": ""}
        if row["n_machine_better"] == 0 or row["n_human_better"] == 0:
            row["note"] = "one of the two subsets has no scored judgment"
            rows.append(row)
            continue
        x, mc, hc = pairs["x"], pairs["m"], pairs["h"]

        def statistic(x, axis=-1):
            return (np.sum(x * mc, axis=axis) / mc.sum() - np.sum(x * hc, axis=axis) / hc.sum())

        res = stats.permutation_test((x,), statistic, permutation_type="pairings",
                                     vectorized=True, n_resamples=settings.permutations,
                                     alternative="two-sided",
                                     rng=np.random.default_rng(settings.seed))
        row.update(difference=float(res.statistic), p_value=float(res.pvalue),
                   method=f"permutation of scores among {len(x)} pairs (two-sided)")
        rows.append(row)
    return rows


def _pair_table(pair_ids, verdicts, values, finite) -> dict[str, np.ndarray]:
    """Per pair with a scored Machine-better or Human-better judgment: its score
    and how many such judgments it has."""
    order: dict[str, list] = {}
    for pair, verdict, value, ok in zip(pair_ids, verdicts, values, finite):
        if ok and verdict in ("machine", "human"):
            entry = order.setdefault(pair, [value, 0, 0])
            entry[1 if verdict == "machine" else 2] += 1
    table = np.array(list(order.values()), dtype=float).reshape(-1, 3)
    return {"x": table[:, 0], "m": table[:, 1], "h": table[:, 2]}


# -- generators -----------------------------------------------------------------

def generator_mean_rows(metric: str, generators: Sequence[str], items: Sequence[str],
                        values: np.ndarray, settings: AnalysisSettings) -> list[dict]:
    """Mean score per generator, with an item-resampling bootstrap interval."""
    rows = []
    generators = np.asarray(generators)
    for name in sorted(set(generators)):
        mine = generators == name
        keep = mine & np.isfinite(values)
        sums, counts = _by_cluster(items, keep, np.nan_to_num(values))
        mean = float(sums.sum() / counts.sum()) if counts.sum() else math.nan
        low, high, _ = (cluster_bootstrap(_ratio, (sums, counts), settings)
                        if counts.sum() else (math.nan, math.nan, ""))
        rows.append({"metric": metric, "generator": str(name), "mean": mean, "ci_low": low,
                     "ci_high": high, "n": int(keep.sum()), "n_items": len(counts),
                     "unscored": int(mine.sum() - keep.sum())})
    return rows


def generator_difference_rows(metric: str, generators: Sequence[str], items: Sequence[str],
                              emotions: Sequence[str], values: np.ndarray,
                              settings: AnalysisSettings) -> list[dict]:
    """Paired mean difference between two generators on shared (item, emotion)."""
    from scipy import stats

    by_generator: dict[str, dict[tuple[str, str], float]] = {}
    for g, item, emotion, v in zip(generators, items, emotions, values):
        by_generator.setdefault(g, {})[item, emotion] = v
    rows = []
    for a, b in combinations(sorted(by_generator), 2):
        shared = [k for k in by_generator[a] if k in by_generator[b]
                  and np.isfinite(by_generator[a][k]) and np.isfinite(by_generator[b][k])]
        x = np.array([by_generator[a][k] for k in shared])
        y = np.array([by_generator[b][k] for k in shared])
        row = {"metric": metric, "generator_a": a, "generator_b": b, "n": len(shared),
               "mean_difference": float(np.mean(x - y)) if shared else math.nan,
               "ci_low": math.nan, "ci_high": math.nan, "p_value": math.nan,
               "n_permutations": settings.permutations}
        if len(shared) >= 2:
            sums, counts = _by_cluster([k[0] for k in shared], np.ones(len(shared), bool), x - y)
            row["ci_low"], row["ci_high"], _ = cluster_bootstrap(_ratio, (sums, counts), settings)
            res = stats.permutation_test(
                (x, y), lambda p, q, axis=-1: np.mean(p - q, axis=axis),
                permutation_type="samples", vectorized=True, n_resamples=settings.permutations,
                alternative="two-sided", rng=np.random.default_rng(settings.seed))
            row["p_value"] = float(res.pvalue)
        rows.append(row)
    return rows


# -- the study itself -----------------------------------------------------------

def verdict_count_rows(verdicts: Sequence[str], generators: Sequence[str] | None) -> list[dict]:
    """Verdict counts and shares, over all pairs and per generator."""
    groups = [("all", list(verdicts))]
    if generators is not None and len(set(generators)) > 1:
        for g in sorted(set(generators)):
            groups.append((g, [v for v, gen in zip(verdicts, generators) if gen == g]))
    rows = []
    for name, group in groups:
        counts = Counter(group)
        for verdict in VERDICTS:
            rows.append({"generator": name, "verdict": verdict, "label": SUBSETS[verdict][1],
                         "count": counts[verdict],
                         "share": counts[verdict] / len(group) if group else math.nan})
    return rows


def human_machine_ratio(counts: Counter) -> float:
    """Human-preferred over machine-preferred verdicts (the paper's "over 2 times")."""
    return counts["human"] / counts["machine"] if counts["machine"] else math.nan


def study_summary_rows(pair_ids: Sequence[str], verdicts: Sequence[str],
                       annotators: Sequence[str] | None, generators: Sequence[str] | None,
                       settings: AnalysisSettings) -> list[dict]:
    """The study's summary for all generators together (`generator` "all") and, where
    the study has several, for each generator's pairs alone (the paper compares BLIP-2
    and FLAN-T5), each ratio with its own pair-resampling interval."""
    rows = [{"generator": "all", **study_summary(pair_ids, verdicts, annotators, settings)}]
    if generators is not None and len(set(generators)) > 1:
        for g in sorted(set(generators)):
            keep = [k for k, gen in enumerate(generators) if gen == g]
            rows.append({"generator": g, **study_summary(
                [pair_ids[k] for k in keep], [verdicts[k] for k in keep],
                None if annotators is None else [annotators[k] for k in keep], settings)})
    return rows


def study_summary(pair_ids: Sequence[str], verdicts: Sequence[str],
                  annotators: Sequence[str] | None, settings: AnalysisSettings) -> dict:
    counts = Counter(verdicts)
    every = np.ones(len(pair_ids), bool)
    verdicts_arr = np.asarray(verdicts)
    humans, _ = _by_cluster(pair_ids, every, (verdicts_arr == "human") * 1.0)
    machines, _ = _by_cluster(pair_ids, every, (verdicts_arr == "machine") * 1.0)
    ratio = human_machine_ratio(counts)
    low = high = math.nan
    if math.isfinite(ratio):
        low, high, _ = cluster_bootstrap(_ratio, (humans, machines), settings)
    agree = agreement(pair_ids, verdicts)
    decisive = counts["human"] + counts["machine"]
    share = detectable_share(decisive, DETECT_POWER, settings.alpha)
    return {"n_judgments": len(verdicts), "n_pairs": len(set(pair_ids)),
            "n_annotators": len(set(annotators)) if annotators is not None else math.nan,
            **{v: counts[v] for v in VERDICTS},
            "human_machine_ratio": ratio, "ratio_ci_low": low, "ratio_ci_high": high,
            "agreement_pairs": agree.n_pairs, "percent_agreement": agree.percent,
            "fleiss_kappa": agree.kappa,
            "detectable_human_share": share,
            "detectable_ratio": (math.nan if math.isnan(share) else
                                 share / (1 - share) if share < 1 else math.inf)}


#: Power at which the study summary states the smallest detectable preference.
DETECT_POWER = 0.8
