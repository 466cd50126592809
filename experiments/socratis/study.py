"""The human-study kit: pairs out to an annotation platform, verdicts back in.

Socratis' study (Deng et al. 2023, arXiv:2308.16741) shows people an image,
its news caption and an emotion with two reasons for feeling it, one written
by a person and one by a model, and asks which is better: one of them, both
good, or both bad.

    python -m experiments.human_study export --socratis-dir DATA/socratis \\
        --generations DATA/socratis/generations.jsonl --n 400 --seed 0 \\
        --out study/task.csv --key study/key.csv
    # ... upload study/task.csv, collect answers ...
    python -m experiments.human_study import --key study/key.csv \\
        --answers answers.csv --out DATA/socratis/human_study.csv

`export --n-for-effect SHARE` (instead of `--n`) draws as many pairs as the
exact sign test needs to detect that share of human-preferred among the
decisive verdicts with `--power` (0.8) at `--alpha` (0.05), one annotator per
pair, `--tie-share` of verdicts expected to be ties (default the paper's,
58 of 372); see docs/power.md.

`export` writes two files. The task file (upload it) shows each pair with
the reasons on a random side: `pair_id, item_id, image, caption, emotion,
reason_left, reason_right, export_id`. The key file (keep it; never upload
it) says which side the human reason is on: `pair_id, item_id, emotion,
human_reason, machine_reason, generator, human_side, human_sample,
export_id`. The export id, the same on every row of both files, is the first
12 hex digits of the SHA-256 of the key's rows: two exports share it only
when their keys map every answer the same way. A task or key file that exists
is not replaced without `--force`.

`import` reads the platform's answers (`pair_id, annotator, answer,
export_id`, answer one of left / right / both_good / both_bad; the column
names are options), checks that every answer carries the key's export id
(annotation platforms keep a task file's columns in their output: MTurk as
`Input.export_id`), maps each shown side back through the key, and writes
the human-study CSV the Socratis loader reads: `pair_id, item_id, emotion,
human_reason, machine_reason, generator, verdict, annotator`, verdict one of
human / machine / both_good / both_bad. Every row is checked; a bad one
stops the import with the file and line. A key written before export ids
cannot be checked against (a warning says so).

Agreement between annotators (pairs answered by two or more): the mean
share of annotator pairs that agree, and Fleiss' kappa over the four
verdicts (Fleiss 1971).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import logging
import random
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..benchmarks.base import DataError
from ..benchmarks import DATA_ENV, default_data_dir
from .data import (GENERATIONS_FILE, OFFICIAL_FILE, STUDY_COLUMNS, read_generations,
                               read_official)
from ..benchmarks.files import csv_rows, csv_table, require_file
from ..cli import add_common_arguments, command_name, one_line_errors, setup_logging
from ..pipeline.results_folder import write_text_atomically
from ..interrupts import handles_interrupts

log = logging.getLogger("experiments.human_study")

VERDICTS = ("human", "machine", "both_good", "both_bad")
ANSWERS = ("left", "right", "both_good", "both_bad")
TASK_COLUMNS = ["pair_id", "item_id", "image", "caption", "emotion", "reason_left", "reason_right"]
KEY_COLUMNS = ["pair_id", "item_id", "emotion", "human_reason", "machine_reason", "generator",
               "human_side", "human_sample"]
EXPORT_ID = "export_id"  # the last column of the task and key files


# -- agreement ----------------------------------------------------------------

def verdict_counts(pair_ids: Sequence[str], verdicts: Sequence[str],
                   categories: Sequence[str] = VERDICTS) -> np.ndarray:
    """Pairs x categories matrix: how many annotators gave each verdict to each
    pair (pairs in order of first appearance)."""
    column = {c: j for j, c in enumerate(categories)}
    rows: dict[str, np.ndarray] = {}
    for pair, verdict in zip(pair_ids, verdicts):
        if verdict not in column:
            raise ValueError(f"unknown verdict {verdict!r} for pair {pair!r}; "
                             f"expected one of {', '.join(categories)}")
        rows.setdefault(pair, np.zeros(len(categories), dtype=int))[column[verdict]] += 1
    return np.array(list(rows.values()), dtype=int).reshape(-1, len(categories))


def _rated_by_several(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    counts = np.asarray(counts, dtype=float)
    raters = counts.sum(axis=1)
    keep = raters >= 2
    return counts[keep], raters[keep]


def percent_agreement(counts: np.ndarray) -> float:
    """Mean over pairs (rated by two or more) of the share of annotator pairs
    that gave the same verdict: P_i = (sum_j n_ij^2 - n_i) / (n_i (n_i - 1)),
    Fleiss (1971), eq. 2. NaN when no pair has two annotators."""
    counts, raters = _rated_by_several(counts)
    if len(raters) == 0:
        return float("nan")
    return float(np.mean(((counts ** 2).sum(axis=1) - raters) / (raters * (raters - 1))))


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa: (P - P_e) / (1 - P_e).

    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
    Psychological Bulletin 76(5), 378-382. P is `percent_agreement`; P_e =
    sum_j p_j^2, p_j the share of all verdicts in category j. Fleiss assumes
    the same number of raters per subject; with differing numbers, P_i uses
    each pair's own n_i and p_j pools every verdict (pairs with a single
    annotator are left out). NaN when every verdict is the same category
    (P_e = 1) or no pair has two annotators.
    """
    counts, raters = _rated_by_several(counts)
    if len(raters) == 0:
        return float("nan")
    p_bar = percent_agreement(counts)
    p_j = counts.sum(axis=0) / raters.sum()
    p_e = float((p_j ** 2).sum())
    if p_e >= 1.0:
        return float("nan")
    return float((p_bar - p_e) / (1.0 - p_e))


