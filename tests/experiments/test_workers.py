"""run_correlation --workers: the same bytes whatever the number of worker processes."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from experiments.run_correlation import main

REPO = Path(__file__).resolve().parents[2]
ARGS = ["--metrics", "bleu1,bleu4,rouge_l,cider", "--bootstrap", "40", "--permutations", "40",
        "--quiet", "--no-cache"]
FILES = ("correlations.csv", "comparisons.csv", "scores.csv", "report.md")


def test_one_and_two_workers_write_the_same_results(tmp_path):
    outs = {}
    for n in (1, 2):
        out = tmp_path / f"w{n}"
        assert main([*ARGS, "--workers", str(n), "--out", str(out)]) == 0
        outs[n] = {name: (out / name).read_bytes() for name in FILES}
    for name in FILES:
        assert outs[1][name] == outs[2][name], name
    assert b"cluster" in outs[1]["correlations.csv"]


def test_several_benchmarks_share_the_workers_with_the_same_results(tmp_path):
    """The examples' ratings (annotators: Krippendorff's alpha rows) and preferences
    (kappa rows) in one run: one process and two give the same bytes, and the second
    benchmark's rows are those of its run alone."""
    examples = REPO / "examples"
    ratings, preferences = f"mine={examples / 'ratings.csv'}", f"study={examples / 'preferences.csv'}"
    outs = {}
    for n in (1, 2):
        out = tmp_path / f"w{n}"
        assert main([*ARGS, "--benchmark", f"{ratings},{preferences}", "--workers", str(n),
                     "--out", str(out)]) == 0
        outs[n] = {name: (out / name).read_bytes() for name in FILES}
    for name in FILES:
        assert outs[1][name] == outs[2][name], name
    rows = list(csv.DictReader(io.StringIO(outs[2]["correlations.csv"].decode())))
    assert {"krippendorff_interval", "kappa"} <= {row["statistic"] for row in rows}
    assert main([*ARGS, "--benchmark", preferences, "--workers", "2",
                 "--out", str(tmp_path / "alone")]) == 0
    alone = list(csv.DictReader((tmp_path / "alone" / "correlations.csv").open(newline="")))
    assert alone == [row for row in rows if row["benchmark"] == "study"]


def test_background_gives_what_the_call_gives_with_and_without_fork():
    from experiments.pipeline.parallel import Background

    for fork in (True, False):
        with Background(sorted, [3, 1, 2], fork=fork) as job:
            assert job.get() == [1, 2, 3]


def test_workers_must_be_positive(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*ARGS, "--workers", "0", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "argument --workers: must be at least 1" in capsys.readouterr().err


# --workers default: the rule as a pure function of (cores, load average, work), no timing

from experiments.pipeline.parallel import SMALL_WORK, analysis_work, choose_workers  # noqa: E402
from experiments.pipeline.settings import AnalysisSettings  # noqa: E402


@pytest.mark.parametrize("cores, load, expected", [
    (2, 0.0, 2),     # idle: every core
    (2, 1.0, 2),     # the load is this process alone
    (2, 1.1, 1),     # another process holds part of a core (issue 23: 2 workers were slower)
    (2, 1.8, 1),
    (2, 9.0, 1),     # a crowded machine: still one
    (8, 3.5, 5),     # 2.5 cores held by others: 5.5 free, rounded down
    (8, 0.3, 8),
    (4, 2.0, 3),
])
def test_a_large_analysis_gets_the_free_cores(cores, load, expected):
    assert choose_workers(cores, load, SMALL_WORK) == expected
    assert choose_workers(cores, load, 100 * SMALL_WORK) == expected


@pytest.mark.parametrize("cores, load", [(2, 0.0), (16, 0.0), (16, 12.0)])
def test_a_small_analysis_runs_in_one_process(cores, load):
    assert choose_workers(cores, load, SMALL_WORK - 1) == 1
    assert choose_workers(cores, load, 0) == 1


def test_the_work_counts_rows_times_draws_per_view():
    class View:
        def __init__(self, rows):
            self.human = [0.0] * rows

    settings = AnalysisSettings(bootstrap=100, permutations=30)
    # 3 metrics: 3 intervals x 100 resamples + 3 pairs x 30 draws = 390 draws per row
    jobs = [(None, {"a": 0, "b": 0, "c": 0}, [View(10), View(5)]),
            (None, {"a": 0}, [View(7)])]             # 1 metric: 100 resamples, no pairs
    assert analysis_work(jobs, settings) == 15 * 390 + 7 * 100


def test_run_correlation_defaults_to_one_worker_on_a_small_analysis(tmp_path, monkeypatch):
    import experiments.pipeline.parallel as parallel
    import experiments.run_correlation as run

    used = []
    monkeypatch.setattr(parallel, "usable_cores", lambda: 16)
    monkeypatch.setattr(parallel, "runnable_others", lambda: 0.0)
    real = run.analyse
    monkeypatch.setattr(run, "analyse",
                        lambda jobs, settings, workers, **kw: used.append(workers)
                        or real(jobs, settings, workers, **kw))
    assert main([*ARGS, "--out", str(tmp_path)]) == 0
    assert used and set(used) == {1}
    assert parallel.default_workers(parallel.SMALL_WORK) == 16   # the same machine, large work


def test_free_cores_are_those_no_other_process_runs_on_now(monkeypatch):
    """The default counts the other processes runnable now (/proc/loadavg's 4th field,
    less the reader), not the 1-minute load average, which still counts a job that has
    just ended; without /proc it falls back to the load average."""
    import experiments.pipeline.parallel as parallel

    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)
    monkeypatch.setattr(parallel.os, "getloadavg", lambda: (1.9, 1.0, 1.0))
    monkeypatch.setattr(parallel, "runnable_others", lambda: 0.0)
    assert parallel.default_workers(parallel.SMALL_WORK) == 2
    monkeypatch.setattr(parallel, "runnable_others", lambda: 1.0)
    assert parallel.default_workers(parallel.SMALL_WORK) == 1
    monkeypatch.setattr(parallel, "runnable_others", lambda: None)
    assert parallel.default_workers(parallel.SMALL_WORK) == 1     # load 1.9: one other core busy


def test_runnable_others_reads_the_running_count(monkeypatch, tmp_path):
    import builtins

    import experiments.pipeline.parallel as parallel

    reads = iter(["0.50 0.40 0.30 3/120 999\n", "0.50 0.40 0.30 1/120 999\n"])
    real_open = builtins.open

    def fake_open(path, *args, **kwargs):
        if path == "/proc/loadavg":
            (tmp_path / "loadavg").write_text(next(reads))
            return real_open(tmp_path / "loadavg", *args, **kwargs)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    assert parallel.runnable_others(samples=2, interval=0.0) == 1.0   # (2 + 0) / 2
