"""Cache records are served only when they are what was written: a checksum of
key and value with each record; an older version's scores (no checksum) are
scored again; a read-only cache folder is read, not written."""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from metrics import Sample, ScoreCache, score_with_cache

sys.path.insert(0, str(Path(__file__).parent))
from slow_metric import SlowLengthMetric  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLES = [Sample(f"s{i}", f"candidate number {i} " * (i % 3 + 1), (f"ref {i}",)) for i in range(8)]


def _warm(folder: Path) -> np.ndarray:
    out, _ = score_with_cache(SlowLengthMetric(), SAMPLES, ScoreCache(folder), progress=False)
    return out.scores


def _edit(folder: Path, sql: str, *params) -> None:
    """Change records behind the cache's back (bit rot, a hand edit), keeping the file
    a sound SQLite database."""
    conn = sqlite3.connect(folder / "scores.sqlite", isolation_level=None)
    conn.execute(sql, params)
    conn.close()


def test_an_altered_score_is_set_aside_counted_and_scored_again(tmp_path, caplog):
    expected = _warm(tmp_path)
    key = ScoreCache(tmp_path)._conn.execute("SELECT key FROM scores LIMIT 1").fetchone()[0]
    _edit(tmp_path, "UPDATE scores SET score=score+0.5 WHERE key=?", key)
    metric = SlowLengthMetric()
    with caplog.at_level(logging.WARNING, logger="metrics.cache"):
        out, stats = score_with_cache(metric, SAMPLES, ScoreCache(tmp_path), progress=False)
    np.testing.assert_array_equal(out.scores, expected)
    assert (stats.cached, stats.computed, stats.damaged, metric.scored) == (7, 1, 1, 1)
    assert "1 cached score(s)" in caplog.text and "failed their checksum" in caplog.text
    cache = ScoreCache(tmp_path)
    aside = cache._conn.execute("SELECT tbl, key, value FROM set_aside").fetchall()
    assert len(aside) == 1 and aside[0][:2] == ("scores", key)
    # The rescored record is sound again: the next run serves every score.
    metric = SlowLengthMetric()
    _, stats = score_with_cache(metric, SAMPLES, cache, progress=False)
    assert (stats.cached, stats.damaged, metric.scored) == (8, 0, 0)


def test_altered_extras_are_caught_too(tmp_path):
    _warm(tmp_path)
    _edit(tmp_path, "UPDATE scores SET extras=? WHERE rowid=1", json.dumps({"double": 99.0}))
    out, stats = score_with_cache(SlowLengthMetric(), SAMPLES, ScoreCache(tmp_path), progress=False)
    assert stats.damaged == 1
    np.testing.assert_array_equal(out.extras["double"], 2 * out.scores)


def test_an_altered_stored_answer_is_not_served(tmp_path):
    cache = ScoreCache(tmp_path)
    cache.put_blob("judge", "k", '{"rating": 2}')
    _edit(tmp_path, "UPDATE blobs SET value=? WHERE key='k'", '{"rating": 5}')
    again = ScoreCache(tmp_path)
    assert again.get_blob("judge", "k") is None and again.damaged == 1
    again.put_blob("judge", "k", '{"rating": 2}')
    assert ScoreCache(tmp_path).get_blob("judge", "k") == '{"rating": 2}'


def _schema_1_cache(folder: Path) -> None:
    """A cache as the previous version wrote it: no checksum column."""
    folder.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(folder / "scores.sqlite", isolation_level=None)
    conn.executescript("""
        CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT);
        CREATE TABLE scores (signature TEXT NOT NULL, key TEXT NOT NULL, score REAL NOT NULL,
                             extras TEXT, PRIMARY KEY (signature, key));
        CREATE TABLE blobs (namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                            PRIMARY KEY (namespace, key));
        INSERT INTO meta VALUES ('schema', '1');
        INSERT INTO blobs VALUES ('judge', 'k', 'an old answer');
    """)
    from metrics.cache import cache_keys
    metric = SlowLengthMetric()
    conn.executemany("INSERT INTO scores VALUES (?,?,?,?)",
                     [(metric.signature(), k, 123.0, None)  # a value no run would compute
                      for k in cache_keys(metric, SAMPLES)])
    conn.close()


