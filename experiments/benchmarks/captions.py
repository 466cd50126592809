"""Caption benchmarks with published human judgments: PASCAL-50S, THumB,
Nebula and Polaris. Each loader documents its sample ids and protocol.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from metrics import Sample

from .base import A_BETTER, B_BETTER, Benchmark, DataError, Preferences, ProtocolStep, Ratings
from .files import jsonl_rows, read_json, require_file, require_keys

PASCAL_CATEGORIES = ("HC", "HI", "HM", "MM")


def _image(image_root: str | None, name: str | None) -> str | None:
    return str(Path(image_root) / name) if image_root and name else None


def load_pascal50s(folder: Path, image_root: str | None = None) -> Benchmark:
    """PASCAL-50S (Vedantam et al. 2015, CIDEr): 4 x 1,000 caption pairs, the
    human-preferred caption of each, 5 references per pair.

    Sample ids `CAT/K/a` and `CAT/K/b` (K = the pair's position in its
    category's list in pascal_50s.json). Standard number: per category, the
    share of pairs where the metric scores the preferred caption higher.
    """
    path = require_file(Path(folder) / "pascal_50s.json", "pascal50s")
    data = read_json(path)
    if not isinstance(data, dict) or not set(data) <= set(PASCAL_CATEGORIES):
        raise DataError(f"{path}: expected an object with categories {', '.join(PASCAL_CATEGORIES)}")
    samples, cols = [], {"pair_ids": [], "sample_a": [], "sample_b": [], "outcome": [],
                         "category": []}
    for category in PASCAL_CATEGORIES:
        for k, pair in enumerate(data.get(category, [])):
            where = f"{path}: {category} pair {k}"
            for key in ("captions", "label", "references"):
                if key not in pair:
                    raise DataError(f"{where}: missing field {key!r}")
            if len(pair["captions"]) != 2 or pair["label"] not in (0, 1):
                raise DataError(f"{where}: expected two captions and a label of 0 or 1")
            image = Path(pair["image"]).name if pair.get("image") else None
            ids = (f"{category}/{k}/a", f"{category}/{k}/b")
            for sid, caption in zip(ids, pair["captions"]):
                samples.append(Sample(sid, caption, tuple(pair["references"]),
                                      _image(image_root, image)))
            cols["pair_ids"].append(f"{category}/{k}")
            cols["sample_a"].append(ids[0])
            cols["sample_b"].append(ids[1])
            cols["outcome"].append(A_BETTER if pair["label"] == 0 else B_BETTER)
            cols["category"].append(category)
    return Benchmark(
        samples=samples, preferences=Preferences(**cols),
        protocol=[ProtocolStep("accuracy", "pair", by="category")],
        citation="Vedantam, Zitnick & Parikh 2015, CIDEr: Consensus-based Image Description "
                 "Evaluation, CVPR")


def load_thumb(folder: Path, image_root: str | None = None) -> Benchmark:
    """THumB 1.0 (Kasai et al. 2022, NAACL): 500 MS-COCO images x 5 systems.

    Sample ids `SYS/SEG_ID`; references are the 4 of mscoco_references.jsonl
    (the Human system's caption is a fifth, held-out one). Human score is
    THumB's `human_score`. Reported: Pearson at the flattened level, grouped
    by image (item), and at the system level.
    """
    folder = Path(folder)
    refs_path = require_file(folder / "mscoco_references.jsonl", "thumb references")
    refs = {}
    for number, row in jsonl_rows(refs_path):
        require_keys(row, ["seg_id", "refs"], refs_path, number)
        refs[str(row["seg_id"])] = tuple(row["refs"])
    path = require_file(folder / "mscoco_THumB-1.0.jsonl", "thumb")
    samples, ids, values, items, systems = [], [], [], [], []
    for number, row in jsonl_rows(path):
        require_keys(row, ["SYS", "seg_id", "hyp", "human_score"], path, number)
        seg = str(row["seg_id"])
        if seg not in refs:
            raise DataError(f"{path}:{number}: seg_id {seg!r} has no references in {refs_path.name}")
        sid = f"{row['SYS']}/{seg}"
        samples.append(Sample(sid, row["hyp"], refs[seg], _image(image_root, row.get("image"))))
        ids.append(sid)
        values.append(float(row["human_score"]))
        items.append(seg)
        systems.append(row["SYS"])
    return Benchmark(
        samples=samples,
        ratings=Ratings(ids, np.array(values), items=items, systems=systems),
        protocol=[ProtocolStep("pearson", "flat"), ProtocolStep("pearson", "item"),
                  ProtocolStep("pearson", "system")],
        citation="Kasai, Sakaguchi, Dunagan, Morrison, Le Bras, Choi & Smith 2022, "
                 "Transparent Human Evaluation for Image Captioning, NAACL")


def _scalar_rows(path: Path, id_of, refs_key: str | None, image_root: str | None):
    data = read_json(path)
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a list of rows")
    samples, ids, values, items = [], [], [], []
    for k, row in enumerate(data):
        where = f"{path}: row {k}"
        for key in ("imgid", "mt", "score"):
            if key not in row:
                raise DataError(f"{where}: missing field {key!r}")
        sid = id_of(k, row)
        refs = tuple(row.get(refs_key) or ()) if refs_key else ()
        samples.append(Sample(sid, row["mt"], refs, _image(image_root, f"{row['imgid']}.jpg")))
        ids.append(sid)
        values.append(float(row["score"]))
        items.append(str(row["imgid"]))
    return samples, Ratings(ids, np.array(values), items=items)


def load_nebula(folder: Path, image_root: str | None = None) -> Benchmark:
    """Nebula test split (Matsuda et al. 2024, ACCV): 3,298 captions rated in [0, 1].

    Sample ids `nebula/K`, K the row's position in nebula_test.json; images
    are looked for as IMAGE_ROOT/IMGID.jpg. Reported:
    Kendall tau-c over all rows, as the Polos/Nebula papers do. The authors
    later corrected the published scores; this file may be the first release.
    """
    path = require_file(Path(folder) / "nebula_test.json", "nebula")
    samples, ratings = _scalar_rows(path, lambda k, row: f"nebula/{k}", "refs", image_root)
    return Benchmark(
        samples=samples, ratings=ratings,
        protocol=[ProtocolStep("kendall_c", "flat")],
        citation="Matsuda, Wada, Sugiura et al. 2024, DENEB: A Hallucination-Robust Automatic "
                 "Evaluation Metric for Image Captioning (Nebula dataset), ACCV",
        notes=["scores may be the first release, before their authors' correction"])


def load_polaris(folder: Path, image_root: str | None = None) -> Benchmark:
    """Polaris validation split (Wada et al. 2024, CVPR): 4,237 captions rated in [0, 1].

    Sample ids are the file's `id` (`val_N`); images are looked for as
    IMAGE_ROOT/IMGID.jpg. The file has no references, so
    reference-based metrics report every sample as unscorable.
    """
    path = require_file(Path(folder) / "polaris_val.json", "polaris")
    samples, ratings = _scalar_rows(path, lambda k, row: str(row.get("id", f"polaris/{k}")), None,
                                    image_root)
    return Benchmark(
        samples=samples, ratings=ratings,
        protocol=[ProtocolStep("kendall_c", "flat")],
        citation="Wada, Kaneda, Saito & Sugiura 2024, Polos: Multimodal Metric Learning from "
                 "Human Feedback for Image Captioning (Polaris dataset), CVPR",
        notes=["no references in this file: reference-based metrics cannot score it"])
