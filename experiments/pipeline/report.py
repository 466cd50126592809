"""Write a run's files: scores, failures, correlations, report and run record.

Correlations are stored as raw values in [-1, 1]; the printed table and the
report show them x100, as papers do.
"""
from __future__ import annotations

import csv
import io
import math
import platform
import shlex
import sys
import time
from collections import Counter
from dataclasses import asdict, fields
from importlib import metadata
from typing import Sequence, TextIO

import numpy as np

from metrics.redaction import mask_secrets

from ..cli import package_version
from ..plots.names import DisplayNames
from .agreement import HUMAN_CEILING, MDD_POWER, ComparisonRow, ResultRow
from .latex import latex_tables
from .newer_methods import report_lines as newer_report_lines
from .published import COLUMNS as PUBLISHED_COLUMNS
from .published import report_lines as published_report_lines
from .results_folder import ResultsWriter
from .settings import AnalysisSettings

CORRELATION_COLUMNS = [f.name for f in fields(ResultRow)]
COMPARISON_COLUMNS = [f.name for f in fields(ComparisonRow)]
VERSIONED = ["numpy", "scipy", "pycocoevalcap", "torch", "transformers", "open_clip_torch",
             "bert-score"]


def _fmt(value: float) -> str:
    return "nan" if value is None or (isinstance(value, float) and math.isnan(value)) else repr(float(value))


def write_scores(f: TextIO, benchmarks, runs) -> None:
    w = csv.writer(f)
    w.writerow(["benchmark", "sample_id", "metric", "score"])
    by_name = {b.name: b for b in benchmarks}
    for run in runs:
        if run.scores is None:
            continue
        w.writerows((run.benchmark, sample.id, run.metric, _fmt(score))
                    for sample, score in zip(by_name[run.benchmark].samples,
                                                 np.asarray(run.scores, dtype=float).tolist()))


def scores_text(benchmarks, runs) -> str:
    """scores.csv as `write_scores` writes it, as one string (run_correlation renders it
    on a forked process beside the analysis: `parallel.Background`)."""
    buffer = io.StringIO(newline="")
    write_scores(buffer, benchmarks, runs)
    return buffer.getvalue()


def write_pairwise(f: TextIO, runs) -> None:
    """A pairwise judge's P(B better) per pair."""
    pair_runs = [r for r in runs if r.pairs is not None]
    w = csv.writer(f)
    w.writerow(["benchmark", "pair_id", "metric", "prob_b_better"])
    for run in pair_runs:
        for pair_id, prob in run.pairs.prob_b_better.items():
            w.writerow([run.benchmark, pair_id, run.metric, _fmt(prob)])


def write_failures(f: TextIO, runs) -> None:
    w = csv.writer(f)
    w.writerow(["benchmark", "metric", "sample_id", "reason"])
    for run in runs:
        for sample_id, reason in sorted(run.failures.items()):
            w.writerow([run.benchmark, run.metric, sample_id, reason])


def x100(value: float) -> str:
    return "—" if value is None or math.isnan(value) else f"{100 * value:.1f}"


