"""The judge as a batch job: OpenAI Batch API / `vllm run-batch` JSON Lines files.

Export: every request the judge still needs (its answer not in the response
cache) becomes one line

    {"custom_id": KEY, "method": "POST", "url": "/v1/chat/completions", "body": BODY}

where KEY is the request's response-cache key and BODY is exactly what the
served client POSTs (`ServedBackend.request_body`), in shards within the
OpenAI Batch API's limits (50,000 requests and 200 MB per file), with a
manifest naming every custom_id, the model, the templates (by SHA-256) and
the decoding settings.

Import: output lines `{"id", "custom_id", "response": {"status_code",
"body"}, "error"}` (OpenAI and vLLM write the same shape) are checked against
the manifest and read by the served client's own parser
(`served.read_completion`) and scale reader (`answers.interpret`); the
answers go into the response cache under their custom_id, where a judge
with the same settings (served, or `backend=batch`, which asks no server)
finds them. Each line that cannot be used is a failure with its reason:
not JSON (a truncated line), no custom_id, an id the manifest does not
know, an id seen before, an `error`, a status other than 200, a model other
than the one asked, no logprobs when they were asked, an unreadable body.
An answer already in the cache is left as it is, so importing a file twice
changes nothing.

Sources: OpenAI Batch API reference (request and output line formats,
limits); vLLM `vllm run-batch` (the same formats, `-i in.jsonl -o out.jsonl`).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from ..base import MetricError
from ..cache import ScoreCache
from ..images import ImageReadError
from ..redaction import secret_values
from .answers import interpret
from .provenance import PROVENANCE_NAMESPACE, REPORTED_KEY, stamp
from .served import Request, ServedBackend, read_completion
from .templates import Template, load_template

__all__ = ["BatchBackend", "MANIFEST", "MAX_BYTES", "MAX_REQUESTS", "NOT_IN_CACHE",
           "export_requests", "import_outputs", "load_manifest", "manifest_templates",
           "write_manifest"]

FORMAT = "socratis-metaeval judge batch v1"
ENDPOINT = "/v1/chat/completions"
MAX_REQUESTS = 50_000                 # OpenAI Batch API: requests per input file
MAX_BYTES = 200 * 1000 * 1000         # OpenAI Batch API: 200 MB per input file
MANIFEST = "manifest.json"
CHARS_PER_TOKEN = 4                   # a rough English average for BPE tokenizers
NOT_IN_CACHE = ("no answer in the cache (backend=batch asks no server): export the request "
                "with `metaeval judge export` and import the batch output with "
                "`metaeval judge import`")


class BatchBackend(ServedBackend):
    """The served client's request settings without a server: for building
    batch files and for reading imported answers from the response cache.
    Asking it anything yields, per request, the error NOT_IN_CACHE."""

    def __init__(self, model: str, seed: int = 0, temperature: float = 0.0, max_tokens: int = 8,
                 logprobs: bool = True, top_logprobs: int = 20, extra_body: dict | None = None):
        # ServedBackend.__init__ needs a server; only what decoding() and
        # request_body() read is set here.
        self.model = model
        self._set_decoding(seed, temperature, max_tokens, logprobs, top_logprobs, extra_body)
        self.base_urls: list[str] = []

    def run(self, requests: Sequence[Request], template: Template | None = None
            ) -> Iterator[tuple[int, dict | None, str | None]]:
        for i in range(len(requests)):
            yield i, None, NOT_IN_CACHE


# -- export ---------------------------------------------------------------------------
@dataclass
class Shard:
    file: str
    requests: int = 0
    bytes: int = 0
    input_tokens: int = 0


def image_tokens(width: int, height: int) -> int:
    """OpenAI's count for an image at detail "high": scaled to fit 2048 x 2048,
    then its short side to 768, then 170 per 512-pixel tile plus 85 (OpenAI
    vision guide). Other models count differently; it is an estimate."""
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    return 85 + 170 * math.ceil(w / 512) * math.ceil(h / 512)


def _input_tokens(request: Request) -> int:
    tokens = math.ceil(len(request.prompt) / CHARS_PER_TOKEN)
    if request.image is not None:
        from PIL import Image

        with Image.open(request.image) as img:
            tokens += image_tokens(*img.size)
    return tokens


@dataclass
class Export:
    """What `export_requests` wrote."""

    shards: list[Shard] = field(default_factory=list)
    not_exportable: dict[str, str] = field(default_factory=dict)
    cached: int = 0


def image_url_for(path: str, prefix: str, root: str) -> str:
    """The URL of image `path` under `root` when `root` is served at `prefix`
    (an ImageReadError for an image outside `root` or not there)."""
    from urllib.parse import quote

    real, base = os.path.realpath(path), os.path.realpath(root)
    if not os.path.isfile(real):
        raise ImageReadError(f"image file not found: {path}")
    relative = os.path.relpath(real, base)
    if relative.startswith(os.pardir + os.sep) or relative == os.pardir or os.path.isabs(relative):
        raise ImageReadError(f"image {path} is not under the image URL root {root}")
    return prefix.rstrip("/") + "/" + quote(relative.replace(os.sep, "/"))


def export_requests(backend: ServedBackend,
                    batches: Sequence[tuple[Template | None, Sequence[Request | None]]],
                    out: Path, cache: ScoreCache | None, max_requests: int = MAX_REQUESTS,
                    max_bytes: int = MAX_BYTES, image_url: tuple[str, str] | None = None,
                    namespace: str | None = None) -> tuple[Export, dict[str, Any]]:
    """Write the batch files for `batches` ((template, requests) asked through
    `backend`; template None for requests that are not ratings, e.g. reason
    generation) into the folder `out` (created; it must not hold files); a
    request whose answer is in `cache` under `namespace` (default: the judge's)
    is left out. Returns what was written and the manifest's `requests`
    entries (custom_id -> label, template). `image_url`: (prefix, root): images
    go as URLs (`image_url_for`) instead of data URLs."""
    from .judge import CACHE_NAMESPACE

    namespace = namespace or CACHE_NAMESPACE
    if max_requests < 1 or max_bytes < 1:
        raise MetricError("batch export: the shard limits must be at least 1")
    if secret_values(backend.extra_body):
        raise MetricError("batch export: extra_body carries a secret (a field named like a "
                          "key); batch files are stored and uploaded, so it would leave with "
                          "every line: drop it (the provider takes the key with the upload)")
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise MetricError(f"batch export: {out} is not empty; give a new folder")
    result = Export()
    entries: dict[str, Any] = {}
    handle = None
    try:
        for template, requests in batches:
            for request in requests:
                if (request is None or request.key in entries
                        or request.key in result.not_exportable):
                    continue
                if cache is not None and cache.get_blob(namespace, request.key) is not None:
                    result.cached += 1
                    entries[request.key] = None  # seen
                    continue
                try:
                    url = (image_url_for(request.image, *image_url)
                           if image_url is not None and request.image is not None else None)
                    body = backend.request_body(request, backend.logprobs, url)
                    tokens = _input_tokens(request)
                except (ImageReadError, OSError) as exc:
                    result.not_exportable[request.key] = f"{request.label}: {exc}"
                    continue
                line = (json.dumps({"custom_id": request.key, "method": "POST", "url": ENDPOINT,
                                    "body": body}, ensure_ascii=False) + "\n").encode("utf-8")
                if len(line) > max_bytes:
                    result.not_exportable[request.key] = (
                        f"{request.label}: one request is {len(line)} bytes, over the "
                        f"{max_bytes}-byte file limit")
                    continue
                shard = result.shards[-1] if result.shards else None
                if (shard is None or shard.requests >= max_requests
                        or shard.bytes + len(line) > max_bytes):
                    if handle is not None:
                        handle.close()
                    shard = Shard(f"batch_{len(result.shards) + 1:05d}.jsonl")
                    result.shards.append(shard)
                    handle = open(out / shard.file, "wb")
                handle.write(line)
                shard.requests += 1
                shard.bytes += len(line)
                shard.input_tokens += tokens
                entries[request.key] = {"label": request.label,
                                        "template": template.name if template else None}
    finally:
        if handle is not None:
            handle.close()
    return result, {k: v for k, v in entries.items() if v is not None}


def write_manifest(out: Path, backend: ServedBackend, model_revision: str | None,
                   export: Export, requests: dict[str, Any], templates: Sequence[Template],
                   extra: dict[str, Any], price_input: float | None, price_output: float | None,
                   kind: str = "judge", namespace: str | None = None) -> dict[str, Any]:
    """manifest.json: counts, shards (size, estimated input tokens), templates by
    hash, decoding, the custom_ids, and a cost estimate at the prices given (per
    million tokens; the output side counts max_tokens per request, an upper bound).
    `kind` "judge" (answers read as ratings) or "generation" (answers are texts,
    stored as reason generation stores them, under `namespace`)."""
    from .judge import CACHE_NAMESPACE

    n = sum(s.requests for s in export.shards)
    tokens_in = sum(s.input_tokens for s in export.shards)
    tokens_out = n * backend.max_tokens
    cost = None
    if price_input is not None:
        cost = {"price_input_per_million": price_input, "price_output_per_million": price_output,
                "input_tokens_estimate": tokens_in, "output_tokens_at_most": tokens_out,
                "cost_at_most": round(tokens_in * price_input / 1e6
                                      + tokens_out * (price_output or 0.0) / 1e6, 6)}
    manifest = {
        "format": FORMAT, "kind": kind, "namespace": namespace or CACHE_NAMESPACE,
        "endpoint": ENDPOINT, "model": backend.model, "model_revision": model_revision,
        "decoding": backend.decoding(),
        "templates": {t.name: {"sha256": t.sha256, "path": t.path} for t in templates},
        "counts": {"exported": n, "already_in_cache": export.cached,
                   "not_exportable": len(export.not_exportable), "shards": len(export.shards)},
        "shards": [{"file": s.file, "requests": s.requests, "bytes": s.bytes,
                    "input_tokens_estimate": s.input_tokens} for s in export.shards],
        "input_tokens_estimate": tokens_in,
        "cost_estimate": cost,
        "not_exportable": export.not_exportable,
        **extra,
        "requests": requests,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                                encoding="utf-8")
    return manifest


# -- import ---------------------------------------------------------------------------
@dataclass
class Imported:
    """What `import_outputs` did; `failures` are (file:line, custom_id or "", reason)."""

    added: int = 0
    unchanged: int = 0
    kept_cached: int = 0
    unrated: list[tuple[str, str]] = field(default_factory=list)
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def load_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MetricError(f"batch import: cannot read the manifest {path}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise MetricError(f"batch import: {path} is not a manifest written by "
                          "`metaeval judge export`")
    return manifest


def manifest_templates(manifest: dict[str, Any], where: Path) -> dict[str, Template]:
    """The manifest's templates, loaded again and checked against their SHA-256."""
    found = {}
    for name, info in manifest["templates"].items():
        source = info.get("path") or name
        try:
            template = load_template(source)
        except MetricError as exc:
            raise MetricError(f"batch import: template {name!r} of {where}: {exc}") from None
        if template.sha256 != info["sha256"]:
            raise MetricError(f"batch import: template {name!r} ({source}) changed since the "
                              f"export ({where}): its answers would be read on another scale")
        found[name] = template
    return found


def _model_matches(asked: str, answered: Any) -> bool:
    """The answering model is the one asked: the same name, or (OpenAI) a dated
    snapshot of it, such as gpt-4o-2024-08-06 for gpt-4o."""
    return isinstance(answered, str) and (answered == asked or answered.startswith(asked + "-"))


def _line_problem(record: Any, manifest: dict[str, Any]) -> tuple[str, str | None, dict | None]:
    """(custom_id, reason, body): reason None when the line is an answer to check further."""
    if not isinstance(record, dict):
        return "", "not a JSON object", None
    cid = record.get("custom_id")
    if not isinstance(cid, str) or not cid:
        return "", "no custom_id", None
    if cid not in manifest["requests"]:
        return cid, "custom_id not in the manifest (a request this export did not write)", None
    if record.get("error"):
        error = record["error"]
        if isinstance(error, dict):
            error = ": ".join(str(error[k]) for k in ("code", "message") if error.get(k))
        return cid, f"error: {error}", None
    response = record.get("response")
    if not isinstance(response, dict):
        return cid, "no response", None
    status = response.get("status_code")
    body = response.get("body")
    if status != 200:
        detail = body.get("error") if isinstance(body, dict) else body
        return cid, f"HTTP status {status}: {detail}", None
    if not isinstance(body, dict):
        return cid, "the response has no JSON body", None
    if not _model_matches(manifest["model"], body.get("model")):
        return cid, f"answered by model {body.get('model')!r}, not {manifest['model']!r}", None
    return cid, None, body


def iter_output_lines(paths: Iterable[Path]) -> Iterator[tuple[str, Any, str | None]]:
    """(file:line, parsed record or None, why it could not be parsed) per non-blank line."""
    for path in paths:
        try:
            handle = open(path, "rb")
        except OSError as exc:
            raise MetricError(f"batch import: cannot read {path}: {exc}") from None
        with handle:
            for number, raw in enumerate(handle, 1):
                where = f"{path}:{number}"
                if not raw.strip():
                    continue
                try:
                    yield where, json.loads(raw.decode("utf-8")), None
                except (UnicodeDecodeError, ValueError) as exc:
                    yield where, None, f"not a valid JSON line (truncated?): {exc}"


def _import_record(manifest: dict[str, Any], template: Template) -> dict[str, Any]:
    """The provenance record (provenance.py) of an answer imported under `manifest`."""
    decoding = manifest["decoding"]
    extra = decoding.get("extra_body") or {}
    return {"backend": "batch", "model": manifest["model"],
            "model_revision": manifest.get("model_revision"), "template": template.name,
            "template_sha256": template.sha256,
            "decoding": {"temperature": decoding.get("temperature"), "top_p": extra.get("top_p"),
                         "max_tokens": decoding.get("max_tokens"), "seed": extra.get("seed")},
            "batch_size": None, "max_concurrency": None, "environment": {}}


def import_outputs(paths: Sequence[Path], manifest: dict[str, Any],
                   templates: dict[str, Template], cache: ScoreCache) -> Imported:
    """Check every output line against the manifest and put each usable answer,
    read as the served client reads it, into the response cache."""
    from .judge import CACHE_NAMESPACE

    result = Imported()
    namespace = manifest.get("namespace", CACHE_NAMESPACE)
    generation = manifest.get("kind") == "generation"
    seen: set[str] = set()
    asked_logprobs = bool(manifest["decoding"].get("logprobs"))
    for where, record, parse_error in iter_output_lines(paths):
        if parse_error is not None:
            result.failures.append((where, "", parse_error))
            continue
        cid, problem, body = _line_problem(record, manifest)
        if problem is None:
            answer, problem = read_completion(json.dumps(body))
        if problem is None and asked_logprobs and answer["top"] is None:
            problem = "no logprobs in the answer, though they were asked"
        if problem is None and cid in seen:
            problem = "duplicate custom_id (answered on an earlier line)"
        if problem is not None:
            result.failures.append((where, cid, problem))
            continue
        seen.add(cid)
        reported = {**answer.pop(REPORTED_KEY, {}), "batch_line_id": record.get("id"),
                    "request_id": record["response"].get("request_id")}
        if generation:  # as experiments.socratis.reasons stores a generated reason
            template = None
            stored = json.dumps({"text": answer["text"].strip()})
        else:
            template = templates[manifest["requests"][cid]["template"]]
            judgement = interpret(answer, template)
            if judgement.error:
                # Kept, as the served client keeps it: the score is NaN with this reason.
                result.unrated.append((cid, judgement.error))
            stored = json.dumps(answer, ensure_ascii=False)
        cached = cache.get_blob(namespace, cid)
        if cached is None:
            cache.put_blob(namespace, cid, stored)
            if template is not None:
                cache.put_blob(PROVENANCE_NAMESPACE, cid, stamp(
                    _import_record(manifest, template), "batch import", reported))
            result.added += 1
        elif cached == stored:
            result.unchanged += 1
        else:
            result.kept_cached += 1
    # Answered by no line here nor by an earlier import (of another shard's output).
    result.missing = sorted(cid for cid in set(manifest["requests"]) - seen
                            if cache.get_blob(namespace, cid) is None)
    return result
