"""Download the public benchmark files and check them against the authors' releases.

A file is written to a hidden temporary name beside its final place
(`.NAME.part`) and renamed into place only once it is complete and its SHA-256
matches `sources.py`: an interrupted download leaves nothing under the final
name, and a second run fetches only what is missing or differs.
"""
from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from tqdm import tqdm

from .base import DataError
from .sources import Archive, DataFile, families

log = logging.getLogger(__name__)
CHUNK = 1 << 16

# States a file can end in.
OK, MISSING, DIFFERS, UNVERIFIED, FETCHED, FAILED, MANUAL, PLACED = (
    "ok", "missing", "differs", "unverified", "fetched", "failed", "manual", "placed")
PROBLEMS = {MISSING, DIFFERS, FAILED, MANUAL}


class FetchError(DataError):
    """A download failed or gave other bytes than the authors' release."""


class WriteError(Exception):
    """A file could not be written under the data folder (a full disk, a read-only
    folder): the machine, not the download, so fetching stops there."""


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    """An OSError raised while writing `path` as a WriteError naming it."""
    try:
        yield
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from None


@dataclass
class FileStatus:
    file: DataFile
    state: str
    detail: str = ""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def check(files: Iterable[DataFile], data_dir: Path) -> list[FileStatus]:
    """Compare each file under `data_dir` with its recorded SHA-256; downloads nothing."""
    out = []
    for f in files:
        target = Path(data_dir) / f.path
        if not target.is_file():
            out.append(FileStatus(f, MISSING, str(target)))
            continue
        digest = sha256_of(target)
        if f.sha256 is None:
            out.append(FileStatus(f, UNVERIFIED, f"no recorded checksum; SHA-256 {digest}"))
        elif digest != f.sha256:
            out.append(FileStatus(f, DIFFERS, f"SHA-256 {digest}, the authors' release has "
                                              f"{f.sha256}"))
        else:
            out.append(FileStatus(f, OK))
    return out


def without_stand_ins(statuses: list[FileStatus]) -> list[FileStatus]:
    """What a benchmark needs, of the statuses of its files: a file that stands in for
    others (`DataFile.replaces`) is dropped when those are all ok, and they are dropped
    when it is ok; when neither is, every one is kept, the stand-in saying so."""
    ok = {s.file.path for s in statuses if s.state in (OK, UNVERIFIED)}
    drop: set[str] = set()
    notes: dict[str, str] = {}
    for s in statuses:
        if not s.file.replaces:
            continue
        if all(path in ok for path in s.file.replaces):
            drop.add(s.file.path)
        elif s.file.path in ok:
            drop.update(s.file.replaces)
        else:
            notes[s.file.path] = f"or, instead of it, {' and '.join(s.file.replaces)}"
    return [FileStatus(s.file, s.state, "; ".join(filter(None, (s.detail, notes.get(s.file.path)))))
            for s in statuses if s.file.path not in drop]


def mirror_url(mirror: str, name: str) -> str:
    """The URL of the authors' file `name` on a mirror that keeps their names, flat."""
    return f"{mirror.rstrip('/')}/{urllib.request.quote(name)}"


def fetch(files: Iterable[DataFile], data_dir: Path, *, verify: bool = True,
          url_for: Callable[[str], str] | None = None, progress: bool = True,
          timeout: float = 60.0, mirror: str | None = None) -> list[FileStatus]:
    """Download every file that is missing or differs; return each file's final state.

    `url_for` rewrites a recorded URL (the tests point it at a local server).
    `mirror`: a URL under which every file (and archive) is kept under the authors'
    name (`DataFile.authors_name`); everything is fetched from there instead.
    With `verify=False` a checksum mismatch is kept and reported as unverified.
    """
    url_for = url_for or (lambda url: url)
    statuses = check(files, data_dir)
    archives: dict[Archive, list[int]] = {}
    for i, status in enumerate(statuses):
        f = status.file
        if status.state not in (MISSING, DIFFERS):
            continue
        if f.archive is not None:
            archives.setdefault(f.archive, []).append(i)
        elif mirror is not None:
            statuses[i] = _fetch_one(f, mirror_url(mirror, f.authors_name), Path(data_dir),
                                     verify, progress, timeout)
        elif f.url is None:
            statuses[i] = FileStatus(f, MANUAL, _manual_hint(f))
        else:
            statuses[i] = _fetch_one(f, url_for(f.url), Path(data_dir), verify, progress, timeout)
    for archive, indices in archives.items():
        wanted = [statuses[i].file for i in indices]
        url = mirror_url(mirror, archive.name) if mirror is not None else url_for(archive.url)
        for i, result in zip(indices, _fetch_archive(archive, wanted, url,
                                                     Path(data_dir), verify, progress, timeout)):
            statuses[i] = result
    return statuses


