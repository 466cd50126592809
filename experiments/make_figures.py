"""Draw every figure from a run's saved results, without rescoring anything.

    python -m experiments.make_figures --results results --out figures

Reads what run_correlation wrote (scores.csv, correlations.csv,
comparisons.csv, judgments.csv, BENCHMARK.TABLE.csv), only the files its
run.json lists and only when each has the size and hash run.json records
(a cut or edited file stops it with a message), and writes, for each
figure, STEM.png, STEM.pdf and the numbers behind it as STEM.csv; every
table as LaTeX (STEM.tex, experiments/pipeline/latex.py); and
OUT/README.md: what each figure and table shows and the command that made
it. A figure these results cannot support is skipped, and the README and the
log say why. OUT is the figures' own folder, kept as run_correlation keeps
its results (pipeline/results_folder.py): its run.json lists every file
drawn; a folder holding anything else (a results folder among them) is
refused, and a new drawing replaces the previous one whole, in one step.
Names on axes, legends and tables are display names
(experiments/plots/names.py), which `--display-name KEY=TEXT` or
`--display-names FILE` override. The same results give the same files, byte
for byte.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .cli import add_common_arguments, command_name, one_line_errors, setup_logging
from .pipeline.latex import latex_tables
from .cli import package_version
from .pipeline.results_folder import FiguresWriter, OutputFolderError, ResultsError
from .plots.clusters import significance_matrix
from .plots.common import Made, Results, Skip, illustrative_mark, paper_style, number
from .plots.forest import agreement_forest
from .plots.power import power_curves
from .plots.names import DisplayNames, add_display_name_arguments, parse_display_names
from .plots.scatter import metric_vs_human
from .socratis.verdict_figures import verdict_bars
from .interrupts import handles_interrupts

log = logging.getLogger("experiments.make_figures")

# (name in the index, function): each returns the figures it made or raises Skip.
FIGURES = [
    ("human-study verdicts", verdict_bars),
    ("agreement forest plot", agreement_forest),
    ("significance matrix", significance_matrix),
    ("metric vs human scatter", metric_vs_human),
    ("power curve", power_curves),
]


FAMILY_TABLES = ["subset_means", "subset_tests", "generator_means", "generator_differences",
                 "verdict_counts", "study_summary"]
TABLE_WHAT = {
    "agreement": "Every metric's agreement with the human judgments (x100) with its interval, "
                 "the best metric per column in bold, significance clusters as superscripts.",
    "clusters": "The significance clusters of every benchmark and statistic, best first.",
    "subset_means": "The Socratis paper's table: mean score of the machine-written (and of the "
                    "human-written) reason per verdict subset, with intervals resampling pairs, "
                    "and the permutation p-value of Machine-better vs Human-better.",
    "generator_means": "Each generator's mean score with intervals resampling items, and the "
                       "paired difference between generators with its sign-flip permutation "
                       "p-value (BLIP-2 vs text-only FLAN-T5 in the Socratis paper).",
    "verdict_counts": "The human study's verdict counts, all generators together and per "
                      "generator, and the human/machine ratio with its interval.",
}


def make_figures(results: Path | Results, out: Path, names: DisplayNames | None = None
                 ) -> tuple[list[Made], list[tuple[str, str]]]:
    """Draw every figure and write every table; returns what was made and (figure,
    reason) for what was not."""
    source = results if isinstance(results, Results) else Results(results, names)
    made: list[Made] = []
    skipped: list[tuple[str, str]] = []
    for name, draw in FIGURES:
        try:
            with paper_style():
                made += draw(source, out)
        except Skip as exc:
            log.info("skipping the %s: %s", name, exc)
            skipped.append((name, str(exc)))
    made += write_tables(source, out)
    return made, skipped


def write_tables(source: Results, out: Path) -> list[Made]:
    """The LaTeX tables of these results (experiments/pipeline/latex.py)."""
    try:
        correlations = source.rows("correlations.csv", ["benchmark", "metric", "statistic",
                                                        "level", "value"])
    except Skip:
        correlations = []
    family = {(bench, table): rows for table in FAMILY_TABLES
              for bench, rows in source.family_tables(table).items()}
    analysis = source.run_record().get("analysis") or {}
    confidence = number(analysis.get("confidence"))
    alpha = number(analysis.get("alpha"))
    try:
        published = [{**r, "value": number(r["value"])} for r in source.rows(
            "published.csv", ["benchmark", "metric", "statistic", "level", "value"])]
    except Skip:
        published = []
    tables = latex_tables(correlations, family, source.names,
                          0.95 if confidence != confidence else confidence,
                          0.05 if alpha != alpha else alpha, published)
    made = []
    out.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (out / name).write_text(text, encoding="utf-8")
        stem = name[: -len(".tex")]
        bench, _, kind = stem.rpartition(".")
        title = (f"{source.label(bench)}: " if bench else "") + f"table: {kind.replace('_', ' ')}"
        made.append(Made(stem, title, TABLE_WHAT.get(kind, ""), [name]))
    return made


def index_text(command: str, results: Path, made: list[Made], skipped: list[tuple[str, str]],
               run: dict) -> str:
    """The figure index, README.md, written from what was drawn."""
    lines = ["# Figures", "",
             f"Drawn by `{command}` from the saved results in `{results}` (nothing is "
             "rescored); run it again to redraw them. Each figure comes as PNG and PDF, with "
             "the numbers behind it as CSV.", ""]
    if run.get("command"):
        lines += [f"The results: `{run['command']}`."]
    ran = sorted(dict.fromkeys(m["metric"] for m in run.get("metrics") or []
                               if not m.get("skipped")))
    if ran:
        lines += [f"Metrics that ran: {', '.join(ran)}."]
    lines += [""] if lines[-1] else []
    for name in sorted(run.get("benchmarks") or {}):
        mark = illustrative_mark(run, name)
        lines += [f"**{name}: {mark}.**"] if mark else []
    lines += [""] if lines[-1] else []
    figures = [m for m in made if not m.files[0].endswith(".tex")]
    tables = [m for m in made if m.files[0].endswith(".tex")]
    for m in figures:
        lines += [f"## {m.title}", "", " · ".join(f"[`{f}`]({f})" for f in m.files), "", m.what, ""]
    if tables:
        lines += ["## LaTeX tables", "", "Each needs `\\usepackage{booktabs}`; `\\input` it "
                  "where the table goes.", ""]
        lines += [f"- [`{m.files[0]}`]({m.files[0]}): {m.what}" for m in tables]
        lines.append("")
    if skipped:
        lines += ["## Not drawn", ""]
        lines += [f"- {name}: {reason}" for name, reason in skipped]
        lines.append("")
    return "\n".join(lines)


def _drawn_before_records(out: Path) -> str:
    """A hint for a folder an earlier version of make_figures drew (no run.json yet):
    the package cannot tell its files from the user's, so the user removes it."""
    try:
        index = (out / "README.md").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    if (out / "run.json").exists() or not index.startswith(
            "# Figures\n\nDrawn by `python -m experiments.make_figures"):
        return ""
    return (" (an earlier version of make_figures drew it, without the run.json that lists "
            "its files: delete the folder yourself, or give another)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=command_name("experiments.make_figures"),
                                description="Figures from saved results (no rescoring).")
    p.add_argument("--results", default="results", help="a run_correlation output folder")
    p.add_argument("--out", default="figures", help="where the figures go (default figures)")
    add_display_name_arguments(p, "figures and tables")
    add_common_arguments(p)
    return p


@handles_interrupts("the saved results and the previous figures are untouched")
@one_line_errors
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)
    results, out = Path(args.results), Path(args.out)
    try:
        names = DisplayNames(parse_display_names(args.display_name, args.display_names))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        source = Results(results, names)
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        writer = FiguresWriter(out)
    except OutputFolderError as exc:
        print(f"error: {exc}{_drawn_before_records(out)}", file=sys.stderr)
        return 2
    command = f"python -m experiments.make_figures --results {args.results} --out {args.out}"
    try:
        drawn = writer.staging_folder()
        made, skipped = make_figures(source, drawn)
        (drawn / "README.md").write_text(index_text(command, results, made, skipped,
                                                    source.run_record()))
        writer.commit({"command": command, "results": str(results),
                       "version": package_version()})
    finally:
        writer.abandon()
    n_tables = sum(m.files[0].endswith(".tex") for m in made)
    if not args.quiet:
        print(f"{len(made) - n_tables} figures and {n_tables} LaTeX tables in {out}/ "
              f"(index: {out / 'README.md'})"
              + (f"; {len(skipped)} not drawn, see the index" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
