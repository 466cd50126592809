"""Errors that used to end in a traceback: each is now one line naming the problem and
the option or file, exit 2 (usage or data) or 1 (the machine: a full disk, a folder
removed or made read-only during the run), with no temporary file left behind.

Read-only and full folders are simulated in-process (tests/helpers/faults.py), so
the tests hold when run as root too; the full score cache is a real SQLite
"database or disk is full" (its page limit set to the pages it has)."""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from experiments import fetch_data, fleur_scores, run_correlation
from experiments.make_figures import main as make_figures
from experiments.pipeline.settings import AnalysisSettings
from metrics import ScoreCache, registry
from tests.helpers.faults import FULL, READ_ONLY, refuse_writes
from tests.helpers.files import read_csv

BASE = ["--metrics", "bleu1", "--bootstrap", "20", "--permutations", "20", "--quiet"]


def _main(argv) -> int:
    try:
        return run_correlation.main(argv)
    except SystemExit as exc:  # argparse's usage errors
        return exc.code


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(" ")]
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1, err
    return errors[0]


def _leftovers(folder: Path) -> list[str]:
    """Temporary files in the folder, and anything a run set beside it but the lock."""
    beside = [p.name for p in folder.parent.glob(f".{folder.name}.*")
              if not p.name.endswith(".lock")]
    return sorted(beside + [p.name for p in folder.rglob("*")
                            if p.name.endswith((".tmp", ".part"))])


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def earlier_run(tmp_path) -> Path:
    """A results folder a first, complete run wrote."""
    out = tmp_path / "out"
    assert _main(BASE + ["--out", str(out), "--cache-dir", str(tmp_path / "cache")]) == 0
    return out


# --- usage errors: exit 2, nothing written -----------------------------------------

