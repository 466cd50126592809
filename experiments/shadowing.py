"""A user's own `metrics.py`, `correlation.py` or `correlation/` in the folder
`python -m experiments.X` runs from is found before this package's `metrics` and
`correlation` (Python puts the current folder first on the path); the import then
fails deep inside with a message that names neither file. `check_not_shadowed`
finds such a file before anything imports it and says so in one line.

A user's `experiments/` package there takes over `python -m experiments.X` before
any code of this package runs; the `metaeval` command is not affected by any of
them (its path does not start with the current folder).
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# The top-level packages of this distribution that `experiments` imports.
SIBLINGS = ("metrics", "correlation")
ROOT = Path(__file__).resolve().parents[1]


def _where(name: str) -> Path | None:
    """The file or folder `import name` would load, or None when it cannot be found."""
    module = sys.modules.get(name)
    try:
        spec = module.__spec__ if module is not None else importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin and spec.origin not in ("built-in", "frozen", "namespace"):
        origin = Path(spec.origin).resolve()
        return origin.parent if origin.name == "__init__.py" else origin
    locations = list(spec.submodule_search_locations or [])
    return Path(locations[0]).resolve() if locations else None


def _shown(path: Path) -> str:
    try:
        return "./" + path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def shadowing() -> str | None:
    """One line naming what shadows which package, or None when nothing does."""
    for name in SIBLINGS:
        found = _where(name)
        if found is None or found == ROOT / name:
            continue
        return (f"error: {_shown(found)} shadows this package's {name} ({ROOT / name}): "
                f"Python looks in the current folder first; rename it or run from another "
                f"folder (the `metaeval` command, e.g. `metaeval run`, works from anywhere)")
    return None


def check_not_shadowed() -> None:
    """Exit with status 2 and the one line of `shadowing()` when a sibling is shadowed."""
    problem = shadowing()
    if problem is not None:
        print(problem, file=sys.stderr)
        raise SystemExit(2)
