"""Every entry point, one way: --version, -q and -v exist, --help shows the usage line
under the name it was called by and every option's default, --plugin takes a file,
and a metrics.py in the current folder is named in one line."""
from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from experiments import cli

REPO = Path(__file__).resolve().parents[2]
# (module, metaeval subcommand, words before the options: human_study's subcommands)
ENTRY_POINTS = [
    ("experiments.run_correlation", "run", []),
    ("experiments.make_figures", "figures", []),
    ("experiments.human_study", "study", ["export"]),
    ("experiments.human_study", "study", ["import"]),
    ("experiments.generate_reasons", "generate", []),
    ("experiments.fetch_data", "fetch", []),
    ("experiments.plan_study", "plan", []),
    ("experiments.fleur_scores", "fleur", []),
    ("experiments.speed", "speed", []),
    ("experiments.score_files", "score", []),
    ("experiments.judge_batch", "judge", ["export"]),
    ("experiments.judge_batch", "judge", ["import"]),
]
IDS = [" ".join([module.rpartition(".")[2], *words]) for module, _, words in ENTRY_POINTS]
# What builds each entry point's parser (generate_reasons and human_study are thin
# wrappers of experiments.socratis).
PARSERS = {"experiments.generate_reasons": "experiments.socratis.reasons",
           "experiments.human_study": "experiments.socratis.study"}


def parser_of(module: str, words: list[str]) -> argparse.ArgumentParser:
    parser = importlib.import_module(PARSERS.get(module, module)).build_parser()
    for word in words:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return parser


def test_the_list_covers_every_metaeval_command():
    assert {command for _, command, _ in ENTRY_POINTS} == set(cli.COMMANDS)


def required_words(parser: argparse.ArgumentParser) -> list[str]:
    """Words that satisfy the parser's required options and arguments."""
    required = [a for a in parser._actions if a.required and a.option_strings]
    required += [g._group_actions[0] for g in parser._mutually_exclusive_groups if g.required]
    words = []
    for action in required:
        words.append(action.option_strings[0])
        if action.nargs != 0:
            words.append(str(action.choices[0]) if action.choices else "x")
    if any(not a.option_strings and a.nargs == "+" for a in parser._actions):
        words.append("x")  # fetch_data's NAME
    return words


