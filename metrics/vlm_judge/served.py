"""The served backend: any OpenAI-compatible chat completions server.

vLLM (``vllm serve MODEL``), Ollama, or a hosted API. Stdlib only: one POST
to ``{base_url}/chat/completions`` per request, run on a thread pool of
``max_concurrency`` workers. 429, 408, 409, 5xx, timeouts and dropped
connections are retried with exponential backoff and jitter (a random
generator seeded per request, so the waits are reproducible), honouring a
server's Retry-After up to ``backoff_max`` seconds. The API key is read from
the environment at request time and removed from every message this module
returns or logs.
"""
from __future__ import annotations

import base64
import email.utils
import io
import json
import logging
import math
import os
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from .templates import Template

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 409, 429}
_SENT_AS_IS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}


@dataclass(frozen=True)
class Request:
    """One prompt for the judge: `label` names it in messages (a sample or pair id)."""

    key: str
    label: str
    prompt: str
    image: str | None


def image_data_url(path: str) -> str:
    """The image as a base64 data URL: PNG, JPEG, WebP and GIF files as they
    are, anything else converted to PNG."""
    from PIL import Image

    with open(path, "rb") as f:
        data = f.read()
    with Image.open(io.BytesIO(data)) as img:
        mime = _SENT_AS_IS.get(img.format or "")
        if mime is None:
            buffer = io.BytesIO()
            img.convert("RGB").save(buffer, format="PNG")
            data, mime = buffer.getvalue(), "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


