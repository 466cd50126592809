"""BLEU, ROUGE-L and CIDEr-D computed faster than pycocoevalcap's own loops give its
numbers bit for bit (texts already tokenised: no Java needed). The real benchmarks'
scores are compared too, through the Flickr8k golden run's scores.csv."""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

pytest.importorskip("pycocoevalcap")
from pycocoevalcap.bleu.bleu import Bleu  # noqa: E402
from pycocoevalcap.cider.cider import Cider  # noqa: E402
from pycocoevalcap.rouge.rouge import Rouge, my_lcs  # noqa: E402

from metrics.cider_d import cider_d  # noqa: E402
from metrics.ngram import _bleu4_scores, lcs_length, rouge_l  # noqa: E402

WORDS = ["", "a", "the", "dog", "runs", "on", "grass", "man", "red", "ball"]


def _tokens(rng, vocabulary: int, longest: int) -> list[str]:
    return [WORDS[k] for k in rng.integers(0, vocabulary, rng.integers(0, longest + 1))]


def _text(rng, vocabulary: int = 10, longest: int = 14) -> str:
    return " ".join(_tokens(rng, vocabulary, longest)).strip() or "dog"


def _corpus(seed: int, samples: int = 120):
    """Candidates with 1-6 references each; groups of samples share one list of
    references (the captions of one image), as in Flickr8k."""
    rng = np.random.default_rng(seed)
    images = [[_text(rng) for _ in range(rng.integers(1, 7))] for _ in range(samples // 4)]
    refs = [images[rng.integers(0, len(images))] for _ in range(samples)]
    return [_text(rng) for _ in range(samples)], refs


def _bits(values) -> list[str]:
    return [float(v).hex() for v in np.asarray(values, dtype=float).ravel()]


@pytest.mark.parametrize("vocabulary,longest", [(2, 10), (4, 70), (9, 150)])
def test_lcs_length_equals_pycocoevalcaps_table(vocabulary, longest):
    """Few distinct tokens (many equal LCS candidates), lengths past one 64-bit word,
    the empty token that a double space gives."""
    rng = np.random.default_rng(vocabulary)
    for _ in range(300):
        a, b = _tokens(rng, vocabulary, longest), _tokens(rng, vocabulary, longest)
        assert lcs_length(a, b) == my_lcs(a, b) == lcs_length(b, a), (a, b)


def test_lcs_length_by_hand():
    assert lcs_length("a b c b d a b".split(), "b d c a b a".split()) == 4   # CLRS 15.4
    assert lcs_length([], ["a"]) == 0
    assert lcs_length(["a", "a"], ["a", "a", "a"]) == 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rouge_l_equals_pycocoevalcap(seed):
    candidates, refs = _corpus(seed)
    gts, res = dict(enumerate(refs)), {i: [c] for i, c in enumerate(candidates)}
    corpus, theirs = Rouge().compute_score(gts, res)
    ours = [rouge_l(c, r) for c, r in zip(candidates, refs)]
    assert _bits(ours) == _bits(theirs)
    assert float(np.mean(ours)).hex() == float(corpus).hex()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cider_d_equals_pycocoevalcap(seed):
    candidates, refs = _corpus(seed)
    corpus, theirs = Cider().compute_score(dict(enumerate(refs)),
                                           {i: [c] for i, c in enumerate(candidates)})
    ours_corpus, ours = cider_d(candidates, refs)
    assert _bits(ours) == _bits(theirs)
    assert ours_corpus.hex() == float(corpus).hex()
    assert len(set(_bits(ours))) > len(candidates) // 2      # the numbers vary


def test_cider_d_in_many_small_blocks_equals_pycocoevalcap(monkeypatch):
    """Blocks of a few dozen elements: rows of every width and reference count meet
    block edges (the rows of one sample land in several blocks)."""
    from metrics import cider_d as module

    monkeypatch.setattr(module, "BLOCK_ELEMENTS", 40)
    candidates, refs = _corpus(4, samples=60)
    candidates[3] = "a dog runs on the grass " * 5          # wider than a block alone
    corpus, theirs = Cider().compute_score(dict(enumerate(refs)),
                                           {i: [c] for i, c in enumerate(candidates)})
    ours_corpus, ours = cider_d(candidates, refs)
    assert _bits(ours) == _bits(theirs) and ours_corpus.hex() == float(corpus).hex()


def test_cider_d_with_references_without_words():
    """A reference that tokenises to nothing (only punctuation) scores as pycocoevalcap
    scores it; when no reference of the call has a word, both refuse."""
    candidates, refs = ["a dog runs", "the man"], [["", "a dog"], [""]]
    _, theirs = Cider().compute_score(dict(enumerate(refs)),
                                      {i: [c] for i, c in enumerate(candidates)})
    assert _bits(cider_d(candidates, refs)[1]) == _bits(theirs)
    with pytest.raises(ValueError, match="document frequencies are empty"):
        cider_d(["a dog"], [[""]])
    with pytest.raises(ValueError):
        Cider().compute_score({0: [""]}, {0: ["a dog"]})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bleu_equals_pycocoevalcap(seed):
    candidates, refs = _corpus(seed)
    gts, res = dict(enumerate(refs)), {i: [c] for i, c in enumerate(candidates)}
    with contextlib.redirect_stdout(io.StringIO()):
        theirs = Bleu(4).compute_score(gts, res, verbose=0)
    assert _bleu4_scores(gts, res) == theirs
