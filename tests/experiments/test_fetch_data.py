"""fetch_data against a local HTTP server that serves the real benchmark files.

No test reaches the internet: every recorded URL is rewritten to
http://127.0.0.1:PORT/..., where a threading http.server serves the shared
data (the authors' releases), a zip built from it for Flickr8k's text
archive, or a broken variant (wrong bytes, a connection dropped half-way, 404).
"""
from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from experiments import fetch_data
from experiments.benchmarks import load_benchmark
from experiments.benchmarks.base import DataError
from experiments.benchmarks.download import (DIFFERS, FAILED, FETCHED, MANUAL, MISSING, OK,
                                             UNVERIFIED, check, fetch)
from experiments.benchmarks.sources import DataFile, all_files, families

FAMILIES = ("pascal50s", "thumb", "flickr8k")


class Server:
    """Serves `routes` (URL path -> bytes); `drop` paths stop half-way, others 404."""

    def __init__(self):
        self.routes: dict[str, bytes] = {}
        self.drop: set[str] = set()
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                outer.requests.append(self.path)
                body = outer.routes.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in outer.drop:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def _files(*names: str) -> list[DataFile]:
    return [f for name in names for f in families()[name].files]


def _publish(server: Server, shared: Path, files: list[DataFile]) -> dict[str, str]:
    """Serve each file (archive members inside a zip built from the shared copies);
    return the URL rewrite official -> local."""
    rewrite = {}
    archives: dict = {}
    for f in files:
        if f.archive is not None:
            archives.setdefault(f.archive, []).append(f)
            continue
        path = "/" + f.path
        server.routes[path] = (shared / f.path).read_bytes()
        rewrite[f.url] = server.base + path
    for archive, members in archives.items():
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for f in members:
                zf.writestr(f"Flickr8k_text/{f.member}", (shared / f.path).read_bytes())
            zf.writestr("Flickr8k_text/Flickr8k.lemma.txt", "not listed, not extracted\n")
        path = "/" + archive.name
        server.routes[path] = buf.getvalue()
        rewrite[archive.url] = server.base + path
    return rewrite


def _no_part_files(folder: Path) -> bool:
    return not list(folder.rglob("*.part"))


