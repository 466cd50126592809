"""The served backend against a scripted OpenAI-compatible server on 127.0.0.1.

The server (tests/helpers/openai_server.py) runs in a thread on an ephemeral
port, answers from a script (status, headers, body, delay) and records every
request, how many were in flight at once, and the Authorization headers it saw.
"""
from __future__ import annotations

import base64
import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from metrics import InputError, MetricError, ScoreCache, Sample, default_cache_dir, get_metric, score_with_cache
from metrics.vlm_judge import VlmJudge
from tests.helpers.openai_server import LoopbackServer

KEY = "sk-test-Zq81SECRETkey"


@pytest.fixture
def serve():
    servers = []

    def start(reply, **options):
        servers.append(LoopbackServer(reply, **options))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def _prompt(body: dict) -> str:
    return next(part["text"] for part in body["messages"][0]["content"] if part["type"] == "text")


def completion(text: str, top: list[list[tuple[str, float]]] | None = None) -> dict:
    """A chat completion whose tokens are `top`'s first entries, with alternatives."""
    choice = {"index": 0, "finish_reason": "stop",
              "message": {"role": "assistant", "content": text}}
    if top is not None:
        choice["logprobs"] = {"content": [
            {"token": alts[0][0], "logprob": math.log(alts[0][1]),
             "top_logprobs": [{"token": t, "logprob": math.log(p)} for t, p in alts]}
            for alts in top]}
    return {"id": "x", "object": "chat.completion", "model": "judge", "choices": [choice]}


def ok(payload, delay=0.0):
    return 200, {}, payload, delay


RATING_TOP = [[("4", 0.5), ("3", 0.3), ("5", 0.1), ("The", 0.05)]]
RATING_EXPECTED = (4 * 0.5 + 3 * 0.3 + 5 * 0.1) / 0.9  # normalised over the scale's labels


@pytest.fixture
def image(tmp_path) -> str:
    path = tmp_path / "news.png"
    Image.new("RGB", (8, 6), (10, 120, 200)).save(path)
    return str(path)


def socratis(image: str, n: int = 1, emotion: str = "fear") -> list[Sample]:
    return [Sample(f"s{i}", f"reason number {i} about the flood", image=image,
                   context={"caption": "Floodwater reaches the town square", "emotion": emotion})
            for i in range(n)]


def make_judge(server, **options) -> VlmJudge:
    options = {"base_url": server.url, "model": "judge-model", "backoff_base": 0.01,
               "timeout": 5, "max_retries": 3, **options}
    judge = VlmJudge(**options)
    judge.backend.sleep = lambda seconds: None
    return judge


def test_expected_rating_from_scripted_top_logprobs(serve, image):
    server = serve(lambda body, n: ok(completion("4", RATING_TOP)))
    out = make_judge(server).score(socratis(image, 2))
    np.testing.assert_allclose(out.scores, [RATING_EXPECTED] * 2)
    np.testing.assert_array_equal(out.extras["raw_rating"], [4, 4])
    np.testing.assert_array_equal(out.extras["used_probabilities"], [1, 1])
    np.testing.assert_allclose(out.extras["rating_mass"], [0.9, 0.9])
    assert out.failures == {}
    body = server.bodies[0]
    assert body["model"] == "judge-model" and body["temperature"] == 0
    assert body["logprobs"] is True and body["top_logprobs"] == 20 and body["max_tokens"] == 8
    image_part = body["messages"][0]["content"][0]
    assert image_part["type"] == "image_url"
    header, data = image_part["image_url"]["url"].split(",", 1)
    assert header == "data:image/png;base64"
    assert base64.b64decode(data) == Path(image).read_bytes()
    prompt = _prompt(body)
    assert '"Floodwater reaches the town square"' in prompt and "felt fear" in prompt
    assert "reason number" in prompt and "{" not in prompt


