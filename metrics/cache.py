"""The score cache every metric goes through.

One SQLite file (stdlib) keyed by the metric's signature and a hash of each
sample's inputs (an image by its content). Scores are committed chunk by
chunk as they are computed, so a killed run resumes where it stopped and a
repeated run recomputes nothing. Only finite scores are cached: a NaN is
recomputed next time, since its cause (a missing image, a server error) may
have been fixed. SQLite's WAL mode and a busy timeout let two runs share one
file; a file that is not a sound SQLite database is set aside and rebuilt,
never read.

Each record (a score with its extras, a stored answer) carries a checksum of
its key and value: a record whose value changed after it was written (bit rot,
a hand edit) is moved to the `set_aside` table, counted, reported and scored
again, never served. Scores cached by an older version have no checksum and
are scored again (cheap and deterministic); stored answers of that age are
kept (asking a judge or generator again costs money and may answer otherwise)
and get their checksum when first read. A cache in a folder this process may
not write is opened read-only: its scores are read, new ones are not cached.

A call of `WHOLE_CALL_MIN_SAMPLES` samples or more whose every score is finite
is also kept whole, as one checksummed record of its scores under a hash of its
ordered sample keys: the same call again (a warm rerun: another bootstrap size,
another view) reads that one record instead of a row per sample. The rows stay
the record of truth for every other call; a whole-call record that fails its
checksum is set aside like any other, and the rows are read.
"""
from __future__ import annotations

import base64
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
_SCHEMA_VERSION = 2  # 2: a checksum with each record (1: none; migrated on open)
# SQLite's primary result codes (sqlite.org/rescode.html); extended codes keep them in
# their low byte.
_SQLITE_IOERR, _SQLITE_FULL = 10, 13


_SCHEMA = """
    CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT);
    CREATE TABLE IF NOT EXISTS scores (
        signature TEXT NOT NULL, key TEXT NOT NULL,
        score REAL NOT NULL, extras TEXT, checksum TEXT,
        PRIMARY KEY (signature, key));
    CREATE TABLE IF NOT EXISTS blobs (
        namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, checksum TEXT,
        PRIMARY KEY (namespace, key));
    CREATE TABLE IF NOT EXISTS set_aside (
        tbl TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL, value TEXT, extras TEXT,
        checksum TEXT, found REAL NOT NULL);
    """


# Records this process stored, for "interrupted; N scores cached" (experiments.interrupts).
_WRITES = {"scores": 0, "answers": 0}
_SAID_READ_ONLY: set[str] = set()  # read-only caches this process has warned about

#: Calls at least this long are also cached whole (`ScoreCache.get_call`); shorter ones
#: read their rows, which costs little.
WHOLE_CALL_MIN_SAMPLES = 1000
_WHOLE_CALL = "whole-call:"  # blobs namespace prefix, followed by the metric's signature


