"""A run's output folder: switched to a new run in one step, owned by the run,
read back checked.

Writing (`ResultsWriter`):
- the folder is locked for the run (`folder_switch.FolderLock`): a second run
  into it stops at once, naming the first;
- every output is written into a fresh folder beside `--out`
  (`.NAME.RUNID.new`), then the run record `run.json`, which says this package
  wrote it and lists every file with its size and SHA-256, all flushed to disk;
- then the switch, one atomic step: the new folder and `--out` exchange places
  (`folder_switch.exchange`), and the previous run, now beside `--out`, is
  removed (only the files its record lists). Where the file system cannot
  exchange two folders, two renames, with `--out` briefly absent.

So a reader of `--out`, and a user opening `--out/correlations.csv`, finds the
previous complete run or the new complete run as plain files, whenever the
writer is killed; the next run into the folder removes what a killed run left
beside it. Folders an earlier version left half-committed
(`.run.json.pending`) are finished by `settle`.

Reading (`read_results`) goes by the record: every listed file must have the
listed size and hash.

A run owns its folder: an `--out` that holds a run.json this package did not
write, a file its run.json does not list, or a listed file changed since, is
refused before any scoring, and nothing in it is touched.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import secrets
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .folder_switch import ExchangeUnsupported, FolderBusy, FolderLock, exchange

log = logging.getLogger("experiments.results_folder")

RECORD = "run.json"
PENDING = ".run.json.pending"
PACKAGE = "socratis-metaeval"  # run.json's `written_by`
_TEMPORARY = re.compile(r"^\.(.+)\.([0-9a-f]{16})\.tmp$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RUN_ID = re.compile(r"^[0-9a-f]{16}$")


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
    """In a folder an earlier version left mid-commit (`.run.json.pending`,
    `.NAME.RUNID.tmp`), finish the run that passed its commit point or discard
    the one that did not; remove check_out_folder's probe a killed run left."""
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


def why_not_ours(record: object) -> str | None:
    """None when `record` is a run record this package wrote, else why not.

    Ours: a list of files, each a plain name with an integer size and a
    SHA-256, and `written_by` naming this package (records written before that
    field carry instead a 16-hex `run_id` and the command of one of the
    package's entry points)."""
    if not isinstance(record, dict):
        return "it is not a JSON object"
    files = record.get("files")
    if not isinstance(files, dict):
        return "it lists no files"
    for name, meta in files.items():
        if (not name or "/" in name or "\\" in name or name.startswith(".") or name == RECORD
                or not isinstance(meta, dict) or type(meta.get("bytes")) is not int
                or not _SHA256.match(str(meta.get("sha256")))):
            return f"its entry {name!r} is not a file name with a size and a SHA-256"
    if record.get("written_by") == PACKAGE:
        return None
    if (_RUN_ID.match(str(record.get("run_id")))
            and str(record.get("command", "")).startswith("python -m experiments.")):
        return None
    return f"it does not say {PACKAGE} wrote it"


def _owned(folder: Path) -> set[str]:
    """The names in `folder` that a run of this package wrote: run.json and the
    files it lists, when run.json is ours."""
    record = _load(folder / RECORD) if (folder / RECORD).is_file() else None
    if why_not_ours(record) is not None:
        return set()
    return {RECORD, *_listed(record)}


# What each kind of folder is called in a refusal, and where that output goes instead.
_KINDS = {"results": "results run_correlation or plan_study wrote",
          "figures": "figures make_figures drew"}


def check_owned(folder: Path, option: str = "--out", output: str = "results") -> None:
    """OutputFolderError unless every entry of `folder` is this package's `output`
    (results or figures) as its run.json lists it, unchanged since; an empty folder passes."""
    entries = sorted(folder.iterdir())
    if not entries:
        return
    record_path = folder / RECORD
    record = _load(record_path) if record_path.is_file() else None
    if record_path.exists():
        why = why_not_ours(record)
        if why is not None:
            raise OutputFolderError(
                f"{option} {folder} holds a {RECORD} this package did not write ({why}); "
                "nothing was changed: give a new or empty folder")
        kind = record.get("output", "results")
        if kind != output:
            raise OutputFolderError(
                f"{option} {folder} holds {_KINDS.get(kind, kind)}; {output} go to a folder of "
                f"their own (e.g. {folder}-{output})")
    listed = _listed(record)
    for name, meta in sorted(listed.items()):
        path = folder / name
        if path.is_file() and not path.is_symlink():
            size = path.stat().st_size
            if size != meta["bytes"] or _sha256(path) != meta["sha256"]:
                how = (f"{size} bytes, {RECORD} says {meta['bytes']}" if size != meta["bytes"]
                       else f"its SHA-256 is not the one {RECORD} records")
                raise OutputFolderError(
                    f"{option} {path} was changed after the run wrote it ({how}); nothing was "
                    "changed: move the file elsewhere, or give another folder")
    ours = {RECORD, *listed} if record_path.exists() else set()
    foreign = [e.name + ("/" if e.is_dir() else "") for e in entries
               if e.name not in ours or e.is_symlink() or not e.is_file()]
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more"
                                          if len(foreign) > 5 else "")
        raise OutputFolderError(
            f"{option} {folder} holds files this package did not write ({shown}); "
            "give a new or empty folder, or one an earlier run wrote")


