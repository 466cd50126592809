"""A scripted OpenAI-compatible chat completions server on 127.0.0.1.

Runs in a thread on an ephemeral port and answers from a script (see
`LoopbackServer`). Used as a context manager, it always shuts down.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


def completion(text: str) -> dict:
    return {"id": "x", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}]}


def prompt_of(body: dict) -> str:
    return next(p["text"] for p in body["messages"][0]["content"] if p["type"] == "text")


class _Server(ThreadingHTTPServer):
    # The default backlog (5) overflows when a client opens dozens of
    # connections at once, and the kernel then drops some of them (ReadError).
    request_queue_size = 256


class LoopbackServer:
    """`reply(body, n)` -> (status, payload) or (status, headers, payload, delay)
    for the n-th request (0-based); a str payload is sent as it is, anything
    else as JSON. Records every body, Authorization header, and the most
    requests in flight at once: a request counts from the moment its body has
    arrived until just before its answer is sent (after that the client may
    already send the next one).

    `models`: the ids GET /v1/models lists (404 when None); `keep_alive`:
    HTTP/1.1 connections kept open (True) or one connection per request. `after_reply(n)`:
    called by the handler thread once the n-th answer was sent, as a slow
    machine would delay that thread. `hold_until_filled(limit, total)`:
    holds a reply until the client has filled its slots. `require_key`: every
    request without that Bearer key is answered 401. `trickle`: each answer's
    body is sent a byte at a time, this many seconds apart (the headers at
    once), a whole answer in the end; `trickled` counts the bytes so sent."""

    def __init__(self, reply: Callable[[dict, int], tuple], models: list[str] | None = None,
                 keep_alive: bool = True, require_key: str | None = None,
                 trickle: float = 0.0):
        self.reply = reply
        self.trickle = trickle
        self.trickled = 0
        self.require_key = require_key
        self.models = models
        self.after_reply: Callable[[int], None] | None = None
        self.bodies: list[dict] = []
        self.auth: list[str | None] = []
        self.gets: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.released = 0
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.1 keeps connections open, as vLLM does; 1.0 closes each one.
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def log_message(self, *args):
                pass

            def _send(self, status: int, headers: dict, data: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if not outer.trickle:
                    self.wfile.write(data)
                    return
                self.wfile.flush()
                for i in range(len(data)):
                    time.sleep(outer.trickle)
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                    with outer.lock:
                        outer.trickled += 1

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    n = len(outer.bodies)
                    outer.bodies.append(json.loads(raw))
                    outer.auth.append(self.headers.get("Authorization"))
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                    outer.arrived.notify_all()
                counted = [True]

                def done() -> None:
                    with outer.lock:
                        if counted[0]:
                            outer.in_flight -= 1
                            counted[0] = False

                try:
                    if outer.require_key and self.headers.get("Authorization") != f"Bearer {outer.require_key}":
                        answer = (401, {"error": {"message": "Incorrect API key provided",
                                                  "code": "invalid_api_key"}})
                    elif self.path != "/v1/chat/completions":
                        answer = (404, {"error": "no such path"})
                    else:
                        answer = outer.reply(outer.bodies[n], n)
                    status, headers, payload, delay = (
                        answer if len(answer) == 4 else (answer[0], {}, answer[1], 0.0))
                    time.sleep(delay)
                    data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                    done()
                    self._send(status, headers, data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and went away
                finally:
                    done()
                if outer.after_reply is not None:
                    outer.after_reply(n)

            def do_GET(self):
                with outer.lock:
                    outer.gets.append(self.path)
                if outer.require_key and self.headers.get("Authorization") != f"Bearer {outer.require_key}":
                    status, payload = 401, {"error": {"message": "Incorrect API key provided"}}
                elif self.path == "/v1/models" and outer.models is not None:
                    status, payload = 200, {"object": "list",
                                            "data": [{"id": m} for m in outer.models]}
                else:
                    status, payload = 404, {"error": "no such path"}
                self._send(status, {}, json.dumps(payload).encode())

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def wait_for_requests(self, k: int, timeout: float = 30.0) -> bool:
        """Block until at least k requests have arrived (True), or `timeout` passes."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.bodies) >= k, timeout)

    def hold_until_filled(self, limit: int, total: int, timeout: float = 30.0) -> bool:
        """Called in a reply: hold it until the client has every request it
        may send in flight, min(limit, requests not yet released), counted
        in events, not time; False when `timeout` passed first. A client that
        keeps fewer in flight than `limit` stalls here; every reply held so
        lets `max_in_flight` reach `limit` on any machine."""
        with self.arrived:
            ok = self.arrived.wait_for(
                lambda: self.in_flight >= min(limit, total - self.released), timeout)
            self.released += 1
            self.arrived.notify_all()
            return ok

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    @property
    def prompts(self) -> list[str]:
        return [prompt_of(b) for b in self.bodies]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> "LoopbackServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
