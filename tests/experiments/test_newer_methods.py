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
