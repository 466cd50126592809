"""The main job: score benchmarks with metrics and compare with people.

    python -m experiments.run_correlation --benchmark flickr8k-expert \\
        --metrics bleu4,cider --data-dir ../shared/data --out results/

With no arguments it runs the bundled demo with every metric that can run
offline and says why it skipped the others. Writes OUT/scores.csv,
OUT/failures.csv, OUT/correlations.csv, OUT/comparisons.csv, OUT/report.md and
OUT/run.json (and OUT/rankings.csv where the judgments name systems,
OUT/published.csv with --published).
"""
from __future__ import annotations

import argparse
import inspect
import logging
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from metrics import (InputError, LocalExecutor, Metric, MetricError, RayExecutor, ScoreCache,
                     check_cache_folder, check_images_exist, default_cache_dir, get_metric,
                     list_metrics, metric_class, metric_source, needs_image_before_build,
                     score_with_cache)
from metrics.models import check_device_name

from .pipeline.parallel import (Background, analyse, analysis_steps, analysis_work,
                                default_workers)
from .pipeline.agreement import (HUMAN_CEILING, ComparisonRow, PairProbabilities, ResultRow,
                       annotate_clusters, human_ceilings, views)
from .benchmarks.base import Benchmark, DataError
from .benchmarks import DATA_ENV, list_benchmarks, load_benchmark
from .benchmarks.inputs import note_input, recording_inputs
from .pipeline.external_scores import ExternalScores
from .pipeline.finite import finite_or_nan
from .pipeline.newer_methods import battle_rankings
from .pipeline.published import published_for
from .pipeline.metric_options import UsageError, parse_metric_options
from .pipeline.results_folder import OutputFolderError, ResultsWriter
from .pipeline.settings import AnalysisSettings
from .benchmarks.user_files import comma_in_path, parse_protocol
from .cli import add_common_arguments, command_name, one_line_errors, quiet_stderr, setup_logging
from .plots.names import DisplayNames, add_display_name_arguments, parse_display_names
from .pipeline.plugins import PluginError, format_inventory, inventory, load_plugins
from .interrupts import deferred, handles_interrupts, results_written

log = logging.getLogger("experiments.run_correlation")
PAIRWISE_METRIC = "vlm_judge_pairwise"
# metric names the outputs give a meaning of their own: no metric or scores file may take them
RESERVED_NAMES = {HUMAN_CEILING: "the human ceiling's rows",
                  PAIRWISE_METRIC: "the pairwise judge (--pairwise-judge)"}


