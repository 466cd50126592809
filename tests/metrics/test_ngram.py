"""N-gram metrics equal pycocoevalcap called directly on the whole set."""
from __future__ import annotations

import time

import numpy as np
import pytest

from metrics import MetricError, Sample, get_metric
from metrics.ngram import _meteor_scorer, ptb_tokenize

SAMPLES = [
    Sample("a", "A man rides a horse on the beach.", ("A man riding a horse.", "Someone on a horse by the sea.")),
    Sample("b", "Two dogs play in the snow", ("Two dogs playing in snow.", "A pair of dogs in the snow.", "Dogs run.")),
    Sample("c", "A red car.", ("A blue truck parked on a street.",)),
    Sample("d", "a child\nwith a kite", ("A child flies a kite.", "Kid with a kite on a hill.")),
    Sample("e", "!!!", ("A cat sleeps.",)),
]


def direct_pycoco(samples):
    """pycocoevalcap exactly as its COCOEvalCap does: tokenise all, then each scorer once."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    gts = {s.id: [{"caption": r} for r in s.references] for s in samples}
    res = {s.id: [{"caption": s.candidate.replace("\n", " ")}] for s in samples}
    tok = PTBTokenizer()
    gts, res = tok.tokenize(gts), tok.tokenize(res)
    _, bleu = Bleu(4).compute_score(gts, res, verbose=0)
    out = {f"bleu{n + 1}": np.array(bleu[n]) for n in range(4)}
    # pycocoevalcap's own Meteor.compute_score, on the process's one running jar (which
    # metrics.ngram started as pycocoevalcap's Meteor(); a second jar costs a start,
    # about 10 s of CPU loading the paraphrase tables)
    out["meteor"] = np.array(_meteor_scorer().compute_score(gts, res)[1])
    out["rouge_l"] = np.array(Rouge().compute_score(gts, res)[1])
    out["cider"] = np.array(Cider().compute_score(gts, res)[1])
    return out


METEOR = pytest.param("meteor", marks=pytest.mark.slow)  # a JVM loading its tables


@pytest.fixture(scope="module")
def reference_scores():
    return direct_pycoco(SAMPLES)


@pytest.mark.parametrize("name", ["bleu1", "bleu2", "bleu3", "bleu4", METEOR, "rouge_l", "cider"])
def test_equals_pycocoevalcap(name, reference_scores):
    out = get_metric(name).score(SAMPLES)
    np.testing.assert_allclose(out.scores, reference_scores[name], rtol=0, atol=1e-12)
    assert out.failures == {}


@pytest.mark.parametrize("name", ["bleu4", METEOR, "rouge_l"])
def test_chunking_does_not_change_scores(name, reference_scores):
    metric = get_metric(name)
    metric.chunk_size = 2
    chunks = list(metric.iter_score(SAMPLES))
    assert [(a, b) for a, b, _ in chunks] == [(0, 2), (2, 4), (4, 5)]
    np.testing.assert_allclose(metric.score(SAMPLES).scores, reference_scores[name], atol=1e-12)


def test_cider_depends_on_the_whole_call(reference_scores):
    metric = get_metric("cider")
    metric.chunk_size = 2
    assert [(a, b) for a, b, _ in metric.iter_score(SAMPLES)] == [(0, 5)]
    alone = metric.score(SAMPLES[:2]).scores
    assert not np.allclose(alone, reference_scores["cider"][:2])


def test_empty_candidate_and_missing_references_are_nan_with_reason():
    samples = [SAMPLES[0], Sample("x", "   ", ("a ref",)), Sample("y", "a dog", ())]
    out = get_metric("bleu4").score(samples)
    assert np.isfinite(out.scores[0])
    assert np.isnan(out.scores[1]) and out.failures["x"] == "empty candidate"
    assert np.isnan(out.scores[2]) and "no references" in out.failures["y"]


def test_duplicate_ids_are_refused():
    with pytest.raises(ValueError, match="duplicate sample id 'a'"):
        get_metric("rouge_l").score([SAMPLES[0], SAMPLES[0]])


def test_line_breaks_do_not_shift_tokenisation():
    assert ptb_tokenize(["a child\nwith a kite.", "A dog."]) == ["a child with a kite", "a dog"]


def test_signature_names_the_convention():
    assert get_metric("bleu4").signature() == "bleu4|impl=pycocoevalcap-1.2|tokenizer=ptb"
    assert get_metric("cider").signature() != get_metric("bleu4").signature()


def test_spice_without_corenlp_fails_fast_and_clearly(monkeypatch, tmp_path):
    monkeypatch.delenv("METAEVAL_CORENLP_DIR", raising=False)
    start = time.perf_counter()
    with pytest.raises(MetricError) as info:
        get_metric("spice", corenlp_dir=str(tmp_path))
    assert time.perf_counter() - start < 5
    message = str(info.value)
    assert "stanford-corenlp-3.6.0.jar" in message and "stanford-corenlp-3.6.0-models.jar" in message
    assert str(tmp_path) in message and "METAEVAL_CORENLP_DIR" in message


def test_unknown_metric_names_the_known_ones():
    with pytest.raises(MetricError, match="unknown metric 'blue4'.*bleu4"):
        get_metric("blue4")