class ServedBackend:
    """Asks an OpenAI-compatible server; see the module docstring."""

    def __init__(self, base_url: str, model: str, api_key_env: str = "OPENAI_API_KEY",
                 max_concurrency: int = 4, timeout: float = 120.0, max_retries: int = 5,
                 backoff_base: float = 1.0, backoff_max: float = 60.0, seed: int = 0,
                 temperature: float = 0.0, max_tokens: int = 8, logprobs: bool = True,
                 top_logprobs: int = 20, extra_body: dict | None = None):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key_env = api_key_env
        self.max_concurrency = max(1, int(max_concurrency))
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.seed = int(seed)
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.logprobs = bool(logprobs)
        self.top_logprobs = int(top_logprobs)
        self.extra_body = dict(extra_body or {})
        self.sleep: Callable[[float], None] = time.sleep  # tests replace it
        self._server_has_logprobs = True
        self._lock = threading.Lock()

    def decoding(self) -> dict[str, Any]:
        """Request settings that change the answer."""
        out: dict[str, Any] = {"temperature": self.temperature, "max_tokens": self.max_tokens,
                               "logprobs": self.logprobs}
        if self.logprobs:
            out["top_logprobs"] = self.top_logprobs
        if self.extra_body:
            out["extra_body"] = self.extra_body
        return out

    # -- the key never leaves this object ---------------------------------
    def _key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None

    def redact(self, text: str) -> str:
        key = self._key()
        return text.replace(key, "[API key]") if key else text

    # -- requests -----------------------------------------------------------
    def run(self, requests: Sequence[Request], template: Template
            ) -> Iterator[tuple[int, dict | None, str | None]]:
        """Yield (index, answer, error) as each request finishes."""
        if not requests:
            return
        pool = ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(requests)),
                                  thread_name_prefix="vlm-judge")
        try:
            futures = {pool.submit(self._ask, r): i for i, r in enumerate(requests)}
            for future in as_completed(futures):
                answer, error = future.result()
                yield futures[future], answer, error
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _body(self, request: Request, logprobs: bool) -> bytes:
        content: list[dict[str, Any]] = []
        if request.image is not None:
            content.append({"type": "image_url",
                            "image_url": {"url": image_data_url(request.image)}})
        content.append({"type": "text", "text": request.prompt})
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "user", "content": content}],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        if logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = self.top_logprobs
        body.update(self.extra_body)
        return json.dumps(body).encode("utf-8")

    def _ask(self, request: Request) -> tuple[dict | None, str | None]:
        try:
            return self._ask_with_retries(request)
        except Exception as exc:  # a bug or an unreadable image: this request only
            return None, self.redact(f"{type(exc).__name__}: {exc}")

    def _ask_with_retries(self, request: Request) -> tuple[dict | None, str | None]:
        rng = random.Random(f"{self.seed}:{request.key}")
        tries = self.max_retries + 1
        attempt = 0
        error = "no attempt made"
        while attempt < tries:
            with_logprobs = self.logprobs and self._server_has_logprobs
            status, headers, payload, error = self._post(self._body(request, with_logprobs))
            if status == 200:
                return self._read_answer(payload)
            if (status == 400 and with_logprobs and "logprob" in payload.lower()):
                with self._lock:
                    if self._server_has_logprobs:
                        log.warning("vlm_judge: the server at %s rejects logprobs; asking "
                                    "without them (scores fall back to parsed ratings)",
                                    self.url)
                    self._server_has_logprobs = False
                continue  # not a retry: the same request without logprobs
            retryable = status is None or status in RETRY_STATUS or 500 <= status < 600
            attempt += 1
            if not retryable or attempt >= tries:
                break
            delay = self._retry_after(headers)
            if delay is None:
                step = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
                delay = step / 2 + rng.uniform(0, step / 2)
            log.warning("vlm_judge: %s: %s; try %d of %d in %.2f s",
                        request.label, error, attempt + 1, tries, delay)
            self.sleep(delay)
        if attempt >= tries and tries > 1:
            error = f"{error} (gave up after {tries} tries)"
        return None, error

    def _post(self, body: bytes) -> tuple[int | None, Any, str, str]:
        """(status, headers, body text, error text); status None when no reply came."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = self._key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                text = resp.read().decode("utf-8", errors="replace")
                return resp.status, resp.headers, text, ""
        except urllib.error.HTTPError as exc:
            try:
                text = exc.read().decode("utf-8", errors="replace")
            except Exception:
                text = ""
            shown = " ".join(text.split())[:300]
            return exc.code, exc.headers, text, self.redact(f"HTTP {exc.code}: {shown}")
        except (TimeoutError, socket.timeout):
            return None, None, "", f"no answer within {self.timeout:g} s (timeout)"
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                return None, None, "", f"no answer within {self.timeout:g} s (timeout)"
            return None, None, "", self.redact(f"connection failed: {exc.reason}")
        except (ConnectionError, OSError) as exc:
            return None, None, "", self.redact(f"connection failed: {exc}")

    def _retry_after(self, headers: Any) -> float | None:
        value = headers.get("Retry-After") if headers is not None else None
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            seconds = when.timestamp() - time.time()
        if not math.isfinite(seconds):
            return None
        return min(max(seconds, 0.0), self.backoff_max)

    def _read_answer(self, payload: str) -> tuple[dict | None, str | None]:
        """The plain answer (see answers.py) from a chat completions response."""

        def malformed(why: str) -> tuple[None, str]:
            shown = " ".join(payload.split())[:200]
            return None, self.redact(f"malformed response from the server ({why}): {shown!r}")

        try:
            data = json.loads(payload)
        except ValueError:
            return malformed("not JSON")
        if not isinstance(data, dict):
            return malformed("not a JSON object")
        if "error" in data and "choices" not in data:
            return None, self.redact(f"the server answered with an error: {data['error']}")
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return malformed("no choices")
        choice = choices[0]
        message = choice.get("message")
        if not isinstance(message, dict):
            return malformed("no message")
        text = message.get("content")
        if isinstance(text, list):  # content parts
            text = "".join(p.get("text", "") for p in text if isinstance(p, dict))
        if text is None and message.get("refusal"):
            text = str(message["refusal"])
        if text is None and choice.get("finish_reason") == "content_filter":
            return None, "the server's content filter withheld the answer"
        if not isinstance(text, str):
            return malformed("the message has no text content")
        tokens, top = _read_logprobs(choice.get("logprobs"))
        return {"text": self.redact(text), "tokens": tokens, "top": top}, None


def _read_logprobs(logprobs: Any) -> tuple[list[str] | None, list[dict] | None]:
    """Tokens and per-token alternatives from a response's `logprobs`, or
    (None, None) when the server sent none or sent something unreadable."""
    if not isinstance(logprobs, dict) or not isinstance(logprobs.get("content"), list):
        return None, None
    tokens: list[str] = []
    top: list[dict[str, float]] = []
    for entry in logprobs["content"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            return None, None
        alternatives: dict[str, float] = {}
        pairs = [(entry["token"], entry.get("logprob"))]
        pairs += [(alt.get("token"), alt.get("logprob"))
                  for alt in entry.get("top_logprobs") or [] if isinstance(alt, dict)]
        for token, logprob in pairs:
            if isinstance(token, str) and isinstance(logprob, (int, float)):
                # The chosen token usually appears among the alternatives too.
                alternatives[token] = float(logprob)
        tokens.append(entry["token"])
        top.append(alternatives)
    return tokens, top