@dataclass
class MetricRun:
    """One metric on one benchmark: its scores, or why it was skipped."""

    benchmark: str
    metric: str
    signature: str = ""
    scores: np.ndarray | None = None
    failures: dict[str, str] = field(default_factory=dict)
    skipped: str | None = None
    cached: int = 0
    computed: int = 0
    seconds: float = 0.0
    pairs: PairProbabilities | None = None  # a pairwise judge's P(B better) per pair
    note: str = ""
    device: str | None = None  # where a model metric ran ("auto" resolved)
    provenance: dict | None = None  # the judge's: settings, software, server reports
    drift: dict | None = None  # the judge's drift check (--judge-drift)

    @property
    def result(self) -> np.ndarray | PairProbabilities | None:
        return self.scores if self.scores is not None else self.pairs


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=command_name("experiments.run_correlation"),
        description="Score benchmarks with metrics and measure agreement with human judgments.")
    p.add_argument("--benchmark", default="demo",
                   help=f"comma-separated; each one of: {', '.join(list_benchmarks())}, or "
                        "NAME=FILE for your own ratings or preferences file (.csv or .jsonl; "
                        "see the README) (default: demo)")
    p.add_argument("--protocol", action="append", default=[], metavar="NAME=STAT@LEVEL[,...]",
                   help="for benchmark NAME (built-in or your own file): the statistics to "
                        "report in place of its standard ones, e.g. thumb=kendall_c@item or "
                        "mine=pearson@flat,kendall_b@system; repeatable")
    p.add_argument("--metrics", default=None,
                   help=f"comma-separated, of: {', '.join(list_metrics())} (default: every "
                        "registered metric; those that cannot run here are skipped with the "
                        "reason)")
    p.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                   help="import MODULE (a module name, the current folder on the path, or a "
                        "path to a .py file) first; it registers its metrics and benchmarks; "
                        "repeatable")
    p.add_argument("--list", action="store_true",
                   help="print every metric and benchmark, its source and whether it can run "
                        "here, and exit")
    p.add_argument("--metric-scores", action="append", default=[], metavar="NAME=FILE.csv",
                   help="scores computed elsewhere (columns sample_id,score), joined on sample ids; "
                        "repeatable")
    p.add_argument("--pairwise-judge", action="store_true",
                   help="on pairwise benchmarks (socratis, pascal50s, demo) also ask vlm_judge in "
                        f"pairwise mode, both orders, reported as {PAIRWISE_METRIC}; its options "
                        "come from --metric-option vlm_judge.KEY=VALUE")
    p.add_argument("--metric-option", action="append", default=[], metavar="METRIC.KEY=VALUE",
                   help="an option for one metric's constructor, e.g. clipscore.model=ViT-B-16; "
                        "repeatable")
    p.add_argument("--data-dir", default=None,
                   help=f"folder with one subfolder per benchmark family (default: ${DATA_ENV})")
    p.add_argument("--image-root", default=None, help="folder holding the benchmark's images")
    p.add_argument("--out", default="results", help="output folder (default: results)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--confidence", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--ci-method", choices=["bca", "percentile"], default="bca",
                   help="bootstrap interval: bca (bias-corrected and accelerated, Efron 1987) "
                        "or percentile")
    p.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    p.add_argument("--permutations", type=int, default=1000,
                   help="permutation-test draws per pair of metrics (default 1000)")
    p.add_argument("--swap-unit", choices=["row", "item"], default=None,
                   help="what a permutation test swaps: item (whole images or pairs) or row "
                        "(default: item where rows share an item, row otherwise)")
    p.add_argument("--alpha", type=float, default=0.05,
                   help="significance level of the clusters (default 0.05)")
    p.add_argument("--device", default="auto",
                   help="model metrics: auto (default: cuda, then mps, then cpu), cpu, cuda, mps")
    p.add_argument("--batch-size", type=int, default=None, help="batch size for model metrics")
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="where model metrics score their chunks: here (default) or on Ray "
                        "workers, streamed back into this machine's cache")
    p.add_argument("--ray-address", default=None,
                   help="Ray cluster address (default: start Ray on this machine)")
    p.add_argument("--ray-workers", type=int, default=2,
                   help="Ray actors per metric, each with one copy of the model (default 2)")
    p.add_argument("--ray-gpus-per-worker", type=float, default=0.0,
                   help="GPU share of each Ray actor, e.g. 1 or 0.5 (default 0)")
    p.add_argument("--workers", type=int, default=None,
                   help="processes for the intervals and tests (default: 1 for a small analysis, "
                        "else the cores the load average leaves free); the numbers do not "
                        "depend on it")
    p.add_argument("--judge-drift", type=int, default=0, metavar="N",
                   help="ask the judge again N randomly chosen (--seed) cached answers per "
                        "judge run and report how many changed (default 0: no check)")
    p.add_argument("--cache-dir", default=None,
                   help="score cache folder (default: $METAEVAL_CACHE_DIR or ~/.cache/socratis-metaeval)")
    p.add_argument("--no-cache", action="store_true", help="score everything anew, write no cache")
    p.add_argument("--published", action="store_true",
                   help="also show the published numbers of these benchmarks (paper and table "
                        "in experiments/benchmarks/published_results.csv) in report.md, "
                        "agreement.tex and OUT/published.csv, marked and never clustered")
    p.add_argument("--skip-unavailable", action="store_true",
                   help="a metric named in --metrics that cannot run here is skipped with the "
                        "reason instead of failing the run")
    add_display_name_arguments(p, "the LaTeX tables (OUT/*.tex)")
    add_common_arguments(p)
    return p


def make_metric(name: str, options: dict[str, Any], device: str,
                batch_size: int | None) -> Metric:
    """Build a metric, handing it --device/--batch-size where it takes them."""
    accepted = inspect.signature(metric_class(name)).parameters
    common: dict[str, Any] = {}
    if "device" in accepted and "device" not in options:
        common["device"] = device
    if batch_size is not None and "batch_size" in accepted and "batch_size" not in options:
        common["batch_size"] = batch_size
    try:
        return get_metric(name, **options, **common)
    except TypeError as exc:
        raise MetricError(f"{name}: bad option ({exc})") from None