@dataclass(frozen=True)
class Agreement:
    """Agreement between annotators over the pairs that two or more answered."""

    n_pairs: int
    n_judgments: int
    percent: float
    kappa: float


def agreement(pair_ids: Sequence[str], verdicts: Sequence[str]) -> Agreement:
    counts = verdict_counts(pair_ids, verdicts)
    _, raters = _rated_by_several(counts)
    return Agreement(len(raters), int(raters.sum()), percent_agreement(counts),
                     fleiss_kappa(counts))


# -- export -------------------------------------------------------------------

@dataclass(frozen=True)
class StudyPair:
    pair_id: str
    item_id: str
    image: str
    caption: str
    emotion: str
    human_reason: str
    machine_reason: str
    generator: str
    human_side: str
    human_sample: str

    def task_row(self) -> dict[str, str]:
        left, right = ((self.human_reason, self.machine_reason) if self.human_side == "left"
                       else (self.machine_reason, self.human_reason))
        return {"pair_id": self.pair_id, "item_id": self.item_id, "image": self.image,
                "caption": self.caption, "emotion": self.emotion,
                "reason_left": left, "reason_right": right}

    def key_row(self) -> dict[str, str]:
        return {c: getattr(self, c) for c in KEY_COLUMNS}


def sample_pairs(folder: Path, generations: Path, n: int | None, seed: int = 0,
                 generators: Iterable[str] | None = None, image_url: str | None = None,
                 id_prefix: str = "pair") -> tuple[list[StudyPair], list[str]]:
    """Draw up to `n` (human reason, machine reason) pairs with `seed`.

    A candidate is a machine reason (for the chosen generators) together
    with one human reason for the same item and emotion, chosen at random
    when several workers gave that emotion. Candidates are drawn without
    replacement; each pair's human reason goes left or right with
    probability 1/2. Returns the pairs and notes on what was left out.
    """
    if n is not None and n < 1:
        raise ValueError(f"the number of pairs to draw must be at least 1, found {n}")
    folder = Path(folder)
    items = read_official(require_file(folder / OFFICIAL_FILE, "socratis"))
    rows = read_generations(require_file(Path(generations), "generations"), items)
    wanted = set(generators) if generators else None
    rng = random.Random(seed)
    notes: list[str] = []
    candidates = []
    no_human = empty = 0
    for g in rows:
        if wanted is not None and g.generator not in wanted:
            continue
        if not g.reason.strip():
            empty += 1
            continue
        item = items[g.item_id]
        humans = [r for r in item.reasons if r.emotion == g.emotion]
        if not humans:
            no_human += 1
            continue
        human = humans[rng.randrange(len(humans))] if len(humans) > 1 else humans[0]
        candidates.append((g, item, human))
    if wanted is not None:
        missing = wanted - {g.generator for g in rows}
        if missing:
            raise DataError(f"{generations}: no generations by {', '.join(sorted(missing))}")
    if empty:
        notes.append(f"{empty} empty machine reasons left out")
    if no_human:
        notes.append(f"{no_human} machine reasons left out: no worker gave that emotion for "
                     "that item, so there is no human reason to pair them with")
    if n is None or n >= len(candidates):
        if n is not None and n > len(candidates):
            notes.append(f"asked for {n} pairs, only {len(candidates)} candidates: took them all")
        chosen = list(range(len(candidates)))
        rng.shuffle(chosen)
    else:
        chosen = rng.sample(range(len(candidates)), n)
    width = max(4, len(str(len(chosen))))
    pairs = []
    for k, c in enumerate(chosen):
        g, item, human = candidates[c]
        image = (image_url.rstrip("/") + "/" + item.image_path) if image_url else item.image_path
        pairs.append(StudyPair(
            pair_id=f"{id_prefix}{k + 1:0{width}d}", item_id=g.item_id, image=image,
            caption=item.caption, emotion=g.emotion, human_reason=human.reason,
            machine_reason=g.reason, generator=g.generator,
            human_side="left" if rng.random() < 0.5 else "right",
            human_sample=f"h:{g.item_id}:{human.worker}:{human.slot}"))
    return pairs, notes


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[dict]) -> None:
    """The whole file at once (a killed export leaves no half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomically(path, text.getvalue())


def export_id(pairs: Sequence[StudyPair]) -> str:
    """The export's id: the first 12 hex digits of the SHA-256 of its key rows."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([p.key_row()[c] for c in KEY_COLUMNS]
                                                    for p in pairs)
    return hashlib.sha256(text.getvalue().encode("utf-8")).hexdigest()[:12]


