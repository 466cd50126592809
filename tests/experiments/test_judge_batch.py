"""`metaeval judge export|import`: the demo's judge requests go out as batch files,
come back as OpenAI/vLLM batch output lines answered by the fake server's logic, and
give the served path's scores; every malformed line is a counted failure."""
from __future__ import annotations

import hashlib
import json
import math
import os

import numpy as np
import pytest

from experiments.benchmarks import load_benchmark
from experiments.judge_batch import main as judge_main
from experiments.run_correlation import main as run_main
from metrics import ScoreCache
from metrics.vlm_judge import VlmJudge
from metrics.vlm_judge.batch import NOT_IN_CACHE
from tests.helpers.files import read_csv
from tests.helpers.openai_server import LoopbackServer, prompt_of

MODEL = "judge-model"


def _fraction(prompt: str) -> float:
    return int(hashlib.sha256(prompt.encode()).hexdigest()[:8], 16) / 16 ** 8


def answer(body: dict, with_logprobs: bool = True) -> dict:
    """The fake judge: a chat completion whose rating (or letter) probabilities
    follow the prompt's hash, so every request has its own score."""
    prompt = prompt_of(body)
    p = 0.05 + 0.9 * _fraction(prompt)
    if 'Reason A: "' in prompt:
        top = [("A", p), ("B", 1 - p)]
    else:
        top = [("4", p), ("2", 0.7 * (1 - p)), ("5", 0.3 * (1 - p))]
    top.sort(key=lambda t: -t[1])
    choice = {"index": 0, "finish_reason": "stop",
              "message": {"role": "assistant", "content": top[0][0]}}
    if with_logprobs:
        choice["logprobs"] = {"content": [
            {"token": top[0][0], "logprob": math.log(top[0][1]),
             "top_logprobs": [{"token": t, "logprob": math.log(q)} for t, q in top]}]}
    return {"id": "chatcmpl-x", "object": "chat.completion", "model": MODEL,
            "system_fingerprint": "fp_test", "choices": [choice]}


def _pairs(bench):
    prefs = bench.preferences
    samples = {s.id: s for s in bench.samples}
    return [(pid, samples[a], samples[b]) for pid, a, b in
            dict.fromkeys(zip(prefs.pair_ids, prefs.sample_a, prefs.sample_b))]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The served path's scores and request bodies on the demo."""
    bench = load_benchmark("demo")
    with LoopbackServer(lambda body, n: (200, answer(body))) as server:
        judge = VlmJudge(base_url=server.url, model=MODEL,
                         cache_dir=str(tmp_path_factory.mktemp("served_cache")))
        scores = judge.score(bench.samples)
        pairs = judge.compare(_pairs(bench))
        bodies = list(server.bodies)
    return bench, scores, pairs, bodies


def _line(cid: str, body: dict, status: int = 200, error=None) -> str:
    return json.dumps({"id": f"batch_req_{cid[:6]}", "custom_id": cid,
                       "response": None if error else {"status_code": status,
                                                       "request_id": "r", "body": body},
                       "error": error})


