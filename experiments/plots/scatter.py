"""Metric score against the mean human rating, per sample, for rating benchmarks.

Reads judgments.csv (benchmark, sample_id, human, n_judgments: the mean
human rating per sample) and scores.csv (benchmark, sample_id, metric,
score). The panel titles repeat the benchmark's first reported statistic
from correlations.csv where it is there.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .common import (Made, ONE_COLUMN, OKABE_ITO, Results, Skip, TWO_COLUMN, new_figure, number,
                     save, safe_stem, title)


BOX_LEVELS = 12  # at most this many distinct human ratings: box plots, not points


def draw_panel(ax, x: np.ndarray, y: np.ndarray) -> None:
    """Points; where the human ratings take few values (Flickr8k's means of three 1-4
    ratings), a box per rating level instead, as thousands of points on a few lines
    hide their own density. Boxes: quartiles; whiskers: 5th and 95th percentiles."""
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    levels = np.unique(y)
    if 1 < len(levels) <= BOX_LEVELS and len(x) > 10 * len(levels):
        step = float(np.min(np.diff(levels)))
        ax.boxplot([x[y == v] for v in levels], positions=levels, orientation="horizontal",
                   widths=0.6 * step, whis=(5, 95), showfliers=False, patch_artist=True,
                   boxprops={"facecolor": "#CCE3F0", "edgecolor": OKABE_ITO["blue"], "lw": 0.6},
                   medianprops={"color": OKABE_ITO["vermillion"], "lw": 0.9},
                   whiskerprops={"color": OKABE_ITO["blue"], "lw": 0.6},
                   capprops={"color": OKABE_ITO["blue"], "lw": 0.6})
        labels = [f"{v:g}" if abs(v * 3 - round(v * 3)) > 1e-9 or float(v).is_integer()
                  else f"{v:.2f}" for v in levels]
        ax.set_yticks(levels, labels if len(levels) <= 6 else
                      [lab if float(v).is_integer() else "" for v, lab in zip(levels, labels)])
    else:
        ax.scatter(x, y, s=3, alpha=0.35, color=OKABE_ITO["blue"], rasterized=True,
                   linewidths=0)


def metric_vs_human(results: Results, out: Path) -> list[Made]:
    try:
        judgments = results.rows("judgments.csv", ["benchmark", "sample_id", "human"])
    except Skip as exc:
        raise Skip(f"no rating benchmark among the results ({exc})") from None
    scores = results.rows("scores.csv", ["benchmark", "sample_id", "metric", "score"])
    try:
        correlations = results.rows("correlations.csv", ["benchmark", "metric", "statistic",
                                                         "level", "value"])
    except Skip:
        correlations = []
    made = []
    for bench in dict.fromkeys(j["benchmark"] for j in judgments):
        human = {j["sample_id"]: number(j["human"]) for j in judgments if j["benchmark"] == bench}
        mine = [s for s in scores if s["benchmark"] == bench and s["sample_id"] in human]
        metrics = list(dict.fromkeys(s["metric"] for s in mine))
        if not metrics:
            continue
        headline = {}
        for r in correlations:
            if r["benchmark"] == bench and r["metric"] not in headline:
                headline[r["metric"]] = (r["statistic"], r["level"], number(r["value"]))
        cols = min(4, len(metrics))
        rows_n = math.ceil(len(metrics) / cols)
        width = ONE_COLUMN if cols == 1 else TWO_COLUMN
        fig = new_figure(width, 0.4 + rows_n * min(2.6, width / cols + 0.3))
        axes = np.atleast_1d(fig.subplots(rows_n, cols, squeeze=False)).ravel()
        data = []
        for k, (ax, metric) in enumerate(zip(axes, metrics)):
            points = [(number(s["score"]), human[s["sample_id"]], s["sample_id"])
                      for s in mine if s["metric"] == metric]
            x = np.array([p[0] for p in points])
            y = np.array([p[1] for p in points])
            draw_panel(ax, x, y)
            heading = results.name(metric)
            if metric in headline and not math.isnan(headline[metric][2]):
                statistic, level, value = headline[metric]
                heading += f"\n{results.names.protocol(statistic, level)} = {100 * value:.1f}"
            ax.set_title(heading, fontsize=7)
            ax.set_xlabel("metric score", fontsize=7)
            if k % cols == 0:
                ax.set_ylabel("mean human rating", fontsize=7)
            data += [{"benchmark": bench, "sample_id": sid, "metric": metric, "score": sx,
                      "human": hy} for sx, hy, sid in points]
        for ax in axes[len(metrics):]:
            ax.axis("off")
        title(fig, f"{results.label(bench)}: metric score vs mean human rating", width, 9)
        stem = safe_stem(bench, "metric_vs_human")
        files = save(fig, out, stem, data, ["benchmark", "sample_id", "metric", "score", "human"])
        made.append(Made(stem, f"{results.label(bench)}: metric vs human rating", (
            "The metric's score against the mean of each sample's human ratings "
            "(judgments.csv), one panel per metric, with the benchmark's reported statistic "
            "in the panel title: one point per sample, or, where the ratings take at most "
            f"{BOX_LEVELS} values, a box per rating (quartiles, whiskers at the 5th and 95th "
            "percentiles, median in red)."), files))
    if not made:
        raise Skip("judgments.csv names no benchmark that scores.csv has scores for")
    return made
