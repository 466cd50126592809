"""A run's output folder: written atomically, owned by the run, read back checked.

Writing (`ResultsWriter`):
- every output goes to a temporary file in the same folder
  (`.NAME.RUNID.tmp`), flushed to disk, and its SHA-256 is noted;
- then the commit point: the new run record is written (temporary file,
  rename) as `.run.json.pending`; it lists every file with its size and hash;
- then each temporary file is renamed into place, files an earlier run of
  the package wrote and this one did not are removed, and the record is
  renamed to `run.json`, last.

Reading (`read_results`) goes by the record: `run.json`, or, if a run was
stopped between its commit point and its end, `.run.json.pending` with each
file taken from its temporary name while it is still there. Either way every
listed file must have the listed size and hash. So a run killed at any moment
leaves, for every reader, either the previous complete results or the new
complete results; the next run into the folder finishes or discards what was
left half-done.

A run owns its folder: an `--out` that holds anything a run of this package
did not write there is refused before any scoring.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

RECORD = "run.json"
PENDING = ".run.json.pending"
# run.json written before records listed their files: these names were the package's.
_LEGACY_OUTPUT = re.compile(r"^[^/]+\.csv$|^report\.md$")
_TEMPORARY = re.compile(r"^\.(.+)\.([0-9a-f]{16})\.tmp$")


class OutputFolderError(Exception):
    """--out cannot hold this run's results; the message says why."""


class OutputWriteError(Exception):
    """The machine refused to write this run's results (a full disk, --out removed or
    made read-only during the run); the message names the folder and the file."""


class ResultsError(Exception):
    """A results folder cannot be read back as one complete run; the message says why."""


