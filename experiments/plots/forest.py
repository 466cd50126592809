"""A forest plot per benchmark: every metric's agreement with people and its interval.

Reads correlations.csv (benchmark, metric, statistic, level, value, ci_low,
ci_high, n, subset; cluster where the run wrote it); values are shown x100,
as papers print them. One panel per (statistic, level, subset), at most
three panels a row (two for four panels), so the figure keeps a paper's
proportions; metrics sorted by the first panel's value, the human ceiling
(a reference, not a metric) on top in its own colour. Metrics in the top
significance cluster are filled dots, the others open; a metric without a
cluster (a statistic not tested, such as kappa, or too few units for the test)
a filled square. The battle-ranking statistics and Krippendorff's alpha are
left to rankings.csv, correlations.csv and the report, as in agreement.tex.
"""
from __future__ import annotations

import math
from pathlib import Path

from matplotlib.lines import Line2D

from ..pipeline.latex import BATTLE_STATISTICS

from .common import (Made, ONE_COLUMN, OKABE_ITO, Results, Skip, TWO_COLUMN, new_figure, number,
                     save, safe_stem, title)

SHARES = ("accuracy", "acc23")  # shares of pairs, not correlations
COLUMNS = ["benchmark", "metric", "statistic", "level", "value", "ci_low", "ci_high", "n",
           "subset"]
CEILING = "human_ceiling"
METRIC_COLOR, CEILING_COLOR = OKABE_ITO["blue"], OKABE_ITO["vermillion"]


def _panel(r: dict) -> tuple[str, str, str]:
    return r["statistic"], r["level"], r.get("subset", "") or ""


def grid(panels: int) -> tuple[int, int]:
    """(rows, columns): at most three panels a row, four as two by two."""
    columns = 2 if panels == 4 else min(panels, 3)
    return math.ceil(panels / columns), columns


PUBLISHED_COLOR = OKABE_ITO["grey"]


def published_rows(results: Results, rows: list[dict]) -> list[dict]:
    """The run's published.csv (--published) in the panels its own rows have, each row
    named "METRIC (published)" so it gets a line of its own; [] without the file."""
    try:
        found = results.rows("published.csv", COLUMNS[:5])
    except Skip:
        return []
    panels = {(r["benchmark"], *_panel(r)) for r in rows}
    return [{**r, "metric": f"{r['metric']} (published)", "ci_low": "nan", "ci_high": "nan",
             "published": True} for r in found if (r["benchmark"], *_panel(r)) in panels]


def agreement_forest(results: Results, out: Path) -> list[Made]:
    rows = [r for r in results.rows("correlations.csv", COLUMNS[:-1])
            if not r["statistic"].startswith(BATTLE_STATISTICS)]  # rankings.csv, the report
    published = published_rows(results, rows)
    made = []
    for bench in dict.fromkeys(r["benchmark"] for r in rows):
        mine = [r for r in rows if r["benchmark"] == bench]
        mine += [r for r in published if r["benchmark"] == bench]
        panels = list(dict.fromkeys(_panel(r) for r in mine))
        first = {r["metric"]: number(r["value"]) for r in mine if _panel(r) == panels[0]}

        def rank(metric: str) -> tuple:
            value = first.get(metric, math.nan)
            return (metric != CEILING, metric.endswith(" (published)"), math.isnan(value),
                    -value if not math.isnan(value) else 0.0, metric)

        metrics = sorted(dict.fromkeys(r["metric"] for r in mine), key=rank)
        n_rows, n_cols = grid(len(panels))
        width = ONE_COLUMN if n_cols == 1 else TWO_COLUMN
        fig = new_figure(width, 0.75 + n_rows * (0.45 + 0.2 * len(metrics)))
        axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
        y = {m: len(metrics) - 1 - k for k, m in enumerate(metrics)}
        clustered = unclustered = False
        for k, (ax, panel) in enumerate(zip(axes, panels)):
            for r in mine:
                if _panel(r) != panel:
                    continue
                value, low, high = (100 * number(r[k]) for k in ("value", "ci_low", "ci_high"))
                if math.isnan(value):
                    continue
                ceiling = r["metric"] == CEILING
                if r.get("published"):  # a paper's number: grey, no interval, no cluster
                    ax.plot([value], [y[r["metric"]]], "s", color=PUBLISHED_COLOR, ms=3.5)
                    continue
                color = CEILING_COLOR if ceiling else METRIC_COLOR
                top = number(r.get("cluster")) == 1
                in_cluster = not math.isnan(number(r.get("cluster")))
                clustered |= in_cluster
                unclustered |= not (in_cluster or ceiling)
                face = color if (top or ceiling or not in_cluster) else "white"
                marker = "D" if ceiling else ("o" if in_cluster else "s")
                # a percentile interval may leave out its estimate (rank statistics): no
                # negative bar
                xerr = (None if math.isnan(low)
                        else [[max(0.0, value - low)], [max(0.0, high - value)]])
                ax.errorbar([value], [y[r["metric"]]], xerr=xerr, fmt=marker,
                            color=color, mfc=face, ms=3.5, capsize=1.5, lw=0.9, mew=0.9)
            statistic, level, subset = panel
            if statistic not in SHARES:  # a correlation: mark no agreement
                ax.axvline(0, color=OKABE_ITO["grey"], lw=0.5, ls=":")
            ax.set_title(results.names.protocol(statistic, level, subset), fontsize=8)
            ax.set_xlabel("×100", fontsize=7, labelpad=1)
            ax.set_yticks(list(y.values()), [_label(results, m) for m in y] if k % n_cols == 0
                          else [])
            ax.set_ylim(-0.6, len(metrics) - 0.4)
            ax.grid(axis="x", color="#DDDDDD", lw=0.4)
            ax.set_axisbelow(True)
        for ax in axes[len(panels):]:
            ax.axis("off")
        handles = []
        if clustered:
            handles += [
                Line2D([], [], marker="o", ls="", color=METRIC_COLOR, ms=3.5, label="top significance cluster"),
                Line2D([], [], marker="o", ls="", color=METRIC_COLOR, mfc="white", ms=3.5,
                       label="lower clusters")]
        if clustered and unclustered:
            handles.append(Line2D([], [], marker="s", ls="", color=METRIC_COLOR, ms=3.5,
                                  label="no clusters (statistic not tested, or too few units)"))
        if handles:
            fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
        title(fig, f"{results.label(bench)}: agreement with human judgments "
              f"({results.interval_name()})",
              width, 9)
        stem = safe_stem(bench, "agreement_forest")
        files = save(fig, out, stem, [r for r in mine if not r.get("published")],
                     COLUMNS + (["cluster"] if "cluster" in mine[0] else []))
        made.append(Made(stem, f"{results.label(bench)}: agreement of every metric", (
            "Each metric's agreement with the human judgments (correlations.csv, x100), one "
            "panel per statistic and level, with the bootstrap interval run_correlation "
            "computed (a dot alone where it computed none); filled dots: the top significance "
            "cluster; a filled square: no cluster; a diamond: the human ceiling "
            "(annotators against each other); a grey "
            "square: a published number (--published), without interval."), files))
    return made


def _label(results: Results, metric: str) -> str:
    if metric.endswith(" (published)"):
        return results.name(metric[: -len(" (published)")]) + " (published)"
    return results.name(metric)
