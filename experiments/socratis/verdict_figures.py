"""The human study's verdicts as bars (Deng et al. 2023, arXiv:2308.16741:
people preferred the human-written reason over twice as often as the machine's).

Reads verdict_counts.csv (all generators together) and, for the
ratio's interval, study_summary.csv (one row per benchmark).
"""
from __future__ import annotations

import math
from pathlib import Path

from ..plots.common import Made, Results, Skip, new_figure, number, save

COLORS = {"human": "#4C72B0", "machine": "#DD8452", "both_good": "#55A868", "both_bad": "#C44E52"}


def verdict_bars(results: Results, out: Path) -> list[Made]:
    tables = results.family_tables("verdict_counts")
    if not tables:
        raise Skip("no verdict_counts.csv (no human study among the results)")
    summaries = results.family_tables("study_summary")
    made = []
    for bench, rows in tables.items():
        rows = [r for r in rows if r.get("generator", "all") == "all"]
        counts = {r["verdict"]: int(number(r["count"])) for r in rows}
        ratio = counts["human"] / counts["machine"] if counts.get("machine") else math.nan
        summary = summaries.get(bench, [{}])[0]
        low, high = number(summary.get("ratio_ci_low")), number(summary.get("ratio_ci_high"))
        ratio_text = f"{ratio:.2f}" + (f" [{low:.2f}, {high:.2f}]" if not math.isnan(low) else "")
        fig = new_figure(5.0, 3.4)
        ax = fig.subplots()
        total = sum(counts.values())
        bars = ax.bar([r["label"] for r in rows], [counts[r["verdict"]] for r in rows],
                      color=[COLORS.get(r["verdict"], "grey") for r in rows])
        ax.bar_label(bars, [f"{counts[r['verdict']]} ({counts[r['verdict']] / total:.0%})"
                            for r in rows], padding=2)
        ax.set_ylabel("verdicts")
        ax.set_ylim(0, max(counts.values()) * 1.18)
        ax.set_title(f"{results.label(bench)}: {total} verdicts; human/machine = {ratio_text}", fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
        data = [{"verdict": r["verdict"], "label": r["label"], "count": counts[r["verdict"]],
                 "share": counts[r["verdict"]] / total, "human_machine_ratio": ratio,
                 "ratio_ci_low": low, "ratio_ci_high": high} for r in rows]
        stem = f"{bench}_study_verdicts"
        files = save(fig, out, stem, data, list(data[0]))
        made.append(Made(stem, f"{results.label(bench)}: human-study verdicts", (
            "How often annotators judged the human-written reason better, the machine-written "
            "one better, both good or both bad (one bar per verdict, all generators together); "
            "the title gives the ratio of human-preferred to machine-preferred verdicts with "
            "its pair-resampling bootstrap interval."), files))
    return made