def test_without_logprobs_the_parsed_rating_is_the_score(serve, image):
    server = serve(lambda body, n: ok(completion("Rating: 2")))
    out = make_judge(server).score(socratis(image))
    assert out.scores[0] == 2.0 and out.extras["raw_rating"][0] == 2.0
    assert out.extras["used_probabilities"][0] == 0 and math.isnan(out.extras["rating_mass"][0])


def test_a_server_that_rejects_logprobs_is_asked_again_without(serve, image):
    def reply(body, n):
        if body.get("logprobs"):
            return 400, {}, {"error": {"message": "logprobs is not supported"}}, 0.0
        return ok(completion("5"))

    server = serve(reply)
    out = make_judge(server).score(socratis(image, 2))
    np.testing.assert_array_equal(out.scores, [5, 5])
    np.testing.assert_array_equal(out.extras["used_probabilities"], [0, 0])
    assert [("logprobs" in b) for b in server.bodies].count(False) == 2


@pytest.mark.parametrize("limit", [4, 1])
def test_requests_overlap_up_to_the_concurrency_limit(serve, image, limit):
    """Exact, whatever the machine's load: each reply is held (on events, not
    time) until the client has as many requests in flight as it may."""

    def reply(body, n):
        assert server.hold_until_filled(limit, total=8)
        return ok(completion("3"))

    server = serve(reply)
    out = make_judge(server, max_concurrency=limit).score(socratis(image, 8))
    assert len(server.bodies) == 8 and np.all(out.scores == 3)
    assert server.max_in_flight == limit


def test_a_lingering_handler_thread_is_not_a_request_in_flight(serve, image):
    """Why the limit-1 case once saw 2 in flight: the test server counted a
    request until its handler thread ended, after the answer had gone out, and
    on a loaded machine the client's next request arrived first. Here every
    handler thread lingers until the next request has arrived."""
    server = serve(lambda body, n: ok(completion("3")), keep_alive=False)
    server.after_reply = lambda n: n + 1 < 3 and server.wait_for_requests(n + 2, timeout=10)
    out = make_judge(server, max_concurrency=1).score(socratis(image, 3))
    assert np.all(out.scores == 3) and len(server.bodies) == 3
    assert server.max_in_flight == 1


def test_retries_on_429_500_and_timeout_then_success(serve, image, caplog):
    script = [(429, {"Retry-After": "2"}, {"error": "slow down"}, 0.0),
              (500, {}, "internal error", 0.0),
              (200, {}, completion("1"), 3.0),  # past the client's timeout
              (200, {}, completion("4", RATING_TOP), 0.0)]
    server = serve(lambda body, n: script[n])
    judge = make_judge(server, timeout=1.0, backoff_base=0.5, seed=3)
    waits: list[float] = []
    judge.backend.sleep = waits.append
    with caplog.at_level(logging.WARNING):
        out = judge.score(socratis(image))
    assert len(server.bodies) == 4
    assert out.scores[0] == pytest.approx(RATING_EXPECTED) and out.failures == {}
    assert waits[0] == 2.0  # Retry-After honoured
    # Exponential steps 0.5 * 2**k with jitter in [step/2, step].
    assert 0.5 <= waits[1] <= 1.0 and 1.0 <= waits[2] <= 2.0
    assert "HTTP 429" in caplog.text and "HTTP 500" in caplog.text and "timeout" in caplog.text
    # The jitter is seeded: the same request waits the same again.
    server2 = serve(lambda body, n: script[n])
    judge2 = make_judge(server2, timeout=1.0, backoff_base=0.5, seed=3, response_cache=False)
    waits2: list[float] = []
    judge2.backend.sleep = waits2.append
    judge2.score(socratis(image))
    assert waits2 == waits


def test_nan_with_the_error_after_the_last_try(serve, image):
    server = serve(lambda body, n: (503, {}, "overloaded", 0.0))
    out = make_judge(server, max_retries=2).score(socratis(image))
    assert len(server.bodies) == 3
    assert math.isnan(out.scores[0])
    assert "HTTP 503" in out.failures["s0"] and "gave up after 3 tries" in out.failures["s0"]


