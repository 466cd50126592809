"""The command line: --version everywhere, -q prints only the table, a skip reason
once, a progress bar for the analysis, a run.json command that reruns the run, the
figure index naming the metrics that ran, and the `metaeval` console script."""
from __future__ import annotations

import configparser
import importlib
import json
import logging
import shlex
from pathlib import Path

import pytest

from experiments import cli
from experiments.run_correlation import build_parser, main as run_correlation

REPO = Path(__file__).resolve().parents[2]
ENTRY_POINTS = ["run_correlation", "make_figures", "human_study", "generate_reasons",
                "fleur_scores", "speed", "fetch_data"]


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_every_entry_point_says_its_version(module, capsys):
    import importlib

    main = importlib.import_module(f"experiments.{module}").main
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == (
        f"python -m experiments.{module} (socratis-metaeval {cli.package_version()})")


def test_quiet_prints_only_the_table(tmp_path, capfd):
    # No cache: the Java tokenizer runs and would print its own line to stderr.
    assert run_correlation(["--metrics", "bleu1,rouge_l", "--out", str(tmp_path), "--no-cache",
                            "--bootstrap", "20", "--permutations", "20", "-q"]) == 0
    out, err = capfd.readouterr()
    lines = out.splitlines()
    assert lines and all(line.startswith("|") for line in lines), out
    # header, rule, two metrics x (three statistics, kappa, four ranking agreements with the
    # humans' battle ranking, two caption-level agreements)
    assert len(lines) == 2 + 2 * 10
    assert err == ""


def test_a_skip_reason_is_given_once_and_the_analysis_shows_progress(tmp_path, capsys, caplog):
    caplog.set_level(logging.INFO)
    assert run_correlation(["--metrics", "bleu1,spice", "--out", str(tmp_path), "--bootstrap",
                            "20", "--permutations", "20", "--skip-unavailable",
                            "--metric-option", f"spice.corenlp_dir={tmp_path / 'none'}"]) == 0
    out, err = capsys.readouterr()
    reason = "SPICE needs Stanford CoreNLP 3.6.0"
    logged = [r.getMessage() for r in caplog.records if reason in r.getMessage()]
    assert len(logged) == 1 and reason not in out
    assert "skipped (reasons above and in report.md): spice" in out
    assert "demo: intervals and tests" in err  # the progress bar (stderr, as tqdm writes)


def test_run_json_has_the_version_and_a_command_that_reruns_it(tmp_path):
    argv = ["--metrics", "bleu1", "--out", str(tmp_path / "a b"), "--bootstrap", "20",
            "--permutations", "20", "--display-name", "bleu1=BLEU 1", "-q"]
    assert run_correlation(argv) == 0
    record = json.loads((tmp_path / "a b" / "run.json").read_text())
    assert record["version"] == cli.package_version()
    words = shlex.split(record["command"])
    assert words[:3] == ["python", "-m", "experiments.run_correlation"]
    assert vars(build_parser().parse_args(words[3:])) == vars(build_parser().parse_args(argv))
    assert "BLEU 1 &" in (tmp_path / "a b" / "agreement.tex").read_text()


def test_the_figure_index_names_the_metrics_that_ran(tmp_path):
    from experiments.make_figures import main as make_figures

    results = tmp_path / "results"
    assert run_correlation(["--metrics", "rouge_l,bleu1,spice", "--out", str(results),
                            "--bootstrap", "20", "--permutations", "20", "-q",
                            "--skip-unavailable",
                            "--metric-option", f"spice.corenlp_dir={tmp_path / 'none'}"]) == 0
    assert make_figures(["--results", str(results), "--out", str(tmp_path / "f"), "-q"]) == 0
    index = (tmp_path / "f" / "README.md").read_text()
    assert "Metrics that ran: bleu1, rouge_l." in index
    assert ("The results: `python -m experiments.run_correlation --metrics rouge_l,bleu1,spice "
            in index)


def test_the_metaeval_command_dispatches_to_the_entry_points(tmp_path, capsys, monkeypatch):
    with pytest.raises(SystemExit):
        cli.main(["run", "--version"])
    assert capsys.readouterr().out.startswith("metaeval run (socratis-metaeval ")
    assert cli.main(["run", "--metrics", "bleu1", "--out", str(tmp_path / "r"), "--bootstrap",
                     "20", "--permutations", "20", "-q"]) == 0
    assert cli.main(["figures", "--results", str(tmp_path / "r"), "--out",
                     str(tmp_path / "f"), "-q"]) == 0
    assert (tmp_path / "f" / "agreement.tex").is_file()
    assert cli.main(["nonsense"]) == 2
    assert "unknown command 'nonsense'" in capsys.readouterr().err
    # A subcommand whose module this checkout lacks is left out, not an import error.
    monkeypatch.setitem(cli.COMMANDS, "later", ("experiments.not_written_yet", "soon"))
    assert cli.main(["--help"]) == 0
    assert "later" not in capsys.readouterr().out
    assert cli.main(["later"]) == 2


def test_setup_cfg_installs_the_console_script():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    scripts = config["options.entry_points"]["console_scripts"].split("\n")
    assert "metaeval = experiments.cli:main" in [s.strip() for s in scripts]


def test_every_metaeval_subcommand_names_a_module_that_exists():
    assert cli.available() == cli.COMMANDS


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_command_says_its_version(command, capsys):
    module = importlib.import_module(cli.COMMANDS[command][0])
    with pytest.raises(SystemExit) as stop:
        module.main(["--version"])
    assert stop.value.code == 0
    assert "socratis-metaeval" in capsys.readouterr().out
