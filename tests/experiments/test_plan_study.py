"""Study planning end to end: plan_study, the minimum detectable differences of a run,
the Socratis kit's sizing and the study summary's detectable effect.

Each answer is checked against the exact closed form (McNemar's test for two
metrics' paired accuracy, the sign test for verdict counts) computed from the
same pilot in the test.
"""
from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from scipy import stats

from correlation.power import binomial_test_power, sign_test_power, sign_test_size
from experiments.human_study import main as human_study_main
from experiments.make_figures import main as make_figures_main
from experiments.pipeline.agreement import detectable
from experiments.plan_study import main as plan_main
from experiments.run_correlation import main as run_main
from experiments.socratis.study import pairs_for_effect
from tests.helpers.socratis_fixture import paper_counts_rows, write_socratis

SIMS = 600


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def plan_rows(results):
    """power_curve.csv of plan_study's default output folder, RESULTS-plan."""
    return read_rows(results.parent / f"{results.name}-plan" / "power_curve.csv")


def _power_within(rows, expected_at):
    for row in rows:
        n, p, se = int(row["n"]), float(row["power"]), float(row["mc_se"])
        assert abs(p - expected_at(n)) <= 4 * max(se, 0.005), (n, p, expected_at(n))


# -- the Socratis fixture ------------------------------------------------------------------

@pytest.fixture
def socratis_pilot(tmp_path):
    """The paper's verdict counts (223 human, 91 machine, 58 ties; one annotator per
    pair) and two made-up metrics: "sharp" prefers the human-preferred reason on 75 %
    of the decisive pairs, "blunt" on 60 %."""
    rows = paper_counts_rows()
    data = tmp_path / "data"
    write_socratis(data / "socratis", rows)
    rng = np.random.default_rng(0)
    scores = {"sharp": [], "blunt": []}
    right = {"sharp": 0, "blunt": 0}
    only = {"sharp": 0, "blunt": 0}
    for k, row in enumerate(rows):
        decisive = row["verdict"] in ("human", "machine")
        u = rng.random()
        sharp_right, blunt_right = u < 0.75, (u < 0.55) or (0.75 <= u < 0.80)
        for name, ok in (("sharp", sharp_right), ("blunt", blunt_right)):
            human_wins = row["verdict"] == "human"
            prefer_human = ok == human_wins if decisive else bool(k % 2)
            scores[name] += [(f"p:{row['pair_id']}:human", 1.0 if prefer_human else 0.0),
                             (f"p:{row['pair_id']}:machine", 0.0 if prefer_human else 1.0)]
            right[name] += decisive and ok
        if decisive:
            only["sharp"] += sharp_right and not blunt_right
            only["blunt"] += blunt_right and not sharp_right
    files = []
    for name, pairs in scores.items():
        path = tmp_path / f"{name}.csv"
        path.write_text("sample_id,score\n" + "".join(f"{i},{v}\n" for i, v in pairs))
        files += ["--metric-scores", f"{name}={path}"]
    results = tmp_path / "results"
    assert run_main(["--benchmark", "socratis", "--data-dir", str(data), *files, "--bootstrap",
                     "200", "--permutations", "200", "--out", str(results), "--quiet"]) == 0
    return results, only, len(rows)


def test_how_many_pairs_to_tell_two_metrics_apart_on_socratis(socratis_pilot, capsys):
    results, only, n_pairs = socratis_pilot
    sizes = [25, 50, 100, 200, 400]
    assert plan_main(["--results", str(results), "--metrics", "sharp,blunt", "--sizes",
                      ",".join(map(str, sizes)), "--simulations", str(SIMS), "--permutations",
                      "200", "--quiet"]) == 0
    printed = capsys.readouterr().out
    rows = plan_rows(results)
    accuracy = [r for r in rows if r["statistic"] == "accuracy"]
    assert [int(r["n"]) for r in accuracy] == sizes
    # McNemar on pairs: a pair is "sharp only right" / "blunt only right" with the
    # pilot's shares (ties in the verdicts count in neither: they are not decisive).
    _power_within(accuracy, lambda n: sign_test_power(n, only["sharp"] / n_pairs,
                                                      only["blunt"] / n_pairs, n_permutations=200))
    n_required = accuracy[0]["n_required"]
    assert n_required and int(n_required) in sizes
    assert f"needs {n_required} pairs" in printed and "sharp vs blunt" in printed


