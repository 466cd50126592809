"""Turn a benchmark's judgments and metrics' scores into results with intervals.

Each `ProtocolStep` of a benchmark, on each subset of the judgments it splits
by, is a `View`: the human scores, their item and system labels, and how to
line a metric's per-sample scores up with them. For every view this module
asks `correlation/` for

- each metric's statistic with a bootstrap interval (`evaluate`),
- each pair of metrics' paired-bootstrap difference and permutation p-value,
  and the WMT-style significance clusters (`compare`),
- the human ceiling where several annotators rated the same samples
  (`human_ceilings`).

The statistics themselves live in `correlation/`; this module only lines up
the arrays and records what the engine said about undefined cases.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..benchmarks.base import Benchmark, ProtocolStep, scores_for
from .settings import AnalysisSettings

if TYPE_CHECKING:
    from correlation.replicates import ReplicateCache

HUMAN_CEILING = "human_ceiling"  # the metric name of ceiling rows in correlations.csv


@dataclass(frozen=True)
class PairProbabilities:
    """A pairwise judge's output: P(B better than A) for each pair id.

    It takes the place of a score difference at pair level (the margin is
    0.5 - P(B better), `correlation.preference_margin`) and has no meaning
    for rating benchmarks, whose views leave it out.
    """

    prob_b_better: dict[str, float]


@dataclass
class ResultRow:
    benchmark: str
    metric: str
    statistic: str
    level: str
    value: float
    ci_low: float
    ci_high: float
    n: int
    subset: str = ""
    unit: str = ""
    n_units: int | None = None
    n_nan: int = 0
    cluster: int | None = None
    notes: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ComparisonRow:
    benchmark: str
    statistic: str
    level: str
    subset: str
    metric_a: str
    metric_b: str
    value_a: float
    value_b: float
    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    unit: str
    n_units: int | None = None
    cluster_a: int | None = None
    cluster_b: int | None = None
    mdd: float = float("nan")
    underpowered: bool | None = None
    interval_test_disagree: bool | None = None
    notes: str = ""
    swap_unit: str = ""


@dataclass
class View:
    """One protocol step on one subset of the judgments."""

    step: ProtocolStep
    subset: str
    human: np.ndarray
    items: np.ndarray | None
    systems: np.ndarray | None
    per_sample_vector: Callable[[np.ndarray], np.ndarray]
    pair_ids: list[str] | None = None
    clusters: object = field(default=None, repr=False)

    def accepts(self, scores) -> bool:
        return not isinstance(scores, PairProbabilities) or self.step.level == "pair"

    def metric_vector(self, scores) -> np.ndarray:
        """Per-row metric values: the scores looked up, or at pair level the margin."""
        if isinstance(scores, PairProbabilities):
            from correlation import preference_margin

            prob = np.array([scores.prob_b_better.get(i, np.nan) for i in self.pair_ids])
            return preference_margin(prob_b_better=prob)
        return self.per_sample_vector(scores)

    @property
    def key(self) -> tuple[str, str, str]:
        return self.step.statistic, self.step.level, self.subset

    def unit_label(self, unit: str | None) -> str:
        """The engine's resampling unit in the benchmark's words: at pair level the
        `items` labels are the pairs (a pair judged by several annotators is one)."""
        return "pairs" if self.step.level == "pair" and unit == "items" else unit or ""

    @property
    def permutation_unit(self) -> str | None:
        # The judgments of one pair (several annotators) share its scores: swap them together.
        return "items" if self.step.level == "pair" and self.items is not None else None

    def swap_unit(self, chosen: str | None) -> tuple[str | None, str]:
        """(the permutation unit for `--swap-unit chosen`, a note): None leaves the engine's
        default (whole items where rows share one); "item" on a view without item labels
        swaps rows, and the note says so."""
        if chosen is None:
            return self.permutation_unit, ""
        if chosen == "row":
            return "rows", ""
        if self.items is None:
            return "rows", "--swap-unit item: this view has no item labels, so rows were swapped"
        return "items", ""

    def n(self, engine_n: int, *vectors: np.ndarray) -> int:
        """The n to report: the engine's (rows, or systems at system level), except for
        accuracy and tau_like, which count the decisive pairs without a NaN score."""
        if self.step.level != "pair" or self.step.statistic not in ("accuracy", "tau_like"):
            return engine_n
        ok = np.isfinite(self.human)
        for vector in vectors:
            ok &= np.isfinite(vector)
        return int((ok & (self.human != 0)).sum())


def _subsets(step: ProtocolStep, column, size: int):
    if step.by is None:
        yield "", np.arange(size)
        return
    if column is None:
        raise ValueError(f"protocol splits by {step.by!r}, but the judgments have no such column")
    labels = np.asarray(column)
    for label in sorted(set(column)):
        yield label, np.flatnonzero(labels == label)


def _labels(column, idx: np.ndarray) -> np.ndarray | None:
    return None if column is None else np.asarray(column)[idx]


def views(bench: Benchmark) -> list[View]:
    """Every (protocol step, subset) of `bench`, ready for any metric's scores."""
    index = bench.sample_index()
    out: list[View] = []
    for step in bench.protocol:
        if step.level == "pair":
            prefs = bench.preferences
            if prefs is None:
                raise ValueError(f"{bench.name}: a pair-level protocol step needs preferences")
            for subset, idx in _subsets(step, getattr(prefs, step.by or "category"), len(prefs)):
                a_ids = [prefs.sample_a[i] for i in idx]
                b_ids = [prefs.sample_b[i] for i in idx]

                def margin(scores, a_ids=a_ids, b_ids=b_ids):
                    return scores_for(a_ids, index, scores) - scores_for(b_ids, index, scores)

                out.append(View(step, subset, prefs.outcome[idx].astype(float),
                                _labels(prefs.pair_ids, idx), None, margin,
                                [prefs.pair_ids[i] for i in idx]))
        else:
            ratings = bench.ratings
            if ratings is None:
                raise ValueError(f"{bench.name}: a {step.level}-level protocol step needs ratings")
            for subset, idx in _subsets(step, getattr(ratings, step.by or "items"), len(ratings)):
                ids = [ratings.sample_ids[i] for i in idx]
                out.append(View(step, subset, ratings.values[idx],
                                _labels(ratings.items, idx), _labels(ratings.systems, idx),
                                lambda scores, ids=ids: scores_for(ids, index, scores)))
    return out