# A metric that raises one of these is skipped with the reason; the run goes on.
CANNOT_RUN = (MetricError, ImportError, OSError)


class NotOnThisBenchmark(Exception):
    """A metric that cannot run on one benchmark: an image metric where the benchmark
    gives no image, or none of its images exists. Skipped with this reason unless the
    metric was named in --metrics (then the run stops, exit 2)."""


def check_images_for(metric: str, bench: Benchmark) -> None:
    """Raise NotOnThisBenchmark when `metric`, which scores against images, has none to
    read on `bench`."""
    if not any(s.image for s in bench.samples):
        raise NotOnThisBenchmark(
            f"{metric}: {bench.name} gives no image for any sample (a file of your "
            "own needs an `image` column); this metric scores a candidate against its image")
    try:
        check_images_exist(metric, bench.samples)
    except InputError as exc:
        raise NotOnThisBenchmark(str(exc)) from None


def skipped(run: MetricRun, exc: Exception) -> MetricRun:
    run.skipped = str(exc) or type(exc).__name__
    log.warning("skipping %s on %s: %s", run.metric, run.benchmark, run.skipped)
    return run


def executor_for(args) -> LocalExecutor | RayExecutor:
    if args.executor == "ray":
        return RayExecutor(address=args.ray_address, workers=args.ray_workers,
                           gpus_per_worker=args.ray_gpus_per_worker)
    return LocalExecutor()


def score_metric(bench: Benchmark, name: str, options: dict[str, Any], args,
                 cache: ScoreCache | None) -> MetricRun:
    run = MetricRun(bench.name, name)
    start = time.perf_counter()
    try:
        checked = bool(needs_image_before_build(name, options))
        if checked:  # before the metric is built: its model is not imported for nothing
            check_images_for(name, bench)
        metric = make_metric(name, options, args.device, args.batch_size)
        if metric.needs_image and not checked:
            check_images_for(metric.name, bench)
        run.signature = metric.signature()
        run.device = metric.resolved_device()
        output, stats = score_with_cache(metric, bench.samples, cache, progress=not args.quiet,
                                         executor=executor_for(args),
                                         label=f"{bench.name}: {name}")
    except CANNOT_RUN as exc:
        return skipped(run, exc)
    if hasattr(metric, "provenance_of"):
        try:
            judge_provenance(run, metric, metric.pointwise_requests(bench.samples)[0],
                             metric.template, args)
        except CANNOT_RUN as exc:
            return skipped(run, exc)
    ids = [s.id for s in bench.samples]
    run.scores, run.failures = finite_or_nan(output.scores, ids, output.failures)
    run.note = "; ".join(n for n in (extras_note(output.extras), cache_note(stats, cache)) if n)
    run.cached, run.computed = stats.cached, stats.computed
    run.seconds = time.perf_counter() - start
    if output.failures:
        log.warning("%s on %s: %d samples could not be scored (see failures.csv)",
                    name, bench.name, len(output.failures))
    return run


def judge_provenance(run: MetricRun, judge, requests, template, args) -> None:
    """The judge's provenance over the answers behind `requests`, and the drift check."""
    run.provenance = {**judge.provenance_of(requests),
                      "run_settings": judge.provenance_record(template)}
    if getattr(args, "judge_drift", 0) > 0:
        try:
            run.drift = judge.drift_check(requests, template, args.judge_drift, args.seed)
        except MetricError as exc:  # the scores stand; the check could not be made
            log.warning("%s on %s: drift check not made: %s", run.metric, run.benchmark, exc)
            run.drift = {"error": str(exc)}


