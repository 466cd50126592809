"""The run's tables as LaTeX `booktabs` tables, ready to `\\input` into a paper.

Every table takes the rows run_correlation writes to CSV (dicts whose
numbers may be floats or their text), so the same function serves the run
(report.py) and `make_figures`, which redraws from saved files. Conventions:
scores and statistics x100 with one decimal; 95 % intervals in brackets, in
a smaller font; in the agreement table the best metric per column in bold
and each metric's significance cluster as a superscript (1 = best; the
clusters of correlation.significance_clusters, mt-metrics-eval's
AssignRanks); p-values with three decimals, bold at or below alpha. Names
are the display names (experiments/plots/names.py). A document needs
`\\usepackage{booktabs}`.
"""
from __future__ import annotations

import math
import re
from typing import Iterable, Sequence

from ..plots.names import DisplayNames

CEILING = "human_ceiling"
VERDICTS = ["human", "machine", "both_good", "both_bad"]
SUBSETS = ["machine_better", "human_better", "both_good", "both_bad"]
_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "$": r"\$"}


def escape(text: str) -> str:
    """Plain text for LaTeX: its special characters escaped."""
    return "".join(_SPECIAL.get(c, c) for c in str(text))


def tex_name(text: str) -> str:
    """A display name for LaTeX: `$...$` math kept, the text around it escaped
    (an unpaired `$` is a literal dollar)."""
    if text.count("$") % 2:
        return escape(text)
    parts = re.split(r"(\$[^$]*\$)", text)
    return "".join(p if p.startswith("$") and p.endswith("$") and len(p) > 1 else escape(p)
                   for p in parts)


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def x100(value: object) -> str:
    """'43.9', '$-$2.0', or '--' for no value."""
    v = _number(value)
    if math.isnan(v):
        return "--"
    text = f"{100 * v:.1f}"
    if text in ("-0.0",):
        text = "0.0"
    return text.replace("-", "$-$")


def interval(low: object, high: object) -> str:
    """' {\\scriptsize[41.2, 46.5]}', or nothing without an interval."""
    if math.isnan(_number(low)) or math.isnan(_number(high)):
        return ""
    return f" {{\\scriptsize[{x100(low)}, {x100(high)}]}}"


def p_value(p: object, alpha: float) -> str:
    v = _number(p)
    if math.isnan(v):
        return "--"
    text = "$<$0.001" if v < 0.001 else f"{v:.3f}"
    return rf"\textbf{{{text}}}" if v <= alpha else text


COLUMN_PT = 238  # one column of a two-column paper (3.3 in); wider tables span both


def _width_pt(cell: str) -> float:
    """A rough printed width of a cell at \\small: commands dropped, 4.6 pt a character,
    the \\scriptsize interval at 3.4 pt."""
    small = re.findall(r"\\scriptsize([^}]*)", cell)
    main = re.sub(r"\\scriptsize[^}]*", "", cell)
    main = re.sub(r"\\[a-zA-Z]+|[{}$]", "", main)
    return 4.6 * len(main) + 3.4 * sum(len(x) for x in small)


def tabular(spec: str, header: Sequence[str], body: Sequence[str], caption: str, label: str,
            wide: bool | None = None) -> str:
    """A table environment: booktabs rules around `header` and `body` lines; `table*`
    (both columns of a two-column paper) when the rows look wider than one column."""
    rows = [line[:-2].split(" & ") for line in (*header, *body) if line.endswith("\\\\")
            and "\\multicolumn" not in line]
    widths: dict[int, float] = {}
    for cells in rows:
        for k, cell in enumerate(cells):
            widths[k] = max(widths.get(k, 0.0), _width_pt(cell))
    if wide is None:
        wide = sum(widths.values()) + 8 * len(widths) > COLUMN_PT
    env = "table*" if wide else "table"
    lines = ["% Written by socratis-metaeval; needs \\usepackage{booktabs}.",
             f"\\begin{{{env}}}[t]", "\\centering", "\\small", "\\setlength{\\tabcolsep}{4pt}",
             f"\\begin{{tabular}}{{{spec}}}", "\\toprule", *header, "\\midrule", *body,
             "\\bottomrule", "\\end{tabular}", f"\\caption{{{caption}}}",
             f"\\label{{{label}}}", f"\\end{{{env}}}", ""]
    return "\n".join(lines)


def _row(cells: Iterable[str]) -> str:
    return " & ".join(cells) + " \\\\"


