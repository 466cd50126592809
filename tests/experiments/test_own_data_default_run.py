"""The default run on an ordinary own-data file: -q never hides an error, a metric the
user did not name that cannot run on a benchmark (no images) is skipped with its
reason, and a metric with no score, or one that missed many rows, does not take the
other metrics' comparisons and clusters with it."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from correlation import compare_all
from experiments.benchmarks.user_files import load_user_file
from experiments.pipeline.agreement import JOINT_DROP_LIMIT, compare, views
from experiments.pipeline.settings import AnalysisSettings
from experiments.run_correlation import main
from tests.helpers.files import read_csv

REPO = Path(__file__).resolve().parents[2]
ANIMALS = ("dog", "cat", "horse", "bird", "cow", "child")
ACTIONS = ("runs", "sleeps", "jumps", "sits", "eats", "plays")
PLACES = ("grass", "sofa", "field", "tree", "barn", "beach")


def _ratings(with_image: bool) -> str:
    """The README's ratings layout: 6 images x 4 candidates x 2 annotators."""
    lines = ["id,candidate,reference_1,reference_2," + ("image," if with_image else "")
             + "score,system,annotator"]
    for k, (animal, action, place) in enumerate(zip(ANIMALS, ACTIONS, PLACES)):
        refs = f"a {animal} {action} on the {place},the {animal} {action} near the {place}"
        candidates = [(f"a {animal} {action} on the {place}", 5),
                      (f"a {animal} on the {PLACES[(k + 1) % 6]}", 3),
                      (f"a {ANIMALS[(k + 2) % 6]} {action}", 2),
                      ("a red car parked outside", 1)]
        for j, (text, score) in enumerate(candidates):
            for a, annotator in enumerate(("ann1", "ann2")):
                value = min(5, max(1, score - a * ((k + j) % 2)))
                lines.append(f"c{k}_{j},{text},{refs}," + (f"img/{k}.jpg," if with_image else "")
                             + f"{value},sys{j % 2},{annotator}")
    return "\n".join(lines) + "\n"


def _preferences(with_image: bool) -> str:
    """The README's preferences layout: 12 pairs, 2 categories, one or two annotators."""
    lines = ["pair_id,candidate_a,candidate_b,reference_1," + ("image," if with_image else "")
             + "preferred,category,annotator"]
    for k, (animal, action, place) in enumerate(zip(ANIMALS, ACTIONS, PLACES)):
        good, bad = f"a {animal} {action} on the {place}", f"a {ANIMALS[(k + 3) % 6]} in a car"
        for j, (a, b, preferred) in enumerate(((good, bad, "a"), (bad, good, "b"))):
            verdicts = [preferred] + (["tie"] if (k + j) % 3 == 0 else [])
            for w, verdict in enumerate(verdicts):
                lines.append(f"q{k}_{j},{a},{b},the {animal} {action} near the {place},"
                             + (f"p{k}.jpg," if with_image else "")
                             + f"{verdict},{'HC' if j else 'HI'},w{w}")
    return "\n".join(lines) + "\n"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# -q never hides an error