def _manual_hint(f: DataFile) -> str:
    how = families()[f.family].how_to_get
    return f"no download location is known for this file: {how}" if how else \
        "no download location is known for this file"


def _part(target: Path) -> Path:
    return target.with_name(f".{target.name}.part")


def _fetch_one(f: DataFile, url: str, data_dir: Path, verify: bool, progress: bool,
               timeout: float) -> FileStatus:
    target = data_dir / f.path
    with _writing(target.parent):
        target.parent.mkdir(parents=True, exist_ok=True)
    return _place(f, target, url, verify,
                  lambda part: _download(url, part, f.name, progress, timeout))


def _fetch_archive(archive: Archive, wanted: list[DataFile], url: str, data_dir: Path,
                   verify: bool, progress: bool, timeout: float) -> list[FileStatus]:
    folder = data_dir / wanted[0].family
    with _writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
    part = _part(folder / archive.name)
    try:
        try:
            _download(url, part, archive.name, progress, timeout)
            if verify and archive.sha256 is not None:
                digest = sha256_of(part)
                if digest != archive.sha256:
                    raise FetchError(f"{archive.name}: SHA-256 {digest} does not match the "
                                     f"authors' release {archive.sha256} (from {url})")
            zf = zipfile.ZipFile(part)
        except (FetchError, zipfile.BadZipFile) as exc:
            return [FileStatus(f, FAILED, f"{archive.name} from {url}: {exc}") for f in wanted]
        with zf:
            return [_extract(zf, f, archive, url, data_dir, verify) for f in wanted]
    finally:
        _remove_part(part)


def _extract(zf: zipfile.ZipFile, f: DataFile, archive: Archive, url: str, data_dir: Path,
             verify: bool) -> FileStatus:
    members = [m for m in zf.infolist() if not m.is_dir() and Path(m.filename).name == f.member]
    if len(members) != 1:
        return FileStatus(f, FAILED, f"{archive.name} from {url} holds {len(members)} members "
                                     f"named {f.member!r}, expected one")

    def write(part: Path) -> None:
        with zf.open(members[0]) as src, _writing(part), open(part, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)

    return _place(f, data_dir / f.path, f"{url} ({archive.name}: {members[0].filename})",
                  verify, write)


def _place(f: DataFile, target: Path, source: str, verify: bool,
           write: Callable[[Path], None]) -> FileStatus:
    """`write` the file to a temporary name beside `target`, verify it, and only
    then rename it into place; a failure leaves no part file behind."""
    part = _part(target)
    try:
        write(part)
        status = _verify(f, part, target, source, verify)
        with _writing(target):
            os.replace(part, target)
        return status
    except FetchError as exc:
        return FileStatus(f, FAILED, str(exc))
    finally:
        _remove_part(part)


def _remove_part(part: Path) -> None:
    try:
        part.unlink(missing_ok=True)
    except OSError:  # a folder gone read-only keeps it; the next fetch overwrites it
        pass


def _verify(f: DataFile, part: Path, target: Path, url: str, verify: bool) -> FileStatus:
    digest = sha256_of(part)
    if f.sha256 is None:
        log.warning("%s: no recorded checksum for this file; SHA-256 of the download: %s",
                    f.path, digest)
        return FileStatus(f, UNVERIFIED, f"no recorded checksum; SHA-256 {digest}")
    if digest == f.sha256:
        return FileStatus(f, FETCHED)
    message = (f"{target}: SHA-256 {digest} does not match the authors' release {f.sha256} "
               f"(downloaded from {url})")
    if verify:
        raise FetchError(message + "; the file was not written (use --no-verify to keep it)")
    log.warning("%s; kept because of --no-verify", message)
    return FileStatus(f, UNVERIFIED, message + "; kept (--no-verify)")


def _download(url: str, dest: Path, label: str, progress: bool, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "socratis-metaeval"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            got = 0
            with _writing(dest):
                out = open(dest, "wb")
            try:
                with tqdm(total=total, unit="B", unit_scale=True, desc=label,
                          disable=not progress, leave=False) as bar:
                    while True:
                        block = response.read(CHUNK)
                        if not block:
                            break
                        with _writing(dest):
                            out.write(block)
                        got += len(block)
                        bar.update(len(block))
            finally:
                with _writing(dest):  # closing flushes the last block
                    out.close()
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except http.client.IncompleteRead:
        raise FetchError(f"{url}: the connection closed before the end of the file "
                         f"({dest.stat().st_size} bytes received)") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"{url}: download failed ({reason})") from None
    if total is not None and got != total:
        raise FetchError(f"{url}: the connection closed after {got} of {total} bytes")