@pytest.fixture(scope="module")
def batch(tmp_path_factory, served):
    """Export, answer by the fake server's logic with sabotaged lines, import."""
    root = tmp_path_factory.mktemp("batch")
    cache = root / "cache"
    out = root / "export"
    assert judge_main(["export", "--benchmark", "demo", "--pairwise", "--out", str(out),
                       "--metric-option", f"vlm_judge.model={MODEL}", "--cache-dir", str(cache),
                       "--max-requests", "150", "--price-input", "2", "-q"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    requests = [json.loads(line) for shard in manifest["shards"]
                for line in (out / shard["file"]).read_text().splitlines()]
    lines, sabotaged = [], {}
    for k, req in enumerate(requests):
        cid, body = req["custom_id"], answer(req["body"])
        if k == 0:
            lines.append(_line(cid, None, error={"code": "server_error", "message": "boom"}))
            sabotaged[cid] = "error: server_error: boom"
        elif k == 1:
            lines.append(_line(cid, {"error": {"message": "overloaded"}}, status=500))
            sabotaged[cid] = "HTTP status 500"
        elif k == 2:
            lines.append(_line(cid, answer(req["body"], with_logprobs=False)))
            sabotaged[cid] = "no logprobs"
        elif k == 3:
            lines.append(_line(cid, {**body, "model": "another-model"}))
            sabotaged[cid] = "answered by model 'another-model'"
        elif k == 4:
            lines.append(_line(cid, body)[:57])  # truncated
            sabotaged[cid] = "not a valid JSON line"
        else:
            lines.append(_line(cid, body))
    lines.append(_line("f" * 64, answer(requests[5]["body"])))        # a foreign id
    lines.append(_line(requests[6]["custom_id"], answer(requests[6]["body"])))  # a duplicate
    output = root / "output.jsonl"
    output.write_text("\n".join(lines) + "\n")
    return root, out, cache, output, manifest, requests, sabotaged


def test_export_writes_the_served_clients_bodies_keyed_by_cache_key(served, batch):
    _, _, _, bodies = served
    _, out, _, _, manifest, requests, _ = batch
    assert len(requests) == len(bodies) == manifest["counts"]["exported"]
    by_prompt = {prompt_of(b): b for b in bodies}
    for req in requests:
        assert req["method"] == "POST" and req["url"] == "/v1/chat/completions"
        assert req["body"] == by_prompt[prompt_of(req["body"])]
    assert {r["custom_id"] for r in requests} == set(manifest["requests"])
    sizes = [s["requests"] for s in manifest["shards"]]
    assert max(sizes) == 150 and sum(sizes) == len(requests) and len(sizes) == 3
    assert all(s["bytes"] == (out / s["file"]).stat().st_size for s in manifest["shards"])
    assert manifest["cost_estimate"]["cost_at_most"] > 0
    assert manifest["input_tokens_estimate"] == sum(s["input_tokens_estimate"]
                                                    for s in manifest["shards"]) > 0
    assert len(manifest["templates"]) == 2


def test_import_counts_every_bad_line_and_gives_the_served_scores(served, batch, capsys):
    bench, scores, pairs, _ = served
    _, out, cache, output, manifest, requests, sabotaged = batch
    capsys.readouterr()
    assert judge_main(["import", str(output), "--cache-dir", str(cache),
                "--manifest", str(out / "manifest.json")]) == 1
    err = capsys.readouterr().err
    failed = [line for line in err.splitlines() if line.startswith("failed: ")]
    assert len(failed) == len(sabotaged) + 2
    for cid, why in sabotaged.items():
        assert any(why in line for line in failed), why
    assert any("not in the manifest" in line for line in failed)
    assert any("duplicate custom_id" in line for line in failed)

    store = ScoreCache(str(cache))
    cid = requests[10]["custom_id"]
    record = json.loads(store.get_blob("vlm_judge/provenance/v1", cid))
    assert record["source"] == "batch import" and record["model"] == MODEL
    assert record["reported"]["system_fingerprint"] == "fp_test"
    assert record["reported"]["batch_line_id"] == f"batch_req_{cid[:6]}"
    assert set(json.loads(store.get_blob("vlm_judge/v1", cid))) == {"text", "tokens", "top"}

    judge = VlmJudge(backend="batch", model=MODEL, cache_dir=str(cache))
    from_batch = judge.score(bench.samples)
    keys = [r.key for r in judge.pointwise_requests(bench.samples)[0]]
    lost = [i for i, k in enumerate(keys) if k in sabotaged]
    kept = [i for i in range(len(keys)) if i not in lost]
    assert lost and kept
    assert len(set(np.round(scores.scores[kept], 9))) > 100  # every prompt its own score
    np.testing.assert_array_equal(from_batch.scores[kept], scores.scores[kept])
    assert np.all(np.isnan(from_batch.scores[lost]))
    assert all(from_batch.failures[bench.samples[i].id] == NOT_IN_CACHE for i in lost)
    pair_out = judge.compare(_pairs(bench))
    finite = np.isfinite(pair_out.prob_b_better)
    assert finite.sum() > 0.9 * len(finite)
    np.testing.assert_array_equal(pair_out.prob_b_better[finite], pairs.prob_b_better[finite])


def test_a_second_import_changes_nothing(batch, capsys):
    _, out, cache, output, manifest, _, _ = batch
    judge_main(["import", str(output), "--cache-dir", str(cache),
                "--manifest", str(out / "manifest.json")])
    store = ScoreCache(str(cache))
    before = {k: store.get_blob("vlm_judge/v1", k) for k in manifest["requests"]}
    capsys.readouterr()
    judge_main(["import", str(output), "--cache-dir", str(cache),
                "--manifest", str(out / "manifest.json")])
    summary = capsys.readouterr().out
    assert summary.startswith("0 answers added to the cache, ")
    assert {k: store.get_blob("vlm_judge/v1", k) for k in manifest["requests"]} == before


def test_run_correlation_runs_from_the_imported_cache_without_a_server(served, batch,
                                                                       tmp_path):
    bench, scores, _, _ = served
    _, out, cache, output, _, _, sabotaged = batch
    judge_main(["import", str(output), "--cache-dir", str(cache),
                "--manifest", str(out / "manifest.json")])
    assert run_main(["--benchmark", "demo", "--metrics", "vlm_judge", "--out", str(tmp_path),
                     "--cache-dir", str(cache), "--metric-option", "vlm_judge.backend=batch",
                     "--metric-option", f"vlm_judge.model={MODEL}", "--bootstrap", "50",
                     "--permutations", "50", "--quiet"]) == 0
    rows = {r["sample_id"]: float(r["score"]) for r in read_csv(tmp_path / "scores.csv")
            if r["metric"] == "vlm_judge"}
    keys = VlmJudge(backend="batch", model=MODEL).pointwise_requests(bench.samples)[0]
    assert len(rows) == len(bench.samples)
    for s, key, served_score in zip(bench.samples, keys, scores.scores):
        if key.key in sabotaged:
            assert math.isnan(rows[s.id])
        else:
            assert rows[s.id] == pytest.approx(served_score, abs=1e-12)


def test_export_skips_what_the_cache_answers_and_refuses_a_used_folder(batch, tmp_path):
    _, out, cache, output, manifest, _, sabotaged = batch
    judge_main(["import", str(output), "--cache-dir", str(cache),
                "--manifest", str(out / "manifest.json")])
    again = tmp_path / "again"
    assert judge_main(["export", "--benchmark", "demo", "--pairwise", "--out", str(again),
                       "--metric-option", f"vlm_judge.model={MODEL}", "--cache-dir", str(cache),
                       "-q"]) == 0
    second = json.loads((again / "manifest.json").read_text())
    assert set(second["requests"]) == set(sabotaged)
    assert second["counts"]["already_in_cache"] == len(manifest["requests"]) - len(sabotaged)
    assert judge_main(["export", "--benchmark", "demo", "--out", str(out),
                       "--cache-dir", str(cache), "-q"]) == 2


def test_images_can_go_as_urls_the_user_serves(batch, tmp_path):
    _, _, _, _, _, requests, _ = batch
    bench = load_benchmark("demo")
    root = os.path.commonpath([os.path.realpath(s.image) for s in bench.samples])
    out = tmp_path / "urls"
    assert judge_main(["export", "--benchmark", "demo", "--out", str(out),
                       "--metric-option", f"vlm_judge.model={MODEL}",
                       "--cache-dir", str(tmp_path / "empty"), "-q",
                       "--image-url-prefix", "https://example.org/img/",
                       "--image-url-root", root]) == 0
    inline = {r["custom_id"]: r["body"] for r in requests}
    lines = [json.loads(line) for line in (out / "batch_00001.jsonl").read_text().splitlines()]
    assert lines
    for line in lines:
        body = line["body"]
        url = body["messages"][0]["content"][0]["image_url"]["url"]
        assert url.startswith("https://example.org/img/") and "//" not in url[8:]
        local = os.path.join(root, *url[len("https://example.org/img/"):].split("/"))
        assert os.path.isfile(local)
        same = json.loads(json.dumps(inline[line["custom_id"]]))
        same["messages"][0]["content"][0]["image_url"]["url"] = url
        assert body == same  # only the image's form differs from the served body
    elsewhere = tmp_path / "elsewhere"
    assert judge_main(["export", "--benchmark", "demo", "--out", str(elsewhere),
                       "--metric-option", f"vlm_judge.model={MODEL}",
                       "--cache-dir", str(tmp_path / "empty"), "-q",
                       "--image-url-prefix", "https://example.org/img",
                       "--image-url-root", str(tmp_path)]) == 0
    manifest = json.loads((elsewhere / "manifest.json").read_text())
    assert manifest["counts"]["exported"] == 0 and manifest["counts"]["not_exportable"] > 0
    assert all("not under the image URL root" in why
               for why in manifest["not_exportable"].values())


def test_reason_generation_goes_out_and_comes_back_as_a_batch(tmp_path, capsys):
    from experiments.socratis.reasons import main as generate
    from tests.experiments.test_generate_reasons import emotion_reply
    from tests.helpers.socratis_fixture import write_socratis

    socratis = write_socratis(tmp_path / "socratis")
    common = ["--socratis-dir", str(socratis), "--model", "served-vlm", "--generator", "served",
              "--max-new-tokens", "10", "-q"]
    with LoopbackServer(emotion_reply) as server:
        assert generate([*common, "--base-url", server.url, "--out", str(tmp_path / "served.jsonl"),
                         "--cache-dir", str(tmp_path / "served_cache")]) == 0
        served_bodies = {prompt_of(b): b for b in server.bodies}
    cache = str(tmp_path / "batch_cache")
    out = tmp_path / "export"
    assert generate([*common, "--batch-export", str(out), "--cache-dir", cache]) == 0
    assert not (tmp_path / "socratis" / "generations.jsonl").read_text().count('"served"')
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "generation" and manifest["counts"]["exported"] == 5
    requests = [json.loads(line) for line in (out / "batch_00001.jsonl").read_text().splitlines()]
    lines = []
    for req in requests:
        assert req["body"] == served_bodies[prompt_of(req["body"])]
        _, body = emotion_reply(req["body"], 0)
        lines.append(_line(req["custom_id"], {**body, "model": "served-vlm"}))
    (tmp_path / "out.jsonl").write_text("\n".join(lines) + "\n")
    assert judge_main(["import", str(tmp_path / "out.jsonl"), "--cache-dir", cache,
                       "--manifest", str(out / "manifest.json")]) == 0
    assert generate([*common, "--from-batch", "--out", str(tmp_path / "batch.jsonl"),
                     "--cache-dir", cache]) == 0
    assert (tmp_path / "batch.jsonl").read_bytes() == (tmp_path / "served.jsonl").read_bytes()
    # Nothing left to export; without the imported answers, --from-batch asks nothing and fails.
    assert generate([*common, "--batch-export", str(tmp_path / "again"),
                     "--cache-dir", cache]) == 0
    assert json.loads((tmp_path / "again" / "manifest.json").read_text())["counts"] == {
        "exported": 0, "already_in_cache": 5, "not_exportable": 0, "shards": 0}
    capsys.readouterr()
    assert generate([*common, "--from-batch", "--out", str(tmp_path / "none.jsonl"),
                     "--cache-dir", str(tmp_path / "empty")]) == 1
    assert "no answer in the cache" in capsys.readouterr().err


def test_a_secret_in_extra_body_never_reaches_a_batch_file(tmp_path, capsys):
    out = tmp_path / "secret"
    assert judge_main(["export", "--benchmark", "demo", "--out", str(out), "-q",
                       "--metric-option", f"vlm_judge.model={MODEL}",
                       "--metric-option", 'vlm_judge.extra_body={"api_key": "sk-abcdef123456"}',
                       "--cache-dir", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "extra_body carries a secret" in err and "sk-abcdef123456" not in err
    assert not out.exists() or not any(out.iterdir())


def test_shards_imported_one_by_one_leave_nothing_missing(batch, tmp_path, capsys):
    _, out, _, _, manifest, requests, _ = batch
    cache = str(tmp_path / "fresh")
    files = []
    for k, shard in enumerate(manifest["shards"]):
        lines = [json.loads(line) for line in (out / shard["file"]).read_text().splitlines()]
        path = tmp_path / f"out_{k}.jsonl"
        path.write_text("".join(_line(r["custom_id"], answer(r["body"])) + "\n" for r in lines))
        files.append(path)
    summaries = []
    for path in files:
        capsys.readouterr()
        assert judge_main(["import", str(path), "--cache-dir", cache,
                           "--manifest", str(out / "manifest.json")]) == 0
        summaries.append(capsys.readouterr().out)
    assert summaries[-1].strip().endswith(f"0 of {len(requests)} requests still without an answer")
    assert f"{len(requests) - manifest['shards'][0]['requests']} of" in summaries[0]