def test_table_checksums_are_the_shared_releases(shared_data):
    """Every recorded SHA-256 and size is that of the authors' release kept in the shared data."""
    rows = [f for f in all_files() if f.sha256 is not None]
    assert len(rows) == 16
    for f in rows:
        data = (shared_data / f.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f.sha256, f.path
        assert len(data) == f.size, f.path
    assert {s.state for s in check(rows, shared_data)} == {OK}


def test_complete_fetch_lays_out_the_data_dir(shared_data, server, tmp_path):
    files = _files(*FAMILIES)
    rewrite = _publish(server, shared_data, files)
    statuses = fetch(files, tmp_path, url_for=rewrite.__getitem__, progress=False)
    assert [s.state for s in statuses] == [FETCHED] * len(files)
    for f in files:
        assert (tmp_path / f.path).read_bytes() == (shared_data / f.path).read_bytes()
    assert not (tmp_path / "flickr8k" / "Flickr8k.lemma.txt").exists()
    assert _no_part_files(tmp_path)
    pascal = load_benchmark("pascal50s", tmp_path)
    assert len(pascal.preferences) == 4000
    assert len(load_benchmark("flickr8k-expert", tmp_path).ratings) == 16992


def test_rerun_fetches_only_missing_or_wrong_files(shared_data, server, tmp_path):
    files = _files("pascal50s", "thumb")
    rewrite = _publish(server, shared_data, files)
    fetch(files, tmp_path, url_for=rewrite.__getitem__, progress=False)
    assert len(server.requests) == 3
    again = fetch(files, tmp_path, url_for=rewrite.__getitem__, progress=False)
    assert [s.state for s in again] == [OK, OK, OK]
    assert len(server.requests) == 3  # nothing asked twice
    damaged = tmp_path / "thumb" / "mscoco_references.jsonl"
    damaged.write_text("edited by hand\n")
    assert [s.state for s in check(files, tmp_path)] == [OK, OK, DIFFERS]
    third = fetch(files, tmp_path, url_for=rewrite.__getitem__, progress=False)
    assert [s.state for s in third] == [OK, OK, FETCHED]
    assert server.requests[3:] == ["/thumb/mscoco_references.jsonl"]
    assert damaged.read_bytes() == (shared_data / "thumb/mscoco_references.jsonl").read_bytes()


def test_checksum_mismatch_names_file_both_hashes_and_url(shared_data, server, tmp_path):
    files = _files("thumb")
    rewrite = _publish(server, shared_data, files)
    wrong = b'{"seg_id": "1", "set_id": 0, "refs": ["not the release"]}\n'
    server.routes["/thumb/mscoco_references.jsonl"] = wrong
    statuses = fetch(files, tmp_path, url_for=rewrite.__getitem__, progress=False)
    assert [s.state for s in statuses] == [FETCHED, FAILED]
    detail = statuses[1].detail
    assert hashlib.sha256(wrong).hexdigest() in detail
    assert files[1].sha256 in detail
    assert f"{server.base}/thumb/mscoco_references.jsonl" in detail
    assert str(tmp_path / "thumb" / "mscoco_references.jsonl") in detail
    assert not (tmp_path / files[1].path).exists()
    assert _no_part_files(tmp_path)
    kept = fetch(files, tmp_path, url_for=rewrite.__getitem__, progress=False, verify=False)
    assert [s.state for s in kept] == [OK, UNVERIFIED]
    assert (tmp_path / files[1].path).read_bytes() == wrong


def test_connection_dropped_half_way_leaves_no_file(shared_data, server, tmp_path):
    files = _files("pascal50s")
    rewrite = _publish(server, shared_data, files)
    server.drop.add("/pascal50s/pascal_50s.json")
    [status] = fetch(files, tmp_path, url_for=rewrite.__getitem__, progress=False)
    assert status.state == FAILED
    assert "closed" in status.detail and "/pascal50s/pascal_50s.json" in status.detail
    assert not (tmp_path / "pascal50s" / "pascal_50s.json").exists()
    assert _no_part_files(tmp_path)
    server.drop.clear()
    [status] = fetch(files, tmp_path, url_for=rewrite.__getitem__, progress=False)
    assert status.state == FETCHED


def test_archive_dropped_half_way_fails_every_member(shared_data, server, tmp_path):
    files = _files("flickr8k")
    rewrite = _publish(server, shared_data, files)
    server.drop.add("/Flickr8k_text.zip")
    statuses = fetch(files, tmp_path, url_for=rewrite.__getitem__, progress=False)
    assert [s.state for s in statuses] == [FAILED] * 5 + [FETCHED]
    assert not (tmp_path / "flickr8k" / "ExpertAnnotations.txt").exists()
    assert _no_part_files(tmp_path)


def test_404_is_an_error_naming_the_url(shared_data, server, tmp_path):
    files = _files("pascal50s")
    rewrite = {files[0].url: server.base + "/moved/pascal_50s.json"}
    [status] = fetch(files, tmp_path, url_for=rewrite.__getitem__, progress=False)
    assert status.state == FAILED
    assert "HTTP 404" in status.detail and "/moved/pascal_50s.json" in status.detail
    assert not (tmp_path / "pascal50s").exists() or _no_part_files(tmp_path)


def test_file_without_url_or_checksum(server, tmp_path):
    [nebula] = _files("nebula")
    [status] = fetch([nebula], tmp_path, progress=False)
    assert status.state == MANUAL and "Ka2ukiMatsuda/Nebula" in status.detail
    [socratis] = _files("socratis")
    body = b'{"1": []}'
    server.routes["/s.json"] = body
    [status] = fetch([socratis], tmp_path, url_for=lambda url: server.base + "/s.json",
                     progress=False)
    assert status.state == UNVERIFIED
    assert hashlib.sha256(body).hexdigest() in status.detail


def test_cli_check_and_unknown_name(shared_data, tmp_path, capsys):
    assert fetch_data.main(["pascal50s", "--check", "--data-dir", str(shared_data)]) == 0
    assert "ok         pascal50s/pascal_50s.json" in capsys.readouterr().out
    assert fetch_data.main(["flickr8k-cf", "--check", "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.count(f"{MISSING}    flickr8k/") == 2 and "2 missing" in out  # what CF reads
    assert "drive.usercontent.google.com" in out
    with pytest.raises(SystemExit, match="unknown name"):
        fetch_data.main(["flickr9k", "--check", "--data-dir", str(tmp_path)])


def test_loader_error_points_at_fetch_data(tmp_path):
    (tmp_path / "thumb").mkdir()
    with pytest.raises(DataError, match=r"fetch_data thumb --check"):
        load_benchmark("thumb", tmp_path)
