"""The bundled demo: a small Socratis-shaped set for a smoke run.

ILLUSTRATIVE DATA: drawn images, invented captions, made-up reasons and
verdicts (written by scripts/make_demo.py with a fixed seed). Its numbers say
nothing about any metric; they only show the whole path runs.
"""
from __future__ import annotations

from ..benchmarks.base import Benchmark
from .data import load_socratis


def load_demo(image_root: str | None = None) -> Benchmark:
    from ..benchmarks import DEMO_DIR

    bench = load_socratis(DEMO_DIR, image_root=image_root, name="demo")
    bench.notes.insert(0, "illustrative data for a smoke run (scripts/make_demo.py); "
                          "its numbers say nothing about any metric")
    return bench
