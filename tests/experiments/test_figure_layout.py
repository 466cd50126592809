"""Every figure fits its content: no drawn text outside the figure, no wide empty
margins, paper widths, display names on every axis (demo, the Socratis fixture,
and results folders shaped like Flickr8k, PASCAL-50S and THumB runs)."""
from __future__ import annotations

import pytest
from matplotlib.text import Text

from experiments.make_figures import main as make_figures
from experiments.plots.common import ONE_COLUMN, TWO_COLUMN
from experiments.run_correlation import main as run_correlation
from tests.helpers.figure_checks import (capture_figures, flickr8k_like, layout_problems,
                                         pascal_like, thumb_like)
from tests.helpers.socratis_fixture import study_row, write_socratis


@pytest.fixture(scope="module")
def socratis_results(tmp_path_factory):
    """The Socratis fixture with two generators judged by two annotators each."""
    data = tmp_path_factory.mktemp("data")
    verdicts = ["human", "machine", "both_good", "human", "both_bad", "human", "machine",
                "human", "both_good", "machine"]
    rows = [study_row(f"p{k:02d}", verdicts[(k + a) % len(verdicts)], f"a{a}",
                      generator="blip2" if k % 2 else "text-only",
                      machine_reason=f"They feel sad because the water took house {k}.")
            for k in range(30) for a in range(2)]
    write_socratis(data / "socratis", rows)
    out = tmp_path_factory.mktemp("socratis")
    assert run_correlation(["--benchmark", "socratis", "--data-dir", str(data), "--metrics",
                            "bleu1,rouge_l", "--out", str(out), "--bootstrap", "50",
                            "--permutations", "50", "--quiet"]) == 0
    return out


def draw(results, out) -> list:
    with capture_figures() as figures:
        assert make_figures(["--results", str(results), "--out", str(out), "--quiet"]) == 0
    return figures


@pytest.fixture(scope="module")
def socratis_drawn(socratis_results, tmp_path_factory):
    out = tmp_path_factory.mktemp("socratis-figures")
    return draw(socratis_results, out), out


def drawn_texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["demo", "socratis", "flickr8k", "pascal50s", "thumb"])
def test_every_text_lies_inside_its_figure(kind, request, tmp_path):
    if kind == "demo":
        figures = request.getfixturevalue("demo_figures_drawn")[0]
    elif kind == "socratis":
        figures = request.getfixturevalue("socratis_drawn")[0]
    else:
        results = {"flickr8k": flickr8k_like, "pascal50s": pascal_like,
                   "thumb": thumb_like}[kind](tmp_path / "results")
        figures = draw(results, tmp_path / "figures")
    expected = {"demo": 5, "socratis": 5, "flickr8k": 5, "pascal50s": 5, "thumb": 5}[kind]
    assert len(figures) >= expected
    for fig in figures:
        label = fig.texts[0].get_text() if fig.texts else drawn_texts(fig)[:3]
        assert layout_problems(fig) == [], label
        width = fig.get_size_inches()[0]
        assert width in (ONE_COLUMN, TWO_COLUMN), (label, width)
        # No metric, statistic or verdict is shown by its file name.
        for text in drawn_texts(fig):
            for raw in ("kendall_c", "rouge_l", "bleu4", "tau_like", "both_good", "human_ceiling"):
                assert raw not in text, (label, text)


def test_the_clipping_check_catches_a_clipped_title(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.3, 2), layout="constrained")
    fig.subplots().plot([0, 1])
    fig.suptitle("demo (illustrative data): 96 verdicts; human/machine = 1.32 [0.80, 2.24]")
    problems = layout_problems(fig)
    assert problems and "outside the figure" in problems[0]
    # The same check where it is made on the drawing of the saved PNG.
    from tests.helpers.figure_checks import _AT_SAVE

    with capture_figures() as saved:
        fig.savefig(tmp_path / "clipped.png", dpi=150)
    assert saved == [fig] and fig in _AT_SAVE
    assert layout_problems(fig) == _AT_SAVE[fig] and "outside the figure" in _AT_SAVE[fig][0]
    empty = Figure(figsize=(7, 2))
    empty.add_axes((0.4, 0.4, 0.2, 0.2)).plot([0, 1])
    assert any("content spans" in p for p in layout_problems(empty))


@pytest.mark.slow
def test_display_names_and_overrides(demo_figure_results, demo_figures_drawn, tmp_path):
    figures = demo_figures_drawn[0]
    texts = {t for fig in figures for t in drawn_texts(fig)}
    assert {"BLEU-4", "ROUGE-L", "Human-better", r"$\tau$-like"} <= texts
    names = tmp_path / "names.txt"
    names.write_text("# my paper's names\nrouge_l = ROUGE$_L$\n\nhuman=Human wins\n")
    out = tmp_path / "custom"
    with capture_figures() as figures:
        assert make_figures(["--results", str(demo_figure_results), "--out", str(out), "--quiet",
                             "--display-name", "bleu4=BLEU@4", "--display-names", str(names)]) == 0
    texts = {t for fig in figures for t in drawn_texts(fig)}
    assert {"BLEU@4", "ROUGE$_L$", "Human wins"} <= texts and "BLEU-4" not in texts
    table = (out / "agreement.tex").read_text()
    assert "BLEU@4 &" in table and "ROUGE$_L$ &" in table


def test_a_bad_display_name_is_an_error_naming_the_line(demo_figure_results, tmp_path, capsys):
    names = tmp_path / "names.txt"
    names.write_text("bleu4=BLEU@4\nrouge_l\n")
    assert make_figures(["--results", str(demo_figure_results), "--out", str(tmp_path / "f"),
                         "--display-names", str(names)]) == 2
    assert f"{names}, line 2: expected KEY=TEXT" in capsys.readouterr().err


def test_verdicts_per_generator_with_their_ratios(socratis_results, socratis_drawn):
    from tests.helpers.files import read_csv

    rows = read_csv(socratis_drawn[1] / "socratis_study_verdicts_by_generator.csv")
    counts = [r for r in read_csv(socratis_results / "verdict_counts.csv") if r["benchmark"] == "socratis"]
    for generator in ("blip2", "text-only"):
        mine = {r["verdict"]: r for r in rows if r["generator"] == generator}
        source = {r["verdict"]: int(r["count"]) for r in counts if r["generator"] == generator}
        assert {v: int(r["count"]) for v, r in mine.items()} == source
        ratio = float(mine["human"]["human_machine_ratio"])
        assert ratio == pytest.approx(source["human"] / source["machine"])
