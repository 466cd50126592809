"""The switch to a new run is one step, and one run at a time writes a folder.

A writer killed (SIGKILL) before any one of its changes to the file system
leaves at --out the previous complete run or the new complete run, as plain
files (a user opens --out/scores.csv directly), and the next run starts from
it. A second run into a folder that a run is writing stops at once, naming it.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.pipeline.results_folder import ResultsWriter, read_results
from tests.helpers.folder_writer import run_forked

REPO = Path(__file__).resolve().parents[2]
PREVIOUS = {"scores.csv": "previous\n", "dropped.csv": "only the previous run wrote this\n"}
NEW = {"scores.csv": "new\n", "report.md": "# new\n"}


def write(mode: str, folder: Path, files: dict[str, str]) -> tuple[int, str]:
    """(exit status, -SIGKILL when killed; what it printed) of a writer in a child process."""
    return run_forked(mode, folder, files)


def plain_files(folder: Path) -> dict[str, bytes]:
    """Every file in `folder` (all plain files), but for check_out_folder's empty probe
    of a writer killed before it removed it (the next run removes it)."""
    entries = [e for e in folder.iterdir() if not e.name.startswith(".write-test.")]
    assert all(e.is_file() and not e.is_symlink() for e in entries)
    return {e.name: e.read_bytes() for e in entries}


def state(folder: Path, previous: dict[str, bytes]) -> str:
    """'previous' or 'new' (what a user and a reader find at `folder`), or 'absent'."""
    if not folder.exists():
        return "absent"
    found = plain_files(folder)
    if found == previous:
        return "previous"
    assert sorted(found) == sorted([*NEW, "run.json"]), sorted(found)
    assert {n: found[n].decode() for n in NEW} == NEW
    assert sorted(read_results(folder).paths) == sorted(NEW)
    return "new"


@pytest.mark.parametrize("mode", ["kill", "kill-two-renames"])
def test_a_run_killed_before_any_step_leaves_one_complete_run(tmp_path, mode):
    base = tmp_path / "base" / "out"
    assert write("kill:0", base, PREVIOUS)[0] == 0
    previous = plain_files(base)
    dry = tmp_path / "dry" / "out"
    shutil.copytree(base, dry)
    code, printed = write(f"{mode}:0", dry, NEW)
    assert code == 0
    steps = int(printed)
    assert state(dry, previous) == "new"
    seen = []
    for k in range(1, steps + 1):
        out = tmp_path / str(k) / "out"
        shutil.copytree(base, out)
        assert write(f"{mode}:{k}", out, NEW)[0] == -signal.SIGKILL, k
        seen.append(state(out, previous))
        # The next run into the folder finishes or undoes the switch first ...
        writer = ResultsWriter(out)
        after = state(out, previous)
        assert after == {"absent": "new"}.get(seen[-1], seen[-1]), (k, seen[-1], after)
        # ... leaving nothing beside the folder or in it but the run, then writes as usual.
        assert sorted(p.name for p in out.parent.iterdir()) == [".out.lock", "out"], k  # held
        assert not any(p.name.startswith(".") for p in out.iterdir()), k
        for name, text in PREVIOUS.items():
            writer.write_text(name, text)
        writer.commit({})
        assert [p.name for p in out.parent.iterdir()] == ["out"], k
        assert {n: b for n, b in plain_files(out).items() if n != "run.json"} == \
            {n: t.encode() for n, t in PREVIOUS.items()}
    # Killed early the previous run stands, killed late the new one; only the
    # two-rename fallback has one step between its renames with the folder absent.
    first_new = seen.index("new")
    assert set(seen[:first_new]) <= {"previous", "absent"} and seen[0] == "previous"
    assert set(seen[first_new:]) == {"new"}
    assert seen.count("absent") == (1 if mode == "kill-two-renames" else 0), seen


def test_a_second_run_into_the_same_folder_stops_at_once_naming_the_first(tmp_path, capsys):
    from experiments.run_correlation import main as run_correlation

    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    first = subprocess.Popen([sys.executable, "-m", "tests.helpers.folder_writer", "hold", str(out),
                              "scores.csv=first\n"], cwd=REPO, env=env, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert first.stdout.readline() == "written\n"
        code = run_correlation(["--out", str(out), "--metrics", "bleu1", "--no-cache", "--quiet",
                                "--bootstrap", "10", "--permutations", "10"])
        err = capsys.readouterr().err
        assert code == 2
        assert f"is being written by another run (pid {first.pid}, started " in err
        assert "folder_writer.py hold" in err and len(err.strip().splitlines()) == 1, err
        first.stdin.write("go\n")
        first.stdin.flush()
        assert first.stdout.readline() == "committed\n"
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
    # The first run's files were left alone and switched in.
    assert read_results(out).path("scores.csv").read_text() == "first\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no lock file, no staging
