"""Secrets kept out of recorded arguments, command lines and messages."""
from __future__ import annotations

import json

from metrics.redaction import MASK, is_secret_name, mask_secrets, mask_url, redact_key

KEY = "sk-live-9f8e7d6c5b4a"


def test_a_short_key_is_not_cut_out_of_text():
    assert redact_key("4", "4") == "4"
    assert redact_key("Rating: 4 of 5", "4") == "Rating: 4 of 5"
    assert redact_key(f"Incorrect API key provided: {KEY}", KEY) == \
        "Incorrect API key provided: [API key]"
    assert redact_key("no key here", None) == "no key here"


def test_urls_lose_their_credentials_only():
    assert mask_url("http://alice:s3cret@gpu-host:8000/v1") == f"http://{MASK}@gpu-host:8000/v1"
    assert mask_url("https://host/v1?api_key=abc&model=m") == f"https://host/v1?api_key={MASK}&model=m"
    assert mask_url("http://localhost:8000/v1") == "http://localhost:8000/v1"


def test_names_that_hold_secrets():
    for name in ("api_key", "vlm_judge.api_key", "--api-key", "OPENAI_API_KEY", "token",
                 "hf_token", "password", "Authorization"):
        assert is_secret_name(name), name
    for name in ("api_key_env", "--api-key-env", "max_tokens", "top_logprobs", "keyword", "model"):
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
