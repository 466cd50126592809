"""make_figures on saved results: every figure as PNG, PDF and CSV, an index, the same bytes twice."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from experiments.make_figures import FIGURES, main as make_figures
from experiments.run_correlation import main as run_correlation
from experiments.pipeline.results_folder import OutputFolderError, ResultsWriter, read_results
from tests.helpers.figure_checks import write_results
from tests.helpers.files import read_csv, rewrite_result
from tests.helpers.socratis_fixture import paper_counts_rows, write_socratis

SOCRATIS_FIGURES = ["study_verdicts", "study_verdicts_by_generator", "agreement_forest"]
SOCRATIS_TABLES = ["subset_means", "generator_means", "verdict_counts"]


def stems_in_index(folder: Path) -> set[str]:
    text = (folder / "README.md").read_text()
    return {line.split("`")[1][: -len(".png")] for line in text.splitlines()
            if line.startswith("[`") and ".png`" in line}


def test_every_figure_is_written_with_its_data_and_indexed(demo_figure_results, demo_figures_drawn):
    out = demo_figures_drawn[1]
    indexed = stems_in_index(out)
    expected = {f"demo_{name}" for name in SOCRATIS_FIGURES}
    assert any(s.startswith("demo_significance") for s in indexed)
    assert expected <= indexed
    for stem in indexed:
        with Image.open(out / f"{stem}.png") as img:
            img.verify()
        with Image.open(out / f"{stem}.png") as img:
            assert img.size[0] > 200 and img.size[1] > 100
        assert (out / f"{stem}.pdf").read_bytes().startswith(b"%PDF")
        assert read_csv(out / f"{stem}.csv"), stem
    index = (out / "README.md").read_text()
    assert "**demo: illustrative data for a smoke run" in index
    assert "## Demo (illustrative data): human-study verdicts" in index
    assert f"python -m experiments.make_figures --results {demo_figure_results} --out {out}" in index
    # The demo has no ratings: the scatter plot is not drawn, and the index says why.
    assert "metric vs human scatter: no rating benchmark among the results" in index
    # The tables come as LaTeX, indexed; the subset table's numbers are the analysis table's.
    for name in ["agreement", "clusters"] + [f"demo.{t}" for t in SOCRATIS_TABLES]:
        assert f"[`{name}.tex`]({name}.tex)" in index
    subset = (out / "demo.subset_means.tex").read_text()
    for row in read_csv(demo_figure_results / "subset_means.csv"):
        if row["metric"] == "rouge_l" and row["benchmark"] == "demo":
            assert f"{100 * float(row['machine_reason_mean']):.1f}" in subset


@pytest.mark.slow
def test_the_same_results_give_the_same_bytes(demo_figure_results, demo_figures_drawn, tmp_path):
    first, second = demo_figures_drawn[1], tmp_path / "b"
    assert make_figures(["--results", str(demo_figure_results), "--out", str(second)]) == 0
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir()) and len(names) > 10
    for name in names:
        if name not in ("README.md", "run.json"):  # both name their own output folder
            assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_scatter_plots_for_a_rating_benchmark(demo_figure_results, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(demo_figure_results, results)
    scores = [r for r in read_csv(results / "scores.csv") if r["metric"] == "rouge_l"]
    rewrite_result(results, "judgments.csv", "benchmark,sample_id,human,n_judgments\n" + "".join(
        f"demo,{r['sample_id']},{k % 4 + 1},3\n" for k, r in enumerate(scores[:30])))
    out = tmp_path / "figures"
    assert make_figures(["--results", str(results), "--out", str(out)]) == 0
    assert "demo_metric_vs_human" in stems_in_index(out)
    points = read_csv(out / "demo_metric_vs_human.csv")
    assert len(points) == 3 * 30  # three metrics, thirty rated samples
    by_id = {r["sample_id"]: float(r["score"]) for r in scores}
    for p in points:
        if p["metric"] == "rouge_l":
            assert float(p["score"]) == by_id[p["sample_id"]]


def test_significance_matrix_from_saved_comparisons(demo_figure_results, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(demo_figure_results, results)
    rewrite_result(results, "comparisons.csv",
                   "benchmark,statistic,level,metric_a,metric_b,delta,ci_low,ci_high,p_value,"
                   "cluster_a,cluster_b\n"
                   "demo,accuracy,pair,rouge_l,bleu1,0.02,-0.01,0.05,0.04,1,2\n")
    out = tmp_path / "figures"
    assert make_figures(["--results", str(results), "--out", str(out)]) == 0
    (stem,) = [s for s in stems_in_index(out) if "significance" in s]
    assert stem == "demo_significance_accuracy_pair"
    cells = {(r["metric_row"], r["metric_col"]): r for r in read_csv(out / f"{stem}.csv")}
    assert float(cells["rouge_l", "bleu1"]["p_value"]) == 0.04
    assert float(cells["bleu1", "rouge_l"]["p_value"]) == 0.04
    assert cells["rouge_l", "bleu1"]["cluster_row"] == "1"


def test_the_papers_verdict_counts_and_ratio(tmp_path):
    write_socratis(tmp_path / "data" / "socratis", paper_counts_rows())
    results, out = tmp_path / "results", tmp_path / "figures"
    assert run_correlation(["--benchmark", "socratis", "--data-dir", str(tmp_path / "data"),
                            "--metrics", "rouge_l", "--out", str(results), "--bootstrap", "50",
                            "--quiet"]) == 0
    assert make_figures(["--results", str(results), "--out", str(out)]) == 0
    bars = {r["verdict"]: r for r in read_csv(out / "socratis_study_verdicts.csv")}
    assert {v: int(r["count"]) for v, r in bars.items()} == {
        "human": 223, "machine": 91, "both_good": 47, "both_bad": 11}
    assert round(float(bars["human"]["human_machine_ratio"]), 2) == 2.45
    assert float(bars["both_bad"]["share"]) == pytest.approx(11 / 372)


def test_missing_results_are_an_error_and_unknown_files_are_skipped(tmp_path, capsys):
    assert make_figures(["--results", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 2
    assert "results folder not found" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "correlations.csv").write_text("benchmark,metric\n")  # not listed by any run.json
    assert make_figures(["--results", str(empty), "--out", str(tmp_path / "f")]) == 2
    assert "has no run.json" in capsys.readouterr().err
    (empty / "correlations.csv").unlink()
    ResultsWriter(empty).commit({})  # a run that wrote nothing
    assert make_figures(["--results", str(empty), "--out", str(tmp_path / "f")]) == 0
    index = (tmp_path / "f" / "README.md").read_text()
    assert index.count("\n- ") == len(FIGURES)  # every figure listed as not drawn, with why
    assert "correlations.csv not found in the results" in index


def test_figures_go_only_to_a_folder_of_their_own(tmp_path, capsys):
    results = write_results(tmp_path / "results", {"bench_a": [("kendall_c", "flat", "")]},
                            ["bleu1", "cider"])
    # A folder of the user's: their README.md is neither overwritten nor mixed with figures.
    mine = tmp_path / "paper"
    mine.mkdir()
    (mine / "README.md").write_text("my notes\n")
    assert make_figures(["--results", str(results), "--out", str(mine)]) == 2
    assert "paper holds files this package did not write (README.md)" in capsys.readouterr().err
    assert [(p.name, p.read_text()) for p in mine.iterdir()] == [("README.md", "my notes\n")]
    # Figures an earlier version drew (no run.json): refused too, saying what to do.
    (mine / "README.md").write_text("# Figures\n\nDrawn by `python -m experiments.make_figures "
                                    "--results r --out paper` from ...\n")
    assert make_figures(["--results", str(results), "--out", str(mine)]) == 2
    assert "(an earlier version of make_figures drew it, without the run.json that lists its " \
           "files: delete the folder yourself, or give another)" in capsys.readouterr().err
    (mine / "README.md").write_text("my notes\n")
    # A results folder, the results' own among them, is not a figures folder ...
    listed = sorted(p.name for p in results.iterdir())
    assert make_figures(["--results", str(results), "--out", str(results)]) == 2
    err = capsys.readouterr().err
    assert "results holds results run_correlation or plan_study wrote; figures go to a folder " \
           "of their own" in err
    assert make_figures(["--results", str(results), "--out", str(results / "figures")]) == 2
    assert "results/figures lies inside " in capsys.readouterr().err
    assert sorted(p.name for p in results.iterdir()) == listed
    assert sorted(read_results(results).paths) == ["comparisons.csv", "correlations.csv"]
    # ... nor is a figures folder one for results.
    figures = tmp_path / "figures"
    assert make_figures(["--results", str(results), "--out", str(figures)]) == 0
    with pytest.raises(OutputFolderError, match=r"figures holds figures make_figures drew; "
                                                r"results go to a folder of their own"):
        ResultsWriter(figures)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures", "paper", "results"]


def test_a_second_drawing_replaces_the_first_whole(tmp_path):
    both = write_results(tmp_path / "both", {"bench_a": [("kendall_c", "flat", "")],
                                             "bench_b": [("kendall_b", "flat", "")]},
                         ["bleu1", "cider"])
    figures = tmp_path / "figures"
    assert make_figures(["--results", str(both), "--out", str(figures)]) == 0
    assert any(p.name.startswith("bench_b_") for p in figures.iterdir())
    one = write_results(tmp_path / "one", {"bench_a": [("kendall_c", "flat", "")]},
                        ["bleu1", "cider"])
    assert make_figures(["--results", str(one), "--out", str(figures)]) == 0
    # bench_b was dropped: none of its figures is left beside the new index.
    names = sorted(p.name for p in figures.iterdir())
    assert not [n for n in names if "bench_b" in n]
    assert "bench_b" not in (figures / "README.md").read_text()
    listed = json.loads((figures / "run.json").read_text())["files"]
    assert names == sorted([*listed, "run.json"]) and "README.md" in listed
    assert any(n.startswith("bench_a_") for n in names)
