"""The README's quickstart, run as written on the examples/ folder, so it cannot rot.

Every `python ...` command of the README that uses `examples/` runs in order, with
its output folders moved into a temporary folder and, for speed, 20 bootstrap
resamples and permutations and a cache of its own; the results are then checked
against the example files and against the Python API tour's numbers."""
from __future__ import annotations

import csv
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from scipy.stats import kendalltau

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
FAST = ["--bootstrap", "20", "--permutations", "20"]


def readme_example_commands() -> list[list[str]]:
    """The `python ...` commands of the README's code blocks that use examples/, in order
    (continuation lines joined; a block's other commands too, e.g. make_figures)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", text, flags=re.M | re.S):
        lines = [line.split("  #")[0].strip()
                 for line in re.sub(r"\\\n\s*", " ", block).splitlines()]
        if any(line.startswith("python ") and "examples/" in line for line in lines):
            commands += [shlex.split(line) for line in lines if line.startswith("python ")]
    return commands


def _relocated(args: list[str], tmp: Path) -> list[str]:
    """runs/... into tmp; fast settings and a private cache for run_correlation."""
    out = [str(tmp / a) if a.startswith("runs/") else a for a in args]
    if out[:3] == ["python", "-m", "experiments.run_correlation"]:
        out += FAST + ["--cache-dir", str(tmp / "cache")]
    return [sys.executable, *out[1:]]


def _csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def run_readme_examples(tmp: Path) -> dict[str, subprocess.CompletedProcess]:
    """Run the README's example commands in order; {command text: CompletedProcess}."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
           "METAEVAL_CACHE_DIR": str(tmp / "cache")}
    done = {}
    for args in readme_example_commands():
        proc = subprocess.run(_relocated(args, tmp), cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, f"{shlex.join(args)}\n{proc.stderr[-3000:]}"
        done[shlex.join(args)] = proc
    return done


def test_the_readme_runs_every_example_file():
    commands = [" ".join(c) for c in readme_example_commands()]
    for needed in ("--benchmark mine=examples/ratings.csv", "examples/preferences.csv",
                   "--plugin examples/my_metrics.py", "examples/api_tour.py",
                   "experiments.make_figures --results runs/mine"):
        assert any(needed in c for c in commands), (needed, commands)


def check_ratings_run(tmp: Path) -> None:
    ratings = _csv(EXAMPLES / "ratings.csv")
    assert any("," in r["candidate"] and "\n" in r["candidate"] for r in ratings)
    scores = {(r["sample_id"], r["metric"]): float(r["score"])
              for r in _csv(tmp / "runs/mine/scores.csv")}
    assert {s for s, _ in scores} == {r["id"] for r in ratings}
    # the flat Kendall tau-c the run reports is scipy's over one row per rating
    for metric in ("bleu4", "rouge_l", "cider"):
        expected = kendalltau([scores[(r["id"], metric)] for r in ratings],
                              [float(r["score"]) for r in ratings], variant="c").statistic
        row, = [r for r in _csv(tmp / "runs/mine/correlations.csv")
                if r["metric"] == metric and r["level"] == "flat"]
        assert row["statistic"] == "kendall_c"
        assert float(row["value"]) == pytest.approx(expected, abs=1e-12)


def check_preferences_run(tmp: Path) -> None:
    pairs = {r["pair_id"] for r in _csv(EXAMPLES / "preferences.csv")}
    assert any("," in r["candidate_b"] and "\n" in r["candidate_b"]
               for r in _csv(EXAMPLES / "preferences.csv"))
    rows = _csv(tmp / "runs/study/correlations.csv")
    overall = [r for r in rows if r["benchmark"] == "study" and not r["subset"]]
    assert {(r["metric"], r["statistic"]) for r in overall} == {
        (m, s) for m in ("bleu4", "rouge_l", "cider")
        for s in ("accuracy", "tau_like", "acc23", "kappa")}
    assert {r["unit"] for r in overall} == {"pairs"}
    assert {r["n_units"] for r in overall} == {str(len(pairs))}


def check_figures(tmp: Path) -> None:
    figures = tmp / "runs/mine-figures"
    assert (figures / "README.md").is_file()
    assert list(figures.glob("*.png")) and list(figures.glob("*.pdf"))


def check_plugin_run(tmp: Path) -> None:
    folder, = [p.parent for p in tmp.glob("runs/*/run.json")
               if "word_overlap" in p.read_text(encoding="utf-8")]
    scores = {r["sample_id"]: float(r["score"]) for r in _csv(folder / "scores.csv")
              if r["metric"] == "word_overlap"}
    # c1 "A dog runs on the grass." against "A brown dog running on a lawn." and
    # "A dog plays in the park.": a, dog, on, the of a, dog, runs, on, the, grass
    assert scores["c1"] == pytest.approx(4 / 6)
    # c9 "A bus.": both words in "A bus in the city."
    assert scores["c9"] == 1.0


def check_api_tour(tmp: Path, done: dict) -> None:
    tour, = [proc for command, proc in done.items() if "api_tour.py" in command]
    printed = [float(v) for v in re.findall(r"^kendall_c \(flat\) = (-?[\d.]+)", tour.stdout,
                                            flags=re.M)]
    run = {r["metric"]: float(r["value"]) for r in _csv(tmp / "runs/mine/correlations.csv")
           if r["level"] == "flat"}
    assert printed == [pytest.approx(run[m], abs=5e-5) for m in ("bleu4", "rouge_l", "cider")]
    assert re.search(r"^rouge_l - bleu4: delta [+-][\d.]+ \[.*\], p = [\d.]+$", tour.stdout,
                     flags=re.M)
    assert sorted(re.findall(r"^cluster \d: (\w+)", tour.stdout, flags=re.M)) == \
        ["bleu4", "cider", "rouge_l"]


@pytest.mark.slow
def test_the_readme_quickstart_runs_on_the_examples(tmp_path):
    # One test, so that the commands run once however the suite is split over processes.
    done = run_readme_examples(tmp_path)
    check_ratings_run(tmp_path)
    check_preferences_run(tmp_path)
    check_figures(tmp_path)
    check_plugin_run(tmp_path)
    check_api_tour(tmp_path, done)
