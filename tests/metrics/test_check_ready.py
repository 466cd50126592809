"""Metric.check_ready: why a metric cannot run here, said without loading anything."""
from __future__ import annotations

import pytest

from metrics import MetricError
from metrics.bert_score import BertScore
from metrics.ngram import Bleu


def test_ngram_metrics_need_java(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder with no java in it
    with pytest.raises(MetricError, match="no `java` on PATH"):
        Bleu(n=4).check_ready()


def test_model_metric_names_missing_weights():
    # HF_HUB_OFFLINE=1 (tests/conftest.py): nothing can be fetched, so the cache decides
    with pytest.raises(MetricError, match="not-a-real-org/no-such-model.*not available offline"):
        BertScore(model="not-a-real-org/no-such-model", num_layers=2).check_ready()
