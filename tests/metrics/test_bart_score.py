"""BARTScore against the mean token log-likelihood computed from a tiny BART's logits."""
from __future__ import annotations

import time

import numpy as np
import pytest

from metrics import MetricError, Sample, get_metric
from metrics.bart_score import BartScore


def _direct(folder):
    from transformers import AutoTokenizer, BartForConditionalGeneration

    model = BartForConditionalGeneration.from_pretrained(folder)
    model.eval()
    return model, AutoTokenizer.from_pretrained(folder)


def _loglik(direct, src, tgt, max_length=1024):
    """(1/|y|) sum_t log p(y_t | y_<t, x), one unpadded pair at a time."""
    import torch

    model, tok = direct
    x = tok(src, max_length=max_length, truncation=True)["input_ids"]
    y = tok(tgt, max_length=max_length, truncation=True)["input_ids"]
    decoder_in = [model.config.decoder_start_token_id] + y[:-1]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([x]),
                       decoder_input_ids=torch.tensor([decoder_in])).logits[0]
    logp = torch.log_softmax(logits, dim=-1)
    return float(logp[torch.arange(len(y)), torch.tensor(y)].mean())


def _samples():
    return [
        Sample("a", "a dog runs on the grass", ("the dog runs on grass", "a dog sits"),
               context={"caption": "a dog at the beach"}),
        Sample("b", "two people walking", ("people walking on a beach",),
               context={"source": "two people at the sea", "caption": "ignored"}),
        Sample("c", "a red car", ("a car is red", "the red car", "a blue car at the sea"),
               context={"caption": "a red car in the sky"}),
        Sample("d", "the man is happy", ("a happy man", "the man is sad"),
               context={"caption": "a man"}),
    ]


def _expected(direct, samples, direction, agg=np.max):
    out = []
    for s in samples:
        p = agg([_loglik(direct, r, s.candidate) for r in s.references])
        r = agg([_loglik(direct, s.candidate, ref) for ref in s.references])
        src = s.context.get("source") or s.context.get("caption")
        out.append({"precision": p, "recall": r, "f": (p + r) / 2,
                    "source": _loglik(direct, src, s.candidate)}[direction])
    return np.array(out)


@pytest.mark.parametrize("direction", ["f", "precision", "recall", "source"])
def test_each_direction_equals_mean_token_log_likelihood(tiny_bart, direction):
    direct = _direct(tiny_bart)
    samples = _samples()
    out = BartScore(model=tiny_bart, direction=direction).score(samples)
    np.testing.assert_allclose(out.scores, _expected(direct, samples, direction),
                               rtol=0, atol=1e-6)
    assert not out.failures and np.all(out.scores < 0)
    if direction == "f":
        np.testing.assert_allclose(out.extras["P"], _expected(direct, samples, "precision"),
                                   atol=1e-6)
        np.testing.assert_allclose(out.extras["R"], _expected(direct, samples, "recall"),
                                   atol=1e-6)


def test_ref_agg_mean_is_the_reference_codes_default(tiny_bart):
    direct = _direct(tiny_bart)
    samples = _samples()
    out = BartScore(model=tiny_bart, direction="f", ref_agg="mean").score(samples)
    np.testing.assert_allclose(out.scores, _expected(direct, samples, "f", agg=np.mean),
                               atol=1e-6)
    assert not np.allclose(out.scores, _expected(direct, samples, "f", agg=np.max))


def test_batching_chunking_and_order_do_not_change_scores(tiny_bart):
    samples = _samples()
    a = BartScore(model=tiny_bart, batch_size=64).score(samples)
    metric = BartScore(model=tiny_bart, batch_size=1)
    metric.chunk_size = 1
    b = metric.score(samples[::-1])
    c = BartScore(model=tiny_bart, batch_size=3).score(samples[1:] + samples[:1])
    np.testing.assert_allclose(a.scores, b.scores[::-1], rtol=0, atol=1e-6)
    np.testing.assert_allclose(a.scores, np.roll(c.scores, 1), rtol=0, atol=1e-6)
    np.testing.assert_allclose(a.extras["P"], b.extras["P"][::-1], rtol=0, atol=1e-6)


