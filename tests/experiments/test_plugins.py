"""Metrics and benchmarks from other packages: entry points of a package the test
builds and pip-installs into a temporary folder (never the project's venv), and
--plugin on a module the test writes. The commands run in this process (a subprocess
would import torch anew for every `--list`) with `plugin_sandbox`, which puts the
registries of this test session back as they were."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest
from scipy.stats import kendalltau

REPO = Path(__file__).resolve().parents[2]

# A toy metric (number of words) and a toy benchmark (five captions, their ratings).
TOY_MODULE = '''
import numpy as np
from metrics.base import Metric, MetricOutput, Sample
from experiments.benchmarks.base import Benchmark, ProtocolStep, Ratings

CAPTIONS = ["a dog", "a dog on grass", "two dogs run on the grass", "a cat",
            "a black cat sleeps on a red sofa today"]
HUMAN = [1.0, 3.0, 4.0, 2.0, 5.0]


class WordCount(Metric):
    """Number of words in the candidate: a toy metric from a plugin."""

    name = "{metric}"

    def _score_chunk(self, samples):
        return MetricOutput(np.array([len(s.candidate.split()) for s in samples], float))


def load(data_dir=None, image_root=None):
    """Five toy captions rated 1-5, from a plugin."""
    samples = [Sample(f"t{{k}}", c) for k, c in enumerate(CAPTIONS)]
    ratings = Ratings([s.id for s in samples], np.array(HUMAN))
    return Benchmark(name="{bench}", samples=samples, ratings=ratings,
                     protocol=[ProtocolStep("kendall_c", "flat")], citation="toy")
'''
EXPECTED = kendalltau([2, 4, 6, 2, 9], [1.0, 3.0, 4.0, 2.0, 5.0], variant="c").statistic


class Ran(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def _run(args: list[str], cwd: Path, pythonpath: list[Path], capsys) -> Ran:
    """`python -m experiments.run_correlation ARGS` run in this process from `cwd`, with
    `pythonpath` first on sys.path (the test's `plugin_sandbox` puts both back)."""
    from experiments.run_correlation import main

    os.chdir(cwd)
    sys.path[:0] = [str(p) for p in pythonpath]
    capsys.readouterr()
    try:
        code = main(args)
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return Ran(code, out, err)


def _flat_value(out: Path, metric: str) -> float:
    with open(out / "correlations.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["metric"] == metric]
    assert len(rows) == 1, rows
    return float(rows[0]["value"])


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory) -> Path:
    """A package declaring a metric, a benchmark and a broken metric as entry points,
    pip-installed into a temporary folder."""
    root = tmp_path_factory.mktemp("plugin")
    src = root / "src"
    (src / "toy_metaeval").mkdir(parents=True)
    (src / "toy_metaeval" / "__init__.py").write_text(
        TOY_MODULE.format(metric="toy_words", bench="toy_bench"))
    (src / "toy_metaeval" / "broken.py").write_text("import a_module_that_does_not_exist\n")
    (src / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "toy-metaeval"
        version = "0.1"

        [tool.setuptools]
        packages = ["toy_metaeval"]

        [project.entry-points."socratis_metaeval.metrics"]
        toy_words = "toy_metaeval:WordCount"
        toy_broken = "toy_metaeval.broken:Metric"

        [project.entry-points."socratis_metaeval.benchmarks"]
        toy_bench = "toy_metaeval:load"
    '''))
    target = root / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--no-build-isolation", "--no-index", "--target", str(target),
                           str(src)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return target


@pytest.mark.slow
def test_entry_points_seen_by_list_help_and_list_metrics(installed_plugin, tmp_path, capsys,
                                                         plugin_sandbox):
    plugin_sandbox("toy_metaeval")
    listed = _run(["--list"], tmp_path, [installed_plugin], capsys)
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    assert "toy_words" in out and "Number of words in the candidate" in out
    assert "source: plugin (toy-metaeval); can run here: yes" in out
    broken = out[out.index("toy_broken"):]
    assert "can run here: no:" in broken and "a_module_that_does_not_exist" in broken
    assert "toy_bench" in out and "Five toy captions rated 1-5" in out
    assert "bleu4" in out and "source: built-in" in out
    helped = _run(["--help"], tmp_path, [], capsys)
    assert "toy_words" in helped.stdout and "toy_bench" in helped.stdout
    from metrics import list_metrics

    api = str(list_metrics())
    assert "'toy_words'" in api and "'toy_broken'" in api


def test_entry_point_metric_and_benchmark_run(installed_plugin, tmp_path, capsys,
                                              plugin_sandbox):
    plugin_sandbox("toy_metaeval")
    out = tmp_path / "res"
    done = _run(["--benchmark", "toy_bench", "--metrics", "toy_words", "--out", str(out),
                 "--bootstrap", "20", "--permutations", "10", "--quiet"], tmp_path,
                [installed_plugin], capsys)
    assert done.returncode == 0, done.stderr
    assert _flat_value(out, "toy_words") == pytest.approx(EXPECTED, abs=1e-12)


def test_broken_plugin_is_an_error_when_named_and_skipped_otherwise(installed_plugin, tmp_path,
                                                                    capsys, plugin_sandbox):
    plugin_sandbox("toy_metaeval")
    named = _run(["--benchmark", "toy_bench", "--metrics", "toy_words,toy_broken", "--out",
                  str(tmp_path / "r")], tmp_path, [installed_plugin], capsys)
    assert named.returncode == 2
    assert "toy_broken" in named.stderr and "a_module_that_does_not_exist" in named.stderr
    # not named: every registered metric is tried, and this one is skipped with its error
    import argparse

    from experiments.benchmarks import load_benchmark
    from experiments.run_correlation import score_metric

    args = argparse.Namespace(device="cpu", batch_size=None, quiet=True)
    run = score_metric(load_benchmark("toy_bench"), "toy_broken", {}, args, None)
    assert run.skipped.startswith("metric 'toy_broken' from plugin (toy-metaeval)"), run.skipped
    assert "a_module_that_does_not_exist" in run.skipped


@pytest.mark.slow
def test_plugin_module_option(tmp_path, capsys, plugin_sandbox):
    plugin_sandbox("my_metrics")
    module = TOY_MODULE.format(metric="toy_local_words", bench="toy_local") + textwrap.dedent('''
        from metrics import register_metric
        from experiments.benchmarks import register_benchmark
        register_metric("toy_local_words", __name__, "WordCount")
        register_benchmark("toy_local", "", __name__, "load")
    ''')
    (tmp_path / "my_metrics.py").write_text(module)
    out = tmp_path / "res"
    done = _run(["--plugin", "my_metrics", "--benchmark", "toy_local", "--metrics",
                 "toy_local_words", "--out", str(out), "--bootstrap", "20", "--permutations",
                 "10", "--quiet"], tmp_path, [], capsys)
    assert done.returncode == 0, done.stderr
    assert _flat_value(out, "toy_local_words") == pytest.approx(EXPECTED, abs=1e-12)
    listed = _run(["--plugin", "my_metrics", "--list"], tmp_path, [], capsys)
    assert "source: plugin (module my_metrics)" in listed.stdout
    missing = _run(["--plugin", "not_there", "--list"], tmp_path, [], capsys)
    assert missing.returncode == 2
    assert "--plugin not_there: import failed" in missing.stderr
