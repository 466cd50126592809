"""A forest plot per benchmark: every metric's agreement with people and its interval.

Reads correlations.csv (benchmark, metric, statistic, level, value, ci_low,
ci_high, n, subset); values are shown x100, as papers print them. One panel
per (statistic, level, subset); metrics sorted by the first panel's value.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .common import Made, Results, new_figure, number, save, safe_stem

SHARES = ("accuracy", "acc23")  # shares of pairs, not correlations
COLUMNS = ["benchmark", "metric", "statistic", "level", "value", "ci_low", "ci_high", "n",
           "subset"]


def agreement_forest(results: Results, out: Path) -> list[Made]:
    rows = results.rows("correlations.csv", COLUMNS[:-1])
    made = []
    for bench in dict.fromkeys(r["benchmark"] for r in rows):
        mine = [r for r in rows if r["benchmark"] == bench]
        panels = list(dict.fromkeys((r["statistic"], r["level"], r.get("subset", "")) for r in mine))
        first = {r["metric"]: number(r["value"]) for r in mine
                 if (r["statistic"], r["level"], r.get("subset", "")) == panels[0]}
        def rank(metric: str) -> tuple:
            value = first.get(metric, math.nan)
            return (math.isnan(value), -value if not math.isnan(value) else 0.0, metric)

        metrics = sorted(dict.fromkeys(r["metric"] for r in mine), key=rank)
        fig = new_figure(1.2 + 2.6 * len(panels), 0.9 + 0.3 * len(metrics))
        axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=True, squeeze=False)[0])
        y = {m: len(metrics) - 1 - k for k, m in enumerate(metrics)}
        for ax, (statistic, level, subset) in zip(axes, panels):
            for r in mine:
                if (r["statistic"], r["level"], r.get("subset", "")) != (statistic, level, subset):
                    continue
                value, low, high = (100 * number(r[k]) for k in ("value", "ci_low", "ci_high"))
                if math.isnan(low):
                    ax.plot([value], [y[r["metric"]]], "o", color="black", ms=4)
                else:
                    ax.errorbar([value], [y[r["metric"]]], xerr=[[value - low], [high - value]],
                                fmt="o", color="black", ms=4, capsize=2, lw=1)
            if statistic not in SHARES:  # a correlation: mark no agreement
                ax.axvline(0, color="grey", lw=0.6, ls=":")
            ax.set_title(f"{statistic} ({level}{', ' + subset if subset else ''})", fontsize=9)
            ax.set_xlabel("value ×100")
        axes[0].set_yticks(list(y.values()), list(y.keys()))
        fig.suptitle(f"{results.label(bench)}: agreement with human judgments [interval]", fontsize=10)
        stem = safe_stem(bench, "agreement_forest")
        files = save(fig, out, stem, mine, COLUMNS)
        made.append(Made(stem, f"{results.label(bench)}: agreement of every metric", (
            "Each metric's agreement with the human judgments (correlations.csv, x100), one "
            "panel per statistic and level, with the bootstrap interval run_correlation "
            "computed (a dot alone where it computed none)."), files))
    return made
