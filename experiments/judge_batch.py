"""The VLM judge as a batch job (`metaeval judge export|import`).

    metaeval judge export --benchmark demo --metric-option vlm_judge.model=M --out batch/
    # run batch/batch_00001.jsonl on the OpenAI Batch API, or:
    #   vllm run-batch -i batch/batch_00001.jsonl -o out_00001.jsonl --model M
    metaeval judge import out_00001.jsonl --manifest batch/manifest.json
    metaeval run --benchmark demo --metrics vlm_judge \\
        --metric-option vlm_judge.backend=batch --metric-option vlm_judge.model=M

Export writes every request the judge still needs (its answer not in the score
cache's response store) as batch files plus manifest.json; import checks the
output lines against the manifest and fills the cache, from which
`run_correlation` then scores without a server. See metrics/vlm_judge/batch.py
and docs/vlm_judge.md, "Running the judge as a batch".
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from metrics import InputError, MetricError, ScoreCache
from metrics.vlm_judge.batch import (MANIFEST, MAX_BYTES, MAX_REQUESTS, export_requests,
                                     import_outputs, load_manifest, manifest_templates,
                                     write_manifest)

from .benchmarks import list_benchmarks, load_benchmark
from .benchmarks.base import DataError
from .cli import add_common_arguments, command_name, one_line_errors, setup_logging
from .interrupts import handles_interrupts
from .pipeline.metric_options import UsageError, parse_metric_options

JUDGE = "vlm_judge"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=command_name("experiments.judge_batch"), description=__doc__.split("\n\n")[0])
    add_common_arguments(p, loudness=False)  # -q/-v go after the subcommand
    sub = p.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export", help="write the judge's missing requests as batch files")
    ex.add_argument("--benchmark", required=True,
                    help=f"one of: {', '.join(list_benchmarks())}, or NAME=FILE")
    ex.add_argument("--pairwise", action="store_true",
                    help="also the pairwise judge's requests (both orders) on a pairwise benchmark")
    ex.add_argument("--metric-option", action="append", default=[], metavar="vlm_judge.KEY=VALUE",
                    help="the judge's options, as for run_correlation (model, template, "
                         "temperature, max_tokens, top_logprobs, ...); repeatable")
    ex.add_argument("--out", required=True, help="a new (or empty) folder for the batch files")
    ex.add_argument("--data-dir", default=None, help="benchmark data folder")
    ex.add_argument("--image-root", default=None, help="folder holding the benchmark's images")
    ex.add_argument("--cache-dir", default=None,
                    help="score cache whose answers need no request (default: as run_correlation)")
    ex.add_argument("--image-url-prefix", default=None, metavar="URL",
                    help="send each image as URL/PATH (PATH relative to --image-url-root) "
                         "instead of inline as a base64 data URL")
    ex.add_argument("--image-url-root", default=None, metavar="DIR",
                    help="the local folder that --image-url-prefix serves")
    ex.add_argument("--price-input", type=float, default=None, metavar="USD",
                    help="price per million input tokens, for the manifest's cost estimate")
    ex.add_argument("--price-output", type=float, default=None, metavar="USD",
                    help="price per million output tokens (with --price-input)")
    ex.add_argument("--max-requests", type=int, default=MAX_REQUESTS,
                    help=f"requests per file (default {MAX_REQUESTS:,}, OpenAI's limit)")
    ex.add_argument("--max-bytes", type=int, default=MAX_BYTES,
                    help=f"bytes per file (default {MAX_BYTES:,}, OpenAI's 200 MB)")
    add_common_arguments(ex, version=False)
    im = sub.add_parser("import", help="read batch outputs into the score cache")
    im.add_argument("outputs", nargs="+", metavar="OUTPUT.jsonl",
                    help="OpenAI or vLLM batch output (and error) files")
    im.add_argument("--manifest", default=None,
                    help="the export's manifest.json (default: the one beside the first output)")
    im.add_argument("--cache-dir", default=None, help="score cache to fill (default: as "
                                                      "run_correlation)")
    add_common_arguments(im, version=False)
    return p


@handles_interrupts("previous files kept", cached=("answers",))
@one_line_errors
def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args)
    try:
        if args.command == "export":
            return _export(parser, args)
        return _import(args)
    except (MetricError, DataError, InputError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _export(parser: argparse.ArgumentParser, args) -> int:
    from metrics.vlm_judge import VlmJudge

    try:
        options = parse_metric_options(args.metric_option, [JUDGE]).get(JUDGE, {})
    except UsageError as exc:
        parser.error(f"argument --metric-option: {exc}")
    if options.get("backend", "batch") not in ("batch", "served"):
        parser.error("argument --metric-option: a batch is for a served model "
                     f"(backend=served or batch), not backend={options['backend']}")
    if (args.image_url_prefix is None) != (args.image_url_root is None):
        parser.error("argument --image-url-prefix: give --image-url-root too (and vice versa)")
    if args.price_output is not None and args.price_input is None:
        parser.error("argument --price-output: give --price-input too")
    # The request bodies are the served client's; where they would be sent plays no part.
    options = {k: v for k, v in options.items() if k != "base_url"}
    options["backend"] = "batch"
    judge = VlmJudge(**options)
    bench = load_benchmark(args.benchmark, args.data_dir, args.image_root)
    requests, failures = judge.pointwise_requests(bench.samples)
    batches = [(judge.template, requests)]
    if args.pairwise:
        prefs = bench.preferences
        if prefs is None:
            parser.error(f"argument --pairwise: {args.benchmark} has no pairwise judgements")
        samples = {s.id: s for s in bench.samples}
        pairs = list(dict.fromkeys(zip(prefs.pair_ids, prefs.sample_a, prefs.sample_b)))
        pair_requests, pair_failures = judge.pair_requests(
            [(pid, samples[a], samples[b]) for pid, a, b in pairs])
        batches.append((judge.pair_template, pair_requests))
        failures.update({f"pair {k}": v for k, v in pair_failures.items()})
    cache = ScoreCache(args.cache_dir) if args.cache_dir else ScoreCache()
    out = Path(args.out)
    image_url = ((args.image_url_prefix, args.image_url_root)
                 if args.image_url_prefix is not None else None)
    export, entries = export_requests(judge.backend, batches, out, cache, args.max_requests,
                                      args.max_bytes, image_url)
    export.not_exportable.update({f"(prompt) {k}": v for k, v in failures.items()})
    templates = [t for t, _ in batches]
    manifest = write_manifest(
        out, judge.backend, judge.model_revision, export, entries, templates,
        {"benchmark": args.benchmark, "pairwise": bool(args.pairwise),
         "images": (f"URLs under {args.image_url_prefix}" if image_url else "base64 data URLs"),
         "signature": judge.signature(),
         "pair_signature": judge.pair_signature() if args.pairwise else None},
        args.price_input, args.price_output)
    counts = manifest["counts"]
    print(f"{counts['exported']} requests in {counts['shards']} file(s) under {out} "
          f"({counts['already_in_cache']} already answered in the cache); "
          f"about {manifest['input_tokens_estimate']:,} input tokens"
          + (f", at most {manifest['cost_estimate']['cost_at_most']:.2f} USD"
             if manifest["cost_estimate"] else ""))
    for key, why in export.not_exportable.items():
        print(f"not exported: {why}", file=sys.stderr)
    return 0


def _import(args) -> int:
    paths = [Path(p) for p in args.outputs]
    manifest_path = Path(args.manifest) if args.manifest else paths[0].parent / MANIFEST
    manifest = load_manifest(manifest_path)
    templates = manifest_templates(manifest, manifest_path)
    cache = ScoreCache(args.cache_dir) if args.cache_dir else ScoreCache()
    result = import_outputs(paths, manifest, templates, cache)
    for where, cid, why in result.failures:
        print(f"failed: {where}: {cid or '(no id)'}: {why}", file=sys.stderr)
    for cid, why in result.unrated:
        print(f"no rating (scored NaN, as the served client would): {cid}: {why}",
              file=sys.stderr)
    print(f"{result.added} answers added to the cache, {result.unchanged} already there, "
          f"{result.kept_cached} kept as cached (a different answer was imported before), "
          f"{len(result.failures)} lines failed, {len(result.missing)} of "
          f"{len(manifest['requests'])} requests still without an answer")
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
