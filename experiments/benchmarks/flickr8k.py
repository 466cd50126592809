"""Flickr8k-Expert and Flickr8k-CF (Hodosh, Young & Hockenmaier 2013, JAIR 47).

Read from the raw text release (`ExpertAnnotations.txt`,
`CrowdFlowerAnnotations.txt`, `Flickr8k.token.txt`) with the procedure of the
CLIPScore paper (Hessel et al. 2021, arXiv:2104.08718):

- Expert: a candidate caption that is one of its image's own five
  references is skipped; every other caption keeps one row per expert
  rating (three rows, ratings 1-4). Standard number: Kendall tau-c over all
  rows (16,992), the metric score repeated on each of a caption's rows.
- CF: the human score is the share of yes votes (column 3); a candidate that
  is one of its image's references is removed from that image's references,
  for every candidate of that image (as the CLIPScore release's
  preprocessing leaves them).
  Standard number: Kendall tau-b over all 47,830 rows.

A candidate caption id (`IMAGE.jpg#N`) is judged against several images, so
a sample id joins the judged image and the caption id:
`JUDGED.jpg/CAPTION.jpg#N`.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from metrics import Sample

from .base import Benchmark, DataError, ProtocolStep, Ratings
from .files import (as_list, as_number, as_object, as_optional_text, as_text, as_texts, field,
                    parse_number, read_json, require_file, tsv_rows)

CITATION = ("Hodosh, Young & Hockenmaier 2013, Framing Image Description as a Ranking "
            "Task, JAIR 47; protocol of Hessel et al. 2021, CLIPScore, EMNLP")


def image_key(image: str) -> str:
    """The image name before its first dot: the release has one caption filed
    under `2258277193_586949ec62.jpg.1`, which belongs to that image."""
    return image.split(".")[0]


def read_references(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """image key -> [(caption id, caption)] from Flickr8k.token.txt."""
    path = require_file(folder / "Flickr8k.token.txt", "flickr8k references")
    refs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for number, (caption_id, text) in tsv_rows(path, 2):
        if "#" not in caption_id:
            raise DataError(f"{path}:{number}: caption id {caption_id!r} has no '#N' suffix")
        if not text.strip():
            raise DataError(f"{path}:{number}: empty caption for {caption_id}")
        refs[image_key(caption_id.rsplit("#", 1)[0])].append((caption_id, text))
    return refs


def judged_image(sample_id: str) -> str:
    """The judged image's key (file name before its first dot) of a sample id,
    in either id form (`JUDGED.jpg/CAPTION.jpg#N` or `IMAGE_ID#K`)."""
    head = sample_id.split("/", 1)[0] if "/" in sample_id else sample_id.rsplit("#", 1)[0]
    return image_key(head)


def _image_path(image_root: str | None, image: str) -> str | None:
    return str(Path(image_root) / image) if image_root else None


def _captions(refs: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    return {cid: text for pairs in refs.values() for cid, text in pairs}


def load_expert(folder: Path, image_root: str | None = None) -> Benchmark:
    """Flickr8k-Expert from the raw release, or from flickr8k_expert.json."""
    folder = Path(folder)
    raw = folder / "ExpertAnnotations.txt"
    if not raw.is_file() and (folder / "flickr8k_expert.json").is_file():
        return load_expert_json(folder / "flickr8k_expert.json", image_root)
    require_file(raw, "flickr8k-expert")
    refs = read_references(folder)
    captions = _captions(refs)
    samples, ids, values, items, annotators = [], [], [], [], []
    skipped = 0
    for number, (image, caption_id, *ratings) in tsv_rows(raw, 5):
        if caption_id not in captions:
            raise DataError(f"{raw}:{number}: caption id {caption_id!r} not in Flickr8k.token.txt")
        if image_key(image) not in refs:
            raise DataError(f"{raw}:{number}: image {image!r} has no references")
        candidate = captions[caption_id]
        references = [text for _, text in refs[image_key(image)]]
        if candidate in references:
            skipped += 1
            continue
        sample_id = f"{image}/{caption_id}"
        samples.append(Sample(sample_id, candidate, tuple(references),
                              _image_path(image_root, image)))
        for k, rating in enumerate(ratings):
            value = parse_number(rating, f"{raw}:{number}", "rating", low=1, high=4)
            ids.append(sample_id)
            values.append(value)
            items.append(image)
            annotators.append(f"expert{k + 1}")
    return _expert_benchmark(samples, ids, values, items, annotators,
                             f"{skipped} candidates that are one of their image's own references "
                             "skipped")


def load_expert_json(path: Path, image_root: str | None = None) -> Benchmark:
    """Flickr8k-Expert in the CLIPScore release's JSON layout.

    Sample ids are `IMAGE_ID#K`, K numbering the image's distinct captions in
    the order they first appear (the layout carries no caption ids).
    """
    data = as_object(read_json(path), str(path), "the file (an object keyed by image id)")
    if not data:
        raise DataError(f"{path}: no images")
    samples, ids, values, items, annotators = [], [], [], [], []
    rows_per_sample: dict[str, int] = defaultdict(int)
    for image_id, entry in data.items():
        where = f"{path}: image {image_id!r}"
        refs = as_texts(field(entry, "ground_truth", where), where, "ground_truth")
        judgements = as_list(field(entry, "human_judgement", where), where, "human_judgement",
                             nonempty=True)
        entry_image = as_optional_text(entry.get("image_path"), where, "image_path")
        seen: dict[str, str] = {}
        for row_number, row in enumerate(judgements):
            where = f"{path}: image {image_id!r}, judgement {row_number}"
            caption = as_text(field(row, "caption", where), where, "caption", nonempty=True)
            value = as_number(field(row, "rating", where), where, "rating", low=1, high=4)
            if caption not in seen:
                seen[caption] = f"{image_id}#{len(seen)}"
                image = as_optional_text(row.get("image_path"), where, "image_path") or entry_image
                samples.append(Sample(seen[caption], caption, refs,
                                      _image_path(image_root, Path(image).name) if image else None))
            ids.append(seen[caption])
            values.append(value)
            items.append(image_id)
            rows_per_sample[seen[caption]] += 1
            annotators.append(f"expert{rows_per_sample[seen[caption]]}")
    return _expert_benchmark(samples, ids, values, items, annotators,
                             f"read from {path.name} (JSON layout)")


def _expert_benchmark(samples, ids, values, items, annotators, note: str) -> Benchmark:
    """Flickr8k-Expert from either layout: tau-c over every expert rating."""
    return Benchmark(
        samples=samples,
        ratings=Ratings(ids, np.array(values), items=items, annotators=annotators),
        protocol=[ProtocolStep("kendall_c", "flat")], citation=CITATION, notes=[note])


def load_cf(folder: Path, image_root: str | None = None) -> Benchmark:
    """Flickr8k-CF: share of CrowdFlower yes votes per (image, caption) pair."""
    folder = Path(folder)
    raw = require_file(folder / "CrowdFlowerAnnotations.txt", "flickr8k-cf")
    refs = read_references(folder)
    captions = _captions(refs)
    rows = []
    references: dict[str, list[str]] = {}
    for number, (image, caption_id, share, yes, no) in tsv_rows(raw, 5):
        if caption_id not in captions:
            raise DataError(f"{raw}:{number}: caption id {caption_id!r} not in Flickr8k.token.txt")
        if image_key(image) not in refs:
            raise DataError(f"{raw}:{number}: image {image!r} has no references")
        where = f"{raw}:{number}"
        value = parse_number(share, where, "share of yes votes", low=0, high=1)
        for votes in (yes, no):
            if not votes.strip().isdigit():
                raise DataError(f"{where}: vote count {votes!r} is not a whole number")
        candidate = captions[caption_id]
        image_refs = references.setdefault(image, [text for _, text in refs[image_key(image)]])
        if candidate in image_refs:
            image_refs.remove(candidate)
        rows.append((image, caption_id, candidate, value))
    pruned = sum(len(refs[image_key(i)]) - len(r) for i, r in references.items())
    samples, ids, values, items = [], [], [], []
    for image, caption_id, candidate, value in rows:
        sample_id = f"{image}/{caption_id}"
        samples.append(Sample(sample_id, candidate, tuple(references[image]),
                              _image_path(image_root, image)))
        ids.append(sample_id)
        values.append(value)
        items.append(image)
    return Benchmark(
        samples=samples,
        ratings=Ratings(ids, np.array(values), items=items),
        protocol=[ProtocolStep("kendall_b", "flat")], citation=CITATION,
        notes=[f"{pruned} references removed because they are judged candidates of their image"])