def _sibling(target: Path, run_id: str, kind: str) -> Path:
    return target.parent / f".{target.name}.{run_id}.{kind}"


def _discard(folder: Path) -> None:
    """Remove a folder a run set beside `--out`: a staging folder (no record, or the
    record of a run that never switched in) or the previous run after the switch;
    only files its record lists, or, without a record, the staging folder's own files."""
    record = _load(folder / RECORD) if (folder / RECORD).is_file() else None
    if (folder / RECORD).exists() and why_not_ours(record) is not None:
        log.warning("left %s: its %s is not this package's", folder, RECORD)
        return
    names = ({RECORD, *_listed(record)} if record is not None
             else {e.name for e in folder.iterdir() if e.is_file() and not e.is_symlink()})
    names |= {e.name for e in folder.iterdir() if _TEMPORARY.match(e.name)}  # a probe, a .tmp
    for name in names:
        (folder / name).unlink(missing_ok=True)
    _fsync_folder(folder)
    try:
        folder.rmdir()
    except OSError:
        log.warning("left %s: it holds files this package did not write", folder)


def recover(target: Path) -> None:
    """Put right what a run killed during its switch left beside `target`: finish a
    two-rename switch that renamed the previous run away (`.RUNID.old` beside a
    complete `.RUNID.new`), and remove every other folder a run left there."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.([0-9a-f]{{16}})\.(new|old)$")
    left = {}
    for entry in target.parent.iterdir():
        found = pattern.match(entry.name)
        if found and entry.is_dir() and not entry.is_symlink():
            left[found.group(1), found.group(2)] = entry
    for (run_id, kind), old in sorted(left.items()):
        new = left.get((run_id, "new"))
        if kind == "old" and new is not None:
            if target.exists() and any(target.iterdir()):
                raise OutputFolderError(
                    f"{target}: a run killed while switching in left {new} (its results) and "
                    f"{old} (the previous ones), and {target} was filled since; keep the one "
                    "you want and remove the other two")
            if target.exists():
                target.rmdir()
            os.rename(new, target)
            _fsync_folder(target.parent)
            del left[run_id, "new"]
    for folder in left.values():
        if folder.exists():
            _discard(folder)


class ResultsWriter:
    """Writes one run's files for `folder` (see the module docstring). Holds the
    folder's lock from construction to `commit` or `abandon`."""

    output = "results"  # what run.json says the folder holds
    records_run_id = True

    def __init__(self, folder: str | os.PathLike, option: str = "--out"):
        self.folder = check_out_folder(folder, option)
        self.target = self.folder.resolve()
        if os.path.ismount(self.target):
            raise OutputFolderError(
                f"{option} {self.folder} is a mount point: a run is written beside the folder "
                f"and switched in at once; give a folder inside it "
                f"(e.g. {self.folder}/{self.output})")
        here = Path.cwd().resolve()
        if here == self.target or self.target in here.parents:
            raise OutputFolderError(
                f"{option} {self.folder} is or holds the current folder, which the switch to "
                "the new run would leave behind; run from outside it (e.g. cd ..)")
        try:
            self.lock = FolderLock(self.target)
        except FolderBusy as exc:
            raise OutputFolderError(f"{option} {exc}") from None
        except OSError as exc:
            raise OutputFolderError(f"{option} {self.folder}: cannot write beside it, in "
                                    f"{self.target.parent} ({exc.strerror or exc}); a run is "
                                    "written there and switched in at once") from None
        try:
            recover(self.target)
            settle(self.target)
            check_owned(self.target, option, self.output)
        except BaseException:
            self.lock.release()
            raise
        self.option = option
        self.run_id = secrets.token_hex(8)
        self.staging = _sibling(self.target, self.run_id, "new")
        self.files: dict[str, dict] = {}
        self.done = False

    def staging_folder(self) -> Path:
        """The folder this run's files are written into (created on first use, with
        the permissions of `folder`); it takes the place of `folder` at `commit`."""
        if not self.staging.exists():
            try:
                self.staging.mkdir()
            except OSError as exc:
                raise self._write_error(f"its run folder beside it ({self.staging.name})",
                                        exc) from exc
            try:
                os.chmod(self.staging, stat.S_IMODE(os.stat(self.target).st_mode))
            except OSError:
                pass  # the folder's own mode is kept where it can be
        return self.staging

    @contextmanager
    def open(self, name: str) -> Iterator[io.TextIOBase]:
        """A text file to write NAME through; it takes its place only at `commit`."""
        if "/" in name or name in (RECORD, PENDING) or name.startswith("."):
            raise ValueError(f"not an output file name: {name!r}")
        path = self.staging_folder() / name
        try:
            with open(path, "w", newline="", encoding="utf-8") as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
        except BaseException as exc:
            _remove_quietly(path)
            if not isinstance(exc, OSError):
                raise
            raise self._write_error(name, exc) from exc
        self.files[name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}

    def write_text(self, name: str, text: str) -> None:
        with self.open(name) as f:
            f.write(text)

    def commit(self, record: dict) -> None:
        """Write the run record, listing every file in the staging folder, and
        switch the staging folder in for `folder`, in one step."""
        staging = self.staging_folder()
        files = {}
        for path in sorted(staging.iterdir()):
            if path.name not in self.files:  # written straight into the folder (figures)
                with open(path, "rb") as f:
                    os.fsync(f.fileno())
            files[path.name] = self.files.get(path.name) or {"bytes": path.stat().st_size,
                                                            "sha256": _sha256(path)}
        record = {**record, "written_by": PACKAGE, "output": self.output, "files": files}
        if self.records_run_id:
            record["run_id"] = self.run_id
        try:  # before the switch: on an error the previous results stand
            write_text_atomically(staging / RECORD,
                                  json.dumps(record, indent=2, sort_keys=True) + "\n")
        except OSError as exc:
            raise self._write_error(RECORD, exc) from exc
        try:
            exchange(staging, self.target)
            _fsync_folder(self.target.parent)
        except ExchangeUnsupported:
            old = _sibling(self.target, self.run_id, "old")
            os.rename(self.target, old)
            os.rename(staging, self.target)  # between the two, `folder` is briefly absent
            _fsync_folder(self.target.parent)
            staging = old
        except OSError as exc:
            raise self._write_error("the new run into place", exc) from exc
        self.done = True
        try:
            _discard(staging)  # now the previous run
        finally:
            self.lock.release()

    def _write_error(self, name: str, exc: OSError) -> OutputWriteError:
        gone = "" if self.target.is_dir() else " (the folder was removed during the run)"
        return OutputWriteError(f"{self.option} {self.folder}: cannot write {name}: "
                                f"{exc.strerror or exc}{gone}")

    def abandon(self) -> None:
        """Remove this run's staging folder (the previous results stay as they were)
        and release the folder."""
        try:
            if not self.done and self.staging.exists():
                _discard(self.staging)
        finally:
            self.lock.release()


class FiguresWriter(ResultsWriter):
    """make_figures' folder: the same rules; run.json says it holds figures, and
    carries no run id (the same results give the same files, run.json included).
    A folder inside a results folder is refused too: the results' next run would
    find it there and refuse its own folder."""

    output = "figures"
    records_run_id = False

    def __init__(self, folder: str | os.PathLike, option: str = "--out"):
        parent = Path(os.path.abspath(folder)).parent
        record = _load(parent / RECORD) if (parent / RECORD).is_file() else None
        if record is not None and why_not_ours(record) is None:
            kind = record.get("output", "results")
            raise OutputFolderError(
                f"{option} {folder} lies inside {parent}, which holds {_KINDS.get(kind, kind)}; "
                f"figures go to a folder of their own (e.g. {parent}-figures)")
        super().__init__(folder, option)


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
        if record.get("output", "results") != "results":
            raise ResultsError(f"{folder} holds {_KINDS.get(record['output'], record['output'])}, "
                               "not results")
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
