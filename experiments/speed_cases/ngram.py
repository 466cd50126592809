"""N-gram metrics on Flickr8k-Expert's 5,664 captions vs pycocoevalcap called directly."""
from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

from . import BenchCase

NGRAM = ["bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge_l", "cider"]
DATA = Path(os.environ.get("METAEVAL_SHARED_DATA",
                           Path(__file__).resolve().parents[2].parent / "shared" / "data"))
_state: dict = {}


def _setup() -> None:
    if "samples" in _state:
        return
    from ..benchmarks.flickr8k import load_expert

    if not (DATA / "flickr8k").is_dir():
        raise FileNotFoundError(f"Flickr8k data not found at {DATA}/flickr8k")
    _state["samples"] = load_expert(DATA / "flickr8k").samples
    _state["cache_dir"] = tempfile.mkdtemp(prefix="bench-ngram-")


def _baseline() -> None:
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    samples = _state["samples"]
    gts = {i: [{"caption": r} for r in s.references] for i, s in enumerate(samples)}
    res = {i: [{"caption": s.candidate}] for i, s in enumerate(samples)}
    with contextlib.redirect_stdout(io.StringIO()):
        tok = PTBTokenizer()
        gts, res = tok.tokenize(gts), tok.tokenize(res)
        for scorer in (Bleu(4), Meteor(), Rouge(), Cider()):
            scorer.compute_score(gts, res)


def _ours(clear_memo: bool) -> None:
    from metrics import ScoreCache, get_metric, score_with_cache
    from metrics.ngram import clear_memos

    if clear_memo:
        clear_memos()
    cache = ScoreCache(_state["cache_dir"])
    with contextlib.redirect_stderr(io.StringIO()):
        for name in NGRAM:
            score_with_cache(get_metric(name), _state["samples"], cache, progress=False)
    cache.close()


CASES = [
    BenchCase("ngram: Flickr8k-Expert 5,664 captions, cold cache", lambda: _ours(True), _baseline,
              1.1, "bleu1-4, meteor, rouge_l, cider through the score cache (empty) vs "
              "PTBTokenizer + Bleu(4), Meteor, Rouge, Cider called directly", _setup),
    BenchCase("ngram: Flickr8k-Expert 5,664 captions, warm cache", lambda: _ours(False), _baseline,
              0.1, "the same metrics answered from the score cache written by the cold run", _setup),
]