@pytest.mark.parametrize(("module", "command", "words"), ENTRY_POINTS, ids=IDS)
def test_version_quiet_verbose_and_help(module, command, words, capsys):
    main = importlib.import_module(module).main
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == (
        f"python -m {module} (socratis-metaeval {cli.package_version()})")

    parser = parser_of(module, words)
    filler = required_words(parser)
    assert parser.parse_args(filler + ["-q"]).quiet is True
    assert parser.parse_args(filler + ["-v"]).verbose is True
    with pytest.raises(SystemExit):
        parser.parse_args(filler + ["-q", "-v"])
    capsys.readouterr()

    with pytest.raises(SystemExit) as stop:
        main([*words, "--help"])
    assert stop.value.code == 0
    shown = capsys.readouterr().out
    assert shown.startswith(f"usage: python -m {module} {' '.join(words)}".rstrip())
    for action in parser._actions:
        if not action.option_strings or isinstance(
                action, (argparse._HelpAction, argparse._VersionAction)):
            continue
        assert action.help, f"{action.option_strings[0]} has no help"
        if action.default is not None and action.default is not False and action.default != []:
            assert "default" in parser._get_formatter()._expand_help(action).lower(), \
                f"{action.option_strings[0]}: help does not say its default"

    with pytest.raises(SystemExit) as stop:
        cli.main([command, *words, "--help"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith(
        f"usage: metaeval {command} {' '.join(words)}".rstrip())
    # and called directly afterwards, it is `python -m` again
    with pytest.raises(SystemExit):
        main([*words, "--help"])
    assert capsys.readouterr().out.startswith(f"usage: python -m {module}")


def test_speed_quiet_prints_the_table_alone(tmp_path, capsys):
    from experiments.speed import main

    assert main(["--only", "no case has this name", "--out", str(tmp_path / "b.json"),
                 "-q"]) == 0
    out, err = capsys.readouterr()
    assert out.split() == ["case", "ours", "s", "base", "s", "ratio", "target"] and err == ""
    assert main(["--only", "no case has this name", "--out", str(tmp_path / "b.json")]) == 0
    assert f"rows written to {tmp_path / 'b.json'}" in capsys.readouterr().out


def test_fleur_scores_quiet_prints_the_result_alone(shared_data, tmp_path, capsys):
    from experiments.fleur_scores import main

    argv = ["--fleur", str(shared_data / "fleur" / "fleur_pascal_HC.txt"), "--benchmark",
            "pascal50s", "--data-dir", str(shared_data), "--out", str(tmp_path / "f.csv")]
    assert main(argv) == 0
    assert "'label :' lines differ" in capsys.readouterr().out
    assert main(argv + ["-q"]) == 0
    out, err = capsys.readouterr()
    assert out == f"2000 FLEUR scores written to {tmp_path / 'f.csv'}\n" and err == ""


def _python(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_metrics_py_in_the_current_folder_is_named_in_one_line(tmp_path):
    (tmp_path / "metrics.py").write_text("SCORE = 1\n")
    done = _python(["-m", "experiments.run_correlation", "--version"], tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"error: ./metrics.py shadows this package's metrics ({REPO / 'metrics'}): Python "
        "looks in the current folder first; rename it or run from another folder (the "
        "`metaeval` command, e.g. `metaeval run`, works from anywhere)"]
    (tmp_path / "metrics.py").unlink()
    assert _python(["-m", "experiments.run_correlation", "--version"], tmp_path).returncode == 0


def test_a_correlation_package_in_the_current_folder_is_named(tmp_path):
    (tmp_path / "correlation").mkdir()
    (tmp_path / "correlation" / "__init__.py").write_text("")
    done = _python(["-m", "experiments.fetch_data", "--version"], tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ./correlation shadows this package's correlation")


PLUGIN = '''
import numpy as np
from metrics import register_metric
from metrics.base import Metric, MetricOutput


class Letters(Metric):
    """Number of letters of the candidate."""
    name = "plugin_letters"

    def _score_chunk(self, samples):
        return MetricOutput(np.array([float(sum(c.isalpha() for c in s.candidate))
                                      for s in samples]))


register_metric("plugin_letters", __name__, "Letters")
'''


def test_plugin_is_a_path_to_a_py_file(tmp_path, capsys, plugin_sandbox, monkeypatch):
    # in this process (a subprocess' --list would import torch anew); the sandbox puts
    # the registries and the module my_metrics back
    from experiments.run_correlation import main

    plugin_sandbox("my_metrics")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plug").mkdir()
    (tmp_path / "plug" / "my_metrics.py").write_text(textwrap.dedent(PLUGIN))
    capsys.readouterr()
    assert main(["--plugin", "plug/my_metrics.py", "--list"]) == 0
    out = capsys.readouterr().out
    assert "plugin_letters" in out
    assert "source: plugin (module my_metrics)" in out
    assert main(["--plugin", "plug/none.py", "--list"]) == 2
    assert capsys.readouterr().err.strip() == (f"error: --plugin plug/none.py: no such file "
                                               f"({tmp_path.resolve() / 'plug' / 'none.py'})")


def test_scoring_progress_per_metric_and_benchmark_and_quiet_silences_it(tmp_path, capsys):
    from experiments.benchmarks import load_benchmark
    from experiments.run_correlation import main

    sys.path.insert(0, str(REPO / "tests" / "metrics"))
    from test_progress import bar_states

    n = len(load_benchmark("demo").samples)
    argv = ["--metrics", "bleu1", "--bootstrap", "20", "--permutations", "20",
            "--cache-dir", str(tmp_path / "cache")]
    assert main(argv + ["--out", str(tmp_path / "a")]) == 0
    first = [s for s in bar_states(capsys.readouterr().err) if s[0] == "demo: bleu1"]
    assert first[0] == ("demo: bleu1", 0, n, 0) and first[-1] == ("demo: bleu1", n, n, 0)
    assert main(argv + ["--out", str(tmp_path / "b")]) == 0
    again = [s for s in bar_states(capsys.readouterr().err) if s[0] == "demo: bleu1"]
    assert again and again[-1] == ("demo: bleu1", n, n, n)
    assert main(argv + ["--out", str(tmp_path / "c"), "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_figures_and_plan_quiet_print_only_their_result(tmp_path, capsys):
    from experiments.make_figures import main as make_figures
    from experiments.plan_study import main as plan_study
    from experiments.run_correlation import main as run_correlation

    assert run_correlation(["--metrics", "bleu1,rouge_l", "--bootstrap", "20", "--permutations",
                            "20", "--out", str(tmp_path / "r"), "-q"]) == 0
    capsys.readouterr()
    assert make_figures(["--results", str(tmp_path / "r"), "--out", str(tmp_path / "f"),
                         "-q"]) == 0
    assert capsys.readouterr() == ("", "")
    assert (tmp_path / "f" / "README.md").is_file()
    argv = ["--results", str(tmp_path / "r"), "--metrics", "bleu1,rouge_l", "--sizes", "10,20",
            "--simulations", "5", "--permutations", "20", "--out", str(tmp_path / "p")]
    assert plan_study(argv + ["-q"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert err == ""
    assert lines[-1] == f"power curves written to {tmp_path / 'p' / 'power_curve.csv'}"
    assert lines[:-1] and all(": bleu1 vs rouge_l: 80% power at alpha 0.05 needs " in line
                              for line in lines[:-1])


def test_generate_reasons_and_human_study_quiet_print_only_their_result(tmp_path, capsys,
                                                                        monkeypatch):
    import csv

    from experiments.socratis.reasons import main as generate_reasons
    from experiments.socratis.study import main as human_study
    from tests.helpers.openai_server import LoopbackServer, completion
    from tests.helpers.socratis_fixture import write_socratis

    folder = write_socratis(tmp_path / "socratis")
    generations = tmp_path / "g.jsonl"
    monkeypatch.setenv("MY_TEST_KEY", "sk-test")
    with LoopbackServer(lambda body, n: (200, completion(" a served reason "))) as server:
        assert generate_reasons(["--socratis-dir", str(folder), "--out", str(generations),
                                 "--base-url", server.url, "--model", "served-vlm",
                                 "--generator", "served", "--api-key-env", "MY_TEST_KEY",
                                 "--max-retries", "0", "--cache-dir", str(tmp_path / "c"),
                                 "-q"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.splitlines() == [
        f"5 of 5 reasons (0 from the cache, 5 asked); 5 rows in {generations}"]

    task, key = tmp_path / "task.csv", tmp_path / "key.csv"
    assert human_study(["export", "--socratis-dir", str(folder), "--generations",
                        str(generations), "--out", str(task), "--key", str(key), "-q"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and len(out.splitlines()) == 1 and out.endswith(f"keep {key}\n")
    with open(task, newline="") as f:
        pairs = [(row["pair_id"], row["export_id"]) for row in csv.DictReader(f)]
    answers = tmp_path / "answers.csv"
    answers.write_text("pair_id,annotator,answer,export_id\n"
                       + "".join(f"{pair},ann1,left,{export}\n" for pair, export in pairs))
    assert human_study(["import", "--key", str(key), "--answers", str(answers), "--out",
                        str(tmp_path / "study.csv"), "-q"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.splitlines()[-1] == f"written to {tmp_path / 'study.csv'}"
