"""Published meta-evaluation numbers, shown beside a run's own with --published.

experiments/benchmarks/published_results.csv holds one row per published
number: benchmark, metric, statistic, level, subset, value_x100 (as the
paper prints it), paper, table, protocol (how the number was computed) and
quoted_in (where this repository quotes or checks it). Only numbers taken
from a named paper and table, which this repository's tests or README
quote, are there; `load_published` refuses a row without its citation.

With --published, run_correlation writes the rows of the run's benchmarks
to OUT/published.csv (value as a raw fraction, like correlations.csv) and
shows them in report.md, in a marked block of agreement.tex (never bold,
never clustered) and in the forest plot (grey, no interval).
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Sequence

PUBLISHED_FILE = Path(__file__).resolve().parents[1] / "benchmarks" / "published_results.csv"
FILE_COLUMNS = ("benchmark", "metric", "statistic", "level", "subset", "value_x100", "paper",
                "table", "protocol", "quoted_in")
CITATION_COLUMNS = ("paper", "table", "protocol")
#: The columns of OUT/published.csv.
COLUMNS = ["benchmark", "metric", "statistic", "level", "subset", "value", "paper", "table",
           "protocol", "quoted_in"]


def load_published(path: str | Path = PUBLISHED_FILE) -> list[dict]:
    """Every row of a published-results file, value as a raw fraction; ValueError naming the
    file and line for a missing column, a row without its citation or a value that is not a
    finite number."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in FILE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        rows = []
        for number, row in enumerate(reader, start=2):
            empty = [c for c in ("benchmark", "metric", "statistic", "level", *CITATION_COLUMNS)
                     if not (row.get(c) or "").strip()]
            if empty:
                raise ValueError(f"{path}:{number}: empty {', '.join(empty)}: every published "
                                 "number needs its paper, table and protocol")
            try:
                value = float(row["value_x100"])
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise ValueError(f"{path}:{number}: value_x100 {row['value_x100']!r} is not a "
                                 "finite number")
            rows.append({**{c: row[c].strip() for c in COLUMNS if c in row and c != "value"},
                         "value": round(value / 100, 10)})
    return rows


def published_for(benchmarks: Sequence[str], path: str | Path = PUBLISHED_FILE) -> list[dict]:
    """The published rows of these benchmarks, in the file's order."""
    wanted = set(benchmarks)
    return [row for row in load_published(path) if row["benchmark"] in wanted]


def report_lines(rows: Sequence[dict]) -> list[str]:
    """report.md's section of published numbers (x100, as printed)."""
    if not rows:
        return []
    lines = ["## Published numbers (not computed here)", "",
             "Shown with --published, from experiments/benchmarks/published_results.csv: "
             "the papers' own numbers, beside ours for reference; no interval, never in a "
             "significance cluster.", "",
             "| benchmark | metric | statistic | level | subset | value (x100) | paper | table | "
             "protocol |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['benchmark']} | {r['metric']} | {r['statistic']} | {r['level']} | "
                     f"{r['subset']} | {100 * r['value']:.1f} | {r['paper']} | {r['table']} | "
                     f"{r['protocol']} |")
    return lines