def test_a_client_error_is_not_retried(serve, image):
    server = serve(lambda body, n: (400, {}, {"error": "image too large"}, 0.0))
    out = make_judge(server).score(socratis(image))
    assert len(server.bodies) == 1 and "HTTP 400" in out.failures["s0"]


def test_a_trickling_answer_is_cut_off_at_the_timeout(serve, image):
    """`timeout` is a deadline for the whole request: a server that sends its
    headers, then one byte at a time (each byte restarting a read timeout),
    times out, is retried, and the sample is NaN with the reason. The
    server does send a whole answer in the end, so a judge that waits for it
    scores 4 instead of failing."""
    server = serve(lambda body, n: ok(completion("4")), trickle=0.02)
    out = make_judge(server, timeout=0.3, max_retries=1).score(socratis(image))
    assert len(server.bodies) == 2
    assert math.isnan(out.scores[0])
    assert out.failures["s0"] == "no answer within 0.3 s (timeout) (gave up after 2 tries)"


@pytest.mark.parametrize("payload, why", [
    ("<html>bad gateway</html>", "not JSON"),
    ({"choices": []}, "no choices"),
    ({"choices": [{"message": {"role": "assistant"}}]}, "no text content"),
])
def test_a_malformed_body_is_nan_with_the_reason(serve, image, payload, why):
    server = serve(lambda body, n: ok(payload))
    out = make_judge(server).score(socratis(image))
    assert math.isnan(out.scores[0])
    assert "malformed response" in out.failures["s0"] and why in out.failures["s0"]


def test_a_refusal_is_nan_with_the_reason(serve, image):
    server = serve(lambda body, n: ok(completion("I can't help with that.")))
    out = make_judge(server).score(socratis(image))
    assert math.isnan(out.scores[0])
    assert "declined to rate" in out.failures["s0"] and "help with that" in out.failures["s0"]


def test_a_missing_placeholder_is_nan_naming_the_sample(serve, image):
    server = serve(lambda body, n: ok(completion("3")))
    samples = socratis(image, 2)
    samples[1] = Sample("no-emotion", "a reason", image=image, context={"caption": "c"})
    out = make_judge(server).score(samples)
    assert out.scores[0] == 3 and math.isnan(out.scores[1])
    assert "'no-emotion'" in out.failures["no-emotion"] and "{emotion}" in out.failures["no-emotion"]
    assert len(server.bodies) == 1


def test_the_api_key_never_leaks(serve, image, caplog, monkeypatch):
    monkeypatch.setenv("JUDGE_KEY", KEY)

    def reply(body, n):
        if "reason number 0" in _prompt(body):  # a server that echoes the key back
            return 401, {}, {"error": f"Incorrect API key provided: {KEY}"}, 0.0
        if "reason number 1" in _prompt(body) and n < 3:
            return 429, {"Retry-After": "0"}, {"error": f"rate limit for key {KEY}"}, 0.0
        return ok(completion("4", None))

    server = serve(reply)
    with caplog.at_level(logging.DEBUG):
        judge = make_judge(server, api_key_env="JUDGE_KEY", max_concurrency=1)
        output, _ = score_with_cache(judge, socratis(image, 3), ScoreCache(), progress=False)
    assert set(server.auth) == {f"Bearer {KEY}"}  # it was sent ...
    assert "[API key]" in output.failures["s0"]
    assert "Incorrect API key" in output.failures["s0"]
    assert output.scores[1] == 4 and output.scores[2] == 4
    # ... and is nowhere else.
    assert KEY not in caplog.text and "HTTP 429" in caplog.text
    assert KEY not in json.dumps(output.failures)
    assert KEY not in judge.signature() and KEY not in judge.pair_signature()
    assert KEY not in repr(judge) and KEY not in repr(vars(judge))
    cache_files = list(Path(default_cache_dir()).glob("*"))
    assert cache_files
    for path in cache_files:
        assert KEY.encode() not in path.read_bytes(), path


