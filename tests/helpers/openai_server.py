"""A scripted OpenAI-compatible chat completions server on 127.0.0.1.

Runs in a thread on an ephemeral port. `reply(body, n)` returns
(status, payload) for the n-th request (0-based); every request body and
Authorization header is recorded. Used as a context manager, it always shuts
down.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


def completion(text: str) -> dict:
    return {"id": "x", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": text}}]}


def prompt_of(body: dict) -> str:
    return next(p["text"] for p in body["messages"][0]["content"] if p["type"] == "text")


class LoopbackServer:
    def __init__(self, reply: Callable[[dict, int], tuple[int, object]]):
        self.reply = reply
        self.bodies: list[dict] = []
        self.auth: list[str | None] = []
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
                if self.path != "/v1/chat/completions":
                    status, payload = 404, {"error": "no such path"}
                else:
                    status, payload = outer.reply(outer.bodies[n], n)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

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
