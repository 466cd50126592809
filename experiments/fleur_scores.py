"""Bring FLEUR's published per-caption scores in as an external metric.

FLEUR (Lee et al. 2024, "FLEUR: An Explainable Reference-Free Evaluation
Metric for Image Captioning Using a Large Multimodal Model", ACL) released
its outputs as text blocks: `image file :`, `caption :`, `model score :` (the
raw rating) and `our score :` (the probability-smoothed score). This writes
them as `sample_id,score` for `run_correlation --metric-scores`:

    python -m experiments.fleur_scores --fleur fleur_flickr8k_expert.txt \\
        --benchmark flickr8k-expert --data-dir ../shared/data --out fleur.csv

Flickr8k blocks are matched to samples by (judged image, caption text);
PASCAL-50S blocks hold a pair each (`label :` and both captions) in the order
of pascal_50s.json, one file per category: each block's image and captions
must be those of the pair it is assigned to (an error names the block
otherwise), and the number of `label :` lines that differ from
pascal_50s.json's labels is reported (FLEUR's released files differ in 35
of 4,000; the scores are used, their labels are not).
"""
from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .benchmarks.base import Benchmark, DataError
from .benchmarks import DATA_ENV, default_data_dir, load_benchmark
from .benchmarks.captions import PascalPair, read_pascal50s
from .benchmarks.files import read_text, require_file, text_lines, text_number
from .cli import add_common_arguments, command_name, one_line_errors, setup_logging
from .pipeline.results_folder import OutputFolderError, write_text_atomically
from .interrupts import handles_interrupts

FIELDS = {"image file": "image", "caption": "caption", "model score": "model",
          "our score": "our", "label": "label"}


@dataclass
class FleurBlock:
    line: int
    image: str
    captions: list[tuple[str, dict[str, float]]]
    label: int | None = None


def parse_fleur(path: Path) -> list[FleurBlock]:
    """FLEUR's text layout: one block per image line, captions with their scores."""
    blocks: list[FleurBlock] = []
    for number, line in enumerate(text_lines(read_text(path)), start=1):
        if not line.strip() or line.startswith(("true count", "tie count")):
            continue
        key, sep, value = line.partition(" : ")
        field = FIELDS.get(key.strip())
        if not sep or field is None:
            raise DataError(f"{path}:{number}: expected 'image file :', 'caption :', "
                            f"'model score :', 'our score :' or 'label :', found {line[:60]!r}")
        if field == "image":
            blocks.append(FleurBlock(number, Path(value.strip()).name, []))
        elif not blocks:
            raise DataError(f"{path}:{number}: {key.strip()!r} before any 'image file :' line")
        elif field == "label":
            if value.strip() not in ("0", "1"):
                raise DataError(f"{path}:{number}: label {value.strip()!r} is not 0 or 1")
            blocks[-1].label = int(value)
        elif field == "caption":
            blocks[-1].captions.append((value.strip(), {}))
        elif field in ("model", "our"):
            if not blocks[-1].captions:
                raise DataError(f"{path}:{number}: a score before any caption")
            score = text_number(value)
            if score is None:
                raise DataError(f"{path}:{number}: score {value!r} is not a number")
            blocks[-1].captions[-1][1][field] = score
    return blocks


def _normalise(text: str) -> str:
    return " ".join(text.split())


def flickr8k_scores(blocks: list[FleurBlock], bench: Benchmark, field: str,
                    path: Path) -> dict[str, float]:
    from .benchmarks.flickr8k import judged_image

    by_key = {(judged_image(s.id), _normalise(s.candidate)): s.id for s in bench.samples}
    scores: dict[str, float] = {}
    for block in blocks:
        for caption, values in block.captions:
            key = (Path(block.image).stem, _normalise(caption))
            if key not in by_key:
                raise DataError(f"{path}:{block.line}: no {bench.name} sample for image "
                                f"{block.image} with caption {caption[:50]!r}")
            if field not in values:
                raise DataError(f"{path}:{block.line}: caption {caption[:50]!r} has no {field} score")
            scores[by_key[key]] = values[field]
    return scores


@dataclass
class PascalScores:
    scores: dict[str, float]
    labels_differ: int  # blocks whose `label :` is not pascal_50s.json's label
    labelled: int       # blocks with a `label :` line