def test_each_distinct_pair_runs_once(tiny_bart):
    metric = BartScore(model=tiny_bart, direction="f", batch_size=2)
    metric.chunk_size = 2  # the same pairs come back in later chunks of the call
    model, _ = metric._load()
    rows = []
    hook = model.register_forward_hook(
        lambda module, args, kwargs, output: rows.append(kwargs["input_ids"].shape[0]),
        with_kwargs=True)
    same = [Sample(f"s{i}", "a dog", ("the dog", "a cat")) for i in range(5)]
    try:
        out = metric.score(same)
    finally:
        hook.remove()
    assert sum(rows) == 4  # 2 refs x (precision, recall), not 5 x 4
    assert np.ptp(out.scores) == 0


def test_long_texts_are_truncated_to_max_length_and_reported(tiny_bart, caplog):
    direct = _direct(tiny_bart)
    long_ref = " ".join(["the dog runs on the grass"] * 4)
    samples = [Sample("long", "a dog runs", (long_ref,)), Sample("short", "a dog", ("a dog",))]
    out = BartScore(model=tiny_bart, direction="f", max_length=8).score(samples)
    assert out.extras["truncated"].tolist() == [1.0, 0.0]
    p = _loglik(direct, long_ref, "a dog runs", max_length=8)
    r = _loglik(direct, "a dog runs", long_ref, max_length=8)
    np.testing.assert_allclose(out.scores[0], (p + r) / 2, atol=1e-6)
    assert "truncated" in caplog.text


def test_source_field_and_missing_source(tiny_bart):
    direct = _direct(tiny_bart)
    samples = [Sample("both", "a dog", context={"source": "the dog", "caption": "a cat"}),
               Sample("caption", "a dog", context={"caption": "a cat"}),
               Sample("none", "a dog", context={"emotion": "happy"})]
    out = BartScore(model=tiny_bart, direction="source").score(samples)
    np.testing.assert_allclose(out.scores[:2], [_loglik(direct, "the dog", "a dog"),
                                                _loglik(direct, "a cat", "a dog")], atol=1e-6)
    assert np.isnan(out.scores[2]) and "source" in out.failures["none"]
    assert "none" in out.failures["none"]
    out = BartScore(model=tiny_bart, direction="source", source_key="caption").score(samples[:1])
    np.testing.assert_allclose(out.scores[0], _loglik(direct, "a cat", "a dog"), atol=1e-6)


def test_empty_references_and_candidate_are_nan_with_reason(tiny_bart):
    samples = [Sample("norefs", "a dog", ()), Sample("blank", "a dog", (" ",)),
               Sample("nocand", "", ("a dog",)), Sample("ok", "a dog", ("", "a dog"))]
    out = BartScore(model=tiny_bart).score(samples)
    assert "reference" in out.failures["norefs"] and "reference" in out.failures["blank"]
    assert "candidate" in out.failures["nocand"]
    assert np.isnan(out.scores[:3]).all() and np.isfinite(out.scores[3])
    # the source direction needs no references
    out = BartScore(model=tiny_bart, direction="source").score(
        [Sample("x", "a dog", (), context={"caption": "a cat"})])
    assert np.isfinite(out.scores[0])


def test_missing_weights_offline_fail_fast(empty_hf_cache):
    metric = get_metric("bartscore")
    assert metric._model is None  # nothing loaded by the constructor
    t0 = time.monotonic()
    with pytest.raises(MetricError) as err:
        metric.score([Sample("s", "a dog", ("a dog",))])
    assert time.monotonic() - t0 < 30
    msg = str(err.value)
    assert "facebook/bart-large-cnn" in msg and empty_hf_cache in msg
    assert "AutoModelForSeq2SeqLM.from_pretrained('facebook/bart-large-cnn')" in msg


def test_options_are_checked_and_named_in_the_signature(tiny_bart, tmp_path):
    with pytest.raises(MetricError, match="direction"):
        BartScore(direction="sideways")
    with pytest.raises(MetricError, match="ref_agg"):
        BartScore(ref_agg="median")
    with pytest.raises(MetricError, match="does not exist"):
        BartScore(model=str(tmp_path / "nothing-here")).score([Sample("s", "a", ("b",))])
    sigs = {BartScore(model=tiny_bart, direction=d).signature()
            for d in ("f", "precision", "recall", "source")}
    assert len(sigs) == 4
    assert "model=facebook/bart-large-cnn" in BartScore().signature()
    assert BartScore(direction="src").needs_references is False
    assert BartScore(direction="p").direction == "precision"
