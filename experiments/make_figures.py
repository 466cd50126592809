"""Draw every figure from a run's saved results, without rescoring anything.

    python -m experiments.make_figures --results results --out figures

Reads what run_correlation wrote (scores.csv, correlations.csv,
comparisons.csv, judgments.csv, BENCHMARK.TABLE.csv), only the files its
run.json lists and only when each has the size and hash run.json records
(a cut or edited file stops it with a message), and writes,
for each figure, STEM.png, STEM.pdf and the numbers behind it as STEM.csv,
plus OUT/README.md: what each figure shows and the command that made it. A
figure these results cannot support is skipped, and the README and the log
say why. The same results give the same files, byte for byte.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .pipeline.results_folder import ResultsError
from .plots.clusters import significance_matrix
from .plots.common import Made, Results, Skip, illustrative_mark
from .plots.forest import agreement_forest
from .plots.scatter import metric_vs_human
from .socratis.table_figures import generator_table, subset_means_table
from .socratis.verdict_figures import verdict_bars

log = logging.getLogger("experiments.make_figures")

# (name in the index, function): each returns the figures it made or raises Skip.
FIGURES = [
    ("human-study verdicts", verdict_bars),
    ("subset means", subset_means_table),
    ("per-generator means", generator_table),
    ("agreement forest plot", agreement_forest),
    ("significance matrix", significance_matrix),
    ("metric vs human scatter", metric_vs_human),
]


def make_figures(results: Path | Results, out: Path) -> tuple[list[Made], list[tuple[str, str]]]:
    """Draw every figure; returns what was made and (figure, reason) for what was not."""
    source = results if isinstance(results, Results) else Results(results)
    made: list[Made] = []
    skipped: list[tuple[str, str]] = []
    for name, draw in FIGURES:
        try:
            made += draw(source, out)
        except Skip as exc:
            log.info("skipping the %s: %s", name, exc)
            skipped.append((name, str(exc)))
    return made, skipped


def index_text(command: str, results: Path, made: list[Made], skipped: list[tuple[str, str]],
               run: dict) -> str:
    """The figure index, README.md, written from what was drawn."""
    lines = ["# Figures", "",
             f"Drawn by `{command}` from the saved results in `{results}` (nothing is "
             "rescored); run it again to redraw them. Each figure comes as PNG and PDF, with "
             "the numbers behind it as CSV.", ""]
    args = run.get("arguments") or {}
    if args:
        lines += [f"The results: `python -m experiments.run_correlation --benchmark "
                  f"{args.get('benchmark')} --metrics {args.get('metrics') or '(all)'} "
                  f"--bootstrap {args.get('bootstrap')} --seed {args.get('seed')}`.", ""]
    for name in sorted(run.get("benchmarks") or {}):
        mark = illustrative_mark(run, name)
        lines += [f"**{name}: {mark}.**"] if mark else []
    lines += [""] if lines[-1] else []
    for m in made:
        lines += [f"## {m.title}", "", " · ".join(f"[`{f}`]({f})" for f in m.files), "", m.what, ""]
    if skipped:
        lines += ["## Not drawn", ""]
        lines += [f"- {name}: {reason}" for name, reason in skipped]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.make_figures",
                                description="Figures from saved results (no rescoring).")
    p.add_argument("--results", default="results", help="a run_correlation output folder")
    p.add_argument("--out", default="figures", help="where the figures go (default figures)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    results, out = Path(args.results), Path(args.out)
    try:
        source = Results(results)
    except ResultsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    made, skipped = make_figures(source, out)
    command = f"python -m experiments.make_figures --results {args.results} --out {args.out}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "README.md").write_text(index_text(command, results, made, skipped,
                                              source.run_record()))
    print(f"{len(made)} figures in {out}/ (index: {out / 'README.md'})"
          + (f"; {len(skipped)} not drawn, see the index" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
