"""BERTScore equals bert_score.score with the same settings (real MiniLM, tiny RoBERTa)."""
from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from metrics import MetricError, Sample, get_metric
from metrics.bert_score import BertScore

LAYERS = 4  # chosen explicitly: bert-score has no tuned layer for a local folder


def _samples():
    return [
        Sample("a", "a dog runs across the grass",
               ("a dog is running on the grass", "the dog plays outside")),
        Sample("b", "two people walk along the beach",
               ("people walking by the sea", "two persons on a beach", "a beach at dusk")),
        Sample("c", "a red car parked on the street", ("a red vehicle on a road",)),
        Sample("d", "a child eats an ice cream", ("a kid with ice cream", "a child eating")),
    ]


def _direct(samples, folder, **kw):
    import bert_score

    kw.setdefault("num_layers", LAYERS)
    p, r, f = bert_score.score([s.candidate for s in samples],
                               [list(s.references) for s in samples],
                               model_type=folder, device="cpu", **kw)
    return p.numpy(), r.numpy(), f.numpy()


@pytest.mark.parametrize("idf", [False, True])
def test_equals_bert_score_score_with_same_settings(minilm_folder, idf):
    samples = _samples()
    metric = BertScore(model=minilm_folder, num_layers=LAYERS, idf=idf)
    assert metric.corpus_dependent is idf
    out = metric.score(samples)
    p, r, f = _direct(samples, minilm_folder, idf=idf)
    np.testing.assert_allclose(out.scores, f, rtol=0, atol=1e-6)
    np.testing.assert_allclose(out.extras["P"], p, rtol=0, atol=1e-6)
    np.testing.assert_allclose(out.extras["R"], r, rtol=0, atol=1e-6)
    assert not out.failures


def test_several_references_take_the_best(minilm_folder):
    s = _samples()[1]
    out = BertScore(model=minilm_folder, num_layers=LAYERS).score([s])
    singles = [_direct([Sample("x", s.candidate, (ref,))], minilm_folder) for ref in s.references]
    for k, name in enumerate(["P", "R"]):
        np.testing.assert_allclose(out.extras[name][0], max(x[k][0] for x in singles), atol=1e-6)
    np.testing.assert_allclose(out.scores[0], max(x[2][0] for x in singles), atol=1e-6)


def test_paraphrase_scores_above_unrelated_sentence(minilm_folder):
    samples = [Sample("para", "A man is playing a guitar on stage.",
                      ("Someone performs guitar music at a concert.",)),
               Sample("unrelated", "The quarterly tax report was filed late.",
                      ("Someone performs guitar music at a concert.",))]
    out = BertScore(model=minilm_folder, num_layers=6).score(samples)
    assert out.scores[0] > out.scores[1] + 0.05


def test_rescaling_with_a_baseline_file(minilm_folder, tmp_path):
    baseline = tmp_path / "minilm.tsv"
    rows = ["LAYER,P,R,F"] + [f"{i},{0.30 + 0.01 * i},{0.32 + 0.01 * i},{0.31 + 0.01 * i}"
                              for i in range(7)]
    baseline.write_text("\n".join(rows) + "\n")
    samples = _samples()
    out = BertScore(model=minilm_folder, num_layers=LAYERS, rescale_with_baseline=True,
                    baseline_path=str(baseline)).score(samples)
    p, r, f = _direct(samples, minilm_folder, rescale_with_baseline=True, lang="en",
                      baseline_path=str(baseline))
    np.testing.assert_allclose(out.scores, f, atol=1e-6)
    raw = _direct(samples, minilm_folder)[2]
    np.testing.assert_allclose(out.scores, (raw - 0.35) / (1 - 0.35), atol=1e-6)


def test_rescaling_a_local_folder_needs_baseline_path(minilm_folder):
    with pytest.raises(MetricError, match="baseline_path"):
        BertScore(model=minilm_folder, num_layers=LAYERS, rescale_with_baseline=True)
    with pytest.raises(MetricError, match="not found"):
        BertScore(model=minilm_folder, num_layers=LAYERS, rescale_with_baseline=True,
                  baseline_path="/no/such/baseline.tsv")
    # the shipped file is found for a Hub name, without loading anything
    metric = BertScore(rescale_with_baseline=True)
    assert metric.baseline_path.endswith("rescale_baseline/en/roberta-large.tsv")
    assert "baseline=roberta-large.tsv" in metric.signature()


def test_roberta_sentences_get_bert_scores_prefix_space(tiny_roberta, monkeypatch):
    """bert-score asks RoBERTa tokenizers for a leading space per call;
    transformers 5 ignores that, so the metric loads the tokenizer with it."""
    from transformers import AutoTokenizer

    samples = [Sample("a", "a dog runs", ("a cat runs", "dog")), Sample("b", "cat", ("a dog",))]
    metric = BertScore(model=tiny_roberta, num_layers=2)
    out = metric.score(samples)
    tok = metric._scorer._tokenizer
    assert tok.encode("dog", add_special_tokens=False) == \
        tok.encode(" dog", add_special_tokens=False)
    module = sys.modules["bert_score.score"]
    monkeypatch.setattr(module, "get_tokenizer", lambda model, use_fast=False:
                        AutoTokenizer.from_pretrained(model, use_fast=use_fast,
                                                      add_prefix_space=True))
    p, r, f = _direct(samples, tiny_roberta, num_layers=2)
    np.testing.assert_allclose(out.scores, f, atol=1e-6)
    np.testing.assert_allclose(out.extras["P"], p, atol=1e-6)


