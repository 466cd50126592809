"""generate_reasons: tiny random models built offline, and a loopback served backend."""
from __future__ import annotations

import base64
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from experiments.socratis.reasons import (PAPER_PROMPT, LocalGenerator, generation_tasks, main)
from tests.helpers.openai_server import LoopbackServer, completion
from tests.helpers.socratis_fixture import write_socratis
from tests.helpers.tiny_models import tiny_llava, tiny_t5

REPO = Path(__file__).resolve().parents[2]
TASKS = [("101", "sad"), ("101", "saddness"), ("101", "angry"), ("202", "happy"), ("202", "proud")]
KEY = "sk-test-9Qx7SECRET"


@pytest.fixture(scope="module")
def llava(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-llava")
    model, processor = tiny_llava(folder)
    return folder, model, processor


@pytest.fixture(scope="module")
def t5(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-t5")
    model, tokenizer = tiny_t5(folder)
    return folder, model, tokenizer


@pytest.fixture
def socratis(tmp_path):
    return write_socratis(tmp_path / "socratis")


def rows(path, generator=None):
    found = [json.loads(line) for line in Path(path).read_text().splitlines()]
    return [r for r in found if generator is None or r["generator"] == generator]


def run(socratis, *extra, out=None, cache=None):
    out = out or socratis / "generations.jsonl"
    args = ["--socratis-dir", str(socratis), "--out", str(out), "--quiet",
            "--max-new-tokens", "10", *extra]
    if cache:
        args += ["--cache-dir", str(cache)]
    return main(args)


def test_each_item_emotion_once_with_the_papers_prompt(socratis):
    tasks = generation_tasks(socratis)
    assert [(t.item_id, t.emotion) for t in tasks] == TASKS
    assert tasks[0].prompt == ('Why does a person feel "sad" after seeing this image and reading '
                               'the news caption, Floodwater reaches the town square?')
    assert tasks[0].image == str(socratis / "images" / "flood.png")
    assert PAPER_PROMPT.count("{") == 2
    custom = generation_tasks(socratis, template="{caption} -> {emotion}? {not a field}")
    assert custom[-1].prompt == "Local team wins the championship -> proud? {not a field}"


def test_local_vlm_writes_what_the_model_generates(llava, socratis, tmp_path):
    folder, model, processor = llava
    assert run(socratis, "--model", str(folder), "--generator", "tiny-llava",
               "--batch-size", "1", cache=tmp_path / "c") == 0
    out = rows(socratis / "generations.jsonl", "tiny-llava")
    assert [(r["item_id"], r["emotion"], r["generator"]) for r in out] == \
        [(i, e, "tiny-llava") for i, e in TASKS]
    # By hand: the paper's prompt in the chat format, the image, greedy decoding.
    for task, row in zip(generation_tasks(socratis), out):
        chat = f"<s>user: <image>\n{task.prompt}</s><s>assistant: "
        with Image.open(task.image) as img:
            inputs = processor(text=[chat], images=[img.convert("RGB")], return_tensors="pt")
        with torch.no_grad():
            ids = model.generate(**inputs, max_new_tokens=10, do_sample=False, pad_token_id=0)
        expected = processor.tokenizer.decode(ids[0, inputs["input_ids"].shape[1]:],
                                              skip_special_tokens=True).strip()
        assert row["reason"] == expected and re.fullmatch(r"[a-z ]+", expected)


def test_a_second_run_asks_nothing_and_writes_the_same_bytes(llava, socratis, tmp_path,
                                                              monkeypatch, capsys):
    folder = llava[0]
    args = ("--model", str(folder), "--generator", "tiny-llava", "--batch-size", "2")
    assert run(socratis, *args, cache=tmp_path / "c") == 0
    first = (socratis / "generations.jsonl").read_bytes()

    def no_model(self):
        raise AssertionError("the model was loaded although every answer is cached")

    monkeypatch.setattr(LocalGenerator, "_load", no_model)
    assert run(socratis, *args, cache=tmp_path / "c") == 0
    assert (socratis / "generations.jsonl").read_bytes() == first
    assert "5 from the cache, 0 asked" in capsys.readouterr().out
    # A setting that changes the answers is a new key: the model is asked again.
    with pytest.raises(AssertionError, match="the model was loaded"):
        run(socratis, *args, "--prompt", "Why {emotion}? {caption}", cache=tmp_path / "c")


def test_text_only_seq2seq_model_needs_no_image(t5, socratis, tmp_path):
    folder, model, tokenizer = t5
    for image in (socratis / "images").iterdir():
        image.unlink()
    assert run(socratis, "--model", str(folder), "--text-only", "--generator", "flan-t5-text",
               cache=tmp_path / "c") == 0
    for task, row in zip(generation_tasks(socratis), rows(socratis / "generations.jsonl",
                                                             "flan-t5-text")):
        inputs = tokenizer([task.prompt], return_tensors="pt")
        with torch.no_grad():
            ids = model.generate(**inputs, max_new_tokens=10, do_sample=False)
        assert row["reason"] == tokenizer.decode(ids[0], skip_special_tokens=True).strip()
        assert row["emotion"] == task.emotion and row["reason"]


def test_other_generators_rows_are_kept_in_a_fixed_order(llava, socratis, tmp_path):
    out = socratis / "generations.jsonl"  # the fixture's blip2 and text-only rows
    before = [r for r in rows(out)]
    assert run(socratis, "--model", str(llava[0]), "--generator", "a-first",
               cache=tmp_path / "c") == 0
    after = rows(out)
    assert [r["generator"] for r in after] == ["a-first"] * 5 + ["blip2"] * 2 + ["text-only"] * 2
    assert [r for r in after if r["generator"] != "a-first"] == sorted(
        before, key=lambda r: (r["generator"], r["item_id"]))


def test_missing_weights_are_one_clear_error(socratis, capsys):
    assert run(socratis, "--model", "nobody/no-such-model", "--generator", "x") == 2
    err = capsys.readouterr().err
    assert "'nobody/no-such-model' are not available offline" in err and "hf download" in err


# -- served -------------------------------------------------------------------

def emotion_reply(body, n):
    prompt = body["messages"][0]["content"][-1]["text"]
    emotion = re.search(r'feel "([^"]+)"', prompt).group(1)
    return 200, completion(f" because of the {emotion} news ")


def served_args(server, *extra):
    return ("--base-url", server.url, "--model", "served-vlm", "--generator", "served",
            "--api-key-env", "MY_TEST_KEY", "--max-retries", "0", *extra)


def test_served_backend_sends_the_prompt_and_image_and_keeps_the_key_out(socratis, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setenv("MY_TEST_KEY", KEY)
    with LoopbackServer(emotion_reply) as server:
        assert run(socratis, *served_args(server), out=tmp_path / "g.jsonl",
                   cache=tmp_path / "c") == 0
    assert [r["reason"] for r in rows(tmp_path / "g.jsonl")] == \
        [f"because of the {e} news" for _, e in TASKS]
    assert sorted(server.prompts) == sorted(t.prompt for t in generation_tasks(socratis))
    body = server.bodies[0]
    assert body["model"] == "served-vlm" and body["temperature"] == 0
    assert body["max_tokens"] == 10 and "logprobs" not in body
    image = body["messages"][0]["content"][0]["image_url"]["url"]
    header, data = image.split(",", 1)
    first = next(t for t in generation_tasks(socratis) if t.prompt == server.prompts[0])
    assert header == "data:image/png;base64" and base64.b64decode(data) == Path(first.image).read_bytes()
    assert set(server.auth) == {f"Bearer {KEY}"}
    for path in [tmp_path / "g.jsonl", *Path(tmp_path / "c").iterdir()]:
        assert KEY.encode() not in path.read_bytes(), path


def test_failed_requests_are_reported_and_retried_next_time(socratis, tmp_path, capsys):
    def flaky(body, n):
        if '"angry"' in body["messages"][0]["content"][-1]["text"]:
            return 400, {"error": {"message": "bad request"}}
        return emotion_reply(body, n)

    out = tmp_path / "g.jsonl"
    with LoopbackServer(flaky) as server:
        assert run(socratis, *served_args(server), out=out, cache=tmp_path / "c") == 1
    assert "1 not generated (101/angry: HTTP 400" in capsys.readouterr().err
    assert [r["emotion"] for r in rows(out)] == ["sad", "saddness", "happy", "proud"]
    with LoopbackServer(emotion_reply) as server:
        assert run(socratis, *served_args(server), out=out, cache=tmp_path / "c") == 0
    assert len(server.bodies) == 1 and '"angry"' in server.prompts[0]
    assert len(rows(out)) == 5


def test_an_unreachable_server_is_an_error_before_any_request(socratis, tmp_path, capsys):
    """The same served client as the judge: checked once, a clear message, exit 2."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = ("--base-url", f"http://127.0.0.1:{port}/v1", "--model", "m", "--generator", "served",
            "--max-retries", "5")
    assert run(socratis, *args, out=tmp_path / "g.jsonl", cache=tmp_path / "c") == 2
    err = capsys.readouterr().err
    assert f"cannot reach the server at http://127.0.0.1:{port}/v1" in err
    assert "try 2 of 6" not in err and not (tmp_path / "g.jsonl").exists()


def test_a_killed_run_resumes_without_asking_again(socratis, tmp_path):
    """The third request hangs; the process is killed once two answers are cached.
    The next run asks only the three unfinished ones and writes what a clean run writes."""
    release = threading.Event()

    def hang_third(body, n):
        if n == 2:
            release.wait(timeout=60)
        return emotion_reply(body, n)

    cache, out = tmp_path / "cache", tmp_path / "g.jsonl"
    with LoopbackServer(hang_third) as server:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        args = ["--socratis-dir", str(socratis), "--out", str(out), "--quiet",
                "--max-new-tokens", "10", "--cache-dir", str(cache),
                *served_args(server, "--max-concurrency", "1")]
        child = subprocess.Popen([sys.executable, "-m", "experiments.generate_reasons", *args],
                                 cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            # the third request leaves the client after the second answer is cached: wait
            # for both events (on a busy machine the check came between them)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and (_cached_answers(cache) < 2
                                                   or len(server.bodies) < 3):
                time.sleep(0.05)
            assert _cached_answers(cache) == 2 and len(server.bodies) == 3
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
            release.set()
        assert not out.exists()
        asked_before = server.prompts[:2]
        assert main(args) == 0
        again = server.prompts[3:]
    assert len(again) == 3 and not set(again) & set(asked_before)
    with LoopbackServer(emotion_reply) as clean:
        assert run(socratis, *served_args(clean), out=tmp_path / "clean.jsonl",
                   cache=tmp_path / "fresh") == 0
    assert out.read_bytes() == (tmp_path / "clean.jsonl").read_bytes()


def _cached_answers(cache: Path) -> int:
    db = cache / "scores.sqlite"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM blobs WHERE namespace='generate_reasons'"
                                ).fetchone()[0]
    except sqlite3.OperationalError:
        return 0
