"""Rewrite tests/experiments/golden/ from the current code (see test_golden_outputs).

    python -m tests.experiments.golden_regenerate [--data-dir DATA]

Only for a change that is meant to alter the demo's or Flickr8k's numbers.
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
from pathlib import Path

from experiments.run_correlation import main as run_correlation
from tests.experiments.test_golden_outputs import GOLDEN, run_args

HASHED = ("scores.csv", "judgments.csv")  # too large to keep in the repository


def regenerate(name: str, data_dir: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as cache:
        out = Path(tmp)
        # an empty cache, as the tests have: report.md counts scores computed and cached
        if run_correlation(run_args(name, out, data_dir) + ["--cache-dir", cache]) != 0:
            raise SystemExit(f"the {name} run failed")
        golden = GOLDEN / name
        hashed = name != "demo"
        kept = sorted(p.name for p in golden.iterdir())
        shutil.rmtree(golden)
        golden.mkdir()
        for path in sorted(out.iterdir()):
            if path.name == "run.json" or (hashed and path.name in HASHED):
                continue
            shutil.copy(path, golden / path.name)
        if hashed:
            (golden / "SHA256SUMS").write_text("".join(
                f"{hashlib.sha256((out / n).read_bytes()).hexdigest()}  {n}\n" for n in HASHED))
        print(f"{name}: was {kept}, now {sorted(p.name for p in golden.iterdir())}")


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m tests.experiments.golden_regenerate")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="real benchmark data (needed for the Flickr8k golden run)")
    args = p.parse_args()
    regenerate("demo", None)
    if args.data_dir is not None:
        regenerate("flickr8k", args.data_dir)


if __name__ == "__main__":
    main()