def _label(*parts: str) -> str:
    return "tab:" + "-".join(re.sub(r"[^A-Za-z0-9]+", "-", p).strip("-") for p in parts if p)


# -- agreement and clusters -------------------------------------------------------

def _column(r: dict) -> tuple[str, str, str, str]:
    return r["benchmark"], r["statistic"], r["level"], r.get("subset") or ""


def agreement_table(rows: Sequence[dict], names: DisplayNames, confidence: float = 0.95,
                    alpha: float = 0.05, published: Sequence[dict] = ()) -> str:
    """Metrics as rows, (benchmark, statistic, level, subset) as columns, grouped by benchmark;
    `published` numbers (experiments/pipeline/published.py) in a marked block of their own
    below, in the columns the run has, never bold and never clustered."""
    columns = list(dict.fromkeys(_column(r) for r in rows))
    metrics = [m for m in dict.fromkeys(r["metric"] for r in rows) if m != CEILING]
    ceiling = any(r["metric"] == CEILING for r in rows)
    cell = {(r["metric"], _column(r)): r for r in rows}
    best = {}
    for col in columns:
        shown = [x100(cell[m, col]["value"]) for m in metrics if (m, col) in cell]
        values = [_number(s.replace("$-$", "-")) for s in shown if s != "--"]
        best[col] = f"{max(values):.1f}" if values else None
    benchmarks = list(dict.fromkeys(c[0] for c in columns))
    spans, start = [], 2
    for bench in benchmarks:
        width = sum(1 for c in columns if c[0] == bench)
        spans.append((bench, start, start + width - 1))
        start += width
    header = [_row([""] + [f"\\multicolumn{{{b - a + 1}}}{{c}}{{{tex_name(names(bench))}}}"
                           for bench, a, b in spans]),
              " ".join(f"\\cmidrule(lr){{{a}-{b}}}" for _, a, b in spans),
              _row(["Metric"] + [tex_name(names.protocol(c[1], c[2], c[3])) for c in columns])]

    def line(metric: str) -> str:
        cells = [tex_name(names(metric))]
        for col in columns:
            r = cell.get((metric, col))
            if r is None:
                cells.append("--")
                continue
            value = x100(r["value"])
            if metric != CEILING and value.replace("$-$", "-") == best[col]:
                value = rf"\textbf{{{value}}}"
            cluster = _number(r.get("cluster"))
            if not math.isnan(cluster):
                value += rf"\textsuperscript{{{int(cluster)}}}"
            cells.append(value + interval(r.get("ci_low"), r.get("ci_high")))
        return _row(cells)

    body = [line(m) for m in metrics]
    if ceiling:
        body += ["\\midrule", line(CEILING)]
    shown = [p for p in published if _column(p) in columns]
    if shown:
        body += ["\\midrule", _row([f"\\multicolumn{{{len(columns) + 1}}}{{l}}"
                                    "{\\textit{Published, not computed here (paper and table: "
                                    "published.csv)}}"])]
        for metric in dict.fromkeys(p["metric"] for p in shown):
            value = {_column(p): x100(p["value"]) for p in shown if p["metric"] == metric}
            body.append(_row([tex_name(names(metric)) + "$^{\\dagger}$"]
                             + [value.get(col, "--") for col in columns]))
    caption = (f"Agreement with human judgments ($\\times$100) with {confidence:.0%} bootstrap "
               "intervals. Bold: the best metric per column. Superscripts: significance "
               f"clusters (1 = best; a paired permutation test at $\\alpha = {alpha:g}$ separates "
               "clusters)." + (" The human ceiling is the annotators' agreement with each other."
                               if ceiling else "")
               + (" $^{\\dagger}$Published numbers, for reference." if shown else ""))
    return tabular("l" + "c" * len(columns), header, body, caption.replace("%", "\\%"),
                   "tab:agreement")


