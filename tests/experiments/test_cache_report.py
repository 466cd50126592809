"""What the cache did to a metric's scores is in report.md: cached scores that failed
their checksum are counted there (and were computed again)."""
from __future__ import annotations

import csv
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    args = ["--plugin", "tests.helpers.interrupt_at", "--metrics", "probe", "--out", str(out),
            "--cache-dir", str(tmp_path / "cache"), "--quiet", "--bootstrap", "20",
            "--permutations", "20"]
    done = subprocess.run([sys.executable, "-m", "tests.helpers.interrupt_at", "never",
                           "experiments.run_correlation", *args], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return out


def _scores(out: Path) -> list[str]:
    with open(out / "scores.csv", newline="") as f:
        return [row["score"] for row in csv.DictReader(f) if row["metric"] == "probe"]


def test_altered_cached_scores_are_counted_in_the_report(tmp_path):
    first = _scores(_run(tmp_path))
    conn = sqlite3.connect(tmp_path / "cache" / "scores.sqlite", isolation_level=None)
    conn.execute("UPDATE scores SET score=score*2 WHERE key IN "
                 "(SELECT key FROM scores ORDER BY key LIMIT 3)")
    conn.close()
    out = _run(tmp_path)
    assert _scores(out) == first
    report = (out / "report.md").read_text()
    assert "3 cached scores failed their checksum (set aside in the cache) and were " \
           "computed again" in report
