"""The demo and Flickr8k runs write the same bytes as before the layout change.

The files under golden/ were written by the code as it stood before
experiments/ was reorganised by role (commit 096b830; the Socratis tables then
lived in BENCH.TABLE.csv files, converted here to one TABLE.csv with a
`benchmark` column). A change that is meant to alter these numbers (new demo
data, a corrected statistic) rewrites them with `python -m
tests.experiments.golden_regenerate` and says so in its commit; any other
difference is a regression.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from experiments.run_correlation import main

GOLDEN = Path(__file__).resolve().parent / "golden"
RUNS = {
    "demo": ["--metrics", "bleu1,bleu2,bleu3,bleu4,meteor,rouge_l,cider",
             "--bootstrap", "200", "--permutations", "200"],
    "flickr8k": ["--benchmark", "flickr8k-expert,flickr8k-cf", "--metrics", "bleu4,rouge_l,cider",
                 "--bootstrap", "200", "--permutations", "200"],
}


def run_args(name: str, out: Path, data_dir: Path | None) -> list[str]:
    args = [*RUNS[name], "--out", str(out), "--quiet"]
    return args + (["--data-dir", str(data_dir)] if data_dir is not None else [])


def compare_with_golden(name: str, out: Path) -> None:
    golden = GOLDEN / name
    sums = golden / "SHA256SUMS"
    expected_hashes = {}
    if sums.is_file():
        for line in sums.read_text().splitlines():
            digest, file_name = line.split()
            expected_hashes[file_name] = digest
    for file_name, digest in expected_hashes.items():
        actual = hashlib.sha256((out / file_name).read_bytes()).hexdigest()
        assert actual == digest, f"{name}/{file_name} differs from the golden run"
    for path in sorted(golden.iterdir()):
        if path.name == "SHA256SUMS":
            continue
        assert (out / path.name).is_file(), f"{name}: {path.name} was not written"
        assert (out / path.name).read_bytes() == path.read_bytes(), \
            f"{name}/{path.name} differs from the golden run"


@pytest.mark.slow
def test_demo_outputs_are_byte_identical(tmp_path):
    assert main(run_args("demo", tmp_path, None)) == 0
    compare_with_golden("demo", tmp_path)


@pytest.mark.slow
def test_flickr8k_outputs_are_byte_identical(flickr8k_golden_run):
    """The run is `flickr8k_golden_run` (tests/conftest.py), on an empty score cache."""
    compare_with_golden("flickr8k", flickr8k_golden_run)