def refuse_to_replace(paths: Iterable[Path], force: bool) -> None:
    """DataError naming the first of `paths` that exists, unless `force`."""
    for path in paths:
        if not force and Path(path).exists():
            raise DataError(f"{path} exists; nothing was written: give another path, or "
                            "--force to replace it")


def export_study(folder: Path, generations: Path, task: Path, key: Path, n: int | None,
                 seed: int = 0, generators: Iterable[str] | None = None,
                 image_url: str | None = None, id_prefix: str = "pair",
                 force: bool = False) -> list[StudyPair]:
    """Sample pairs and write the task file and the key file, both carrying the export
    id; an existing task or key file is replaced only with `force` (the key of a study
    already on the platform must not be lost)."""
    if Path(task).resolve() == Path(key).resolve():
        raise DataError(f"the task file and the key file must differ: {task}")
    refuse_to_replace([key, task], force)
    pairs, notes = sample_pairs(folder, generations, n, seed, generators, image_url, id_prefix)
    if not pairs:
        raise DataError(f"{generations}: no pair to show (" + "; ".join(notes or ["no rows"]) + ")")
    for note in notes:
        log.warning("%s", note)
    this = export_id(pairs)
    write_csv(key, KEY_COLUMNS + [EXPORT_ID], ({**p.key_row(), EXPORT_ID: this} for p in pairs))
    write_csv(task, TASK_COLUMNS + [EXPORT_ID], ({**p.task_row(), EXPORT_ID: this} for p in pairs))
    return pairs


# -- how many pairs ------------------------------------------------------------

#: Share of tied verdicts (both good, both bad) in Deng et al. (2023): (47 + 11) / 372.
TIE_SHARE = 58 / 372


