"""The files a run read, by SHA-256, and whether they are still those files.

Every reader in `files.py` (and the display-names reader) calls `note_input`
with the file it reads; a command that wants the list wraps its loading in
`recording_inputs()` and writes what it got to run.json as ``"inputs"``:
``{absolute path: {"bytes": N, "sha256": HEX}}``. Own ratings and preference
files, the data files of a benchmark, --metric-scores files, display-name
files: each is named there. (Images are not: the score cache keys each image
by its content already.)

A run's scores are joined to its samples by id, and ids may come from row
positions (an own file without an id column), so a file changed after the
run would silently pair scores with other rows. `plan_study` and
`make_figures` therefore compare the files with the record first
(`changed_inputs`) and refuse, naming the file.
"""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

_RECORDERS: list[dict[str, dict]] = []


def file_digest(path: Path) -> dict:
    """{"bytes": size, "sha256": hex digest} of a file's content."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
            size += len(block)
    return {"bytes": size, "sha256": h.hexdigest()}


def note_input(path: str | Path) -> None:
    """Note that the file at `path` is read, while a `recording_inputs` block is open."""
    if not _RECORDERS:
        return
    key = str(Path(path).resolve())
    if all(key in found for found in _RECORDERS):
        return
    try:
        digest = file_digest(Path(key))
    except OSError:
        return  # the reader itself says why the file cannot be read
    for found in _RECORDERS:
        found.setdefault(key, digest)


@contextmanager
def recording_inputs() -> Iterator[dict[str, dict]]:
    """Collect {absolute path: digest} of every file noted inside the block."""
    found: dict[str, dict] = {}
    _RECORDERS.append(found)
    try:
        yield found
    finally:
        _RECORDERS.remove(found)


def changed_inputs(recorded: dict, where: str, read_now: dict | None = None) -> list[str]:
    """Why the inputs a run recorded (run.json's "inputs") no longer hold, one line each.

    Without `read_now`: every recorded file that is still there must have its
    recorded content (one no longer there cannot be checked and is passed
    over). With `read_now` (the digests of the files just read again): each
    of those must be a file the run read, at its path or, moved, with the
    same content. `where` names the run's folder in the messages."""
    problems = []
    if read_now is None:
        for path, then in sorted(recorded.items()):
            if Path(path).is_file():
                now = file_digest(Path(path))
                if now["sha256"] != then.get("sha256"):
                    problems.append(_changed(path, where, now, then))
        return problems
    contents = {d.get("sha256") for d in recorded.values()}
    for path, now in sorted(read_now.items()):
        then = recorded.get(path)
        if then is not None and now["sha256"] != then.get("sha256"):
            problems.append(_changed(path, where, now, then))
        elif then is None and now["sha256"] not in contents:
            problems.append(f"{path}: not a file the run in {where} read (its run.json lists "
                            f"{len(recorded)} input files, none with this content): the run's "
                            "results do not describe it; run run_correlation on it")
    return problems


def _changed(path: str, where: str, now: dict, then: dict) -> str:
    return (f"{path}: changed since the run in {where} read it ({now['bytes']} bytes, SHA-256 "
            f"{now['sha256'][:12]}...; run.json records {then.get('bytes')} bytes, "
            f"{str(then.get('sha256'))[:12]}...): the run's results no longer describe it (scores "
            "are joined to rows by id); run run_correlation again")
