"""Run `run_correlation` and SIGKILL this process at a chosen point, for the
tests of atomic outputs: `python -m tests.helpers.kill_at POINT ARGS...`.

POINT is one of
- `scoring`: when the first metric starts scoring;
- `writing`: after two output files are written (into the run's folder beside --out);
- `committing`: after the new run is switched in for --out, before the previous run,
  now beside it, is removed;
- `never`: run to the end.
"""
from __future__ import annotations

import os
import signal
import sys
from contextlib import contextmanager

from experiments.pipeline import results_folder
from metrics.base import Metric


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str) -> None:
    if point == "scoring":
        def iter_score(self, samples, **kwargs):
            die()
            yield  # never reached: makes this a generator like the original
        Metric.iter_score = iter_score
    elif point == "writing":
        original = results_folder.ResultsWriter.open
        opened = []

        @contextmanager
        def open_then_die(self, name):
            if len(opened) == 2:
                die()
            opened.append(name)
            with original(self, name) as f:
                yield f
        results_folder.ResultsWriter.open = open_then_die
    elif point == "committing":
        exchange = results_folder.exchange

        def exchange_then_die(a, b):
            exchange(a, b)
            die()
        results_folder.exchange = exchange_then_die
    elif point != "never":
        raise SystemExit(f"unknown point {point!r}")


if __name__ == "__main__":
    arm(sys.argv[1])
    from experiments.run_correlation import main

    sys.exit(main(sys.argv[2:]))
