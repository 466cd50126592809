"""Fetch the public benchmarks from their authors and verify every file.

    python -m experiments.fetch_data flickr8k-expert pascal50s --data-dir data/
    python -m experiments.fetch_data all --data-dir data/ --check
    python -m experiments.fetch_data all --data-dir data/ --mirror https://lab.example/metaeval
    python -m experiments.fetch_data flickr8k --data-dir data/ --from ~/Downloads/Flickr8k_text.zip

Each file lands where `--data-dir` expects it, only after its SHA-256 matches
the authors' release (experiments/benchmarks/sources.py). `--check` downloads
nothing and says which files are missing or differ; for a benchmark name it
checks only the files that benchmark reads. `--mirror URL` (or $METAEVAL_DATA_MIRROR)
fetches every file from a mirror that keeps the authors' file names in one folder;
`--from DIR_OR_ARCHIVE` takes them from files downloaded by hand. Exit status 1 when
a file is missing, differs, or could not be fetched.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .benchmarks import DATA_ENV, default_data_dir
from .benchmarks.download import (PROBLEMS, FetchError, FileStatus, WriteError, check, fetch,
                                  place, without_stand_ins)
from .benchmarks.sources import benchmark_files, families, family_names
from .cli import add_common_arguments, command_name, one_line_errors, setup_logging
from .pipeline.results_folder import OutputFolderError, check_out_folder

MIRROR_ENV = "METAEVAL_DATA_MIRROR"
from .interrupts import handles_interrupts


def build_parser() -> argparse.ArgumentParser:
    names = family_names()
    p = argparse.ArgumentParser(
        prog=command_name("experiments.fetch_data"),
        description="Download the public benchmark files from their authors' locations and "
                    "check each against the SHA-256 of the authors' release.")
    p.add_argument("names", nargs="+", metavar="NAME",
                   help=f"'all', or any of: {', '.join(sorted(names))}")
    p.add_argument("--data-dir", default=None,
                   help=f"the folder run_correlation's --data-dir reads (default ${DATA_ENV})")
    p.add_argument("--check", action="store_true",
                   help="verify the files already there (for a benchmark name, only those it "
                        "reads); download nothing")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--mirror", default=None, metavar="URL",
                       help="fetch from this mirror instead of the authors' locations: one "
                            "folder holding the authors' files under their own names (e.g. "
                            f"Flickr8k_text.zip, pascal_50s.json) (default: ${MIRROR_ENV})")
    where.add_argument("--from", dest="source", default=None, metavar="DIR_OR_ARCHIVE",
                       help="take the files from a folder, a zip/tar archive or one file you "
                            "downloaded by hand (found by the authors' file names, archives "
                            "inside opened); download nothing")
    p.add_argument("--no-verify", action="store_true",
                   help="keep a download whose SHA-256 differs (reported as unverified)")
    add_common_arguments(p)
    return p


def select(names: list[str]) -> list:
    """The files of the named families and benchmarks (a benchmark: only those it reads)."""
    known = family_names()
    if "all" in names:
        names = list(families())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"error: unknown name(s) {', '.join(unknown)}; known: all, "
                         f"{', '.join(sorted(known))}")
    chosen = {f.path: f for name in names for f in benchmark_files(name)}
    return list(chosen.values())


def describe(status: FileStatus) -> str:
    f = status.file
    line = f"{status.state:<10} {f.path}"
    if status.detail:
        line += f"  ({status.detail})"
    if status.state in ("missing", "differs", "failed") and f.source:
        line += f"\n           from {f.source}"
    return line


def data_folder(data_dir: str, fetching: bool) -> Path:
    """--data-dir as a folder: an OutputFolderError when it is a file (or lies under
    one), and, to fetch into it, when it cannot be created or written."""
    if fetching:
        return check_out_folder(data_dir, "--data-dir")
    folder = Path(data_dir)
    if folder.exists() and not folder.is_dir():
        raise OutputFolderError(f"--data-dir {folder} is a file, not a folder")
    return folder


@handles_interrupts("files fetched so far kept, no partial file left")
@one_line_errors
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args, default=logging.WARNING)
    data_dir = args.data_dir or default_data_dir()
    if not data_dir:
        print(f"error: give --data-dir (or set ${DATA_ENV})", file=sys.stderr)
        return 2
    files = select(args.names)
    folder = data_folder(data_dir, fetching=not args.check)
    mirror = args.mirror or os.environ.get(MIRROR_ENV) or None
    try:
        if args.check:
            statuses = check(files, folder)
        elif args.source is not None:
            statuses = place(files, folder, Path(args.source), verify=not args.no_verify)
        else:
            statuses = fetch(files, folder, verify=not args.no_verify,
                             progress=not args.quiet, mirror=mirror)
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WriteError as exc:
        print(f"error: --data-dir {folder}: {exc}; the files fetched before it are kept",
              file=sys.stderr)
        return 1
    if args.check and not set(args.names) & ({"all"} | set(families())):
        statuses = without_stand_ins(statuses)  # what the named benchmarks need
    for status in statuses:
        print(describe(status))
    problems = [s for s in statuses if s.state in PROBLEMS]
    counts = {}
    for s in statuses:
        counts[s.state] = counts.get(s.state, 0) + 1
    print(", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    if problems and args.check:
        print(f"run `python -m experiments.fetch_data {' '.join(args.names)} --data-dir "
              f"{data_dir}` to fetch what is missing or differs", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
