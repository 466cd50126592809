"""The served backend: any OpenAI-compatible chat completions server.

vLLM (``vllm serve MODEL``), Ollama, or a hosted API. One POST to
``{base_url}/chat/completions`` per request, sent by an asyncio client
(httpx2, one pool of kept-alive connections) with at most
``max_concurrency`` requests in flight across all servers; with several
``base_url``s (replicas of one model) each request goes to the server with
the fewest requests outstanding.

Timeouts: ``timeout`` is a deadline for the whole request, from connecting
to the answer's last byte, so a server that trickles its answer a byte at a
time cannot hold a request for longer (a read timeout alone restarts with
every byte).

Retries: 429, 408, 409, 5xx, timeouts and dropped connections are retried
with exponential backoff and jitter (a random generator seeded per request,
so the waits are reproducible), honouring a server's Retry-After up to
``backoff_max`` seconds.

Failing fast: before the first request each server is asked once for
``GET {base_url}/models`` (a few seconds at most); a server that cannot be
reached, or that refuses the API key, stops the run with a `MetricError`
before anything is asked. A malformed ``base_url`` is refused when the
backend is made. When ``stop_after_failures`` requests in a row fail for the
same reason, the run stops with that reason; the answers received until then
are already in the response cache.

Secrets: the API key is read from the environment at request time and sent
only in the Authorization header; secrets inside ``extra_body`` (fields named
like ``api_key``, for gateways that take the key in the body) are sent in the
body and enter the signature as ``<secret>``. Every secret the run uses (the
key, those fields, a password in ``base_url``) is replaced by ``[API key]``
wherever a server could echo it: error texts, exception texts, and the
answers themselves before they are read or cached (the only change ever made
to an answer; logged). URLs in messages have their credentials masked. A
secret shorter than MIN_KEY_LENGTH characters would match ordinary text (a
rating "4"), so it is refused before anything is sent (see metrics.redaction).
"""
from __future__ import annotations

import asyncio
import base64
import email.utils
import inspect
import io
import json
import logging
import math
import os
import queue
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import parse_qsl, unquote, urlsplit

from ..base import MetricError
from ..images import ImageReadError, open_image, read_image_bytes
from ..redaction import (MIN_KEY_LENGTH, hide_secret_fields, is_secret_name, mask_text,
                         mask_url, redact_key, secret_values, short_secret_problem)
from .provenance import REPORTED_KEY, reported_fields
from .templates import Template

__all__ = ["DEFAULT_CONCURRENCY", "DEFAULT_STOP_AFTER_FAILURES", "Request", "RunStopped",
           "ServedBackend", "chat_body", "image_data_url", "parse_base_urls", "read_completion"]

log = logging.getLogger(__name__)
# httpx2 logs every request at INFO: noise in a run of thousands.
logging.getLogger("httpx2").setLevel(logging.WARNING)

RETRY_STATUS = {408, 409, 429}
DEFAULT_CONCURRENCY = 64
DEFAULT_STOP_AFTER_FAILURES = 8
PREFLIGHT_TIMEOUT = 5.0
_SENT_AS_IS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
KEY_ADVICE = ("pass the key through the environment: set $OPENAI_API_KEY, or name another "
              "variable with api_key_env (an option or a URL is recorded with the run's "
              "arguments)")


@dataclass(frozen=True)
class Request:
    """One prompt for the judge: `label` names it in messages (a sample or pair id)."""

    key: str
    label: str
    prompt: str
    image: str | None