def test_quiet_stderr_hides_child_processes_but_not_what_python_writes():
    code = ("import logging, subprocess, sys\n"
            "from experiments.cli import quiet_stderr\n"
            "logging.basicConfig(level=logging.ERROR)\n"
            "with quiet_stderr(True):\n"
            "    subprocess.run([sys.executable, '-c',\n"
            "                    'import sys; sys.stderr.write(\"child\")'])\n"
            "    print('error: printed', file=sys.stderr)\n"
            "    logging.getLogger('x').error('logged')\n"
            "print('error: after', file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "child" not in done.stderr
    assert done.stderr.splitlines() == ["error: printed", "ERROR:x:logged", "error: after"]


@pytest.mark.slow
def test_the_readme_example_with_quiet_still_prints_the_error_that_stops_it(tmp_path):
    """`--metrics ...,clipscore` named on a file whose images are not under --image-root:
    exit 2 with the reason, also under -q (it printed nothing there)."""
    ratings = _write(tmp_path, "ratings.csv", _ratings(with_image=True))
    done = subprocess.run(
        [sys.executable, "-m", "experiments.run_correlation", "--benchmark",
         f"mine={ratings}", "--metrics", "clipscore", "--image-root",
         str(tmp_path / "images"), "--out", str(tmp_path / "out"), "-q"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: mine: clipscore: none of the 24 images exist (first: sample 'c0_0' -> "
        f"{tmp_path / 'images' / 'img' / '0.jpg'}); check --image-root")


def test_missing_images_stop_the_run_before_the_image_model_is_built(tmp_path, monkeypatch,
                                                                     capsys):
    """The image check comes before the metric is built: CLIP's libraries (seconds to
    import) are not touched for a run that cannot score."""
    from metrics import clip_model

    def built(self):
        raise AssertionError("the CLIP weights were checked before the images")

    monkeypatch.setattr(clip_model.ClipWeights, "_check", built)
    ratings = _write(tmp_path, "ratings.csv", _ratings(with_image=True))
    assert main(["--benchmark", f"mine={ratings}", "--metrics", "clipscore,refclipscore",
                 "--image-root", str(tmp_path / "images"), "--out", str(tmp_path / "out"),
                 "-q"]) == 2
    assert "error: mine: clipscore: none of the 24 images exist" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# image metrics on files without images

def _external(tmp_path: Path, bench_file: Path) -> Path:
    bench = load_user_file("x", bench_file)
    rows = ["sample_id,score"] + [f"{s.id},{len(s.candidate)}" for s in bench.samples]
    return _write(tmp_path, "ext.csv", "\n".join(rows) + "\n")


def test_image_metrics_are_skipped_not_scored_nan_on_a_file_without_images(tmp_path):
    ratings = _write(tmp_path, "ratings.csv", _ratings(with_image=False))
    out = tmp_path / "out"
    assert main(["--benchmark", f"mine={ratings}", "--metrics", "clipscore,refclipscore",
                 "--skip-unavailable", "--metric-scores", f"ext={_external(tmp_path, ratings)}",
                 "--out", str(out), "--bootstrap", "20", "--permutations", "20", "--quiet",
                 "--workers", "1"]) == 0
    assert {r["metric"] for r in read_csv(out / "scores.csv")} == {"ext"}
    record = json.loads((out / "run.json").read_text())
    reasons = {m["metric"]: m["skipped"] for m in record["metrics"]}
    for name in ("clipscore", "refclipscore"):
        assert reasons[name] == (f"{name}: mine gives no image for any sample (a file of your "
                                 "own needs an `image` column); this metric scores a candidate "
                                 "against its image")
        assert f"mine / {name}: skipped: {name}: mine gives no image" in \
            (out / "report.md").read_text()
    assert not read_csv(out / "failures.csv")


def test_a_named_image_metric_on_a_file_without_images_stops_the_run(tmp_path, capsys):
    ratings = _write(tmp_path, "ratings.csv", _ratings(with_image=False))
    assert main(["--benchmark", f"mine={ratings}", "--metrics", "clipscore", "--out",
                 str(tmp_path / "out"), "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: mine: clipscore: mine gives no image for any sample (a file of your own needs "
        "an `image` column); this metric scores a candidate against its image")


@pytest.mark.slow
def test_the_default_metric_set_runs_on_own_files_with_and_without_images(tmp_path):
    """The issue's 'done when': ratings and preferences in the README's formats, with an
    `image` column naming missing files and without one, every registered metric: exit 0,
    the image metrics skipped with their reasons, and comparisons and clusters for every
    metric that scored."""
    files = {"rated": _write(tmp_path, "r.csv", _ratings(True)),
             "rated_noimg": _write(tmp_path, "r0.csv", _ratings(False)),
             "study": _write(tmp_path, "s.csv", _preferences(True)),
             "study_noimg": _write(tmp_path, "s0.csv", _preferences(False))}
    out = tmp_path / "out"
    benchmarks = ",".join(f"{name}={path}" for name, path in files.items())
    assert main(["--benchmark", benchmarks, "--image-root", str(tmp_path / "images"),
                 "--out", str(out), "--bootstrap", "20", "--permutations", "20", "--quiet",
                 "--workers", "1"]) == 0
    record = json.loads((out / "run.json").read_text())
    scores = read_csv(out / "scores.csv")
    correlations = read_csv(out / "correlations.csv")
    comparisons = read_csv(out / "comparisons.csv")
    for bench in files:
        skipped = {m["metric"]: m["skipped"] for m in record["metrics"]
                   if m["benchmark"] == bench and m["skipped"]}
        image_reason = ("gives no image for any sample" if bench.endswith("noimg")
                        else "images exist")
        for name in ("clipscore", "refclipscore"):
            assert image_reason in skipped[name]
        scored = {r["metric"] for r in scores if r["benchmark"] == bench and r["score"] != "nan"}
        assert len(scored) >= 2 and not scored & set(skipped)
        assert {r["metric"] for r in scores if r["benchmark"] == bench} == scored
        # the files' protocol statistics, which are compared and clustered (kappa, system
        # pairwise accuracy and the battle rankings' agreements are reported without)
        rows = [r for r in correlations if r["benchmark"] == bench and r["metric"] in scored
                and r["statistic"] in ("kendall_c", "accuracy", "tau_like", "acc23")]
        by_view: dict[tuple, set] = {}
        for r in rows:
            if not math.isnan(float(r["value"])):
                assert r["cluster"] != "", r
                view = (r["statistic"], r["level"], r["subset"])
                by_view.setdefault(view, set()).add(r["metric"])
        assert by_view
        for (statistic, level, subset), metrics in by_view.items():
            compared = {frozenset((c["metric_a"], c["metric_b"])) for c in comparisons
                        if (c["benchmark"], c["statistic"], c["level"], c["subset"])
                        == (bench, statistic, level, subset)}
            assert compared == {frozenset(p) for p in combinations(metrics, 2)}


# ---------------------------------------------------------------------------
# comparisons when a metric scored nothing, or missed many rows

def _rated_benchmark(tmp_path):
    bench = load_user_file("mine", _write(tmp_path, "r.csv", _ratings(with_image=False)))
    [view] = views(bench)  # kendall_c, flat (no image, no item column)
    return bench, view


def _scores(bench, seed=0):
    rng = np.random.default_rng(seed)
    human = {sid: v for sid, v in zip(bench.ratings.sample_ids, bench.ratings.values)}
    base = np.array([human[s.id] for s in bench.samples])
    return {name: base + rng.normal(0, noise, base.size)
            for name, noise in (("good", 0.3), ("fair", 1.0), ("poor", 3.0))}


SETTINGS = AnalysisSettings(bootstrap=50, permutations=50)


def test_a_metric_with_no_score_is_left_out_and_the_others_are_compared(tmp_path):
    bench, view = _rated_benchmark(tmp_path)
    scored = _scores(bench)
    scored["clipscore"] = np.full(len(bench.samples), np.nan)
    rows = compare(bench, scored, SETTINGS, [view])
    assert {(r.metric_a, r.metric_b) for r in rows} == {("good", "fair"), ("good", "poor"),
                                                         ("fair", "poor")}
    assert all("left out of the comparisons, no score on these rows: clipscore" in r.notes
               for r in rows)
    assert {e.metric for e in view.clusters.entries} == {"good", "fair", "poor"}
    assert "no score on these rows: clipscore" in view.clusters.notes
    # the numbers are those of the three metrics alone, on every row
    results, _ = compare_all({k: view.metric_vector(scored[k]) for k in ("good", "fair", "poor")},
                             view.human, "kendall_c", "flat", view.items, view.systems,
                             n_resamples=50, n_permutations=50)
    assert [(r.delta, r.ci_low, r.ci_high, r.p_value, r.n) for r in rows] == \
           [(r.delta, r.ci_low, r.ci_high, r.p_value, r.n) for r in results]
    assert rows[0].n == 48


def test_pairs_are_compared_on_their_own_rows_when_the_joint_rows_would_drop_too_many(tmp_path):
    bench, view = _rated_benchmark(tmp_path)
    scored = _scores(bench, seed=1)
    assert (len(bench.samples), view.human.size) == (24, 48)
    scored["poor"][:1] = np.nan  # 2 of 48 rows (4.2 %): at most the limit, one joint set
    rows = compare(bench, scored, SETTINGS, [view])
    assert JOINT_DROP_LIMIT == 0.05
    assert all(r.n == 46 and "each pair compared" not in r.notes for r in rows)
    scored["poor"][:6] = np.nan  # 12 of 48 rows (25 %): each pair on the rows both scored
    rows = compare(bench, scored, SETTINGS, [view])
    n_of = {(r.metric_a, r.metric_b): r.n for r in rows}
    assert n_of == {("good", "fair"): 48, ("good", "poor"): 36, ("fair", "poor"): 36}
    note = ("each pair compared on the rows both scored: the rows where every metric scored "
            "would drop 12 of 48 (25.0%, above the 5% limit)")
    assert all(note in r.notes for r in rows)
    good_fair = next(r for r in rows if (r.metric_a, r.metric_b) == ("good", "fair"))
    results, _ = compare_all({k: view.metric_vector(scored[k]) for k in ("good", "fair")},
                             view.human, "kendall_c", "flat", view.items, view.systems,
                             n_resamples=50, n_permutations=50)
    assert (good_fair.delta, good_fair.ci_low, good_fair.ci_high) == \
           (results[0].delta, results[0].ci_low, results[0].ci_high)
    assert {e.metric for e in view.clusters.entries} == {"good", "fair", "poor"}
    assert note in view.clusters.notes
