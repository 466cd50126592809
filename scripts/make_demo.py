"""Write the bundled demo benchmark (experiments/socratis/demo_data) with a fixed seed.

ILLUSTRATIVE DATA for a smoke run: the images are drawn shapes, the news
captions are invented, the reasons and the verdicts are made up by the rules
below. No number computed on it says anything about any metric.

The rules are chosen so that the demo looks like a study, not a constant:
four workers write each item's reasons in different styles; each machine
reason is one of five kinds, which people (simulated annotators) like to
different degrees and which different metrics reward differently:

- `specific`:   the story's detail and the workers' explanation, verbatim
- `paraphrase`: the story's detail and the explanation in other words
                (METEOR's synonyms and stems see it, BLEU-4 hardly)
- `verbatim`:   the explanation, verbatim, without the story's detail
- `keywords`:   the story's words without an explanation (unigram and
                CIDEr's rare-word matches like it; people do not)
- `generic`:    a sentence that fits any story

The two generators draw the kinds with different odds (the image-grounded
one writes more `specific` and `paraphrase` reasons), and three simulated
annotators judge each pair, agreeing with each other most of the time.

Run: python scripts/make_demo.py
"""
from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "experiments" / "socratis" / "demo_data"
SEED = 20232

# caption, two emotions, the story's detail as a person would name it
STORIES = [
    ("Flood waters rise over the main street of a river town", "worried", "sad",
     "the flooded main street"),
    ("Volunteers plant a thousand trees in a burned forest", "hopeful", "happy",
     "volunteers planting young trees"),
    ("A stray dog is adopted by the fire station that rescued it", "happy", "amused",
     "the firefighters with their new dog"),
    ("Factory closes its doors after ninety years, leaving 400 jobless", "sad", "angry",
     "the locked factory gates"),
    ("Local team wins its first championship in three decades", "excited", "proud",
     "the players lifting the trophy"),
    ("Protesters clash with police outside the parliament", "angry", "scared",
     "police lines facing the protesters"),
    ("Grandmother graduates from college at the age of 82", "inspired", "happy",
     "the grandmother in her graduation gown"),
    ("Wildfire smoke turns the city sky orange", "scared", "worried",
     "the orange sky over the city"),
    ("Children return to a rebuilt school after the earthquake", "hopeful", "relieved",
     "children walking into the rebuilt school"),
    ("Oil spill coats the beach where seabirds nest", "angry", "sad",
     "seabirds covered in black oil"),
    ("Astronauts return safely after six months in orbit", "relieved", "proud",
     "the astronauts stepping out of the capsule"),
    ("Rising rents push families out of the old quarter", "frustrated", "sad",
     "families carrying boxes out of their flats"),
    ("A street musician draws a crowd in the rain", "calm", "happy",
     "the crowd listening under umbrellas"),
    ("Hospital staff cheer as the last patient leaves the ward", "relieved", "grateful",
     "nurses clapping in the empty ward"),
    ("Drought leaves farmers with empty fields", "worried", "sad",
     "cracked soil in the empty fields"),
    ("A new bridge opens after years of delays", "satisfied", "annoyed",
     "the first cars crossing the new bridge"),
    ("Neighbours clear snow for an elderly resident", "grateful", "happy",
     "neighbours shovelling snow from her path"),
    ("Tornado flattens a row of houses overnight", "scared", "sad",
     "the flattened row of houses"),
    ("Museum returns looted statues to their home country", "proud", "happy",
     "the statues arriving home in crates"),
    ("Commuters stranded as the rail strike enters its third day", "annoyed", "frustrated",
     "crowds waiting on the empty platform"),
    ("Rescue dogs find survivors under the rubble", "relieved", "hopeful",
     "the rescue dogs digging in the rubble"),
    ("Record heat closes schools across the region", "worried", "uncomfortable",
     "the closed school gates in the heat"),
    ("A boy reunites with his family after a long search", "happy", "moved",
     "the boy hugging his mother"),
    ("Coral reef bleaching spreads along the coast", "sad", "worried",
     "the white bleached coral"),
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

# The same explanations in other words (synonyms and other forms of the same stems).
PARAPHRASE = {
    "worried": "residents might lose their houses and be unsafe",
    "sad": "many lives were harmed by something nobody could prevent",
    "hopeful": "things improve when communities cooperate",
    "happy": "good news unites people",
    "amused": "the tale is cute and slightly comic",
    "angry": "the damage was preventable by the people responsible",
    "excited": "the town waited a long time for such a moment",
    "proud": "it took many years of hard work to achieve",
    "scared": "the scene seems unsafe and uncontrolled",
    "inspired": "it shows learning is possible at any age",
    "relieved": "the threat has ended and everyone is safe",
    "frustrated": "regular people suffer for choices made by others",
    "calm": "the song makes a gloomy day feel quiet",
    "grateful": "people looked after one another when needed",
    "satisfied": "the job is done at last and helpful",
    "annoyed": "it lasted much longer than promised",
    "uncomfortable": "the heat makes learning too hard for kids",
    "moved": "his family kept searching and never quit",
}

HUMAN_STYLES = [
    "I feel {e} because {why}.",
    "Seeing {detail} makes me {e}, because {why}.",
    "{Detail} shows that {para}.",
    "It is {e} to look at {detail}.",
]

GENERIC = ["I feel {e} because of the picture.", "The image makes people feel {e}.",
           "A person feels {e} when they see this news."]

KINDS = ["specific", "paraphrase", "verbatim", "keywords", "generic"]
MACHINE = {
    "specific": "They feel {e} because of {detail}: {why}.",
    "paraphrase": "Looking at {detail}, one feels {e} since {para}.",
    "verbatim": "They feel {e} because {why}.",
    "keywords": "{e} {caption_words}.",
    "generic": None,  # one of GENERIC
}
# Odds of each kind per generator: the image-grounded one is more specific.
GENERATORS = {"blip2-flan-t5-xl": [0.3, 0.3, 0.15, 0.15, 0.1],
              "flan-t5-xl-text-only": [0.1, 0.1, 0.35, 0.2, 0.25]}
# The simulated annotators' odds of (human, machine, both_good, both_bad) per kind.
VERDICT_ODDS = {"specific": [0.2, 0.35, 0.4, 0.05], "paraphrase": [0.1, 0.5, 0.35, 0.05],
                "verbatim": [0.55, 0.15, 0.25, 0.05], "keywords": [0.75, 0.05, 0.0, 0.2],
                "generic": [0.8, 0.05, 0.0, 0.15]}
VERDICTS = ["human", "machine", "both_good", "both_bad"]
ANNOTATORS = ["ann1", "ann2", "ann3"]
AGREE = 0.7  # chance that an annotator gives the pair's consensus verdict


def draw_image(path: Path, rng: random.Random) -> None:
    img = Image.new("RGB", (96, 96), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(2, 5)):
        box = sorted(rng.sample(range(96), 2)), sorted(rng.sample(range(96), 2))
        color = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice([draw.rectangle, draw.ellipse])
        shape([box[0][0], box[1][0], box[0][1], box[1][1]], fill=color)
    img.save(path, optimize=True)


def fill(template: str, emotion: str, detail: str, caption: str) -> str:
    words = " ".join(w.strip(",.").lower() for w in caption.split() if len(w) > 4)
    return template.format(e=emotion, why=WHY[emotion], para=PARAPHRASE[emotion], detail=detail,
                           Detail=detail[0].upper() + detail[1:], caption_words=words)


def human_reasons(rng: random.Random, caption: str, first: str, second: str, detail: str):
    """Four workers: 0 and 2 write about the first emotion, 3 about the second, 1 about
    both; each in a different style, so no two reasons of an item are the same text."""
    styles = rng.sample(HUMAN_STYLES, 4)
    plan = {0: [first], 1: [first, second], 2: [first], 3: [second]}
    workers = []
    for w, emotions in plan.items():
        reasons = [fill(styles[(w + k) % 4], e, detail, caption) for k, e in enumerate(emotions)]
        workers.append((emotions, reasons))
    return workers


def machine_reason(rng: random.Random, kind: str, emotion: str, detail: str, caption: str) -> str:
    template = MACHINE[kind] or rng.choice(GENERIC)
    text = fill(template, emotion, detail, caption)
    return text[0].upper() + text[1:]


def verdicts_for(rng: random.Random, kind: str) -> list[str]:
    consensus = rng.choices(VERDICTS, VERDICT_ODDS[kind])[0]
    return [consensus if rng.random() < AGREE else rng.choices(VERDICTS, VERDICT_ODDS[kind])[0]
            for _ in ANNOTATORS]


def main() -> None:
    rng = random.Random(SEED)
    (OUT / "images").mkdir(parents=True, exist_ok=True)
    official, generations, study = {}, [], []
    for i, (caption, first, second, detail) in enumerate(STORIES):
        item_id = f"demo{i:02d}"
        image = f"{item_id}.png"
        draw_image(OUT / "images" / image, rng)
        workers = human_reasons(rng, caption, first, second, detail)
        official[item_id] = [
            [image, caption, emotions + [""] * (3 - len(emotions)),
             reasons + [""] * (3 - len(reasons)),
             {"age": rng.choice(["18-24", "25-34", "35-44"])} if w != 2 else None]
            for w, (emotions, reasons) in enumerate(workers)]
        for emotion in (first, second):
            written = [r for emotions, reasons in workers for e, r in zip(emotions, reasons)
                       if e == emotion]
            for generator, odds in GENERATORS.items():
                kind = rng.choices(KINDS, odds)[0]
                reason = machine_reason(rng, kind, emotion, detail, caption)
                generations.append({"item_id": item_id, "emotion": emotion,
                                    "generator": generator, "reason": reason})
                pair_id = f"pair{len(study) // len(ANNOTATORS):03d}"
                human = rng.choice(written)
                for annotator, verdict in zip(ANNOTATORS, verdicts_for(rng, kind)):
                    study.append({"pair_id": pair_id, "item_id": item_id, "emotion": emotion,
                                  "human_reason": human, "machine_reason": reason,
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
