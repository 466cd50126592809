"""Your own human judgments from a file: ratings or pairwise preferences.

Two formats, each as CSV (a header line) or JSON Lines (one object a line),
chosen by the file's extension (`.csv`, `.jsonl`):

Ratings, one row per judgment (several annotators of one sample: several rows)
    candidate     the text that was rated (required)
    references    zero or more reference texts: in JSON Lines a list of
                  strings; in CSV the columns reference_1, reference_2, ...
                  (as many as the file needs; a blank cell is no reference)
    score         the human score, a finite number (required)
    image         path of the image (optional), relative to --image-root, or
                  else to the file's folder
    item          what the score is grouped by at item level (optional;
                  default the image)
    system        the system that wrote the candidate (optional)
    annotator     who gave the score (optional; needed when a sample is
                  rated more than once)
    id            the sample's id (optional; default: rows with the same
                  candidate, references, image, item and system are one
                  sample, numbered s1, s2, ... in order of appearance)

Preferences, one row per verdict
    candidate_a, candidate_b   the two texts compared (required)
    references, image          shared by both, as for ratings
    preferred     a, b or tie (required)
    category      a subset to report separately (optional)
    annotator     who judged (optional; needed when a pair is judged more
                  than once)
    system_a, system_b   the systems that wrote candidate_a and candidate_b
                  (optional, both or neither, on every row): the pairs then
                  also rank the systems as battles (Bradley-Terry, Elo)
    pair_id       the pair's id (optional; default: rows with the same
                  candidates, references, image and category are one pair,
                  numbered p1, p2, ...); its samples are PAIR:a and PAIR:b

Bad input is an error naming the file and line: a missing or unknown column,
an empty candidate, a score that is not a finite number, a `preferred` that
is not a, b or tie, an id whose content differs from its first row, the same
annotator judging a sample or pair twice (or a repeat with no annotator
column). No row is skipped.

Default protocol: Kendall tau-c at flat and item level for ratings
(flat only where there are no items; intervals then resample samples, a
sample's judgments together); accuracy, tau-like and acc23 at pair
level for preferences, and again per category where there are several.
`parse_protocol` reads another choice, e.g. "pearson@flat,kendall_b@system".
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from metrics import Sample

from .base import A_BETTER, B_BETTER, TIE, Benchmark, DataError, Preferences, ProtocolStep, Ratings
from .files import column_hint, csv_table, jsonl_rows, require_file, text_number

STATISTICS = ("kendall_b", "kendall_c", "kendall_23", "acc23", "spearman", "pearson",
              "accuracy", "tau_like")
LEVELS = ("flat", "item", "system", "pair")
RATING_COLUMNS = ("id", "candidate", "references", "image", "score", "item", "system",
                  "annotator")
PREFERENCE_COLUMNS = ("pair_id", "candidate_a", "candidate_b", "references", "image",
                      "preferred", "category", "annotator", "system_a", "system_b")
PREFERRED = {"a": A_BETTER, "b": B_BETTER, "tie": TIE}
_REFERENCE_COLUMN = re.compile(r"^reference_([1-9][0-9]*)$")
EXPECTED_COLUMNS = ("candidate, score (ratings) or candidate_a, candidate_b, preferred "
                    "(preferences)")


def is_user_file_spec(text: str) -> bool:
    """Whether a --benchmark entry is NAME=PATH (a user's file) rather than a built-in name."""
    return "=" in text


def comma_in_path(text: str, known: list[str]) -> str | None:
    """Why a comma-separated --benchmark value cannot be read as written, or None.

    A comma inside a NAME=FILE path cannot be told from the separator: when an
    entry's file does not exist, the entries after it are neither NAME=FILE nor
    a known benchmark, and joined back with their commas they name a file
    (`mine=data/a,b.csv`), the message says so."""
    parts = text.split(",")
    for k, part in enumerate(parts):
        if not is_user_file_spec(part) or Path(part.partition("=")[2].strip()).is_file():
            continue
        rest = []
        for after in parts[k + 1:]:
            if is_user_file_spec(after) or after.strip() in known:
                break
            rest.append(after)
        path = ",".join([part.partition("=")[2], *rest]).strip()
        if rest and Path(path).is_file():
            return (f"{text!r}: found the file {path!r}, whose name holds a comma, which "
                    "separates benchmarks here; expected NAME=FILE with no comma in FILE "
                    "(rename the file, or link it under a name without one)")
    return None


def load_user_file(name: str, path: str | Path, image_root: str | None = None,
                   protocol: list[ProtocolStep] | None = None) -> Benchmark:
    """A Benchmark called `name` from a ratings or preferences file (format above)."""
    path = require_file(Path(path), f"benchmark {name!r}")
    rows = list(_rows(path))
    if not rows:
        raise DataError(f"{path}: no rows")
    columns = set().union(*(row.keys() for _, row in rows))
    if "score" in columns and "preferred" in columns:
        raise DataError(f"{path}: has both `score` (ratings) and `preferred` (preferences) "
                        "columns; a file holds one kind")
    if "score" in columns:
        bench = _ratings(name, path, rows, image_root)
    elif "preferred" in columns:
        bench = _preferences(name, path, rows, image_root)
    else:
        raise DataError(f"{path}: neither a `score` column (ratings) nor a `preferred` column "
                        f"(preferences); columns found: {', '.join(sorted(columns))}"
                        f"{column_hint(sorted(columns), RATING_COLUMNS + PREFERENCE_COLUMNS)}; "
                        f"expected {EXPECTED_COLUMNS}")
    if protocol is not None:
        _check_protocol(bench, protocol, path)
        bench.protocol = list(protocol)
    return bench


def parse_protocol(text: str) -> list[ProtocolStep]:
    """'STATISTIC@LEVEL[,STATISTIC@LEVEL...]', a step per entry; @LEVEL/category adds by."""
    steps = []
    for entry in (e.strip() for e in text.split(",")):
        statistic, _, rest = entry.partition("@")
        level, _, by = rest.partition("/")
        if statistic not in STATISTICS or level not in LEVELS or by not in ("", "category"):
            raise DataError(f"protocol entry {entry!r}: expected STATISTIC@LEVEL[/category], "
                            f"statistic one of {', '.join(STATISTICS)}, level one of "
                            f"{', '.join(LEVELS)}")
        steps.append(ProtocolStep(statistic, level, by or None))
    return steps


def _check_protocol(bench: Benchmark, protocol: list[ProtocolStep], path: Path) -> None:
    for step in protocol:
        where = f"{path}: protocol step {step.statistic}@{step.level}"
        if bench.preferences is not None and step.level != "pair":
            raise DataError(f"{where}: a preferences file is judged at level pair")
        if bench.ratings is not None:
            if step.level == "pair":
                raise DataError(f"{where}: level pair needs a preferences file")
            if step.level == "item" and bench.ratings.items in (None,
                                                                 bench.ratings.sample_ids):
                raise DataError(f"{where}: no `item` or `image` column to group by")
            if step.level == "system" and bench.ratings.systems is None:
                raise DataError(f"{where}: no `system` column")
        if step.by and (bench.preferences is None or bench.preferences.category is None):
            raise DataError(f"{where}/{step.by}: no `category` column")


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _csv_rows(path)
    elif suffix in (".jsonl", ".ndjson"):
        yield from _jsonl_rows(path)
    else:
        raise DataError(f"{path}: expected a .csv or .jsonl file")


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    header, rows = csv_table(path, EXPECTED_COLUMNS)
    if "references" in header:
        raise DataError(f"{path}:1: in a CSV file references are the columns reference_1, "
                        "reference_2, ... (one reference each), not a `references` column")
    reference_columns = sorted((int(m.group(1)), h) for h in header
                               if (m := _REFERENCE_COLUMN.match(h)))
    for number, row in rows:
        cells = dict(zip(header, row))
        out: dict[str, Any] = {k: v for k, v in cells.items() if not _REFERENCE_COLUMN.match(k)}
        if reference_columns:
            out["references"] = [cells[h] for _, h in reference_columns if cells[h].strip()]
        yield number, out


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    yield from jsonl_rows(path)  # a key given twice on a line is an error, not the last one


def _check_columns(path: Path, number: int, row: dict, known: tuple[str, ...],
                   required: tuple[str, ...]) -> None:
    unknown = [k for k in row if k not in known]
    if unknown:
        shown = [k if k != "references" else "references (reference_N in CSV)" for k in known]
        raise DataError(f"{path}:{number}: unknown column(s) {', '.join(unknown)}"
                        f"{column_hint(unknown, known)}; this format has: {', '.join(shown)}")
    missing = [k for k in required if k not in row]
    if missing:
        raise DataError(f"{path}:{number}: missing {', '.join(missing)}")


def _text(row: dict, key: str, path: Path, number: int, required: bool = False) -> str | None:
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DataError(f"{path}:{number}: empty {key}")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DataError(f"{path}:{number}: {key} must be a string, found {json.dumps(value)}")
    return str(value) if key.startswith("candidate") else str(value).strip()


def _references(row: dict, path: Path, number: int) -> tuple[str, ...]:
    refs = row.get("references", [])
    if refs is None:
        return ()
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise DataError(f"{path}:{number}: references must be a list of strings")
    if any(not r.strip() for r in refs):
        raise DataError(f"{path}:{number}: an empty reference")
    return tuple(refs)


def _image(row: dict, path: Path, number: int, image_root: str | None) -> tuple[str | None,
                                                                                  str | None]:
    """(the image as written, the path a metric opens)."""
    image = _text(row, "image", path, number)
    if image is None:
        return None, None
    base = Path(image_root) if image_root else path.parent
    return image, str(Path(image) if Path(image).is_absolute() else base / image)


def _score(row: dict, path: Path, number: int) -> float:
    value = row.get("score")
    if isinstance(value, str):
        score = text_number(value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        score = float(value)
    else:
        score = None
    if score is None or not math.isfinite(score):
        raise DataError(f"{path}:{number}: score {value!r} is not a finite number")
    return score


class _Ids:
    """Sample (or pair) ids: the file's own, or one per distinct content; every id's
    content must match its first row, and an annotator judges each id once."""

    def __init__(self, path: Path, prefix: str, what: str):
        self.path, self.prefix, self.what = path, prefix, what
        self.first: dict[str, tuple[int, tuple]] = {}
        self.by_content: dict[tuple, str] = {}
        self.judged: dict[tuple[str, str | None], int] = {}

    def resolve(self, given: str | None, content: tuple, number: int) -> tuple[str, bool]:
        """(id, whether this is its first row)."""
        if given is None:
            given = self.by_content.get(content)
            if given is None:
                given = f"{self.prefix}{len(self.by_content) + 1}"
                self.by_content[content] = given
        if given in self.first:
            line, known = self.first[given]
            if known != content:
                raise DataError(f"{self.path}:{number}: {self.what} {given!r} differs from its "
                                f"first row (line {line})")
            return given, False
        self.first[given] = (number, content)
        return given, True

    def judged_by(self, ident: str, annotator: str | None, number: int) -> None:
        key = (ident, annotator)
        if key in self.judged:
            who = f"annotator {annotator!r} judged" if annotator else "judged again"
            hint = "" if annotator else " (several judgments of one sample need an `annotator`)"
            raise DataError(f"{self.path}:{number}: {who} {self.what} {ident!r} twice, first on "
                            f"line {self.judged[key]}{hint}")
        self.judged[key] = number


def _ratings(name: str, path: Path, rows, image_root: str | None) -> Benchmark:
    ids = _Ids(path, "s", "sample")
    samples, cols = [], {k: [] for k in ("sample_ids", "values", "items", "systems",
                                          "annotators")}
    for number, row in rows:
        _check_columns(path, number, row, RATING_COLUMNS, ("candidate", "score"))
        candidate = _text(row, "candidate", path, number, required=True)
        refs = _references(row, path, number)
        image, image_path = _image(row, path, number, image_root)
        item = _text(row, "item", path, number) or image
        system = _text(row, "system", path, number)
        content = (candidate, refs, image, item, system)
        sid, new = ids.resolve(_text(row, "id", path, number), content, number)
        if new:
            samples.append(Sample(sid, candidate, refs, image_path))
        annotator = _text(row, "annotator", path, number)
        ids.judged_by(sid, annotator, number)
        for key, value in (("sample_ids", sid), ("values", _score(row, path, number)),
                           ("items", item), ("systems", system), ("annotators", annotator)):
            cols[key].append(value)
    for key in ("items", "systems", "annotators"):
        cols[key] = _column(cols[key], key, path, [n for n, _ in rows])
    protocol = [ProtocolStep("kendall_c", "flat")]
    notes = [f"your ratings file {path.name}: {len(cols['values'])} judgments of "
             f"{len(samples)} samples"]
    if cols["items"] is not None:
        protocol.append(ProtocolStep("kendall_c", "item"))
    else:
        notes.append("no `item` or `image` column: no item-level correlation")
        if len(cols["values"]) > len(samples):
            # the natural unit is then the sample: its annotators' rows are resampled together
            cols["items"] = list(cols["sample_ids"])
            notes.append("intervals resample samples (each with all its judgments)")
    ratings = Ratings(cols.pop("sample_ids"), np.array(cols.pop("values")), **cols)
    return Benchmark(name=name, samples=samples, protocol=protocol, ratings=ratings,
                     citation=f"your own ratings ({path})", notes=notes)


def _column(values: list, key: str, path: Path, lines: list[int]) -> list | None:
    """A label column: None if no row has one; an error if only some rows do."""
    present = [v is not None for v in values]
    if not any(present):
        return None
    if not all(present):
        raise DataError(f"{path}:{lines[present.index(False)]}: empty {key}, which other rows "
                        "give: give it on every row or on none")
    return values


def _preferences(name: str, path: Path, rows, image_root: str | None) -> Benchmark:
    ids = _Ids(path, "p", "pair")
    samples, cols = [], {k: [] for k in ("pair_ids", "sample_a", "sample_b", "outcome",
                                          "verdict", "category", "annotators", "system_a",
                                          "system_b")}
    for number, row in rows:
        _check_columns(path, number, row, PREFERENCE_COLUMNS,
                       ("candidate_a", "candidate_b", "preferred"))
        a = _text(row, "candidate_a", path, number, required=True)
        b = _text(row, "candidate_b", path, number, required=True)
        refs = _references(row, path, number)
        image, image_path = _image(row, path, number, image_root)
        category = _text(row, "category", path, number)
        system_a, system_b = (_text(row, key, path, number) for key in ("system_a", "system_b"))
        if (system_a is None) != (system_b is None):
            raise DataError(f"{path}:{number}: system_a and system_b go together: give both "
                            "or neither")
        if system_a is not None and system_a == system_b:
            raise DataError(f"{path}:{number}: system_a and system_b are both {system_a!r}; "
                            "a system cannot battle itself")
        preferred = (_text(row, "preferred", path, number) or "").lower()
        if preferred not in PREFERRED:
            raise DataError(f"{path}:{number}: preferred {row.get('preferred')!r} is not one of "
                            "a, b, tie")
        pair, new = ids.resolve(_text(row, "pair_id", path, number),
                                (a, b, refs, image, category, system_a, system_b), number)
        if new:
            samples.append(Sample(f"{pair}:a", a, refs, image_path))
            samples.append(Sample(f"{pair}:b", b, refs, image_path))
        annotator = _text(row, "annotator", path, number)
        ids.judged_by(pair, annotator, number)
        for key, value in (("pair_ids", pair), ("sample_a", f"{pair}:a"),
                           ("sample_b", f"{pair}:b"), ("outcome", PREFERRED[preferred]),
                           ("verdict", preferred), ("category", category),
                           ("annotators", annotator), ("system_a", system_a),
                           ("system_b", system_b)):
            cols[key].append(value)
    for key in ("category", "annotators", "system_a", "system_b"):
        cols[key] = _column(cols[key], key, path, [n for n, _ in rows])
    prefs = Preferences(**{**cols, "outcome": np.array(cols["outcome"])})
    steps = [ProtocolStep(s, "pair") for s in ("accuracy", "tau_like", "acc23")]
    if prefs.category is not None and len(set(prefs.category)) > 1:
        steps += [ProtocolStep(s, "pair", by="category") for s in ("accuracy", "tau_like",
                                                                     "acc23")]
    n_pairs = len(set(prefs.pair_ids))
    return Benchmark(name=name, samples=samples, protocol=steps, preferences=prefs,
                     citation=f"your own preferences ({path})",
                     notes=[f"your preferences file {path.name}: {len(prefs)} verdicts on "
                            f"{n_pairs} pairs"])