def _quietly(call):
    """Run `call`, returning its result and the engine's warnings as one note."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, "; ".join(dict.fromkeys(str(w.message) for w in caught))


def _finite(scores: np.ndarray | PairProbabilities) -> tuple[np.ndarray | PairProbabilities, str]:
    """The scores with +-inf made NaN, and a note saying how many were."""
    if isinstance(scores, PairProbabilities):
        values = scores.prob_b_better
        bad = [k for k, v in values.items() if math.isinf(v)]
        fixed = PairProbabilities({k: (math.nan if k in bad else v) for k, v in values.items()})
        count = len(bad)
    else:
        scores = np.asarray(scores, dtype=float)
        infinite = np.isinf(scores)
        fixed, count = np.where(infinite, np.nan, scores), int(infinite.sum())
    return (fixed, f"{count} non-finite score(s) treated as NaN") if count else (scores, "")


def evaluate(bench: Benchmark, metric: str, scores: np.ndarray | PairProbabilities,
             settings: AnalysisSettings = AnalysisSettings(),
             bench_views: list[View] | None = None,
             replicates: ReplicateCache | None = None) -> list[ResultRow]:
    """Every number of `bench`'s protocol for one metric's per-sample `scores`.

    A score that is not a finite number (+-inf) counts as NaN: dropped, counted
    in `n_nan`, and said in `notes`. `replicates` keeps each interval's bootstrap
    replicates for `compare` on the same views, which then resamples no metric
    twice (same numbers with or without it)."""
    from correlation import correlate

    scores, nonfinite = _finite(scores)
    rows = []
    for view in bench_views if bench_views is not None else views(bench):
        if not view.accepts(scores):
            continue
        vector = view.metric_vector(scores)
        result, note = _quietly(lambda: correlate(
            vector, view.human, view.step.statistic, view.step.level, view.items, view.systems,
            ci_method=settings.ci_method, n_resamples=settings.bootstrap,
            confidence=settings.confidence, seed=settings.seed, cache=replicates))
        notes = "; ".join(n for n in (nonfinite, note, result.notes) if n)
        rows.append(ResultRow(bench.name, metric, view.step.statistic, view.step.level,
                              result.value, result.ci_low, result.ci_high,
                              view.n(result.n, vector), view.subset,
                              unit=view.unit_label(result.unit), n_units=result.n_units,
                              n_nan=result.n_nan, cluster=None, notes=notes))
    return rows


#: The largest share of a view's judged rows that judging every metric on the rows where
#: none is NaN may drop. Above it (one metric could not score many rows), each pair of
#: metrics is compared on the rows both scored, and the comparisons' notes say so.
JOINT_DROP_LIMIT = 0.05


def comparison_set(view: View, vectors: dict[str, np.ndarray]
                   ) -> tuple[dict[str, np.ndarray], bool, list[str]]:
    """The metrics of `view` to compare, whether each pair goes on its own rows, and notes.

    A metric with no finite score on the view's judged rows is left out (it would leave
    no joint row for the others); when the rows where every remaining metric scored
    would drop more than JOINT_DROP_LIMIT of the judged rows, the comparison is pairwise."""
    judged = np.isfinite(view.human)
    no_score = [name for name, v in vectors.items() if not np.isfinite(v[judged]).any()]
    kept = {name: v for name, v in vectors.items() if name not in no_score}
    notes = [f"left out of the comparisons, no score on these rows: {', '.join(no_score)}"
             ] if no_score else []
    joint = judged.copy()
    for v in kept.values():
        joint &= np.isfinite(v)
    total, dropped = int(judged.sum()), int(judged.sum() - joint.sum())
    pairwise = len(kept) > 1 and total > 0 and dropped / total > JOINT_DROP_LIMIT
    if pairwise:
        notes.append(f"each pair compared on the rows both scored: the rows where every metric "
                     f"scored would drop {dropped} of {total} ({dropped / total:.1%}, above "
                     f"the {JOINT_DROP_LIMIT:.0%} limit)")
    return kept, pairwise, notes


def compare(bench: Benchmark, scored: dict[str, np.ndarray | PairProbabilities],
            settings: AnalysisSettings = AnalysisSettings(),
            bench_views: list[View] | None = None,
            replicates: ReplicateCache | None = None, workers: int = 1) -> list[ComparisonRow]:
    """Paired tests between every two metrics and their significance clusters, per view.

    All metrics of a view are judged on the rows where none is NaN
    (`correlation.compare_all`); metric_a is the better-ranked of the two. A metric
    with no score on a view is left out, and where the joint rows would drop more than
    JOINT_DROP_LIMIT of the judged rows each pair is judged on the rows both scored
    (`correlation.compare_all_pairwise`); `comparison_set` decides, the notes say which.
    Each view's `SignificanceClusters` is kept on the view (`view.clusters`)
    for the report; the returned rows carry each metric's cluster number.
    `replicates`: the cache `evaluate` filled, so no metric is resampled again;
    `workers`: processes for the pairs' permutation tests (same numbers for any).
    """
    from correlation import compare_all, compare_all_pairwise

    scored = {name: _finite(s)[0] for name, s in scored.items()}
    rows: list[ComparisonRow] = []
    for view in bench_views if bench_views is not None else views(bench):
        vectors = {name: view.metric_vector(s) for name, s in scored.items() if view.accepts(s)}
        if len(vectors) < 2:
            continue
        vectors, pairwise, set_notes = comparison_set(view, vectors)
        if len(vectors) < 2:
            continue
        swap_unit, swap_note = view.swap_unit(settings.swap_unit)
        common = dict(ci_method=settings.ci_method, n_resamples=settings.bootstrap,
                      confidence=settings.confidence, n_permutations=settings.permutations,
                      permutation_unit=swap_unit, seed=settings.seed,
                      alpha=settings.alpha, cache=replicates)
        if pairwise:
            (results, view.clusters), note = _quietly(lambda: compare_all_pairwise(
                vectors, view.human, view.step.statistic, view.step.level, view.items,
                view.systems, **common))
        else:
            (results, view.clusters), note = _quietly(lambda: compare_all(
                vectors, view.human, view.step.statistic, view.step.level, view.items,
                view.systems, workers=workers, **common))
        if set_notes:
            view.clusters = dataclasses.replace(
                view.clusters, notes="; ".join(x for x in (*set_notes, view.clusters.notes) if x))
        cluster_of = {e.metric: e.cluster for e in view.clusters.entries}
        n = view.n(results[0].n if results else 0, *vectors.values())
        for result in results:
            if pairwise:
                n = view.n(result.n, vectors[result.metric_a], vectors[result.metric_b])
            notes = "; ".join(x for x in (*set_notes, note, swap_note, result.notes) if x)
            mdd, underpowered = detectable(result.delta, result.se, settings.alpha)
            rows.append(ComparisonRow(bench.name, view.step.statistic, view.step.level,
                                      view.subset, result.metric_a, result.metric_b,
                                      result.value_a, result.value_b, result.delta,
                                      result.ci_low, result.ci_high, result.p_value, n,
                                      unit=view.unit_label(result.unit),
                                      n_units=result.n_units,
                                      cluster_a=cluster_of.get(result.metric_a),
                                      cluster_b=cluster_of.get(result.metric_b), mdd=mdd,
                                      underpowered=underpowered,
                                      interval_test_disagree=result.interval_test_disagree(),
                                      notes=notes, swap_unit=result.swap_unit or ""))
    return rows


#: Power at which run_correlation reports each comparison's minimum detectable difference.
MDD_POWER = 0.8


def detectable(delta: float, se: float, alpha: float) -> tuple[float, bool | None]:
    """(minimum detectable difference, underpowered): the difference a two-sided test at
    alpha detects with power MDD_POWER given the paired-bootstrap standard error se,
    (z_{1-alpha/2} + z_0.8) se; underpowered when the observed |delta| is below it
    (None when either is undefined, or when se is 0: the two metrics' difference is the
    same on every resample, e.g. they never disagree)."""
    from correlation.power import minimum_detectable_difference

    if not (np.isfinite(se) and np.isfinite(delta)):
        return float("nan"), None
    if se == 0:
        return 0.0, None
    mdd = minimum_detectable_difference(se, alpha, MDD_POWER)
    return mdd, bool(abs(delta) < mdd)


def annotate_clusters(rows: list[ResultRow], bench_views: list[View]) -> None:
    """Copy each metric's significance cluster into its result rows."""
    by_key = {view.key: view.clusters for view in bench_views if view.clusters is not None}
    for row in rows:
        clusters = by_key.get((row.statistic, row.level, row.subset))
        if clusters is not None:
            row.cluster = next((e.cluster for e in clusters.entries if e.metric == row.metric),
                               None)


