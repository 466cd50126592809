"""The served VLM judge against a loopback server with a fixed latency per request.

The server (asyncio in its own process, HTTP/1.1 keep-alive, 127.0.0.1 only) answers every chat
completion after exactly `LATENCY` seconds, as a vLLM server with spare
capacity would. The ideal client keeps `CONCURRENCY` requests in flight all
the time: `CONCURRENCY / LATENCY` requests per second. The baseline is that
ideal time (a sleep of N * LATENCY / CONCURRENCY); the target, a ratio of at
most 1.25, is "at least 0.8x the ideal rate". A second case runs the
previous client (threads over urllib) against the same server.
"""
from __future__ import annotations

import asyncio
import json
import time

from . import BenchCase

N_REQUESTS = 1000
CONCURRENCY = 64
LATENCY = 0.2
_ANSWER = json.dumps({"id": "x", "object": "chat.completion", "model": "m", "choices": [
    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "3"}}]}
).encode()
_state: dict = {}


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                  latency: float) -> None:
    """One kept-alive connection: each POST answered after `latency` s, a GET at once (404)."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            if lines[0].startswith("POST"):
                await asyncio.sleep(latency)
                status, body = b"200 OK", _ANSWER
            else:
                status, body = b"404 Not Found", b'{"error": "no such path"}'
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def _serve(latency: float) -> None:
    """The server process: its own interpreter, so it does not share the
    client's GIL; prints its port, serves until killed."""

    async def main() -> None:
        server = await asyncio.start_server(
            lambda r, w: _handle(r, w, latency), "127.0.0.1", 0, backlog=1024)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())


class LatencyServer:
    """`_serve` in a child process on an ephemeral loopback port."""

    def __init__(self, latency: float):
        import subprocess
        import sys

        self.process = subprocess.Popen(
            [sys.executable, "-c", f"from {__name__} import _serve; _serve({latency!r})"],
            stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.strip().isdigit():
            self.close()
            raise RuntimeError("the bench's loopback server did not start")
        self.port = int(line)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def _setup() -> None:
    if "server" not in _state:
        import atexit

        _state["server"] = LatencyServer(LATENCY)
        atexit.register(_state["server"].close)


def _ours() -> None:
    from metrics.vlm_judge.served import Request, ServedBackend

    server = _state["server"]
    backend = ServedBackend(server.url, "m", max_concurrency=CONCURRENCY, max_retries=0,
                            logprobs=False, timeout=30)
    requests = [Request(f"k{i}", f"r{i}", f"prompt {i}", None) for i in range(N_REQUESTS)]
    start = time.perf_counter()
    answered = sum(1 for _, answer, _ in backend.run(requests) if answer is not None)
    seconds = time.perf_counter() - start
    if answered != N_REQUESTS:
        raise RuntimeError(f"the bench judge got {answered} of {N_REQUESTS} answers")
    print(f"{'':58s} judge: {N_REQUESTS / seconds:.0f} req/s, ideal {CONCURRENCY / LATENCY:.0f}")


def _ideal() -> None:
    time.sleep(N_REQUESTS * LATENCY / CONCURRENCY)


def _threads_over_urllib() -> None:
    """The client this package had before: one thread per request in flight,
    a new connection per request (stdlib urllib), the same bodies."""
    import json as json_module
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    url = _state["server"].url + "/chat/completions"

    def ask(i: int) -> bool:
        body = json_module.dumps({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": f"prompt {i}"}]}], "temperature": 0.0,
            "max_tokens": 8}).encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as resp:
            return bool(json_module.loads(resp.read())["choices"])

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        answered = sum(pool.map(ask, range(N_REQUESTS)))
    if answered != N_REQUESTS:
        raise RuntimeError(f"the thread baseline got {answered} of {N_REQUESTS} answers")


CASES = [
    BenchCase(f"vlm_judge served: {N_REQUESTS} requests, {CONCURRENCY} in flight, "
              f"{LATENCY:g} s latency",
              _ours, _ideal, 1.25,
              notes="baseline = the ideal time N * latency / concurrency; ratio <= 1.25 "
                    "means >= 0.8x the ideal request rate",
              setup=_setup),
    BenchCase(f"vlm_judge served vs threads over urllib, {CONCURRENCY} in flight",
              _ours, _threads_over_urllib, 1.0,
              notes="baseline = the previous client (a thread per request, no connection "
                    "reuse) against the same server",
              setup=_setup),
]
