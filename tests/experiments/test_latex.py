"""The LaTeX tables: hand-worked cells, structure, and a pdflatex compile in a
two-column paper where Debian's texlive is installed (CI installs it)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from experiments.pipeline.latex import (agreement_table, cluster_table, latex_tables, tex_name,
                                        verdict_table)
from experiments.plots.names import DisplayNames


def row(metric, value, low, high, cluster, bench="flickr8k-expert", statistic="kendall_c",
        level="flat", subset=""):
    return {"benchmark": bench, "metric": metric, "statistic": statistic, "level": level,
            "subset": subset, "value": value, "ci_low": low, "ci_high": high, "cluster": cluster}


ROWS = [row("bleu4", 0.308, 0.29, 0.327, 2), row("cider", 0.4394, 0.42, 0.46, 1),
        row("meteor", 0.41849, 0.40, 0.43, 1), row("human_ceiling", 0.613, "nan", "nan", ""),
        row("bleu4", -0.0203, -0.05, 0.01, 1, "thumb", "pearson", "system"),
        row("cider", "nan", "nan", "nan", "", "thumb", "pearson", "system")]


def body_lines(table: str) -> list[str]:
    inner = table.split("\\midrule", 1)[1].split("\\bottomrule")[0]
    return [line for line in inner.splitlines() if line.endswith("\\\\")]


def test_agreement_cells_bold_clusters_intervals():
    table = agreement_table(ROWS, DisplayNames())
    lines = {line.split(" & ")[0]: line for line in body_lines(table)}
    # x100, one decimal; the best per column bold; cluster as superscript; interval x100.
    assert lines["CIDEr"] == ("CIDEr & \\textbf{43.9}\\textsuperscript{1} {\\scriptsize[42.0, 46.0]}"
                              " & -- \\\\")
    assert lines["METEOR"].startswith("METEOR & 41.8\\textsuperscript{1} {\\scriptsize[40.0, 43.0]}")
    # A negative value takes a minus sign; alone in its column, it is the best.
    assert lines["BLEU-4"].endswith("& \\textbf{$-$2.0}\\textsuperscript{1} "
                                    "{\\scriptsize[$-$5.0, 1.0]} \\\\")
    # The ceiling is a reference, never bold, below a rule, without an interval.
    assert lines["Human ceiling"] == "Human ceiling & 61.3 & -- \\\\"
    assert table.index("\\midrule\nHuman ceiling") > table.index("CIDEr")
    # Headers: benchmarks spanning their columns, then the statistics' display names.
    assert "\\multicolumn{1}{c}{Flickr8k-Expert} & \\multicolumn{1}{c}{THumB}" in table
    assert "Metric & Kendall $\\tau_c$ & Pearson $r$ (system level) \\\\" in table


def test_clusters_best_first():
    table = cluster_table(ROWS, DisplayNames())
    assert ("Flickr8k-Expert & Kendall $\\tau_c$ & \\raggedright \\{\\mbox{CIDEr}, "
            "\\mbox{METEOR}\\} $>$ \\{\\mbox{BLEU-4}\\}") in table


def test_verdict_counts_and_ratio_per_generator():
    counts = [{"generator": g, "verdict": v, "count": n} for g, v, n in [
        ("all", "human", 223), ("all", "machine", 91), ("all", "both_good", 47),
        ("all", "both_bad", 11), ("blip2", "human", 100), ("blip2", "machine", 50),
        ("blip2", "both_good", 40), ("blip2", "both_bad", 10)]]
    summary = [{"generator": "all", "human_machine_ratio": 223 / 91, "ratio_ci_low": 1.9,
                "ratio_ci_high": 3.1}]
    lines = body_lines(verdict_table("socratis", counts, summary, DisplayNames()))
    assert lines[0] == "Human-better & 223 (59.9\\%) & 100 (50.0\\%) \\\\"
    assert lines[-2] == "Total & 372 & 200 \\\\"
    # blip2 has no summary row: the ratio from its counts, without an interval.
    assert lines[-1] == "Human/Machine & 2.45 {\\scriptsize[1.90, 3.10]} & 2.00 \\\\"


def test_display_names_are_escaped_outside_math():
    assert tex_name("R&D_score 100%") == "R\\&D\\_score 100\\%"
    assert tex_name(r"Kendall $\tau_c$ #1") == r"Kendall $\tau_c$ \#1"
    assert tex_name("costs $5") == "costs \\$5"
    table = agreement_table(ROWS[:2], DisplayNames({"bleu4": "BLEU_4 & co"}))
    assert "BLEU\\_4 \\& co &" in table


def columns_of(spec: str) -> int:
    return len(re.sub(r"p\{[^}]*\}", "p", spec))


def check_structure(text: str) -> None:
    """Balanced braces and environments, every row as many cells as the column spec."""
    assert text.count("{") - text.count("\\{") == text.count("}") - text.count("\\}")
    for env in ("table", "table*", "tabular"):
        assert text.count(f"\\begin{{{env}}}") == text.count(f"\\end{{{env}}}")
    spec = re.search(r"\\begin\{tabular\}\{(.*)\}\n", text).group(1)
    n = columns_of(spec)
    for line in text.split("\\toprule", 1)[1].split("\\bottomrule")[0].splitlines():
        if line.endswith("\\\\") or line.endswith("\\tabularnewline"):
            cells = line.split(" & ")
            spans = [int(m) for m in re.findall(r"\\multicolumn\{(\d+)\}", line)]
            assert len(cells) - len(spans) + sum(spans) == n, line
    assert "\\toprule" in text and "\\bottomrule" in text


@pytest.fixture
def demo_tables(demo_figures_drawn):
    """The tables make_figures wrote for the demo run (tests/conftest.py)."""
    tables = sorted(demo_figures_drawn[1].glob("*.tex"))
    assert {t.name for t in tables} == {"agreement.tex", "clusters.tex", "demo.subset_means.tex",
                                        "demo.generator_means.tex", "demo.verdict_counts.tex"}
    return tables


def test_every_written_table_is_well_formed(demo_tables):
    for path in demo_tables:
        check_structure(path.read_text())
    every = latex_tables(ROWS, {}, DisplayNames())
    for text in every.values():
        check_structure(text)


PREAMBLE = ("\\documentclass[twocolumn]{article}\n\\usepackage{booktabs}\n"
            "\\setlength{\\textwidth}{7in}\\setlength{\\columnsep}{0.33in}"
            "\\setlength{\\oddsidemargin}{-0.25in}\n\\begin{document}\nText.\n")


@pytest.mark.skipif(shutil.which("pdflatex") is None,
                    reason="pdflatex not installed (Debian: texlive-latex-base, "
                           "texlive-latex-recommended; .ci/run installs them)")
def test_tables_compile_and_fit_a_two_column_paper(demo_tables, tmp_path):
    document = PREAMBLE + "".join(f"\\input{{{p}}}\n" for p in demo_tables)
    document += "".join(latex_tables(ROWS, {}, DisplayNames()).values()) + "\\end{document}\n"
    (tmp_path / "doc.tex").write_text(document)
    done = subprocess.run(["pdflatex", "-halt-on-error", "-interaction=nonstopmode", "doc.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    log = (tmp_path / "doc.log").read_text(errors="replace")
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "doc.pdf").read_bytes().startswith(b"%PDF")
    assert "Overfull \\hbox" not in log, [line for line in log.splitlines() if "Overfull" in line]
