"""The Socratis loader on a fixture with the release's quirks (tests/helpers/socratis_fixture.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from correlation import pairwise_agreement, preference_margin
from experiments.benchmarks.base import A_BETTER, B_BETTER, TIE, DataError
from experiments.socratis.data import VERDICT_OUTCOME, load_socratis, verdict_outcomes
from tests.helpers.socratis_fixture import (ANGRY, HAPPY_0, HAPPY_1, PROUD, SAD, SAD_1,
                                            study_row, write_socratis)


@pytest.fixture
def bench(tmp_path):
    study = [study_row("q1", "machine", "ann1"), study_row("q1", "both_good", "ann2"),
             study_row("q2", "human", "ann1", item_id="202", emotion="happy",
                       human_reason=HAPPY_1, generator="text-only")]
    return load_socratis(write_socratis(tmp_path / "socratis", study))


def by_id(bench):
    return {s.id: s for s in bench.samples}


def test_samples_skip_empty_and_null_slots_and_keep_spelling(bench):
    samples = by_id(bench)
    humans = sorted(i for i in samples if i.startswith("h:"))
    assert humans == ["h:101:0:0", "h:101:1:0", "h:101:1:1", "h:101:2:0",
                      "h:202:0:0", "h:202:0:1", "h:202:1:0"]
    # The misspelled emotion is kept as typed (lower-cased, stripped), not corrected.
    assert samples["h:101:1:0"].context == {"caption": "Floodwater reaches the town square",
                                            "emotion": "saddness"}
    assert samples["h:101:1:1"].candidate == ANGRY
    assert samples["h:202:0:0"].image.endswith("socratis/images/final.png")
    assert sorted(i for i in samples if i.startswith("g:")) == [
        "g:101:blip2:sad", "g:101:text-only:sad", "g:202:blip2:happy", "g:202:text-only:happy"]
    assert samples["g:202:blip2:happy"].context["generator"] == "blip2"


def test_references_never_hold_the_sample_itself(bench):
    s = by_id(bench)
    # Worker 0's reason: the other workers' reasons; worker 2 wrote the same words, and
    # that is another person's reason, so it stays.
    assert s["h:101:0:0"].references == (SAD_1, ANGRY, SAD)
    # Worker 1 wrote two reasons: neither is a reference for the other.
    assert s["h:101:1:0"].references == (SAD, SAD)
    assert s["h:101:1:1"].references == (SAD, SAD)
    assert s["h:202:0:1"].references == (HAPPY_1,)
    assert s["h:202:1:0"].references == (HAPPY_0, PROUD)
    for sample in bench.samples:
        if sample.id.startswith("h:"):
            item, worker = sample.id.split(":")[1:3]
            own = [o.candidate for o in bench.samples if o.id.startswith(f"h:{item}:{worker}:")]
            # No reference is one of the sample's own worker's texts, except the same
            # words written by someone else (the repeated reason of item 101).
            assert sample.candidate not in sample.references or sample.candidate == SAD
            assert all(r not in own or r == SAD for r in sample.references)
    # Machine reasons are compared with every human reason of the item.
    assert s["g:101:blip2:sad"].references == (SAD, SAD_1, ANGRY, SAD)


def test_pairs_use_the_items_reasons_less_the_pairs_human_reason(bench):
    s = by_id(bench)
    # q1's human reason is worker 0's (first match): its references drop worker 0 only.
    assert s["p:q1:human"].candidate == SAD
    assert s["p:q1:human"].references == s["p:q1:machine"].references == (SAD_1, ANGRY, SAD)
    assert s["p:q2:human"].references == (HAPPY_0, PROUD)
    prefs = bench.preferences
    assert prefs.pair_ids == ["q1", "q1", "q2"]
    assert prefs.sample_a == ["p:q1:human", "p:q1:human", "p:q2:human"]
    assert list(prefs.outcome) == [B_BETTER, TIE, A_BETTER]
    assert prefs.verdict == ["machine", "both_good", "human"]
    assert prefs.category == ["blip2", "blip2", "text-only"]
    assert bench.tables is None  # the paper tables come with the registered benchmark


def test_the_registry_names_the_benchmark_and_attaches_its_tables(tmp_path):
    from experiments.benchmarks import load_benchmark
    from experiments.socratis.tables import socratis_tables

    write_socratis(tmp_path / "socratis")
    bench = load_benchmark("socratis", tmp_path)
    assert bench.name == "socratis" and bench.tables is socratis_tables
    assert not bench.illustrative
    demo = load_benchmark("demo")
    assert demo.name == "demo" and demo.illustrative.startswith("illustrative data")


def test_missing_optional_files_narrow_the_run_and_say_so(tmp_path):
    bench = load_socratis(write_socratis(tmp_path / "s", study=None, generations=None))
    assert bench.preferences is None and bench.protocol == []
    assert not any(s.id.startswith(("g:", "p:")) for s in bench.samples)
    assert any("no generations.jsonl" in n for n in bench.notes)
    assert any("no human_study.csv" in n for n in bench.notes)


def test_a_generation_for_an_unknown_item_names_the_line(tmp_path):
    folder = write_socratis(tmp_path / "s")
    with open(folder / "generations.jsonl", "a") as f:
        f.write('{"item_id": "999", "emotion": "sad", "generator": "g", "reason": "r"}\n')
    with pytest.raises(DataError, match=r"generations\.jsonl:5: item_id '999'"):
        load_socratis(folder)


def test_verdicts_map_to_outcomes_with_a_the_human_reason():
    verdicts = ["human", "Machine", "Both good", "both_bad", "both-good", None]
    out = verdict_outcomes(verdicts)
    assert out[:5].tolist() == [A_BETTER, B_BETTER, TIE, TIE, TIE] == [1, -1, 0, 0, 0]
    assert math.isnan(out[5])
    with pytest.raises(ValueError, match=r"'neither' at position 1"):
        verdict_outcomes(["human", "neither"])


def test_the_loader_and_verdict_outcomes_share_one_mapping(tmp_path):
    study = [study_row("q1", "Both good", "ann1"), study_row("q1", "MACHINE", "ann2"),
             study_row("q2", "both-bad", "ann1", item_id="202", emotion="happy",
                       human_reason=HAPPY_1, generator="text-only")]
    prefs = load_socratis(write_socratis(tmp_path / "socratis", study)).preferences
    assert prefs.verdict == ["both_good", "machine", "both_bad"]
    assert list(prefs.outcome) == [VERDICT_OUTCOME[v] for v in prefs.verdict]
    assert list(prefs.outcome) == verdict_outcomes(["Both good", "MACHINE", "both-bad"]).tolist()


def test_verdicts_into_pairwise_agreement_with_a_missing_verdict():
    outcomes = verdict_outcomes(["human", "machine", "both_good", None])
    margin = preference_margin([0.8, 0.3, 0.5, 0.9], [0.6, 0.4, 0.5, 0.1])
    r = pairwise_agreement(margin, outcomes)
    # pair 0: human better, metric agrees; pair 1: machine better, metric agrees; pair 2: tie-tie
    assert (r.accuracy, r.acc23, r.n, r.n_nan) == (1.0, 1.0, 3, 1)
    assert np.isnan(outcomes[3])
