"""Socratis (Deng et al. 2023, "Socratis: Are large multimodal models
emotionally aware?", arXiv:2308.16741): news images with captions, the
emotions people felt, and their free-form reasons.

Files under the benchmark folder (see the README for each layout):

- `imCaptionEmotionExplanation_formatted.json` (the official release):
  `{unique_id: [[image_path, caption, emotions, explanations, demographics], ...]}`,
  one inner list per worker, up to three emotion and reason slots each
  (unused slots are '' or null; demographics optional).
- `generations.jsonl` (ours, optional): `{item_id, emotion, generator, reason}`.
- `human_study.csv` (ours, optional): `pair_id, item_id, emotion,
  human_reason, machine_reason, generator, verdict, annotator`, verdict one of
  human / machine / both_good / both_bad.

Samples:
- `h:{item}:{worker}:{slot}`: each human reason; references are the other
  workers' reasons for the same item (a reason is never its own reference;
  another worker's identical reason stays, it is another person's).
- `g:{item}:{generator}:{emotion}`: each machine reason; references are all
  the item's human reasons.
- `p:{pair_id}:human` and `p:{pair_id}:machine`: the two sides of a judged
  pair, scored with the same references (the item's reasons less the pair's
  human reason).

Emotions are kept as the workers typed them, lower-cased and stripped; no
spelling is corrected.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from metrics import Sample

from ..benchmarks.base import (A_BETTER, B_BETTER, TIE, Benchmark, DataError, Preferences,
                               ProtocolStep)
from ..benchmarks.files import (as_id, as_list, as_object, as_text, csv_rows, describe, jsonl_rows,
                                read_json, require_file, require_keys)

OFFICIAL_FILE = "imCaptionEmotionExplanation_formatted.json"
GENERATIONS_FILE = "generations.jsonl"
STUDY_FILE = "human_study.csv"
STUDY_COLUMNS = ["pair_id", "item_id", "emotion", "human_reason", "machine_reason",
                 "generator", "verdict", "annotator"]
#: Verdict -> pair outcome, with A = the human-written reason and B = the machine-written one.
VERDICT_OUTCOME = {"human": A_BETTER, "machine": B_BETTER, "both_good": TIE, "both_bad": TIE}
CITATION = ("Deng, Ray, Tan, Gabriel, Plummer, Saenko 2023, Socratis: Are large multimodal "
            "models emotionally aware? (arXiv:2308.16741)")


def verdict_key(text) -> str:
    """A verdict as `VERDICT_OUTCOME` spells it: 'Both good', 'both-good', ' HUMAN ' -> both_good,
    human (case ignored, spaces and hyphens as underscores)."""
    return "_".join(str(text).strip().lower().replace("-", " ").replace("_", " ").split())


def verdict_outcomes(verdicts) -> np.ndarray:
    """Outcome per verdict for `correlation` (A = the human reason): human +1, machine -1,
    both_good and both_bad 0 (a tie); None or NaN gives NaN (dropped and counted there).
    An unknown verdict raises ValueError naming it and its position."""
    out = np.empty(len(verdicts), dtype=float)
    for k, verdict in enumerate(verdicts):
        if verdict is None or (isinstance(verdict, float) and np.isnan(verdict)):
            out[k] = np.nan
            continue
        key = verdict_key(verdict)
        if key not in VERDICT_OUTCOME:
            raise ValueError(f"unknown Socratis verdict {verdict!r} at position {k}; expected one "
                             f"of {', '.join(VERDICT_OUTCOME)}")
        out[k] = VERDICT_OUTCOME[key]
    return out


@dataclass
class HumanReason:
    worker: int
    slot: int
    emotion: str
    reason: str


@dataclass
class SocratisItem:
    item_id: str
    image_path: str
    caption: str
    reasons: list[HumanReason] = field(default_factory=list)

    def references(self, leave_out: HumanReason | None = None) -> tuple[str, ...]:
        """The item's reasons, less those written by the worker who wrote `leave_out`."""
        if leave_out is None:
            return tuple(r.reason for r in self.reasons)
        return tuple(r.reason for r in self.reasons if r.worker != leave_out.worker)


def normalise_emotion(word: str) -> str:
    return word.strip().lower()


def _slot(values: list, slot: int, where: str, what: str) -> str:
    """One emotion or reason slot: text, or '' for an unused slot (null, '' or absent)."""
    value = values[slot] if slot < len(values) else None
    return "" if value is None else as_text(value, where, what).strip()


