"""Checks of drawn figures: every text inside the figure, no wide empty margins; and
synthetic results folders shaped like real runs (Flickr8k, PASCAL-50S, THumB)."""
from __future__ import annotations

import csv
from contextlib import contextmanager
from itertools import combinations
from pathlib import Path
from unittest.mock import patch
from weakref import WeakKeyDictionary

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from experiments.pipeline.results_folder import ResultsWriter

ALL_METRICS = ["bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge_l", "cider", "spice",
               "bertscore", "bartscore", "clipscore", "refclipscore", "vlm_judge"]


#: Widest share of a figure's width or height its drawn content may leave empty.
MARGIN_SHARE = 0.2

#: Layout problems (at MARGIN_SHARE) of figures saved inside `capture_figures`, found on
#: the renderer that drew their PNG (so `layout_problems` does not draw them again).
_AT_SAVE: "WeakKeyDictionary[Figure, list[str]]" = WeakKeyDictionary()


@contextmanager
def capture_figures():
    """Every Figure saved inside the block, once each, in order; the layout of each is
    checked as it is drawn for its first raster (PNG) file."""
    saved: list[Figure] = []
    original_savefig, original_draw = Figure.savefig, Figure.draw

    def record(self, *args, **kwargs):
        if not any(f is self for f in saved):
            saved.append(self)
        return original_savefig(self, *args, **kwargs)

    def draw(self, renderer):
        if self in _AT_SAVE or not isinstance(renderer, RendererAgg):
            return original_draw(self, renderer)
        with _texts_drawn() as drawn:
            original_draw(self, renderer)
        _AT_SAVE[self] = _problems(self, renderer, drawn)

    with patch.object(Figure, "savefig", record), patch.object(Figure, "draw", draw):
        yield saved


@contextmanager
def _texts_drawn():
    """(text, extent on the renderer) of every visible, non-empty text drawn in the block."""
    drawn: list[tuple[Text, object]] = []
    original = Text.draw

    def record(self, renderer):
        original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            drawn.append((self, self.get_window_extent(renderer)))

    with patch.object(Text, "draw", record):
        yield drawn


def layout_problems(fig: Figure, margin_share: float = MARGIN_SHARE) -> list[str]:
    """Texts drawn (partly) outside the figure, as the renderer places them, and a
    figure whose drawn content leaves more than `margin_share` of its width or
    height empty: as found when its PNG was drawn inside `capture_figures`, else drawn
    here."""
    if fig in _AT_SAVE and margin_share == MARGIN_SHARE:
        return _AT_SAVE[fig]
    canvas = FigureCanvasAgg(fig)
    with _texts_drawn() as drawn:
        canvas.draw()
    return _problems(fig, canvas.get_renderer(), drawn, margin_share)


def _problems(fig: Figure, renderer, drawn: list[tuple[Text, object]],
              margin_share: float = MARGIN_SHARE) -> list[str]:
    box = fig.bbox
    problems = [f"text {t.get_text()!r} at x {e.x0:.0f}..{e.x1:.0f}, y {e.y0:.0f}..{e.y1:.0f} "
                f"outside the figure (0..{box.x1:.0f}, 0..{box.y1:.0f})"
                for t, e in drawn
                if e.x0 < box.x0 - 1 or e.y0 < box.y0 - 1 or e.x1 > box.x1 + 1 or e.y1 > box.y1 + 1]
    extents = [e for _, e in drawn] + [ax.get_tightbbox(renderer) for ax in fig.axes
                                       if ax.get_visible() and ax.axison]
    if extents:
        x0, x1 = min(e.x0 for e in extents), max(e.x1 for e in extents)
        y0, y1 = min(e.y0 for e in extents), max(e.y1 for e in extents)
        if (x1 - x0) < (1 - margin_share) * box.width or (y1 - y0) < (1 - margin_share) * box.height:
            problems.append(f"content spans {x1 - x0:.0f} x {y1 - y0:.0f} of a "
                            f"{box.width:.0f} x {box.height:.0f} figure")
    return problems


