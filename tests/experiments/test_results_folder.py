"""The output folder: atomic writes, a run owns its folder, results read back checked."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from experiments.pipeline.results_folder import (OutputFolderError, ResultsError,
                                                 ResultsWriter, check_out_folder, read_results)


def run(folder, files: dict[str, str], **record) -> ResultsWriter:
    writer = ResultsWriter(folder)
    for name, text in files.items():
        writer.write_text(name, text)
    writer.commit(record)
    return writer


def test_run_json_lists_every_file_with_its_size_and_hash(tmp_path):
    run(tmp_path / "out", {"scores.csv": "a,b\n1,2\n", "report.md": "# hi\n"}, command="x")
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["command"] == "x"
    assert record["files"] == {
        "report.md": {"bytes": 5, "sha256": hashlib.sha256(b"# hi\n").hexdigest()},
        "scores.csv": {"bytes": 8, "sha256": hashlib.sha256(b"a,b\n1,2\n").hexdigest()}}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.md", "run.json", "scores.csv"]
    results = read_results(tmp_path / "out")
    assert results.path("scores.csv").read_text() == "a,b\n1,2\n"
    assert results.path("demo.pairwise.csv") is None


def test_a_rerun_removes_what_the_earlier_run_wrote_and_it_did_not(tmp_path):
    out = tmp_path / "out"
    run(out, {"scores.csv": "1\n", "demo.subset_means.csv": "x\n", "pairwise.csv": "p\n"})
    run(out, {"scores.csv": "2\n"})
    assert sorted(p.name for p in out.iterdir()) == ["run.json", "scores.csv"]
    assert (out / "scores.csv").read_text() == "2\n"


def test_a_folder_with_files_the_package_did_not_write_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.tex").write_text("mine")
    (out / "notes").mkdir()
    with pytest.raises(OutputFolderError, match=r"out holds files this package did not write "
                                                r"\(notes/, thesis.tex\)"):
        ResultsWriter(out)
    assert (out / "thesis.tex").read_text() == "mine"
    clean = tmp_path / "clean"
    run(clean, {"scores.csv": "1\n"})
    (clean / "extra.txt").write_text("mine")
    with pytest.raises(OutputFolderError, match=r"\(extra.txt\)"):
        ResultsWriter(clean)


def test_another_tools_run_json_makes_no_folder_ours(tmp_path):
    # A folder another tool wrote: its own run.json (no list of files) beside files
    # whose names this package also writes. Nothing in it may be deleted or overwritten.
    out = tmp_path / "out"
    out.mkdir()
    theirs = {"run.json": json.dumps({"tool": "other-eval", "version": "2.1"}),
              "metrics.csv": "a\n", "predictions.csv": "b\n", "report.md": "# theirs\n"}
    for name, text in theirs.items():
        (out / name).write_text(text)
    with pytest.raises(OutputFolderError, match=r"out holds a run.json this package did not "
                                                r"write \(it lists no files\); nothing was changed"):
        ResultsWriter(out)
    # A list of files is not enough: the record must say this package wrote it.
    listed = {"files": {"metrics.csv": {"bytes": 2, "sha256": hashlib.sha256(b"a\n").hexdigest()}},
              "tool": "other-eval"}
    theirs["run.json"] = json.dumps(listed)
    (out / "run.json").write_text(theirs["run.json"])
    with pytest.raises(OutputFolderError, match=r"\(it does not say socratis-metaeval wrote it\)"):
        ResultsWriter(out)
    assert {p.name: p.read_text() for p in out.iterdir()} == theirs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_file_changed_since_the_run_wrote_it_is_not_removed(tmp_path):
    out = tmp_path / "out"
    run(out, {"scores.csv": "1\n", "correlations.csv": "benchmark\nmine\n"})
    (out / "correlations.csv").write_text("benchmark\nedited by hand\n")
    with pytest.raises(OutputFolderError, match=r"correlations.csv was changed after the run "
                                                r"wrote it \(25 bytes, run.json says 15\)"):
        run(out, {"scores.csv": "2\n"})
    assert (out / "correlations.csv").read_text() == "benchmark\nedited by hand\n"
    assert (out / "scores.csv").read_text() == "1\n"


def test_out_that_is_a_file_or_under_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputFolderError, match=r"--out .*f is a file, not a folder"):
        check_out_folder(tmp_path / "f")
    with pytest.raises(OutputFolderError, match=r"--out .*f/sub/dir lies under .*f, which is a file"):
        check_out_folder(tmp_path / "f" / "sub" / "dir")


def unwritable_folder(tmp_path) -> Path:
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o500)
        return folder
    if not Path("/sys/kernel").is_dir():
        pytest.skip("running as root without /sys: no folder root cannot write")
    return Path("/sys/kernel")


def test_out_that_cannot_be_written(tmp_path):
    with pytest.raises(OutputFolderError, match=r"--out .*: cannot write there"):
        check_out_folder(unwritable_folder(tmp_path))


def test_a_cut_file_is_caught_when_read_back(tmp_path):
    out = tmp_path / "out"
    run(out, {"correlations.csv": "benchmark,metric\nsocratis,bleu1\n"})
    with open(out / "correlations.csv", "r+") as f:
        f.truncate(20)
    with pytest.raises(ResultsError, match=r"correlations.csv is not the file the run wrote "
                                           r"\(20 bytes, run.json says 32"):
        read_results(out)
    (out / "correlations.csv").unlink()
    with pytest.raises(ResultsError, match=r"correlations.csv is listed in run.json but missing"):
        read_results(out)
    with pytest.raises(ResultsError, match=r"has no run.json"):
        read_results(tmp_path)


def test_stopped_before_the_switch_the_previous_results_stand(tmp_path):
    out = tmp_path / "out"
    run(out, {"scores.csv": "old\n", "extra.csv": "old\n"})
    writer = ResultsWriter(out)
    writer.write_text("scores.csv", "new\n")  # ... and the process dies here
    writer.lock.release()  # as the kernel does for a killed process
    results = read_results(out)
    assert sorted(results.paths) == ["extra.csv", "scores.csv"]
    assert results.path("scores.csv").read_text() == "old\n"
    assert (out / "scores.csv").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".out.{writer.run_id}.new", "out"]
    ResultsWriter(out).abandon()  # what the next run does first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in out.iterdir()) == ["extra.csv", "run.json", "scores.csv"]


def test_stopped_after_the_switch_the_new_results_are_read(tmp_path, monkeypatch):
    from experiments.pipeline import results_folder

    out = tmp_path / "out"
    run(out, {"scores.csv": "old\n", "extra.csv": "old\n"})
    writer = ResultsWriter(out)
    writer.write_text("scores.csv", "new\n")
    writer.write_text("report.md", "new\n")

    def die_after_switch(a, b):
        exchange(a, b)
        raise KeyboardInterrupt  # stands for the kill, before the previous run is removed

    from experiments.pipeline.folder_switch import exchange
    monkeypatch.setattr(results_folder, "exchange", die_after_switch)
    with pytest.raises(KeyboardInterrupt):
        writer.commit({})
    monkeypatch.undo()
    writer.lock.release()
    assert sorted(p.name for p in out.iterdir()) == ["report.md", "run.json", "scores.csv"]
    assert [(out / n).read_text() for n in ("report.md", "scores.csv")] == ["new\n", "new\n"]
    assert sorted(read_results(out).paths) == ["report.md", "scores.csv"]
    beside = tmp_path / f".out.{writer.run_id}.new"  # the previous run
    assert (beside / "extra.csv").read_text() == "old\n"
    ResultsWriter(out).abandon()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(read_results(out).paths) == ["report.md", "scores.csv"]


def test_study_and_score_files_are_written_whole_or_not_at_all(tmp_path):
    # human_study's task/key/summary files, fleur_scores' and generate_reasons'
    # outputs all go through write_text_atomically: a writer that dies half-way
    # leaves the previous file as it was, never half of the new one.
    from experiments.socratis.study import write_csv

    path = tmp_path / "task.csv"
    write_csv(path, ["a", "b"], [{"a": 1, "b": 2}])
    before = path.read_bytes()

    def rows_then_crash():
        yield {"a": 3, "b": 4}
        yield {"a": 5, "b": 6}
        raise KeyboardInterrupt  # the user pressed Ctrl-C during the export

    with pytest.raises(KeyboardInterrupt):
        write_csv(path, ["a", "b"], rows_then_crash())
    assert path.read_bytes() == before == b"a,b\n1,2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["task.csv"]


def test_write_text_atomically_writes_the_text_verbatim(tmp_path):
    from experiments.pipeline.results_folder import write_text_atomically

    write_text_atomically(tmp_path / "x.csv", "a,b\r\n1,2\r\n\u00e9\n")
    assert (tmp_path / "x.csv").read_bytes() == "a,b\r\n1,2\r\n\u00e9\n".encode("utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_the_switch_keeps_the_folders_permissions(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o750)  # e.g. shared with a group, closed to others
    run(out, {"scores.csv": "1\n"})
    run(out, {"scores.csv": "2\n"})
    assert (out.stat().st_mode & 0o777, (out / "scores.csv").read_text()) == (0o750, "2\n")


def test_the_current_folder_is_not_an_out_folder(tmp_path, monkeypatch):
    # The run is switched in for the whole folder: a shell or process inside it
    # would be left in the previous run's folder, then in a removed one.
    out = tmp_path / "out"
    run(out, {"scores.csv": "1\n"})
    monkeypatch.chdir(out)
    with pytest.raises(OutputFolderError, match=r"--out \. is or holds the current folder"):
        run(".", {"scores.csv": "2\n"})
    assert (out / "scores.csv").read_text() == "1\n"
    monkeypatch.chdir(tmp_path)
    run(out, {"scores.csv": "2\n"})
    assert (out / "scores.csv").read_text() == "2\n"