# -- files downloaded by hand -------------------------------------------------------

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


def _is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def _archive_members(archive: Path, label: str) -> dict[str, Callable[[Path], None]]:
    """File name -> a writer of that member, for every file inside a zip or tar archive
    (an archive inside it, such as Flickr8k_text.zip in a lab's bundle, is opened too)."""
    found: dict[str, Callable[[Path], None]] = {}

    def copier(read: Callable[[], bytes]) -> Callable[[Path], None]:
        return lambda part: part.write_bytes(read())

    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for member in zf.infolist():
                    if not member.is_dir():
                        found.setdefault(Path(member.filename).name, copier(
                            lambda m=member.filename: _zip_read(archive, m)))
        else:
            with tarfile.open(archive) as tf:
                for member in tf.getmembers():
                    if member.isfile():
                        found.setdefault(Path(member.name).name, copier(
                            lambda m=member.name: _tar_read(archive, m)))
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as exc:
        raise FetchError(f"{label}: cannot be read as a zip or tar archive ({exc})") from None
    return found


def _zip_read(archive: Path, member: str) -> bytes:
    with zipfile.ZipFile(archive) as zf:
        return zf.read(member)


def _tar_read(archive: Path, member: str) -> bytes:
    with tarfile.open(archive) as tf:
        handle = tf.extractfile(member)
        assert handle is not None  # a regular file, checked when listed
        return handle.read()


class HandDownloads:
    """The files a user downloaded by hand into folder or archive `source` (or the one
    file `source`), found by name:
    files in the folder (and its subfolders) first, then members of the archives there,
    each archive opened only when a name is not found before it (a folder of downloads
    may hold large archives that hold nothing wanted)."""

    def __init__(self, source: Path):
        self.source = source
        self.files: dict[str, tuple[str, Callable[[Path], None]]] = {}
        if source.is_dir():
            paths = sorted(p for p in source.rglob("*") if p.is_file())
            for path in paths:
                self.files.setdefault(path.name, (str(path), lambda part, p=path:
                                                  shutil.copyfile(p, part)))
            self.archives = [p for p in paths if _is_archive(p.name)]
        elif source.is_file() and (zipfile.is_zipfile(source) or tarfile.is_tarfile(source)):
            self.archives = [source]
        elif source.is_file():  # one file downloaded by hand
            self.files[source.name] = (str(source), lambda part: shutil.copyfile(source, part))
            self.archives = []
        else:
            raise FetchError(f"--from {source}: no such folder or file")
        self.opened: list[dict[str, tuple[str, Callable[[Path], None]]]] = []

    def find(self, names: Iterable[str]) -> tuple[str, Callable[[Path], None]] | None:
        """(where it is, a writer of it) of the first file with one of `names`, or None."""
        names = list(names)
        for name in names:
            if name in self.files:
                return self.files[name]
        for k in range(len(self.archives)):
            if k == len(self.opened):
                archive = self.archives[k]
                self.opened.append({name: (f"{archive} ({name})", write) for name, write
                                    in _archive_members(archive, str(archive)).items()})
            for name in names:
                if name in self.opened[k]:
                    return self.opened[k][name]
        return None


def place(files: Iterable[DataFile], data_dir: Path, source: Path, *,
          verify: bool = True) -> list[FileStatus]:
    """Put each file that is missing or differs in its place under `data_dir` from the
    files the user downloaded by hand into folder or archive `source`, found by the
    authors' file name (or the name under --data-dir), each checked as a download is."""
    found = HandDownloads(Path(source))
    statuses = check(files, data_dir)
    for i, status in enumerate(statuses):
        f = status.file
        if status.state not in (MISSING, DIFFERS):
            continue
        hit = found.find((f.authors_name, f.name))
        if hit is None:
            names = " or ".join(dict.fromkeys((f.authors_name, f.name)))
            statuses[i] = FileStatus(f, MISSING, f"no file named {names} in {source}")
            continue
        where, write = hit
        target = Path(data_dir) / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        statuses[i] = _place(f, target, where, verify, write)
        if statuses[i].state == FETCHED:
            statuses[i] = FileStatus(f, PLACED, f"from {where}")
    return statuses
