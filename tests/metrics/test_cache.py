"""The score cache: nothing recomputed, killed runs resume, damage is never read."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from metrics import Sample, ScoreCache, get_metric, score_with_cache

sys.path.insert(0, str(Path(__file__).parent))
from slow_metric import SlowLengthMetric  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLES = [Sample(f"s{i}", f"candidate number {i} " * (i % 3 + 1), (f"ref {i}",)) for i in range(60)]


def test_second_run_scores_nothing_anew(tmp_path):
    cache = ScoreCache(tmp_path)
    metric = SlowLengthMetric()
    first, stats1 = score_with_cache(metric, SAMPLES, cache, progress=False)
    assert (stats1.cached, stats1.computed) == (0, 60) and metric.scored == 60
    again = SlowLengthMetric()
    second, stats2 = score_with_cache(again, SAMPLES, ScoreCache(tmp_path), progress=False)
    assert (stats2.cached, stats2.computed) == (0 + 60, 0) and again.scored == 0
    np.testing.assert_array_equal(first.scores, second.scores)
    np.testing.assert_array_equal(second.extras["double"], 2 * first.scores)


def test_only_new_samples_are_scored(tmp_path):
    cache = ScoreCache(tmp_path)
    score_with_cache(SlowLengthMetric(), SAMPLES[:30], cache, progress=False)
    metric = SlowLengthMetric()
    _, stats = score_with_cache(metric, SAMPLES, cache, progress=False)
    assert (stats.cached, stats.computed, metric.scored) == (30, 30, 30)


def test_changed_input_or_setting_is_a_miss(tmp_path):
    cache = ScoreCache(tmp_path)
    score_with_cache(get_metric("bleu1"), SAMPLES[:3], cache, progress=False)
    changed = [Sample("s0", SAMPLES[0].candidate, ("another reference",))] + SAMPLES[1:3]
    _, stats = score_with_cache(get_metric("bleu1"), changed, cache, progress=False)
    assert (stats.cached, stats.computed) == (2, 1)
    _, stats = score_with_cache(get_metric("bleu2"), SAMPLES[:3], cache, progress=False)
    assert stats.computed == 3


def test_images_are_keyed_by_content(tmp_path):
    from metrics.base import sample_key

    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.write_bytes(b"same bytes")
    b.write_bytes(b"same bytes")
    s1 = Sample("x", "cap", (), str(a))
    s2 = Sample("x", "cap", (), str(b))
    assert sample_key(s1, use_image=True) == sample_key(s2, use_image=True)
    b.write_bytes(b"other bytes")
    assert sample_key(s1, use_image=True) != sample_key(s2, use_image=True)


def test_corpus_dependent_metric_is_cached_per_corpus(tmp_path):
    cache = ScoreCache(tmp_path)
    samples = [Sample(f"c{i}", f"a dog number {i}", (f"a dog {i}", "a cat")) for i in range(4)]
    full, _ = score_with_cache(get_metric("cider"), samples, cache, progress=False)
    part, stats = score_with_cache(get_metric("cider"), samples[:2], cache, progress=False)
    assert stats.computed == 2
    np.testing.assert_allclose(part.scores, get_metric("cider").score(samples[:2]).scores)
    again, stats = score_with_cache(get_metric("cider"), samples, cache, progress=False)
    assert stats.cached == 4
    np.testing.assert_array_equal(again.scores, full.scores)


def test_nan_is_not_cached(tmp_path):
    cache = ScoreCache(tmp_path)
    samples = [Sample("e", "", ("r",)), Sample("f", "fine", ("r",))]
    out, _ = score_with_cache(get_metric("bleu1"), samples, cache, progress=False)
    assert np.isnan(out.scores[0]) and out.failures == {"e": "empty candidate"}
    _, stats = score_with_cache(get_metric("bleu1"), samples, cache, progress=False)
    assert (stats.cached, stats.computed) == (1, 1)


def test_damaged_file_is_set_aside_and_rebuilt(tmp_path):
    cache = ScoreCache(tmp_path)
    score_with_cache(SlowLengthMetric(), SAMPLES[:5], cache, progress=False)
    cache.close()
    path = tmp_path / "scores.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    rebuilt = ScoreCache(tmp_path)
    assert rebuilt.count() == 0
    assert list(tmp_path.glob("scores.sqlite.damaged-*"))
    metric = SlowLengthMetric()
    out, stats = score_with_cache(metric, SAMPLES[:5], rebuilt, progress=False)
    assert stats.computed == 5
    np.testing.assert_array_equal(out.scores, SlowLengthMetric().score(SAMPLES[:5]).scores)


WORKER = textwrap.dedent("""
    import sys
    sys.path[:0] = [{repo!r}, {tests!r}]
    from metrics import Sample, ScoreCache, score_with_cache
    from slow_metric import SlowLengthMetric
    samples = [Sample(f"s{{i}}", f"candidate number {{i}} " * (i % 3 + 1), (f"ref {{i}}",)) for i in range(60)]
    metric = SlowLengthMetric(delay={delay}, progress_file={progress!r})
    score_with_cache(metric, samples, ScoreCache({cache!r}), progress=False)
