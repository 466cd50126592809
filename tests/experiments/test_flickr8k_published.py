"""Flickr8k-Expert and -CF reproduce the CLIPScore paper's Table 1 (x100, one decimal).

Published (Hessel et al. 2021, Table 1): Expert tau-c / CF tau-b for
BLEU-1 32.3 / 17.9, BLEU-4 30.8 / 16.9, ROUGE-L 32.3 / 19.9,
METEOR 41.8 / 22.3, CIDEr 43.9 / 24.6.

BLEU-4, ROUGE-L and CIDEr are the scores of the Flickr8k golden run
(`flickr8k_golden_run`, tests/conftest.py), which scores them with the same
metrics; BLEU-1 and METEOR are scored here (METEOR by one object for both
benchmarks: its Java starts once).
"""
from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pytest

from correlation import kendall_tau
from experiments.benchmarks.base import scores_for
from experiments.benchmarks.flickr8k import load_cf, load_expert, load_expert_json
from metrics import ScoreCache, get_metric, score_with_cache

PUBLISHED = {
    "flickr8k-expert": {"bleu1": 32.3, "bleu4": 30.8, "rouge_l": 32.3, "meteor": 41.8, "cider": 43.9},
    "flickr8k-cf": {"bleu1": 17.9, "bleu4": 16.9, "rouge_l": 19.9, "meteor": 22.3, "cider": 24.6},
}
FROM_THE_GOLDEN_RUN = ("bleu4", "rouge_l", "cider")


@pytest.fixture(scope="module")
def expert(shared_data):
    return load_expert(shared_data / "flickr8k")


@pytest.fixture(scope="module")
def cf(shared_data):
    return load_cf(shared_data / "flickr8k")


def test_expert_rows_follow_the_clipscore_procedure(expert):
    assert len(expert.samples) == 5664 and len(expert.ratings) == 16992
    assert set(expert.ratings.annotators) == {"expert1", "expert2", "expert3"}
    assert all(s.candidate not in s.references for s in expert.samples)


def test_cf_rows_and_pruned_references(cf, shared_data):
    """Recount from the raw files: share = yes / (yes + no); each image's
    references lose one copy of every judged candidate's text (a caption
    written twice for one image keeps its second copy, as in the CLIPScore
    preprocessing that gives the published 24.6)."""
    folder = shared_data / "flickr8k"
    tokens = dict(line.rstrip("\n").split("\t") for line in
                  open(folder / "Flickr8k.token.txt", encoding="utf-8") if line.strip())
    by_image: dict[str, list[str]] = {}
    for caption_id, text in tokens.items():
        by_image.setdefault(caption_id.split(".")[0], []).append(text)
    raw = [line.rstrip("\n").split("\t") for line in
           open(folder / "CrowdFlowerAnnotations.txt", encoding="utf-8") if line.strip()]
    expected_refs: dict[str, Counter] = {}
    for image, caption_id, _, _, _ in raw:
        refs = expected_refs.setdefault(image, Counter(by_image[image.split(".")[0]]))
        if refs[tokens[caption_id]] > 0:
            refs[tokens[caption_id]] -= 1
    assert len(cf.samples) == 47830 and len(cf.ratings) == 47830
    for sample, value, (image, caption_id, _, yes, no) in zip(cf.samples, cf.ratings.values, raw):
        assert sample.id == f"{image}/{caption_id}"
        assert sample.candidate == tokens[caption_id]
        assert Counter(sample.references) == +expected_refs[image], sample.id
        assert value == pytest.approx(int(yes) / (int(yes) + int(no)), abs=1e-12)


def test_json_layout_gives_the_same_rows(shared_data, expert):
    from_json = load_expert_json(shared_data / "flickr8k" / "flickr8k_expert.json")
    assert sorted(from_json.ratings.values) == sorted(expert.ratings.values)
    assert sorted(s.candidate for s in from_json.samples) == sorted(s.candidate for s in expert.samples)


@pytest.fixture(scope="module")
def golden_run_scores(flickr8k_golden_run):
    """(benchmark, metric) -> sample id -> score, as the golden run wrote them (exactly:
    scores.csv holds each float's repr)."""
    scores: dict[tuple[str, str], dict[str, float]] = {}
    with open(flickr8k_golden_run / "scores.csv", newline="") as f:
        for row in csv.DictReader(f):
            scores.setdefault((row["benchmark"], row["metric"]), {})[row["sample_id"]] = \
                float(row["score"])
    return scores


@pytest.fixture(scope="module")
def meteor():
    """Left running: its Java process (one per Python process, metrics.ngram) is the one
    test_golden_outputs' demo run uses next on this worker (`worker_group`), which
    saves a start (about 10 s of CPU, loading the paraphrase tables)."""
    return get_metric("meteor")


@pytest.fixture(scope="module")
def bleu1_scores(expert, cf, flickr8k_golden_run, tmp_path_factory):
    """BLEU-1 of both benchmarks through an empty score cache, Expert first, as the
    golden run scores BLEU-4: the chunks are the same, and BLEU-1..4 of one chunk share
    one run, which this process still holds (metrics.ngram)."""
    cache, metric = ScoreCache(tmp_path_factory.mktemp("bleu1-cache")), get_metric("bleu1")
    yield {name: score_with_cache(metric, bench.samples, cache, progress=False)[0].scores
           for name, bench in (("flickr8k-expert", expert), ("flickr8k-cf", cf))}
    cache.close()


@pytest.mark.slow
@pytest.mark.parametrize("bench_name,variant", [("flickr8k-expert", "c"), ("flickr8k-cf", "b")])
def test_published_correlations(bench_name, variant, expert, cf, golden_run_scores,
                                bleu1_scores, meteor):
    bench = expert if bench_name == "flickr8k-expert" else cf
    index = bench.sample_index()
    for metric, published in PUBLISHED[bench_name].items():
        if metric in FROM_THE_GOLDEN_RUN:
            by_id = golden_run_scores[bench_name, metric]
            assert len(by_id) == len(bench.samples), (bench_name, metric)
            scores = np.array([by_id[s.id] for s in bench.samples])
        elif metric == "bleu1":
            scores = bleu1_scores[bench_name]
        else:
            scores = meteor.score(bench.samples).scores
        tau = kendall_tau(scores_for(bench.ratings.sample_ids, index, scores),
                          bench.ratings.values, variant=variant)
        assert round(100 * tau, 1) == published, (bench_name, metric, 100 * tau)
