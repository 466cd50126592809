"""SPICE runs the jar a user supplies and maps its answers back to samples.

The real SPICE needs Stanford CoreNLP 3.6.0, which is not installable here;
this test compiles a stand-in `edu.anu.spice.SpiceScorer` that speaks SPICE's
file protocol (input JSON of {image_id, test, refs}; output JSON of
{image_id, scores: {All: {f}}}) and scores a caption by its word count / 10,
and null for the caption "unparseable".
"""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from metrics import Sample, get_metric

FAKE_SCORER = r'''
package edu.anu.spice;
import java.nio.file.*;
import java.util.regex.*;
public class SpiceScorer {
    public static void main(String[] args) throws Exception {
        String in = new String(Files.readAllBytes(Paths.get(args[0])), "UTF-8");
        String out = null;
        for (int i = 1; i < args.length; i++) if (args[i].equals("-out")) out = args[i + 1];
        Class.forName("edu.stanford.nlp.FakeCoreNlp");
        Matcher m = Pattern.compile("\"image_id\": (\\d+), \"test\": \"((?:[^\"\\\\]|\\\\.)*)\"").matcher(in);
        StringBuilder sb = new StringBuilder("[");
        while (m.find()) {
            String test = m.group(2);
            String f = test.equals("unparseable") ? "null" : String.valueOf(test.trim().split("\\s+").length / 10.0);
            if (sb.length() > 1) sb.append(",");
            sb.append("{\"image_id\": " + m.group(1) + ", \"scores\": {\"All\": {\"f\": " + f + "}}}");
        }
        Files.write(Paths.get(out), (sb + "]").getBytes("UTF-8"));
    }
}
'''
FAKE_CORENLP = "package edu.stanford.nlp; public class FakeCoreNlp {}"


@pytest.fixture(scope="module")
def fake_install(tmp_path_factory):
    if not (shutil.which("javac") and shutil.which("jar")):
        pytest.skip("needs a JDK (javac, jar) to build the stand-in SPICE jar")
    root = tmp_path_factory.mktemp("spice")
    for name, source in (("SpiceScorer.java", FAKE_SCORER), ("FakeCoreNlp.java", FAKE_CORENLP)):
        (root / name).write_text(source)
    classes = root / "classes"
    subprocess.run(["javac", "-d", str(classes), str(root / "SpiceScorer.java"),
                    str(root / "FakeCoreNlp.java")], check=True)
    (root / "lib").mkdir()
    subprocess.run(["jar", "cf", str(root / "spice-1.0.jar"), "-C", str(classes), "edu/anu"], check=True)
    corenlp = root / "corenlp"
    corenlp.mkdir()
    subprocess.run(["jar", "cf", str(corenlp / "stanford-corenlp-3.6.0.jar"), "-C", str(classes),
                    "edu/stanford"], check=True)
    shutil.copy(corenlp / "stanford-corenlp-3.6.0.jar", corenlp / "stanford-corenlp-3.6.0-models.jar")
    return root


def test_supplied_corenlp_is_used_and_scores_map_back(fake_install, monkeypatch):
    monkeypatch.setenv("METAEVAL_CORENLP_DIR", str(fake_install / "corenlp"))
    metric = get_metric("spice", spice_jar=str(fake_install / "spice-1.0.jar"), java_memory="256m")
    samples = [Sample("a", "A dog runs on the grass.", ("A dog.",)),
               Sample("b", "Two cats", ("Cats.",)),
               Sample("c", "unparseable", ("x",)),
               Sample("d", "", ("x",))]
    out = metric.score(samples)
    # PTB tokenisation lower-cases and drops the full stop: "a dog runs on the grass" = 6 words
    np.testing.assert_allclose(out.scores[:2], [0.6, 0.2])
    assert np.isnan(out.scores[2]) and out.failures["c"] == "SPICE returned no score"
    assert np.isnan(out.scores[3]) and out.failures["d"] == "empty candidate"