def test_verdict_counts_plan_matches_the_sign_test(socratis_pilot, capsys):
    results, _, _ = socratis_pilot
    sizes = [10, 20, 40, 80]
    assert plan_main(["--results", str(results), "--verdicts", "--sizes",
                      ",".join(map(str, sizes)), "--simulations", "2000", "--quiet"]) == 0
    rows = plan_rows(results)
    assert {r["comparison"] for r in rows} == {"verdicts"}
    _power_within(rows, lambda n: sign_test_power(n, 223 / 372, 91 / 372))
    assert "human- vs machine-preferred verdicts" in capsys.readouterr().out


def test_power_curve_figure_is_drawn_when_the_results_hold_one(socratis_pilot, tmp_path):
    results, _, _ = socratis_pilot
    run_files = {p.name: p.read_bytes() for p in results.iterdir()}
    assert plan_main(["--results", str(results), "--verdicts", "--sizes", "10,40",
                      "--simulations", "50", "--quiet"]) == 0
    out = tmp_path / "figures"
    plan = results.parent / f"{results.name}-plan"
    assert make_figures_main(["--results", str(plan), "--out", str(out)]) == 0
    assert (out / "socratis_power_curve.png").is_file()
    drawn = read_rows(out / "socratis_power_curve.csv")
    assert [r["n"] for r in drawn] == ["10", "40"]
    index = (out / "README.md").read_text()
    assert "power by study size" in index and "python -m experiments.plan_study" in index
    # the run's own folder is left as the run wrote it, byte for byte
    assert {p.name: p.read_bytes() for p in results.iterdir()} == run_files


def test_the_report_marks_underpowered_comparisons(socratis_pilot):
    results, _, _ = socratis_pilot
    rows = read_rows(results / "comparisons.csv")
    assert {"mdd", "underpowered"} <= set(rows[0])
    for row in rows:
        mdd = float(row["mdd"])
        assert mdd > 0
        assert row["underpowered"] == str(abs(float(row["delta"])) < mdd)
    report = (results / "report.md").read_text()
    assert "## Power of the comparisons" in report
    assert "minimum detectable difference" in report.lower()


def test_study_summary_says_what_the_verdicts_could_detect(socratis_pilot):
    results, _, _ = socratis_pilot
    (summary,) = read_rows(results / "study_summary.csv")
    share = float(summary["detectable_human_share"])
    # 314 decisive verdicts: the exact binomial test reaches power 0.8 at this share
    assert binomial_test_power(314, share) >= 0.8 > binomial_test_power(314, share - 1e-3)
    assert 0.55 < share < 0.6      # the paper's 223 / 314 = 0.71 is well beyond it
    assert float(summary["detectable_ratio"]) == pytest.approx(share / (1 - share))


# -- the Socratis kit's sizing ---------------------------------------------------------------

def test_pairs_for_effect_is_the_sign_test_size():
    n = pairs_for_effect(0.6, tie_share=0.2)
    assert n == sign_test_size(0.48, 0.32)
    assert sign_test_power(n, 0.48, 0.32) >= 0.8 > sign_test_power(n - 1, 0.48, 0.32)


def test_export_sizes_its_draw_from_the_effect(tmp_path, capsys):
    folder = write_socratis(tmp_path / "socratis")
    code = human_study_main(["export", "--socratis-dir", str(folder), "--n-for-effect", "0.7",
                             "--out", str(tmp_path / "t.csv"), "--key", str(tmp_path / "k.csv")])
    assert code == 0
    out = capsys.readouterr().out
    assert f"{pairs_for_effect(0.7)} pairs give 80% power" in out