""")


def _worker(tmp_path, delay, progress, name):
    script = tmp_path / f"{name}.py"
    script.write_text(WORKER.format(repo=str(REPO), tests=str(Path(__file__).parent), delay=delay,
                                    progress=str(progress), cache=str(tmp_path / "cache")))
    return subprocess.Popen([sys.executable, str(script)])


def test_killed_run_resumes_with_the_same_scores(tmp_path):
    progress = tmp_path / "progress.txt"
    proc = _worker(tmp_path, 0.5, progress, "killed")
    deadline = time.time() + 60
    while time.time() < deadline:
        if progress.exists() and len(progress.read_text().split()) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before_kill = len(progress.read_text().split())
    assert 2 <= done_before_kill < 6, "the worker should have been killed mid-way"
    metric = SlowLengthMetric()
    resumed, stats = score_with_cache(metric, SAMPLES, ScoreCache(tmp_path / "cache"), progress=False)
    # the kill may land between a chunk's scoring and its commit
    assert stats.cached in (10 * (done_before_kill - 1), 10 * done_before_kill)
    assert stats.cached >= 10
    assert metric.scored == 60 - stats.cached
    uninterrupted = SlowLengthMetric().score(SAMPLES)
    np.testing.assert_array_equal(resumed.scores, uninterrupted.scores)


def test_two_runs_sharing_one_cache(tmp_path):
    procs = [_worker(tmp_path, 0.05, tmp_path / f"p{i}.txt", f"w{i}") for i in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    cache = ScoreCache(tmp_path / "cache")
    metric = SlowLengthMetric()
    out, stats = score_with_cache(metric, SAMPLES, cache, progress=False)
    assert stats.computed == 0 and metric.scored == 0
    np.testing.assert_array_equal(out.scores, SlowLengthMetric().score(SAMPLES).scores)


def test_a_damaged_file_found_by_two_openers_is_repaired_and_reported_once(tmp_path, caplog,
                                                                            monkeypatch):
    """Two runs (here threads, each with its own connection) open the same
    damaged cache; both see the damage before either repairs it. One sets it
    aside and warns; the other finds the rebuilt file and says nothing."""
    import logging
    import threading

    path = tmp_path / "scores.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    original = ScoreCache._open
    both_failed = threading.Barrier(2, timeout=30)
    first_call = threading.local()

    def open_in_step(self):
        if getattr(first_call, "done", False):
            return original(self)
        first_call.done = True
        try:
            return original(self)
        finally:
            both_failed.wait()  # neither goes on before both have looked once

    monkeypatch.setattr(ScoreCache, "_open", open_in_step)
    caches, errors = [], []

    def open_cache():
        try:
            caches.append(ScoreCache(tmp_path))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    with caplog.at_level(logging.WARNING, logger="metrics.cache"):
        threads = [threading.Thread(target=open_cache) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    warnings = [r for r in caplog.records if "is damaged" in r.getMessage()]
    assert len(warnings) == 1
    assert len(list(tmp_path.glob("scores.sqlite.damaged-*"))) == 1
    monkeypatch.setattr(ScoreCache, "_open", original)
    again = ScoreCache(tmp_path)  # the rebuilt file is sound: no further warning
    again.put_scores("sig", [("k", 1.0, {})])
    assert again.get_scores("sig", ["k"]) == {"k": (1.0, {})}
    assert len([r for r in caplog.records if "is damaged" in r.getMessage()]) == 1
