"""Usage errors: exit status 2 and one line naming the option, as argparse
gives them, never a traceback."""
from __future__ import annotations

import pytest

from experiments.socratis.study import main as study_main, sample_pairs
from tests.helpers.socratis_fixture import write_socratis


@pytest.mark.parametrize("n,message", [("-3", "must be at least 1, found -3"),
                                       ("0", "must be at least 1, found 0"),
                                       ("many", "expected a whole number, found 'many'")])
def test_human_study_export_n_must_be_positive(tmp_path, capsys, n, message):
    folder = write_socratis(tmp_path / "socratis")
    with pytest.raises(SystemExit) as exit_:
        study_main(["export", "--socratis-dir", str(folder), "--n", n,
                    "--out", str(tmp_path / "t.csv"), "--key", str(tmp_path / "k.csv")])
    assert exit_.value.code == 2
    assert f"error: argument --n: {message}" in capsys.readouterr().err
    assert not (tmp_path / "t.csv").exists()
    with pytest.raises(ValueError, match=r"at least 1, found -3"):
        sample_pairs(folder, folder / "generations.jsonl", -3)


@pytest.mark.parametrize("option,value,message", [
    ("--limit", "-1", "must be at least 1, found -1"),   # a Python slice dropped the last item
    ("--limit", "0", "must be at least 1, found 0"),
    ("--max-new-tokens", "0", "must be at least 1, found 0"),
    ("--max-new-tokens", "-5", "must be at least 1, found -5")])
def test_generate_reasons_counts_must_be_positive(tmp_path, capsys, option, value, message):
    from experiments.socratis.reasons import generation_tasks, main as reasons_main

    folder = write_socratis(tmp_path / "socratis")
    out = tmp_path / "generations.jsonl"
    with pytest.raises(SystemExit) as exit_:
        reasons_main(["--socratis-dir", str(folder), "--out", str(out), "--generator", "g",
                      "--model", str(tmp_path / "no-model"), option, value])
    assert exit_.value.code == 2
    assert f"error: argument {option}: {message}" in capsys.readouterr().err
    assert not out.exists()
    if option == "--limit":
        with pytest.raises(ValueError, match=r"limit must be a whole number of at least 1"):
            generation_tasks(folder, limit=int(value))
