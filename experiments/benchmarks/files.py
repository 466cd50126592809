"""Careful readers for the text files benchmarks ship as.

Every error names the file and the line (or, in a JSON file, the entry), so
a user can open it and see. The typed accessors at the end (`field`,
`as_text`, `as_texts`, `as_number`, ...) are what every loader reads a
parsed value through: a value of the wrong type (a number where text is
expected, text where a list is, null) is a `DataError` naming the place,
never a traceback and never a silently converted value (a string is not a
list of its characters).
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any, Iterator

from .base import DataError
from .inputs import note_input
from .sources import fetch_hint


def require_file(path: Path, what: str) -> Path:
    """`path`, or a DataError; for a public benchmark file the message says how to fetch it."""
    if not path.is_file():
        raise DataError(f"{what}: file not found: {path}{fetch_hint(path)}")
    return path


def read_text(path: Path) -> str:
    """The file's text as UTF-8; an empty file or bad bytes is a DataError."""
    note_input(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise DataError(f"{path}: file is empty")
    return text.lstrip("\ufeff")


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def text_lines(text: str) -> list[str]:
    """The lines of a file's text, broken where open() breaks them (\\n, \\r\\n, \\r)
    and nowhere else: U+2028, U+0085, form feeds and the like are text inside a
    line, as json.dumps(ensure_ascii=False) and editors write them (str.splitlines
    would break there and lose the character)."""
    return _LINE_BREAK.split(text)


def tsv_rows(path: Path, columns: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for each non-blank line of a tab-separated file."""
    note_input(path)
    for number, line in enumerate(text_lines(read_text(path)), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != columns:
            raise DataError(f"{path}:{number}: expected {columns} tab-separated columns, "
                            f"found {len(fields)}")
        yield number, fields


def csv_table(path: Path, expected: str = ""
              ) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """A CSV file's header (names stripped; a name given twice is an error, never
    a column silently lost) and its non-blank rows as (line number, cells), a row
    of another width being an error.

    Records are read by the csv module from the text as written, so a quoted
    field keeps its line breaks, commas and quotes byte for byte; the line
    number is the line a record starts on. `expected` (the columns the reader
    needs, in words) goes into the message for a header that is not
    comma-separated."""
    note_input(path)
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    header = [name.strip() for name in _next_record(reader, path) or []]
    check_separator(path, header, expected)
    for name in header:
        if header.count(name) > 1:
            raise DataError(f"{path}:1: column {name!r} appears twice")

    def rows() -> Iterator[tuple[int, list[str]]]:
        while True:
            number = reader.line_num + 1
            row = _next_record(reader, path)
            if row is None:
                return
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                spans = (f" (the record runs from line {number} to line {reader.line_num}: "
                         "is a quote left open?)" if reader.line_num > number else "")
                raise DataError(f"{path}:{number}: expected {len(header)} columns, "
                                f"found {len(row)}{spans}")
            yield number, row

    return header, rows()


def _next_record(reader, path: Path) -> list[str] | None:
    """The next record of a csv.reader, None at the end; a csv error names the line."""
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        raise DataError(f"{path}:{reader.line_num}: not readable as CSV ({exc})") from None


def check_separator(path: Path, header: list[str], expected: str = "") -> None:
    """Refuse a header that shows the file is not comma-separated: Excel's `sep=`
    first line, or one column whose name holds a semicolon or a tab."""
    want = f"; expected {expected}" if expected else ""
    found = ",".join(header)
    if re.fullmatch(r"sep=.?,?", found, re.IGNORECASE):
        raise DataError(f"{path}:1: found {found!r}, Excel's separator line: the header must "
                        "be the first line of a comma-separated file (delete that line, and "
                        f"save as 'CSV UTF-8 (comma delimited)' if it says sep=;){want}")
    for mark, what in ((";", "semicolon"), ("\t", "tab")):
        if len(header) == 1 and mark in header[0]:
            raise DataError(f"{path}:1: columns found: {header[0]} -- is the file "
                            f"{what}-separated? Columns are separated by commas{want}")


def column_hint(found: list[str] | set[str], known: list[str] | tuple[str, ...]) -> str:
    """' -- column names are case-sensitive: write score, not Score' for the found names
    that match a known one only when case is ignored; '' if none does."""
    lower = {k.lower(): k for k in known}
    pairs = [(lower[f.lower()], f) for f in found if f not in known and f.lower() in lower]
    if not pairs:
        return ""
    return (" -- column names are case-sensitive: write "
            + ", ".join(f"{k}, not {f}" for k, f in pairs))


def csv_rows(path: Path, required: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each row of a CSV file with a header line."""
    header, rows = csv_table(path, ", ".join(required))
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(f"{path}:1: missing column(s) {', '.join(missing)}; columns found: "
                        f"{', '.join(header)}{column_hint(header, required)}")
    for number, row in rows:
        yield number, dict(zip(header, row))


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            raise _DuplicateKey(key)
        obj[key] = value
    return obj


NEWLINE = "\n"


class _LoneSurrogate(Exception):
    def __init__(self, text: str, position: int) -> None:
        self.text, self.position = text, position

    def describe(self) -> str:
        return (f"text {self.text[:40]!r} holds a lone surrogate ({self.escape()}: half of "
                "a character), which is not valid Unicode")

    def escape(self) -> str:
        return f"\\u{ord(self.text[self.position]):04x}"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _refuse_lone_surrogates(value: Any) -> None:
    for text in _strings(value):
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise _LoneSurrogate(text, exc.start) from None


def _loads(text: str) -> Any:
    """json.loads that refuses an object with a key twice (json keeps the last silently)
    and a string holding a lone surrogate (an escape such as \\ud800 without its pair)."""
    value = json.loads(text, object_pairs_hook=_refuse_duplicates)
    if "\\u" in text:  # a surrogate can only come from an escape: UTF-8 bytes cannot hold one
        _refuse_lone_surrogates(value)
    return value


def _duplicate_line(text: str, key: str) -> int | None:
    """The line of the second `"key":` in the text, where a reader would look."""
    needle = json.dumps(key)
    starts = [i for i in _find_all(text, needle) if text[i + len(needle):].lstrip().startswith(":")]
    return text.count("\n", 0, starts[1]) + 1 if len(starts) >= 2 else None


def _find_all(text: str, needle: str) -> Iterator[int]:
    start = text.find(needle)
    while start >= 0:
        yield start
        start = text.find(needle, start + 1)


def read_json(path: Path) -> Any:
    """The parsed file; invalid JSON or a key repeated within one object is a DataError."""
    note_input(path)
    text = read_text(path)
    try:
        return _loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    except _DuplicateKey as dup:
        line = _duplicate_line(text, dup.key)
        raise DataError(f"{path}{f':{line}' if line else ''}: key {dup.key!r} appears twice in "
                        "one object (the second would silently replace the first)") from None
    except _LoneSurrogate as lone:
        start = text.lower().find(lone.escape())
        line = f":{text.count(NEWLINE, 0, start) + 1}" if start >= 0 else ""
        raise DataError(f"{path}{line}: {lone.describe()}") from None


def jsonl_rows(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSON Lines file."""
    note_input(path)
    for number, line in enumerate(text_lines(read_text(path)), start=1):
        if not line.strip():
            continue
        try:
            obj = _loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
        except _DuplicateKey as dup:
            raise DataError(f"{path}:{number}: key {dup.key!r} appears twice") from None
        except _LoneSurrogate as lone:
            raise DataError(f"{path}:{number}: {lone.describe()}") from None
        yield number, as_object(obj, f"{path}:{number}", "the line")


def require_keys(obj: dict, keys: list[str], path: Path, number: int) -> None:
    missing = [k for k in keys if k not in obj]
    if missing:
        raise DataError(f"{path}:{number}: missing field(s) {', '.join(missing)}")


# Typed accessors. `where` names the place ("FILE:LINE", "FILE: HC pair 3"),
# `what` the value ("caption", "references").

def describe(value: Any) -> str:
    """A JSON value's type and a glimpse of it, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"true/false ({json.dumps(value)})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"text ({value[:40]!r})"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _wrong(where: str, what: str, expected: str, value: Any) -> DataError:
    return DataError(f"{where}: {what} must be {expected}, found {describe(value)}")


def as_object(value: Any, where: str, what: str = "entry") -> dict:
    if not isinstance(value, dict):
        raise _wrong(where, what, "a JSON object", value)
    return value


def field(obj: Any, key: str, where: str) -> Any:
    """obj[key] of a JSON object; a missing field, or obj not an object, is a DataError."""
    obj = as_object(obj, where)
    if key not in obj:
        raise DataError(f"{where}: missing field {key!r}")
    return obj[key]


def as_list(value: Any, where: str, what: str, *, nonempty: bool = False) -> list:
    if not isinstance(value, list):
        raise _wrong(where, what, "a list", value)
    if nonempty and not value:
        raise DataError(f"{where}: {what} is an empty list")
    return value


def as_text(value: Any, where: str, what: str, *, nonempty: bool = False) -> str:
    if not isinstance(value, str):
        raise _wrong(where, what, "text", value)
    if nonempty and not value.strip():
        raise DataError(f"{where}: empty {what}")
    return value


def as_optional_text(value: Any, where: str, what: str) -> str | None:
    """Text, or None for null (fields a release leaves unset)."""
    return None if value is None else as_text(value, where, what)


def as_id(value: Any, where: str, what: str) -> str:
    """An identifier given as text or as a whole number, as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return as_text(value, where, what, nonempty=True)


def as_texts(value: Any, where: str, what: str, *, count: int | None = None,
             nonempty: bool = False) -> tuple[str, ...]:
    """A list of texts (never a string read as its characters)."""
    items = as_list(value, where, what, nonempty=nonempty)
    if count is not None and len(items) != count:
        raise DataError(f"{where}: {what} must hold {count} texts, found {len(items)}")
    for k, item in enumerate(items):
        as_text(item, where, f"{what}[{k}]")
    return tuple(items)


def _check_range(value: float, where: str, what: str, low: float | None,
                 high: float | None) -> float:
    if not math.isfinite(value):
        raise DataError(f"{where}: {what} {value} is not a finite number")
    if (low is not None and value < low) or (high is not None and value > high):
        raise DataError(f"{where}: {what} {value} is outside [{low}, {high}]")
    return value


def as_number(value: Any, where: str, what: str, *, low: float | None = None,
              high: float | None = None) -> float:
    """A JSON number, finite and within [low, high] where given (text is refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _wrong(where, what, "a number", value)
    return _check_range(float(value), where, what, low, high)


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


def text_number(text: str) -> float | None:
    """The number a text file's field writes, None if it writes none.

    A number as CSV writers (csv, pandas, Excel, R) write one: sign, digits,
    decimal point, exponent, with surrounding spaces; or nan / inf / infinity,
    which the caller's rule for non-finite values then judges. Not everything
    float() takes: `1_0` (float reads 10), digits of other scripts (`٣`) and
    full-width digits are not numbers here."""
    text = text.strip()
    if _NUMBER.fullmatch(text) or _NON_FINITE.fullmatch(text):
        return float(text)
    return None


def parse_number(text: str, where: str, what: str, *, low: float | None = None,
                 high: float | None = None) -> float:
    """A number written in a text file's field (`text_number`), finite and within
    [low, high]."""
    value = text_number(text)
    if value is None:
        raise DataError(f"{where}: {what} {text!r} is not a number")
    return _check_range(value, where, what, low, high)