def pairs_for_effect(human_share: float, tie_share: float = TIE_SHARE, power: float = 0.8,
                     alpha: float = 0.05) -> int:
    """Pairs (one annotator each) for the exact two-sided sign test of "human- and
    machine-preferred verdicts are equally frequent" to reach `power` at `alpha` when
    a share `human_share` of decisive verdicts prefers the human reason and `tie_share`
    of all verdicts are ties (`correlation.sign_test_size`)."""
    from correlation.power import sign_test_size

    if not 0 <= human_share <= 1 or human_share == 0.5:
        raise DataError(f"--n-for-effect must be a share in [0, 1] other than 0.5 (no effect), "
                        f"got {human_share}")
    if not 0 <= tie_share < 1:
        raise DataError(f"--tie-share must lie in [0, 1), got {tie_share}")
    if not (0 < power < 1 and 0 < alpha < 1):
        raise DataError(f"--power and --alpha must lie in (0, 1), got {power}, {alpha}")
    n = sign_test_size(human_share * (1 - tie_share), (1 - human_share) * (1 - tie_share),
                       power, alpha)
    if n is None:
        raise DataError(f"no study size up to a million pairs reaches power {power}")
    return n


# -- import -------------------------------------------------------------------

def normalise_answer(text: str) -> str:
    """'Both good', 'both-good', ' LEFT ' -> both_good, left."""
    return "_".join(text.strip().lower().replace("-", " ").split())


def key_export_id(path: Path) -> str | None:
    """The export id of a key file (None for a key written before export ids); a key
    whose rows disagree on it is an error naming the line."""
    found: str | None = None
    for number, row in csv_rows(Path(path), KEY_COLUMNS):
        if EXPORT_ID not in row:
            return None
        value = (row[EXPORT_ID] or "").strip()
        if not value or (found is not None and value != found):
            raise DataError(f"{path}:{number}: {EXPORT_ID} {value!r} differs from the first "
                            f"row's {found!r}: not one export's key")
        found = value
    return found


def read_key(path: Path) -> dict[str, dict[str, str]]:
    key: dict[str, dict[str, str]] = {}
    lines: dict[str, int] = {}
    for number, row in csv_rows(Path(path), KEY_COLUMNS):
        pair = row["pair_id"].strip()
        if not pair:
            raise DataError(f"{path}:{number}: empty pair_id")
        if pair in key:
            raise DataError(f"{path}:{number}: pair {pair!r} appears twice "
                            f"(first on line {lines[pair]})")
        if row["human_side"].strip() not in ("left", "right"):
            raise DataError(f"{path}:{number}: human_side must be left or right, "
                            f"found {row['human_side']!r}")
        key[pair], lines[pair] = row, number
    return key


@dataclass
class ImportResult:
    rows: list[dict[str, str]]
    unanswered: list[str]
    agreement: Agreement

    def counts(self) -> Counter:
        return Counter(r["verdict"] for r in self.rows)


