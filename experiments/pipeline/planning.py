"""Plan a human study from a pilot: power curves for the comparisons a report makes.

A pilot is a benchmark's judgments with metric scores (a run_correlation
results folder, or a benchmark scored now). For each view of the benchmark's
protocol (a statistic on a subset, as in the report) this module asks
`correlation.power` how often a study of n units would find

- ``metrics``: metric A and metric B differ (the report's paired permutation
  test, same unit, same alpha);
- ``value``: metric A differs from a fixed value, e.g. chance accuracy 0.5
  (the report's bootstrap interval excludes it);
- ``verdicts``: Socratis' human-preferred and machine-preferred verdicts
  differ in frequency (exact sign test).

and writes one row per (curve, size) to power_curve.csv, in an output folder
of its own (a run's folder belongs to that run), with a run.json that lets
`make_figures` draw the curves. See docs/power.md.
"""
from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, TextIO

import numpy as np

from ..benchmarks.base import Benchmark, DataError
from .agreement import views
from .settings import AnalysisSettings

COMPARISONS = ("metrics", "value", "verdicts")
log = logging.getLogger(__name__)
CURVE_FILE = "power_curve.csv"
CURVE_COLUMNS = ["benchmark", "comparison", "statistic", "level", "subset", "metric_a",
                 "metric_b", "value", "unit", "n", "power", "mc_se", "n_simulations", "alpha",
                 "target_power", "n_required", "pilot_units", "pilot_effect", "test", "notes"]


@dataclass(frozen=True)
class PlanSettings:
    """What to plan for and how hard to simulate (the command-line options)."""

    comparison: str = "metrics"
    metric_a: str | None = None
    metric_b: str | None = None
    value: float | None = None
    statistic: str | None = None
    subset: str | None = None
    sizes: tuple[int, ...] | None = None
    simulations: int = 500
    permutations: int = 1000
    bootstrap: int = 1000
    ci_method: str = "bca"
    alpha: float = 0.05
    power: float = 0.8
    seed: int = 0

    def __post_init__(self) -> None:
        # options shared with run_correlation, checked by its rules before any
        # work (sizes, simulations and power are checked by correlation.power)
        AnalysisSettings(bootstrap=self.bootstrap, ci_method=self.ci_method, seed=self.seed,
                         alpha=self.alpha, permutations=self.permutations)
        if self.comparison not in COMPARISONS:
            raise ValueError(f"unknown comparison {self.comparison!r}; choose one of "
                             f"{', '.join(COMPARISONS)}")
        if self.comparison == "metrics" and not (self.metric_a and self.metric_b):
            raise ValueError("comparing metrics needs two metric names (--metrics A,B)")
        if self.comparison == "value" and (not self.metric_a or self.value is None):
            raise ValueError("comparing with a fixed value needs a metric and --value")


@dataclass(frozen=True)
class PlannedCurve:
    benchmark: str
    subset: str
    metric_a: str
    metric_b: str
    value: float | None
    curve: object   # correlation.PowerCurve

    def rows(self) -> list[dict]:
        c = self.curve
        common = {"benchmark": self.benchmark, "comparison": c.comparison, "statistic": c.statistic,
                  "level": c.level, "subset": self.subset, "metric_a": self.metric_a,
                  "metric_b": self.metric_b, "value": "" if self.value is None else self.value,
                  "unit": c.unit, "n_simulations": c.n_simulations, "alpha": c.alpha,
                  "target_power": c.target_power,
                  "n_required": "" if c.n_required is None else c.n_required,
                  "pilot_units": c.pilot_units, "pilot_effect": c.pilot_effect, "test": c.test,
                  "notes": c.notes}
        return [{**common, **row} for row in c.rows()]

    def answer(self) -> str:
        c = self.curve
        what = {"metric vs metric": f"{self.metric_a} vs {self.metric_b}",
                "metric vs value": f"{self.metric_a} vs {self.value}",
                "verdicts": "human- vs machine-preferred verdicts"}[c.comparison]
        where = f"{self.benchmark}{' ' + self.subset if self.subset else ''}, {c.statistic} ({c.level})"
        unit = unit_word(c.level, c.unit)
        need = (f"{c.n_required} {unit}" if c.n_required is not None else
                f"more than {c.sizes[-1]} {unit} (the largest size tried; power there "
                f"{c.power[-1]:.2f})")
        return (f"{where}: {what}: {c.target_power:.0%} power at alpha {c.alpha} needs {need}; "
                f"the pilot has {c.pilot_units} {unit}, difference {c.pilot_effect:+.4f}")


def unit_word(level: str, unit: str) -> str:
    """What a unit is, in words: judged pairs at pair level, else the resampled unit
    (items are the benchmark's items, e.g. images)."""
    return "pairs" if level == "pair" else unit


def read_scores(path: Path, bench: Benchmark) -> dict[str, np.ndarray]:
    """Per-sample scores of every metric scores.csv holds for `bench`, in sample order."""
    index = bench.sample_index()
    scores: dict[str, np.ndarray] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for number, row in enumerate(csv.DictReader(f), start=2):
            if row.get("benchmark") != bench.name:
                continue
            if row["sample_id"] not in index:
                raise DataError(f"{path}:{number}: sample {row['sample_id']!r} is not in "
                                f"benchmark {bench.name}")
            column = scores.setdefault(row["metric"], np.full(len(bench.samples), np.nan))
            column[index[row["sample_id"]]] = float(row["score"])
    return scores


