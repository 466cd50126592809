"""Two operations on an output folder that the results writer builds on.

- `exchange(a, b)`: swap two folders in one atomic step, so that a reader of
  `b` finds either what it held or what `a` held, never a mix. Linux:
  renameat2(2) with RENAME_EXCHANGE (kernel 3.15, glibc 2.28); macOS:
  renamex_np(2) with RENAME_SWAP. Elsewhere `ExchangeUnsupported`.
- `FolderLock`: one writer per folder. An exclusive flock(2) on a lock file
  beside the folder (`.NAME.lock`) that records the holder (pid, start time,
  command line, secrets masked); the kernel drops the lock when its holder
  exits or is killed, so a lock is never stale, and the file a killed holder
  leaves is reused.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import shlex
import sys
import time
from pathlib import Path

from metrics.redaction import mask_secrets

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h
_RENAME_SWAP = 2  # macOS sys/stdio.h


class ExchangeUnsupported(OSError):
    """This platform or file system cannot swap two folders atomically."""


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def exchange(a: Path, b: Path) -> None:
    """Swap the folders at `a` and `b` atomically (both must exist)."""
    src, dst = os.fsencode(a), os.fsencode(b)
    try:
        libc = _libc()
        if sys.platform == "darwin":
            call = libc.renamex_np
            call.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
            result = call(src, dst, _RENAME_SWAP)
        else:
            call = libc.renameat2
            call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                             ctypes.c_uint]
            result = call(_AT_FDCWD, src, _AT_FDCWD, dst, _RENAME_EXCHANGE)
    except (OSError, AttributeError) as exc:  # no C library, or no such call in it
        raise ExchangeUnsupported(errno.ENOSYS, f"no atomic folder exchange here ({exc})")
    if result != 0:
        code = ctypes.get_errno()
        if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise ExchangeUnsupported(code, os.strerror(code), str(b))
        raise OSError(code, os.strerror(code), str(b))


class FolderBusy(Exception):
    """Another run holds the folder's lock; the message names it."""


class FolderLock:
    """Held from construction to `release()`; raises FolderBusy at once when another
    process holds it (no waiting)."""

    def __init__(self, folder: Path, command: str | None = None):
        folder = Path(folder)
        self.path = folder.parent / f".{folder.name}.lock"
        holder = {"pid": os.getpid(), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                  # one line, no secret: the next run prints it
                  "command": mask_secrets(command or shlex.join(sys.argv)).replace("\n", "\\n")}
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                other = _read_holder(fd)
                os.close(fd)
                raise FolderBusy(f"{folder} is being written by another run ({other}); "
                                 "wait for it to finish, or give another folder") from None
            # The holder before us may have removed the file between our open and our lock.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(holder).encode("utf-8"))
        os.fsync(fd)
        self.fd: int | None = fd

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            self.path.unlink()
        except OSError:
            pass
        os.close(self.fd)  # closing drops the flock
        self.fd = None


def _read_holder(fd: int) -> str:
    try:
        holder = json.loads(os.pread(fd, 1 << 16, 0).decode("utf-8"))
        return f"pid {holder['pid']}, started {holder['started']}: {holder['command']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "it has not yet said which"
