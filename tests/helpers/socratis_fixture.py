"""A small Socratis-format folder written by the tests, with the release's quirks.

Two items. Item "101" has three workers:
- worker 0: slot 0 "sad" with a reason, slot 1 "" / "", slot 2 null / null,
  demographics present;
- worker 1: slot 0 "Saddness " (misspelled, padded: kept as "saddness"),
  slot 1 "angry"; no demographics at all (a four-element entry);
- worker 2: slot 0 "sad" with exactly worker 0's reason (a reason repeated by
  two workers), demographics null.
Item "202" has two workers, one emotion each ("happy", "proud"; worker 1
also "happy").

generations.jsonl: two generators ("blip2", "text-only") for ("101", "sad")
and ("202", "happy").
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from PIL import Image

SAD = "The water took their homes and nobody came to help."
SAD_1 = "It looks like they lost everything they had."
ANGRY = "Someone should have built the levee years ago."
HAPPY_0 = "Everyone on the field is smiling and hugging."
HAPPY_1 = "They finally won after all those years."
PROUD = "The small town team beat the big city club."

OFFICIAL = {
    "101": [
        ["flood.png", "Floodwater reaches the town square",
         ["sad", "", None], [SAD, "", None], {"age": "25-34"}],
        ["flood.png", "Floodwater reaches the town square",
         ["Saddness ", "angry", None], [SAD_1, ANGRY, None]],
        ["flood.png", "Floodwater reaches the town square",
         ["sad", None, None], [SAD, None, None], None],
    ],
    "202": [
        ["final.png", "Local team wins the championship",
         ["happy", "proud", ""], [HAPPY_0, PROUD, ""], {"age": "35-44"}],
        ["final.png", "Local team wins the championship",
         ["happy", "", ""], [HAPPY_1, "", ""], {}],
    ],
}

GENERATIONS = [
    {"item_id": "101", "emotion": "sad", "generator": "blip2",
     "reason": "They feel sad because the flood destroyed the houses."},
    {"item_id": "101", "emotion": "sad", "generator": "text-only",
     "reason": "They feel sad because of the news."},
    {"item_id": "202", "emotion": "happy", "generator": "blip2",
     "reason": "They feel happy because the team won the final."},
    {"item_id": "202", "emotion": "happy", "generator": "text-only",
     "reason": "They feel happy because it is good news."},
]

STUDY_COLUMNS = ["pair_id", "item_id", "emotion", "human_reason", "machine_reason",
                 "generator", "verdict", "annotator"]


def write_socratis(folder: Path, study: list[dict] | None = None,
                   generations: list[dict] | None = GENERATIONS) -> Path:
    """Write the official JSON, two images, generations.jsonl and (if given) human_study.csv."""
    folder = Path(folder)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 24), (30, 60, 200)).save(folder / "images" / "flood.png")
    Image.new("RGB", (24, 32), (220, 180, 20)).save(folder / "images" / "final.png")
    (folder / "imCaptionEmotionExplanation_formatted.json").write_text(
        json.dumps(OFFICIAL, indent=1))
    if generations is not None:
        with open(folder / "generations.jsonl", "w") as f:
            for row in generations:
                f.write(json.dumps(row) + "\n")
    if study is not None:
        write_study(folder / "human_study.csv", study)
    return folder


def write_study(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=STUDY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def study_row(pair_id: str, verdict: str, annotator: str, item_id: str = "101",
              emotion: str = "sad", human_reason: str = SAD,
              machine_reason: str | None = None, generator: str = "blip2") -> dict:
    machine_reason = machine_reason or f"machine reason of {pair_id}"
    return {"pair_id": pair_id, "item_id": item_id, "emotion": emotion,
            "human_reason": human_reason, "machine_reason": machine_reason,
            "generator": generator, "verdict": verdict, "annotator": annotator}


def paper_counts_rows() -> list[dict]:
    """One annotator per pair with the paper's verdict counts: 223 human,
    91 machine, 47 both good, 11 both bad (372 pairs)."""
    verdicts = ["human"] * 223 + ["machine"] * 91 + ["both_good"] * 47 + ["both_bad"] * 11
    return [study_row(f"p{i:03d}", v, "a1", machine_reason=f"machine reason {i}")
            for i, v in enumerate(verdicts)]
