"""The Socratis benchmark and the bundled demo, as the registry loads them.

Both carry the paper's tables (`Benchmark.tables`: subset means, per-generator
means, verdict counts; `experiments.socratis.tables`). The demo is
ILLUSTRATIVE DATA: drawn images, invented captions, made-up reasons and
verdicts (written by scripts/make_demo.py with a fixed seed). Its numbers say
nothing about any metric; they only show the whole path runs.
"""
from __future__ import annotations

from pathlib import Path

from ..benchmarks.base import Benchmark
from .data import load_socratis
from .tables import socratis_tables

DEMO_DIR = Path(__file__).resolve().parent / "demo_data"
DEMO_NOTE = ("illustrative data for a smoke run (scripts/make_demo.py); "
             "its numbers say nothing about any metric")


def load(folder: Path, image_root: str | None = None) -> Benchmark:
    """Socratis (Deng et al. 2023): reasons for emotions, human vs machine verdicts.

    Read from `folder` (see `experiments.socratis.data`), with the paper's tables."""
    bench = load_socratis(folder, image_root=image_root)
    bench.tables = socratis_tables
    return bench


def load_demo(image_root: str | None = None) -> Benchmark:
    """The bundled demo: illustrative Socratis-shaped data for a smoke run, offline."""
    bench = load(DEMO_DIR, image_root=image_root)
    bench.illustrative = DEMO_NOTE
    return bench
