"""Caption benchmarks with published human judgments: PASCAL-50S, THumB,
Nebula and Polaris. Each loader documents its sample ids and protocol.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metrics import Sample

from .base import A_BETTER, B_BETTER, Benchmark, DataError, Preferences, ProtocolStep, Ratings
from .files import (as_id, as_list, as_number, as_object, as_optional_text, as_text, as_texts,
                    describe, field, jsonl_rows, read_json, require_file)

PASCAL_CATEGORIES = ("HC", "HI", "HM", "MM")


def _image(image_root: str | None, name: str | None) -> str | None:
    return str(Path(image_root) / name) if image_root and name else None


@dataclass(frozen=True)
class PascalPair:
    """One PASCAL-50S pair as pascal_50s.json gives it (`label`: index of the preferred caption)."""

    image: str | None
    captions: tuple[str, str]
    label: int
    references: tuple[str, ...]


def read_pascal50s(path: Path) -> dict[str, list[PascalPair]]:
    """category -> its pairs in file order; a file may hold only some categories,
    a category it holds must have pairs."""
    data = as_object(read_json(path), str(path), "the file")
    unknown = [c for c in data if c not in PASCAL_CATEGORIES]
    if unknown or not data:
        raise DataError(f"{path}: expected an object with categories {', '.join(PASCAL_CATEGORIES)}"
                        + (f", found {', '.join(map(repr, unknown))}" if unknown else ", found none"))
    categories: dict[str, list[PascalPair]] = {}
    for category in (c for c in PASCAL_CATEGORIES if c in data):
        pairs = as_list(data[category], f"{path}: {category}", "the category", nonempty=True)
        categories[category] = []
        for k, pair in enumerate(pairs):
            where = f"{path}: {category} pair {k}"
            captions = as_texts(field(pair, "captions", where), where, "captions", count=2)
            label = field(pair, "label", where)
            if isinstance(label, bool) or not isinstance(label, int) or label not in (0, 1):
                raise DataError(f"{where}: label must be 0 or 1, found {describe(label)}")
            references = as_texts(field(pair, "references", where), where, "references")
            image = as_optional_text(pair.get("image"), where, "image")
            categories[category].append(PascalPair(image, captions, label, references))
    return categories


def load_pascal50s(folder: Path, image_root: str | None = None) -> Benchmark:
    """PASCAL-50S (Vedantam et al. 2015, CIDEr): 4 x 1,000 caption pairs, the
    human-preferred caption of each, 5 references per pair.

    Sample ids `CAT/K/a` and `CAT/K/b` (K = the pair's position in its
    category's list in pascal_50s.json). Standard number: per category, the
    share of pairs where the metric scores the preferred caption higher.
    A file may hold only some categories (the report notes which are absent).
    """
    path = require_file(Path(folder) / "pascal_50s.json", "pascal50s")
    categories = read_pascal50s(path)
    samples, cols = [], {"pair_ids": [], "sample_a": [], "sample_b": [], "outcome": [],
                         "category": []}
    for category, pairs in categories.items():
        for k, pair in enumerate(pairs):
            ids = (f"{category}/{k}/a", f"{category}/{k}/b")
            image = _image(image_root, Path(pair.image).name if pair.image else None)
            for sid, caption in zip(ids, pair.captions):
                samples.append(Sample(sid, caption, pair.references, image))
            cols["pair_ids"].append(f"{category}/{k}")
            cols["sample_a"].append(ids[0])
            cols["sample_b"].append(ids[1])
            cols["outcome"].append(A_BETTER if pair.label == 0 else B_BETTER)
            cols["category"].append(category)
    absent = [c for c in PASCAL_CATEGORIES if c not in categories]
    return Benchmark(
        samples=samples, preferences=Preferences(**cols),
        protocol=[ProtocolStep("accuracy", "pair", by="category")],
        citation="Vedantam, Zitnick & Parikh 2015, CIDEr: Consensus-based Image Description "
                 "Evaluation, CVPR",
        notes=[f"{path.name} has no {', '.join(absent)} pairs"] if absent else [])


def load_thumb(folder: Path, image_root: str | None = None) -> Benchmark:
    """THumB 1.0 (Kasai et al. 2022, NAACL): 500 MS-COCO images x 5 systems.

    Sample ids `SYS/SEG_ID`; references are the 4 of mscoco_references.jsonl
    (the Human system's caption is a fifth, held-out one). Human score is
    THumB's `human_score`. Reported: Pearson at the flattened level, grouped
    by image (item), and at the system level.
    """
    folder = Path(folder)
    refs_path = require_file(folder / "mscoco_references.jsonl", "thumb references")
    refs: dict[str, tuple[str, ...]] = {}
    ref_lines: dict[str, int] = {}
    for number, row in jsonl_rows(refs_path):
        where = f"{refs_path}:{number}"
        seg = as_id(field(row, "seg_id", where), where, "seg_id")
        if seg in refs:
            raise DataError(f"{where}: seg_id {seg!r} appears twice (first on line {ref_lines[seg]})")
        refs[seg] = as_texts(field(row, "refs", where), where, "refs")
        ref_lines[seg] = number
    path = require_file(folder / "mscoco_THumB-1.0.jsonl", "thumb")
    samples, ids, values, items, systems = [], [], [], [], []
    lines: dict[str, int] = {}
    for number, row in jsonl_rows(path):
        where = f"{path}:{number}"
        system = as_text(field(row, "SYS", where), where, "SYS", nonempty=True)
        seg = as_id(field(row, "seg_id", where), where, "seg_id")
        hyp = as_text(field(row, "hyp", where), where, "hyp")
        value = as_number(field(row, "human_score", where), where, "human_score")
        image = as_optional_text(row.get("image"), where, "image")
        if seg not in refs:
            raise DataError(f"{where}: seg_id {seg!r} has no references in {refs_path.name}")
        sid = f"{system}/{seg}"
        if sid in lines:
            raise DataError(f"{where}: system {system!r} and seg_id {seg!r} appear twice "
                            f"(first on line {lines[sid]})")
        lines[sid] = number
        samples.append(Sample(sid, hyp, refs[seg], _image(image_root, image)))
        ids.append(sid)
        values.append(value)
        items.append(seg)
        systems.append(system)
    return Benchmark(
        samples=samples,
        ratings=Ratings(ids, np.array(values), items=items, systems=systems),
        protocol=[ProtocolStep("pearson", "flat"), ProtocolStep("pearson", "item"),
                  ProtocolStep("pearson", "system")],
        citation="Kasai, Sakaguchi, Dunagan, Morrison, Le Bras, Choi & Smith 2022, "
                 "Transparent Human Evaluation for Image Captioning, NAACL")


def _scalar_rows(path: Path, id_of, refs_key: str | None, image_root: str | None):
    """Rows `{imgid, mt, score[, refs]}` of Nebula and Polaris, scores in [0, 1]."""
    data = as_list(read_json(path), str(path), "the file (a list of rows)", nonempty=True)
    samples, ids, values, items = [], [], [], []
    rows_of: dict[str, int] = {}
    for k, row in enumerate(data):
        where = f"{path}: row {k}"
        imgid = as_id(field(row, "imgid", where), where, "imgid")
        candidate = as_text(field(row, "mt", where), where, "mt")
        value = as_number(field(row, "score", where), where, "score", low=0, high=1)
        refs = as_texts(field(row, refs_key, where), where, refs_key) if refs_key else ()
        sid = id_of(k, row, where)
        if sid in rows_of:
            raise DataError(f"{where}: id {sid!r} appears twice (first in row {rows_of[sid]})")
        rows_of[sid] = k
        samples.append(Sample(sid, candidate, refs, _image(image_root, f"{imgid}.jpg")))
        ids.append(sid)
        values.append(value)
        items.append(imgid)
    return samples, Ratings(ids, np.array(values), items=items)


def load_nebula(folder: Path, image_root: str | None = None) -> Benchmark:
    """Nebula test split (Matsuda et al. 2024, ACCV): 3,298 captions rated in [0, 1].

    Sample ids `nebula/K`, K the row's position in nebula_test.json; images
    are looked for as IMAGE_ROOT/IMGID.jpg. Reported:
    Kendall tau-c over all rows, as the Polos/Nebula papers do. The authors
    later corrected the published scores; this file may be the first release.
    """
    path = require_file(Path(folder) / "nebula_test.json", "nebula")
    samples, ratings = _scalar_rows(path, lambda k, row, where: f"nebula/{k}", "refs",
                                    image_root)
    return Benchmark(
        samples=samples, ratings=ratings,
        protocol=[ProtocolStep("kendall_c", "flat")],
        citation="Matsuda, Wada, Sugiura et al. 2024, DENEB: A Hallucination-Robust Automatic "
                 "Evaluation Metric for Image Captioning (Nebula dataset), ACCV",
        notes=["scores may be the first release, before their authors' correction"])


def _polaris_id(k: int, row: dict, where: str) -> str:
    return as_id(row["id"], where, "id") if "id" in row else f"polaris/{k}"


def load_polaris(folder: Path, image_root: str | None = None) -> Benchmark:
    """Polaris validation split (Wada et al. 2024, CVPR): 4,237 captions rated in [0, 1].

    Sample ids are the file's `id` (`val_N`); images are looked for as
    IMAGE_ROOT/IMGID.jpg. The file has no references, so
    reference-based metrics report every sample as unscorable.
    """
    path = require_file(Path(folder) / "polaris_val.json", "polaris")
    samples, ratings = _scalar_rows(path, _polaris_id, None, image_root)
    return Benchmark(
        samples=samples, ratings=ratings,
        protocol=[ProtocolStep("kendall_c", "flat")],
        citation="Wada, Kaneda, Saito & Sugiura 2024, Polos: Multimodal Metric Learning from "
                 "Human Feedback for Image Captioning (Polaris dataset), CVPR",
        notes=["no references in this file: reference-based metrics cannot score it"])
