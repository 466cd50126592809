"""Reading the files the tests' runs write."""
from __future__ import annotations

import csv


def read_csv(path) -> list[dict]:
    """Every row of a CSV file as a dict keyed by its header."""
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
