"""run_correlation with a served judge that cannot run, and secrets on the command line,
in a JSON option or echoed back by the server."""
from __future__ import annotations

import json
import socket
import sys

import pytest

from experiments.run_correlation import main
from tests.helpers.openai_server import LoopbackServer, completion

SECRET = "sk-proj-4f3e2d1c0b9a8877"
PASSWORD = "hunter2hunter2"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(tmp_path, *options):
    out = tmp_path / "out"
    args = ["--metrics", "rouge_l,vlm_judge", "--out", str(out), "--cache-dir",
            str(tmp_path / "cache"), "--bootstrap", "50", "--permutations", "50", "--quiet",
            *options]
    code = main(args)
    return code, out, json.loads((out / "run.json").read_text())


def skipped_reason(record, metric):
    (entry,) = [m for m in record["metrics"] if m["metric"] == metric]
    return entry["skipped"]


def test_an_unreachable_judge_is_a_metric_that_cannot_run_found_at_once(tmp_path):
    port = closed_port()
    _, out, record = run(tmp_path, "--metric-option",
                         f"vlm_judge.base_url=http://127.0.0.1:{port}/v1",
                         "--metric-option", "vlm_judge.max_retries=5")
    reason = skipped_reason(record, "vlm_judge")
    assert f"cannot reach the server at http://127.0.0.1:{port}/v1" in reason
    assert "nothing was asked" in reason
    assert skipped_reason(record, "rouge_l") is None
    assert "cannot reach the server" in (out / "report.md").read_text()


def test_secrets_given_on_the_command_line_reach_no_file(tmp_path, monkeypatch):
    options = ["--metric-option", f"vlm_judge.api_key={SECRET}",
               "--metric-option", f"vlm_judge.base_url=http://me:{PASSWORD}@127.0.0.1:{closed_port()}/v1"]
    monkeypatch.setattr(sys, "argv", ["python", "-m", "experiments.run_correlation", *options])
    _, out, record = run(tmp_path, *options)
    assert "api_key is not an option" in skipped_reason(record, "vlm_judge")
    assert "OPENAI_API_KEY" in skipped_reason(record, "vlm_judge")
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET.encode() not in data and PASSWORD.encode() not in data, path
    assert "vlm_judge.api_key=***" in record["command"]
    assert "vlm_judge.api_key=***" in json.dumps(record["arguments"])
    assert "http://***@127.0.0.1:" in record["command"]


def served_run(tmp_path, server, out_name, *options):
    out = tmp_path / out_name
    code = main(["--metrics", "rouge_l,vlm_judge", "--out", str(out), "--cache-dir",
                 str(tmp_path / "cache"), "--bootstrap", "50", "--permutations", "50", "--quiet",
                 "--metric-option", f"vlm_judge.base_url={server.url}",
                 "--metric-option", "vlm_judge.backoff_base=0.01",
                 "--metric-option", "vlm_judge.max_concurrency=4", *options])
    return code, out, json.loads((out / "run.json").read_text())


def written_files(tmp_path):
    return [p for p in tmp_path.rglob("*") if p.is_file()]


def test_a_key_inside_extra_body_reaches_no_file_and_no_cache_key(tmp_path, monkeypatch):
    """LiteLLM-style gateways take the key in the body; extra_body is part of the signature."""
    first, second = "sk-gw-first-0123456789", "sk-gw-second-9876543210"
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    option = 'vlm_judge.extra_body={"api_key": "%s", "metadata": {"team": "nlp"}}'
    monkeypatch.setattr(sys, "argv", ["python", "-m", "experiments.run_correlation",
                                      "--metric-option", option % first])
    with LoopbackServer(lambda body, n: (200, completion("4"))) as server:
        _, out, record = served_run(tmp_path, server, "first", "--metric-option", option % first)
        asked = len(server.bodies)
        assert asked and {b["api_key"] for b in server.bodies} == {first}
        (entry,) = [m for m in record["metrics"] if m["metric"] == "vlm_judge"]
        assert entry["skipped"] is None and entry["computed"] > 0
        assert 'extra_body={"api_key":"<secret>","metadata":{"team":"nlp"}}' in entry["signature"]
        assert '"api_key": "***"' in record["command"]
        assert "extra_body={\"api_key\":\"<secret>\"" in (out / "report.md").read_text()
        for path in written_files(tmp_path):
            assert first.encode() not in path.read_bytes(), path
        # Another key is the same judge: every score comes from the cache (the
        # demo's unscored samples, never cached, fail again without a request).
        _, _, again = served_run(tmp_path, server, "second", "--metric-option", option % second)
        (entry2,) = [m for m in again["metrics"] if m["metric"] == "vlm_judge"]
        assert entry2["signature"] == entry["signature"]
        assert entry2["cached"] == entry["computed"] - entry["unscored"] > 0
        assert len(server.bodies) == asked


def test_a_short_key_echoed_by_a_server_reaches_no_file_and_no_stderr(tmp_path, monkeypatch,
                                                                      capsys, caplog):
    """Keys of fewer than 8 characters were shown as they were."""
    key = "k7Zq9wX"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    reply = lambda body, n: (500, {"error": f"upstream refused Bearer {key}"})  # noqa: E731
    with LoopbackServer(reply) as server:
        _, out, record = served_run(tmp_path, server, "out")
    assert set(server.auth) == {f"Bearer {key}"}
    reason = skipped_reason(record, "vlm_judge")
    assert "HTTP 500" in reason and "upstream refused Bearer [API key]" in reason
    assert "upstream refused Bearer [API key]" in (out / "report.md").read_text()
    for path in written_files(tmp_path):
        assert key.encode() not in path.read_bytes(), path
    err = capsys.readouterr().err
    assert "HTTP 500" in err + caplog.text
    assert key not in err and key not in caplog.text


@pytest.mark.parametrize("selected, options, named", [
    ("rouge_l", ['vlm_judge.extra_body={"api_key": "%s"}'], "metric 'vlm_judge' is not selected"),
    ("rouge_l,vlm_judge", ['vlm_judge.extra_body={"api_key": "%s"}'] * 2,
     "vlm_judge.extra_body is given twice"),
    ("rouge_l,vlm_judge", ['vlm_judge.top_logprobs={"token": "%s"}'],
     "vlm_judge.top_logprobs="),
])
def test_a_refused_metric_option_names_the_option_but_not_its_secret(tmp_path, capsys, selected,
                                                                     options, named):
    args = ["--metrics", selected, "--out", str(tmp_path / "out")]
    for option in options:
        args += ["--metric-option", option % SECRET]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and named in err
    assert SECRET not in err and "***" in err