def pascal_scores(blocks: list[FleurBlock], category: str, field: str, path: Path,
                  pairs: list[PascalPair]) -> PascalScores:
    """Block K scores pair K of `category`, once its image and captions are checked to be
    that pair's (`pairs`: the category in pascal_50s.json)."""
    if len(blocks) != len(pairs):
        raise DataError(f"{path}: {len(blocks)} blocks, but pascal_50s.json has {len(pairs)} "
                        f"{category} pairs")
    scores: dict[str, float] = {}
    differ = labelled = 0
    for k, (block, pair) in enumerate(zip(blocks, pairs)):
        if len(block.captions) != 2:
            raise DataError(f"{path}:{block.line}: a PASCAL-50S block holds 2 captions, "
                            f"found {len(block.captions)}")
        image = Path(pair.image).name if pair.image else None
        if image is not None and image != block.image:
            raise DataError(f"{path}:{block.line}: block {k} is for image {block.image}, but "
                            f"{category} pair {k} is for {image}")
        for side, expected, (caption, values) in zip("ab", pair.captions, block.captions):
            if _normalise(caption) != _normalise(expected):
                raise DataError(f"{path}:{block.line}: block {k}'s caption {side} "
                                f"{caption[:50]!r} is not {category} pair {k}'s {expected[:50]!r}")
            if field not in values:
                raise DataError(f"{path}:{block.line}: caption {caption[:50]!r} has no {field} score")
            scores[f"{category}/{k}/{side}"] = values[field]
        if block.label is not None:
            labelled += 1
            differ += block.label != pair.label
    return PascalScores(scores, differ, labelled)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=command_name("experiments.fleur_scores"),
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--fleur", required=True, nargs="+", help="FLEUR output file(s)")
    p.add_argument("--benchmark", required=True, choices=["flickr8k-expert", "flickr8k-cf",
                                                          "pascal50s"],
                   help="the benchmark the FLEUR file scored")
    p.add_argument("--data-dir", default=None,
                   help="folder holding flickr8k/ or pascal50s/ (default: $METAEVAL_DATA_DIR)")
    p.add_argument("--score", choices=["our", "model"], default="our",
                   help="'our' = FLEUR's smoothed score (default), 'model' = the raw rating")
    p.add_argument("--out", required=True,
                   help="the CSV to write (sample_id,score), for run_correlation --metric-scores")
    add_common_arguments(p)
    return p


@handles_interrupts("previous output kept")
@one_line_errors
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)
    for name in args.fleur:
        require_file(Path(name), "--fleur")
    if Path(args.out).is_dir():
        raise OutputFolderError(f"--out {args.out} is a folder: give the file to write "
                                "(e.g. fleur.csv)")
    scores: dict[str, float] = {}
    try:
        if args.benchmark == "pascal50s":
            data_dir = args.data_dir or default_data_dir()
            if not data_dir:
                raise DataError(f"pascal50s needs --data-dir (or ${DATA_ENV}) pointing at a "
                                "folder that holds pascal50s/pascal_50s.json")
            pascal = read_pascal50s(require_file(Path(data_dir) / "pascal50s" / "pascal_50s.json",
                                                 "pascal50s"))
        else:
            bench = load_benchmark(args.benchmark, args.data_dir)
        for name in args.fleur:
            path = Path(name)
            blocks = parse_fleur(path)
            if args.benchmark == "pascal50s":
                match = re.search(r"(HC|HI|HM|MM)", path.stem)
                if not match:
                    raise DataError(f"{path}: file name names no PASCAL-50S category")
                if match.group(1) not in pascal:
                    raise DataError(f"{path}: pascal_50s.json has no {match.group(1)} pairs")
                result = pascal_scores(blocks, match.group(1), args.score, path,
                                       pascal[match.group(1)])
                scores.update(result.scores)
                if not args.quiet:
                    print(f"{path.name}: {result.labels_differ} of {result.labelled} 'label :' "
                          f"lines differ from pascal_50s.json's labels (scores used, labels not)")
            else:
                scores.update(flickr8k_scores(blocks, bench, args.score, path))
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = io.StringIO()
    w = csv.writer(text)
    w.writerow(["sample_id", "score"])
    for sample_id, score in scores.items():
        w.writerow([sample_id, repr(score)])
    write_text_atomically(Path(args.out), text.getvalue())
    print(f"{len(scores)} FLEUR scores written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
