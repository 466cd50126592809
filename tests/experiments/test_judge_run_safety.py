"""run_correlation with a served judge that cannot run, and secrets on the command line."""
from __future__ import annotations

import json
import socket
import sys

from experiments.run_correlation import main

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
