"""Fetch the public benchmarks from their authors and verify every file.

    python -m experiments.fetch_data flickr8k-expert pascal50s --data-dir data/
    python -m experiments.fetch_data all --data-dir data/ --check

Each file lands where `--data-dir` expects it, only after its SHA-256 matches
the authors' release (experiments/benchmarks/sources.py). `--check` downloads
nothing and says which files are missing or differ. Exit status 1 when a file
is missing, differs, or could not be fetched.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .benchmarks import DATA_ENV, default_data_dir
from .benchmarks.download import PROBLEMS, FileStatus, check, fetch
from .benchmarks.sources import families, family_names
from .cli import add_common_arguments, setup_logging
from .interrupts import handles_interrupts


def build_parser() -> argparse.ArgumentParser:
    names = family_names()
    p = argparse.ArgumentParser(
        prog="python -m experiments.fetch_data",
        description="Download the public benchmark files from their authors' locations and "
                    "check each against the SHA-256 of the authors' release.")
    p.add_argument("names", nargs="+", metavar="NAME",
                   help=f"'all', or any of: {', '.join(sorted(names))}")
    p.add_argument("--data-dir", default=None,
                   help=f"the folder run_correlation's --data-dir reads (default ${DATA_ENV})")
    p.add_argument("--check", action="store_true",
                   help="verify the files already there; download nothing")
    p.add_argument("--no-verify", action="store_true",
                   help="keep a download whose SHA-256 differs (reported as unverified)")
    add_common_arguments(p)
    return p


def select(names: list[str]) -> list:
    known = family_names()
    if "all" in names:
        chosen = list(families())
    else:
        unknown = [n for n in names if n not in known]
        if unknown:
            raise SystemExit(f"error: unknown name(s) {', '.join(unknown)}; known: all, "
                             f"{', '.join(sorted(known))}")
        chosen = list(dict.fromkeys(known[n] for n in names))
    return [f for name in chosen for f in families()[name].files]


def describe(status: FileStatus) -> str:
    f = status.file
    line = f"{status.state:<10} {f.path}"
    if status.detail:
        line += f"  ({status.detail})"
    if status.state in ("missing", "differs", "failed") and f.source:
        line += f"\n           from {f.source}"
    return line


@handles_interrupts("files fetched so far kept, no partial file left")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args, default=logging.WARNING)
    data_dir = args.data_dir or default_data_dir()
    if not data_dir:
        print(f"error: give --data-dir (or set ${DATA_ENV})", file=sys.stderr)
        return 2
    files = select(args.names)
    if args.check:
        statuses = check(files, Path(data_dir))
    else:
        statuses = fetch(files, Path(data_dir), verify=not args.no_verify,
                         progress=not args.quiet)
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
