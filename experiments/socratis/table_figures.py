"""Socratis' two metric tables drawn as tables (Deng et al. 2023, arXiv:2308.16741).

- Subset means: the mean score of the machine-written reason (and of the
  human-written reason) in each verdict subset, with 95 % pair-resampling
  intervals, and the permutation p-value of Machine-better vs Human-better
  (experiments/socratis_analysis.py gives the definitions).
- Generator means: each generator's mean score with item-resampling
  intervals, and the paired difference between generators.
"""
from __future__ import annotations

from pathlib import Path

from .tables import SUBSETS
from ..plots.common import Made, Results, Skip, interval_text, new_figure, number, save

SUBSET_ORDER = [subset for subset, _ in SUBSETS.values()]
SUBSET_LABELS = [label for _, label in SUBSETS.values()]


def _draw_table(cells: list[list[str]], rows: list[str], columns: list[str], title: str):
    fig = new_figure(2.2 + 1.9 * len(columns), 0.9 + 0.32 * (len(rows) + 1))
    ax = fig.subplots()
    ax.axis("off")
    table = ax.table(cellText=cells, rowLabels=rows, colLabels=columns, loc="center",
                     cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1.0, 1.3)
    ax.set_title(title, fontsize=10)
    return fig


def subset_means_table(results: Results, out: Path) -> list[Made]:
    tables = results.family_tables("subset_means")
    if not tables:
        raise Skip("no subset_means.csv (no human study, or no metric scored)")
    tests = results.family_tables("subset_tests")
    made = []
    for bench, rows in tables.items():
        p_values = {(t["metric"], t["scored_reason"]): number(t["p_value"])
                    for t in tests.get(bench, [])}
        by_key = {(r["metric"], r["subset"]): r for r in rows}
        metrics = list(dict.fromkeys(r["metric"] for r in rows))
        labels, cells, data = [], [], []
        for side in ("machine", "human"):
            for metric in metrics:
                line, record = [], {"metric": metric, "scored_reason": side}
                for subset in SUBSET_ORDER:
                    r = by_key.get((metric, subset), {})
                    mean, low, high = (number(r.get(f"{side}_reason_{k}"))
                                       for k in ("mean", "ci_low", "ci_high"))
                    line.append(interval_text(mean, low, high))
                    record.update({f"{subset}_mean": mean, f"{subset}_ci_low": low,
                                   f"{subset}_ci_high": high, f"{subset}_n": r.get("n_judgments")})
                p = p_values.get((metric, side), float("nan"))
                line.append("—" if p != p else f"{p:.3g}")
                record["p_machine_vs_human_better"] = p
                labels.append(f"{metric} ({side} reason)")
                cells.append(line)
                data.append(record)
        fig = _draw_table(cells, labels, SUBSET_LABELS + ["p (M vs H)"],
                          f"{results.label(bench)}: mean score per verdict subset [95% CI]")
        stem = f"{bench}_subset_means"
        files = save(fig, out, stem, data, list(data[0]))
        made.append(Made(stem, f"{results.label(bench)}: metric scores per verdict subset", (
            "The Socratis paper's table: for each metric, the mean score of the machine-written "
            "reason (upper rows; the paper's number) and of the human-written reason (lower rows) "
            "over the judgments of each verdict subset, with 95% intervals that resample pairs. "
            "The last column is the permutation p-value for Machine-better vs Human-better. A "
            "metric that agrees with people scores the machine reason higher where people "
            "preferred it."), files))
    return made


def generator_table(results: Results, out: Path) -> list[Made]:
    tables = results.family_tables("generator_means")
    if not tables:
        raise Skip("no generator_means.csv (no generations.jsonl among the results)")
    differences = results.family_tables("generator_differences")
    made = []
    for bench, rows in tables.items():
        generators = list(dict.fromkeys(r["generator"] for r in rows))
        metrics = list(dict.fromkeys(r["metric"] for r in rows))
        by_key = {(r["metric"], r["generator"]): r for r in rows}
        diffs = {(d["metric"], d["generator_a"], d["generator_b"]): d
                 for d in differences.get(bench, [])}
        pairs = list(dict.fromkeys((a, b) for _, a, b in diffs))
        columns = generators + [f"{a} − {b}" for a, b in pairs]
        cells, data = [], []
        for metric in metrics:
            line, record = [], {"metric": metric}
            for g in generators:
                r = by_key.get((metric, g), {})
                mean, low, high = (number(r.get(k)) for k in ("mean", "ci_low", "ci_high"))
                line.append(interval_text(mean, low, high))
                record.update({f"{g}_mean": mean, f"{g}_ci_low": low, f"{g}_ci_high": high,
                               f"{g}_n": r.get("n")})
            for a, b in pairs:
                d = diffs.get((metric, a, b), {})
                mean, low, high, p = (number(d.get(k)) for k in
                                      ("mean_difference", "ci_low", "ci_high", "p_value"))
                line.append(interval_text(mean, low, high) + ("" if p != p else f", p={p:.2g}"))
                record.update({f"{a}-{b}_difference": mean, f"{a}-{b}_ci_low": low,
                               f"{a}-{b}_ci_high": high, f"{a}-{b}_p_value": p})
            cells.append(line)
            data.append(record)
        fig = _draw_table(cells, metrics, columns, f"{results.label(bench)}: mean score per generator [95% CI]")
        stem = f"{bench}_generator_means"
        files = save(fig, out, stem, data, list(data[0]))
        made.append(Made(stem, f"{results.label(bench)}: metric scores per generator", (
            "The Socratis paper's generator comparison (BLIP-2 vs text-only FLAN-T5 there): "
            "each metric's mean score of each generator's reasons, with 95% intervals that "
            "resample items, and the paired difference between generators on the same "
            "(item, emotion) with its interval and sign-flip permutation p-value."), files))
    return made
