"""A tour of the Python API on examples/ratings.csv: score, correlate, compare.

Run it from the project folder (`python examples/api_tour.py`); every step
prints what it found. The same agreement values come from

    python -m experiments.run_correlation --benchmark mine=examples/ratings.csv \
        --metrics bleu4,rouge_l,cider --out runs/mine

which does all of this (and the report, the figures' data) in one command.
"""
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))   # run as a script from a clone: the project's own packages

import metrics                                                         # noqa: E402
from correlation import compare_metrics, correlate, significance_clusters  # noqa: E402

# --- 1. The ratings: one row per (caption, annotator); the csv module keeps the
# quoted caption's comma and line break as written.
with open(ROOT / "examples" / "ratings.csv", newline="", encoding="utf-8") as fh:
    rows = list(csv.DictReader(fh))
candidates = [r["candidate"] for r in rows]
references = [[r["reference_1"], r["reference_2"]] for r in rows]
human = np.array([float(r["score"]) for r in rows])
images = [r["image"] for r in rows]   # the item each caption describes
print(f"{len(rows)} ratings of {len(set(r['id'] for r in rows))} captions "
      f"of {len(set(images))} images")

# --- 2. Score: one float per candidate (repeated candidates are scored once).
scores = {name: metrics.score(name, candidates, references)
          for name in ("bleu4", "rouge_l", "cider")}
for name, values in scores.items():
    print(f"{name:8s} mean {np.mean(values):.3f}  signature "
          f"{metrics.get_metric(name).signature()}")

# --- 3. Correlate: Kendall tau-c with a BCa interval resampling whole images.
for name, values in scores.items():
    result = correlate(values, human, "kendall_c", items=images, ci_method="bca",
                       n_resamples=1000, seed=0)
    print(result)

# --- 4. Compare two metrics on the same judgments: paired bootstrap of the
# difference and a paired permutation test, both over images.
comparison = compare_metrics(scores["rouge_l"], scores["bleu4"], human, "kendall_c",
                             items=images, names=("rouge_l", "bleu4"), n_resamples=1000,
                             n_permutations=1000, seed=0)
print(f"rouge_l - bleu4: delta {comparison.delta:+.3f} "
      f"[{comparison.ci_low:+.3f}, {comparison.ci_high:+.3f}], p = {comparison.p_value:.3f}")

# --- 5. Significance clusters (1 = best); with 6 images few differences are sure.
clusters = significance_clusters(scores, human, "kendall_c", items=images, seed=0)
for entry in clusters.entries:
    print(f"cluster {entry.cluster}: {entry.metric} (kendall_c {entry.value:.3f})")