def pairwise_run(bench: Benchmark, options: dict[str, Any], args,
                 cache: ScoreCache | None) -> MetricRun:
    """vlm_judge in pairwise mode on each distinct judged pair (both orders)."""
    run = MetricRun(bench.name, PAIRWISE_METRIC)
    start = time.perf_counter()
    prefs = bench.preferences
    samples = {s.id: s for s in bench.samples}
    pairs = list(dict.fromkeys(zip(prefs.pair_ids, prefs.sample_a, prefs.sample_b)))
    try:
        judge = make_metric("vlm_judge", options, args.device, args.batch_size)
        run.device = judge.resolved_device()
        if cache is not None:
            judge.attach_cache(cache)
        output = judge.compare([(pid, samples[a], samples[b]) for pid, a, b in pairs],
                               executor=executor_for(args))
        judge_provenance(run, judge, judge.pair_requests(
            [(pid, samples[a], samples[b]) for pid, a, b in pairs])[0], judge.pair_template, args)
    except CANNOT_RUN as exc:
        return skipped(run, exc)
    run.signature = output.signature
    ids = list(output.ids)
    probs, run.failures = finite_or_nan(output.prob_b_better, ids, output.failures)
    run.pairs = PairProbabilities(dict(zip(ids, map(float, probs))))
    run.seconds = time.perf_counter() - start
    run.note = (f"{len(pairs)} pairs judged in both orders (answers kept in the score cache); "
                f"position bias (mean P(slot B) - 0.5) "
                f"{output.position_bias():+.3f}")
    return run


def extras_note(extras: dict[str, np.ndarray]) -> str:
    """What a metric's per-sample extras say that a reader of the report should know."""
    parts = []
    counts = [("truncated", "candidates cut at the model's length limit (extra 'truncated')"),
              ("refs_truncated", "references cut at the model's length limit")]
    for name, what in counts:
        if name in extras:
            values = np.nan_to_num(np.asarray(extras[name], dtype=float))
            n = int(values.sum()) if name == "refs_truncated" else int((values > 0).sum())
            if n:
                parts.append(f"{n} {what}")
    if "used_probabilities" in extras:
        used = np.asarray(extras["used_probabilities"], dtype=float)
        parsed = int((used == 0).sum())
        if parsed:
            parts.append(f"{parsed} of {int(np.isfinite(used).sum())} scores are parsed ratings "
                         "(no token probabilities)")
    return "; ".join(parts)


def cache_note(stats, cache: ScoreCache | None) -> str:
    """What the report should say about the cache's part in a metric's scores."""
    parts = []
    if stats.damaged:
        parts.append(f"{stats.damaged} cached scores failed their checksum (set aside in the "
                     "cache) and were computed again")
    if stats.unchecked:
        parts.append(f"{stats.unchecked} cached scores of an older version (no checksum) were "
                     "computed again")
    if cache is not None and cache.read_only and stats.computed:
        parts.append(f"{stats.computed} new scores not cached (read-only cache {cache.path})")
    return "; ".join(parts)


def external_run(bench: Benchmark, external: ExternalScores) -> MetricRun:
    run = MetricRun(bench.name, external.name, signature=f"external:{external.path}")
    scores = external.align(bench)
    missing = {s.id: "no score in the external file" for s in bench.samples
               if s.id not in external.scores}
    where = {i: f"{external.path}:{line}" for i, line in external.lines.items()}
    run.scores, run.failures = finite_or_nan(scores, [s.id for s in bench.samples], missing, where)
    return run