def _write(results: ResultsWriter, name: str, rows: list[dict]) -> None:
    with results.open(name) as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_results(folder: Path, panels: dict[str, list[tuple[str, str, str]]],
                  metrics: list[str], ceiling: bool = False, ratings: bool = False,
                  seed: int = 0) -> Path:
    """A results folder as run_correlation writes it: for each benchmark its
    (statistic, level, subset) panels, random values for `metrics`, every pair compared."""
    rng = np.random.default_rng(seed)
    results = ResultsWriter(folder)
    correlations, comparisons, scores, judgments = [], [], [], []
    for bench, steps in panels.items():
        for statistic, level, subset in steps:
            values = dict(zip(metrics, rng.uniform(0.1, 0.6, len(metrics))))
            order = sorted(metrics, key=lambda m: -values[m])
            cluster = {m: 1 + k // 3 for k, m in enumerate(order)}
            for m in metrics:
                correlations.append({"benchmark": bench, "metric": m, "statistic": statistic,
                                     "level": level, "value": values[m],
                                     "ci_low": values[m] - 0.04, "ci_high": values[m] + 0.05,
                                     "n": 1000, "subset": subset, "unit": "items", "n_nan": 0,
                                     "cluster": cluster[m], "notes": ""})
            if ceiling:
                correlations.append({"benchmark": bench, "metric": "human_ceiling",
                                     "statistic": statistic, "level": level, "value": 0.613,
                                     "ci_low": "nan", "ci_high": "nan", "n": 1000,
                                     "subset": subset, "unit": "", "n_nan": 0, "cluster": "",
                                     "notes": ""})
            for a, b in combinations(order, 2):
                comparisons.append({"benchmark": bench, "statistic": statistic, "level": level,
                                    "subset": subset, "metric_a": a, "metric_b": b,
                                    "value_a": values[a], "value_b": values[b],
                                    "delta": values[a] - values[b], "ci_low": 0.0, "ci_high": 0.1,
                                    "p_value": float(rng.choice([0.0009, 0.012, 0.2, 0.74])),
                                    "n": 1000, "unit": "items", "cluster_a": cluster[a],
                                    "cluster_b": cluster[b], "notes": ""})
        if ratings:
            for k in range(200):
                sample = f"img{k // 5}.jpg/cap{k}.jpg#0"
                human = float(rng.integers(1, 5))
                judgments.append({"benchmark": bench, "sample_id": sample, "human": human,
                                  "n_judgments": 3})
                for m in metrics:
                    scores.append({"benchmark": bench, "sample_id": sample, "metric": m,
                                   "score": 0.2 * human + rng.normal(0, 0.3)})
    _write(results, "correlations.csv", correlations)
    _write(results, "comparisons.csv", comparisons)
    if ratings:
        _write(results, "judgments.csv", judgments)
        _write(results, "scores.csv", scores)
    run = {"command": "python -m experiments.run_correlation --benchmark "
                      + ",".join(panels) + " --metrics " + ",".join(metrics),
           "analysis": {"confidence": 0.95, "alpha": 0.05},
           "metrics": [{"benchmark": b, "metric": m, "skipped": None}
                       for b in panels for m in metrics],
           "benchmarks": {b: {"notes": []} for b in panels}}
    results.commit(run)
    return folder


def flickr8k_like(folder: Path) -> Path:
    return write_results(folder, {"flickr8k-expert": [("kendall_c", "flat", "")],
                                  "flickr8k-cf": [("kendall_b", "flat", "")]},
                         ALL_METRICS, ceiling=True, ratings=True)


def pascal_like(folder: Path) -> Path:
    return write_results(folder, {"pascal50s": [("accuracy", "pair", c)
                                                for c in ("HC", "HI", "HM", "MM")]},
                         ["bleu1", "bleu4", "cider", "meteor", "rouge_l", "vlm_judge_pairwise"])


def thumb_like(folder: Path) -> Path:
    return write_results(folder, {"thumb": [("pearson", "flat", ""), ("pearson", "item", ""),
                                            ("pearson", "system", "")]},
                         ["bleu4", "cider", "rouge_l", "clipscore"], ratings=True)
