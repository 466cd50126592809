"""Scoring on Ray workers gives the local path's scores and streams into the cache.

Runs a Ray started by the test on this machine (127.0.0.1, two CPU workers),
with a tiny random BART that the workers load from its folder (bleu4, which needs
no torch, where the test is about the cache).
"""
from __future__ import annotations

import numpy as np
import pytest

from metrics import (LocalExecutor, Metric, MetricOutput, RayExecutor, Sample, ScoreCache,
                     get_metric, score_with_cache)

ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install .[ray])")


def samples(n: int) -> list[Sample]:
    words = ["a", "dog", "runs", "on", "the", "grass", "cat", "sits", "mat", "red"]
    rng = np.random.default_rng(7)
    return [Sample(f"s{i}", " ".join(rng.choice(words, 4 + i % 3)),
                   (" ".join(rng.choice(words, 5)), " ".join(rng.choice(words, 6))))
            for i in range(n)]


def bart(tiny_bart):
    metric = get_metric("bartscore", model=tiny_bart, batch_size=4)
    metric.chunk_size = 5  # several chunks, so several workers take part
    return metric


@pytest.mark.slow
def test_ray_scores_equal_the_local_path(local_ray, tiny_bart):
    # one actor (its start imports torch); the chunks of two actors, coming back out of
    # order, are put in place in the bleu test below
    data = samples(23)
    local = score_with_cache(bart(tiny_bart), data, None, progress=False,
                             executor=LocalExecutor())[0]
    executor = RayExecutor(workers=1)
    remote = score_with_cache(bart(tiny_bart), data, None, progress=False,
                              executor=executor)[0]
    assert executor.chunks_sent == 5
    np.testing.assert_array_equal(remote.scores, local.scores)
    assert np.isfinite(local.scores).all()


def bleu():
    """A metric without torch: an actor of it starts in a second, not in the seconds
    importing torch takes (its PTB tokenizer is a Java program)."""
    metric = get_metric("bleu4")
    metric.chunk_size = 5
    return metric


@pytest.mark.slow
def test_ray_chunks_stream_into_the_cache_and_are_never_scored_twice(local_ray, tmp_path):
    data = samples(23)
    cache = ScoreCache(tmp_path)
    # A run killed after its first 10 samples were committed ...
    first, stats = score_with_cache(bleu(), data[:10], cache, progress=False,
                                    executor=RayExecutor(workers=2))
    assert stats.computed == 10
    # ... resumes: only the 13 missing samples go to the workers.
    executor = RayExecutor(workers=2)
    resumed, stats = score_with_cache(bleu(), data, cache, progress=False, executor=executor)
    assert (stats.cached, stats.computed) == (10, 13)
    assert executor.chunks_sent == 3  # 13 samples in chunks of 5
    local = score_with_cache(bleu(), data, None, progress=False, executor=LocalExecutor())[0]
    np.testing.assert_array_equal(resumed.scores, local.scores)  # two actors' chunks in place
    assert len(set(local.scores)) > 10
    np.testing.assert_array_equal(resumed.scores[:10], first.scores)
    again, stats = score_with_cache(bleu(), data, cache, progress=False,
                                    executor=RayExecutor(workers=2))
    assert (stats.cached, stats.computed) == (23, 0)
    np.testing.assert_array_equal(again.scores, resumed.scores)


def test_corpus_dependent_metrics_are_scored_on_the_driver(local_ray):
    class CorpusMean(Metric):
        """Each score is its length over the mean length of the call: it cannot be split."""

        name = "corpus_mean"
        corpus_dependent = True
        chunk_size = 2

        def _score_chunk(self, chunk):
            lengths = np.array([len(s.candidate) for s in chunk], dtype=float)
            return MetricOutput(lengths / lengths.mean(), {})

    data = samples(7)
    executor = RayExecutor(workers=2)
    out = score_with_cache(CorpusMean(), data, None, progress=False, executor=executor)[0]
    lengths = np.array([len(s.candidate) for s in data], dtype=float)
    np.testing.assert_allclose(out.scores, lengths / lengths.mean(), rtol=0, atol=1e-15)
    assert executor.chunks_sent == 0


