"""A file system that refuses writes under one folder, in this process only.

Tests run as root as well as as a user, and root ignores permission bits, so
a read-only or full folder is simulated where Python opens files: every file
opened for writing under `folder` (and every folder made there) fails with the
OSError the kernel would give; so does every file written into a run's staging
folder beside it (`.NAME.RUNID.new`, which takes the folder's place at the
commit), being on the same disk. SQLite writes in C and is not affected.
"""
from __future__ import annotations

import builtins
import errno
import io
import os
from pathlib import Path

READ_ONLY = errno.EROFS  # open for writing fails, as on a read-only mount
FULL = errno.ENOSPC      # open succeeds, the first write fails, as on a full disk


class _FullFile:
    """A file whose every write of some bytes fails with ENOSPC."""

    def __init__(self, handle):
        self._handle = handle

    def write(self, data):
        if not data:  # writing nothing needs no space
            return 0
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()
        return False

    def __getattr__(self, name):
        return getattr(self._handle, name)


def refuse_writes(monkeypatch, folder: Path, kind: int = READ_ONLY, after: int = 0) -> list[str]:
    """From the `after`+1-th file opened for writing under `folder` on, fail as `kind`
    says (a folder made there fails once `after` files were written). Returns the list of paths refused so far (it grows as the test runs)."""
    folder = Path(folder).resolve()
    real_open, real_mkdir = builtins.open, os.mkdir
    refused: list[str] = []
    opened = [0]

    def under(path) -> bool:
        try:
            resolved = Path(os.fspath(path)).resolve()
        except TypeError:  # a file descriptor
            return False
        if resolved.is_relative_to(folder):
            return True
        staging = resolved.relative_to(folder.parent).parts[0] \
            if resolved.is_relative_to(folder.parent) and resolved != folder.parent else ""
        return staging.startswith(f".{folder.name}.") and staging.endswith(".new")

    def fake_open(file, mode="r", *args, **kwargs):
        if not any(m in mode for m in "wax+") or not under(file):
            return real_open(file, mode, *args, **kwargs)
        opened[0] += 1
        if opened[0] <= after:
            return real_open(file, mode, *args, **kwargs)
        refused.append(os.fspath(file))
        if kind == READ_ONLY:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(file))
        return _FullFile(real_open(file, mode, *args, **kwargs))

    def fake_mkdir(path, *args, **kwargs):
        if under(path) and not os.path.isdir(path) and opened[0] >= after:
            refused.append(os.fspath(path))
            raise OSError(kind, os.strerror(kind), os.fspath(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(os, "mkdir", fake_mkdir)
    return refused
