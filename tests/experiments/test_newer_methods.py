"""The 2024-2026 meta-evaluation rows run_correlation adds where the data allow:
kappa on pair-level subsets, Krippendorff's alpha between annotators."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from experiments.benchmarks.user_files import load_user_file
from experiments.pipeline.agreement import views
from experiments.pipeline.newer_methods import newer_rows
from experiments.pipeline.settings import AnalysisSettings

SETTINGS = AnalysisSettings(bootstrap=50, permutations=50)

RATINGS_CSV = """\
id,candidate,score,annotator
c1,a dog,4,ann1
c1,a dog,3,ann2
c2,a cat,1,ann1
c2,a cat,2,ann2
c3,two kids,4,ann1
c3,two kids,4,ann2
c4,a boy,2,ann1
c5,a ball,3,ann2
"""

PREFS_CSV = """\
pair_id,candidate_a,candidate_b,preferred,category
q1,a man,a horse,a,HC
q2,two dogs,a cat,tie,HI
q3,a plane,a jet,b,HI
q4,a car,a bus,a,HI
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_alpha_rows_beside_the_ceiling(tmp_path):
    bench = load_user_file("mine", _write(tmp_path, "r.csv", RATINGS_CSV))
    rows = {r.statistic: r for r in newer_rows(bench, {}, views(bench), SETTINGS)}
    # units (4,3), (1,2), (4,4); c4 and c5 rated once: left out.
    # values 1,2,3,4,4,4 (n = 6): n_1 = n_2 = n_3 = 1, n_4 = 3
    # observed sum o d2 = 2*(1 + 1) = 4; expected sum n_c n_k d2 =
    # 2*(1*1*1 + 1*1*4 + 1*3*9 + 1*1*1 + 1*3*4 + 1*3*1) = 96 -> alpha = 1 - 5*4/96
    interval = rows["krippendorff_interval"]
    assert interval.metric == "human_ceiling" and interval.level == "flat"
    assert interval.value == pytest.approx(1 - 20 / 96)
    assert interval.n == 3 and "2 samples rated fewer than twice" in interval.notes
    assert "krippendorff_ordinal" in rows


def test_kappa_rows_per_pair_subset(tmp_path):
    bench = load_user_file("study", _write(tmp_path, "p.csv", PREFS_CSV))
    # metric prefers a on q1, ties on q2, a on q3, a on q4
    scores = np.array([0.9, 0.1, 0.5, 0.5, 0.6, 0.4, 0.8, 0.2])
    rows = {(r.metric, r.subset): r for r in newer_rows(bench, {"m": scores}, views(bench),
                                                        SETTINGS)}
    assert set(rows) == {("m", ""), ("m", "HC"), ("m", "HI")}
    # all: metric A/A-tie.. decisions (1, 0, 1, 1) vs human (1, 0, -1, 1): p_o = 3/4,
    # marginals metric A3 T1, human A2 T1 B1 -> p_e = (6 + 1)/16; kappa = (12 - 7)/(16 - 7)
    assert rows["m", ""].statistic == "kappa"
    assert rows["m", ""].value == pytest.approx(5 / 9)
    assert rows["m", "HI"].n == 3


