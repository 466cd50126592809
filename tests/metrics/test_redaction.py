"""Secrets kept out of recorded arguments, command lines and messages."""
from __future__ import annotations

import json
import shlex

from metrics.redaction import (MASK, SECRET_GIVEN, hide_secret_fields, is_secret_name,
                               mask_secrets, mask_url, redact_key, secret_values,
                               short_secret_problem)

KEY = "sk-live-9f8e7d6c5b4a"


def test_a_short_key_is_not_cut_out_of_text():
    assert redact_key("4", "4") == "4"
    assert redact_key("Rating: 4 of 5", "4") == "Rating: 4 of 5"
    assert redact_key(f"Incorrect API key provided: {KEY}", KEY) == \
        "Incorrect API key provided: [API key]"
    assert redact_key("no key here", None) == "no key here"


def test_a_key_of_4_or_more_characters_is_cut_out_and_a_shorter_one_is_refused():
    assert redact_key("upstream said: Bearer k7Zq9wX", "k7Zq9wX") == \
        "upstream said: Bearer [API key]"
    assert redact_key("key abcd, again abcd", "abcd") == "key [API key], again [API key]"
    assert short_secret_problem("abcd", "the key") is None
    assert short_secret_problem(None, "the key") is None
    assert short_secret_problem("abc", "the API key in $K") == (
        "the API key in $K has 3 characters; a key shorter than 4 characters cannot be kept out "
        "of answers, messages and files (it would match ordinary text such as a rating), so it "
        "is not sent")


def test_urls_lose_their_credentials_only():
    assert mask_url("http://alice:s3cret@gpu-host:8000/v1") == f"http://{MASK}@gpu-host:8000/v1"
    assert mask_url("https://host/v1?api_key=abc&model=m") == f"https://host/v1?api_key={MASK}&model=m"
    assert mask_url("http://localhost:8000/v1") == "http://localhost:8000/v1"


def test_names_that_hold_secrets():
    for name in ("api_key", "vlm_judge.api_key", "--api-key", "OPENAI_API_KEY", "token",
                 "hf_token", "password", "Authorization", "key", "X-Api-Key", "client_secret",
                 "apiKey", "clientSecret", "accessToken"):
        assert is_secret_name(name), name
    for name in ("api_key_env", "--api-key-env", "max_tokens", "top_logprobs", "keyword", "model",
                 "sort_key", "keys", "maxTokens", "apiKeyEnv", "sortKey", "bos_token", "eosToken",
                 "image_token"):
        assert not is_secret_name(name), name


def test_recorded_arguments_and_command_keep_no_secret():
    arguments = {
        "metric_option": [f"vlm_judge.api_key={KEY}", "vlm_judge.base_url=http://bob:pw123456@h:1/v1",
                          "vlm_judge.api_key_env=JUDGE_KEY", "vlm_judge.max_tokens=8"],
        "api_key": KEY, "base_url": "http://u:hunter2hunter2@host/v1", "out": "results",
        "bootstrap": 1000, "token": None,
    }
    masked = mask_secrets(arguments)
    text = json.dumps(masked)
    assert KEY not in text and "pw123456" not in text and "hunter2" not in text
    assert masked["metric_option"] == [
        f"vlm_judge.api_key={MASK}", f"vlm_judge.base_url=http://{MASK}@h:1/v1",
        "vlm_judge.api_key_env=JUDGE_KEY", "vlm_judge.max_tokens=8"]
    assert masked["api_key"] == MASK and masked["token"] is None
    assert masked["out"] == "results" and masked["bootstrap"] == 1000
    command = (f"python -m experiments.run_correlation --metric-option vlm_judge.api_key={KEY} "
               f"--api-key {KEY} --api-key-env MY_KEY --base-url http://a:b1234567@h/v1 --out r")
    assert mask_secrets(command) == (
        f"python -m experiments.run_correlation --metric-option vlm_judge.api_key={MASK} "
        f"--api-key {MASK} --api-key-env MY_KEY --base-url http://{MASK}@h/v1 --out r")
    argv = ["run", "--api-key", KEY, "--api-key-env", "MY_KEY", "-H", f"Authorization: Bearer {KEY}"]
    assert mask_secrets(argv) == ["run", "--api-key", MASK, "--api-key-env", "MY_KEY", "-H",
                                  f"Authorization: Bearer {MASK}"]


def test_prose_in_an_error_text_is_left_alone():
    from metrics.redaction import mask_text

    text = "basic auth failed; the token budget is spent; a password-protected endpoint"
    assert mask_text(text) == text
    assert mask_text(f"Authorization: Basic {KEY}") == f"Authorization: Basic {MASK}"
    assert mask_text(f"sent Bearer {KEY} upstream") == f"sent Bearer {MASK} upstream"


def test_a_json_option_is_recorded_without_its_secrets_at_any_depth():
    """LiteLLM-style gateways take the key in the body: vlm_judge.extra_body={"api_key": ...}."""
    option = ('vlm_judge.extra_body={"api_key": "%s", "metadata": {"headers": {"Authorization": '
              '"Bearer %s", "X-Trace": "t1"}, "token": 12345678}, "seed": 1}' % (KEY, KEY[::-1]))
    masked = mask_secrets({"metric_option": [option]})
    assert masked == {"metric_option": [
        'vlm_judge.extra_body={"api_key": "***", "metadata": {"headers": {"Authorization": '
        '"***", "X-Trace": "t1"}, "token": ***}, "seed": 1}']}
    command = mask_secrets("python -m experiments.run_correlation --metric-option "
                           + shlex.quote(option))
    assert KEY not in command and KEY[::-1] not in command and "12345678" not in command
    assert '"X-Trace": "t1"' in command and '"seed": 1' in command
    assert mask_secrets(f"error: {{'api_key': '{KEY}', 'code': 401}}") == \
        "error: {'api_key': '***', 'code': 401}"


def test_a_signature_says_that_a_secret_was_given_not_which():
    body = {"api_key": KEY, "key": "abcd", "headers": {"x-api-key": "h-123456", "Accept": "json"},
            "auth": ["Bearer abcdefgh"], "max_tokens": 5, "keyword": "k", "stop": ["key=1"],
            "user": None, "chat_template_kwargs": {"bos_token": "<s>"}}
    hidden = hide_secret_fields(body)
    assert hidden == {"api_key": SECRET_GIVEN, "key": SECRET_GIVEN,
                      "headers": {"x-api-key": SECRET_GIVEN, "Accept": "json"},
                      "auth": [SECRET_GIVEN], "max_tokens": 5, "keyword": "k", "stop": ["key=1"],
                      "user": None, "chat_template_kwargs": {"bos_token": "<s>"}}
    assert hide_secret_fields({**body, "api_key": "another-key"}) == hidden
    assert body["api_key"] == KEY  # the option itself is not changed
    assert sorted(secret_values(body)) == sorted([KEY, "abcd", "h-123456", "abcdefgh"])
