"""A run killed (SIGKILL) at any point leaves, in --out, either the previous
complete results or the new complete results, as read back through run.json."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.pipeline.results_folder import read_results

REPO = Path(__file__).resolve().parents[2]
BASE = ["--out", "{out}", "--no-cache", "--quiet", "--bootstrap", "20", "--permutations", "20"]
PREVIOUS = ["--metrics", "bleu1,rouge_l", "--seed", "1"]
NEW = ["--metrics", "bleu2", "--seed", "2"]


def run(point: str, out: Path, args: list[str]) -> int:
    argv = [a.replace("{out}", str(out)) for a in BASE] + args
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "tests.helpers.kill_at", point, *argv],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    return done.returncode


def run_here(out: Path, args: list[str]) -> int:
    """The same run to its end in this process (a subprocess only where it is killed)."""
    from experiments.run_correlation import main

    return main([a.replace("{out}", str(out)) for a in BASE] + args)


def contents(folder: Path) -> dict[str, bytes]:
    """What a reader gets: every file run.json lists, by name (report.md and run.json
    hold timings and ids, so they are compared by the files they list)."""
    results = read_results(folder)
    return {name: path.read_bytes() for name, path in results.paths.items()
            if name != "report.md"}


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    for name, args in (("previous", PREVIOUS), ("new", NEW)):
        assert run_here(root / name, args) == 0
    return root


@pytest.mark.parametrize("point,expected", [("scoring", "previous"), ("writing", "previous"),
                                            ("committing", "new"), ("never", "new")])
def test_a_killed_run_leaves_the_previous_or_the_new_results(references, tmp_path, point,
                                                             expected):
    out = tmp_path / "out"
    shutil.copytree(references / "previous", out)
    code = run(point, out, NEW)
    assert code == (0 if point == "never" else -signal.SIGKILL)
    assert contents(out) == contents(references / expected)
    # The next run into the folder starts from it without complaint.
    assert run_here(out, PREVIOUS) == 0
    assert contents(out) == contents(references / "previous")