def cache_writes() -> dict[str, int]:
    """How many scores and stored answers this process has written to any cache."""
    return dict(_WRITES)


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
        self.damaged = 0     # records that failed their checksum, set aside (this object)
        self.unchecked = 0   # scores of an older version, without a checksum, not served
        self.read_only = not _writable(self.path)
        self._conn = self._open_read_only() if self.read_only else self._open_checked()
        self._checksums = self._has_checksums()

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
            conn.executescript(_SCHEMA)
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(_SCHEMA_VERSION),))
            version = conn.execute("SELECT v FROM meta WHERE k='schema'").fetchone()[0]
            if version == "1":
                _add_checksums(conn)
            elif version != str(_SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"unknown cache schema version {version}")
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    def _open_read_only(self) -> sqlite3.Connection:
        """The cache file opened for reading only (an empty one in memory when there
        is none, or it cannot be read); said once, as new scores will not be kept."""
        conn = None
        if self.path.exists():
            conn, problem = _connect_read_only(self.path)
        else:
            problem = "it holds no cache"
        said = str(self.path) in _SAID_READ_ONLY
        _SAID_READ_ONLY.add(str(self.path))
        if conn is None:
            if not said:
                log.warning("score cache folder %s is read-only and %s: scores are computed "
                            "and not cached", self.path.parent, problem)
            conn = sqlite3.connect(":memory:", isolation_level=None)
            conn.executescript(_SCHEMA)
            return conn
        if not said:
            log.warning("score cache %s is read-only: its scores are used, new scores are not "
                        "cached", self.path)
        return conn

    def _has_checksums(self) -> bool:
        columns = [row[1] for row in self._conn.execute("PRAGMA table_info(scores)")]
        return "checksum" in columns

    def close(self) -> None:
        self._conn.close()

    def __getstate__(self) -> dict:
        # A copy sent to another process (a Ray worker) opens the same file anew.
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.path = state["path"]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.damaged = self.unchecked = 0
        self.read_only = not _writable(self.path)
        self._conn = self._open_read_only() if self.read_only else self._open_checked()
        self._checksums = self._has_checksums()

    def get_scores(self, signature: str, keys: Sequence[str]) -> dict[str, tuple[float, dict]]:
        """Cached (score, extras) for those of `keys` that are cached and pass their
        checksum; the others are misses (a failed one is set aside, `damaged`)."""
        found: dict[str, tuple[float, dict]] = {}
        failed: list[tuple] = []
        unique = list(dict.fromkeys(keys))
        checksum = "checksum" if self._checksums else "NULL"
        for i in range(0, len(unique), 500):
            part = unique[i:i + 500]
            marks = ",".join("?" * len(part))
            rows = self._conn.execute(
                f"SELECT key, score, extras, {checksum} FROM scores "
                f"WHERE signature=? AND key IN ({marks})", (signature, *part))
            for key, score, extras, stored in rows:
                if stored is None:
                    self.unchecked += 1
                elif stored != score_checksum(signature, key, score, extras):
                    failed.append((key, score, extras, stored))
                else:
                    found[key] = (float(score), json.loads(extras) if extras else {})
        if failed:
            self._set_aside("scores", signature, failed)
        return found

    def put_scores(self, signature: str, rows: Sequence[tuple[str, float, dict]]) -> None:
        """Store finite scores in one transaction, each with its checksum; NaNs are
        skipped; nothing is stored in a read-only cache."""
        if self.read_only:
            return
        payload = []
        for k, s, e in rows:
            if np.isfinite(s):
                extras = json.dumps(e) if e else None
                payload.append((signature, k, float(s), extras,
                                score_checksum(signature, k, float(s), extras)))
        if not payload:
            return
        with self._writing(f"{len(payload)} scores"), self._transaction():
            self._conn.executemany("INSERT OR REPLACE INTO scores VALUES (?,?,?,?,?)", payload)
        _WRITES["scores"] += len(payload)

    def get_blob(self, namespace: str, key: str) -> str | None:
        """A stored raw value (e.g. a judge's response), or None; one that fails its
        checksum is set aside and read as None."""
        checksum = "checksum" if self._checksums else "NULL"
        row = self._conn.execute(
            f"SELECT value, {checksum} FROM blobs WHERE namespace=? AND key=?",
            (namespace, key)).fetchone()
        if row is None:
            return None
        value, stored = row
        if stored is None:  # kept by an older version: accepted once, then sealed
            if not self.read_only:
                with self._transaction():
                    self._conn.execute(
                        "UPDATE blobs SET checksum=? WHERE namespace=? AND key=? AND value=? "
                        "AND checksum IS NULL",
                        (blob_checksum(namespace, key, value), namespace, key, value))
            return value
        if stored != blob_checksum(namespace, key, value):
            self._set_aside("blobs", namespace, [(key, value, None, stored)])
            return None
        return value

    def put_blob(self, namespace: str, key: str, value: str) -> None:
        if self.read_only:
            return
        self._store_blob(namespace, key, value, f"a {namespace} entry")
        _WRITES["answers"] += 1

    def _store_blob(self, namespace: str, key: str, value: str, what: str) -> None:
        with self._writing(what), self._transaction():
            self._conn.execute("INSERT OR REPLACE INTO blobs VALUES (?,?,?,?)",
                               (namespace, key, value, blob_checksum(namespace, key, value)))

    def get_call(self, signature: str, keys: Sequence[str]
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]] | None:
        """The scores and extras of a whole earlier call on exactly `keys` (in this
        order), stored by `put_call`, or None."""
        value = self.get_blob(_WHOLE_CALL + signature, whole_call_key(keys))
        if value is None:
            return None
        record = json.loads(value)
        scores = _float_array(record["scores"])
        if len(scores) != len(keys):
            return None
        return scores, {name: _float_array(data) for name, data in record["extras"].items()}

    def put_call(self, signature: str, keys: Sequence[str], scores: np.ndarray,
                 extras: dict[str, np.ndarray]) -> None:
        """Keep a call's scores whole (every one finite: a NaN is scored again next time,
        which a whole-call record would skip)."""
        if self.read_only or not np.isfinite(scores).all():
            return
        value = json.dumps({"scores": _float_text(scores),
                            "extras": {name: _float_text(v) for name, v in extras.items()}})
        # not counted among the stored answers: its scores were counted as their rows
        self._store_blob(_WHOLE_CALL + signature, whole_call_key(keys), value,
                         "a whole call's scores")

    def _set_aside(self, table: str, name: str, records: list[tuple]) -> None:
        """Move records that failed their checksum out of `table` into `set_aside`
        (kept for inspection, never read again) and warn, naming how many."""
        self.damaged += len(records)
        column = "signature" if table == "scores" else "namespace"
        if not self.read_only:
            now = time.time()
            with self._transaction():
                for key, value, extras, stored in records:
                    # Only the damaged version: another run may have rewritten it since.
                    moved = self._conn.execute(
                        f"DELETE FROM {table} WHERE {column}=? AND key=? AND checksum=?",
                        (name, key, stored)).rowcount
                    if moved:
                        self._conn.execute("INSERT INTO set_aside VALUES (?,?,?,?,?,?,?)",
                                           (table, name, key, value, extras, stored, now))
        whole_call = table == "blobs" and name.startswith(_WHOLE_CALL)
        what = ("score(s)" if table == "scores" else
                "whole-call record(s)" if whole_call else "stored answer(s)")
        log.warning("score cache %s: %d cached %s of %s failed their checksum (changed after "
                    "they were written); %s, and %s", self.path, len(records),
                    what, name, "not used (read-only cache)" if self.read_only
                    else "set aside in its table set_aside",
                    "its scores are read row by row" if whole_call else "computed again")

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