def test_scores_of_an_older_version_are_scored_again_and_then_served(tmp_path):
    _schema_1_cache(tmp_path)
    cache = ScoreCache(tmp_path)
    metric = SlowLengthMetric()
    out, stats = score_with_cache(metric, SAMPLES, cache, progress=False)
    assert (stats.cached, stats.unchecked, metric.scored) == (0, 8, 8)
    np.testing.assert_array_equal(out.scores, SlowLengthMetric().score(SAMPLES).scores)
    _, stats = score_with_cache(SlowLengthMetric(), SAMPLES, ScoreCache(tmp_path), progress=False)
    assert (stats.cached, stats.unchecked) == (8, 0)
    # An old stored answer is accepted once, and sealed: a later change is caught.
    assert cache.get_blob("judge", "k") == "an old answer"
    _edit(tmp_path, "UPDATE blobs SET value='changed' WHERE key='k'")
    assert ScoreCache(tmp_path).get_blob("judge", "k") is None


READ_ONLY_RUN = textwrap.dedent("""
    import json, logging, sys
    sys.path[:0] = [{repo!r}, {tests!r}]
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    from metrics import Sample, ScoreCache, score_with_cache
    from slow_metric import SlowLengthMetric
    samples = [Sample(f"s{{i}}", f"candidate number {{i}} " * (i % 3 + 1), (f"ref {{i}}",))
               for i in range(10)]
    cache = ScoreCache({cache!r})
    metric = SlowLengthMetric()
    out, stats = score_with_cache(metric, samples, cache, progress=False)
    again, stats2 = score_with_cache(SlowLengthMetric(), samples, ScoreCache({cache!r}),
                                     progress=False)  # a second opening says nothing
    print(json.dumps({{"read_only": cache.read_only, "cached": stats.cached,
                      "computed": stats.computed, "scored": metric.scored,
                      "cached_again": stats2.cached, "scores": out.scores.tolist()}}))
""")


def _without_permission_override() -> None:
    """In the child, before exec: root gives up the capabilities that let it write
    where the permissions say no (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so a folder
    without write permission is read-only for it too."""
    if os.geteuid() != 0:
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _run_read_only(folder: Path) -> tuple[dict, str]:
    """Score 10 samples with the cache in `folder`, from a process that may not write
    there."""
    script = folder.parent / "read_only_run.py"
    script.write_text(READ_ONLY_RUN.format(repo=str(REPO), tests=str(Path(__file__).parent),
                                           cache=str(folder)))
    folder.chmod(0o555)
    for f in folder.iterdir():
        f.chmod(0o444)
    try:
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=300, preexec_fn=_without_permission_override)
    finally:
        folder.chmod(0o755)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_a_read_only_cache_folder_is_read_and_not_written(tmp_path):
    folder = tmp_path / "cache"
    ScoreCache(folder)  # created empty first: the warm part below is 6 of 10 samples
    samples = [Sample(f"s{i}", f"candidate number {i} " * (i % 3 + 1), (f"ref {i}",))
               for i in range(10)]
    score_with_cache(SlowLengthMetric(), samples[:6], ScoreCache(folder), progress=False)
    before = {f.name: f.read_bytes() for f in folder.iterdir()}
    result, stderr = _run_read_only(folder)
    assert result["read_only"] is True
    assert (result["cached"], result["computed"], result["scored"]) == (6, 4, 4)
    assert result["cached_again"] == 6  # the 4 new ones were not kept
    assert result["scores"] == SlowLengthMetric().score(samples).scores.tolist()
    assert stderr.count("read-only") == 1 and "not cached" in stderr
    assert {f.name: f.read_bytes() for f in folder.iterdir()} == before


def test_an_empty_read_only_cache_folder_scores_without_caching(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    result, stderr = _run_read_only(folder)
    assert (result["cached"], result["computed"], result["cached_again"]) == (0, 10, 0)
    assert stderr.count("read-only") == 1
    assert list(folder.iterdir()) == []