def read_pilot(results: Path) -> tuple[list[str], dict, Path]:
    """Benchmark names and arguments of the run that wrote `results`, and its scores.csv,
    every file checked against its run.json (`results_folder.read_results`)."""
    from .results_folder import ResultsError, read_results

    try:
        run = read_results(results)
    except ResultsError as exc:
        raise DataError(str(exc)) from None
    args = run.record.get("arguments") or {}
    names = [b.strip() for b in str(args.get("benchmark") or "").split(",") if b.strip()]
    if not names:
        raise DataError(f"{results}/run.json: no benchmark named in its arguments")
    scores = run.path("scores.csv")
    if scores is None:
        raise DataError(f"{results}: the run wrote no scores.csv")
    return names, args, scores


def check_pilot_inputs(results: Path, read_now: dict[str, dict]) -> None:
    """A DataError naming each file just read for the pilot in `results` that is not
    the file its run read (`benchmarks.inputs.changed_inputs`): its scores, joined by
    sample id, would describe other rows. A run.json from before input hashes were
    recorded cannot be checked, and a warning says so."""
    from ..benchmarks.inputs import changed_inputs
    from .results_folder import ResultsError, read_results

    try:
        recorded = read_results(results).record.get("inputs")
    except ResultsError as exc:
        raise DataError(str(exc)) from None
    if not isinstance(recorded, dict):
        log.warning("%s/run.json records no input files (an older run): the benchmark files "
                    "cannot be checked against the scores; run run_correlation again to be "
                    "sure", results)
        return
    problems = changed_inputs(recorded, str(results), read_now)
    if problems:
        raise DataError("; ".join(problems))


def verdict_counts_per_pair(bench: Benchmark) -> tuple[np.ndarray, np.ndarray]:
    """Per judged pair: how many verdicts preferred the human, and the machine reason."""
    prefs = bench.preferences
    if prefs is None or prefs.verdict is None:
        raise DataError(f"{bench.name} has no human-study verdicts to plan for")
    human: dict[str, int] = {}
    machine: dict[str, int] = {}
    for pair, verdict in zip(prefs.pair_ids, prefs.verdict):
        human[pair] = human.get(pair, 0) + (verdict == "human")
        machine[pair] = machine.get(pair, 0) + (verdict == "machine")
    return np.array(list(human.values())), np.array([machine[p] for p in human])


def plan(bench: Benchmark, scores: dict[str, np.ndarray], settings: PlanSettings,
         progress: bool = False) -> list[PlannedCurve]:
    """Power curves for `bench` (one per protocol view matching the settings)."""
    from correlation.power import power_metric_vs_metric, power_metric_vs_value, power_verdicts

    sizes = list(settings.sizes) if settings.sizes else None
    common = dict(sizes=sizes, n_simulations=settings.simulations, alpha=settings.alpha,
                  target_power=settings.power, seed=settings.seed, progress=progress)
    if settings.comparison == "verdicts":
        human, machine = verdict_counts_per_pair(bench)
        return [PlannedCurve(bench.name, "", "human", "machine", None,
                             power_verdicts(human, machine, **common))]
    wanted = [m for m in (settings.metric_a, settings.metric_b) if m]
    missing = [m for m in wanted if m not in scores]
    if missing:
        raise DataError(f"{bench.name}: no scores for {', '.join(missing)} "
                        f"(scored: {', '.join(sorted(scores)) or 'none'})")
    chosen = [v for v in views(bench)
              if (settings.statistic is None or v.step.statistic == settings.statistic)
              and (settings.subset is None or v.subset == settings.subset)]
    if settings.statistic is None and chosen:   # the benchmark's first statistic
        first = chosen[0].step.statistic, chosen[0].step.level
        chosen = [v for v in chosen if (v.step.statistic, v.step.level) == first]
    if not chosen:
        raise DataError(f"{bench.name}: no protocol step has statistic {settings.statistic!r}"
                        + (f" and subset {settings.subset!r}" if settings.subset else "")
                        + f"; it reports {', '.join(sorted({v.step.statistic for v in views(bench)}))}")
    out = []
    for view in chosen:
        a = view.metric_vector(scores[settings.metric_a])
        step = view.step
        if settings.comparison == "metrics":
            b = view.metric_vector(scores[settings.metric_b])
            curve = power_metric_vs_metric(
                a, b, view.human, step.statistic, step.level, view.items, view.systems,
                n_permutations=settings.permutations, permutation_unit=view.permutation_unit,
                names=(settings.metric_a, settings.metric_b), **common)
        else:
            curve = power_metric_vs_value(
                a, view.human, step.statistic, step.level, view.items, view.systems,
                value=settings.value, n_resamples=settings.bootstrap,
                ci_method=settings.ci_method,
                **common)
        out.append(PlannedCurve(bench.name, view.subset, settings.metric_a,
                                settings.metric_b or "", settings.value, curve))
    return out


def write_curves(f: TextIO, curves: Sequence[PlannedCurve]) -> None:
    """power_curve.csv: one row per curve and candidate size."""
    writer = csv.DictWriter(f, fieldnames=CURVE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for planned in curves:
        for row in planned.rows():
            writer.writerow({k: (repr(float(v)) if isinstance(v, float) and math.isfinite(v)
                                 else ("nan" if isinstance(v, float) else v))
                             for k, v in row.items()})
