"""Shared fixtures: the real human-judgment data beside the checkout, a temp cache, a
sandbox for plugins loaded in the test process; how the files go to xdist workers."""
from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("METAEVAL_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or skip: it holds the real judgments and is absent on a user's machine."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real human-judgment data not found at {SHARED_DATA} "
                    "(present in CI; set METAEVAL_SHARED_DATA to point elsewhere)")
    return SHARED_DATA


def _isolate(tmp_path_factory, monkeypatch) -> None:
    monkeypatch.setenv("METAEVAL_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def _isolated_session_cache(tmp_path_factory):
    """No module or session fixture touches the user's real score cache either (they are
    built before a test's own `_isolated_cache`)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        _isolate(tmp_path_factory, monkeypatch)
        yield


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """No test touches the user's real score cache."""
    _isolate(tmp_path_factory, monkeypatch)


# Files that share a session fixture, and so run on one worker.
SHARED_SESSION_FIXTURE = {
    # `demo_figures_drawn`: the demo run and its figures, drawn once per worker
    "tests/experiments/test_figures.py": "demo-figures",
    "tests/experiments/test_figure_layout.py": "demo-figures",
    "tests/experiments/test_latex.py": "demo-figures",
    # `pascal50s_score_cache`: the real PASCAL-50S scored once per worker
    "tests/experiments/test_caption_benchmarks.py": "pascal50s",
    "tests/experiments/test_plan_study.py": "pascal50s",
}


@pytest.fixture
def plugin_sandbox():
    """Plugins loaded in this process for one test: the metric and benchmark registries,
    their entry-point discovery, sys.path and the working folder are put back afterwards,
    and the modules `forget(*names)` names are dropped, so that the later tests of this
    process see the built-in registries (and a plugin file of the same name loads anew)."""
    from experiments import benchmarks
    from metrics import registry

    tables = (registry._REGISTRY, registry._SOURCES, benchmarks._BENCHMARKS,
              benchmarks._SOURCES)
    saved = [dict(table) for table in tables]
    path, cwd = list(sys.path), os.getcwd()
    modules: list[str] = []

    def rediscover() -> None:
        registry._discover.cache_clear()
        benchmarks._discover.cache_clear()
        importlib.invalidate_caches()

    def forget(*names: str) -> None:
        modules.extend(names)

    rediscover()
    yield forget
    os.chdir(cwd)
    sys.path[:] = path
    for table, copy in zip(tables, saved):
        table.clear()
        table.update(copy)
    for name in list(sys.modules):
        if name.partition(".")[0] in modules:
            del sys.modules[name]
    rediscover()


# Files whose tests run METEOR and the PTB tokenizer in this process: on one worker they
# share its one METEOR Java process (metrics/ngram.py; each start loads the paraphrase
# tables, about 10 s of CPU) and the tokenised texts. The last two also share
# `flickr8k_golden_run`, the real Flickr8k scored once.
JAVA_FILES = {"test_ngram.py", "test_java.py", "test_own_data_default_run.py",
              "test_golden_outputs.py", "test_flickr8k_published.py"}


def worker_group(nodeid: str) -> str:
    """The tests that run on one pytest-xdist worker: a file's (its module fixtures are
    built once), all Ray tests (files test_ray*.py), which share one Ray, or the files
    of `JAVA_FILES`, or the files that share a session fixture (`SHARED_SESSION_FIXTURE`)."""
    path = nodeid.split("::")[0]
    name = Path(path).name
    if name.startswith("test_ray"):
        return "ray"
    if name in JAVA_FILES:
        return "java"
    return SHARED_SESSION_FIXTURE.get(path, path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile` (setup.cfg) by `worker_group`. (xdist's own `xdist_group` marks
    do nothing with pytest 9.2 and xdist 3.8: xdist renames node ids
    through an attribute pytest 9 no longer reads.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_group(nodeid)

    return GroupScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    """On the xdist workers, groups with a test marked slow are handed out first: the long
    ones start at once and the short ones fill the gaps, so no worker is left with a long
    test at the end."""
    if hasattr(config, "workerinput"):
        slow = {worker_group(item.nodeid) for item in items if item.get_closest_marker("slow")}
        items.sort(key=lambda item: worker_group(item.nodeid) not in slow)


@pytest.fixture(scope="session")
def local_ray():
    """A Ray on this machine (127.0.0.1, two CPUs), started once for the tests that ask
    (under pytest-xdist they all run on one worker: see `worker_group`)."""
    ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install .[ray])")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False, _node_ip_address="127.0.0.1")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def flickr8k_golden_run(shared_data, tmp_path_factory) -> Path:
    """The results folder of test_golden_outputs' Flickr8k run (Expert and CF scored by
    bleu4, rouge_l and cider), run once on an empty score cache, as its report.md counts
    scores computed and cached: test_golden_outputs compares its files,
    test_flickr8k_published reads its scores (both files on one worker: `worker_group`)."""
    from experiments.run_correlation import main
    from tests.experiments.test_golden_outputs import run_args

    out = tmp_path_factory.mktemp("flickr8k-golden")
    cache = tmp_path_factory.mktemp("flickr8k-golden-cache")
    assert main(run_args("flickr8k", out, shared_data) + ["--cache-dir", str(cache)]) == 0
    return out


@pytest.fixture(scope="session")
def demo_figure_results(tmp_path_factory) -> Path:
    """A demo run of bleu1, bleu4 and rouge_l, for the figure and table tests
    (test_figures, test_figure_layout, test_latex: one worker, `worker_group`)."""
    from experiments.run_correlation import main

    out = tmp_path_factory.mktemp("demo-results")
    assert main(["--metrics", "bleu1,bleu4,rouge_l", "--out", str(out), "--cache-dir",
                 str(tmp_path_factory.mktemp("demo-cache")), "--bootstrap", "100",
                 "--permutations", "100", "--quiet"]) == 0
    return out


@pytest.fixture(scope="session")
def demo_figures_drawn(demo_figure_results, tmp_path_factory) -> tuple[list, Path]:
    """(figures, folder): `demo_figure_results` drawn once by make_figures, each figure's
    layout checked as its PNG was drawn (`capture_figures`), for the tests that only
    read them."""
    from experiments.make_figures import main
    from tests.helpers.figure_checks import capture_figures

    out = tmp_path_factory.mktemp("demo-figures") / "figures"
    with capture_figures() as figures:
        assert main(["--results", str(demo_figure_results), "--out", str(out), "--quiet"]) == 0
    return figures, out


@pytest.fixture(scope="session")
def pascal50s_score_cache(tmp_path_factory) -> Path:
    """One score cache for the runs on the real PASCAL-50S: what one test scored, the
    next reads (test_caption_benchmarks, test_plan_study; one worker: `worker_group`)."""
    return tmp_path_factory.mktemp("pascal50s-cache")
