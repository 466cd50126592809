"""Benchmark names users type, mapped to their loaders and files.

`--data-dir` holds one folder per benchmark family:
flickr8k/, pascal50s/, thumb/, nebula/, polaris/, fleur/, and
socratis/ for the user's Socratis files. The demo ships inside the package.

A name of the form NAME=PATH is the user's own ratings or preferences file
(`user_files.py`). Other packages add benchmarks through the entry-point
group `socratis_metaeval.benchmarks` (`name = "package.module:load"`, called
as `load(data_dir, image_root=...)` with --data-dir, which may be None), or
by calling `register_benchmark` from a module given to `--plugin`.
"""
from __future__ import annotations

import functools
import importlib
import logging
import os
from importlib.metadata import entry_points
from pathlib import Path

from .base import Benchmark, DataError, ProtocolStep
from .sources import family_names
from .user_files import is_user_file_spec, load_user_file

ENTRY_POINT_GROUP = "socratis_metaeval.benchmarks"
PLUGIN_FAMILY = None  # an entry-point loader gets --data-dir itself
log = logging.getLogger(__name__)

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


BUILT_IN = frozenset(_BENCHMARKS)
_SOURCES: dict[str, str] = {}


def register_benchmark(name: str, family: str, module: str, loader: str) -> None:
    """Make `load_benchmark(name)` call `module.loader(DATA_DIR/family, image_root=...)`
    (`family` "" : `module.loader(image_root=...)`, for data shipped with the code).
    A name already taken (a built-in's, or another plugin's for another loader) is a
    ValueError: under one name, two benchmarks' results would pass for each other's."""
    _discover()
    taken = _BENCHMARKS.get(name)
    if taken is not None and taken != (family, module, loader):
        owner = ("a built-in benchmark" if name in BUILT_IN
                 else f"benchmark from {benchmark_source(name)}")
        raise ValueError(f"register_benchmark({name!r}, ...): {name} is the name of {owner}; "
                         "register yours under a name of its own")
    _BENCHMARKS[name] = (family, module, loader)
    if name not in BUILT_IN:
        _SOURCES.setdefault(name, f"plugin (module {module})")


@functools.lru_cache(maxsize=None)
def _discover() -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep.dist, "name", None) or "unknown package"
        if ep.name in _BENCHMARKS:
            log.warning("benchmark plugin %s from %s ignored: the name is taken", ep.name, dist)
            continue
        module, _, attr = ep.value.partition(":")
        _BENCHMARKS[ep.name] = (PLUGIN_FAMILY, module.strip(), attr.strip())
        _SOURCES[ep.name] = f"plugin ({dist})"


def list_benchmarks() -> list[str]:
    _discover()
    return sorted(_BENCHMARKS)


def benchmark_source(name: str) -> str:
    _discover()
    return "built-in" if name in BUILT_IN else _SOURCES.get(name, "plugin")


def benchmark_loader(name: str):
    """(family, loader function) of benchmark `name`; a plugin's import error is a DataError."""
    _discover()
    try:
        family, module, loader = _BENCHMARKS[name]
    except KeyError:
        raise DataError(f"unknown benchmark {name!r}; known benchmarks: "
                        f"{', '.join(list_benchmarks())}, or NAME=FILE for your own "
                        "ratings or preferences file") from None
    try:
        return family, functools.reduce(getattr, loader.split("."),
                                        importlib.import_module(module))
    except Exception as exc:
        if name in BUILT_IN:
            raise
        raise DataError(f"benchmark {name!r} from {benchmark_source(name)} could not be "
                        f"loaded ({module}:{loader}): {type(exc).__name__}: {exc}") from exc


def default_data_dir() -> str | None:
    return os.environ.get(DATA_ENV)


def load_benchmark(name: str, data_dir: str | os.PathLike | None = None,
                   image_root: str | None = None,
                   protocol: list[ProtocolStep] | None = None) -> Benchmark:
    """Load benchmark `name` from `data_dir`/FAMILY (the demo needs no folder), or
    NAME=PATH, the user's own file; `protocol`, when given, replaces the benchmark's standard
    steps (built-in or own file).

    The benchmark's `name` is the registered name (or NAME): loaders never set it."""
    if is_user_file_spec(name):
        label, _, path = name.partition("=")
        if not label.strip() or not path.strip():
            raise DataError(f"--benchmark {name!r}: expected NAME=PATH")
        return _named(load_user_file(label.strip(), path.strip(), image_root=image_root,
                                     protocol=protocol), label.strip())
    bench = _load_registered(name, data_dir, image_root)
    if protocol is not None:
        choose_protocol(bench, protocol)
    return bench


def choose_protocol(bench: Benchmark, protocol: list[ProtocolStep]) -> None:
    """Report `protocol` in place of the benchmark's standard steps (--protocol NAME=...),
    after checking that its judgments have what each step needs; the report notes both."""
    where = f"--protocol {bench.name}"
    for step in protocol:
        spec = f"{where}: {step.statistic}@{step.level}"
        if step.level == "pair" and bench.preferences is None:
            raise DataError(f"{spec}: level pair needs pairwise preferences, and {bench.name} "
                            "has ratings")
        if step.level != "pair":
            ratings = bench.ratings
            if ratings is None:
                raise DataError(f"{spec}: {bench.name} has pairwise preferences, judged at "
                                "level pair")
            if step.level == "item" and ratings.items in (None, ratings.sample_ids):
                raise DataError(f"{spec}: {bench.name} has no items to group by")
            if step.level == "system" and ratings.systems is None:
                raise DataError(f"{spec}: {bench.name} names no systems")
        if step.by and (bench.preferences is None or bench.preferences.category is None):
            raise DataError(f"{spec}/{step.by}: {bench.name} has no categories")
    standard = ", ".join(_step_text(s) for s in bench.protocol)
    bench.notes.append(f"Protocol chosen with --protocol: {', '.join(map(_step_text, protocol))}"
                       f" (the benchmark's standard: {standard}).")
    bench.protocol = list(protocol)


def _step_text(step: ProtocolStep) -> str:
    return f"{step.statistic}@{step.level}" + (f"/{step.by}" if step.by else "")


def _load_registered(name: str, data_dir, image_root) -> Benchmark:
    family, load = benchmark_loader(name)
    if family is PLUGIN_FAMILY:
        return _named(load(data_dir or default_data_dir(), image_root=image_root), name)
    if not family:
        return _named(load(image_root=image_root), name)
    data_dir = data_dir or default_data_dir()
    if not data_dir:
        raise DataError(f"benchmark {name!r} needs --data-dir (or ${DATA_ENV}) pointing at a "
                        f"folder that holds {family}/")
    folder = Path(data_dir) / family
    if not folder.is_dir():
        hint = (f"; `python -m experiments.fetch_data {name} --data-dir {data_dir}` fetches it"
                if name in family_names() else "")
        raise DataError(f"benchmark {name!r}: folder not found: {folder}{hint}")
    return _named(load(folder, image_root=image_root), name)


def _named(bench: Benchmark, name: str) -> Benchmark:
    bench.name = name
    return bench