def image_data_url(path: str) -> str:
    """The image as a base64 data URL: PNG, JPEG, WebP and GIF files as they
    are, anything else converted to PNG. The file passes the checks of every
    image reader first (`metrics.images.open_image`: a missing, non-image,
    truncated or over-large file is an ImageReadError), so no damaged image
    reaches the server."""
    from PIL import Image

    data = read_image_bytes(path)
    rgb = open_image(path, data=data)
    with Image.open(io.BytesIO(data)) as img:
        mime = _SENT_AS_IS.get(img.format or "")
    if mime is None:
        buffer = io.BytesIO()
        rgb.save(buffer, format="PNG")
        data, mime = buffer.getvalue(), "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def parse_base_urls(base_url: str | Sequence[str]) -> list[str]:
    """One or more server URLs (a list, or one string separated by commas),
    each an http(s) URL with a host; anything else is a MetricError now
    rather than a retried request later."""
    items = [base_url] if isinstance(base_url, str) else list(base_url)
    urls = [u.strip().rstrip("/") for item in items for u in str(item).split(",") if u.strip()]
    if not urls:
        raise MetricError("vlm_judge: base_url is empty; give the server's address, "
                          "e.g. http://localhost:8000/v1")
    for url in urls:
        shown = mask_url(url)
        try:
            parts = urlsplit(url)
            parts.port  # raises on a port that is not a number
        except ValueError as exc:
            raise MetricError(f"vlm_judge: base_url {shown!r} is not a valid URL ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MetricError(f"vlm_judge: base_url {shown!r} is not an http:// or https:// URL "
                              "with a host, e.g. http://localhost:8000/v1")
        if parts.password:
            log.warning("vlm_judge: base_url %s carries a password; %s", shown, KEY_ADVICE)
    if len(set(urls)) != len(urls):
        raise MetricError("vlm_judge: base_url names the same server twice")
    return urls


class RunStopped(MetricError):
    """The served judge stopped: its server cannot be reached, refuses the
    key, or fails every request for one reason."""


