"""What every figure shares: reading saved results, one style, the same bytes every time.

Figures are drawn with matplotlib's object API (`matplotlib.figure.Figure`,
rendered by the Agg backend), never pyplot, so nothing global changes; the
style (`paper_style`) applies only inside a `with` block. Widths suit a
paper: one column (3.3 in) or two (7 in), fonts 7-9 pt at that size, the
Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008, "Color Universal
Design"), fonts embedded as TrueType (no Type 3 fonts, which some
publishers reject). PNGs are written without the Software field and PDFs
without dates or producer, so the same results give the same files.
"""
from __future__ import annotations

import csv
import math
import textwrap
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import matplotlib
import numpy as np

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from ..benchmarks.inputs import changed_inputs  # noqa: E402
from ..pipeline.results_folder import ResultsError, read_results  # noqa: E402
from .names import DisplayNames, mathtext_safe  # noqa: E402

DPI = 300
ONE_COLUMN = 3.3  # inches: one column of a two-column paper
TWO_COLUMN = 7.0  # inches: the full text width
# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9",
             "green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
             "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999"}
CYCLE = [OKABE_ITO[c] for c in ("blue", "orange", "green", "vermillion", "purple",
                                "sky_blue", "yellow", "black")]
STYLE = {
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "xtick.labelsize": 7,
    "ytick.labelsize": 7, "legend.fontsize": 7, "figure.titlesize": 9,
    "axes.prop_cycle": matplotlib.cycler(color=CYCLE), "axes.spines.top": False,
    "axes.spines.right": False, "axes.linewidth": 0.6, "xtick.major.width": 0.6,
    "ytick.major.width": 0.6, "lines.linewidth": 1.0, "legend.frameon": False,
    "pdf.fonttype": 42, "ps.fonttype": 42,
}
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
    (`ResultsError` otherwise: a truncated or edited file stops the figures), and
    only while the input files the run read, where they are still there, are as it
    read them (`benchmarks.inputs.changed_inputs`)."""

    def __init__(self, folder: Path, names: DisplayNames | None = None):
        self.folder = Path(folder)
        self.names = names or DisplayNames()
        self.run = read_results(self.folder)
        recorded = self.run.record.get("inputs")
        problems = changed_inputs(recorded, str(self.folder)) if isinstance(recorded, dict) else []
        if problems:
            raise ResultsError("; ".join(problems))

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
        """The benchmark's display name for titles; illustrative data (the demo) says so."""
        illustrative = illustrative_mark(self.run_record(), benchmark)
        name = self.names(benchmark)
        return f"{name} (illustrative data)" if illustrative else name

    def interval_name(self) -> str:
        """'95% interval', at the level the run used (95 % where run.json does not say)."""
        level = number((self.run_record().get("analysis") or {}).get("confidence"))
        return f"{0.95 if math.isnan(level) else level:.0%} interval"

    def name(self, key: str) -> str:
        """A display name ready for matplotlib."""
        return mathtext_safe(self.names(key))


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


@contextmanager
def paper_style() -> Iterator[None]:
    """The figures' fonts, palette and lines, for the duration of a `with` block."""
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def title(fig: Figure, text: str, width: float, fontsize: float = 8) -> None:
    """The figure's title, centred and wrapped to the figure's width."""
    fig.suptitle(wrap(text, width - 0.2, fontsize), fontsize=fontsize)


def wrap(text: str, width: float, fontsize: float) -> str:
    """`text` broken into lines that fit `width` inches at `fontsize` points (an
    average glyph is taken as 0.55 em wide, a little more than DejaVu Sans')."""
    chars = max(12, int(width * 72 / (0.55 * fontsize)))
    return "\n".join(textwrap.fill(line, chars, break_on_hyphens=False)
                     for line in text.split("\n"))


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
