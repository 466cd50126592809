"""Write the bundled demo benchmark (experiments/socratis/demo_data) with a fixed seed.

ILLUSTRATIVE DATA for a smoke run: the images are drawn shapes, the news
captions are invented, the reasons and the verdicts are made up by the rules
below. No number computed on it says anything about any metric.

Run: python scripts/make_demo.py
"""
from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "experiments" / "data" / "demo"
SEED = 20231

STORIES = [
    ("Flood waters rise over the main street of a river town", "worried", "sad"),
    ("Volunteers plant a thousand trees in a burned forest", "hopeful", "happy"),
    ("A stray dog is adopted by the fire station that rescued it", "happy", "amused"),
    ("Factory closes its doors after ninety years, leaving 400 jobless", "sad", "angry"),
    ("Local team wins its first championship in three decades", "excited", "proud"),
    ("Protesters clash with police outside the parliament", "angry", "scared"),
    ("Grandmother graduates from college at the age of 82", "inspired", "happy"),
    ("Wildfire smoke turns the city sky orange", "scared", "worried"),
    ("Children return to a rebuilt school after the earthquake", "hopeful", "relieved"),
    ("Oil spill coats the beach where seabirds nest", "angry", "sad"),
    ("Astronauts return safely after six months in orbit", "relieved", "proud"),
    ("Rising rents push families out of the old quarter", "frustrated", "sad"),
    ("A street musician draws a crowd in the rain", "calm", "happy"),
    ("Hospital staff cheer as the last patient leaves the ward", "relieved", "grateful"),
    ("Drought leaves farmers with empty fields", "worried", "sad"),
    ("A new bridge opens after years of delays", "satisfied", "annoyed"),
    ("Neighbours clear snow for an elderly resident", "grateful", "happy"),
    ("Tornado flattens a row of houses overnight", "scared", "sad"),
    ("Museum returns looted statues to their home country", "proud", "happy"),
    ("Commuters stranded as the rail strike enters its third day", "annoyed", "frustrated"),
    ("Rescue dogs find survivors under the rubble", "relieved", "hopeful"),
    ("Record heat closes schools across the region", "worried", "uncomfortable"),
    ("A boy reunites with his family after a long search", "happy", "moved"),
    ("Coral reef bleaching spreads along the coast", "sad", "worried"),
]

REASON_TEMPLATES = [
    "I feel {e} because {why}.",
    "It makes me {e} to see that {why}.",
    "Seeing this I am {e}: {why}.",
]

WHY = {
    "worried": "people could lose their homes and their safety",
    "sad": "so many lives are hurt by something they could not stop",
    "hopeful": "it shows that things can get better when people work together",
    "happy": "it is good news that brings people together",
    "amused": "the story is sweet and a little funny",
    "angry": "this harm could have been prevented by those in charge",
    "excited": "the whole town has waited so long for this moment",
    "proud": "it is an achievement that took years of effort",
    "scared": "the situation looks dangerous and out of control",
    "inspired": "it proves it is never too late to learn",
    "relieved": "the danger is over and people are safe again",
    "frustrated": "ordinary people pay for decisions they did not make",
    "calm": "the music makes a grey day feel peaceful",
    "grateful": "people took care of each other when it mattered",
    "satisfied": "the work is finally finished and useful",
    "annoyed": "it took far longer than anyone promised",
    "uncomfortable": "the heat is too much for children to learn",
    "moved": "the family never gave up looking for him",
}

GENERIC = ["I feel {e} because of the picture.", "The image makes people {e}.",
           "A person feels {e} when they see the news."]

GENERATORS = ["blip2-flan-t5-xl", "flan-t5-xl-text-only"]


def draw_image(path: Path, rng: random.Random) -> None:
    img = Image.new("RGB", (96, 96), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(2, 5)):
        box = sorted(rng.sample(range(96), 2)), sorted(rng.sample(range(96), 2))
        color = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice([draw.rectangle, draw.ellipse])
        shape([box[0][0], box[1][0], box[0][1], box[1][1]], fill=color)
    img.save(path, optimize=True)


def human_reason(rng: random.Random, emotion: str) -> str:
    return rng.choice(REASON_TEMPLATES).format(e=emotion, why=WHY[emotion])


def main() -> None:
    rng = random.Random(SEED)
    (OUT / "images").mkdir(parents=True, exist_ok=True)
    official, generations, study = {}, [], []
    for i, (caption, first, second) in enumerate(STORIES):
        item_id = f"demo{i:02d}"
        image = f"{item_id}.png"
        draw_image(OUT / "images" / image, rng)
        workers = []
        for w in range(3):
            emotions = [first, second if w == 1 else "", None]
            reasons = [human_reason(rng, first), human_reason(rng, second) if w == 1 else "", None]
            demographics = {"age": rng.choice(["18-24", "25-34", "35-44"])} if w != 2 else None
            workers.append([image, caption, emotions, reasons, demographics])
        official[item_id] = workers
        for g, generator in enumerate(GENERATORS):
            grounded = rng.random() < (0.6 if g == 0 else 0.35)
            reason = (f"They feel {first} because {WHY[first]}." if grounded
                      else rng.choice(GENERIC).format(e=first))
            generations.append({"item_id": item_id, "emotion": first,
                                "generator": generator, "reason": reason})
            pair_id = f"pair{len(study) // 2:03d}"
            for annotator in ("ann1", "ann2"):
                roll = rng.random()
                if grounded:
                    verdict = ("both_good" if roll < 0.45 else "machine" if roll < 0.75
                               else "human" if roll < 0.95 else "both_bad")
                else:
                    verdict = "human" if roll < 0.8 else "both_bad" if roll < 0.9 else "machine"
                study.append({"pair_id": pair_id, "item_id": item_id, "emotion": first,
                              "human_reason": workers[0][3][0], "machine_reason": reason,
                              "generator": generator, "verdict": verdict,
                              "annotator": annotator})
    (OUT / "imCaptionEmotionExplanation_formatted.json").write_text(
        json.dumps(official, indent=1) + "\n")
    with open(OUT / "generations.jsonl", "w") as f:
        for row in generations:
            f.write(json.dumps(row) + "\n")
    with open(OUT / "human_study.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(study[0]))
        writer.writeheader()
        writer.writerows(study)
    print(f"wrote {len(official)} items, {len(generations)} generations, "
          f"{len(study)} verdicts to {OUT}")


if __name__ == "__main__":
    main()