def _plugins_first(argv: list[str] | None) -> list[str]:
    """The --plugin modules, read before the full parser so that --help lists their names."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--plugin", action="append", default=[])
    return pre.parse_known_args(argv)[0].plugin


def parse_protocols(items: list[str]) -> dict[str, list]:
    out = {}
    for item in items:
        name, sep, spec = item.partition("=")
        if not sep or not name.strip():
            raise DataError(f"--protocol {item!r}: expected NAME=STAT@LEVEL[,STAT@LEVEL...]")
        out[name.strip()] = parse_protocol(spec)
    return out


def _selection(parser: argparse.ArgumentParser, args
               ) -> tuple[list[str], list[str], list[tuple[str, Path]]]:
    """Benchmarks, metrics and (name, file) of external scores to run; usage errors exit 2
    naming the option."""
    if (problem := comma_in_path(args.benchmark, list_benchmarks())) is not None:
        parser.error(f"argument --benchmark: {problem}")
    benchmarks = [b.strip() for b in args.benchmark.split(",") if b.strip()]
    if not benchmarks:
        parser.error("argument --benchmark: no benchmark selected")
    labels = [b.partition("=")[0].strip() for b in benchmarks]  # NAME of NAME=FILE
    for k, label in enumerate(labels):
        if label in labels[:k]:
            parser.error(f"argument --benchmark: {label} is given twice; every benchmark "
                         "needs a name of its own (NAME=FILE for each of your files)")
    names = ([m.strip() for m in args.metrics.split(",") if m.strip()]
             if args.metrics is not None else None)
    pairs = [(item, *item.partition("=")) for item in args.metric_scores]
    for item, name, sep, path in pairs:
        if not sep or not name.strip() or not path.strip():
            parser.error(f"argument --metric-scores: {item!r}: expected NAME=FILE.csv")
    external_names = [name.strip() for _, name, _, _ in pairs]
    if names is None:
        names = [] if external_names else list_metrics()
    if not names and not external_names:
        parser.error("argument --metrics: no metric selected")
    unknown = [m for m in names if m not in list_metrics()]
    if unknown:
        parser.error(f"argument --metrics: unknown metric(s) {', '.join(unknown)}; known metrics: "
                     f"{', '.join(list_metrics())}")
    for name in [*names, *external_names]:
        if name in RESERVED_NAMES:
            option = "--metric-scores" if name in external_names else "--metrics"
            parser.error(f"argument {option}: the name {name} is reserved for "
                         f"{RESERVED_NAMES[name]}; give the scores another name")
    for k, name in enumerate(external_names):
        if name in names:
            parser.error(f"argument --metric-scores: {name} is also a computed metric; "
                         "give the file's scores another name")
        if name in external_names[:k]:
            parser.error(f"argument --metric-scores: {name} is given twice")
    return benchmarks, names, [(name.strip(), Path(path.strip())) for _, name, _, path in pairs]


@handles_interrupts("previous results kept", cached=("scores", "answers"))
@one_line_errors
def main(argv: list[str] | None = None) -> int:
    try:
        load_plugins(_plugins_first(argv))
    except PluginError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        print(format_inventory(inventory(args.data_dir)))
        return 0
    try:
        analysis = AnalysisSettings.from_args(args)
    except ValueError as exc:
        option, _, problem = str(exc).partition(" ")
        parser.error(f"argument {option}: {problem}")
    if args.judge_drift < 0:
        parser.error(f"argument --judge-drift: must be 0 or more, got {args.judge_drift}")
    if args.workers is not None and args.workers < 1:
        parser.error(f"argument --workers: must be at least 1, got {args.workers}")
    try:
        check_device_name(args.device)
    except MetricError as exc:
        parser.error(f"argument --device: {exc}")
    benchmarks, metric_names, external_files = _selection(parser, args)
    selected = metric_names + (["vlm_judge"] if args.pairwise_judge else [])
    try:
        if args.metrics is not None:
            for name in metric_names:  # a plugin the user named must load; unnamed ones are skipped
                if metric_source(name) != "built-in":
                    metric_class(name)
        options = parse_metric_options(args.metric_option, selected)
    except UsageError as exc:
        parser.error(f"argument --metric-option: {exc}")
    except MetricError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_logging(args)
    try:
        names = DisplayNames(parse_display_names(args.display_name, args.display_names))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.time()
    try:
        protocols = parse_protocols(args.protocol)
        unused = set(protocols) - {b.partition("=")[0].strip() for b in benchmarks}
        if unused:
            raise DataError(f"--protocol for {', '.join(sorted(unused))}: no such benchmark "
                            "in --benchmark")
        with recording_inputs() as inputs:  # run.json: the SHA-256 of every file read
            loaded = [load_benchmark(name, args.data_dir, args.image_root,
                                     protocol=protocols.get(name.partition("=")[0].strip()))
                      for name in benchmarks]
            externals = [ExternalScores.read(name, path) for name, path in external_files]
            for path in args.display_names:  # read above
                note_input(path)
        if not args.no_cache:
            check_cache_folder(args.cache_dir or default_cache_dir(),
                               "--cache-dir" if args.cache_dir else "the score cache folder")
        writer = ResultsWriter(args.out)
    except (DataError, OutputFolderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    command = "python -m experiments.run_correlation " + shlex.join(
        sys.argv[1:] if argv is None else argv)
    try:
        return _run(args, writer, loaded, metric_names, externals, options, analysis, started,
                    names, command.strip(), inputs=inputs)
    finally:
        writer.abandon()


def _tables_step(bench: Benchmark, scored: dict) -> bool:
    """Whether `bench` has tables of its own to write from per-sample scores."""
    return bench.tables is not None and any(isinstance(v, np.ndarray) for v in scored.values())


def _run(args, writer: ResultsWriter, loaded: list[Benchmark], metric_names: list[str],
         externals: list[ExternalScores], options: dict[str, dict[str, Any]],
         analysis: AnalysisSettings, started: float, names: DisplayNames, command: str,
         inputs: dict[str, dict] | None = None) -> int:
    cache = None if args.no_cache else ScoreCache(args.cache_dir)
    runs: list[MetricRun] = []
    rows: list[ResultRow] = []
    comparisons: list[ComparisonRow] = []
    tables: dict[tuple[str, str], list[dict]] = {}
    clusters: dict[str, list] = {}
    jobs: list[tuple[Benchmark, dict, list]] = []
    for bench in loaded:
        log.info("%s: %d samples", bench.name, len(bench.samples))
        with quiet_stderr(args.quiet):  # the Java tokenizer's and METEOR's own lines
            for name in metric_names:
                try:
                    runs.append(score_metric(bench, name, options.get(name, {}), args, cache))
                except NotOnThisBenchmark as exc:
                    if args.metrics is not None and not args.skip_unavailable:
                        print(f"error: {bench.name}: {exc}", file=sys.stderr)
                        return 2
                    runs.append(skipped(MetricRun(bench.name, name), exc))
                except InputError as exc:
                    print(f"error: {bench.name}: {exc}", file=sys.stderr)
                    return 2
        for external in externals:
            try:
                runs.append(external_run(bench, external))
            except DataError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
        if args.pairwise_judge and bench.preferences is not None:
            runs.append(pairwise_run(bench, options.get("vlm_judge", {}), args, cache))
        scored = {r.metric: r.result for r in runs
                  if r.benchmark == bench.name and r.result is not None}
        jobs.append((bench, scored, views(bench)))
    # every benchmark scored: their intervals and tests share the --workers processes
    from .pipeline.report import scores_text, write_outputs

    steps = analysis_steps(jobs) + sum(_tables_step(bench, scored) for bench, scored, _ in jobs)
    workers = args.workers or default_workers(analysis_work(jobs, analysis))
    # scores.csv is rendered beside the analysis when it runs on several processes
    with Background(scores_text, loaded, runs, fork=workers > 1) as rendering, \
            tqdm(total=steps, desc=f"{', '.join(b.name for b in loaded)}: intervals and tests",
                 unit="step",
                 disable=args.quiet or not steps, leave=False) as bar:
        analysed = analyse(jobs, analysis, workers, progress=bar.update)
        for (bench, scored, bench_views), (bench_rows, bench_comparisons, bench_newer) in zip(
                jobs, analysed):
            comparisons += bench_comparisons
            annotate_clusters(bench_rows, bench_views)
            rows += bench_rows + human_ceilings(bench) + bench_newer
            ranking_rows, ranking_table = battle_rankings(bench, scored, analysis)
            rows += ranking_rows
            if ranking_table:
                tables[bench.name, "rankings"] = ranking_table
            clusters[bench.name] = bench_views
            if _tables_step(bench, scored):
                per_sample = {m: v for m, v in scored.items() if isinstance(v, np.ndarray)}
                for table, table_rows in bench.tables(bench, per_sample, analysis).items():
                    tables[bench.name, table] = table_rows
                bar.update()
        scores_csv = rendering.get()
    with deferred():  # a Ctrl-C while the results are written takes effect once they are
        write_outputs(writer, args, loaded, runs, rows, started, comparisons=comparisons,
                      tables=tables, clusters=clusters, settings=analysis, names=names,
                      command=command, inputs=inputs,
                      published=published_for([b.name for b in loaded]) if args.published
                      else (), scores_csv=scores_csv)
        results_written(f"{writer.folder}/")
    named = args.metrics is not None and not args.skip_unavailable
    failed = [r for r in runs if r.skipped and named and r.metric in metric_names]
    for r in failed:
        print(f"error: {r.metric} could not run on {r.benchmark}: {r.skipped}", file=sys.stderr)
    if failed:
        print(f"error: {len(failed)} metric run(s) named in --metrics could not run; the rest is "
              f"in {writer.folder}/ (give --skip-unavailable to skip them)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
