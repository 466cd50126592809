"""The score cache every metric goes through.

One SQLite file (stdlib) keyed by the metric's signature and a hash of each
sample's inputs (an image by its content). Scores are committed chunk by
chunk as they are computed, so a killed run resumes where it stopped and a
repeated run recomputes nothing. Only finite scores are cached: a NaN is
recomputed next time, since its cause (a missing image, a server error) may
have been fixed. SQLite's WAL mode and a busy timeout let two runs share one
file; a file that is not a sound SQLite database is set aside and rebuilt,
never read.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from .base import Metric, MetricOutput, Sample, check_text, check_unique_ids, sample_key
from .executors import LocalExecutor

log = logging.getLogger(__name__)

CACHE_ENV = "METAEVAL_CACHE_DIR"
CACHE_FILE = "scores.sqlite"
_SCHEMA_VERSION = 1
# SQLite's primary result codes (sqlite.org/rescode.html); extended codes keep them in
# their low byte.
_SQLITE_IOERR, _SQLITE_FULL = 10, 13


def default_cache_dir() -> Path:
    """$METAEVAL_CACHE_DIR, else $XDG_CACHE_HOME/socratis-metaeval, else ~/.cache/..."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "socratis-metaeval"


class CacheFolderError(ValueError):
    """The cache folder given is a file, or lies under one: a usage error."""


class CacheWriteError(Exception):
    """The machine refused a cache write (full disk, read-only or removed folder);
    what earlier transactions stored stays cached."""


def check_cache_folder(folder: str | os.PathLike, what: str = "score cache folder") -> Path:
    """`folder`, or a CacheFolderError (naming it as `what`) when it or a folder above
    it is a file; creates nothing."""
    folder = Path(folder)
    for parent in [folder, *folder.parents]:
        if parent.exists() and not parent.is_dir():
            where = "is a file" if parent == folder else f"lies under {parent}, which is a file"
            raise CacheFolderError(f"{what} {folder} {where}, not a folder")
    return folder


def cache_folder(folder: str | os.PathLike) -> Path:
    """`folder`, created if needed; a CacheFolderError when it (or a folder above it)
    is a file, a CacheWriteError when it cannot be created."""
    folder = check_cache_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheWriteError(f"score cache folder {folder}: cannot create it "
                              f"({exc.strerror or exc})") from None
    return folder