def import_answers(key_path: Path, answer_paths: Sequence[Path], pair_column: str = "pair_id",
                   annotator_column: str = "annotator", answer_column: str = "answer",
                   export_id_column: str = EXPORT_ID) -> ImportResult:
    """Read the platform's answers and map each shown side back to human / machine.

    Errors (with file and line): answers to another export than the key's (or
    an answers file without the export id column), an answer outside left /
    right / both_good / both_bad, a pair the key does not have, an empty
    annotator, the same annotator answering a pair twice (across all answer files).
    """
    key = read_key(key_path)
    expected = key_export_id(key_path)
    if expected is None:
        log.warning("%s has no %s column (written before exports had ids): the answers "
                    "cannot be checked against it", key_path, EXPORT_ID)
    answered: dict[tuple[str, str], str] = {}
    by_pair: dict[str, list[dict[str, str]]] = {}
    for path in answer_paths:
        path = Path(path)
        required = [pair_column, annotator_column, answer_column]
        header = csv_table(path)[0]
        if expected and export_id_column not in header and all(c in header for c in required):
            raise DataError(
                f"{path}:1: no {export_id_column} column, so these answers cannot be checked "
                f"against the key {key_path} (export {expected}); keep the task file's "
                f"{EXPORT_ID} column in the platform's output and name it with "
                "--export-id-column (MTurk: Input.export_id)")
        for number, row in csv_rows(path, required + ([export_id_column] if expected else [])):
            where = f"{path}:{number}"
            if expected and (row[export_id_column] or "").strip() != expected:
                raise DataError(f"{where}: an answer to export {row[export_id_column]!r}, but "
                                f"the key {key_path} is export {expected!r}: the answers and "
                                "the key are of different exports")
            pair = row[pair_column].strip()
            if pair not in key:
                raise DataError(f"{where}: pair {pair!r} is not in the key file {key_path}")
            annotator = row[annotator_column].strip()
            if not annotator:
                raise DataError(f"{where}: empty {annotator_column}")
            answer = normalise_answer(row[answer_column])
            if answer not in ANSWERS:
                raise DataError(f"{where}: unknown answer {row[answer_column]!r} "
                                f"(expected one of {', '.join(ANSWERS)})")
            if (pair, annotator) in answered:
                raise DataError(f"{where}: annotator {annotator!r} answered pair {pair!r} twice "
                                f"(first at {answered[pair, annotator]})")
            answered[pair, annotator] = where
            k = key[pair]
            if answer in ("left", "right"):
                verdict = "human" if answer == k["human_side"].strip() else "machine"
            else:
                verdict = answer
            by_pair.setdefault(pair, []).append({
                "pair_id": pair, "item_id": k["item_id"], "emotion": k["emotion"],
                "human_reason": k["human_reason"], "machine_reason": k["machine_reason"],
                "generator": k["generator"], "verdict": verdict, "annotator": annotator})
    rows = [r for pair in key for r in by_pair.get(pair, [])]
    if not rows:
        raise DataError(f"no answers in {', '.join(map(str, answer_paths))}")
    unanswered = [p for p in key if p not in by_pair]
    return ImportResult(rows, unanswered, agreement([r["pair_id"] for r in rows],
                                                    [r["verdict"] for r in rows]))


def summary_lines(result: ImportResult) -> list[str]:
    counts = result.counts()
    total = sum(counts.values())
    lines = [f"{total} verdicts on {total and len({r['pair_id'] for r in result.rows})} pairs"]
    lines += [f"  {v:<10} {counts[v]:>6}  ({counts[v] / total:.1%})" for v in VERDICTS]
    ratio = counts["human"] / counts["machine"] if counts["machine"] else float("nan")
    lines.append(f"human-preferred / machine-preferred: {ratio:.2f}")
    a = result.agreement
    if a.n_pairs:
        lines.append(f"agreement over {a.n_pairs} pairs with two or more annotators: "
                     f"{a.percent:.1%} of annotator pairs agree; Fleiss' kappa {a.kappa:.3f}")
    else:
        lines.append("no pair has two annotators: no agreement to report")
    if result.unanswered:
        lines.append(f"{len(result.unanswered)} pairs of the key have no answer "
                     f"(e.g. {result.unanswered[0]})")
    return lines


# -- command line -------------------------------------------------------------

