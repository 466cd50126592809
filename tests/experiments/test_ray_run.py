"""`run_correlation --executor ray` scores the demo exactly as the local path does."""
from __future__ import annotations

import json

import pytest

from experiments.run_correlation import main
from tests.metrics.conftest import tiny_bart  # noqa: F401  (the fixture)


@pytest.mark.slow
def test_the_ray_path_scores_the_demo_identically(local_ray, tiny_bart, tmp_path):  # noqa: F811
    common = ["--metrics", "bartscore", "--metric-option", f"bartscore.model={tiny_bart}",
              "--bootstrap", "20", "--permutations", "20", "--quiet", "--no-cache"]
    assert main([*common, "--out", str(tmp_path / "local")]) == 0
    # one worker: each actor start imports torch (test_ray_executor.py spreads chunks
    # over several)
    assert main([*common, "--out", str(tmp_path / "ray"), "--executor", "ray",
                 "--ray-workers", "1"]) == 0
    for name in ("scores.csv", "correlations.csv", "comparisons.csv", "failures.csv"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    record = json.loads((tmp_path / "ray" / "run.json").read_text())
    assert record["arguments"]["executor"] == "ray"
    assert not any(m["skipped"] for m in record["metrics"])
