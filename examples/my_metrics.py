"""A metric of your own, registered with `--plugin examples/my_metrics.py`.

`word_overlap`: the share of the candidate's distinct words (lower-cased,
punctuation removed) that appear in at least one reference; 0 for a candidate
with no word in common, 1 for one whose every word is in a reference. A toy
unigram precision, to show the shape of a plugin: a `metrics.Metric` subclass
that scores a chunk of samples, and one `register_metric` call.

    python -m experiments.run_correlation --plugin examples/my_metrics.py \
        --benchmark mine=examples/ratings.csv --metrics word_overlap,bleu4 --out runs/plugin
"""
import re

import numpy as np

import metrics
from metrics import Metric, MetricOutput

WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> set[str]:
    """The distinct lower-cased words of `text`."""
    return set(WORD.findall(text.lower()))


class WordOverlap(Metric):
    """Share of the candidate's distinct words found in the references."""

    name = "word_overlap"
    needs_references = True

    def settings(self) -> dict:
        return {"tokenizer": "lowercase-alnum"}

    def _score_chunk(self, samples):
        scores, failures = [], {}
        for sample in samples:
            candidate = words(sample.candidate)
            if not candidate:
                scores.append(np.nan)
                failures[sample.id] = "the candidate has no word (letters or digits)"
                continue
            in_references = set().union(*(words(r) for r in sample.references))
            scores.append(len(candidate & in_references) / len(candidate))
        return MetricOutput(np.array(scores, dtype=float), failures=failures)


metrics.register_metric("word_overlap", __name__, "WordOverlap")
