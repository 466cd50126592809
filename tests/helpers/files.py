"""Reading the files the tests' runs write."""
from __future__ import annotations

import csv


def read_csv(path) -> list[dict]:
    """Every row of a CSV file as a dict keyed by its header."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def rewrite_result(folder, name: str, text: str) -> None:
    """Replace a results file and record its new size and hash in run.json, as if the
    run had written it (make_figures refuses a file that differs from run.json)."""
    import hashlib
    import json
    from pathlib import Path

    folder = Path(folder)
    (folder / name).write_text(text)
    record = json.loads((folder / "run.json").read_text())
    data = (folder / name).read_bytes()
    record["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (folder / "run.json").write_text(json.dumps(record))