def cluster_table(rows: Sequence[dict], names: DisplayNames, alpha: float = 0.05) -> str | None:
    """Per benchmark and protocol step, the metrics' significance clusters, best first."""
    groups: dict[tuple, dict[int, list[tuple[float, str]]]] = {}
    for r in rows:
        cluster = _number(r.get("cluster"))
        if r["metric"] == CEILING or math.isnan(cluster):
            continue
        groups.setdefault(_column(r), {}).setdefault(int(cluster), []).append(
            (-_number(r["value"]), r["metric"]))
    if not groups:
        return None
    body = []
    for (bench, statistic, level, subset), clusters in groups.items():
        text = " $>$ ".join(
            "\\{" + ", ".join(f"\\mbox{{{tex_name(names(m))}}}" for _, m in sorted(clusters[c]))
            + "\\}" for c in sorted(clusters))
        body.append(" & ".join([tex_name(names(bench)),
                                tex_name(names.protocol(statistic, level, subset)),
                                "\\raggedright " + text]) + " \\tabularnewline")
    caption = ("Significance clusters, best first: metrics in one cluster do not differ "
               f"significantly (paired permutation test, $\\alpha = {alpha:g}$); each cluster is "
               "significantly better than the next.")
    return tabular("llp{0.6\\linewidth}", [_row(["Benchmark", "Statistic", "Clusters"])], body,
                   caption, "tab:clusters", wide=True)


# -- Socratis' tables (experiments/socratis/tables.py) ----------------------------------

def subset_means_table(bench: str, means: Sequence[dict], tests: Sequence[dict],
                       names: DisplayNames, confidence: float = 0.95, alpha: float = 0.05) -> str:
    """Mean score per verdict subset, the machine-written and the human-written reason."""
    metrics = list(dict.fromkeys(r["metric"] for r in means))
    by_key = {(r["metric"], r["subset"]): r for r in means}
    p_values = {(t["metric"], t["scored_reason"]): t.get("p_value") for t in tests}
    subsets = [s for s in SUBSETS if any(k[1] == s for k in by_key)]
    counts = {s: next((r.get("n_judgments") for r in means if r["subset"] == s), "") for s in subsets}
    header = [_row(["Metric"] + [f"{tex_name(names(s))} ($n$={int(_number(counts[s]))})"
                                 if not math.isnan(_number(counts[s])) else tex_name(names(s))
                                 for s in subsets] + ["$p$ (M vs H)"])]
    body = []
    for side, what in (("machine", "machine"), ("human", "human")):
        if body:
            body.append("\\midrule")
        body.append(f"\\multicolumn{{{len(subsets) + 2}}}{{l}}{{\\emph{{Score of the "
                    f"{what}-written reason}}}} \\\\")
        for metric in metrics:
            cells = [tex_name(names(metric))]
            for s in subsets:
                r = by_key.get((metric, s), {})
                cells.append(x100(r.get(f"{side}_reason_mean"))
                             + interval(r.get(f"{side}_reason_ci_low"), r.get(f"{side}_reason_ci_high")))
            cells.append(p_value(p_values.get((metric, side)), alpha))
            body.append(_row(cells))
    caption = (f"{escape(names(bench))}: mean metric score ($\\times$100) per verdict subset of "
               f"the human study, with {confidence:.0%} intervals resampling pairs; $p$: "
               "permutation test of Machine-better against Human-better (bold: "
               f"$p \\le {alpha:g}$).").replace("%", "\\%")
    return tabular("l" + "c" * (len(subsets) + 1), header, body, caption,
                   _label(bench, "subset-means"))


def generator_table(bench: str, means: Sequence[dict], differences: Sequence[dict],
                    names: DisplayNames, confidence: float = 0.95, alpha: float = 0.05) -> str:
    """Each generator's mean score and the paired differences between generators."""
    generators = list(dict.fromkeys(r["generator"] for r in means))
    metrics = list(dict.fromkeys(r["metric"] for r in means))
    by_key = {(r["metric"], r["generator"]): r for r in means}
    diffs = {(d["metric"], d["generator_a"], d["generator_b"]): d for d in differences}
    pairs = list(dict.fromkeys((a, b) for _, a, b in diffs))
    header = [_row(["Metric"] + [tex_name(names(g)) for g in generators]
                   + [item for a, b in pairs for item in
                      (f"{tex_name(names(a))} $-$ {tex_name(names(b))}", "$p$")])]
    body = []
    for metric in metrics:
        cells = [tex_name(names(metric))]
        for g in generators:
            r = by_key.get((metric, g), {})
            cells.append(x100(r.get("mean")) + interval(r.get("ci_low"), r.get("ci_high")))
        for a, b in pairs:
            d = diffs.get((metric, a, b), {})
            cells += [x100(d.get("mean_difference")) + interval(d.get("ci_low"), d.get("ci_high")),
                      p_value(d.get("p_value"), alpha)]
        body.append(_row(cells))
    caption = (f"{escape(names(bench))}: mean metric score ($\\times$100) of each generator's "
               f"reasons with {confidence:.0%} intervals resampling items, and the paired "
               "difference on the same (item, emotion) with its interval and sign-flip "
               f"permutation $p$ (bold: $p \\le {alpha:g}$).").replace("%", "\\%")
    return tabular("l" + "c" * (len(generators) + 2 * len(pairs)), header, body, caption,
                   _label(bench, "generator-means"))


