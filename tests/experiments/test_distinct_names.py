"""Nothing merged under one name: a benchmark given twice, a scores file named like a
row the outputs reserve, a plugin under a built-in's name or reusing its signature."""
from __future__ import annotations

import pytest

from experiments.run_correlation import main

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
