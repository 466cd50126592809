"""Power curves: how often a study of n units would find the difference the pilot shows.

Reads power_curve.csv (written by `python -m experiments.plan_study`): one
line per curve (benchmark, comparison, statistic, subset, metrics), power
against the number of units with a band of two Monte-Carlo standard errors,
the target power as a dashed line and the smallest size reaching it marked.
"""
from __future__ import annotations

import math
from pathlib import Path

from .common import ONE_COLUMN, Made, Results, new_figure, number, save, safe_stem, title

COLUMNS = ["benchmark", "comparison", "statistic", "level", "subset", "metric_a", "metric_b",
           "value", "unit", "n", "power", "mc_se", "target_power", "n_required", "pilot_units"]


def _label(results: Results, row: dict) -> str:
    if row["comparison"] == "verdicts":
        what = "human vs machine verdicts"
    elif row["comparison"] == "metric vs value":
        what = f"{results.name(row['metric_a'])} vs {row['value']}"
    else:
        what = f"{results.name(row['metric_a'])} vs {results.name(row['metric_b'])}"
    return f"{what}{' (' + row['subset'] + ')' if row.get('subset') else ''}"


def power_curves(results: Results, out: Path) -> list[Made]:
    rows = results.rows("power_curve.csv", COLUMNS)
    made = []
    for bench in dict.fromkeys(r["benchmark"] for r in rows):
        mine = [r for r in rows if r["benchmark"] == bench]
        fig = new_figure(ONE_COLUMN, 2.8)
        ax = fig.subplots()
        curves = dict.fromkeys((r["comparison"], r["statistic"], r["subset"], r["metric_a"],
                                r["metric_b"], r["value"]) for r in mine)
        for key in curves:
            pts = [r for r in mine if (r["comparison"], r["statistic"], r["subset"], r["metric_a"],
                                       r["metric_b"], r["value"]) == key]
            n = [number(r["n"]) for r in pts]
            p = [number(r["power"]) for r in pts]
            se = [number(r["mc_se"]) for r in pts]
            line, = ax.plot(n, p, "o-", ms=3, lw=1, label=_label(results, pts[0]))
            ax.fill_between(n, [max(0, a - 2 * b) for a, b in zip(p, se)],
                            [min(1, a + 2 * b) for a, b in zip(p, se)], color=line.get_color(),
                            alpha=0.15, lw=0)
            need = number(pts[0]["n_required"])
            if not math.isnan(need):
                ax.axvline(need, color=line.get_color(), lw=0.8, ls=":")
            pilot = number(pts[0]["pilot_units"])
            ax.plot([pilot], [0.02], "^", color=line.get_color(), ms=5)
        target = number(mine[0]["target_power"])
        ax.axhline(target, color="grey", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
        unit = "pairs" if mine[0]["level"] == "pair" else mine[0]["unit"]
        ax.set_xlabel(f"{unit} judged (log scale)")
        ax.set_ylabel("power")
        ax.legend(fontsize=6, loc="lower right")
        title(fig, f"{results.label(bench)}: power by study size "
                   f"({results.name(mine[0]['statistic'])})", ONE_COLUMN)
        stem = safe_stem(bench, "power_curve")
        files = save(fig, out, stem, mine, COLUMNS)
        made.append(Made(stem, f"{results.label(bench)}: power by study size", (
            f"Share of simulated studies of each size (drawn with replacement from the pilot's "
            f"units) in which the report's test finds the difference the pilot shows "
            f"(power_curve.csv from `python -m experiments.plan_study`); band: two Monte-Carlo "
            f"standard errors; dashed: target power {target:.0%}; dotted: the smallest size "
            f"reaching it; triangle: the pilot's size. See docs/power.md."), files))
    return made
