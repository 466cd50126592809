"""--protocol NAME=STAT@LEVEL for built-in benchmarks (THumB as Kendall tau-c, as
Zhou et al. 2023 report it), the standard numbers staying the default."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from scipy.stats import kendalltau

from experiments.benchmarks import load_benchmark
from experiments.benchmarks.base import DataError, ProtocolStep
from experiments.run_correlation import main


def _length_scores(bench, path):
    """A stand-in metric: the caption's length in characters, as --metric-scores."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sample_id", "score"])
        for s in bench.samples:
            w.writerow([s.id, len(s.candidate)])
    return np.array([len(s.candidate) for s in bench.samples], dtype=float)


def _rows(folder):
    with open(folder / "correlations.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_thumb_as_kendall_c_end_to_end(shared_data, tmp_path):
    bench = load_benchmark("thumb", shared_data)
    scores = _length_scores(bench, tmp_path / "len.csv")
    index = bench.sample_index()
    per_row = scores[[index[i] for i in bench.ratings.sample_ids]]
    expected = kendalltau(per_row, bench.ratings.values, variant="c").statistic
    out = tmp_path / "res"
    code = main(["--benchmark", "thumb", "--data-dir", str(shared_data), "--metric-scores",
                 f"len={tmp_path / 'len.csv'}", "--protocol", "thumb=kendall_c@flat",
                 "--bootstrap", "20", "--permutations", "20", "--out", str(out), "--quiet",
                 "--workers", "1"])
    assert code == 0
    rows = [r for r in _rows(out) if r["metric"] == "len"]
    extra = ("spa", "pairwise_accuracy", "ranking_", "caption_agreement")  # not protocol steps
    main_rows = [r for r in rows if not r["statistic"].startswith(extra)]
    assert [(r["statistic"], r["level"]) for r in main_rows] == [("kendall_c", "flat")]
    assert float(main_rows[0]["value"]) == pytest.approx(expected, abs=1e-12)
    report = (out / "report.md").read_text()
    assert "Protocol chosen with --protocol: kendall_c@flat" in report
    assert "pearson@flat, pearson@item, pearson@system" in report


def test_standard_protocol_stays_the_default(shared_data):
    bench = load_benchmark("thumb", shared_data)
    assert bench.protocol == [ProtocolStep("pearson", level)
                              for level in ("flat", "item", "system")]
    assert not any("--protocol" in note for note in bench.notes)


def test_protocol_that_does_not_fit_a_builtin_is_refused(shared_data):
    with pytest.raises(DataError, match="--protocol pascal50s: kendall_c@flat: pascal50s has "
                                        "pairwise preferences"):
        load_benchmark("pascal50s", shared_data, protocol=[ProtocolStep("kendall_c", "flat")])
    with pytest.raises(DataError, match="--protocol flickr8k-expert: pearson@system: "
                                        "flickr8k-expert names no systems"):
        load_benchmark("flickr8k-expert", shared_data,
                       protocol=[ProtocolStep("pearson", "system")])


def test_protocol_for_a_benchmark_not_selected_is_a_usage_error(capsys, tmp_path):
    code = main(["--benchmark", "demo", "--metrics", "bleu1", "--protocol",
                 "thumb=kendall_c@flat", "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 2
    assert "--protocol for thumb: no such benchmark in --benchmark" in capsys.readouterr().err
