"""FLEUR's published per-caption scores, brought in with --metric-scores,
give the FLEUR paper's Flickr8k-Expert tau-c (Lee et al. 2024, Table 1: 53.0)."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from scipy import stats

from experiments.benchmarks.base import DataError
from experiments.benchmarks import load_benchmark
from experiments.fleur_scores import main as fleur_main, parse_fleur
from experiments.run_correlation import main as run_main


def test_published_fleur_tau_c_on_flickr8k_expert(shared_data, tmp_path):
    scores = tmp_path / "fleur.csv"
    assert fleur_main(["--fleur", str(shared_data / "fleur" / "fleur_flickr8k_expert.txt"),
                       "--benchmark", "flickr8k-expert", "--data-dir", str(shared_data),
                       "--out", str(scores)]) == 0
    with open(scores) as f:
        assert sum(1 for _ in csv.DictReader(f)) == 5664
    out = tmp_path / "run"
    assert run_main(["--benchmark", "flickr8k-expert", "--data-dir", str(shared_data),
                     "--metric-scores", f"fleur={scores}", "--out", str(out),
                     "--bootstrap", "20", "--quiet"]) == 0
    with open(out / "correlations.csv") as f:
        row = next(r for r in csv.DictReader(f)
                   if r["metric"] == "fleur" and r["statistic"] == "kendall_c")
    assert int(row["n"]) == 16992
    assert round(100 * float(row["value"]), 1) == 53.0
    assert float(row["ci_low"]) < float(row["value"]) < float(row["ci_high"])
    with open(out / "correlations.csv") as f:
        ceiling = next(r for r in csv.DictReader(f) if r["metric"] == "human_ceiling")
    assert float(ceiling["value"]) == pytest.approx(expert_ceiling(shared_data), abs=1e-12)


def expert_ceiling(shared_data) -> float:
    """Each expert slot's tau-c against the mean of the other two, averaged (scipy)."""
    bench = load_benchmark("flickr8k-expert", shared_data)
    by_caption: dict[str, dict[str, float]] = {}
    for sample_id, annotator, value in zip(bench.ratings.sample_ids, bench.ratings.annotators,
                                           bench.ratings.values):
        by_caption.setdefault(sample_id, {})[annotator] = value
    matrix = np.array([[v[a] for a in ("expert1", "expert2", "expert3")]
                       for v in by_caption.values()])
    return float(np.mean([stats.kendalltau(matrix[:, a], np.delete(matrix, a, 1).mean(1),
                                           variant="c").statistic for a in range(3)]))


def test_pascal_blocks_map_to_pair_sides(shared_data, tmp_path):
    out = tmp_path / "hc.csv"
    assert fleur_main(["--fleur", str(shared_data / "fleur" / "fleur_pascal_HC.txt"),
                       "--benchmark", "pascal50s", "--out", str(out)]) == 0
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2000 and rows[0]["sample_id"] == "HC/0/a" and rows[1]["sample_id"] == "HC/0/b"
    assert float(rows[0]["score"]) == 0.798828125


def test_malformed_fleur_file_names_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("image file : a.jpg\ncaption : a dog\nmodel score : high\n")
    with pytest.raises(DataError, match=r"bad.txt:3: score 'high' is not a number"):
        parse_fleur(path)
    path.write_text("caption : a dog\n")
    with pytest.raises(DataError, match=r"bad.txt:1: 'caption' before any 'image file :' line"):
        parse_fleur(path)