def score_checksum(signature: str, key: str, score: float, extras: str | None) -> str:
    """What a score record must hash to: its key and its value (the score's exact
    bits and its extras as stored)."""
    return _checksum(signature, key, float(score).hex(), extras or "")


def blob_checksum(namespace: str, key: str, value: str) -> str:
    return _checksum(namespace, key, value)


def whole_call_key(keys: Sequence[str]) -> str:
    """One hash of a call's sample keys, in their order."""
    return hashlib.blake2b("\n".join(keys).encode(), digest_size=16).hexdigest()


def _float_text(values: np.ndarray) -> str:
    """float64 values, every bit kept, as base64 text (little-endian)."""
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode()


def _float_array(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f8").astype(float)


def _checksum(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"),
                           digest_size=16).hexdigest()


def _add_checksums(conn: sqlite3.Connection) -> None:
    """Schema 1 -> 2: a checksum column (empty for the records already there)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("SELECT v FROM meta WHERE k='schema'").fetchone()[0]
        if version == "1":  # not migrated meanwhile by another run
            conn.execute("ALTER TABLE scores ADD COLUMN checksum TEXT")
            conn.execute("ALTER TABLE blobs ADD COLUMN checksum TEXT")
            conn.execute("UPDATE meta SET v=? WHERE k='schema'", (str(_SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _writable(path: Path) -> bool:
    """Whether this process may write the cache file and its folder (SQLite keeps its
    journal and lock files beside the file)."""
    return os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _connect_read_only(path: Path) -> tuple[sqlite3.Connection | None, str]:
    """A read-only connection to a cache file in a folder that cannot be written, or
    (None, why not). SQLite needs the WAL's shared-memory file beside a WAL database,
    which it cannot create there; when there is none the file is opened as immutable
    (no run can be writing where nothing may be written)."""
    uri = path.resolve().as_uri()
    problem = ""
    for mode in ("?mode=ro", "?mode=ro&immutable=1"):
        try:
            conn = sqlite3.connect(uri + mode, uri=True, timeout=60.0, isolation_level=None)
        except sqlite3.Error as exc:
            problem = " ".join(str(exc).split())
            continue
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            version = conn.execute("SELECT v FROM meta WHERE k='schema'").fetchone()[0]
        except sqlite3.Error as exc:
            conn.close()
            problem = " ".join(str(exc).split())
            continue
        if check != "ok":
            conn.close()
            return None, f"its cache file is damaged ({check})"
        if version not in ("1", str(_SCHEMA_VERSION)):
            conn.close()
            return None, f"its cache has an unknown schema version {version}"
        return conn, ""
    return None, f"its cache file cannot be read ({problem})"


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
    damaged: int = 0    # cached scores that failed their checksum: set aside, computed again
    unchecked: int = 0  # cached scores without a checksum (an older version's): computed again


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
    whole = len(samples) >= WHOLE_CALL_MIN_SAMPLES
    if whole and (found := cache.get_call(signature, keys)) is not None:
        _progress_bar(metric, len(samples), len(samples), progress, label).close()
        return MetricOutput(found[0], {}, found[1]), CacheStats(cached=len(samples))
    damaged, unchecked = cache.damaged, cache.unchecked
    hits = cache.get_scores(signature, keys)
    damaged, unchecked = cache.damaged - damaged, cache.unchecked - unchecked
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
    stats = CacheStats(cached=len(samples) - len(todo), computed=len(todo), damaged=damaged,
                       unchecked=unchecked)
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
            stats = CacheStats(cached=0, computed=len(samples), damaged=damaged,
                               unchecked=unchecked)
    bar.refresh()
    bar.close()
    if whole and not failures:
        try:
            cache.put_call(signature, keys, scores, extras)
        except CacheWriteError as exc:  # every score is in its row: the run goes on
            log.warning("%s; the next run of this call reads its rows", exc)
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
