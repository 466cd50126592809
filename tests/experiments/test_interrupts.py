"""Ctrl-C (SIGINT) in any command: exit 130, one line on stderr, the previous results
as they were, no worker or Java process left. Each run is a subprocess stopped at a
point reached by counting events (tests/helpers/interrupt_at.py); the test sends
SIGINT to its process group, as a terminal's Ctrl-C does, or to it alone."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments.pipeline.results_folder import read_results

REPO = Path(__file__).resolve().parents[2]
RUN = ["--out", "{out}", "--quiet", "--bootstrap", "20", "--permutations", "20",
       "--seed", "1"]


def _started(point: str, module: str, args: list[str], tmp_path: Path) -> tuple:
    ready = tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": str(REPO), "INTERRUPT_READY": str(ready),
           "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.interrupt_at", point, module, *args],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, as a command in a terminal
        # Ctrl-C must reach it even when this test runs with SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 600  # a safety net; the test waits on the file
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"never reached {point} (exit {proc.returncode}): {err[-3000:]}")
        time.sleep(0.05)
    return proc, int(ready.read_text())


def _processes() -> dict[int, tuple[int, str, bytes]]:
    """pid -> (parent pid, state, start time) of every process, from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2:].split()
            table[int(entry)] = (int(fields[1]), fields[0].decode(), fields[19])
    return table


def _below(pid: int) -> dict[int, tuple[bytes, str]]:
    """The living processes below `pid`: (start time, command line)."""
    table = _processes()
    found, queue = {}, [pid]
    while queue:
        parent = queue.pop()
        for child, (ppid, state, start) in table.items():
            if ppid == parent and state != "Z":
                found[child] = (start, _cmdline(child))
                queue.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _interrupt(proc, group: bool) -> tuple[int, list[str], dict[int, tuple[bytes, str]]]:
    """SIGINT; (exit status, stderr lines, the processes below it at that moment)."""
    children = _below(proc.pid)
    if group:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err.splitlines(), children


def _left(children: dict[int, tuple[bytes, str]]) -> list[str]:
    """Those of `children` still running (the same pid and start time, not a zombie);
    each is killed, so that a failing test leaves nothing behind either."""
    table = _processes()
    left = {pid: command or str(pid) for pid, (start, command) in children.items()
            if pid in table and table[pid][2] == start and table[pid][1] != "Z"}
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return list(left.values())


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> Path:
    """A complete earlier run of the metric `probe` on the demo."""
    root = tmp_path_factory.mktemp("previous")
    out = root / "out"
    args = [a.replace("{out}", str(out)) for a in RUN] + ["--plugin", "tests.helpers.interrupt_at",
                                                           "--metrics", "probe", "--no-cache"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "tests.helpers.interrupt_at", "never",
                           "experiments.run_correlation", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    read_results(out)
    return out


def _run_args(out: Path, *extra: str) -> list[str]:
    return [a.replace("{out}", str(out)) for a in RUN] + list(extra)


@pytest.mark.parametrize("group", [True, False], ids=["ctrl-c", "parent-only"])
def test_interrupted_while_scoring(previous, tmp_path, group):
    out = tmp_path / "out"
    shutil.copytree(previous, out)
    before = _files(out)
    proc, _ = _started("scoring", "experiments.run_correlation",
                       _run_args(out, "--plugin", "tests.helpers.interrupt_at", "--metrics",
                                 "probe", "--cache-dir", str(tmp_path / "cache")), tmp_path)
    code, lines, children = _interrupt(proc, group)
    assert any("time.sleep(3600)" in command for _, command in children.values())
    assert (code, lines) == (130, ["interrupted; 4 scores cached; previous results kept"])
    assert _files(out) == before
    assert not _left(children)


def test_interrupted_while_meteor_runs_leaves_no_java(previous, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(previous, out)
    before = _files(out)
    proc, _ = _started("meteor", "experiments.run_correlation",
                       _run_args(out, "--metrics", "meteor", "--cache-dir",
                                 str(tmp_path / "cache")), tmp_path)
    code, lines, children = _interrupt(proc, group=True)
    assert any("meteor-1.5.jar" in command for _, command in children.values())
    assert (code, lines) == (130, ["interrupted; 0 scores cached; previous results kept"])
    assert _files(out) == before
    assert not _left(children)


@pytest.mark.parametrize("group", [True, False], ids=["ctrl-c", "parent-only"])
def test_interrupted_during_the_analysis(previous, tmp_path, group):
    out = tmp_path / "out"
    shutil.copytree(previous, out)
    before = _files(out)
    proc, waiting = _started("analysis", "experiments.run_correlation",
                             _run_args(out, "--plugin", "tests.helpers.interrupt_at",
                                       "--metrics", "probe", "--no-cache", "--workers", "2"),
                             tmp_path)
    assert waiting != proc.pid  # a worker process of the analysis is the one waiting
    code, lines, children = _interrupt(proc, group)
    assert waiting in children
    assert (code, lines) == (130, ["interrupted; 0 scores cached; previous results kept"])
    assert _files(out) == before
    assert not _left(children)


ENTRY_POINTS = [
    ("experiments.run_correlation", ["--no-cache"],
     "interrupted; 0 scores cached; previous results kept"),
    ("experiments.cli", ["run", "--no-cache"],
     "interrupted; 0 scores cached; previous results kept"),
    ("experiments.make_figures", ["--out", "figures"],
     "interrupted; the saved results and the previous figures are untouched"),
    ("experiments.human_study", ["export", "--out", "tasks.csv", "--key", "key.csv"],
     "interrupted; previous files kept"),
    ("experiments.generate_reasons", ["--generator", "g", "--model", "m"],
     "interrupted; 0 answers cached; previous output kept"),
    ("experiments.fetch_data", ["flickr8k", "--check"],
     "interrupted; files fetched so far kept, no partial file left"),
    ("experiments.plan_study", ["--benchmark", "demo"],
     "interrupted; 0 scores cached; previous results kept"),
    ("experiments.fleur_scores", ["--fleur", "f.txt", "--benchmark", "pascal50s", "--out", "o"],
     "interrupted; previous output kept"),
    ("experiments.speed", ["--only", "nothing"], "interrupted; no rows written"),
]


@pytest.mark.parametrize("module,args,line", ENTRY_POINTS, ids=[e[0] + " " + e[1][0]
                                                                for e in ENTRY_POINTS])
def test_every_entry_point_says_one_line(tmp_path, module, args, line):
    proc, _ = _started("parsed", module, args, tmp_path)
    code, lines, children = _interrupt(proc, group=True)
    assert (code, lines) == (130, [line])
    assert not _left(children)


@pytest.fixture
def ctrl_c_raises():
    """SIGINT handled as in a command started from a terminal (KeyboardInterrupt): the
    suite may run with it ignored, as a background job of a non-interactive shell (`make
    test &`) does, which Python then leaves ignored; put back afterwards."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_a_ctrl_c_while_results_are_committed_takes_effect_after_the_commit(capsys,
                                                                             ctrl_c_raises):
    from experiments.interrupts import deferred, handles_interrupts, results_written

    steps = []

    @handles_interrupts("previous results kept", cached=("scores",))
    def main(argv=None) -> int:
        with deferred():
            signal.raise_signal(signal.SIGINT)  # Ctrl-C in the middle of the commit
            steps.append("committed")
            results_written("out/")
        steps.append("after")
        return 0

    assert main() == 130
    assert steps == ["committed"]
    assert capsys.readouterr().err == \
        "interrupted; 0 scores cached; new results complete in out/\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