def test_a_placeholder_key_does_not_touch_answers_or_errors(serve, image, monkeypatch):
    """vLLM's documented placeholder key: ratings and error texts stay as they were."""
    monkeypatch.setenv("OPENAI_API_KEY", "EMPTY")

    def reply(body, n):
        if "reason number 0" in _prompt(body):
            return 400, {}, {"error": "image 4 of 4 is too large"}, 0.0
        return ok(completion("4", RATING_TOP))

    server = serve(reply)
    out = make_judge(server).score(socratis(image, 3))
    assert set(server.auth) == {"Bearer EMPTY"}
    np.testing.assert_allclose(out.scores[1:], [RATING_EXPECTED] * 2)
    assert "image 4 of 4 is too large" in out.failures["s0"]
    assert "[API key]" not in json.dumps(out.failures)


def test_a_key_too_short_to_redact_is_refused_before_anything_is_sent(serve, image, monkeypatch):
    """A key "4" cannot be cut out of echoed texts without cutting every rating 4."""
    monkeypatch.setenv("JUDGE_KEY", "4")
    server = serve(lambda body, n: ok(completion("4", RATING_TOP)))
    with pytest.raises(MetricError, match=r"API key in \$JUDGE_KEY has 1 character.*Unset "
                                          r"\$JUDGE_KEY.*at least 4 characters"):
        make_judge(server, api_key_env="JUDGE_KEY").score(socratis(image, 2))
    assert server.bodies == [] and server.gets == []
    with pytest.raises(MetricError, match="a secret in extra_body or base_url has 2 characters"):
        make_judge(server, extra_body={"api_key": "ab"})


def test_a_short_key_echoed_by_a_server_error_is_redacted(serve, image, caplog, monkeypatch):
    """Keys of 4 to 7 characters were shown as they were."""
    monkeypatch.setenv("OPENAI_API_KEY", "k7Zq9wX")

    def reply(body, n):
        return 500, {}, {"error": f"upstream rejected Bearer k7Zq9wX (key=k7Zq9wX)"}, 0.0

    server = serve(reply)
    with caplog.at_level(logging.WARNING):
        out = make_judge(server, max_retries=1).score(socratis(image))
    assert len(server.bodies) == 2 and math.isnan(out.scores[0])
    assert "upstream rejected Bearer [API key]" in out.failures["s0"]
    assert "k7Zq9wX" not in out.failures["s0"]
    assert "HTTP 500" in caplog.text and "k7Zq9wX" not in caplog.text