@pytest.mark.parametrize("argv,message", [
    (["--seed", "-1"], "error: argument --seed: -1 is out of range"),
    (["--device", "foo"], "error: argument --device: device 'foo' is not a device: give auto, "
                          "cpu, cuda, cuda:N or mps"),
])
def test_a_bad_seed_or_device_is_a_usage_error(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    assert _main(BASE + argv + ["--out", str(out), "--cache-dir", str(tmp_path / "c")]) == 2
    assert message in _one_error_line(capsys.readouterr().err)
    assert not out.exists() and not (tmp_path / "c").exists()


def test_analysis_settings_name_the_seed():
    with pytest.raises(ValueError, match=r"^--seed -1 is out of range$"):
        AnalysisSettings(seed=-1)


@pytest.mark.parametrize("cache", ["file", "file/sub"])
def test_a_cache_dir_that_is_a_file_is_a_usage_error_before_the_out_folder(tmp_path, capsys,
                                                                          cache):
    (tmp_path / "file").write_text("mine")
    out = tmp_path / "out"
    assert _main(BASE + ["--out", str(out), "--cache-dir", str(tmp_path / cache)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"error: --cache-dir {tmp_path / cache} " in line
    assert ("is a file, not a folder" if cache == "file" else "which is a file") in line
    assert (tmp_path / "file").read_text() == "mine"
    assert not out.exists()


# --- the machine: exit 1, previous results kept, no temporary file ----------------

@pytest.mark.parametrize("kind,reason", [(FULL, "No space left on device"),
                                         (READ_ONLY, "Read-only file system")])
def test_out_full_or_read_only_during_the_run(earlier_run, tmp_path, capsys, monkeypatch,
                                             kind, reason):
    before = _snapshot(earlier_run)
    refused = refuse_writes(monkeypatch, earlier_run, kind, after=2)  # two files get written
    assert _main(BASE + ["--out", str(earlier_run), "--cache-dir", str(tmp_path / "cache"),
                         "--seed", "1"]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: --out {earlier_run}: cannot write ")
    assert line.endswith(reason)
    assert refused
    assert _snapshot(earlier_run) == before
    assert _leftovers(earlier_run) == []


def test_a_full_disk_when_the_run_record_is_written_keeps_the_previous_results(
        earlier_run, tmp_path, capsys, monkeypatch):
    before = _snapshot(earlier_run)
    written = len(json.loads((earlier_run / "run.json").read_text())["files"])
    # the folder's write probe and every result file get written, run.json does not
    refuse_writes(monkeypatch, earlier_run, FULL, after=1 + written)
    assert _main(BASE + ["--out", str(earlier_run), "--cache-dir", str(tmp_path / "cache"),
                         "--seed", "1"]) == 1
    assert _one_error_line(capsys.readouterr().err) == (
        f"error: --out {earlier_run}: cannot write run.json: No space left on device")
    assert _snapshot(earlier_run) == before
    assert _leftovers(earlier_run) == []


def test_out_removed_during_the_run(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    real = run_correlation.analyse

    def remove_then_analyse(*args, **kwargs):
        shutil.rmtree(out)
        return real(*args, **kwargs)

    monkeypatch.setattr(run_correlation, "analyse", remove_then_analyse)
    assert _main(BASE + ["--out", str(out), "--cache-dir", str(tmp_path / "cache")]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: --out {out}: cannot write ")
    assert line.endswith("No such file or directory (the folder was removed during the run)")
    assert not out.exists()


def _fill_the_cache_disk(monkeypatch) -> None:
    """Every score cache opened from now on is full once its tables exist (SQLite's own
    "database or disk is full", through its page limit)."""
    real_open = ScoreCache._open

    def full_after_schema(self):
        conn = real_open(self)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages}")
        return conn

    monkeypatch.setattr(ScoreCache, "_open", full_after_schema)


def test_a_full_score_cache_stops_the_run_keeping_what_it_stored(tmp_path, capsys,
                                                                monkeypatch):
    cache_dir, out = tmp_path / "cache", tmp_path / "out"
    _fill_the_cache_disk(monkeypatch)
    assert _main(BASE + ["--out", str(out), "--cache-dir", str(cache_dir)]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert line == (f"error: score cache {cache_dir / 'scores.sqlite'}: cannot store 408 scores "
                    "(database or disk is full); the scores stored before stay cached")
    assert not out.exists() or _leftovers(out) == []
    monkeypatch.undo()
    assert ScoreCache(cache_dir).count() == 0  # the failed chunk was rolled back, not half-kept


def test_plan_study_on_a_full_score_cache_says_so_in_one_line(tmp_path, capsys, monkeypatch):
    from experiments import plan_study

    _fill_the_cache_disk(monkeypatch)
    cache_dir = tmp_path / "cache"
    assert plan_study.main(["--benchmark", "demo", "--metrics", "bleu1", "--value", "0.5",
                            "--cache-dir", str(cache_dir), "--out", str(tmp_path / "plan"),
                            "--quiet"]) == 1
    assert _one_error_line(capsys.readouterr().err).startswith(
        f"error: score cache {cache_dir / 'scores.sqlite'}: cannot store ")
    assert not (tmp_path / "plan").exists()


# --- a lone surrogate in a user's file -----------------------------------------------

def test_a_lone_surrogate_in_a_user_file_names_the_file_and_line(tmp_path, capsys):
    mine = tmp_path / "mine.jsonl"
    rows = [{"candidate": "a dog runs", "score": 3}, {"candidate": "a cat \\ud800 sits",
                                                       "score": 1}]
    mine.write_text("\n".join(json.dumps(r).replace("\\\\", "\\") for r in rows) + "\n")
    out = tmp_path / "out"
    assert _main(BASE + ["--benchmark", f"mine={mine}", "--out", str(out)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == (f"error: {mine}:2: text 'a cat \\ud800 sits' holds a lone surrogate "
                    "(\\ud800: half of a character), which is not valid Unicode")
    assert not out.exists()


# --- a plugin metric that breaks its contract ----------------------------------------

FIRST_CHUNK = "'h:demo00:0:0'..'h:demo00:1:1'"  # the demo's first three samples


@pytest.mark.parametrize("behaviour,says", [
    ("too_few", "returned scores of shape (2,) for 3 samples (one per sample)"),
    ("strings", f"raised ValueError on samples {FIRST_CHUNK}: MetricOutput scores must "
                "be numbers, found text 'good'"),
    ("two_columns", f"raised ValueError on samples {FIRST_CHUNK}: MetricOutput scores "
                    "must be one number per sample (shape (n,)), found shape (3, 2)"),
    ("list", "returned list '[1.0, 1.0, 1.0]', not a MetricOutput"),
])
def test_a_plugin_returning_the_wrong_scores_is_named_with_what_it_returned(
        tmp_path, capsys, monkeypatch, behaviour, says):
    monkeypatch.setitem(registry._REGISTRY, "broken",
                        ("tests.helpers.broken_metric", "Broken", {"behaviour": behaviour}))
    monkeypatch.setitem(registry._SOURCES, "broken", "plugin (module tests.helpers.broken_metric)")
    out = tmp_path / "out"
    argv = BASE[2:] + ["--metrics", "bleu1,broken", "--metric-option", "broken.chunk=3",
                       "--out", str(out), "--cache-dir", str(tmp_path / "cache")]
    assert _main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert ("error: broken could not run on demo: metric 'broken' (plugin (module "
            f"tests.helpers.broken_metric)) {says}") in err
    assert {r["metric"] for r in read_csv(out / "scores.csv")} == {"bleu1"}  # the rest is written


def test_a_plugin_raising_in_a_chunk_keeps_the_chunks_before_it_cached(tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setitem(registry._REGISTRY, "broken",
                        ("tests.helpers.broken_metric", "Broken", {"behaviour": "raises"}))
    monkeypatch.setitem(registry._SOURCES, "broken", "plugin (module tests.helpers.broken_metric)")
    cache_dir = tmp_path / "cache"
    argv = BASE[2:] + ["--metrics", "broken", "--metric-option", "broken.chunk=3",
                       "--out", str(tmp_path / "out"), "--cache-dir", str(cache_dir)]
    assert _main(argv) == 1
    line = [l for l in capsys.readouterr().err.splitlines() if "could not run" in l][0]
    assert line.startswith("error: broken could not run on demo: metric 'broken' (plugin")
    assert line.endswith("raised ZeroDivisionError on samples 'h:demo00:2:0'..'h:demo01:0:0': "
                         "division by zero")
    assert ScoreCache(cache_dir).count() == 3  # the first chunk of 3, scored before


# --- the other commands ------------------------------------------------------------

def test_fetch_data_refuses_a_data_dir_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "data"
    target.write_text("mine")
    for extra in ([], ["--check"]):
        assert fetch_data.main(["thumb", "--data-dir", str(target), "--quiet", *extra]) == 2
        assert f"error: --data-dir {target} is a file, not a folder" in \
            _one_error_line(capsys.readouterr().err)
    assert target.read_text() == "mine"


def test_fetch_data_refuses_a_read_only_data_dir_before_downloading(tmp_path, capsys,
                                                                    monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    refuse_writes(monkeypatch, data, READ_ONLY)
    monkeypatch.setattr(fetch_data, "fetch", lambda *a, **k: pytest.fail("fetched"))
    assert fetch_data.main(["thumb", "--data-dir", str(data), "--quiet"]) == 2
    assert (f"error: --data-dir {data}: cannot write there (Read-only file system)"
            in _one_error_line(capsys.readouterr().err))


def test_fetch_data_on_a_full_disk_stops_with_one_line_and_no_part_file(tmp_path, capsys,
                                                                        monkeypatch):
    served = tmp_path / "served.jsonl"
    served.write_text('{"x": 1}\n' * 1000)
    data = tmp_path / "data"
    real_fetch = fetch_data.fetch
    monkeypatch.setattr(fetch_data, "fetch", lambda *a, **k: real_fetch(
        *a, **k, url_for=lambda url: served.as_uri()))
    (data / "thumb").mkdir(parents=True)  # a full disk refuses new folders too
    refuse_writes(monkeypatch, data, FULL)
    assert fetch_data.main(["thumb", "--data-dir", str(data), "--quiet"]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: --data-dir {data}: cannot write {data / 'thumb'}/.")
    assert line.endswith(".part: No space left on device; the files fetched before it are kept")
    assert _leftovers(data) == []


def test_make_figures_refuses_an_out_that_is_a_file(earlier_run, tmp_path, capsys):
    target = tmp_path / "figures"
    target.write_text("mine")
    assert make_figures(["--results", str(earlier_run), "--out", str(target), "--quiet"]) == 2
    assert (f"error: --out {target} is a file, not a folder"
            in _one_error_line(capsys.readouterr().err))
    assert target.read_text() == "mine"


def test_fleur_scores_names_a_missing_fleur_file_and_an_out_that_is_a_folder(tmp_path, capsys):
    given = tmp_path / "fleur.txt"
    given.write_text("image file : 1.jpg\n")
    missing = tmp_path / "nothing.txt"
    base = ["--benchmark", "flickr8k-expert", "--data-dir", str(tmp_path)]
    assert fleur_scores.main(base + ["--fleur", str(given), str(missing),
                                     "--out", str(tmp_path / "f.csv")]) == 2
    assert (f"error: --fleur: file not found: {missing}"
            in _one_error_line(capsys.readouterr().err))
    folder = tmp_path / "folder"
    folder.mkdir()
    assert fleur_scores.main(base + ["--fleur", str(given), "--out", str(folder)]) == 2
    assert (f"error: --out {folder} is a folder: give the file to write"
            in _one_error_line(capsys.readouterr().err))
    assert list(folder.iterdir()) == [] and not (tmp_path / "f.csv").exists()
