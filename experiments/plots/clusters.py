"""The significance-cluster matrix: which metrics are really better than which.

Reads comparisons.csv: one row per compared pair of metrics with at least
benchmark, metric_a, metric_b and p_value (statistic, level and subset
split the matrices when present). Metrics are ordered by their value in
correlations.csv where it is there. Cluster numbers come from a `cluster`
column (comparisons.csv's cluster_a / cluster_b, correlations.csv, or a
clusters.csv with benchmark, metric, cluster) when the run wrote one: the
rule is mt-metrics-eval's AssignRanks (Freitag et al. 2022, WMT22 metrics
task), computed by correlation.significance_clusters, not here.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.colors import ListedColormap

from .common import (Made, ONE_COLUMN, OKABE_ITO, Results, Skip, TWO_COLUMN, new_figure, number,
                     save, safe_stem, title)

ALPHA = 0.05


def _group(row: dict) -> tuple[str, str, str, str]:
    return (row["benchmark"], row.get("statistic", ""), row.get("level", ""),
            row.get("subset", "") or "")


def _clusters(results: Results, comparisons: list[dict]) -> dict[tuple, int]:
    """(benchmark, statistic, level, subset, metric) -> cluster, from whatever the run wrote."""
    found: dict[tuple, int] = {}
    for r in comparisons:
        for side in ("a", "b"):
            value = number(r.get(f"cluster_{side}"))
            if not math.isnan(value):
                found[(*_group(r), r[f"metric_{side}"])] = int(value)
    for name in ("clusters.csv", "correlations.csv"):
        try:
            rows = results.rows(name, ["benchmark", "metric", "cluster"])
        except Skip:
            continue
        for r in rows:
            value = number(r["cluster"])
            if not math.isnan(value):
                found.setdefault((*_group(r), r["metric"]), int(value))
    return found


def significance_matrix(results: Results, out: Path) -> list[Made]:
    comparisons = results.rows("comparisons.csv", ["benchmark", "metric_a", "metric_b", "p_value"])
    try:
        correlations = results.rows("correlations.csv", ["benchmark", "metric", "value"])
    except Skip:
        correlations = []
    clusters = _clusters(results, comparisons)
    made = []
    for group in dict.fromkeys(_group(r) for r in comparisons):
        rows = [r for r in comparisons if _group(r) == group]
        values = {r["metric"]: number(r["value"]) for r in correlations if _group(r) == group}
        names = list(dict.fromkeys(m for r in rows for m in (r["metric_a"], r["metric_b"])))
        names.sort(key=lambda m: (math.isnan(values.get(m, math.nan)),
                                  -values.get(m, 0.0) if m in values else 0.0))
        index = {m: k for k, m in enumerate(names)}
        p = np.full((len(names), len(names)), np.nan)
        for r in rows:
            i, j = index[r["metric_a"]], index[r["metric_b"]]
            p[i, j] = p[j, i] = number(r["p_value"])
        labels = [results.name(m) + (f" [{clusters[(*group, m)]}]" if (*group, m) in clusters
                                     else "") for m in names]
        width = ONE_COLUMN if len(names) <= 7 else TWO_COLUMN
        fig = new_figure(width, ONE_COLUMN + 0.1 if width == ONE_COLUMN else 1.4 + 0.4 * len(names))
        ax = fig.subplots()
        shown = np.where(np.isnan(p), np.nan, (p <= ALPHA).astype(float))
        cmap = ListedColormap(["#EEEEEE", OKABE_ITO["blue"]]).with_extremes(bad="white")
        ax.imshow(shown, cmap=cmap, vmin=0, vmax=1)
        for i in range(len(names)):
            for j in range(len(names)):
                if not np.isnan(p[i, j]):
                    ax.text(j, i, p_text(p[i, j]), ha="center", va="center", fontsize=6,
                            color="white" if p[i, j] <= ALPHA else "black")
        ax.set_xticks(range(len(names)), labels, rotation=40, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(len(names)), labels)
        ax.spines[:].set_visible(False)
        ax.tick_params(length=0)
        bench, statistic, level, subset = group
        what = results.names.protocol(statistic, level, subset)
        title(fig, f"{results.label(bench)}: {what}. Paired-test p-values; blue: p\u00a0≤\u00a0{ALPHA}; "
                   "[significance cluster]", width)
        data = [{"benchmark": bench, "statistic": statistic, "level": level, "subset": subset,
                 "metric_row": a, "metric_col": b, "p_value": p[index[a], index[b]],
                 "cluster_row": clusters.get((*group, a), ""),
                 "cluster_col": clusters.get((*group, b), "")}
                for a in names for b in names if a != b]
        stem = safe_stem(bench, "significance", statistic, level, subset)
        files = save(fig, out, stem, data, list(data[0]) if data else ["benchmark"])
        ids = " ".join(x for x in (statistic, level, subset) if x)
        made.append(Made(stem, f"{results.label(bench)}: significance of metric differences ({ids})", (
            "Paired-test p-values between every two metrics (comparisons.csv), metrics ordered "
            "best first by the statistic; blue cells: the difference is significant at "
            f"{ALPHA}. Numbers in brackets after a name are significance clusters when the run "
            "wrote them (1 = top cluster)."), files))
    return made


def p_text(p: float) -> str:
    """A p-value in a cell: two significant digits, '<.001' below that."""
    return "<.001" if p < 0.001 else f"{p:.2g}".replace("0.", ".", 1)