def test_a_key_echoed_inside_an_answer_is_neither_cached_nor_read(serve, image, caplog,
                                                                  monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    top = [[("4", 0.8), (KEY, 0.1), ("3", 0.1)], [(f" Bearer {KEY}", 0.9)]]
    server = serve(lambda body, n: ok(completion(f"4 Bearer {KEY}", top)))
    cache = ScoreCache()
    with caplog.at_level(logging.WARNING):
        output, _ = score_with_cache(make_judge(server), socratis(image), cache, progress=False)
    assert output.scores[0] == pytest.approx((4 * 0.8 + 3 * 0.1) / 0.9)
    from metrics.vlm_judge.judge import CACHE_NAMESPACE

    (stored,) = [json.loads(v) for (v,) in cache._conn.execute(
        "SELECT value FROM blobs WHERE namespace=?", (CACHE_NAMESPACE,))]
    assert stored["text"] == "4 Bearer [API key]"
    assert stored["tokens"] == ["4", " Bearer [API key]"]
    assert stored["top"] == [{"4": math.log(0.8), "[API key]": math.log(0.1), "3": math.log(0.1)},
                             {" Bearer [API key]": math.log(0.9)}]
    assert "replaced by [API key]" in caplog.text and KEY not in caplog.text


def test_a_key_given_in_extra_body_is_sent_but_named_in_no_signature(serve, image, caplog):
    """LiteLLM-style gateways take the key in the body: the signature and the
    cache keys say that a key was given, not which."""
    first, second = "sk-litellm-AAAA1111", "sk-litellm-BBBB2222"

    def reply(body, n):
        if "reason number 1" in _prompt(body):
            return 400, {}, {"error": f"budget exceeded for {body['api_key']}"}, 0.0
        return ok(completion("4", RATING_TOP))

    server = serve(reply)
    judge = make_judge(server, extra_body={"api_key": first, "metadata": {"user": "me"}})
    out = judge.score(socratis(image, 2))
    assert server.bodies[0]["api_key"] == first
    assert out.scores[0] == pytest.approx(RATING_EXPECTED)
    assert out.failures["s1"] == 'HTTP 400: {"error": "budget exceeded for [API key]"}'
    signature = judge.signature()
    assert 'extra_body={"api_key":"<secret>","metadata":{"user":"me"}}' in signature
    assert first not in signature and first not in judge.pair_signature()
    # Another key: the same signature, and the cached answer is not asked again.
    other = make_judge(server, extra_body={"api_key": second, "metadata": {"user": "me"}})
    assert other.signature() == signature
    asked = len(server.bodies)
    assert other.score(socratis(image, 1)).scores[0] == pytest.approx(RATING_EXPECTED)
    assert len(server.bodies) == asked
    # Settings that change answers still change the signature.
    assert make_judge(server, extra_body={"api_key": first, "metadata": {"user": "you"}}
                      ).signature() != signature
    assert make_judge(server).signature() != signature


def test_an_answer_is_kept_as_the_model_wrote_it(serve, image, monkeypatch):
    """Only places a key can reach are redacted: headers, echoed errors, URLs."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    server = serve(lambda body, n: ok(completion("4 (the reason is fine)")))
    judge = make_judge(server)
    cache = ScoreCache()
    score_with_cache(judge, socratis(image), cache, progress=False)
    from metrics.vlm_judge.judge import CACHE_NAMESPACE

    (stored,) = [json.loads(v) for (v,) in cache._conn.execute(
        "SELECT value FROM blobs WHERE namespace=?", (CACHE_NAMESPACE,))]
    assert stored["text"] == "4 (the reason is fine)"


def test_a_second_run_asks_nothing_and_every_setting_names_its_answers(serve, image, tmp_path):
    server = serve(lambda body, n: ok(completion("4", RATING_TOP)))
    samples = socratis(image, 3)
    first = make_judge(server).score(samples)
    assert len(server.bodies) == 3
    again = make_judge(server).score(samples)  # a new judge: only the cache is shared
    assert len(server.bodies) == 3
    np.testing.assert_array_equal(again.scores, first.scores)
    np.testing.assert_array_equal(again.extras["used_probabilities"], [1, 1, 1])
    # A changed template, model or decoding setting is a new signature and new answers.
    edited = tmp_path / "socratis_reason.txt"
    edited.write_text(Path(make_judge(server).template.path).read_text() + "\nBe strict.\n")
    variants = [make_judge(server, template=str(edited)), make_judge(server, model="other"),
                make_judge(server, temperature=0.7), make_judge(server, top_logprobs=5),
                make_judge(server, max_tokens=4)]
    signatures = {make_judge(server).signature()} | {v.signature() for v in variants}
    assert len(signatures) == 1 + len(variants)
    asked = len(server.bodies)
    for v in variants:
        v.score(samples[:1])
        assert len(server.bodies) == asked + 1
        asked += 1
    # base_url is where, not what: another address for the same model keeps the cache.
    assert make_judge(server, base_url="http://other:1/v1").signature() == make_judge(server).signature()


def test_options_from_a_command_line_arrive_as_strings(serve):
    server = serve(lambda body, n: ok(completion("3")))
    judge = get_metric("vlm_judge", base_url=server.url, model="m", max_concurrency="2",
                       timeout="1.5", logprobs="false", extra_body='{"seed": 1}')
    assert isinstance(judge, VlmJudge) and judge.backend_name == "served"
    assert judge.backend.max_concurrency == 2 and judge.backend.timeout == 1.5
    assert judge.backend.logprobs is False and judge.backend.extra_body == {"seed": 1}
    assert "logprobs=False" in judge.signature()


# -- pairwise ------------------------------------------------------------------------------
HUMAN = "the water has swallowed the houses people live in"
MACHINE = "the image shows water"


def _pair_reply(body, n):
    prompt = _prompt(body)
    human_first = prompt.index(HUMAN) < prompt.index(MACHINE)
    # Order AB (human in slot A): P(slot B) = 0.7; order BA: P(slot A) = 0.6.
    top = [("B", 0.7), ("A", 0.3)] if human_first else [("A", 0.6), ("B", 0.4)]
    return ok(completion(top[0][0], [top]))


def test_pairwise_asks_both_orders_and_maps_them_back(serve, image):
    server = serve(_pair_reply)
    ctx = {"caption": "Floodwater reaches the town square", "emotion": "sadness"}
    pairs = [("p1", Sample("h1", HUMAN, image=image, context=ctx),
              Sample("m1", MACHINE, image=image, context=ctx))]
    judge = make_judge(server)
    out = judge.compare(pairs)
    assert len(server.bodies) == 2
    # Both orders were asked (they may arrive in either order: requests run concurrently).
    ab = [p for p in server.prompts if 'Reason A: "' + HUMAN in p and 'Reason B: "' + MACHINE in p]
    ba = [p for p in server.prompts if 'Reason A: "' + MACHINE in p and 'Reason B: "' + HUMAN in p]
    assert len(ab) == 1 and len(ba) == 1
    np.testing.assert_allclose(out.per_order["ab"]["prob_b_better"], [0.7])
    np.testing.assert_allclose(out.per_order["ba"]["prob_b_better"], [0.6])
    np.testing.assert_allclose(out.prob_b_better, [(0.7 + 0.6) / 2])
    np.testing.assert_array_equal(out.per_order["ab"]["raw_choice"], [1])  # wrote "B"
    np.testing.assert_array_equal(out.per_order["ba"]["raw_choice"], [0])  # wrote "A"
    assert out.ids == ["p1"] and out.failures == {}
    assert out.position_bias() == pytest.approx(((0.7 + 0.4) / 2) - 0.5)
    assert "socratis_pairwise" in out.signature
    # A second run, by a new judge, asks nothing.
    again = make_judge(server).compare(pairs)
    assert len(server.bodies) == 2
    np.testing.assert_array_equal(again.prob_b_better, out.prob_b_better)


def test_pairwise_failures_name_the_pair(serve, image, tmp_path):
    def reply(body, n):
        if _prompt(body).index(MACHINE) < _prompt(body).index(HUMAN):
            return ok(completion("I'm sorry, I can't compare these."))
        return ok(completion("B"))

    server = serve(reply)
    ctx = {"caption": "c", "emotion": "fear"}
    other = tmp_path / "other.png"
    Image.new("RGB", (5, 5), (0, 0, 0)).save(other)
    pairs = [("ok-ish", Sample("h", HUMAN, image=image, context=ctx),
              Sample("m", MACHINE, image=image, context=ctx)),
             ("ctx", Sample("h2", HUMAN, image=image, context=ctx),
              Sample("m2", MACHINE, image=image, context={"caption": "c", "emotion": "joy"})),
             ("img", Sample("h3", HUMAN, image=image, context=ctx),
              Sample("m3", MACHINE, image=str(other), context=ctx))]
    out = make_judge(server).compare(pairs)
    assert len(server.bodies) == 2  # only the first pair was asked
    assert np.all(np.isnan(out.prob_b_better))
    assert "order BA" in out.failures["ok-ish"] and "declined" in out.failures["ok-ish"]
    assert out.per_order["ab"]["prob_b_better"][0] == 1.0  # the good order is kept in the details
    assert "different contexts" in out.failures["ctx"]
    assert "different images" in out.failures["img"]
    with pytest.raises(InputError, match="duplicate pair id 'ctx'"):
        make_judge(server).compare([pairs[1], pairs[1]])


def test_responses_go_to_the_cache_the_run_hands_over(serve, image, tmp_path):
    from metrics import ScoreCache, score_with_cache

    server = serve(lambda body, n: ok(completion("4", RATING_TOP)))
    samples = socratis(image, 2)
    run_cache = ScoreCache(tmp_path / "run-cache")
    score_with_cache(make_judge(server), samples, run_cache, progress=False)
    assert len(server.bodies) == 2
    from metrics.vlm_judge.judge import CACHE_NAMESPACE

    stored = run_cache._conn.execute(
        "SELECT COUNT(*) FROM blobs WHERE namespace=?", (CACHE_NAMESPACE,)).fetchone()[0]
    assert stored == 2
    # A judge scoring without that cache, but pointed at its folder, asks nothing.
    make_judge(server, cache_dir=str(tmp_path / "run-cache")).score(samples)
    assert len(server.bodies) == 2


def test_context_the_prompt_does_not_show_may_differ(serve, image):
    """Socratis pairs: the machine reason's context also names its generator."""
    server = serve(lambda body, n: ok(completion("A")))
    ctx = {"caption": "c", "emotion": "fear"}
    pairs = [("p", Sample("h", HUMAN, image=image, context=ctx),
              Sample("m", MACHINE, image=image, context={**ctx, "generator": "blip2"}))]
    out = make_judge(server).compare(pairs)
    assert out.failures == {} and len(server.bodies) == 2
    # "A" in both orders: each reason wins once, P(b better) = (0 + 1) / 2.
    np.testing.assert_allclose(out.prob_b_better, [0.5])


# -- failing fast ---------------------------------------------------------------------------
def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_server_stops_before_any_request(image):
    """A refused connection once took 1,074 s of retries for 240 samples."""
    judge = VlmJudge(base_url=f"http://127.0.0.1:{_closed_port()}/v1", model="m",
                     backoff_base=0.01)
    waits: list[float] = []
    judge.backend.sleep = waits.append
    with pytest.raises(MetricError, match=r"cannot reach the server at http://127\.0\.0\.1:\d+/v1"):
        judge.score(socratis(image, 20))
    assert waits == []  # no request was tried, so none was retried


@pytest.mark.parametrize("url", ["htp://localhost:8000/v1", "localhost:8000/v1",
                                 "http://:8000/v1", "http://localhost:80x0/v1", " , "])
def test_a_malformed_base_url_is_refused_when_the_judge_is_made(url):
    with pytest.raises(MetricError, match="base_url"):
        VlmJudge(base_url=url, model="m")


def test_a_refused_key_stops_before_scoring_and_says_where_keys_go(serve, image, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-0123456789")
    server = serve(lambda body, n: ok(completion("3")), require_key=KEY)
    with pytest.raises(MetricError, match=r"refused the API key \(HTTP 401.*OPENAI_API_KEY"):
        make_judge(server).score(socratis(image, 5))
    assert server.bodies == [] and server.gets == ["/v1/models"]
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert np.all(make_judge(server).score(socratis(image, 2)).scores == 3)


def test_the_server_is_checked_once_per_judge(serve, image):
    server = serve(lambda body, n: ok(completion("3")), models=["judge-model"])
    judge = make_judge(server, response_cache=False)
    judge.score(socratis(image, 3))
    judge.score(socratis(image, 3))
    assert server.gets == ["/v1/models"] and len(server.bodies) == 6


def test_failures_in_a_row_stop_the_run_and_keep_what_was_answered(serve, image):
    healthy = [True]

    def reply(body, n):
        return ok(completion("4")) if n < 2 or healthy[0] is None else (503, {}, "overloaded", 0.0)

    healthy[0] = False
    server = serve(reply)
    samples = socratis(image, 20)
    judge = make_judge(server, max_concurrency=1, max_retries=1, stop_after_failures=3)
    with pytest.raises(MetricError, match=r"stopped after 3 requests in a row failed with: "
                                          r"HTTP 503: overloaded .*2 answers received"):
        judge.score(samples)
    assert len(server.bodies) == 2 + 3 * 2  # two answers, then three requests tried twice
    healthy[0] = None  # the server recovers: the two answers come from the cache
    out = make_judge(server, max_concurrency=1).score(samples)
    assert np.all(out.scores == 4) and len(server.bodies) == 8 + 18


def test_different_failures_do_not_stop_the_run(serve, image):
    def reply(body, n):
        return (400, {}, {"error": f"request {n} is bad"}, 0.0) if n % 2 else ok(completion("2"))

    server = serve(reply)
    out = make_judge(server, max_concurrency=1, stop_after_failures=2).score(socratis(image, 10))
    assert np.sum(out.scores == 2) == 5 and len(out.failures) == 5


def test_a_huge_logprob_is_scored_and_an_unreadable_cached_answer_is_asked_again(serve, image):
    """The raw answer used to be cached before reading it crashed, so every rerun crashed."""
    top = [{"token": "4", "logprob": 800.0,
            "top_logprobs": [{"token": "4", "logprob": 800.0}, {"token": "3", "logprob": 799.0}]}]
    body = {"choices": [{"message": {"content": "4"}, "logprobs": {"content": top}}]}
    server = serve(lambda b, n: ok(body))
    cache = ScoreCache()
    judge = make_judge(server)
    judge.attach_cache(cache)
    out = judge.score(socratis(image))
    w3 = math.exp(-1.0)
    assert out.scores[0] == pytest.approx((4 + 3 * w3) / (1 + w3)) and out.failures == {}
    from metrics.vlm_judge.judge import CACHE_NAMESPACE

    cache._conn.execute("UPDATE blobs SET value='[1, 2' WHERE namespace=?", (CACHE_NAMESPACE,))
    again = make_judge(server)
    again.attach_cache(cache)
    assert again.score(socratis(image)).scores[0] == pytest.approx(out.scores[0])
    assert len(server.bodies) == 2


def test_an_api_key_option_is_refused_with_the_way_to_pass_it():
    with pytest.raises(MetricError, match=r"api_key is not an option.*\$OPENAI_API_KEY"):
        get_metric("vlm_judge", base_url="http://localhost:8000/v1", api_key="sk-abcdefgh123")


def test_several_servers_share_the_requests(serve, image):
    servers = [serve(lambda body, n: ok(completion("5"))) for _ in range(2)]
    judge = make_judge(servers[0], base_url=f"{servers[0].url},{servers[1].url}",
                       max_concurrency=4)
    out = judge.score(socratis(image, 16))
    assert np.all(out.scores == 5)
    assert len(servers[0].bodies) + len(servers[1].bodies) == 16
    # The first four requests alternate (each goes to the server with fewer outstanding).
    assert len(servers[0].bodies) >= 2 and len(servers[1].bodies) >= 2
    assert sum(judge.backend.sent_per_server.values()) == 16


def test_a_truncated_image_is_nan_with_the_readers_reason_and_never_sent(serve, image, tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    whole = tmp_path / "whole.png"
    Image.fromarray(noise).save(whole)
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # the header survives
    server = serve(lambda body, n: ok(completion("3")))
    samples = socratis(image) + [Sample("cut", "a reason", (), str(cut),
                                        {"caption": "c", "emotion": "fear"})]
    out = make_judge(server).score(samples)
    assert np.isfinite(out.scores[0]) and math.isnan(out.scores[1])
    assert "damaged or truncated" in out.failures["cut"]
    assert len(server.bodies) == 1  # only the sound image was sent
