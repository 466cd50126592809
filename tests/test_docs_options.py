"""Every option of every entry point is described in docs/: run_correlation's in
docs/options.md (its table), the other commands' anywhere under docs/."""
from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PARSERS = {
    "run_correlation": "experiments.run_correlation",
    "make_figures": "experiments.make_figures",
    "fetch_data": "experiments.fetch_data",
    "score_files": "experiments.score_files",
    "plan_study": "experiments.plan_study",
    "fleur_scores": "experiments.fleur_scores",
    "speed": "experiments.speed",
    "human_study": "experiments.socratis.study",
    "generate_reasons": "experiments.socratis.reasons",
}


def long_options(parser: argparse.ArgumentParser) -> set[str]:
    """Every --option of a parser and of its subcommands."""
    found = set()
    for action in parser._actions:
        found |= {o for o in action.option_strings if o.startswith("--") and o != "--help"}
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= long_options(sub)
    return found


def documented(option: str, text: str) -> bool:
    """`option` appears in `text` as a whole option (not as the start of a longer one)."""
    return re.search(re.escape(option) + r"(?![\w-])", text) is not None


def test_an_option_is_found_only_whole():
    assert documented("--seed", "`--seed N` sets")
    assert not documented("--ray", "`--ray-workers N`")


@pytest.mark.parametrize("command", sorted(PARSERS))
def test_every_option_is_documented(command):
    parser = importlib.import_module(PARSERS[command]).build_parser()
    page = "options.md" if command == "run_correlation" else "*.md"
    text = "".join(p.read_text(encoding="utf-8") for p in (REPO / "docs").glob(page))
    missing = sorted(o for o in long_options(parser) if not documented(o, text))
    assert missing == []
