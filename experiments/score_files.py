"""Score plain files, no benchmark and no people: `metaeval score`.

    python -m experiments.score_files --metric cider,bleu4 --candidates cands.txt \\
        --references refs.txt --references refs2.txt [--images list.txt] [--out scores.csv]
    python -m experiments.score_files --metric bleu4 --input pairs.jsonl

Line-aligned text files, as bert-score's command line reads them: line i of
--candidates is candidate i, line i of each --references file is one of its
references, line i of --images the path of its image (relative paths from the
list's folder). Or one JSON Lines file, one candidate per line:
{"candidate": "...", "references": ["...", ...], "image": "img/1.jpg"}.

An empty candidate line keeps its place and goes to the metric, which gives it
NaN with its reason ("empty candidate"), reported on stderr with the line; an
empty line in a --references file (an empty reference text in JSON Lines)
means no reference from there; a candidate left with no reference at all is
an error for a metric that needs references. Files with different numbers of
lines are an error naming each file and its count.

Writes one CSV (line, metric, score; line is the input file's line number;
`nan` where a metric could not score a line, the reason on stderr) to --out or
the standard output, then for each metric its mean, its corpus score where it
has one (BLEU's and CIDEr's as pycocoevalcap gives them) and its signature,
every setting behind the numbers (as sacrebleu prints its signature).
"""
from __future__ import annotations

import argparse
import csv
import io
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from metrics import (InputError, MetricError, Sample, ScoreCache, check_images_exist,
                     list_metrics, metric_class, needs_image_before_build, score_with_cache)

from .benchmarks.base import DataError
from .benchmarks.files import (as_list, as_optional_text, as_text, field, jsonl_rows,
                               read_text, text_lines)
from .cli import add_common_arguments, command_name, package_version, quiet_stderr, setup_logging
from .pipeline.metric_options import UsageError, parse_metric_options
from .pipeline.plugins import PluginError, load_plugins
from .pipeline.results_folder import write_text_atomically

log = logging.getLogger("experiments.score_files")


@dataclass
class Inputs:
    """What to score: one entry per candidate, with the input line it came from."""

    lines: list[int]
    candidates: list[str]
    references: list[list[str]]
    images: list[str | None]


def file_lines(path: Path) -> list[str]:
    """The lines of a text file; a final line break ends the last line, it does not
    start an empty one."""
    lines = text_lines(read_text(path))
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_line_files(candidates: Path, references: list[Path], images: Path | None) -> Inputs:
    cands = file_lines(candidates)
    refs = [file_lines(path) for path in references]
    image_lines = file_lines(images) if images is not None else None
    counts = [(candidates, len(cands))] + [(p, len(r)) for p, r in zip(references, refs)]
    if image_lines is not None:
        counts.append((images, len(image_lines)))
    if len({n for _, n in counts}) > 1:
        raise DataError("the files are not line-aligned: "
                        + ", ".join(f"{path} has {n} lines" for path, n in counts))
    per_candidate = [[r[i] for r in refs if r[i].strip()] for i in range(len(cands))]
    paths: list[str | None] = [None] * len(cands)
    if image_lines is not None:
        for i, line in enumerate(image_lines):
            if not line.strip():
                raise DataError(f"{images}:{i + 1}: empty line (every candidate needs its image)")
            path = Path(line.strip())
            paths[i] = str(path if path.is_absolute() else images.parent / path)
    return Inputs(list(range(1, len(cands) + 1)), cands, per_candidate, paths)


def read_jsonl(path: Path) -> Inputs:
    inputs = Inputs([], [], [], [])
    for number, obj in jsonl_rows(path):
        where = f"{path}:{number}"
        inputs.lines.append(number)
        inputs.candidates.append(as_text(field(obj, "candidate", where), where, "candidate"))
        refs = as_list(obj.get("references", []), where, "references")
        inputs.references.append([as_text(r, where, "reference") for r in refs if
                                  not isinstance(r, str) or r.strip()])
        image = as_optional_text(obj.get("image"), where, "image")
        if image is not None and not Path(image).is_absolute():
            image = str(path.parent / image)
        inputs.images.append(image)
    return inputs


def samples(inputs: Inputs) -> list[Sample]:
    """The samples `metrics.score` would build from these lists (ids "0", "1", ...)."""
    return [Sample(str(i), cand, tuple(refs), image, {}) for i, (cand, refs, image)
            in enumerate(zip(inputs.candidates, inputs.references, inputs.images))]


def where_of(args, line: int) -> str:
    return f"{args.input or args.candidates}:{line}"


def check_needs(args, name: str, inputs: Inputs, options: dict) -> bool:
    """Refuse inputs metric `name` cannot score: a candidate without references for a
    reference metric; for a metric that scores against images, when that is known before it
    is built, `check_images_given`. Whether the images were checked."""
    cls = metric_class(name)
    if cls.needs_references:
        for line, refs in zip(inputs.lines, inputs.references):
            if not refs:
                raise DataError(f"{name} needs references; the candidate of {where_of(args, line)} "
                                "has none (its line is empty in every --references file)")
    if needs_image_before_build(name, options):
        check_images_given(args, name, inputs)
        return True
    return False


