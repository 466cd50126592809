"""How many judgments to collect: power curves from a pilot (docs/power.md).

    python -m experiments.plan_study --results results/pascal --metrics cider,bleu4
    python -m experiments.plan_study --benchmark pascal50s --data-dir DATA \\
        --metrics cider,bleu4 --out plans/pascal
    python -m experiments.plan_study --benchmark socratis --data-dir DATA --verdicts
    python -m experiments.plan_study --results results/pascal --metrics cider --value 0.5

Reads the pilot's scores from a run_correlation results folder (scores.csv and
run.json; the judgments are loaded from the benchmark's files, which must be
the files the run read: run.json's SHA-256 of each) or scores the
metrics now (--benchmark, through the score cache), simulates studies of each
candidate size, writes OUT/power_curve.csv with its run.json (OUT defaults
to RESULTS-plan beside the results folder, or results/plan; a run's folder
belongs to that run), prints the smallest size that reaches the target power;
`python -m experiments.make_figures --results OUT` draws the curves.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .benchmarks import DATA_ENV, list_benchmarks, load_benchmark
from .benchmarks.base import DataError
from .benchmarks.inputs import file_digest, recording_inputs
from .cli import add_common_arguments, command_name, one_line_errors, setup_logging
from .pipeline.planning import (CURVE_FILE, PlanSettings, check_pilot_inputs, plan, read_pilot,
                                read_scores, write_curves)
from .pipeline.results_folder import OutputFolderError, ResultsWriter
from .interrupts import handles_interrupts, results_written

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=command_name("experiments.plan_study"),
                                description="Power curves and study sizes from a pilot.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--results", default=None, help="a run_correlation output folder (the pilot)")
    src.add_argument("--benchmark", default=None,
                     help=f"a benchmark to score now; one of {', '.join(list_benchmarks())}")
    p.add_argument("--data-dir", default=None,
                   help=f"benchmark data (default: the run's, else ${DATA_ENV})")
    p.add_argument("--image-root", default=None,
                   help="folder holding the benchmark's images (default: the run's, else the "
                        "benchmark's own)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--value", type=float, default=None,
                      help="compare one metric (--metrics A) with this fixed value, e.g. 0.5")
    what.add_argument("--verdicts", action="store_true",
                      help="Socratis: human- vs machine-preferred verdict counts (no metric)")
    p.add_argument("--metrics", default=None, help="A,B to compare (A alone with --value)")
    p.add_argument("--statistic", default=None,
                   help="the statistic to plan for (default: the benchmark's first)")
    p.add_argument("--subset", default=None, help="one subset, e.g. HC (default: every subset)")
    p.add_argument("--sizes", default=None,
                   help="candidate numbers of units, comma-separated (default: 20 sizes from a "
                        "tenth to five times the pilot)")
    p.add_argument("--simulations", type=int, default=500, help="simulated studies per size")
    p.add_argument("--permutations", type=int, default=1000,
                   help="permutation draws per simulated study (as the report)")
    p.add_argument("--bootstrap", type=int, default=1000,
                   help="bootstrap resamples per simulated study, with --value")
    p.add_argument("--ci-method", choices=["bca", "percentile"], default="bca",
                   help="bootstrap interval of each simulated study, with --value: bca or "
                        "percentile")
    p.add_argument("--alpha", type=float, default=0.05,
                   help="significance level each simulated study is tested at")
    p.add_argument("--power", type=float, default=0.8, help="target power")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of every simulated draw (the same seed gives the same curves)")
    p.add_argument("--out", default=None,
                   help="output folder (default: RESULTS-plan beside --results, else results/plan)")
    p.add_argument("--cache-dir", default=None,
                   help="score cache folder, with --benchmark (default: $METAEVAL_CACHE_DIR or "
                        "~/.cache/socratis-metaeval)")
    add_common_arguments(p)
    return p

def _settings(args) -> PlanSettings:
    metrics = [m.strip() for m in (args.metrics or "").split(",") if m.strip()]
    comparison = "verdicts" if args.verdicts else ("value" if args.value is not None else "metrics")
    if comparison == "metrics" and len(metrics) != 2:
        raise ValueError("--metrics needs two names, A,B (or one with --value)")
    if comparison == "value" and len(metrics) != 1:
        raise ValueError("--value compares one metric: --metrics A")
    sizes = parse_sizes(args.sizes) if args.sizes is not None else None
    return PlanSettings(comparison=comparison, metric_a=metrics[0] if metrics else None,
                        metric_b=metrics[1] if len(metrics) > 1 else None, value=args.value,
                        statistic=args.statistic, subset=args.subset, sizes=sizes,
                        simulations=args.simulations, permutations=args.permutations,
                        bootstrap=args.bootstrap, ci_method=args.ci_method, alpha=args.alpha,
                        power=args.power, seed=args.seed)

def parse_sizes(text: str) -> tuple[int, ...]:
    """--sizes: comma-separated whole numbers of units, written in digits (int() would
    also take `1_0` as 10); anything else is a ValueError naming what was found."""
    parts = [part.strip() for part in text.split(",")]
    for part in parts:
        if not re.fullmatch(r"[0-9]+", part):
            raise ValueError(f"--sizes: found {part!r} in {text!r}; expected comma-separated "
                             "whole numbers of units, e.g. 50,100,200")
    return tuple(int(part) for part in parts)

def _score_now(bench, names, args) -> dict:
    from metrics import ScoreCache, get_metric, score_with_cache

    cache = ScoreCache(args.cache_dir)
    out = {}
    for name in names:
        output, _ = score_with_cache(get_metric(name), bench.samples, cache,
                                     progress=not args.quiet, label=f"{bench.name}: {name}")
        out[name] = output.scores
    return out

def default_out(args) -> Path:
    """A folder of its own: RESULTS-plan beside a results folder, else results/plan."""
    if args.out:
        return Path(args.out)
    if args.results:
        results = Path(args.results).resolve()
        return results.parent / f"{results.name}-plan"
    return Path("results/plan")

@handles_interrupts("previous results kept", cached=("scores",))
@one_line_errors
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)
    try:
        settings = _settings(args)
        curves, benches = [], []
        if args.results:
            names, run_args, scores_file = read_pilot(Path(args.results))
            data_dir = args.data_dir or run_args.get("data_dir")
            image_root = args.image_root or run_args.get("image_root")
            with recording_inputs() as inputs:
                loaded = [load_benchmark(name, data_dir, image_root) for name in names]
            check_pilot_inputs(Path(args.results), inputs)
            inputs[str(scores_file.resolve())] = file_digest(scores_file)
            for bench in loaded:
                if settings.comparison == "verdicts" and bench.preferences is None:
                    continue
                scores = {} if settings.comparison == "verdicts" else read_scores(scores_file, bench)
                curves += plan(bench, scores, settings, progress=not args.quiet)
                benches.append(bench)
        else:
            with recording_inputs() as inputs:
                bench = load_benchmark(args.benchmark, args.data_dir, args.image_root)
            wanted = [m for m in (settings.metric_a, settings.metric_b) if m]
            curves = plan(bench, _score_now(bench, wanted, args), settings,
                          progress=not args.quiet)
            benches.append(bench)
        if not curves:
            raise DataError("nothing to plan for (no benchmark with human-study verdicts)")
        out = default_out(args)
        writer = ResultsWriter(out)
    except (DataError, ValueError, OutputFolderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        with writer.open(CURVE_FILE) as f:
            write_curves(f, curves)
        writer.commit({
            "command": "python -m experiments.plan_study " + " ".join(
                sys.argv[1:] if argv is None else argv),
            "plan": {k: (list(v) if isinstance(v, tuple) else v)
                     for k, v in vars(settings).items()},
            "pilot": str(args.results) if args.results else None,
            "inputs": inputs,
            "benchmarks": {b.name: {"samples": len(b.samples), "notes": b.notes,
                                    "illustrative": b.illustrative, "citation": b.citation}
                           for b in benches}})
    finally:
        writer.abandon()
    results_written(f"{out}/")
    for planned in curves:
        print(planned.answer())
    print(f"power curves written to {out / CURVE_FILE}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
