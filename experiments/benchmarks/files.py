"""Careful readers for the text files benchmarks ship as.

Every error names the file and the line, so a user can open it and see.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterator

from .base import DataError
from .sources import fetch_hint


def require_file(path: Path, what: str) -> Path:
    """`path`, or a DataError; for a public benchmark file the message says how to fetch it."""
    if not path.is_file():
        raise DataError(f"{what}: file not found: {path}{fetch_hint(path)}")
    return path


def read_text(path: Path) -> str:
    """The file's text as UTF-8; an empty file or bad bytes is a DataError."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise DataError(f"{path}: file is empty")
    return text.lstrip("\ufeff")


def tsv_rows(path: Path, columns: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for each non-blank line of a tab-separated file."""
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != columns:
            raise DataError(f"{path}:{number}: expected {columns} tab-separated columns, "
                            f"found {len(fields)}")
        yield number, fields


def csv_rows(path: Path, required: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each row of a CSV file with a header line."""
    text = read_text(path)
    reader = csv.reader(text.splitlines())
    header = next(reader)
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(f"{path}:1: missing column(s) {', '.join(missing)} "
                        f"(header has: {', '.join(header)})")
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DataError(f"{path}:{number}: expected {len(header)} columns, found {len(row)}")
        yield number, dict(zip(header, row))


def read_json(path: Path) -> Any:
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None


def jsonl_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSON Lines file."""
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise DataError(f"{path}:{number}: expected a JSON object, found {type(obj).__name__}")
        yield number, obj


def require_keys(obj: dict, keys: list[str], path: Path, number: int) -> None:
    missing = [k for k in keys if k not in obj]
    if missing:
        raise DataError(f"{path}:{number}: missing field(s) {', '.join(missing)}")


def nonempty(text: Any, path: Path, number: int, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{path}:{number}: empty {what}")
    return text
