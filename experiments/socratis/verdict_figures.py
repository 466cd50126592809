"""The human study's verdicts as bars (Deng et al. 2023, arXiv:2308.16741:
people preferred the human-written reason over twice as often as the machine's).

Reads verdict_counts.csv (all generators together, and per generator) and,
for the human/machine ratio's interval, study_summary.csv (one row per
benchmark and generator where the run wrote them; a summary without a
generator column is all generators together). Two figures: all generators
(one column wide) and, where the study has several generators, the
generators side by side (grouped bars, shares of each generator's verdicts).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..plots.common import (Made, ONE_COLUMN, OKABE_ITO, Results, Skip, new_figure, number,
                            save, title)

VERDICT_ORDER = ["human", "machine", "both_good", "both_bad"]
COLORS = {"human": OKABE_ITO["blue"], "machine": OKABE_ITO["vermillion"],
          "both_good": OKABE_ITO["green"], "both_bad": OKABE_ITO["grey"]}
GENERATOR_COLORS = [OKABE_ITO[c] for c in ("blue", "orange", "green", "purple", "sky_blue",
                                           "vermillion")]


def _ratios(summary_rows: list[dict]) -> dict[str, tuple[float, float, float]]:
    """generator -> (human/machine ratio, interval low, high)."""
    return {r.get("generator") or "all": (number(r.get("human_machine_ratio")),
                                          number(r.get("ratio_ci_low")),
                                          number(r.get("ratio_ci_high")))
            for r in summary_rows}


def _ratio_or_counts(ratio: tuple[float, float, float] | None,
                     counts: dict[str, int]) -> tuple[float, float, float]:
    """The summary's ratio and interval; the ratio from the counts where the summary lacks it."""
    value, low, high = ratio or (math.nan, math.nan, math.nan)
    if math.isnan(value) and counts.get("machine"):
        value = counts.get("human", 0) / counts["machine"]
    return value, low, high


def ratio_text(ratio: tuple[float, float, float] | None, counts: dict[str, int]) -> str:
    """'1.32 [0.80, 2.24]'."""
    value, low, high = _ratio_or_counts(ratio, counts)
    if math.isnan(value):
        return "undefined (no machine-better verdict)"
    return f"{value:.2f}" + ("" if math.isnan(low) else f" [{low:.2f}, {high:.2f}]")


def verdict_bars(results: Results, out: Path) -> list[Made]:
    tables = results.family_tables("verdict_counts")
    if not tables:
        raise Skip("no verdict_counts.csv (no human study among the results)")
    summaries = results.family_tables("study_summary")
    made = []
    for bench, rows in tables.items():
        ratios = _ratios(summaries.get(bench, []))
        made.append(_all_generators(results, out, bench, rows, ratios))
        if len({r.get("generator", "all") for r in rows} - {"all"}) > 1:
            made.append(_by_generator(results, out, bench, rows, ratios))
    return made


def _counts(rows: list[dict], generator: str) -> dict[str, int]:
    return {r["verdict"]: int(number(r["count"])) for r in rows
            if r.get("generator", "all") == generator}


def _all_generators(results: Results, out: Path, bench: str, rows: list[dict],
                    ratios: dict) -> Made:
    counts = _counts(rows, "all")
    verdicts = [v for v in VERDICT_ORDER if v in counts] + [v for v in counts if v not in VERDICT_ORDER]
    total = sum(counts.values())
    text = ratio_text(ratios.get("all"), counts)
    fig = new_figure(ONE_COLUMN, 0.9 + 0.32 * len(verdicts))
    ax = fig.subplots()
    y = np.arange(len(verdicts))[::-1]
    bars = ax.barh(y, [counts[v] for v in verdicts], color=[COLORS.get(v, OKABE_ITO["black"])
                                                             for v in verdicts], height=0.65)
    ax.bar_label(bars, [f"{counts[v]} ({counts[v] / total:.0%})" for v in verdicts], padding=2,
                 fontsize=7)
    ax.set_yticks(y, [results.name(v) for v in verdicts])
    ax.set_xlim(0, max(counts.values()) * 1.3)
    ax.set_xlabel("verdicts")
    title(fig, f"{results.label(bench)}: {total} verdicts; human/machine = {text}", ONE_COLUMN)
    ratio = _ratio_or_counts(ratios.get("all"), counts)
    data = [{"generator": "all", "verdict": v, "label": results.names(v), "count": counts[v],
             "share": counts[v] / total, "human_machine_ratio": ratio[0],
             "ratio_ci_low": ratio[1], "ratio_ci_high": ratio[2]} for v in verdicts]
    stem = f"{bench}_study_verdicts"
    files = save(fig, out, stem, data, list(data[0]))
    return Made(stem, f"{results.label(bench)}: human-study verdicts", (
        "How often annotators judged the human-written reason better, the machine-written "
        "one better, both good or both bad (all generators together); the title gives the "
        "ratio of human-preferred to machine-preferred verdicts with its pair-resampling "
        "bootstrap interval."), files)


def _by_generator(results: Results, out: Path, bench: str, rows: list[dict],
                  ratios: dict) -> Made:
    generators = [g for g in dict.fromkeys(r.get("generator", "all") for r in rows) if g != "all"]
    counts = {g: _counts(rows, g) for g in generators}
    verdicts = [v for v in VERDICT_ORDER if any(v in c for c in counts.values())]
    fig = new_figure(ONE_COLUMN, 1.5 + 0.3 * len(verdicts) * max(1, len(generators) / 2))
    ax = fig.subplots()
    height = 0.8 / len(generators)
    data = []
    for k, g in enumerate(generators):
        total = sum(counts[g].values())
        shares = [100 * counts[g].get(v, 0) / total if total else math.nan for v in verdicts]
        y = np.arange(len(verdicts))[::-1] + 0.4 - height * (k + 0.5)
        label = f"{results.name(g)} (n = {total}): H/M = {ratio_text(ratios.get(g), counts[g])}"
        bars = ax.barh(y, shares, height=height * 0.92, label=label,
                       color=GENERATOR_COLORS[k % len(GENERATOR_COLORS)])
        ax.bar_label(bars, [f"{s:.0f}%" for s in shares], padding=2, fontsize=6)
        ratio = _ratio_or_counts(ratios.get(g), counts[g])
        data += [{"generator": g, "verdict": v, "label": results.names(v),
                  "count": counts[g].get(v, 0), "share": counts[g].get(v, 0) / total,
                  "human_machine_ratio": ratio[0], "ratio_ci_low": ratio[1],
                  "ratio_ci_high": ratio[2]} for v in verdicts]
    ax.set_yticks(np.arange(len(verdicts))[::-1], [results.name(v) for v in verdicts])
    ax.set_xlim(0, max(d["share"] for d in data) * 100 * 1.25)
    ax.set_xlabel("share of the generator's verdicts (%)")
    title(fig, f"{results.label(bench)}: verdicts per generator", ONE_COLUMN)
    fig.legend(loc="outside lower left", ncols=1, handlelength=1.0,
               title="H/M: human/machine ratio [95% CI]", title_fontsize=7, alignment="left")
    stem = f"{bench}_study_verdicts_by_generator"
    files = save(fig, out, stem, data, list(data[0]))
    return Made(stem, f"{results.label(bench)}: human-study verdicts per generator", (
        "The verdicts on each generator's reasons side by side, as shares of that "
        "generator's verdicts (grouped bars); the legend gives each generator's number of "
        "verdicts and its human/machine ratio with a pair-resampling bootstrap interval."), files)
