"""Every file and column run_correlation writes is described in docs/: the files and
columns of its own tables in docs/outputs.md, a benchmark family's extra tables in the
family's page (docs/socratis.md), each column in that table's row. The files are the
golden outputs (tests/experiments/golden), which the golden tests keep current."""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GOLDEN = sorted((REPO / "tests/experiments/golden").glob("*/*.csv"))
OWN_TABLES = {"scores.csv", "failures.csv", "correlations.csv", "comparisons.csv",
              "judgments.csv", "pairwise.csv", "rankings.csv", "published.csv"}
FAMILY_PAGE = {"demo": "socratis.md"}     # the demo is Socratis-shaped


def _doc(name: str) -> str:
    return (REPO / "docs" / name).read_text(encoding="utf-8")


def named(word: str, text: str) -> bool:
    return re.search(r"(?<![\w.])" + re.escape(word) + r"(?![\w])", text) is not None


def description(golden: Path) -> str:
    """The text that must name each column of `golden`."""
    if golden.name in OWN_TABLES:
        return _doc("outputs.md")
    page = _doc(FAMILY_PAGE[golden.parent.name])
    row = [line for line in page.splitlines() if line.startswith(f"| `{golden.stem}` |")]
    assert len(row) == 1, f"{FAMILY_PAGE[golden.parent.name]} has no table row for {golden.stem}"
    return row[0]


def test_a_column_is_found_only_whole():
    assert named("n", "`n, unit`") and not named("n", "`n_units`")


@pytest.mark.parametrize("golden", GOLDEN, ids=[f"{p.parent.name}/{p.name}" for p in GOLDEN])
def test_every_column_is_described(golden):
    with open(golden, newline="", encoding="utf-8") as fh:
        columns = next(csv.reader(fh))
    text = description(golden)
    # a family table's rows are led by a `benchmark` column (said once in outputs.md)
    missing = [c for c in columns if not named(c, text)
               and not (c == "benchmark" and golden.name not in OWN_TABLES)]
    assert missing == []


def test_every_file_is_described():
    outputs = _doc("outputs.md")
    for golden in GOLDEN:
        if golden.name in OWN_TABLES:
            assert named(golden.name, outputs), golden.name
    assert "led by a `benchmark` column" in outputs
