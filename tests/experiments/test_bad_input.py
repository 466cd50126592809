"""Bad input gets a clear error naming the file and line, or the sample."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from experiments.benchmarks.base import DataError
from experiments.benchmarks import load_benchmark
from experiments.socratis.benchmark import DEMO_DIR
from experiments.pipeline.external_scores import ExternalScores
from experiments.benchmarks.flickr8k import load_cf, load_expert
from experiments.socratis.data import load_socratis
from metrics import Sample, get_metric
from metrics.base import InputError, Metric, MetricOutput

TOKENS = "a.jpg#0\tA dog runs.\na.jpg#1\tA dog plays.\nb.jpg#0\tA cat sits.\nb.jpg#1\tA cat naps.\n"


@pytest.fixture
def flickr(tmp_path):
    folder = tmp_path / "flickr8k"
    folder.mkdir()
    (folder / "Flickr8k.token.txt").write_text(TOKENS)
    (folder / "ExpertAnnotations.txt").write_text("a.jpg\tb.jpg#0\t1\t2\t1\nb.jpg\ta.jpg#1\t1\t1\t1\n")
    (folder / "CrowdFlowerAnnotations.txt").write_text("a.jpg\tb.jpg#0\t0.333\t1\t2\n")
    return folder


def test_small_valid_files_load(flickr):
    bench = load_expert(flickr)
    assert [s.id for s in bench.samples] == ["a.jpg/b.jpg#0", "b.jpg/a.jpg#1"]
    assert bench.ratings.values.tolist() == [1, 2, 1, 1, 1, 1]


def test_empty_file(flickr):
    (flickr / "ExpertAnnotations.txt").write_text("")
    with pytest.raises(DataError, match=r"ExpertAnnotations.txt: file is empty"):
        load_expert(flickr)


def test_ragged_row(flickr):
    (flickr / "ExpertAnnotations.txt").write_text("a.jpg\tb.jpg#0\t1\t2\t1\nb.jpg\ta.jpg#1\t1\t1\n")
    with pytest.raises(DataError, match=r"ExpertAnnotations.txt:2: expected 5 tab-separated columns, found 4"):
        load_expert(flickr)


def test_non_utf8_bytes(flickr):
    (flickr / "CrowdFlowerAnnotations.txt").write_bytes(b"a.jpg\tb.jpg#0\t1\t1\t0\nb.jpg\t\xff\xfe\t1\t1\t0\n")
    with pytest.raises(DataError, match=r"CrowdFlowerAnnotations.txt:2: not valid UTF-8"):
        load_cf(flickr)


def test_unknown_caption_id(flickr):
    (flickr / "ExpertAnnotations.txt").write_text("a.jpg\tz.jpg#4\t1\t2\t1\n")
    with pytest.raises(DataError, match=r"ExpertAnnotations.txt:1: caption id 'z.jpg#4'"):
        load_expert(flickr)


def test_empty_candidate_in_the_references_file(flickr):
    (flickr / "Flickr8k.token.txt").write_text(TOKENS + "c.jpg#0\t \n")
    with pytest.raises(DataError, match=r"Flickr8k.token.txt:5: empty caption"):
        load_expert(flickr)


@pytest.fixture
def socratis(tmp_path):
    folder = tmp_path / "socratis"
    shutil.copytree(DEMO_DIR, folder)
    return folder


def test_missing_column(socratis):
    path = socratis / "human_study.csv"
    lines = path.read_text().splitlines()
    header = lines[0].replace(",verdict", "")
    path.write_text("\n".join([header] + [",".join(l.split(",")[:6] + l.split(",")[7:]) for l in lines[1:]]))
    with pytest.raises(DataError, match=r"human_study.csv:1: missing column\(s\) verdict"):
        load_socratis(socratis)


def test_unknown_verdict_names_the_line(socratis):
    path = socratis / "human_study.csv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace(",ann", ",ann").rsplit(",", 2)[0] + ",meh," + lines[3].rsplit(",", 1)[1]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"human_study.csv:4: unknown verdict 'meh'"):
        load_socratis(socratis)


def test_duplicate_annotator_answer(socratis):
    path = socratis / "human_study.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [lines[1]]) + "\n")
    with pytest.raises(DataError, match=rf"human_study.csv:{len(lines) + 1}: annotator 'ann1' answered pair 'pair000' twice \(first on line 2\)"):
        load_socratis(socratis)


def test_duplicate_generation(socratis):
    path = socratis / "generations.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [lines[0]]) + "\n")
    with pytest.raises(DataError, match=rf"generations.jsonl:{len(lines) + 1}: duplicate generation"):
        load_socratis(socratis)


def test_bad_json_names_the_line(socratis):
    (socratis / "generations.jsonl").write_text('{"item_id": "demo00"}\n{oops\n')
    with pytest.raises(DataError, match=r"generations.jsonl:1: missing field\(s\) emotion, generator, reason"):
        load_socratis(socratis)
    (socratis / "generations.jsonl").write_text('\n{oops\n')
    with pytest.raises(DataError, match=r"generations.jsonl:2: invalid JSON"):
        load_socratis(socratis)


def test_unknown_benchmark_names_the_known_ones():
    with pytest.raises(DataError, match=r"unknown benchmark 'flikr8k'.*flickr8k-expert"):
        load_benchmark("flikr8k", "/nowhere")


def test_benchmark_without_data_dir_says_what_it_needs(monkeypatch):
    monkeypatch.delenv("METAEVAL_DATA_DIR", raising=False)
    with pytest.raises(DataError, match=r"needs --data-dir"):
        load_benchmark("flickr8k-cf")


def test_duplicate_sample_ids_are_refused():
    with pytest.raises(InputError, match="duplicate sample id 'x'"):
        get_metric("bleu1").score([Sample("x", "a", ("b",)), Sample("x", "c", ("d",))])


class _ImageMetric(Metric):
    name = "needs_image"
    needs_image = True

    def _score_chunk(self, samples):
        return MetricOutput(np.ones(len(samples)))


def test_missing_image_is_nan_naming_the_sample_and_file(tmp_path):
    present = tmp_path / "here.png"
    present.write_bytes(b"png")
    out = _ImageMetric().score([Sample("ok", "a", (), str(present)),
                                Sample("gone", "b", (), str(tmp_path / "missing.png"))])
    assert out.scores[0] == 1 and np.isnan(out.scores[1])
    assert out.failures == {"gone": f"image file not found: {tmp_path / 'missing.png'}"}


def test_all_images_missing_is_an_error_pointing_at_the_image_root(tmp_path):
    with pytest.raises(InputError, match=r"none of the 2 images exist.*sample 'a'.*--image-root"):
        _ImageMetric().score([Sample("a", "x", (), str(tmp_path / "1.png")),
                              Sample("b", "y", (), str(tmp_path / "2.png"))])


def test_external_scores_with_unknown_ids(tmp_path):
    bench = load_benchmark("demo")
    path = tmp_path / "scores.csv"
    path.write_text(f"sample_id,score\n{bench.samples[0].id},0.5\nnot-an-id,0.1\n")
    with pytest.raises(DataError, match=r"scores.csv:3: sample_id 'not-an-id' is not a sample of demo"):
        ExternalScores.read("mine", path).align(bench)
    path.write_text("sample_id,score\na,1\na,2\n")
    with pytest.raises(DataError, match=r"scores.csv:3: duplicate sample_id 'a' \(first on line 2\)"):
        ExternalScores.read("mine", path)
    path.write_text("id,score\na,1\n")
    with pytest.raises(DataError, match=r"scores.csv:1: missing column\(s\) sample_id"):
        ExternalScores.read("mine", path)


def test_one_missing_image_with_a_warm_cache_is_nan_not_a_stop(tmp_path):
    """The 'no image at all' check looks at the whole set, not only at the
    samples the cache lacks (here: just the one whose image is gone)."""
    from metrics import ScoreCache, score_with_cache

    images = []
    for k in range(3):
        images.append(tmp_path / f"{k}.png")
        images[-1].write_bytes(b"png")
    samples = [Sample(f"s{k}", f"text {k}", (), str(path)) for k, path in enumerate(images)]
    cache = ScoreCache(tmp_path / "cache")
    first, _ = score_with_cache(_ImageMetric(), samples, cache, progress=False)
    assert first.scores.tolist() == [1, 1, 1]
    images[2].unlink()
    again, stats = score_with_cache(_ImageMetric(), samples, cache, progress=False)
    assert again.scores[:2].tolist() == [1, 1] and np.isnan(again.scores[2])
    assert again.failures == {"s2": f"image file not found: {images[2]}"}
    assert stats.cached == 2
    for path in images[:2]:
        path.unlink()
    with pytest.raises(InputError, match=r"none of the 3 images exist"):
        score_with_cache(_ImageMetric(), samples, cache, progress=False)


def test_a_column_named_twice_in_a_scores_file_is_an_error_not_a_lost_column(tmp_path):
    from experiments.benchmarks.files import csv_rows

    path = tmp_path / "mine.csv"
    path.write_text("sample_id,score,score\nh:1:0:0,0.5,0.7\n")
    with pytest.raises(DataError, match=r"mine.csv:1: column 'score' appears twice"):
        list(csv_rows(path, ["sample_id", "score"]))