class ScoreCache:
    """Per-sample scores (and raw responses) in one SQLite file."""

    def __init__(self, folder: str | os.PathLike | None = None):
        folder = cache_folder(folder if folder is not None else default_cache_dir())
        self.path = folder / CACHE_FILE
        self._conn = self._open_checked()

    def _open_checked(self) -> sqlite3.Connection:
        try:
            return self._open()
        except sqlite3.DatabaseError as exc:
            self._refused_by_the_machine(exc)
        # Repair under an exclusive lock, and look again first: another run
        # (or thread) that found the same damage may have rebuilt the file
        # already, and must be the only one to warn and set it aside.
        with _exclusive(self.path.with_name(f"{self.path.name}.lock")):
            try:
                return self._open()
            except sqlite3.DatabaseError as exc:
                self._refused_by_the_machine(exc)
                damage = exc
            aside = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}")
            n = 1
            while aside.exists():
                n += 1
                aside = self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}-{n}")
            log.warning("score cache %s is damaged (%s); set aside as %s and rebuilt",
                        self.path, " ".join(str(damage).split()), aside)
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                stale = Path(str(self.path) + suffix)
                if stale.exists():
                    stale.unlink()
            return self._open()

    def _refused_by_the_machine(self, exc: sqlite3.DatabaseError) -> None:
        """A CacheWriteError when opening failed for a full disk or an I/O error: the
        file is not damaged and must not be set aside as if it were."""
        code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
        if code is not None and code & 0xFF in (_SQLITE_FULL, _SQLITE_IOERR):
            raise CacheWriteError(f"score cache {self.path}: cannot open it "
                                  f"({' '.join(str(exc).split())})") from None

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=60000")
            conn.execute("PRAGMA journal_mode=WAL")
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {check}")
            conn.executescript(
                """
                CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT);
                CREATE TABLE IF NOT EXISTS scores (
                    signature TEXT NOT NULL, key TEXT NOT NULL,
                    score REAL NOT NULL, extras TEXT,
                    PRIMARY KEY (signature, key));
                CREATE TABLE IF NOT EXISTS blobs (
                    namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                    PRIMARY KEY (namespace, key));
                """)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(_SCHEMA_VERSION),))
            version = conn.execute("SELECT v FROM meta WHERE k='schema'").fetchone()[0]
            if version != str(_SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"unknown cache schema version {version}")
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        self._conn.close()

    def __getstate__(self) -> dict:
        # A copy sent to another process (a Ray worker) opens the same file anew.
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.path = state["path"]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = self._open_checked()

    def get_scores(self, signature: str, keys: Sequence[str]) -> dict[str, tuple[float, dict]]:
        """Cached (score, extras) for those of `keys` that are cached."""
        found: dict[str, tuple[float, dict]] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):
            part = unique[i:i + 500]
            marks = ",".join("?" * len(part))
            rows = self._conn.execute(
                f"SELECT key, score, extras FROM scores WHERE signature=? AND key IN ({marks})",
                (signature, *part))
            for key, score, extras in rows:
                found[key] = (float(score), json.loads(extras) if extras else {})
        return found

    def put_scores(self, signature: str, rows: Sequence[tuple[str, float, dict]]) -> None:
        """Store finite scores in one transaction; NaNs are skipped."""
        payload = [(signature, k, float(s), json.dumps(e) if e else None)
                   for k, s, e in rows if np.isfinite(s)]
        if not payload:
            return
        with self._writing(f"{len(payload)} scores"), self._transaction():
            self._conn.executemany("INSERT OR REPLACE INTO scores VALUES (?,?,?,?)", payload)

    def get_blob(self, namespace: str, key: str) -> str | None:
        """A stored raw value (e.g. a judge's response), or None."""
        row = self._conn.execute(
            "SELECT value FROM blobs WHERE namespace=? AND key=?", (namespace, key)).fetchone()
        return row[0] if row else None

    def put_blob(self, namespace: str, key: str, value: str) -> None:
        with self._writing(f"a {namespace} entry"), self._transaction():
            self._conn.execute("INSERT OR REPLACE INTO blobs VALUES (?,?,?)", (namespace, key, value))

    def count(self, signature: str | None = None) -> int:
        if signature is None:
            return self._conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
        return self._conn.execute(
            "SELECT COUNT(*) FROM scores WHERE signature=?", (signature,)).fetchone()[0]

    @contextlib.contextmanager
    def _writing(self, what: str):
        """A failed write (SQLite's "database or disk is full", a read-only or removed
        file) as a CacheWriteError naming the cache file; the transaction is rolled back."""
        try:
            yield
        except (sqlite3.OperationalError, OSError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise CacheWriteError(f"score cache {self.path}: cannot store {what} ({reason}); "
                                  "the scores stored before stay cached") from None

    def _transaction(self):
        conn = self._conn

        class _Tx:
            def __enter__(self_inner):
                conn.execute("BEGIN IMMEDIATE")

            def __exit__(self_inner, exc_type, exc, tb):
                if not exc_type:
                    conn.execute("COMMIT")
                elif conn.in_transaction:  # SQLite itself rolls back after some errors (full disk)
                    conn.execute("ROLLBACK")
                return False

        return _Tx()


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    """An exclusive advisory lock on `lock_path` (POSIX flock; none elsewhere)."""
    try:
        import fcntl
    except ImportError:  # Windows: repairs are not serialised
        yield
        return
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class CacheStats:
    """How many samples came from the cache and how many were computed."""

    cached: int = 0
    computed: int = 0


def cache_keys(metric: Metric, samples: Sequence[Sample]) -> list[str]:
    """One key per sample; for corpus-dependent metrics the key also names the corpus."""
    keys = [sample_key(s, use_image=metric.needs_image) for s in samples]
    if metric.corpus_dependent:
        corpus = hashlib.sha256("\n".join(keys).encode()).hexdigest()
        keys = [hashlib.sha256(f"{corpus}:{k}".encode()).hexdigest() for k in keys]
    return keys


def _progress_bar(metric: Metric, total: int, cached: int, progress: bool,
                  label: str | None) -> tqdm:
    """Samples scored of `total` on the standard error stream, the cache's hits counted
    from the start; `label` names what is scored (e.g. "flickr8k-expert: cider")."""
    return tqdm(total=total, initial=cached, desc=label or metric.name, unit="sample",
                disable=not progress, leave=False, postfix=f"{cached} from cache")


def score_with_cache(metric: Metric, samples: Sequence[Sample],
                     cache: ScoreCache | None, progress: bool = True,
                     executor=None, label: str | None = None
                     ) -> tuple[MetricOutput, CacheStats]:
    """Score `samples` with `metric`, reading and writing `cache` as it goes.

    `executor` (`metrics.executors`) scores the chunks the cache lacks: here
    by default, or on Ray; chunks are committed as they arrive, in any order.
    `progress`: a progress bar (samples scored of all, hits counted) on stderr,
    named `label` (default the metric's name).
    """
    samples = list(samples)
    check_unique_ids(samples)
    check_text(samples)
    executor = executor if executor is not None else LocalExecutor()
    metric.check_images(samples)  # the whole set: a warm cache may lack only a missing image
    if cache is None:
        with _progress_bar(metric, len(samples), 0, progress, label) as bar:
            parts = []
            for part in executor.iter_score(metric, samples, images_checked=True):
                parts.append(part)
                bar.update(part[1] - part[0])
            bar.refresh()  # the final count, however fast the chunks came
        return _assemble(len(samples), parts), CacheStats(computed=len(samples))
    metric.attach_cache(cache)
    signature = metric.signature()
    keys = cache_keys(metric, samples)
    hits = cache.get_scores(signature, keys)
    scores = np.full(len(samples), np.nan)
    extras: dict[str, np.ndarray] = {}
    failures: dict[str, str] = {}

    def set_extras(i: int, values: dict) -> None:
        for name, value in values.items():
            extras.setdefault(name, np.full(len(samples), np.nan))[i] = value

    todo = []
    for i, key in enumerate(keys):
        if key in hits:
            scores[i] = hits[key][0]
            set_extras(i, hits[key][1])
        else:
            todo.append(i)
    stats = CacheStats(cached=len(samples) - len(todo), computed=len(todo))
    if metric.corpus_dependent and todo:
        todo = list(range(len(samples)))
    corpus_score = None
    bar = _progress_bar(metric, len(samples), len(samples) - len(todo), progress, label)
    if todo:
        pending = [samples[i] for i in todo]
        for start, stop, out in executor.iter_score(metric, pending, images_checked=True):
            rows = []
            for j in range(start, stop):
                i = todo[j]
                value = out.scores[j - start]
                scores[i] = value
                row_extras = {n: float(v[j - start]) for n, v in out.extras.items()}
                set_extras(i, row_extras)
                rows.append((keys[i], value, row_extras))
            failures.update(out.failures)
            cache.put_scores(signature, rows)
            corpus_score = out.corpus_score
            bar.update(stop - start)
        if metric.corpus_dependent:
            stats = CacheStats(cached=0, computed=len(samples))
    bar.refresh()
    bar.close()
    output = MetricOutput(scores, failures, extras)
    if len(todo) == len(samples):
        output.corpus_score = corpus_score
    return output, stats


def _assemble(n: int, parts: Sequence[tuple[int, int, MetricOutput]]) -> MetricOutput:
    """One output from chunks that may have arrived in any order."""
    parts = sorted(parts, key=lambda part: part[0])
    output = MetricOutput.concatenate([out for _, _, out in parts]) if parts else \
        MetricOutput(np.full(n, np.nan), {})
    if len(parts) == 1:
        output.corpus_score = parts[0][2].corpus_score
    return output
