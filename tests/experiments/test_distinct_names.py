"""Nothing merged under one name: a benchmark given twice, a scores file named like a
row the outputs reserve, a plugin under a built-in's name or reusing its signature."""
from __future__ import annotations

import functools

import numpy as np
import pytest

from experiments.benchmarks import load_benchmark, register_benchmark
from experiments.run_correlation import main
from metrics import (ScoreCache, base, get_metric, metric_class, metric_source, register_metric,
                     registry, score_with_cache)
from metrics.base import implementation

RATINGS_CSV = """\
id,candidate,reference_1,score
c1,A dog runs on grass.,A dog running.,4
c2,A cat sleeps.,A dog running.,1
c3,Two kids play football.,Children playing soccer.,3
"""


def _usage_error(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("spec,name", [("demo,demo", "demo"),
                                       ("mine={a},mine={b}", "mine"),
                                       ("demo={a},demo", "demo")])
def test_a_benchmark_name_given_twice_is_a_usage_error(tmp_path, capsys, spec, name):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(RATINGS_CSV)
    b.write_text(RATINGS_CSV)
    out = tmp_path / "out"
    err = _usage_error(["--benchmark", spec.format(a=a, b=b), "--metrics", "bleu1",
                        "--out", str(out), "--quiet"], capsys)
    assert f"argument --benchmark: {name} is given twice" in err
    assert not out.exists()


@pytest.mark.parametrize("name", ["human_ceiling", "vlm_judge_pairwise"])
def test_scores_files_cannot_take_a_reserved_name(tmp_path, capsys, name):
    scores = tmp_path / "s.csv"
    scores.write_text("sample_id,score\nc1,1\n")
    err = _usage_error(["--metric-scores", f"{name}={scores}", "--out", str(tmp_path / "o"),
                        "--quiet"], capsys)
    assert f"argument --metric-scores: the name {name} is reserved" in err


def test_a_subclass_of_a_built_in_never_shares_its_cached_scores(tmp_path, monkeypatch):
    monkeypatch.setitem(registry._REGISTRY, "half_bleu4",
                        ("tests.helpers.half_bleu", "HalfBleu", {"n": 4}))
    samples = load_benchmark("demo").samples[:12]
    plain, half = get_metric("bleu4"), get_metric("half_bleu4")
    assert plain.signature() == "bleu4|impl=pycocoevalcap-1.2|tokenizer=ptb"  # unchanged
    assert half.signature() == ("bleu4|class=tests.helpers.half_bleu.HalfBleu|"
                                "impl=pycocoevalcap-1.2|tokenizer=ptb")
    expected = plain.score(samples).scores
    assert np.nanmax(expected) > 0
    cache = ScoreCache(tmp_path / "cache")
    halved, _ = score_with_cache(half, samples, cache)
    again, stats = score_with_cache(plain, samples, cache)   # the plugin's scores are there
    assert stats.cached == 0
    np.testing.assert_allclose(again.scores, expected)
    np.testing.assert_allclose(halved.scores, expected / 2)
    halved_again, stats = score_with_cache(get_metric("half_bleu4"), samples, cache)
    assert stats.cached == len(samples)
    np.testing.assert_allclose(halved_again.scores, expected / 2)


def test_the_signature_names_the_plugin_distribution_and_version(tmp_path, monkeypatch):
    (tmp_path / "half_bleu_pkg").mkdir()
    (tmp_path / "half_bleu_pkg" / "__init__.py").write_text(
        "from tests.helpers.half_bleu import HalfBleu\n\n\n"
        "class Halved(HalfBleu):\n    pass\n")
    info = tmp_path / "half_bleu-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: half-bleu\nVersion: 1.2\n")
    (info / "top_level.txt").write_text("half_bleu_pkg\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(base, "_distributions", functools.lru_cache(maxsize=None)(
        base._distributions.__wrapped__))
    from half_bleu_pkg import Halved

    assert implementation(Halved) == ["class=half_bleu_pkg.Halved", "dist=half-bleu==1.2"]
    assert Halved(n=4).signature().startswith(
        "bleu4|class=half_bleu_pkg.Halved|dist=half-bleu==1.2|")
    assert implementation(type(get_metric("bleu4"))) == []


def test_a_plugin_cannot_register_over_a_taken_name(tmp_path, monkeypatch, capsys):
    with pytest.raises(ValueError, match="bleu4 is the name of a built-in metric"):
        register_metric("bleu4", "tests.helpers.half_bleu", "HalfBleu", n=4)
    assert metric_class("bleu4").__module__ == "metrics.ngram"
    with pytest.raises(ValueError, match="demo is the name of a built-in benchmark"):
        register_benchmark("demo", "", "tests.helpers.half_bleu", "load")
    register_metric("bleu4", "metrics.ngram", "Bleu", n=4)  # the same definition: no change
    # through --plugin: the import fails with the reason, exit 2, nothing run
    (tmp_path / "over_bleu.py").write_text(
        "from metrics import register_metric\n"
        "register_metric('bleu4', 'tests.helpers.half_bleu', 'HalfBleu', n=4)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main(["--plugin", "over_bleu", "--metrics", "bleu4", "--out", str(tmp_path / "o"),
                 "--quiet"]) == 2
    assert "bleu4 is the name of a built-in metric" in capsys.readouterr().err
    assert metric_source("bleu4") == "built-in" and metric_class("bleu4").__name__ == "Bleu"
    assert not (tmp_path / "o").exists()
