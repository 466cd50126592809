"""Metrics and benchmarks from outside this package, and what can run here.

Installed packages declare entry points (groups `socratis_metaeval.metrics`
and `socratis_metaeval.benchmarks`, see `metrics.registry` and
`experiments.benchmarks`); a local module given to `--plugin MODULE` is
imported and registers its own with `register_metric` / `register_benchmark`.
`inventory()` is what `run_correlation --list` prints: every metric and
benchmark with a one-line description, its source, and whether it can run on
this machine.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from metrics import MetricError, get_metric, list_metrics, metric_class, metric_source

from ..benchmarks import benchmark_loader, benchmark_source, default_data_dir, list_benchmarks
from ..benchmarks.base import DataError
from ..benchmarks.download import check, without_stand_ins
from ..benchmarks.sources import benchmark_files, family_names


class PluginError(Exception):
    """A module named with --plugin could not be imported."""


def is_plugin_path(plugin: str) -> bool:
    """A --plugin naming a file (plug/my_metrics.py, ./mine.py) rather than a module."""
    return plugin.endswith(".py") or "/" in plugin or os.sep in plugin


def import_plugin_file(plugin: str) -> None:
    """Import the .py file `plugin` as the module named by its stem (as `python file.py`
    would name it, so its `register_metric(..., __name__, ...)` finds it again)."""
    path = Path(plugin).expanduser()
    if path.suffix != ".py":
        raise PluginError(f"--plugin {plugin}: a path must name a .py file (or give a module "
                          "name, e.g. my_metrics)")
    if not path.is_file():
        raise PluginError(f"--plugin {plugin}: no such file ({path.resolve()})")
    name = path.stem
    taken = sys.modules.get(name)
    if taken is not None:
        if Path(getattr(taken, "__file__", "") or "").resolve() == path.resolve():
            return
        raise PluginError(f"--plugin {plugin}: its module name {name!r} is already taken by "
                          f"{getattr(taken, '__file__', None) or 'a built-in module'}; "
                          "rename the file")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"--plugin {plugin}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def load_plugins(modules: list[str]) -> None:
    """Import each module, or .py file (the current folder first on the path); its import
    registers its metrics and benchmarks. A module that fails is an error: the user named
    it."""
    if modules and "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    for module in modules:
        try:
            if is_plugin_path(module):
                import_plugin_file(module)
            else:
                importlib.import_module(module)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(f"--plugin {module}: import failed: "
                              f"{type(exc).__name__}: {exc}") from exc


@dataclass
class Entry:
    kind: str         # metric or benchmark
    name: str
    source: str       # built-in, or plugin (...)
    ready: str        # "yes", or "no: why"
    description: str


# A full stop that ends a sentence: not the one of "et al." or "e.g.".
_SENTENCE_END = re.compile(r"(?<!\bal)(?<!\be\.g)(?<!\bi\.e)\.\s+(?=[A-Z(])")


def _first_line(obj) -> str:
    """The first sentence of the docstring's first paragraph (the module's, if it has none)."""
    doc = (inspect.getdoc(obj) or inspect.getdoc(inspect.getmodule(obj)) or "").strip()
    if not doc:
        return "(no description)"
    paragraph = " ".join(doc.split("\n\n")[0].split())
    sentence = _SENTENCE_END.split(paragraph, maxsplit=1)[0].rstrip(".")
    return sentence if len(sentence) <= 110 else sentence[:107] + "..."


def metric_entry(name: str) -> Entry:
    source = metric_source(name)
    try:
        cls = metric_class(name)
    except (MetricError, ImportError) as exc:
        return Entry("metric", name, source, f"no: {exc}", "(could not be imported)")
    description = _first_line(cls)
    try:
        metric = get_metric(name)
        metric.check_ready()
    except (MetricError, ImportError, OSError, TypeError) as exc:
        return Entry("metric", name, source, f"no: {exc}", description)
    return Entry("metric", name, source, "yes", description)


def benchmark_entry(name: str, data_dir: str | None) -> Entry:
    source = benchmark_source(name)
    try:
        family, load = benchmark_loader(name)
    except (DataError, ImportError) as exc:
        return Entry("benchmark", name, source, f"no: {exc}", "(could not be imported)")
    description = _first_line(load)
    if name not in family_names():
        return Entry("benchmark", name, source, "yes" if family == "" else
                     "not checked (reads --data-dir)", description)
    if not data_dir:
        return Entry("benchmark", name, source, "no: no --data-dir given", description)
    files = without_stand_ins(check(benchmark_files(name), Path(data_dir)))
    missing = [s.file.path for s in files if s.state == "missing"]
    ready = ("yes" if not missing else
             f"no: {len(missing)} of {len(files)} files missing under {data_dir} "
             f"(python -m experiments.fetch_data {name} --data-dir {data_dir})")
    return Entry("benchmark", name, source, ready, description)


def inventory(data_dir: str | None = None) -> list[Entry]:
    data_dir = data_dir or default_data_dir()
    return ([metric_entry(m) for m in list_metrics()]
            + [benchmark_entry(b, data_dir) for b in list_benchmarks()])


def format_inventory(entries: list[Entry]) -> str:
    lines = []
    for kind in ("metric", "benchmark"):
        rows = [e for e in entries if e.kind == kind]
        width = max(len(e.name) for e in rows)
        lines.append(f"{kind}s:")
        for e in rows:
            lines.append(f"  {e.name:<{width}}  {e.description}")
            lines.append(f"  {'':<{width}}  source: {e.source}; can run here: {e.ready}")
    return "\n".join(lines)
