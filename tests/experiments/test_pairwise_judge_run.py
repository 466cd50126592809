"""run_correlation --pairwise-judge: the VLM judge's pairwise mode, served by a scripted
loopback server, feeds the preference statistics in place of a score difference."""
from __future__ import annotations


import pytest

from experiments.benchmarks import load_benchmark
from experiments.run_correlation import PAIRWISE_METRIC, main
from tests.helpers.files import read_csv
from tests.helpers.openai_server import LoopbackServer, completion, prompt_of


def slot_a_text(prompt: str) -> str:
    return prompt.split('Reason A: "', 1)[1].split('"\n', 1)[0]


@pytest.fixture(scope="module")
def judged_run(tmp_path_factory):
    """A judge that always picks the human-written reason, in either slot."""
    bench = load_benchmark("demo")
    human = {s.candidate for s in bench.samples if s.id.startswith("p:") and s.id.endswith(":human")}

    def reply(body, n):
        return 200, completion("A" if slot_a_text(prompt_of(body)) in human else "B")

    out = tmp_path_factory.mktemp("pairwise")
    with LoopbackServer(reply) as server:
        assert main(["--metrics", "rouge_l", "--pairwise-judge", "--out", str(out),
                     "--cache-dir", str(tmp_path_factory.mktemp("cache")),
                     "--metric-option", f"vlm_judge.base_url={server.url}",
                     "--metric-option", "vlm_judge.model=judge-model",
                     "--bootstrap", "200", "--permutations", "200", "--quiet"]) == 0
        asked = len(server.bodies)
    return bench, out, asked


def test_every_pair_is_asked_in_both_orders(judged_run):
    bench, out, asked = judged_run
    pairs = set(bench.preferences.pair_ids)
    samples = {s.id: s for s in bench.samples}
    # The judge asks each distinct prompt once; demo pairs that show the same
    # two reasons in the same context share their answers.
    distinct = {(samples[a].candidate, samples[b].candidate, samples[a].image,
                 samples[a].context["caption"], samples[a].context["emotion"])
                for a, b in zip(bench.preferences.sample_a, bench.preferences.sample_b)}
    assert asked == 2 * len(distinct) and len(distinct) <= len(pairs)
    probs = read_csv(out / "pairwise.csv")
    assert {r["pair_id"] for r in probs} == pairs
    # The human reason is sample A of every pair, and the judge always prefers it.
    assert {float(r["prob_b_better"]) for r in probs} == {0.0}


def test_preference_statistics_take_the_judges_probabilities(judged_run):
    bench, out, _ = judged_run
    outcome = bench.preferences.outcome
    decisive = int((outcome != 0).sum())
    human_better = int((outcome == 1).sum())
    rows = {r["statistic"]: r for r in read_csv(out / "correlations.csv")
            if r["metric"] == PAIRWISE_METRIC}
    assert int(rows["accuracy"]["n"]) == decisive
    assert float(rows["accuracy"]["value"]) == pytest.approx(human_better / decisive, abs=1e-12)
    assert float(rows["acc23"]["value"]) == pytest.approx(human_better / len(outcome), abs=1e-12)
    assert float(rows["accuracy"]["ci_low"]) <= float(rows["accuracy"]["value"])
    compared = [c for c in read_csv(out / "comparisons.csv")
                if {c["metric_a"], c["metric_b"]} == {"rouge_l", PAIRWISE_METRIC}]
    assert len(compared) == 3  # accuracy, tau_like, acc23
    report = (out / "report.md").read_text()
    assert f"demo / {PAIRWISE_METRIC}: `" in report and "judged in both orders" in report