def _system_ratings(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    lines = ["id,candidate,item,system,score"]
    for item in range(12):
        for k, system in enumerate(("s1", "s2", "s3")):
            lines.append(f"{system}-{item},text {system} {item},img{item},{system},"
                         f"{k + rng.normal():.4f}")
    return _write(tmp_path, "sys.csv", "\n".join(lines) + "\n")


def test_spa_rows_where_ratings_name_systems(tmp_path):
    from correlation import soft_pairwise_accuracy, system_pairwise_accuracy

    bench = load_user_file("mine", _system_ratings(tmp_path))
    human = bench.ratings.values
    good = human + 0.1 * np.arange(human.size) % 3  # per-sample scores in sample order
    reverse = -human
    rows = newer_rows(bench, {"good": good, "reverse": reverse}, views(bench), SETTINGS)
    by = {(r.metric, r.statistic): r for r in rows}
    assert by["good", "spa"].value == pytest.approx(soft_pairwise_accuracy(
        good, human, bench.ratings.systems, bench.ratings.items, n_permutations=50,
        seed=np.random.SeedSequence(0).spawn(2)[0]))
    assert by["reverse", "pairwise_accuracy"].value == 0.0
    assert by["good", "pairwise_accuracy"].value == system_pairwise_accuracy(
        good, human, bench.ratings.systems)
    assert by["good", "spa"].cluster == 1 and by["reverse", "spa"].cluster == 2
    assert by["good", "spa"].n == 3


def test_no_spa_rows_without_systems(tmp_path):
    bench = load_user_file("mine", _write(tmp_path, "r.csv", RATINGS_CSV))
    scores = np.arange(len(bench.samples), dtype=float)
    assert not [r for r in newer_rows(bench, {"m": scores}, views(bench), SETTINGS)
                if r.statistic in ("spa", "pairwise_accuracy")]


BATTLES_CSV = """\
pair_id,candidate_a,candidate_b,preferred,system_a,system_b
q1,short,a longer one,b,g1,g2
q2,a longer one,short,a,g2,g1
q3,tiny,a very long caption,tie,g1,g3
q4,a very long caption,a longer one,a,g3,g2
q5,a longer one,a very long caption,a,g2,g3
q6,short,a very long caption,b,g1,g3
"""


def test_system_columns_in_the_preferences_format(tmp_path):
    from experiments.benchmarks.base import DataError

    bench = load_user_file("b", _write(tmp_path, "b.csv", BATTLES_CSV))
    assert bench.preferences.system_a == ["g1", "g2", "g1", "g3", "g2", "g1"]
    assert bench.preferences.system_b == ["g2", "g1", "g3", "g2", "g3", "g3"]
    one_side = BATTLES_CSV.replace("q1,short,a longer one,b,g1,g2", "q1,short,a longer one,b,g1,")
    with pytest.raises(DataError, match=r"b.csv:2: system_a and system_b go together"):
        load_user_file("b", _write(tmp_path, "b.csv", one_side))
    itself = BATTLES_CSV.replace("b,g1,g2", "b,g1,g1")
    with pytest.raises(DataError, match=r"b.csv:2: .*cannot battle itself"):
        load_user_file("b", _write(tmp_path, "b.csv", itself))


def test_battle_rows_and_rankings(tmp_path):
    from correlation import caption_agreement
    from correlation.battles import bradley_terry
    from experiments.pipeline.newer_methods import battle_rankings

    bench = load_user_file("b", _write(tmp_path, "b.csv", BATTLES_CSV))
    length = np.array([len(s.candidate) for s in bench.samples], dtype=float)
    rows, table = battle_rankings(bench, {"len": length}, SETTINGS)
    by = {r.statistic: r for r in rows}
    # the length metric prefers the longer caption: outcomes (-1, 1, -1, 1, -1, -1)
    metric = np.array([-1, 1, -1, 1, -1, -1])
    human = bench.preferences.outcome
    assert by["caption_agreement"].value == pytest.approx(caption_agreement(metric, human)[0])
    assert by["caption_agreement_no_ties"].value == pytest.approx(4 / 5)
    assert by["caption_agreement_no_ties"].n == 5
    assert {"ranking_spearman_bt", "ranking_kendall_bt", "ranking_spearman_elo",
            "ranking_kendall_elo"} <= set(by)
    humans_bt = {r["system"]: r["score"] for r in table
                 if r["ranking"] == "humans" and r["method"] == "bt"}
    assert humans_bt == pytest.approx(bradley_terry(bench.preferences.system_a,
                                                    bench.preferences.system_b, human))
    assert {r["ranking"] for r in table} == {"humans", "len"}
    assert len(table) == 2 * 2 * 3  # two rankings, two methods, three systems


def test_no_battles_without_system_columns(tmp_path):
    from experiments.pipeline.newer_methods import battle_rankings

    bench = load_user_file("study", _write(tmp_path, "p.csv", PREFS_CSV))
    assert battle_rankings(bench, {"m": np.arange(8.0)}, SETTINGS) == ([], [])


def test_battles_derived_from_ratings_with_systems_and_items(tmp_path):
    from experiments.pipeline.newer_methods import battle_rankings, rating_battles

    bench = load_user_file("mine", _system_ratings(tmp_path))
    human = bench.ratings.values
    a, b, h, outcomes = rating_battles(bench, {"same": human, "reverse": -human})
    assert len(a) == 12 * 3  # every item: s1-s2, s1-s3, s2-s3
    assert set(zip(a, b)) == {("s1", "s2"), ("s1", "s3"), ("s2", "s3")}
    np.testing.assert_array_equal(outcomes["same"], h)
    np.testing.assert_array_equal(outcomes["reverse"], -h)
    rows, table = battle_rankings(bench, {"same": human, "reverse": -human}, SETTINGS)
    by = {(r.metric, r.statistic): r for r in rows}
    assert by["same", "ranking_spearman_bt"].value == pytest.approx(1.0)
    assert by["reverse", "ranking_kendall_bt"].value == pytest.approx(-1.0)
    assert by["same", "caption_agreement"].value == 1.0
    assert {r["battles"] for r in table} == {"derived from ratings per item"}


def test_no_system_rows_when_no_item_has_two_systems(tmp_path):
    # a system column but every sample on its own image: no segments to pair, nothing derived
    lines = ["candidate,item,system,score"] + [f"text {k},img{k},s{k % 2},{k % 4}"
                                               for k in range(8)]
    bench = load_user_file("mine", _write(tmp_path, "r.csv", "\n".join(lines) + "\n"))
    scores = np.arange(len(bench.samples), dtype=float)
    rows = newer_rows(bench, {"m": scores}, views(bench), SETTINGS)
    assert not [r for r in rows if r.statistic in ("spa", "pairwise_accuracy")]
    from experiments.pipeline.newer_methods import battle_rankings
    assert battle_rankings(bench, {"m": scores}, SETTINGS) == ([], [])
