"""fetch_data behind a firewall: --mirror (and $METAEVAL_DATA_MIRROR) fetches from a lab's
mirror that keeps the authors' file names, --from places files downloaded by hand, both
verify every checksum; NAME --check checks only what that benchmark reads. The mirror
is a server on 127.0.0.1 serving the shared copies of the authors' releases."""
from __future__ import annotations

import io
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from experiments import fetch_data
from experiments.benchmarks import load_benchmark
from experiments.benchmarks.sources import DataFile, families
from experiments.pipeline.plugins import benchmark_entry

sys.path.insert(0, str(Path(__file__).parent))
from test_fetch_data import Server  # noqa: E402


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def flickr8k_text_zip(shared: Path) -> bytes:
    """Flickr8k_text.zip as the authors ship it: the members in a Flickr8k_text/ folder."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in families()["flickr8k"].files:
            if f.archive is not None:
                zf.writestr(f"Flickr8k_text/{f.member}", (shared / f.path).read_bytes())
    return buf.getvalue()


def mirror_routes(shared: Path, files: list[DataFile]) -> dict[str, bytes]:
    """/mirror/AUTHORS_NAME -> bytes, one flat folder, as a lab would fill it."""
    routes = {}
    for f in files:
        if f.archive is not None:
            routes[f"/mirror/{f.archive.name}"] = flickr8k_text_zip(shared)
        else:
            routes[f"/mirror/{f.authors_name}"] = (shared / f.path).read_bytes()
    return routes


def test_mirror_keeps_the_authors_names_and_every_checksum_is_verified(
        shared_data, server, tmp_path, capsys):
    files = [*families()["thumb"].files, *families()["flickr8k"].files]
    server.routes.update(mirror_routes(shared_data, files))
    assert fetch_data.main(["thumb", "flickr8k", "--data-dir", str(tmp_path / "d"),
                            "--mirror", server.base + "/mirror/", "-q"]) == 0
    assert sorted(server.requests) == ["/mirror/Flickr8k_text.zip", "/mirror/flickr8k.json",
                                       "/mirror/mscoco_THumB-1.0.jsonl",
                                       "/mirror/mscoco_references.json"]
    for f in files:
        assert (tmp_path / "d" / f.path).read_bytes() == (shared_data / f.path).read_bytes()
    assert "8 fetched" in capsys.readouterr().out
    assert len(load_benchmark("flickr8k-expert", tmp_path / "d").ratings) == 16992
    # a mirror holding other bytes: nothing written, the file named
    server.routes["/mirror/pascal_50s.json"] = b'{"not": "the release"}'
    assert fetch_data.main(["pascal50s", "--data-dir", str(tmp_path / "d"),
                            "--mirror", server.base + "/mirror"]) == 1
    out = capsys.readouterr().out
    assert "failed     pascal50s/pascal_50s.json" in out and "does not match" in out
    assert not (tmp_path / "d" / "pascal50s" / "pascal_50s.json").exists()


def test_the_mirror_can_come_from_the_environment(shared_data, server, tmp_path, monkeypatch,
                                                  capsys):
    [f] = families()["pascal50s"].files
    server.routes["/lab/pascal_50s.json"] = (shared_data / f.path).read_bytes()
    monkeypatch.setenv(fetch_data.MIRROR_ENV, server.base + "/lab")
    assert fetch_data.main(["pascal50s", "--data-dir", str(tmp_path), "-q"]) == 0
    assert server.requests == ["/lab/pascal_50s.json"]
    assert capsys.readouterr() == ("fetched    pascal50s/pascal_50s.json\n1 fetched\n", "")


def test_from_a_folder_of_hand_downloads(shared_data, tmp_path, capsys):
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    (downloads / "Flickr8k_text.zip").write_bytes(flickr8k_text_zip(shared_data))
    (downloads / "mscoco_references.json").write_bytes(
        (shared_data / "thumb/mscoco_references.jsonl").read_bytes())
    (downloads / "mscoco_THumB-1.0.jsonl").write_bytes(b"edited\n")  # not the release
    data = tmp_path / "data"
    assert fetch_data.main(["flickr8k-expert", "thumb", "--data-dir", str(data),
                            "--from", str(downloads)]) == 1
    out = capsys.readouterr().out
    for path in ("flickr8k/ExpertAnnotations.txt", "flickr8k/Flickr8k.token.txt",
                 "thumb/mscoco_references.jsonl"):
        assert f"placed     {path}" in out
        assert (data / path).read_bytes() == (shared_data / path).read_bytes()
    assert "failed     thumb/mscoco_THumB-1.0.jsonl" in out  # the checksum is verified
    assert not (data / "thumb/mscoco_THumB-1.0.jsonl").exists()
    assert "missing    flickr8k/flickr8k_expert.json  (no file named flickr8k.json or " \
           f"flickr8k_expert.json in {downloads}" in out
    assert (downloads / "mscoco_THumB-1.0.jsonl").read_bytes() == b"edited\n"  # left as it was
    assert fetch_data.main(["flickr8k-expert", "--check", "--data-dir", str(data)]) == 0


def test_from_a_tar_archive(shared_data, tmp_path, capsys):
    bundle = tmp_path / "bundle.tar.gz"
    with tarfile.open(bundle, "w:gz") as tf:
        tf.add(shared_data / "pascal50s" / "pascal_50s.json", arcname="lab/pascal_50s.json")
    assert fetch_data.main(["pascal50s", "--data-dir", str(tmp_path / "d"), "--from",
                            str(bundle), "-q"]) == 0
    assert (tmp_path / "d/pascal50s/pascal_50s.json").read_bytes() == \
        (shared_data / "pascal50s/pascal_50s.json").read_bytes()
    # one file downloaded by hand
    assert fetch_data.main(["pascal50s", "--data-dir", str(tmp_path / "one"), "--from",
                            str(shared_data / "pascal50s" / "pascal_50s.json"), "-q"]) == 0
    assert (tmp_path / "one/pascal50s/pascal_50s.json").is_file()
    assert fetch_data.main(["pascal50s", "--data-dir", str(tmp_path / "d"), "--from",
                            str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.strip() == \
        f"error: --from {tmp_path / 'none'}: no such folder or file"


def test_check_of_a_benchmark_checks_only_what_it_reads(shared_data, tmp_path, capsys):
    (tmp_path / "flickr8k").mkdir()
    for name in ("ExpertAnnotations.txt", "Flickr8k.token.txt"):
        (tmp_path / "flickr8k" / name).write_bytes((shared_data / "flickr8k" / name).read_bytes())
    assert fetch_data.main(["flickr8k-expert", "--check", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "ok         flickr8k/ExpertAnnotations.txt", "ok         flickr8k/Flickr8k.token.txt",
        "2 ok"]
    # run_correlation --list says the same
    assert benchmark_entry("flickr8k-expert", str(tmp_path)).ready == "yes"
    assert benchmark_entry("flickr8k-cf", str(tmp_path)).ready.startswith(
        "no: 1 of 2 files missing")
    # the family checks every file it has
    assert fetch_data.main(["flickr8k", "--check", "--data-dir", str(tmp_path)]) == 1
    assert "4 missing, 2 ok" in capsys.readouterr().out
    # flickr8k_expert.json alone is enough for flickr8k-expert
    json_only = tmp_path / "json"
    (json_only / "flickr8k").mkdir(parents=True)
    (json_only / "flickr8k" / "flickr8k_expert.json").write_bytes(
        (shared_data / "flickr8k" / "flickr8k_expert.json").read_bytes())
    assert fetch_data.main(["flickr8k-expert", "--check", "--data-dir", str(json_only)]) == 0
    assert capsys.readouterr().out.splitlines() == ["ok         flickr8k/flickr8k_expert.json",
                                                    "1 ok"]
    # neither: each file is named, and the stand-in says what it stands in for
    assert fetch_data.main(["flickr8k-expert", "--check", "--data-dir", str(tmp_path / "e")]) == 1
    out = capsys.readouterr().out
    assert "3 missing" in out
    assert "or, instead of it, flickr8k/ExpertAnnotations.txt and flickr8k/Flickr8k.token.txt" \
        in out
