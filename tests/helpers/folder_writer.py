"""Write a run into a folder through ResultsWriter, for the tests of the switch and
the lock: `python -m tests.helpers.folder_writer MODE FOLDER NAME=TEXT ...`.

MODE is
- `kill:K`: SIGKILL this process just before its K-th change to the file system
  (mkdir, rename, replace, unlink, rmdir, fsync, or the folder exchange); `kill:0`
  never kills, and prints how many such changes the run made;
- `kill-two-renames:K`: the same where the file system cannot exchange two folders;
- `hold`: write the files, print `written`, wait for a line on stdin, then commit
  and print `committed`.

`run_forked` runs the same in a forked child of the test process.
"""
from __future__ import annotations

import os
import signal
import sys

from experiments.pipeline import results_folder
from experiments.pipeline.folder_switch import ExchangeUnsupported

CHANGES = ("mkdir", "rename", "replace", "unlink", "rmdir", "fsync")


def arm(k: int, exchange_works: bool) -> list[str]:
    made: list[str] = []

    def counted(name, call):
        def changing(*args, **kwargs):
            made.append(name)
            if len(made) == k:
                os.kill(os.getpid(), signal.SIGKILL)
            return call(*args, **kwargs)
        return changing

    for name in CHANGES:
        setattr(os, name, counted(name, getattr(os, name)))

    def no_exchange(a, b):
        raise ExchangeUnsupported(95, "not supported here")
    results_folder.exchange = counted("exchange", results_folder.exchange if exchange_works
                                      else no_exchange)
    return made


def main(mode: str, folder: str, files: list[str]) -> None:
    kind, _, k = mode.partition(":")
    made = arm(int(k), kind == "kill") if kind.startswith("kill") else []
    writer = results_folder.ResultsWriter(folder)
    try:
        for spec in files:
            name, _, text = spec.partition("=")
            writer.write_text(name, text)
        if kind == "hold":
            print("written", flush=True)
            sys.stdin.readline()
        writer.commit({"command": "python -m tests.helpers.folder_writer " + mode})
    finally:
        writer.abandon()
    print("committed" if kind == "hold" else len(made), flush=True)


def run_forked(mode: str, folder, files: dict[str, str]) -> tuple[int, str]:
    """`main` in a forked child (no interpreter to start): (the child's wait status as
    subprocess gives it, -SIGNAL when killed; what it printed)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the test
        code = 1
        try:
            os.close(read)
            os.dup2(write, 1)
            sys.stdout = os.fdopen(1, "w", closefd=False)
            main(mode, str(folder), [f"{n}={t}" for n, t in files.items()])
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as f:
        printed = f.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), printed


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
