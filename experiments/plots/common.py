"""What every figure shares: reading saved results and saving the same bytes every time.

Figures are drawn with matplotlib's object API (`matplotlib.figure.Figure`,
rendered by the Agg backend), never pyplot, so nothing global changes. PNGs
are written without the Software field and PDFs without dates or producer,
so the same results give the same files.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import matplotlib
import numpy as np

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from ..pipeline.results_folder import read_results  # noqa: E402

DPI = 150
PNG_METADATA = {"Software": None}
PDF_METADATA = {"CreationDate": None, "Producer": None, "Creator": None}


class Skip(Exception):
    """A figure cannot be drawn from these results; the message says why."""


@dataclass
class Made:
    """One drawn figure: its file stem (PNG, PDF and CSV share it), title and what it shows."""

    stem: str
    title: str
    what: str
    files: list[str] = field(default_factory=list)


class Results:
    """The files a run_correlation output folder holds, read on demand: only those its
    run.json lists, each checked against the size and hash it records
    (`ResultsError` otherwise: a truncated or edited file stops the figures)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.run = read_results(self.folder)

    def rows(self, name: str, required: Sequence[str] = ()) -> list[dict]:
        """Rows of the run's file NAME; Skip when the run wrote no such file, or it is
        empty or lacks a column."""
        path = self.run.path(name)
        if path is None:
            raise Skip(f"{name} not found in the results")
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise Skip(f"{name} has no column(s) {', '.join(missing)}")
        if not rows:
            raise Skip(f"{name} has no rows")
        return rows

    def family_tables(self, table: str) -> dict[str, list[dict]]:
        """{benchmark: rows} of a benchmark family's table TABLE.csv (its `benchmark`
        column says whose each row is); empty when the run wrote no such table."""
        if self.run.path(f"{table}.csv") is None:
            return {}
        found: dict[str, list[dict]] = {}
        for row in self.rows(f"{table}.csv", required=("benchmark",)):
            found.setdefault(row["benchmark"], []).append(row)
        return found

    def run_record(self) -> dict:
        return self.run.record

    def label(self, benchmark: str) -> str:
        """The benchmark's name for titles; illustrative data (the demo) says so."""
        illustrative = illustrative_mark(self.run_record(), benchmark)
        return f"{benchmark} (illustrative data)" if illustrative else benchmark


def illustrative_mark(run: dict, benchmark: str) -> str:
    """Why a benchmark's data are illustrative (the demo's), from the run record; "" if real."""
    return str(((run.get("benchmarks") or {}).get(benchmark) or {}).get("illustrative") or "")


def number(text: object) -> float:
    """A CSV cell as a float; empty, 'nan' or 'None' are NaN."""
    try:
        return float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def fixed(value: float) -> str:
    """Three decimals (metric scores live in [0, 1] or a few units), more digits above 1000."""
    return f"{value:.4g}" if abs(value) >= 1000 else f"{value:.3f}"


def interval_text(mean: float, low: float, high: float) -> str:
    """'0.412 [0.371, 0.455]', or just the mean without an interval."""
    if math.isnan(mean):
        return "—"
    if math.isnan(low) or math.isnan(high):
        return fixed(mean)
    return f"{fixed(mean)} [{fixed(low)}, {fixed(high)}]"


def new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def save(fig: Figure, out: Path, stem: str, rows: Iterable[dict],
         columns: Sequence[str]) -> list[str]:
    """Write STEM.png, STEM.pdf and the numbers behind them as STEM.csv."""
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / f"{stem}.png", dpi=DPI, metadata=PNG_METADATA)
    fig.savefig(out / f"{stem}.pdf", metadata=PDF_METADATA)
    with open(out / f"{stem}.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), lineterminator="\n",
                                extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (repr(float(v)) if isinstance(v, (float, np.floating)) else v)
                             for k, v in row.items()})
    return [f"{stem}.png", f"{stem}.pdf", f"{stem}.csv"]


def safe_stem(*parts: str) -> str:
    """A file stem from names that may hold characters unfit for file names."""
    text = "_".join(p for p in parts if p)
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)