def _socratis_dir(args) -> Path:
    if args.socratis_dir:
        return Path(args.socratis_dir)
    data_dir = args.data_dir or default_data_dir()
    if not data_dir:
        raise DataError(f"give --socratis-dir, or --data-dir (or ${DATA_ENV}) holding socratis/")
    return Path(data_dir) / "socratis"


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 (argparse names the option in its error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, found {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=command_name("experiments.human_study"),
                                description="Export Socratis pairs for annotation; import the verdicts.")
    add_common_arguments(p, loudness=False)
    sub = p.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export", help="sample pairs and write the task and key files")
    ex.add_argument("--data-dir", default=None, help=f"folder holding socratis/ (default ${DATA_ENV})")
    ex.add_argument("--socratis-dir", default=None,
                    help=f"the Socratis folder itself (holds {OFFICIAL_FILE})")
    ex.add_argument("--generations", default=None,
                    help=f"machine reasons (default SOCRATIS_DIR/{GENERATIONS_FILE})")
    ex.add_argument("--generator", action="append", default=None,
                    help="only this generator's reasons; repeatable (default: all)")
    size = ex.add_mutually_exclusive_group()
    size.add_argument("--n", type=positive_int, default=None,
                      help="pairs to draw (default: all candidates)")
    size.add_argument("--n-for-effect", type=float, default=None, metavar="SHARE",
                      help="draw as many pairs as the exact sign test needs to detect this share "
                           "of human-preferred among decisive verdicts (e.g. 0.6) with --power "
                           "at --alpha, one annotator per pair (docs/power.md)")
    ex.add_argument("--tie-share", type=float, default=TIE_SHARE,
                    help=f"expected share of both-good / both-bad verdicts, with --n-for-effect "
                         f"(default {TIE_SHARE:.3f}, the share in Deng et al. 2023: 58 of 372)")
    ex.add_argument("--power", type=float, default=0.8, help="target power (default 0.8)")
    ex.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    ex.add_argument("--seed", type=int, default=0, help="seed of every draw (default 0)")
    ex.add_argument("--image-url", default=None,
                    help="prefix for the image column, e.g. https://host/socratis/images "
                         "(default: the image path as in the official file)")
    ex.add_argument("--id-prefix", default="pair", help="pair ids are PREFIX0001, ... (default pair)")
    ex.add_argument("--out", required=True, help="the task file to upload (CSV)")
    ex.add_argument("--key", required=True, help="the key file to keep (CSV)")
    ex.add_argument("--force", action="store_true",
                    help="replace an existing task or key file (default: refuse)")
    add_common_arguments(ex, version=False)
    im = sub.add_parser("import", help="map answers back to verdicts; write human_study.csv")
    im.add_argument("--key", required=True, help="the key file written by export")
    im.add_argument("--answers", required=True, action="append",
                    help="the platform's answers (CSV); repeatable")
    im.add_argument("--pair-column", default="pair_id",
                    help="the answers' column holding the pair id export wrote (PREFIX0001, ...)")
    im.add_argument("--annotator-column", default="annotator",
                    help="the answers' column naming who answered (any text; one verdict per "
                         "annotator and pair)")
    im.add_argument("--answer-column", default="answer",
                    help="the answers' column holding the choice: left, right, both good or "
                         "both bad (case, spaces and hyphens ignored: 'Both-Good' is both_good)")
    im.add_argument("--export-id-column", default=EXPORT_ID,
                    help=f"the answers' column holding the task file's {EXPORT_ID} "
                         f"(MTurk: Input.{EXPORT_ID})")
    im.add_argument("--out", required=True, help="the human-study CSV to write")
    im.add_argument("--force", action="store_true",
                    help="replace an existing --out file (default: refuse)")
    add_common_arguments(im, version=False)
    return p


@handles_interrupts("previous files kept")
@one_line_errors
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)
    try:
        if args.command == "export":
            if args.n_for_effect is not None:
                args.n = pairs_for_effect(args.n_for_effect, args.tie_share, args.power, args.alpha)
                print(f"{args.n} pairs give {args.power:.0%} power to detect a human-preferred "
                      f"share of {args.n_for_effect} among decisive verdicts at alpha "
                      f"{args.alpha} ({args.tie_share:.1%} ties expected; exact sign test)")
            folder = _socratis_dir(args)
            generations = Path(args.generations) if args.generations else folder / GENERATIONS_FILE
            pairs = export_study(folder, generations, Path(args.out), Path(args.key), args.n,
                                 args.seed, args.generator, args.image_url, args.id_prefix,
                                 force=args.force)
            sides = Counter(p.human_side for p in pairs)
            print(f"{len(pairs)} pairs (human reason left in {sides['left']}, right in "
                  f"{sides['right']}), export {export_id(pairs)}: upload {args.out}; "
                  f"keep {args.key}")
        else:
            refuse_to_replace([Path(args.out)], args.force)
            require_file(Path(args.key), "--key")
            for answers in args.answers:
                require_file(Path(answers), "--answers")
            result = import_answers(Path(args.key), [Path(a) for a in args.answers],
                                    args.pair_column, args.annotator_column, args.answer_column,
                                    args.export_id_column)
            write_csv(Path(args.out), STUDY_COLUMNS, result.rows)
            print("\n".join(summary_lines(result)))
            print(f"written to {args.out}")
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0

