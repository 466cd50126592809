"""run_correlation --workers: the same bytes whatever the number of worker processes."""
from __future__ import annotations

import pytest

from experiments.run_correlation import main

ARGS = ["--metrics", "bleu1,bleu4,rouge_l,cider", "--bootstrap", "120", "--permutations", "120",
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


def test_workers_must_be_positive(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*ARGS, "--workers", "0", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "argument --workers: must be at least 1" in capsys.readouterr().err