def verdict_table(bench: str, counts: Sequence[dict], summary: Sequence[dict],
                  names: DisplayNames, confidence: float = 0.95) -> str:
    """Verdict counts (share in %) for all generators and each, and the human/machine ratio."""
    groups = list(dict.fromkeys(r.get("generator") or "all" for r in counts))
    by_key = {(r.get("generator") or "all", r["verdict"]): int(_number(r["count"])) for r in counts}
    ratios = {s.get("generator") or "all": s for s in summary}
    header = [_row(["Verdict"] + [tex_name(names(g)) for g in groups])]
    body = []
    totals = {g: sum(v for (gg, _), v in by_key.items() if gg == g) for g in groups}
    for verdict in [v for v in VERDICTS if any(k[1] == v for k in by_key)]:
        cells = [tex_name(names(verdict))]
        for g in groups:
            n = by_key.get((g, verdict), 0)
            cells.append(f"{n} ({100 * n / totals[g]:.1f}\\%)" if totals[g] else "--")
        body.append(_row(cells))
    body += ["\\midrule", _row(["Total"] + [str(totals[g]) for g in groups])]
    ratio_cells = ["Human/Machine"]
    for g in groups:
        s = ratios.get(g, {})
        value = _number(s.get("human_machine_ratio"))
        if math.isnan(value) and by_key.get((g, "machine")):
            value = by_key.get((g, "human"), 0) / by_key[(g, "machine")]
        low, high = _number(s.get("ratio_ci_low")), _number(s.get("ratio_ci_high"))
        text = "--" if math.isnan(value) else f"{value:.2f}"
        if not (math.isnan(low) or math.isnan(high)):
            text += f" {{\\scriptsize[{low:.2f}, {high:.2f}]}}"
        ratio_cells.append(text)
    body.append(_row(ratio_cells))
    caption = (f"{escape(names(bench))}: human-study verdicts (share of the column's verdicts), "
               "and the ratio of human-preferred to machine-preferred verdicts with its "
               f"{confidence:.0%} interval resampling pairs.").replace("%", "\\%")
    return tabular("l" + "r" * len(groups), header, body, caption, _label(bench, "verdicts"))


#: Statistics of rankings from battles, and the annotators' Krippendorff's alpha (no metric
#: has one: a column of dashes): in correlations.csv and report.md, not in agreement.tex.
BATTLE_STATISTICS = ("ranking_", "caption_agreement", "krippendorff_")


def latex_tables(correlations: Sequence[dict], family: dict[tuple[str, str], Sequence[dict]],
                 names: DisplayNames | None = None, confidence: float = 0.95,
                 alpha: float = 0.05, published: Sequence[dict] = ()) -> dict[str, str]:
    """{file name: LaTeX} for every table the rows allow: agreement.tex, clusters.tex and,
    per benchmark with a human study or generations, BENCH.subset_means.tex,
    BENCH.generator_means.tex, BENCH.verdict_counts.tex."""
    names = names or DisplayNames()
    found: dict[str, str] = {}
    correlations = [r for r in correlations if not r["statistic"].startswith(BATTLE_STATISTICS)]
    if correlations:
        found["agreement.tex"] = agreement_table(correlations, names, confidence, alpha,
                                                 published)
        clusters = cluster_table(correlations, names, alpha)
        if clusters is not None:
            found["clusters.tex"] = clusters
    for bench in dict.fromkeys(b for b, _ in family):
        tables = {t: rows for (b, t), rows in family.items() if b == bench}
        if tables.get("subset_means"):
            found[f"{bench}.subset_means.tex"] = subset_means_table(
                bench, tables["subset_means"], tables.get("subset_tests", []), names,
                confidence, alpha)
        if tables.get("generator_means"):
            found[f"{bench}.generator_means.tex"] = generator_table(
                bench, tables["generator_means"], tables.get("generator_differences", []),
                names, confidence, alpha)
        if tables.get("verdict_counts"):
            found[f"{bench}.verdict_counts.tex"] = verdict_table(
                bench, tables["verdict_counts"], tables.get("study_summary", []), names,
                confidence)
    return found