def _temporary(name: str, run_id: str) -> str:
    return f".{name}.{run_id}.tmp"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not every platform opens folders
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomically(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` all at once: into a temporary file beside
    it, flushed to disk, then renamed over it. A killed writer leaves the
    old file (or none) and at most a `NAME.HEX.tmp`, never half a file."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # a full disk, Ctrl-C: no half-written temporary file stays
        _remove_quietly(tmp)
        raise
    _fsync_folder(path.parent)


def _remove_quietly(path: Path) -> None:
    """Remove `path` if it is there and can be removed (a folder gone read-only keeps it)."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def check_out_folder(path: str | os.PathLike, option: str = "--out") -> Path:
    """Create the folder if needed; a clear OutputFolderError when it is a file,
    lies under a file, or cannot be written."""
    folder = Path(path)
    for parent in [folder, *folder.parents]:
        if parent.exists() and not parent.is_dir():
            where = "is a file" if parent == folder else f"lies under {parent}, which is a file"
            raise OutputFolderError(f"{option} {folder} {where}, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFolderError(f"{option} {folder}: cannot create the folder "
                                f"({exc.strerror or exc})") from None
    probe = folder / f".write-test.{secrets.token_hex(8)}.tmp"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputFolderError(f"{option} {folder}: cannot write there "
                                f"({exc.strerror or exc})") from None
    return folder


def _load(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def _listed(record: dict | None) -> dict[str, dict]:
    files = (record or {}).get("files")
    return files if isinstance(files, dict) else {}


def settle(folder: Path) -> None:
    """Finish a run that passed its commit point, or discard one that did not."""
    folder = Path(folder)
    pending = _load(folder / PENDING) if (folder / PENDING).exists() else None
    if pending is not None and isinstance(pending.get("run_id"), str):
        _roll_forward(folder, pending, _owned(folder) - {RECORD})
        return
    (folder / PENDING).unlink(missing_ok=True)
    for entry in folder.iterdir():
        if _TEMPORARY.match(entry.name) and entry.is_file():
            entry.unlink()


def _roll_forward(folder: Path, record: dict, previous: set[str]) -> None:
    """Put a committed run's files in place, remove the earlier run's others, run.json last."""
    run_id = record["run_id"]
    for name in _listed(record):
        tmp = folder / _temporary(name, run_id)
        if tmp.exists():
            os.replace(tmp, folder / name)
    for name in previous - set(_listed(record)) - {RECORD}:
        if "/" not in name:
            (folder / name).unlink(missing_ok=True)
    for entry in folder.iterdir():
        if _TEMPORARY.match(entry.name) and entry.is_file():
            entry.unlink()
    _fsync_folder(folder)
    os.replace(folder / PENDING, folder / RECORD)
    _fsync_folder(folder)


def _owned(folder: Path) -> set[str]:
    """The names in `folder` that a run of this package wrote."""
    record = _load(folder / RECORD) if (folder / RECORD).exists() else None
    if record is None:
        return set()
    if "files" in record:
        return {RECORD, *_listed(record)}
    return {RECORD} | {e.name for e in folder.iterdir() if _LEGACY_OUTPUT.match(e.name)}


class ResultsWriter:
    """Writes one run's files into `folder` (see the module docstring)."""

    def __init__(self, folder: str | os.PathLike, option: str = "--out"):
        self.folder = check_out_folder(folder, option)
        settle(self.folder)
        owned = _owned(self.folder)
        foreign = sorted(e.name + ("/" if e.is_dir() else "") for e in self.folder.iterdir()
                         if e.name not in owned)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise OutputFolderError(
                f"{option} {self.folder} holds files this package did not write ({shown}); "
                "give a new or empty folder, or one an earlier run wrote")
        self.previous = owned - {RECORD}
        self.option = option
        self.run_id = secrets.token_hex(8)
        self.files: dict[str, dict] = {}

    @contextmanager
    def open(self, name: str) -> Iterator[io.TextIOBase]:
        """A text file to write NAME through; it takes its place only at `commit`."""
        if "/" in name or name in (RECORD, PENDING) or name.startswith("."):
            raise ValueError(f"not an output file name: {name!r}")
        tmp = self.folder / _temporary(name, self.run_id)
        try:
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
        except BaseException as exc:
            _remove_quietly(tmp)
            if not isinstance(exc, OSError):
                raise
            gone = "" if self.folder.is_dir() else " (the folder was removed during the run)"
            raise OutputWriteError(f"{self.option} {self.folder}: cannot write {name}: "
                                   f"{exc.strerror or exc}{gone}") from exc
        self.files[name] = {"bytes": tmp.stat().st_size, "sha256": _sha256(tmp)}

    def write_text(self, name: str, text: str) -> None:
        with self.open(name) as f:
            f.write(text)

    def commit(self, record: dict) -> None:
        """Write the run record (listing every file written) and put every file in place."""
        record = {**record, "run_id": self.run_id,
                  "files": {name: self.files[name] for name in sorted(self.files)}}
        _fsync_folder(self.folder)
        try:
            write_text_atomically(self.folder / PENDING,
                                  json.dumps(record, indent=2, sort_keys=True) + "\n")
        except OSError as exc:  # before the commit point: the previous results stand
            raise OutputWriteError(f"{self.option} {self.folder}: cannot write {RECORD}: "
                                   f"{exc.strerror or exc}") from exc
        _roll_forward(self.folder, record, self.previous)

    def abandon(self) -> None:
        """Remove this run's temporary files (the previous results stay as they were)."""
        for name in self.files:
            _remove_quietly(self.folder / _temporary(name, self.run_id))


@dataclass
class RunResults:
    """A complete run read back: its record and where each listed file is."""

    folder: Path
    record: dict
    paths: dict[str, Path]

    def path(self, name: str) -> Path | None:
        return self.paths.get(name)


def read_results(folder: str | os.PathLike) -> RunResults:
    """The run a results folder holds, every listed file checked against the record."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ResultsError(f"results folder not found: {folder}")
    pending = _load(folder / PENDING) if (folder / PENDING).exists() else None
    record = pending if pending is not None and isinstance(pending.get("run_id"), str) else None
    if record is None:
        if not (folder / RECORD).is_file():
            raise ResultsError(f"{folder} has no {RECORD}: not a folder run_correlation wrote "
                               "(or its run never finished)")
        record = _load(folder / RECORD)
        if record is None:
            raise ResultsError(f"{folder / RECORD} is not a readable run record")
        if "files" not in record:
            raise ResultsError(f"{folder / RECORD} lists no files (written by an older version); "
                               "run run_correlation again")
    paths: dict[str, Path] = {}
    for name, meta in _listed(record).items():
        path = folder / name
        if record is pending and (folder / _temporary(name, record["run_id"])).exists():
            path = folder / _temporary(name, record["run_id"])
        if not path.is_file():
            raise ResultsError(f"{folder / name} is listed in {RECORD} but missing")
        size, digest = path.stat().st_size, _sha256(path)
        if (size, digest) != (meta.get("bytes"), meta.get("sha256")):
            raise ResultsError(f"{folder / name} is not the file the run wrote ({size} bytes, "
                               f"{RECORD} says {meta.get('bytes')}; it was changed or cut "
                               "afterwards): run run_correlation again")
        paths[name] = path
    return RunResults(folder, record, paths)