def check_images_given(args, name: str, inputs: Inputs) -> None:
    """An image named for every candidate, and at least one of them there."""
    for line, image in zip(inputs.lines, inputs.images):
        if image is None:
            raise DataError(f"{name} needs an image per candidate; {where_of(args, line)} "
                            "has none (give --images LIST.txt, or 'image' in the JSON Lines)")
    check_images_exist(name, samples(inputs), "check the paths your --images file or JSON "
                       "Lines give (relative ones are read from that file's folder)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=command_name("experiments.score_files"),
        description="Score line-aligned candidate and reference files (or one JSON Lines file) "
                    "with metrics; one CSV of per-line scores, then each metric's corpus score "
                    "and signature.")
    p.add_argument("--metric", "--metrics", dest="metrics", required=True,
                   help=f"comma-separated, of: {', '.join(list_metrics())}")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--candidates", type=Path, metavar="FILE",
                        help="one candidate per line")
    source.add_argument("--input", type=Path, metavar="FILE.jsonl",
                        help='JSON Lines: {"candidate": ..., "references": [...], "image": ...}')
    p.add_argument("--references", type=Path, action="append", default=[], metavar="FILE",
                   help="one reference per line, line i for candidate i; repeatable, one file "
                        "per reference set (an empty line: no reference from this file)")
    p.add_argument("--images", type=Path, default=None, metavar="FILE",
                   help="one image path per line (relative to this file's folder)")
    p.add_argument("--out", type=Path, default=None,
                   help="the CSV to write (default: the standard output)")
    p.add_argument("--metric-option", action="append", default=[], metavar="METRIC.KEY=VALUE",
                   help="an option for one metric's constructor, e.g. clipscore.model=ViT-B-16; "
                        "repeatable")
    p.add_argument("--plugin", action="append", default=[], metavar="MODULE",
                   help="import MODULE (a module name or a .py file) first; it registers its "
                        "metrics; repeatable")
    p.add_argument("--device", default="auto",
                   help="model metrics: auto (cuda, then mps, then cpu), cpu, cuda, mps")
    p.add_argument("--cache-dir", default=None,
                   help="score cache folder (default: $METAEVAL_CACHE_DIR or "
                        "~/.cache/socratis-metaeval)")
    p.add_argument("--no-cache", action="store_true", help="score everything anew, write no cache")
    add_common_arguments(p)
    return p


def write_csv(out: TextIO, lines: list[int], scores: dict[str, np.ndarray]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["line", "metric", "score"])
    for name, values in scores.items():
        for line, value in zip(lines, values):
            writer.writerow([line, name, repr(float(value))])


def summary(name: str, output, signature: str, cached: int) -> str:
    """One line per metric: mean, corpus score, signature (with the package's version).
    The cache keeps per-line scores only: with `cached` lines from it there is no corpus
    score, and the line says so."""
    finite = output.scores[np.isfinite(output.scores)]
    mean = f"{finite.mean():.6g}" if finite.size else "nan"
    if output.corpus_score is not None:
        corpus = f"corpus {output.corpus_score:.6g}"
    elif cached:
        corpus = (f"corpus score not recomputed ({cached} lines came from the cache; "
                  "--no-cache)")
    else:
        corpus = "no corpus score"
    return (f"{name}: mean {mean} over {finite.size} lines, {corpus} | signature: {signature}"
            f"|socratis-metaeval:{package_version()}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        load_plugins(args.plugin)
    except PluginError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    names = [m.strip() for m in args.metrics.split(",") if m.strip()]
    unknown = [m for m in names if m not in list_metrics()]
    if not names or unknown:
        parser.error(f"argument --metric: unknown metric(s) {', '.join(unknown) or '(none)'}; "
                     f"known metrics: {', '.join(list_metrics())}")
    if args.input and (args.references or args.images):
        parser.error("argument --input: the JSON Lines file holds the references and images; "
                     "give --references/--images only with --candidates")
    try:
        options = parse_metric_options(args.metric_option, names)
    except UsageError as exc:
        parser.error(f"argument --metric-option: {exc}")
    setup_logging(args)
    from .run_correlation import make_metric

    try:
        inputs = (read_jsonl(args.input) if args.input else
                  read_line_files(args.candidates, args.references, args.images))
        if not inputs.candidates:
            raise DataError(f"{args.input or args.candidates}: no candidates")
        checked = {name: check_needs(args, name, inputs, options.get(name, {}))
                   for name in names}  # before any metric is built
        cache = None if args.no_cache else ScoreCache(args.cache_dir)
        scores, lines, unscored = {}, [], []
        with quiet_stderr(args.quiet):  # the Java tokenizer's and METEOR's own lines
            for name in names:
                metric = make_metric(name, options.get(name, {}), args.device, None)
                if metric.needs_image and not checked[name]:
                    check_images_given(args, name, inputs)
                output, stats = score_with_cache(metric, samples(inputs), cache,
                                                 progress=not args.quiet, label=name)
                scores[name] = output.scores
                lines.append(summary(name, output, metric.signature(), stats.cached))
                unscored += [f"warning: {name}: {where_of(args, inputs.lines[int(i)])}: not "
                             f"scored ({reason}); its score is nan"
                             for i, reason in output.failures.items()]
    except (DataError, InputError, MetricError, ImportError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in unscored:
        print(warning, file=sys.stderr)
    text = io.StringIO()
    write_csv(text, inputs.lines, scores)
    if args.out is None:
        sys.stdout.write(text.getvalue())
    else:
        write_text_atomically(args.out, text.getvalue())
    if args.out is not None or not args.quiet:  # -q with the CSV on stdout: the CSV alone
        report = sys.stderr if args.out is None else sys.stdout
        for line in lines:
            print(line, file=report)
    if args.out is not None:
        print(f"{len(inputs.candidates)} lines x {len(names)} metrics written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