def test_model_is_kept_between_calls_and_loaded_lazily(minilm_folder):
    metric = get_metric("bertscore", model=minilm_folder, num_layers=LAYERS)
    assert metric._scorer is None
    first = metric.score(_samples()[:2])
    scorer = metric._scorer
    second = metric.score(_samples()[:2])
    assert metric._scorer is scorer
    np.testing.assert_allclose(first.scores, second.scores)


def test_empty_references_and_candidate_are_nan_with_reason(minilm_folder):
    samples = [Sample("norefs", "a dog", ()), Sample("blank", "a dog", ("", " ")),
               Sample("nocand", " ", ("a dog",)), Sample("ok", "a dog", ("", "a dog runs"))]
    out = BertScore(model=minilm_folder, num_layers=LAYERS).score(samples)
    assert "reference" in out.failures["norefs"] and "reference" in out.failures["blank"]
    assert "candidate" in out.failures["nocand"]
    assert np.isnan(out.scores[:3]).all() and np.isfinite(out.scores[3])
    np.testing.assert_allclose(
        out.scores[3], _direct([Sample("x", "a dog", ("a dog runs",))], minilm_folder)[2][0],
        atol=1e-6)


def test_missing_weights_offline_fail_fast(empty_hf_cache):
    metric = get_metric("bertscore")  # roberta-large, layer 17
    assert metric.num_layers == 17 and "model=roberta-large" in metric.signature()
    t0 = time.monotonic()
    with pytest.raises(MetricError) as err:
        metric.score([Sample("s", "a dog", ("a dog",))])
    assert time.monotonic() - t0 < 30
    msg = str(err.value)
    assert "roberta-large" in msg and empty_hf_cache in msg
    assert "AutoModel.from_pretrained('roberta-large')" in msg


def test_options_are_checked(minilm_folder):
    with pytest.raises(MetricError, match="num_layers is required"):
        BertScore(model=minilm_folder)
    with pytest.raises(MetricError, match="no tuned layer"):
        BertScore(model="someone/unknown-model")
    with pytest.raises(MetricError, match="only with rescale"):
        BertScore(baseline_path="x.tsv")
    a = BertScore(model=minilm_folder, num_layers=3).signature()
    b = BertScore(model=minilm_folder, num_layers=4).signature()
    c = BertScore(model=minilm_folder, num_layers=4, idf=True).signature()
    assert len({a, b, c}) == 3 and "dir-sha256:" in a


def _many_samples(n: int, seed: int = 0):
    """n captions of 3-18 words with 1-3 references each, some sentences shared."""
    rng = np.random.default_rng(seed)
    words = ("a an the dog cat man woman runs sits on grass beach red car people two walking "
             "happy child plays ball in sea sky blue big small street at night").split()

    def caption():
        return " ".join(rng.choice(words, rng.integers(3, 19)))

    shared = [caption() for _ in range(5)]
    samples = []
    for i in range(n):
        refs = [caption() for _ in range(rng.integers(1, 4))] + [shared[i % 5]]
        samples.append(Sample(str(i), caption() if i % 9 else shared[i % 5], tuple(refs)))
    return samples


def test_chunking_changes_nothing_past_the_chunk_size(minilm_folder, monkeypatch):
    """bert-score's numbers depend on which sentences share a call; the metric
    scores its whole call as one bert_score.score, whatever the chunk size."""
    import bert_score
    import bert_score.utils

    samples = _many_samples(40)
    p, r, f = _direct(samples, minilm_folder)
    # the data does exercise the dependence: bert_score.score per chunk of 7 differs
    per_chunk = np.concatenate([_direct(samples[i:i + 7], minilm_folder)[2]
                                for i in range(0, len(samples), 7)])
    assert np.max(np.abs(per_chunk - f)) > 0

    embedded = []
    real = bert_score.utils.get_bert_embedding

    def counting(sentences, *args, **kwargs):
        embedded.extend(sentences)
        return real(sentences, *args, **kwargs)

    monkeypatch.setattr(bert_score.utils, "get_bert_embedding", counting)
    metric = BertScore(model=minilm_folder, num_layers=LAYERS)  # batch_size 64, as _direct
    metric.chunk_size = 7
    out = metric.score(samples)
    np.testing.assert_allclose(out.scores, f, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(out.scores, f)  # the same computation, bit for bit
    np.testing.assert_array_equal(out.extras["P"], p)
    np.testing.assert_array_equal(out.extras["R"], r)
    distinct = {s.candidate for s in samples} | {x for s in samples for x in s.references}
    assert sorted(embedded) == sorted(distinct)  # each distinct sentence embedded once
