"""correlation/ is plain numpy/scipy: it imports neither metrics, experiments nor torch."""
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_no_forbidden_imports_in_source():
    pattern = re.compile(r"^\s*(from|import)\s+(torch|metrics|experiments)\b", re.M)
    for path in (REPO / "correlation").glob("*.py"):
        assert not pattern.search(path.read_text()), path


def test_importing_correlation_loads_none_of_them():
    code = ("import sys, correlation; "
            "bad = [m for m in ('torch', 'metrics', 'experiments') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
