"""Scoring shows a progress bar on stderr: samples scored of all, the cache's hits
counted, named by what is scored; progress=False shows nothing."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from metrics import Sample, ScoreCache, score_with_cache

sys.path.insert(0, str(Path(__file__).parent))
from slow_metric import SlowLengthMetric  # noqa: E402

SAMPLES = [Sample(f"s{i}", f"candidate {i}", (f"ref {i}",)) for i in range(25)]
BAR = re.compile(r"(?P<label>[^\r\n]*?): +\d+%\|[^|]*\| (?P<done>\d+)/(?P<total>\d+) "
                 r"\[[^\]]*?(?P<cached>\d+) from cache\]")


def bar_states(err: str) -> list[tuple[str, int, int, int]]:
    """(label, done, total, from cache) of every state the bar was drawn in."""
    return [(m["label"].strip(), int(m["done"]), int(m["total"]), int(m["cached"]))
            for m in BAR.finditer(err)]


def test_the_bar_counts_every_sample_and_the_cache_hits(tmp_path, capsys):
    cache = ScoreCache(tmp_path)
    score_with_cache(SlowLengthMetric(chunk_size=10), SAMPLES[:15], cache, progress=False)
    assert capsys.readouterr().err == ""
    out, stats = score_with_cache(SlowLengthMetric(chunk_size=10), SAMPLES, cache,
                                  label="mine: slow_length")
    states = bar_states(capsys.readouterr().err)
    assert (stats.cached, stats.computed) == (15, 10)
    assert states[0] == ("mine: slow_length", 15, 25, 15)
    assert states[-1] == ("mine: slow_length", 25, 25, 15)


def test_without_a_cache_the_bar_still_counts(capsys):
    score_with_cache(SlowLengthMetric(chunk_size=7), SAMPLES, None)
    states = bar_states(capsys.readouterr().err)
    assert states[0] == ("slow_length", 0, 25, 0) and states[-1] == ("slow_length", 25, 25, 0)