def test_the_default_path_does_not_import_ray():
    import subprocess
    import sys

    code = ("import sys, metrics, experiments.run_correlation as r; "
            "r.executor_for(r.build_parser().parse_args([])); "
            "assert 'ray' not in sys.modules, 'ray imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_whole_call_metrics_go_to_one_worker_whole(local_ray, minilm_folder):
    # bert-score's numbers depend on which sentences share a call (padded,
    # length-sorted batches): split over workers they would differ from the
    # local path's, so the call goes whole to one actor.
    data = samples(9)
    data[4] = Sample("s4", "a dog runs on the grass near a red mat while the cat sits",
                     data[4].references)

    def bert():
        metric = get_metric("bertscore", model=minilm_folder, num_layers=6, batch_size=2)
        metric.chunk_size = 3
        return metric

    local = score_with_cache(bert(), data, None, progress=False, executor=LocalExecutor())[0]
    executor = RayExecutor(workers=2)
    remote = score_with_cache(bert(), data, None, progress=False, executor=executor)[0]
    assert executor.chunks_sent == 1
    np.testing.assert_allclose(remote.scores, local.scores, rtol=0, atol=1e-6)
    np.testing.assert_allclose(remote.extras["P"], local.extras["P"],
                               rtol=0, atol=1e-6)


PAIR_TEMPLATE = """scale: a=0 b=1
image: true
case_sensitive: true
---
{caption} / {emotion}
Reason a: {candidate_a}
Reason b: {candidate_b}
Answer a or b.
"""


@pytest.mark.slow
def test_pairwise_judge_requests_are_spread_over_workers(local_ray, tmp_path):
    from PIL import Image

    from metrics.vlm_judge import VlmJudge
    from tests.helpers.tiny_models import tiny_llava

    tiny_llava(tmp_path / "llava")  # answers in letters, 'a' and 'b' among them
    template = tmp_path / "ab.txt"
    template.write_text(PAIR_TEMPLATE)
    pairs = []
    for i in range(5):
        image = tmp_path / f"img{i}.png"
        Image.new("RGB", (30 + 5 * i, 30), (40 * i, 200 - 30 * i, 90)).save(image)
        context = {"caption": f"Flood number {i}", "emotion": "sadness"}
        a = Sample(f"a{i}", "the water took the street", image=str(image), context=context)
        b = Sample(f"b{i}", f"reason {i}: homes were lost", image=str(image), context=context)
        pairs.append((f"p{i}", a, b))

    def judge(**cache):
        made = VlmJudge(backend="local", model=str(tmp_path / "llava"), device="cpu",
                        batch_size=2, max_tokens=1, pair_template=str(template), **cache)
        made.chunk_size = 3
        return made

    local = judge(response_cache=False).compare(pairs)
    executor = RayExecutor(workers=2)
    remote = judge(cache_dir=str(tmp_path / "answers")).compare(pairs, executor=executor)
    assert executor.chunks_sent == 4  # 10 requests (both orders), 3 per task
    assert remote.failures == local.failures == {}
    np.testing.assert_allclose(remote.prob_b_better, local.prob_b_better, rtol=0, atol=1e-6)
    for order in ("ab", "ba"):  # the tiny model all but always writes 'a': compare closely
        np.testing.assert_allclose(remote.per_order[order]["prob_b_better"],
                                   local.per_order[order]["prob_b_better"], rtol=1e-5, atol=0)
    slot_b = local.per_order["ab"]["prob_b_better"]
    assert (slot_b > 0).all() and len(set(slot_b.round(35))) == 5  # each pair its own answer
    # every answer was cached on the driver as its task came back
    again = RayExecutor(workers=2)
    cached = judge(cache_dir=str(tmp_path / "answers")).compare(pairs, executor=again)
    assert again.chunks_sent == 0
    np.testing.assert_array_equal(cached.prob_b_better, remote.prob_b_better)
