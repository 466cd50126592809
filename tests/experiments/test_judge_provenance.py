"""Provenance of every judge score (cache, run.json, report.md) and the drift check."""
from __future__ import annotations

import json
import math

import pytest

from experiments.benchmarks import load_benchmark
from experiments.run_correlation import main as run_main
from metrics import ScoreCache
from metrics.vlm_judge import VlmJudge
from metrics.vlm_judge.judge import CACHE_NAMESPACE
from metrics.vlm_judge.provenance import PROVENANCE_NAMESPACE, summarise
from metrics.vlm_judge.templates import load_template
from tests.helpers.openai_server import LoopbackServer

from .test_judge_batch import MODEL, answer


def _run(out, cache, server, *extra):
    return run_main(["--benchmark", "demo", "--metrics", "vlm_judge", "--out", str(out),
                     "--cache-dir", str(cache),
                     "--metric-option", f"vlm_judge.base_url={server.url}",
                     "--metric-option", f"vlm_judge.model={MODEL}",
                     "--metric-option", 'vlm_judge.extra_body={"seed": 7, "top_p": 0.9}',
                     "--metric-option", "vlm_judge.max_concurrency=16",
                     "--bootstrap", "20", "--permutations", "20", "-q", *extra])


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    root = tmp_path_factory.mktemp("prov")
    with LoopbackServer(lambda body, n: (200, answer(body))) as server:
        assert _run(root / "first", root / "cache", server) == 0
    return root


def test_every_cached_answer_has_its_record(judged):
    cache = ScoreCache(str(judged / "cache"))
    judge = VlmJudge(backend="batch", model=MODEL, extra_body={"seed": 7, "top_p": 0.9})
    requests = judge.pointwise_requests(load_benchmark("demo").samples)[0]
    keys = {r.key for r in requests}
    assert all(cache.get_blob(CACHE_NAMESPACE, k) is not None for k in keys)
    records = [json.loads(cache.get_blob(PROVENANCE_NAMESPACE, k)) for k in keys]
    template = load_template("socratis_reason")
    for record in records:
        assert record["backend"] == "served" and record["source"] == "served"
        assert record["model"] == MODEL and record["template_sha256"] == template.sha256
        assert record["decoding"] == {"temperature": 0.0, "top_p": 0.9, "max_tokens": 8,
                                      "seed": 7}
        assert record["max_concurrency"] == 16 and record["batch_size"] is None
        assert record["reported"] == {"system_fingerprint": "fp_test", "model": MODEL}
    # The answers themselves keep their form: no provenance inside.
    assert set(json.loads(cache.get_blob(CACHE_NAMESPACE, next(iter(keys))))) == {
        "text", "tokens", "top"}


def test_run_json_and_report_state_the_provenance(judged):
    record = json.loads((judged / "first" / "run.json").read_text())
    entry, = [m for m in record["metrics"] if m["metric"] == "vlm_judge"]
    prov = entry["provenance"]
    n = prov["answers"]
    assert n > 100 and prov["without_record"] == 0
    assert prov["fields"]["reported.system_fingerprint"] == {"fp_test": n}
    assert prov["fields"]["decoding.seed"] == {"7": n}
    assert prov["fields"]["backend"] == {"served": n}
    assert "drift" not in entry
    assert prov["run_settings"]["decoding"]["top_p"] == 0.9
    assert prov["run_settings"]["model"] == MODEL
    report = (judged / "first" / "report.md").read_text()
    section = report.split("## Judge provenance", 1)[1]
    assert "- reported.system_fingerprint: fp_test" in section
    assert "- decoding.top_p: 0.9" in section and f"{n} answers; 0 without" in section
    assert "this run's judge: backend=served; model=judge-model" in section


def _changed(body: dict, n: int):
    """The fake judge after an update: other probabilities for every prompt."""
    reply = answer(body)
    for alt in reply["choices"][0]["logprobs"]["content"][0]["top_logprobs"]:
        alt["logprob"] = math.log(0.5) if alt["token"] in ("A", "4") else alt["logprob"]
    return 200, reply


@pytest.mark.parametrize("reply, changed", [(lambda body, n: (200, answer(body)), 0),
                                            (_changed, 6)])
def test_the_drift_check_counts_changed_answers_and_leaves_the_cache(judged, tmp_path,
                                                                     reply, changed):
    cache = ScoreCache(str(judged / "cache"))
    before = cache.count()
    blobs = dict(cache._conn.execute("SELECT key, value FROM blobs WHERE namespace=?",
                                     (CACHE_NAMESPACE,)).fetchall())
    with LoopbackServer(reply) as server:
        assert _run(tmp_path / "again", judged / "cache", server, "--judge-drift", "6") == 0
        asked = len(server.bodies)
    assert asked == 6  # only the drift check asks; the scores come from the cache
    entry, = [m for m in json.loads((tmp_path / "again" / "run.json").read_text())["metrics"]
              if m["metric"] == "vlm_judge"]
    drift = entry["drift"]
    assert drift["checked"] == 6 and drift["failed"] == 0
    assert drift["score_changed"] == changed and drift["answer_changed"] == changed
    assert (drift["max_abs_score_change"] > 0) == bool(changed)
    assert dict(cache._conn.execute("SELECT key, value FROM blobs WHERE namespace=?",
                                    (CACHE_NAMESPACE,)).fetchall()) == blobs
    assert cache.count() == before
    assert f"{changed} scores changed" in (tmp_path / "again" / "report.md").read_text()


def test_a_local_judge_records_its_software_and_determinism(tmp_path):
    import torch
    import transformers

    from tests.helpers.tiny_models import tiny_llava

    tiny_llava(tmp_path / "m")
    judge = VlmJudge(backend="local", model=str(tmp_path / "m"), device="cpu", batch_size=3)
    template = load_template("socratis_reason")
    before = torch.are_deterministic_algorithms_enabled()
    try:
        torch.use_deterministic_algorithms(True)
        on = judge.provenance_record(template)
        torch.use_deterministic_algorithms(False)
        off = judge.provenance_record(template)
    finally:
        torch.use_deterministic_algorithms(before)
    assert on["environment"]["deterministic_algorithms"] is True
    assert off["environment"]["deterministic_algorithms"] is False
    assert on["environment"]["torch"] == torch.__version__
    assert on["environment"]["transformers"] == transformers.__version__
    assert on["batch_size"] == 3 and on["backend"] == "local"
    assert on["environment"]["device"] == "cpu" and on["decoding"]["greedy"] is True


def test_summarise_counts_each_value_and_records_missing():
    out = summarise([{"backend": "served", "reported": {"system_fingerprint": "a"}},
                     {"backend": "served", "reported": {"system_fingerprint": "b"}}, None])
    assert out == {"answers": 3, "without_record": 1,
                   "fields": {"backend": {"served": 2},
                              "reported.system_fingerprint": {"a": 1, "b": 1}}}


def test_a_negative_drift_count_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        run_main(["--metrics", "bleu1", "--out", str(tmp_path), "--judge-drift", "-1"])
    assert stop.value.code == 2
    assert "--judge-drift: must be 0 or more, got -1" in capsys.readouterr().err
