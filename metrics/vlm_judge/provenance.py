"""Where each judge answer came from: settings, software, and what the server said.

A judge's number is reproducible only with its settings: vLLM's log-probabilities
change with the batch a request shares unless batch invariance is on (vllm-project/
vllm issues #1761, #5898, #11778), and a hosted model changes under one name
(OpenAI's `system_fingerprint`). So every answer the judge caches gets a record,
kept beside the answer in the score cache's blob store under its own namespace
(PROVENANCE_NAMESPACE, same key as the answer; the answer blobs are unchanged):

    backend, model, model_revision, template_sha256,
    decoding: temperature, top_p, max_tokens, seed (None: the server's default),
    batch_size (local: prompts per forward pass; served: None, the server
      batches) and max_concurrency (served: requests in flight, which drives
      the server's batches),
    environment: local: torch and transformers versions, device, dtype,
      whether torch's deterministic algorithms were on; served: none,
    reported: what the server's response said (system_fingerprint, the
      model name it answered as, the engine's version where the response
      carries one),
    source: "local", "served" or "batch import", and recorded_at (UTC).

`summarise` turns the records of a run's answers into counts per value, for
run.json and report.md.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any, Iterable, Mapping

__all__ = ["PROVENANCE_NAMESPACE", "describe", "local_environment", "reported_fields",
           "stamp", "summarise"]

PROVENANCE_NAMESPACE = "vlm_judge/provenance/v1"
REPORTED_KEY = "reported"   # an answer's server-reported fields, moved out before caching
REPORTED_FIELDS = ("system_fingerprint", "model", "engine_version")


def reported_fields(response: Mapping[str, Any]) -> dict[str, Any]:
    """What a chat completions response says about the model that answered."""
    found = {k: response.get(k) for k in REPORTED_FIELDS if response.get(k) is not None}
    # Some OpenAI-compatible servers name their engine and version in the body.
    for key in ("engine", "version", "server_version"):
        if isinstance(response.get(key), str):
            found.setdefault("engine_version", response[key])
    return found


def local_environment(device: str, dtype: str) -> dict[str, Any]:
    """torch / transformers versions, device, dtype, deterministic algorithms on or off."""
    env: dict[str, Any] = {"device": device, "dtype": dtype}
    try:
        import torch

        env["torch"] = torch.__version__
        env["deterministic_algorithms"] = bool(torch.are_deterministic_algorithms_enabled())
    except ImportError:  # pragma: no cover - the local backend needs torch
        env["torch"] = None
    try:
        import transformers

        env["transformers"] = transformers.__version__
    except ImportError:  # pragma: no cover
        env["transformers"] = None
    return env


def stamp(record: Mapping[str, Any], source: str, reported: Mapping[str, Any] | None
          ) -> str:
    """The stored form of one answer's record."""
    return json.dumps({**record, "source": source, "reported": dict(reported or {}),
                       "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                      sort_keys=True, ensure_ascii=False)


def _hashable(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def summarise(records: Iterable[Mapping[str, Any] | None]) -> dict[str, Any]:
    """Counts of each value of each field over the answers' records:
    {"answers": n, "without_record": k, "fields": {field: {value: count}}};
    nested fields (decoding, environment, reported) are flattened with a dot."""
    n = without = 0
    fields: dict[str, Counter] = {}
    for record in records:
        n += 1
        if record is None:
            without += 1
            continue
        for key, value in record.items():
            if key == "recorded_at":
                continue
            items = (((f"{key}.{k}", v) for k, v in value.items()) if isinstance(value, dict)
                     else [(key, value)])
            for name, v in items:
                fields.setdefault(name, Counter())[_hashable(v)] += 1
    return {"answers": n, "without_record": without,
            "fields": {k: dict(c.most_common()) for k, c in sorted(fields.items())}}


def describe(summary: Mapping[str, Any]) -> list[str]:
    """report.md lines: each field with its values (and counts where they differ)."""
    n = summary.get("answers", 0)
    lines = [f"{n} answers; {summary.get('without_record', 0)} without a provenance record "
             "(cached by an earlier version)"]
    settings = summary.get("run_settings")
    if settings:
        lines.append("this run's judge: " + "; ".join(
            f"{k}={_hashable(v)}" for k, v in settings.items() if v not in (None, {}, "")))
    for name, values in summary.get("fields", {}).items():
        if len(values) == 1:
            value, = values
            lines.append(f"{name}: {value}")
        else:
            lines.append(f"{name}: " + ", ".join(f"{v} ({c})" for v, c in values.items()))
    return lines
