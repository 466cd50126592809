"""A long call is also cached whole: the same call again reads one record and gives
every score and extra bit for bit as the rows do; anything else reads the rows."""
from __future__ import annotations

import logging
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest

from metrics import Sample, ScoreCache, score_with_cache
from metrics import cache as cache_module

sys.path.insert(0, str(Path(__file__).parent))
from slow_metric import SlowLengthMetric  # noqa: E402

SAMPLES = [Sample(f"s{i}", f"candidate number {i} " * (i % 3 + 1), (f"ref {i}",))
           for i in range(25)]


@pytest.fixture(autouse=True)
def _short_calls_count(monkeypatch):
    monkeypatch.setattr(cache_module, "WHOLE_CALL_MIN_SAMPLES", 20)


class RowsCounted(ScoreCache):
    """A cache that counts the rows it is asked for."""

    rows_asked = 0

    def get_scores(self, signature, keys):
        RowsCounted.rows_asked += len(keys)
        return super().get_scores(signature, keys)


def _whole_call_records(folder: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(folder / "scores.sqlite")
    rows = conn.execute("SELECT namespace, value FROM blobs WHERE namespace LIKE 'whole-call:%'")
    found = rows.fetchall()
    conn.close()
    return found


def test_the_same_call_again_reads_one_record_with_the_same_bits(tmp_path):
    first, _ = score_with_cache(SlowLengthMetric(), SAMPLES, ScoreCache(tmp_path), progress=False)
    assert len(_whole_call_records(tmp_path)) == 1
    metric, cache = SlowLengthMetric(), RowsCounted(tmp_path)
    RowsCounted.rows_asked = 0
    again, stats = score_with_cache(metric, SAMPLES, cache, progress=False)
    assert (stats.cached, stats.computed, metric.scored, RowsCounted.rows_asked) == (25, 0, 0, 0)
    assert again.scores.tobytes() == first.scores.tobytes()
    assert again.extras.keys() == {"double"}
    assert again.extras["double"].tobytes() == first.extras["double"].tobytes()
    # What the rows give, read one by one, is the same.
    rows = {key: value for key, value in cache.get_scores(
        SlowLengthMetric().signature(), cache_module.cache_keys(metric, SAMPLES)).items()}
    assert [rows[k][0] for k in cache_module.cache_keys(metric, SAMPLES)] == list(first.scores)


def test_another_order_subset_or_short_call_reads_the_rows(tmp_path):
    score_with_cache(SlowLengthMetric(), SAMPLES, ScoreCache(tmp_path), progress=False)
    for samples in (SAMPLES[::-1], SAMPLES[:22], SAMPLES[:5]):
        RowsCounted.rows_asked = 0
        out, stats = score_with_cache(SlowLengthMetric(), samples, RowsCounted(tmp_path),
                                      progress=False)
        assert (stats.cached, RowsCounted.rows_asked) == (len(samples), len(samples))
        expected = SlowLengthMetric().score(samples).scores
        np.testing.assert_array_equal(out.scores, expected)
    # The reversed and the 22-sample call are now kept whole too; the short one is not.
    assert len(_whole_call_records(tmp_path)) == 3


def test_a_call_with_a_nan_is_not_kept_whole(tmp_path):
    samples = SAMPLES[:24] + [Sample("empty", "", ("r",))]
    from metrics import get_metric

    out, _ = score_with_cache(get_metric("bleu1"), samples, ScoreCache(tmp_path), progress=False)
    assert np.isnan(out.scores[-1])
    assert _whole_call_records(tmp_path) == []
    _, stats = score_with_cache(get_metric("bleu1"), samples, ScoreCache(tmp_path),
                                progress=False)
    assert (stats.cached, stats.computed) == (24, 1)  # the NaN is tried again


def test_an_altered_whole_call_record_is_set_aside_and_the_rows_are_read(tmp_path, caplog):
    first, _ = score_with_cache(SlowLengthMetric(), SAMPLES, ScoreCache(tmp_path), progress=False)
    conn = sqlite3.connect(tmp_path / "scores.sqlite", isolation_level=None)
    conn.execute("UPDATE blobs SET value=replace(value, 'A', 'B') "
                 "WHERE namespace LIKE 'whole-call:%'")
    conn.close()
    RowsCounted.rows_asked = 0
    with caplog.at_level(logging.WARNING, logger="metrics.cache"):
        again, stats = score_with_cache(SlowLengthMetric(), SAMPLES, RowsCounted(tmp_path),
                                        progress=False)
    assert "1 cached whole-call record(s)" in caplog.text
    assert "its scores are read row by row" in caplog.text
    assert (stats.cached, stats.damaged, RowsCounted.rows_asked) == (25, 0, 25)
    assert again.scores.tobytes() == first.scores.tobytes()
    # the rows' answer is kept whole again, and serves the next call
    RowsCounted.rows_asked = 0
    third, _ = score_with_cache(SlowLengthMetric(), SAMPLES, RowsCounted(tmp_path),
                                progress=False)
    assert RowsCounted.rows_asked == 0 and third.scores.tobytes() == first.scores.tobytes()


def test_a_read_only_cache_keeps_nothing_whole(tmp_path):
    cache = ScoreCache(tmp_path)
    cache.read_only = True
    score_with_cache(SlowLengthMetric(), SAMPLES, cache, progress=False)
    assert _whole_call_records(tmp_path) == []


def test_the_record_keeps_every_bit_of_any_float():
    values = np.array([0.1, -0.0, 5e-324, 1.7976931348623157e308, np.nan, 1 / 3])
    back = cache_module._float_array(cache_module._float_text(values))
    assert back.tobytes() == values.tobytes() and back.flags.writeable


def test_a_whole_call_record_that_cannot_be_written_stops_nothing(tmp_path, monkeypatch, caplog):
    """A full disk at the end of a call whose every row is stored: a warning, the scores."""
    from metrics.cache import CacheWriteError

    expected, _ = score_with_cache(SlowLengthMetric(), SAMPLES, ScoreCache(tmp_path),
                                   progress=False)

    def full_disk(self, *args):
        raise CacheWriteError(f"score cache {self.path}: cannot store a whole call's scores "
                              "(database or disk is full)")

    cache = ScoreCache(tmp_path)
    cache._conn.execute("DELETE FROM blobs")
    monkeypatch.setattr(ScoreCache, "put_call", full_disk)
    with caplog.at_level(logging.WARNING, logger="metrics.cache"):
        out, stats = score_with_cache(SlowLengthMetric(), SAMPLES, cache, progress=False)
    assert stats.cached == 25 and out.scores.tobytes() == expected.scores.tobytes()
    assert "database or disk is full); the next run of this call reads its rows" in caplog.text
