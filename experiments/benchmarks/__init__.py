"""Benchmark names users type, mapped to their loaders and files.

`--data-dir` holds one folder per benchmark family:
flickr8k/, pascal50s/, thumb/, nebula/, polaris/, fleur/, and
socratis/ for the user's Socratis files. The demo ships inside the package.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

from .base import Benchmark, DataError

DATA_ENV = "METAEVAL_DATA_DIR"

# name -> (family folder under --data-dir, module, loader function)
_BENCHMARKS: dict[str, tuple[str, str, str]] = {
    "demo": ("", "experiments.socratis.benchmark", "load_demo"),
    "socratis": ("socratis", "experiments.socratis.benchmark", "load"),
    "flickr8k-expert": ("flickr8k", "experiments.benchmarks.flickr8k", "load_expert"),
    "flickr8k-cf": ("flickr8k", "experiments.benchmarks.flickr8k", "load_cf"),
    "pascal50s": ("pascal50s", "experiments.benchmarks.captions", "load_pascal50s"),
    "thumb": ("thumb", "experiments.benchmarks.captions", "load_thumb"),
    "nebula": ("nebula", "experiments.benchmarks.captions", "load_nebula"),
    "polaris": ("polaris", "experiments.benchmarks.captions", "load_polaris"),
}


def register_benchmark(name: str, family: str, module: str, loader: str) -> None:
    _BENCHMARKS[name] = (family, module, loader)


def list_benchmarks() -> list[str]:
    return sorted(_BENCHMARKS)


def default_data_dir() -> str | None:
    return os.environ.get(DATA_ENV)


def load_benchmark(name: str, data_dir: str | os.PathLike | None = None,
                   image_root: str | None = None) -> Benchmark:
    """Load benchmark `name` from `data_dir`/FAMILY (the demo needs no folder).

    The benchmark's `name` is the registered name: loaders never set it."""
    try:
        family, module, loader = _BENCHMARKS[name]
    except KeyError:
        raise DataError(f"unknown benchmark {name!r}; known benchmarks: "
                        f"{', '.join(list_benchmarks())}") from None
    load = getattr(importlib.import_module(module), loader)
    if not family:
        return _named(load(image_root=image_root), name)
    data_dir = data_dir or default_data_dir()
    if not data_dir:
        raise DataError(f"benchmark {name!r} needs --data-dir (or ${DATA_ENV}) pointing at a "
                        f"folder that holds {family}/")
    folder = Path(data_dir) / family
    if not folder.is_dir():
        raise DataError(f"benchmark {name!r}: folder not found: {folder}")
    return _named(load(folder, image_root=image_root), name)


def _named(bench: Benchmark, name: str) -> Benchmark:
    bench.name = name
    return bench
