"""Layering: correlation/ is plain numpy/scipy and has no import cycle; experiments/ uses
only the public names of correlation and metrics."""
import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "correlation"


def test_no_forbidden_imports_in_source():
    pattern = re.compile(r"^\s*(from|import)\s+(torch|metrics|experiments)\b", re.M)
    for path in PACKAGE.glob("*.py"):
        assert not pattern.search(path.read_text()), path


def test_importing_correlation_loads_none_of_them():
    code = ("import sys, correlation; "
            "bad = [m for m in ('torch', 'metrics', 'experiments') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


# ---------------------------------------------------------------------------
# no import cycle inside correlation/

def sibling_imports(path: Path):
    """(module imported, line, inside a function?) for every import of a correlation module."""
    tree = ast.parse(path.read_text())
    local = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
             for n in ast.walk(f) if n is not f}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
            elif node.level == 0 and (node.module or "").split(".")[0] == "correlation":
                rest = node.module.split(".")[1:]
                names = rest[:1] if rest else [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[1] for a in node.names
                     if a.name.startswith("correlation.")]
        for name in names:
            if (PACKAGE / f"{name}.py").exists():
                yield name, node.lineno, id(node) in local


def import_graph():
    return {path.stem: sorted({m for m, _, _ in sibling_imports(path)})
            for path in PACKAGE.glob("*.py") if path.stem != "__init__"}


def test_no_function_local_imports_of_sibling_modules():
    """A function-local import is how a cycle hides; every import sits at the top."""
    local = [f"{path.name}:{line} imports {m}" for path in PACKAGE.glob("*.py")
             for m, line, inside in sibling_imports(path) if inside]
    assert not local, local


def test_the_module_graph_has_no_cycle():
    graph = import_graph()
    assert graph["_resample"] and graph["levels"]  # the parser sees imports at all
    state: dict[str, str] = {}

    def visit(module, path):
        state[module] = "open"
        for dep in graph.get(module, []):
            assert state.get(dep) != "open", " -> ".join(path + [module, dep])
            if dep not in state:
                visit(dep, path + [module])
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [])


# ---------------------------------------------------------------------------
# experiments/ uses only public names of the lower packages

def public(module_name: str, name: str) -> bool:
    """A name is public when no part of its module path starts with "_" and the module
    lists it in `__all__` (the package's own `__all__`, or a public submodule's)."""
    if any(part.startswith("_") for part in module_name.split(".")):
        return False
    module = importlib.import_module(module_name)
    return name in getattr(module, "__all__", ())


def imports_from(package: str):
    """(file:line, module, name) for every name experiments/ imports from `package`."""
    for path in sorted((REPO / "experiments").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            where = f"{path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.ImportFrom) and node.level == 0 and \
                    (node.module or "").split(".")[0] == package:
                for alias in node.names:
                    yield where, node.module, alias.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == package and "." in alias.name:
                        parent, _, child = alias.name.rpartition(".")
                        yield where, parent, child


def private_uses(package: str) -> list[str]:
    return [f"{where}: from {module} import {name}" for where, module, name in imports_from(package)
            if not public(module, name)]


def test_experiments_import_only_public_names_of_correlation():
    found = list(imports_from("correlation"))
    assert found, "experiments/ should use correlation"
    assert not private_uses("correlation"), private_uses("correlation")


def test_experiments_import_only_public_names_of_metrics():
    found = list(imports_from("metrics"))
    assert found, "experiments/ should use metrics"
    assert not private_uses("metrics"), private_uses("metrics")


def test_correlation_all_lists_what_users_call():
    import correlation

    assert len(correlation.__all__) == len(set(correlation.__all__))
    for name in correlation.__all__:
        obj = getattr(correlation, name)
        assert callable(obj), name
    # the rest stays importable where it lives, and from the package for older code
    from correlation.results import CorrelationResult, PreferenceResult, TieCalibration  # noqa: F401
    from correlation.warnings import NonFiniteScoreWarning, UndefinedCorrelationWarning
    assert correlation.UndefinedCorrelationWarning is UndefinedCorrelationWarning
    assert correlation.NonFiniteScoreWarning is NonFiniteScoreWarning
    assert correlation.CorrelationResult is CorrelationResult