class _Control:
    """Lets the thread that consumes results cancel the event loop's run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task | None = None
        self.cancelled = False

    def register(self) -> bool:
        with self.lock:
            self.loop, self.task = asyncio.get_running_loop(), asyncio.current_task()
            return not self.cancelled

    def cancel(self) -> None:
        with self.lock:
            self.cancelled = True
            if self.loop is not None and self.task is not None:
                self.loop.call_soon_threadsafe(self.task.cancel)


_DONE = object()


class ServedBackend:
    """Asks OpenAI-compatible servers; see the module docstring."""

    def __init__(self, base_url: str | Sequence[str], model: str,
                 api_key_env: str = "OPENAI_API_KEY",
                 max_concurrency: int = DEFAULT_CONCURRENCY, timeout: float = 120.0,
                 max_retries: int = 5, backoff_base: float = 1.0, backoff_max: float = 60.0,
                 seed: int = 0, temperature: float = 0.0, max_tokens: int = 8,
                 logprobs: bool = True, top_logprobs: int = 20, extra_body: dict | None = None,
                 stop_after_failures: int = DEFAULT_STOP_AFTER_FAILURES):
        self.base_urls = parse_base_urls(base_url)
        self.model = model
        self.api_key_env = api_key_env
        self.max_concurrency = max(1, int(max_concurrency))
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self._set_decoding(seed, temperature, max_tokens, logprobs, top_logprobs, extra_body)
        # Secrets given in options (the API key is read at request time).
        self._option_secrets = secret_values(self.extra_body) + _url_secrets(self.base_urls)
        for secret in self._option_secrets:
            problem = short_secret_problem(secret, "a secret in extra_body or base_url")
            if problem:
                raise MetricError(f"vlm_judge: {problem}; use the real key")
        self._echo_reported = False
        self.stop_after_failures = max(0, int(stop_after_failures))
        # Waits between tries; tests replace it (a plain function or a coroutine function).
        self.sleep: Callable[[float], Any] = asyncio.sleep
        self._server_has_logprobs = True
        self._checked = False
        self._outstanding = [0] * len(self.base_urls)
        self._sent = [0] * len(self.base_urls)

    def _set_decoding(self, seed: int, temperature: float, max_tokens: int, logprobs: bool,
                      top_logprobs: int, extra_body: dict | None) -> None:
        """The settings every request body carries (`request_body`, `decoding`)."""
        self.seed = int(seed)
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.logprobs = bool(logprobs)
        self.top_logprobs = int(top_logprobs)
        self.extra_body = dict(extra_body or {})

    def decoding(self) -> dict[str, Any]:
        """Request settings that change the answer."""
        out: dict[str, Any] = {"temperature": self.temperature, "max_tokens": self.max_tokens,
                               "logprobs": self.logprobs}
        if self.logprobs:
            out["top_logprobs"] = self.top_logprobs
        if self.extra_body:
            # That a key was given, not which: another key keeps the cached answers.
            out["extra_body"] = hide_secret_fields(self.extra_body)
        return out

    @property
    def sent_per_server(self) -> dict[str, int]:
        """How many requests (tries included) went to each server (URLs masked)."""
        return {mask_url(u): n for u, n in zip(self.base_urls, self._sent)}

    # -- the key never leaves this object ---------------------------------
    def _key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None

    def _secrets(self) -> list[str]:
        """Every secret this run sends, longest first (one may contain another)."""
        found = [self._key() or ""] + self._option_secrets
        return sorted({s for s in found if s}, key=len, reverse=True)

    def _without_secrets(self, text: str) -> str:
        for secret in self._secrets():
            text = redact_key(text, secret)
        return text

    def redact(self, text: str) -> str:
        """An error text as it may be shown: URLs' credentials masked, and
        every secret the run sends replaced."""
        return self._without_secrets(mask_text(text))

    def check_key(self) -> None:
        """RunStopped when the key in the environment is too short to be
        kept out of answers and files; nothing has been sent then."""
        problem = short_secret_problem(self._key(), f"the API key in ${self.api_key_env}")
        if problem:
            raise RunStopped(
                f"vlm_judge: {problem}. Unset ${self.api_key_env} for a server that needs no "
                f"key (vLLM without --api-key, Ollama), or use a key of at least "
                f"{MIN_KEY_LENGTH} characters. Nothing was asked.")

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = self._key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    # -- requests -----------------------------------------------------------
    def run(self, requests: Sequence[Request], template: Template | None = None
            ) -> Iterator[tuple[int, dict | None, str | None]]:
        """Yield (index, answer, error) as each request finishes.

        Raises RunStopped (a MetricError) when a server cannot be reached or
        requests keep failing for one reason; what was yielded before stays
        valid. The requests run on an event loop in a helper thread, so this
        works the same inside a program that runs its own loop."""
        requests = list(requests)
        if not requests:
            return
        self.check_key()
        results: queue.Queue = queue.Queue()
        control = _Control()

        def work() -> None:
            try:
                asyncio.run(self._run_all(requests, results, control))
            except asyncio.CancelledError:
                pass
            except BaseException as exc:  # handed to the consuming thread
                results.put(exc)
            finally:
                results.put(_DONE)

        thread = threading.Thread(target=work, name="vlm-judge-client", daemon=True)
        thread.start()
        try:
            while True:
                item = results.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            control.cancel()
            thread.join()

    async def _run_all(self, requests: list[Request], results: queue.Queue,
                       control: _Control) -> None:
        import httpx2

        if not control.register():
            return
        try:
            limits = httpx2.Limits(max_connections=self.max_concurrency,
                                   max_keepalive_connections=self.max_concurrency)
            async with httpx2.AsyncClient(limits=limits, timeout=httpx2.Timeout(self.timeout or None),
                                          follow_redirects=False) as client:
                if not self._checked:
                    await self._preflight(client, httpx2)
                    self._checked = True
                streak = _Streak(self.stop_after_failures)
                todo = iter(range(len(requests)))

                async def worker() -> None:
                    for i in todo:  # shared: each index is taken by one worker
                        answer, error = await self._ask(client, httpx2, requests[i])
                        results.put((i, answer, error))
                        streak.add(error)

                workers = [asyncio.create_task(worker())
                           for _ in range(min(self.max_concurrency, len(requests)))]
                try:
                    done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
                    for task in done:
                        task.result()  # a worker's RunStopped
                finally:
                    for task in workers:
                        task.cancel()
                    await asyncio.gather(*workers, return_exceptions=True)
        finally:
            with control.lock:
                control.loop = control.task = None

    async def _preflight(self, client: Any, httpx2: Any) -> None:
        """One GET /models per server, a few seconds at most: stop now, not
        after every request has timed out, when a server is not there."""
        wait = min(PREFLIGHT_TIMEOUT, self.timeout) if self.timeout > 0 else PREFLIGHT_TIMEOUT
        for base in self.base_urls:
            shown = mask_url(base)
            try:
                resp = await asyncio.wait_for(
                    client.get(base + "/models", headers=self._headers(),
                               timeout=httpx2.Timeout(wait)), wait)
            except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
                raise RunStopped(self.redact(
                    f"vlm_judge: cannot reach the server at {shown} ({_why(exc)}); nothing was "
                    "asked. Start the server or fix base_url.")) from None
            except (httpx2.TimeoutException, TimeoutError):
                log.warning("vlm_judge: %s did not answer GET /models within %g s; going on",
                            shown, wait)
                continue
            except httpx2.TransportError as exc:
                raise RunStopped(self.redact(
                    f"vlm_judge: the server at {shown} cannot be used ({_why(exc)}); "
                    "nothing was asked.")) from None
            if resp.status_code in (401, 403):
                body = " ".join(resp.text.split())[:200]
                where = (f"${self.api_key_env} is not set" if not self._key()
                         else f"check ${self.api_key_env}")
                raise RunStopped(self.redact(
                    f"vlm_judge: the server at {shown} refused the API key (HTTP "
                    f"{resp.status_code}: {body}); {where}; {KEY_ADVICE}. Nothing was asked."))
            if resp.status_code == 200:
                self._check_model(resp, shown)

    def _check_model(self, resp: Any, shown: str) -> None:
        try:
            served = [m.get("id") for m in resp.json().get("data", []) if isinstance(m, dict)]
        except (ValueError, AttributeError):
            return
        if served and self.model not in served:
            log.warning("%s", self.redact(
                f"vlm_judge: {shown} serves {', '.join(map(str, served[:5]))}, not "
                f"{self.model!r}: requests may fail"))

    def request_body(self, request: Request, logprobs: bool,
                     image_url: str | None = None) -> dict[str, Any]:
        """The chat completions body for `request`: what the client POSTs and
        what a batch file carries (metrics.vlm_judge.batch), built in one place.
        `image_url`: a URL the server fetches the image from, in place of the
        data URL (for batch files)."""
        return chat_body(self.model, request, self.temperature, self.max_tokens,
                         self.top_logprobs if logprobs else None, self.extra_body, image_url)

    def _body(self, request: Request, logprobs: bool) -> bytes:
        return json.dumps(self.request_body(request, logprobs)).encode("utf-8")

    async def _ask(self, client: Any, httpx2: Any, request: Request
                   ) -> tuple[dict | None, str | None]:
        try:
            return await self._ask_with_retries(client, httpx2, request)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or an unreadable image: this request only
            return None, self.redact(f"{type(exc).__name__}: {exc}")

    async def _ask_with_retries(self, client: Any, httpx2: Any, request: Request
                                ) -> tuple[dict | None, str | None]:
        rng = random.Random(f"{self.seed}:{request.key}")
        tries = self.max_retries + 1
        attempt = 0
        error = "no attempt made"
        bodies: dict[bool, bytes] = {}
        while attempt < tries:
            with_logprobs = self.logprobs and self._server_has_logprobs
            if with_logprobs not in bodies:
                # Reading and encoding an image blocks: not on the event loop.
                try:
                    bodies[with_logprobs] = (
                        await asyncio.to_thread(self._body, request, with_logprobs)
                        if request.image is not None else self._body(request, with_logprobs))
                except ImageReadError as exc:
                    return None, str(exc)
            status, headers, payload, error = await self._post(client, httpx2,
                                                               bodies[with_logprobs])
            if status == 200:
                return self._read_answer(payload)
            if (status == 400 and with_logprobs and "logprob" in payload.lower()):
                if self._server_has_logprobs:
                    log.warning("vlm_judge: the server rejects logprobs; asking without them "
                                "(scores fall back to parsed ratings)")
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
            waited = self.sleep(delay)
            if inspect.isawaitable(waited):
                await waited
        if attempt >= tries and tries > 1:
            error = f"{error} (gave up after {tries} tries)"
        return None, error

    async def _post(self, client: Any, httpx2: Any, body: bytes
                    ) -> tuple[int | None, Any, str, str]:
        """(status, headers, body text, error text); status None when no reply
        came. Sent to the server with the fewest requests outstanding."""
        j = min(range(len(self.base_urls)), key=lambda k: (self._outstanding[k], self._sent[k]))
        self._outstanding[j] += 1
        self._sent[j] += 1
        try:
            # A deadline for the whole request: httpx's read timeout restarts with every byte.
            resp = await asyncio.wait_for(
                client.post(self.base_urls[j] + "/chat/completions", content=body,
                            headers=self._headers()), self.timeout or None)
            text = resp.content.decode("utf-8", errors="replace")
        except (httpx2.TimeoutException, TimeoutError):
            return None, None, "", f"no answer within {self.timeout:g} s (timeout)"
        except httpx2.TransportError as exc:
            return None, None, "", self.redact(f"connection failed: {_why(exc)}")
        finally:
            self._outstanding[j] -= 1
        if resp.status_code == 200:
            return 200, resp.headers, text, ""
        shown = " ".join(text.split())[:300]
        return resp.status_code, resp.headers, text, self.redact(f"HTTP {resp.status_code}: {shown}")

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
        answer, error = read_completion(payload)
        if answer is None:
            return None, error if error is None else self.redact(error)
        return self._answer_without_secrets(answer), None

    def _answer_without_secrets(self, answer: dict) -> dict:
        """The answer with every secret the run sends replaced, before it is
        read or cached: a server may echo the Authorization header into it."""
        changed = False

        def clean(text: str) -> str:
            nonlocal changed
            out = self._without_secrets(text)
            changed = changed or out != text
            return out

        text = clean(answer["text"])
        tokens = None if answer["tokens"] is None else [clean(t) for t in answer["tokens"]]
        top = None
        if answer["top"] is not None:
            top = []
            for alternatives in answer["top"]:
                kept: dict[str, float] = {}
                for token, logprob in alternatives.items():
                    token = clean(token)
                    kept[token] = max(logprob, kept.get(token, -math.inf))
                top.append(kept)
        cleaned = {"text": text, "tokens": tokens, "top": top}
        if REPORTED_KEY in answer:
            cleaned[REPORTED_KEY] = {k: clean(v) if isinstance(v, str) else v
                                     for k, v in answer[REPORTED_KEY].items()}
        if changed and not self._echo_reported:
            self._echo_reported = True
            log.warning("vlm_judge: the server put the API key into an answer; it is replaced "
                        "by [API key] before the answer is read or cached")
        return cleaned


class _Streak:
    """Stops a run when `limit` requests in a row (in the order they finish)
    fail with the same error; 0 never stops."""

    def __init__(self, limit: int):
        self.limit = limit
        self.reason: str | None = None
        self.count = 0
        self.answered = 0

    def add(self, error: str | None) -> None:
        if error is None:
            self.reason, self.count = None, 0
            self.answered += 1
            return
        self.count = self.count + 1 if error == self.reason else 1
        self.reason = error
        if self.limit and self.count >= self.limit:
            raise RunStopped(
                f"vlm_judge: stopped after {self.count} requests in a row failed with: "
                f"{error}. The {self.answered} answers received before are kept in the "
                "response cache; fix the cause and run again (stop_after_failures=0 "
                "never stops).")


def chat_body(model: str, request: Request, temperature: float, max_tokens: int,
              top_logprobs: int | None, extra_body: dict | None = None,
              image_url: str | None = None) -> dict[str, Any]:
    """An OpenAI chat completions body: the image (as a base64 data URL, see
    `image_data_url`; an ImageReadError when it cannot be read; or as
    `image_url` when given) then the prompt in one user message; logprobs
    asked when `top_logprobs` is not None; `extra_body` fields last, overriding."""
    content: list[dict[str, Any]] = []
    if request.image is not None:
        url = image_url if image_url is not None else image_data_url(request.image)
        content.append({"type": "image_url", "image_url": {"url": url}})
    content.append({"type": "text", "text": request.prompt})
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": content}],
        "temperature": temperature,
        "max_tokens": max_tokens,
    }
    if top_logprobs is not None:
        body["logprobs"] = True
        body["top_logprobs"] = top_logprobs
    body.update(extra_body or {})
    return body


def read_completion(payload: str) -> tuple[dict | None, str | None]:
    """(answer, None) or (None, why) from a chat completions response body
    (JSON text): the answer is {"text", "tokens", "top"} (see answers.py),
    tokens and top None when the response carries no readable logprobs, and
    under "reported" what the response says of the model (provenance.py; the
    judge moves it out of the answer before caching). Secrets are not removed
    here (ServedBackend does that)."""

    def malformed(why: str) -> tuple[None, str]:
        shown = " ".join(payload.split())[:200]
        return None, f"malformed response from the server ({why}): {shown!r}"

    try:
        data = json.loads(payload)
    except ValueError:
        return malformed("not JSON")
    if not isinstance(data, dict):
        return malformed("not a JSON object")
    if "error" in data and "choices" not in data:
        return None, f"the server answered with an error: {data['error']}"
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
    return {"text": text, "tokens": tokens, "top": top, REPORTED_KEY: reported_fields(data)}, None


def _url_secrets(urls: Sequence[str]) -> list[str]:
    """Passwords and secret-named query values inside URLs."""
    found: list[str] = []
    for url in urls:
        parts = urlsplit(url)
        if parts.password:
            found.append(unquote(parts.password))
        found += [v for k, v in parse_qsl(parts.query) if is_secret_name(k) and v]
    return found


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


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