def annotator_matrix(bench: Benchmark):
    """Ratings as samples x annotators (NaN where one did not rate), with each sample's item."""
    ratings = bench.ratings
    samples = list(dict.fromkeys(ratings.sample_ids))
    annotators = sorted(set(ratings.annotators))
    row = {s: k for k, s in enumerate(samples)}
    col = {a: k for k, a in enumerate(annotators)}
    matrix = np.full((len(samples), len(annotators)), np.nan)
    items = [None] * len(samples)
    for k, (sample_id, annotator, value) in enumerate(zip(ratings.sample_ids, ratings.annotators,
                                                          ratings.values)):
        r = row[sample_id]
        if not np.isnan(matrix[r, col[annotator]]):
            raise ValueError(f"{bench.name}: annotator {annotator!r} rated {sample_id!r} twice")
        matrix[r, col[annotator]] = value
        items[r] = ratings.items[k] if ratings.items is not None else None
    return matrix, (None if ratings.items is None else np.asarray(items)), annotators


def human_ceilings(bench: Benchmark) -> list[ResultRow]:
    """Leave-one-annotator-out agreement for each rating step, where annotators are known."""
    from correlation import human_ceiling

    ratings = bench.ratings
    if ratings is None or ratings.annotators is None or len(set(ratings.annotators)) < 2:
        return []
    matrix, items, annotators = annotator_matrix(bench)
    columns = ", ".join(f"{k} = {name}" for k, name in enumerate(annotators))
    rows = []
    for step in bench.protocol:
        if step.level not in ("flat", "item") or step.by is not None:
            continue
        result, note = _quietly(lambda: human_ceiling(matrix, step.statistic, step.level,
                                                      items=items))
        notes = "; ".join(n for n in (f"annotator columns: {columns}", result.notes, note) if n)
        rows.append(ResultRow(bench.name, HUMAN_CEILING, step.statistic, step.level,
                              result.value, np.nan, np.nan, result.n, "", unit="annotators",
                              n_nan=result.n_nan, cluster=None, notes=notes))
    return rows