def read_official(path: Path) -> dict[str, SocratisItem]:
    """Items of the official release; malformed entries name the item and worker.

    Every worker of an item must give the same image and caption; an item id
    that appears twice is an error (JSON would keep the second silently).
    """
    data = as_object(read_json(path), str(path), "the file (an object keyed by unique_id)")
    if not data:
        raise DataError(f"{path}: no items")
    items: dict[str, SocratisItem] = {}
    for item_id, workers in data.items():
        where = f"{path}: item {item_id!r}"
        workers = as_list(workers, where, "the item (a list of worker entries)", nonempty=True)
        item = None
        for w, entry in enumerate(workers):
            at = f"{where}, worker {w}"
            if not isinstance(entry, list) or len(entry) < 4:
                raise DataError(f"{at}: expected [image_path, caption, "
                                f"emotions, explanations, demographics], found {describe(entry)}")
            image_path = as_text(entry[0], at, "image_path", nonempty=True)
            caption = as_text(entry[1], at, "caption")
            emotions = as_list(entry[2], at, "emotions")
            explanations = as_list(entry[3], at, "explanations")
            if item is None:
                item = SocratisItem(item_id, image_path, caption)
            for what, mine, first in (("image_path", image_path, item.image_path),
                                      ("caption", caption, item.caption)):
                if mine != first:
                    raise DataError(f"{at}: {what} {mine[:60]!r} differs from worker 0's "
                                    f"{first[:60]!r}")
            for slot in range(max(len(emotions), len(explanations))):
                emotion = normalise_emotion(_slot(emotions, slot, at, f"emotions[{slot}]"))
                reason = _slot(explanations, slot, at, f"explanations[{slot}]")
                if not emotion and not reason:
                    continue
                if not emotion or not reason:
                    raise DataError(f"{at}, slot {slot}: an emotion without a "
                                    "reason or a reason without an emotion")
                item.reasons.append(HumanReason(w, slot, emotion, reason))
        items[item_id] = item
    return items


def image_file(image_root: str | None, folder: Path, image_path: str) -> str:
    """Where an item's image is: under --image-root if given, else FOLDER/images."""
    root = Path(image_root) if image_root else Path(folder) / "images"
    return str(root / image_path)


def _context(item: SocratisItem, emotion: str) -> dict[str, str]:
    return {"caption": item.caption, "emotion": emotion}


def load_socratis(folder: Path, image_root: str | None = None) -> Benchmark:
    """The Socratis judgments from `folder` (official JSON plus our optional files).

    The benchmark's paper tables are attached by `experiments.socratis.benchmark`,
    which the registry calls."""
    folder = Path(folder)
    official = require_file(folder / OFFICIAL_FILE, "socratis")
    items = read_official(official)
    samples: list[Sample] = []
    notes: list[str] = []
    for item in items.values():
        image = image_file(image_root, folder, item.image_path)
        for r in item.reasons:
            samples.append(Sample(f"h:{item.item_id}:{r.worker}:{r.slot}", r.reason,
                                  item.references(leave_out=r), image, _context(item, r.emotion)))
    samples += _generation_samples(folder, items, image_root, notes)
    pair_samples, preferences = _study(folder, items, image_root, notes)
    samples += pair_samples
    protocol = [ProtocolStep("accuracy", "pair"), ProtocolStep("tau_like", "pair"),
                ProtocolStep("acc23", "pair")] if preferences is not None else []
    if preferences is None:
        notes.append(f"no {STUDY_FILE}: no human verdicts, so no agreement is reported")
    return Benchmark(samples=samples, protocol=protocol, citation=CITATION,
                     preferences=preferences, notes=notes)


@dataclass
class Generation:
    """One machine-written reason of generations.jsonl (`line` for messages)."""

    item_id: str
    emotion: str
    generator: str
    reason: str
    line: int


def read_generations(path: Path, items: dict[str, SocratisItem]) -> list[Generation]:
    """Rows of a generations file, checked against the items; errors name the line."""
    rows: list[Generation] = []
    seen: dict[tuple[str, str, str], int] = {}
    for number, row in jsonl_rows(path):
        require_keys(row, ["item_id", "emotion", "generator", "reason"], path, number)
        where = f"{path}:{number}"
        item_id = as_id(row["item_id"], where, "item_id")
        item = items.get(item_id)
        if item is None:
            raise DataError(f"{where}: item_id {item_id!r} is not in {OFFICIAL_FILE}")
        emotion = normalise_emotion(as_text(row["emotion"], where, "emotion", nonempty=True))
        generator = as_text(row["generator"], where, "generator", nonempty=True).strip()
        reason = as_text(row["reason"], where, "reason")
        key = (item.item_id, generator, emotion)
        if key in seen:
            raise DataError(f"{path}:{number}: duplicate generation for item {key[0]!r}, "
                            f"generator {key[1]!r}, emotion {key[2]!r} (first on line {seen[key]})")
        seen[key] = number
        rows.append(Generation(key[0], emotion, key[1], reason, number))
    return rows


