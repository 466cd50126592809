"""Run an entry point and stop it at a chosen point until it is interrupted, for the
tests of Ctrl-C: `python -m tests.helpers.interrupt_at POINT MODULE ARGS...`.

At POINT the process (or the worker process that reached it) creates the file
$INTERRUPT_READY, naming its pid, and waits; the test then sends SIGINT. POINT is
one of
- `parsed`: right after the command line is parsed (any entry point);
- `scoring`: the metric `probe` (registered here, 4 samples a chunk) has
  committed its first chunk and is scoring the second, with a child process of
  its own that ignores SIGINT (as a tool's subprocess or a DataLoader worker may);
- `meteor`: METEOR's Java process has been started for the first chunk and is
  loading its tables (the interrupt comes before it has answered: a whole start
  costs about 10 s of CPU);
- `analysis`: a worker process of the analysis is computing an interval;
- `never`: run to the end (the metric `probe` scores everything).
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import signal
import subprocess
import sys
import time

import numpy as np

from metrics.base import Metric, MetricOutput
from metrics.registry import register_metric

_point = "never"
_helpers: list[subprocess.Popen] = []


def wait_here() -> None:
    """Say where we are (once per process) and wait for the interrupt."""
    ready = os.environ["INTERRUPT_READY"]
    with open(f"{ready}.{os.getpid()}", "w") as f:
        f.write(str(os.getpid()))
    os.replace(f"{ready}.{os.getpid()}", ready)
    time.sleep(3600)


class Probe(Metric):
    """A deterministic number per candidate; waits in its second chunk at `scoring`."""

    name = "probe"
    chunk_size = 4

    def __init__(self):
        self.chunks = 0

    def _score_chunk(self, samples):
        self.chunks += 1
        if _point == "scoring" and self.chunks == 2:
            _helpers.append(subprocess.Popen(
                [sys.executable, "-c", "import time; time.sleep(3600)"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)))
            wait_here()
        return MetricOutput(np.array([int(hashlib.md5(s.candidate.encode()).hexdigest()[:6], 16)
                                      / 1e7 for s in samples]))


if __name__ != "__main__":  # registered by the copy `__main__` imports and arms, once
    register_metric("probe", __name__, "Probe")


def interval_then_wait(task) -> None:
    """In place of the analysis' first-round task (module level: the pool pickles it)."""
    wait_here()


def arm(point: str) -> None:
    global _point
    _point = point
    if point == "parsed":
        original = argparse.ArgumentParser.parse_args

        def parse_then_wait(self, *args, **kwargs):
            parsed = original(self, *args, **kwargs)
            wait_here()
            return parsed
        argparse.ArgumentParser.parse_args = parse_then_wait
    elif point == "meteor":
        from metrics import ngram

        def start_then_wait(self, samples):
            ngram._meteor_scorer()
            wait_here()
        ngram.Meteor._score_chunk = start_then_wait
    elif point == "analysis":
        from experiments.pipeline import parallel

        parallel._first_round_task = interval_then_wait
    elif point not in ("never", "scoring"):
        raise SystemExit(f"unknown point {point!r}")


if __name__ == "__main__":
    helper = importlib.import_module("tests.helpers.interrupt_at")  # the registry's copy
    helper.arm(sys.argv[1])
    module = importlib.import_module(sys.argv[2])
    sys.exit(module.main(sys.argv[3:]))