def test_export_rejects_an_effect_of_no_effect(tmp_path, capsys):
    folder = write_socratis(tmp_path / "socratis")
    assert human_study_main(["export", "--socratis-dir", str(folder), "--n-for-effect", "0.5",
                             "--out", str(tmp_path / "t.csv"), "--key", str(tmp_path / "k.csv")]) == 2
    assert "other than 0.5" in capsys.readouterr().err


# -- minimum detectable difference -------------------------------------------------------------

def test_detectable_is_2_8_standard_errors_and_flags_smaller_differences():
    mdd, under = detectable(0.03, 0.01, 0.05)
    assert mdd == pytest.approx((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * 0.01)
    assert under is False
    assert detectable(-0.02, 0.01, 0.05)[1] is True
    assert detectable(float("nan"), 0.01, 0.05)[1] is None
    assert detectable(0.0, 0.0, 0.05) == (0.0, None)


def test_comparison_standard_error_is_mcnemars_for_paired_accuracy():
    from correlation import compare_metrics

    rng = np.random.default_rng(3)
    n = 4000
    human = rng.choice([1.0, -1.0], n)
    u = rng.random(n)
    a = np.where(u < 0.7, human, -human)
    b = np.where((u < 0.6) | ((u > 0.7) & (u < 0.75)), human, -human)
    res = compare_metrics(a, b, human, "accuracy", "pair", n_resamples=2000, n_permutations=10)
    p10, p01 = np.mean((a == human) & (b != human)), np.mean((a != human) & (b == human))
    expected = math.sqrt((p10 + p01 - (p10 - p01) ** 2) / n)   # var of a paired difference
    assert res.se == pytest.approx(expected, rel=0.08)


# -- PASCAL-50S (real data) --------------------------------------------------------------------

@pytest.mark.slow
def test_how_many_pairs_to_tell_cider_from_bleu4_on_pascal50s(shared_data, tmp_path, capsys,
                                                              pascal50s_score_cache):
    out = tmp_path / "plan"
    sizes = [250, 500, 1000, 2000]
    assert plan_main(["--benchmark", "pascal50s", "--data-dir", str(shared_data), "--metrics",
                      "cider,bleu4", "--subset", "HC", "--sizes", ",".join(map(str, sizes)),
                      "--simulations", str(SIMS), "--permutations", "200", "--out", str(out),
                      "--cache-dir", str(pascal50s_score_cache), "--quiet"]) == 0
    rows = read_rows(out / "power_curve.csv")
    assert [int(r["n"]) for r in rows] == sizes and {r["subset"] for r in rows} == {"HC"}
    # the closed form from the same pilot: McNemar on the 1,000 HC pairs
    from experiments.benchmarks import load_benchmark
    from experiments.pipeline.agreement import views
    from metrics import ScoreCache, get_metric, score_with_cache

    bench = load_benchmark("pascal50s", shared_data)
    view = next(v for v in views(bench) if v.subset == "HC")
    right = {}
    cache = ScoreCache(pascal50s_score_cache)  # the scores plan_study read
    for name in ("cider", "bleu4"):
        output, stats = score_with_cache(get_metric(name), bench.samples, cache, progress=False)
        assert stats.cached == len(bench.samples), name
        right[name] = np.sign(view.metric_vector(output.scores)) == view.human
    cache.close()
    p10 = np.mean(right["cider"] & ~right["bleu4"])
    p01 = np.mean(~right["cider"] & right["bleu4"])
    _power_within(rows, lambda n: sign_test_power(n, p10, p01, n_permutations=200))
    printed = capsys.readouterr().out
    assert "pascal50s HC, accuracy (pair): cider vs bleu4" in printed


@pytest.mark.parametrize("option, value", [("--permutations", "0"), ("--bootstrap", "1"),
                                           ("--alpha", "1.5")])
def test_options_shared_with_run_correlation_are_range_checked_first(option, value, tmp_path,
                                                                     capsys):
    from experiments import plan_study

    code = plan_study.main(["--benchmark", "demo", "--metrics", "bleu4,cider", option, value,
                            "--out", str(tmp_path / "out")])
    assert code == 2
    assert f"{option} {float(value) if option == '--alpha' else int(value)} is out of range" \
        in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before anything was scored or written
