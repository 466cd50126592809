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


class LoopbackServer:
    """`reply(body, n)` -> (status, payload) or (status, headers, payload, delay)
    for the n-th request (0-based); a str payload is sent as it is, anything
    else as JSON. Records every body, Authorization header, and the most
    requests in flight at once."""

    def __init__(self, reply: Callable[[dict, int], tuple]):
        self.reply = reply
        self.bodies: list[dict] = []
        self.auth: list[str | None] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    n = len(outer.bodies)
                    outer.bodies.append(json.loads(raw))
                    outer.auth.append(self.headers.get("Authorization"))
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                try:
                    if self.path != "/v1/chat/completions":
                        answer = (404, {"error": "no such path"})
                    else:
                        answer = outer.reply(outer.bodies[n], n)
                    status, headers, payload, delay = (
                        answer if len(answer) == 4 else (answer[0], {}, answer[1], 0.0))
                    time.sleep(delay)
                    data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and went away
                finally:
                    with outer.lock:
                        outer.in_flight -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

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