def _generation_samples(folder: Path, items: dict[str, SocratisItem],
                        image_root: str | None, notes: list[str]) -> list[Sample]:
    path = folder / GENERATIONS_FILE
    if not path.is_file():
        notes.append(f"no {GENERATIONS_FILE}: no per-generator scores")
        return []
    samples = []
    for g in read_generations(path, items):
        item = items[g.item_id]
        samples.append(Sample(f"g:{g.item_id}:{g.generator}:{g.emotion}", g.reason,
                              item.references(), image_file(image_root, folder, item.image_path),
                              {**_context(item, g.emotion), "generator": g.generator}))
    return samples


def _study(folder: Path, items: dict[str, SocratisItem], image_root: str | None,
           notes: list[str]) -> tuple[list[Sample], Preferences | None]:
    path = folder / STUDY_FILE
    if not path.is_file():
        return [], None
    samples: list[Sample] = []
    pairs: dict[str, tuple[int, tuple]] = {}
    answered: dict[tuple[str, str], int] = {}
    cols = {k: [] for k in ("pair_ids", "sample_a", "sample_b", "outcome", "verdict",
                            "category", "annotators")}
    unmatched = 0
    for number, row in csv_rows(path, STUDY_COLUMNS):
        pair_id = row["pair_id"].strip()
        verdict = verdict_key(row["verdict"])
        if verdict not in VERDICT_OUTCOME:
            raise DataError(f"{path}:{number}: unknown verdict {row['verdict']!r} "
                            f"(expected one of {', '.join(VERDICT_OUTCOME)})")
        item = items.get(row["item_id"].strip())
        if item is None:
            raise DataError(f"{path}:{number}: item_id {row['item_id']!r} is not in {OFFICIAL_FILE}")
        for column in ("pair_id", "human_reason", "machine_reason", "annotator"):
            if not row[column].strip():
                raise DataError(f"{path}:{number}: empty {column}")
        emotion = normalise_emotion(row["emotion"])
        content = (item.item_id, emotion, row["human_reason"].strip(),
                   row["machine_reason"].strip(), row["generator"].strip())
        if pair_id in pairs:
            first, known = pairs[pair_id]
            if known != content:
                raise DataError(f"{path}:{number}: pair {pair_id!r} differs from its first "
                                f"appearance on line {first}")
        else:
            pairs[pair_id] = (number, content)
            own = next((r for r in item.reasons if r.reason == content[2]), None)
            if own is None:
                unmatched += 1
            refs = item.references(leave_out=own) if own else item.references()
            image = image_file(image_root, folder, item.image_path)
            context = _context(item, emotion)
            samples.append(Sample(f"p:{pair_id}:human", content[2], refs, image, context))
            samples.append(Sample(f"p:{pair_id}:machine", content[3], refs, image,
                                  {**context, "generator": content[4]}))
        annotator = row["annotator"].strip()
        if (pair_id, annotator) in answered:
            raise DataError(f"{path}:{number}: annotator {annotator!r} answered pair "
                            f"{pair_id!r} twice (first on line {answered[pair_id, annotator]})")
        answered[pair_id, annotator] = number
        cols["pair_ids"].append(pair_id)
        cols["sample_a"].append(f"p:{pair_id}:human")
        cols["sample_b"].append(f"p:{pair_id}:machine")
        cols["outcome"].append(VERDICT_OUTCOME[verdict])
        cols["verdict"].append(verdict)
        cols["category"].append(content[4])
        cols["annotators"].append(annotator)
    if not cols["pair_ids"]:
        raise DataError(f"{path}: no verdicts")
    if unmatched:
        notes.append(f"{unmatched} study pairs' human reasons were not found among their "
                     "item's reasons; those pairs use all the item's reasons as references")
    cols["outcome"] = np.array(cols["outcome"])
    if all(cols["category"]):  # every pair names its generator: the pairs are battles
        cols["system_a"] = ["human"] * len(cols["category"])
        cols["system_b"] = list(cols["category"])
    return samples, Preferences(**cols)
