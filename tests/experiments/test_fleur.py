"""FLEUR's published per-caption scores, brought in with --metric-scores,
give the FLEUR paper's Flickr8k-Expert tau-c (Lee et al. 2024, Table 1: 53.0)."""
from __future__ import annotations

import csv
import json
import re

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
                       "--benchmark", "pascal50s", "--data-dir", str(shared_data),
                       "--out", str(out)]) == 0
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


def test_pascal_label_lines_that_differ_from_the_file_are_counted(shared_data, tmp_path, capsys):
    files = [str(shared_data / "fleur" / f"fleur_pascal_{c}.txt") for c in ("HC", "HI", "HM", "MM")]
    assert fleur_main(["--fleur", *files, "--benchmark", "pascal50s", "--data-dir", str(shared_data),
                       "--out", str(tmp_path / "all.csv")]) == 0
    printed = capsys.readouterr().out
    counts = {m[0]: (int(m[1]), int(m[2])) for m in
              re.findall(r"fleur_pascal_(\w\w).txt: (\d+) of (\d+) 'label :' lines differ", printed)}
    raw = json.load(open(shared_data / "pascal50s" / "pascal_50s.json"))
    for category, (differ, labelled) in counts.items():
        text = (shared_data / "fleur" / f"fleur_pascal_{category}.txt").read_text()
        labels = [int(v) for v in re.findall(r"^label : (\d)", text, flags=re.M)]
        assert labelled == len(labels) == 1000
        assert differ == sum(a != pair["label"] for a, pair in zip(labels, raw[category]))
    assert sorted(counts) == ["HC", "HI", "HM", "MM"]
    assert sum(d for d, _ in counts.values()) == 35


PAIRS = {"HC": [{"image": "VOC/1.jpg", "captions": ["A dog runs.", "A dog."], "label": 0,
                 "references": ["A dog running."]},
                {"image": "VOC/2.jpg", "captions": ["A cat sits.", "A cat."], "label": 1,
                 "references": ["A sitting cat."]}]}


def _block(image, label, a, b):
    return (f"image file : VOC/{image}\nlabel : {label}\n\ncaption : {a}\nmodel score : 0.5\n"
            f"our score : 0.25\n\ncaption : {b}\nmodel score : 0.5\nour score : 0.75\n\n")


def _pascal_run(tmp_path, fleur_text):
    (tmp_path / "pascal50s").mkdir(exist_ok=True)
    (tmp_path / "pascal50s" / "pascal_50s.json").write_text(json.dumps(PAIRS))
    path = tmp_path / "fleur_pascal_HC.txt"
    path.write_text(fleur_text)
    return fleur_main(["--fleur", str(path), "--benchmark", "pascal50s", "--data-dir",
                       str(tmp_path), "--out", str(tmp_path / "out.csv")])


def test_pascal_blocks_are_checked_against_their_pairs(tmp_path, capsys):
    good = _block("1.jpg", 0, "A dog runs.", "A dog.") + _block("2.jpg", 0, "A cat sits.", "A cat.")
    assert _pascal_run(tmp_path, good) == 0
    assert "fleur_pascal_HC.txt: 1 of 2 'label :' lines differ" in capsys.readouterr().out
    with open(tmp_path / "out.csv") as f:
        assert [(r["sample_id"], float(r["score"])) for r in csv.DictReader(f)] == [
            ("HC/0/a", 0.25), ("HC/0/b", 0.75), ("HC/1/a", 0.25), ("HC/1/b", 0.75)]
    swapped = _block("1.jpg", 0, "A dog runs.", "A dog.") + _block("2.jpg", 1, "A cat.", "A cat sits.")
    assert _pascal_run(tmp_path, swapped) == 2
    assert re.search(r"fleur_pascal_HC.txt:12: block 1's caption a 'A cat.' is not HC pair 1's "
                     r"'A cat sits.'", capsys.readouterr().err)
    other_image = _block("1.jpg", 0, "A dog runs.", "A dog.") + _block("9.jpg", 1, "A cat sits.", "A cat.")
    assert _pascal_run(tmp_path, other_image) == 2
    assert "fleur_pascal_HC.txt:12: block 1 is for image 9.jpg, but HC pair 1 is for 2.jpg" in \
        capsys.readouterr().err
    assert _pascal_run(tmp_path, good.split("image file : VOC/2.jpg")[0]) == 2
    assert "fleur_pascal_HC.txt: 1 blocks, but pascal_50s.json has 2 HC pairs" in capsys.readouterr().err