def results_table(rows: Sequence[ResultRow]) -> list[str]:
    """Markdown table of results, x100, with intervals where they exist and what
    their bootstrap resampled (e.g. "40 items")."""
    lines = ["| benchmark | metric | statistic | level | subset | value (x100) | CI | n | "
             "resampled | cluster |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ci = ("" if math.isnan(r.ci_low) else f"[{x100(r.ci_low)}, {x100(r.ci_high)}]")
        units = "" if r.n_units is None else f"{r.n_units} {r.unit}"
        lines.append(f"| {r.benchmark} | {r.metric} | {r.statistic} | {r.level} | "
                     f"{r.subset} | {x100(r.value)} | {ci} | {r.n} | {units} | "
                     f"{'' if r.cluster is None else r.cluster} |")
    return lines


def cluster_lines(bench_views) -> list[str]:
    """Significance clusters per benchmark and protocol step, best cluster first."""
    lines = []
    for bench, views in bench_views.items():
        for view in views:
            if view.clusters is None:
                continue
            statistic, level, subset = view.key
            where = f"{bench}, {statistic} ({level}{', ' + subset if subset else ''})"
            groups = " > ".join("{" + ", ".join(names) + "}" for names in view.clusters.clusters())
            lines.append(f"- {where}: {groups or 'no clusters'}")
            if view.clusters.notes:
                lines.append(f"  ({view.clusters.notes})")
    return lines


def swap_unit_lines(comparisons: Sequence[ComparisonRow]) -> list[str]:
    """What each view's permutation tests swapped (comparisons.csv's `swap_unit`)."""
    units: dict[str, list[str]] = {}
    for c in comparisons:
        where = f"{c.benchmark}, {c.statistic} ({c.level}{', ' + c.subset if c.subset else ''})"
        units.setdefault(where, [])
        if c.swap_unit not in units[where]:
            units[where].append(c.swap_unit)
    if not units:
        return []
    return ["What each view's permutation tests swapped (`swap_unit` in comparisons.csv):", "",
            *(f"- {where}: {', '.join(u)}" for where, u in units.items())]


def notes_lines(rows: Sequence[ResultRow]) -> list[str]:
    return [f"- {r.benchmark} / {r.metric} / {r.statistic} ({r.level}{', ' + r.subset if r.subset else ''}): "
            f"{r.notes}" for r in rows if r.notes and r.metric != HUMAN_CEILING]


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def write_judgments(f: TextIO, benchmarks) -> None:
    """Mean human rating per sample, for metric-vs-human plots without the data files."""
    w = csv.writer(f)
    w.writerow(["benchmark", "sample_id", "human", "n_judgments"])
    for bench in benchmarks:
        if bench.ratings is None:
            continue
        sums: dict[str, list[float]] = {}
        for sample_id, value in zip(bench.ratings.sample_ids, bench.ratings.values):
            sums.setdefault(sample_id, []).append(float(value))
        for sample_id, values in sums.items():
            w.writerow([bench.name, sample_id, repr(sum(values) / len(values)), len(values)])


def write_rows(f: TextIO, rows: Sequence[dict], columns: Sequence[str] | None = None) -> None:
    """CSV of flat dicts (floats as repr, NaN as `nan`, None empty); the header is
    `columns`, else every key in order of first appearance."""
    columns = list(columns) if columns is not None else list(
        dict.fromkeys(k for row in rows for k in row))
    w = csv.DictWriter(f, fieldnames=columns)
    w.writeheader()
    for row in rows:
        w.writerow({k: _fmt(v) if isinstance(v, float) else v for k, v in row.items()})


def markdown_rows(rows: Sequence[dict]) -> list[str]:
    if not rows:
        return ["(empty)"]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{row.get(c):.4g}" if isinstance(row.get(c), float) else str(row.get(c, ""))
                 for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def power_lines(comparisons: Sequence[ComparisonRow], alpha: float) -> list[str]:
    """Each comparison's observed difference beside its minimum detectable difference."""
    if not comparisons:
        return []
    lines = [f"Minimum detectable difference (MDD): the difference a two-sided test at alpha "
             f"{alpha} detects with power {MDD_POWER:.0%} at this run's size, "
             f"(z_(1-alpha/2) + z_{MDD_POWER}) x the paired-bootstrap standard error of the "
             "difference (docs/power.md). **underpowered**: the observed |difference| is below "
             "it, so the data could not have told the two metrics apart reliably even if they "
             "differ by that much. Plan a larger study with `python -m experiments.plan_study`.",
             "", "| benchmark | statistic | subset | a | b | delta (x100) | MDD (x100) | p | flag |",
             "|---|---|---|---|---|---|---|---|---|"]
    for c in comparisons:
        flag = {True: "**underpowered**", False: "", None: "—"}[c.underpowered]
        if c.interval_test_disagree:
            flag = f"{flag}; **interval and test disagree**" if flag else \
                "**interval and test disagree**"
        p = "—" if c.p_value is None or math.isnan(c.p_value) else f"{c.p_value:.3g}"
        lines.append(f"| {c.benchmark} | {c.statistic} ({c.level}) | {c.subset} | {c.metric_a} | "
                     f"{c.metric_b} | {x100(c.delta)} | {x100(c.mdd)} | {p} | {flag} |")
    under = sum(1 for c in comparisons if c.underpowered)
    lines += ["", f"{under} of {len(comparisons)} comparisons underpowered."]
    disagree = sum(1 for c in comparisons if c.interval_test_disagree)
    if disagree:
        lines.append(f"{disagree} of {len(comparisons)} comparisons marked **interval and test "
                     "disagree**: the paired-bootstrap interval excludes 0 but the permutation "
                     "p-value is above 1 - confidence, or the reverse. They resample different "
                     "units, or too few of them; neither verdict stands alone.")
    return lines


def _judge_record(run) -> dict:
    """A judge run's provenance and drift check, for run.json (nothing for other metrics)."""
    found = {}
    for name in ("provenance", "drift"):
        if getattr(run, name, None) is not None:
            found[name] = getattr(run, name)
    return found


def judge_provenance_lines(runs) -> list[str]:
    """report.md's "Judge provenance": per judge run, the settings and software
    behind its answers and what the server reported, and the drift check."""
    from metrics.vlm_judge.provenance import describe

    lines: list[str] = []
    for run in runs:
        if getattr(run, "provenance", None) is None:
            continue
        lines += ["", f"### {run.benchmark} / {run.metric}", ""]
        lines += [f"- {line}" for line in describe(run.provenance)]
        drift = getattr(run, "drift", None)
        if drift is not None and "error" in drift:
            lines.append(f"- drift check not made: {drift['error']}")
        elif drift is not None:
            lines.append(
                f"- drift check: {drift['checked']} of {drift['cached']} cached answers asked "
                f"again (seed {drift['seed']}): {drift['answer_changed']} answers and "
                f"{drift['score_changed']} scores changed (largest change "
                f"{drift['max_abs_score_change']:.3g}), {drift['failed']} could not be asked")
    return ["", "## Judge provenance"] + lines if lines else []


def family_table_files(tables: dict[tuple[str, str], list[dict]]) -> dict[str, list[dict]]:
    """One file's rows per table name, each row led by the benchmark it belongs to."""
    files: dict[str, list[dict]] = {}
    for (bench_name, table), table_rows in tables.items():
        files.setdefault(table, []).extend({"benchmark": bench_name, **row} for row in table_rows)
    return files


def write_outputs(writer: ResultsWriter, args, benchmarks, runs, rows: Sequence[ResultRow],
                  started: float, comparisons: Sequence[ComparisonRow] = (),
                  tables: dict[tuple[str, str], list[dict]] | None = None,
                  clusters: dict | None = None,
                  settings: AnalysisSettings = AnalysisSettings(),
                  names: DisplayNames | None = None, command: str | None = None,
                  inputs: dict[str, dict] | None = None,
                  published: Sequence[dict] = (), scores_csv: str | None = None) -> None:
    """Every file of the run through `writer` (atomically; run.json, listing them, last);
    prints the agreement table (and, unless --quiet, which metrics were skipped and
    where the files went). `command` is the command line that reruns this (run.json),
    by default this process's arguments; `inputs` the files the run read, by SHA-256
    (`benchmarks.inputs`); `scores_csv` scores.csv already rendered (`scores_text`)."""
    tables = tables or {}
    out = writer.folder
    with writer.open("scores.csv") as f:
        if scores_csv is None:
            write_scores(f, benchmarks, runs)
        else:
            f.write(scores_csv)
    if any(r.pairs is not None for r in runs):
        with writer.open("pairwise.csv") as f:
            write_pairwise(f, runs)
    with writer.open("failures.csv") as f:
        write_failures(f, runs)
    with writer.open("correlations.csv") as f:
        write_rows(f, [asdict(r) for r in rows], CORRELATION_COLUMNS)
    with writer.open("comparisons.csv") as f:
        write_rows(f, [asdict(c) for c in comparisons], COMPARISON_COLUMNS)
    with writer.open("judgments.csv") as f:
        write_judgments(f, benchmarks)
    for table, table_rows in family_table_files(tables).items():
        with writer.open(f"{table}.csv") as f:
            write_rows(f, table_rows)
    report = ["# Results", ""]
    for bench in benchmarks:
        report += [f"## {bench.name}", "", f"{len(bench.samples)} samples. Citation: {bench.citation}.", ""]
        report += [f"- {note}" for note in ([bench.illustrative] if bench.illustrative else [])
                   + bench.notes]
        report.append("")
    report += ["## Agreement with human judgments (x100)", ""]
    report += [f"- {line}" for line in settings.describe()]
    report += [f"- `{HUMAN_CEILING}` rows: the same statistic between each annotator and the "
               "mean of the others, averaged (a reference point for the metrics, not a metric)."]
    report += newer_report_lines(rows)
    report += ["", *results_table(rows)]
    if notes_lines(rows):
        report += ["", "Notes from the correlation engine:", "", *notes_lines(rows)]
    report += ["", "## Significance clusters", ""]
    report += (cluster_lines(clusters or {}) or ["(fewer than two metrics were scored)"])
    report += ["", f"Every pair of metrics: comparisons.csv ({len(comparisons)} rows)."]
    if comparisons:
        report += ["", *swap_unit_lines(comparisons)]
    if comparisons:
        report += ["", "## Power of the comparisons", "", *power_lines(comparisons, settings.alpha)]
    report += ["", "## Metrics", ""]
    for run in runs:
        if run.skipped:
            report.append(f"- {run.benchmark} / {run.metric}: skipped: {run.skipped}")
        else:
            reasons = Counter(run.failures.values())
            failed = (f"; {len(run.failures)} unscored (" +
                      "; ".join(f"{n}x {r}" for r, n in reasons.most_common(3)) + ")"
                      if run.failures else "")
            report.append(f"- {run.benchmark} / {run.metric}: `{run.signature}`; "
                          f"{run.computed} computed, {run.cached} from cache{failed}"
                          + (f"; ran on {run.device}" if run.device else "")
                          + (f"; {run.note}" if run.note else ""))
    report += judge_provenance_lines(runs)
    for (bench_name, table), table_rows in tables.items():
        report += ["", f"## {bench_name}: {table.replace('_', ' ')}", ""]
        report += markdown_rows(table_rows)
    if published:
        with writer.open("published.csv") as f:
            write_rows(f, published, PUBLISHED_COLUMNS)
        report += ["", *published_report_lines(published)]
    writer.write_text("report.md", "\n".join(report) + "\n")
    for name, text in latex_tables([asdict(r) for r in rows], tables, names,
                                   settings.confidence, settings.alpha, published).items():
        writer.write_text(name, text)
    record = {
        # A key in --metric-option or inside a URL must reach no file.
        "arguments": mask_secrets(vars(args)),
        "version": package_version(),
        "versions": _versions(),
        "command": mask_secrets(command or "python -m experiments.run_correlation "
                                + shlex.join(sys.argv[1:])),
        "benchmarks": {b.name: {"samples": len(b.samples), "notes": b.notes,
                                "illustrative": b.illustrative,
                                "citation": b.citation} for b in benchmarks},
        "metrics": [{"benchmark": r.benchmark, "metric": r.metric, "signature": r.signature,
                     "skipped": r.skipped, "unscored": len(r.failures), "cached": r.cached,
                     "computed": r.computed, "seconds": round(r.seconds, 3),
                     "device": r.device, **_judge_record(r)} for r in runs],
        "analysis": vars(settings),
        "seconds": round(time.time() - started, 3),
        "inputs": inputs or {},
    }
    writer.commit(record)
    print("\n".join(results_table(rows)))
    if getattr(args, "quiet", False):
        return
    skipped = [r for r in runs if r.skipped]
    if skipped:  # each reason was logged once when the metric was skipped
        print(f"\nskipped (reasons above and in report.md): "
              + ", ".join(f"{r.metric}" + (f" on {r.benchmark}" if len(benchmarks) > 1 else "")
                          for r in skipped))
    print(f"\nresults written to {out}/ (scores.csv, correlations.csv, comparisons.csv, "
          "report.md, run.json; LaTeX tables as *.tex)")
