"""Published reference rows (--published): every row cited, the numbers the ones this
repository's tests quote, and shown apart from the run's own numbers."""
from __future__ import annotations

import csv
import re

import pytest

from experiments.benchmarks import list_benchmarks
from experiments.benchmarks.user_files import LEVELS, STATISTICS
from experiments.pipeline.latex import agreement_table
from experiments.pipeline.published import PUBLISHED_FILE, load_published
from experiments.plots.names import DisplayNames
from tests.experiments.test_flickr8k_published import PUBLISHED as CLIPSCORE_TABLE_1


def test_every_shipped_row_has_its_citation_and_a_valid_protocol():
    rows = load_published()
    assert rows
    for row in rows:
        assert row["paper"] and re.search(r"(19|20)\d\d", row["paper"]), row
        # a paper's table, or the authors' own repository printing the number
        assert (re.fullmatch(r"Table \d+[a-z]?", row["table"])
                or re.match(r"[\w.-]+/[\w.-]+ README, ", row["table"])), row
        assert row["protocol"] and row["quoted_in"], row
        assert row["benchmark"] in list_benchmarks()
        assert row["statistic"] in STATISTICS and row["level"] in LEVELS
        assert 0 < row["value"] <= 1


def test_shipped_numbers_are_those_the_tests_quote():
    rows = {(r["benchmark"], r["metric"]): r for r in load_published()}
    for bench, table in CLIPSCORE_TABLE_1.items():
        for metric, value in table.items():
            row = rows[bench, metric]
            assert row["value"] == pytest.approx(value / 100, abs=1e-12)
            assert row["paper"].startswith("Hessel et al. 2021") and row["table"] == "Table 1"
    fleur = rows["flickr8k-expert", "fleur"]
    assert fleur["value"] == pytest.approx(0.53) and fleur["paper"].startswith("Lee et al. 2024")
    assert len(rows) == len(load_published())  # one number per benchmark and metric


def test_a_row_without_its_citation_is_refused(tmp_path):
    text = PUBLISHED_FILE.read_text(encoding="utf-8").splitlines()
    fields = next(csv.reader([text[2]]))
    fields[7] = ""  # the table
    bad = tmp_path / "p.csv"
    with open(bad, "w", newline="", encoding="utf-8") as f:
        f.write(text[0] + "\n" + text[1] + "\n")
        csv.writer(f).writerow(fields)
    with pytest.raises(ValueError, match=r"p.csv:3: empty table"):
        load_published(bad)


def test_agreement_table_block_is_marked_never_bold_never_clustered():
    own = [{"benchmark": "b", "metric": "m", "statistic": "kendall_c", "level": "flat",
            "subset": "", "value": 0.30, "ci_low": 0.28, "ci_high": 0.32, "cluster": 1}]
    published = [{"benchmark": "b", "metric": "fleur", "statistic": "kendall_c",
                  "level": "flat", "subset": "", "value": 0.53},
                 {"benchmark": "other", "metric": "x", "statistic": "kendall_c",
                  "level": "flat", "subset": "", "value": 0.9}]
    tex = agreement_table(own, DisplayNames(), published=published)
    assert "Published, not computed here" in tex
    assert r"FLEUR$^{\dagger}$ & 53.0 \\" in tex  # plain: no bold, no cluster, no interval
    assert r"\textbf{30.0}" in tex  # the run's best stays bold although 53.0 is larger
    assert "90.0" not in tex  # a column the run does not have is not added


def test_published_end_to_end_on_flickr8k_expert(shared_data, tmp_path):
    from experiments.benchmarks import load_benchmark
    from experiments.make_figures import main as figures
    from experiments.run_correlation import main

    bench = load_benchmark("flickr8k-expert", shared_data)
    with open(tmp_path / "len.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sample_id", "score"])
        w.writerows([s.id, len(s.candidate)] for s in bench.samples)
    out = tmp_path / "res"
    assert main(["--benchmark", "flickr8k-expert", "--data-dir", str(shared_data),
                 "--metric-scores", f"len={tmp_path / 'len.csv'}", "--published",
                 "--bootstrap", "20", "--permutations", "20", "--out", str(out), "--quiet",
                 "--workers", "1"]) == 0
    with open(out / "published.csv", newline="") as f:
        shipped = list(csv.DictReader(f))
    assert {r["metric"] for r in shipped} == {"bleu1", "bleu4", "rouge_l", "meteor", "cider",
                                              "fleur", "pacscore"}
    assert all(r["benchmark"] == "flickr8k-expert" for r in shipped)
    report = (out / "report.md").read_text()
    assert "## Published numbers (not computed here)" in report
    assert "| flickr8k-expert | fleur | kendall_c | flat |  | 53.0 | Lee et al. 2024" in report
    assert r"FLEUR$^{\dagger}$ & 53.0" in (out / "agreement.tex").read_text()
    assert figures(["--results", str(out), "--out", str(tmp_path / "fig"), "--quiet"]) == 0
    with open(tmp_path / "fig" / "flickr8k-expert_agreement_forest.csv", newline="") as f:
        drawn = {r["metric"] for r in csv.DictReader(f)}
    assert "len" in drawn and not any("published" in m for m in drawn)
    assert "Published" in (tmp_path / "fig" / "agreement.tex").read_text()


def test_without_the_option_no_published_numbers(tmp_path):
    from experiments.run_correlation import main

    out = tmp_path / "res"
    assert main(["--metrics", "bleu1", "--bootstrap", "20", "--permutations", "20", "--out",
                 str(out), "--quiet", "--workers", "1"]) == 0
    assert not (out / "published.csv").exists()
    assert "Published" not in (out / "report.md").read_text()
