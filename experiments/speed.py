"""Time the project against its baselines: `python -m experiments.speed [--only NAME]`.

Each case runs its baseline and our code in this process and prints the
ratio ours/baseline next to its target; a case with a memory target is
judged by its peak traced MiB over that target instead, and one with a time
budget by its seconds over that budget. Rows go to --out as
JSON (`{name, ours_s, baseline_s, ratio, target, peak_mb, notes}`).
"""
from __future__ import annotations

import argparse
import gc
import importlib
import json
import pkgutil
import sys
import time
import tracemalloc
from pathlib import Path

from . import speed_cases
from .speed_cases import BenchCase
from .cli import add_common_arguments, command_name, setup_logging
from .interrupts import handles_interrupts


def discover() -> list[BenchCase]:
    cases: list[BenchCase] = []
    for info in sorted(pkgutil.iter_modules(speed_cases.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{speed_cases.__name__}.{info.name}")
        cases.extend(getattr(module, "CASES", []))
    return cases


def timed(fn, trace_memory: bool) -> tuple[float, float]:
    gc.collect()
    if trace_memory:
        tracemalloc.start()
    start = time.perf_counter()
    fn()
    seconds = time.perf_counter() - start
    peak = 0.0
    if trace_memory:
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return seconds, peak


def _memory_row(case: BenchCase) -> dict:
    """Run a memory-judged case under tracemalloc: ratio = peak traced MiB / its target."""
    ours_s, ours_mb = timed(case.ours, trace_memory=True)
    ratio = ours_mb / case.memory_target_mib
    verdict = "ok" if ratio <= case.target_ratio else "MISSED"
    print(f"{case.name:58s} {ours_s:9.3f} {'-':>9s} {ratio:7.3f} {case.target_ratio:7.2f} {verdict}")
    print(f"{'':58s} peak MiB {ours_mb:.1f} of the {case.memory_target_mib:.0f} MiB target")
    return {"name": case.name, "ours_s": round(ours_s, 4), "baseline_s": None, "ratio": round(ratio, 4),
            "target": case.target_ratio, "peak_mb": {"ours": round(ours_mb, 1), "baseline": None},
            "memory_target_mb": case.memory_target_mib, "notes": case.notes}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=command_name("experiments.speed"),
                                description="Time the project against its baselines.")
    p.add_argument("--only", default=None, help="run only cases whose name contains this")
    p.add_argument("--out", default="results/bench.json", help="where the rows go (JSON)")
    p.add_argument("--memory", action="store_true",
                   help="also trace peak Python memory (slows both sides)")
    add_common_arguments(p)
    return p


@handles_interrupts("no rows written")
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args)
    rows = []
    print(f"{'case':58s} {'ours s':>9s} {'base s':>9s} {'ratio':>7s} {'target':>7s}")
    for case in discover():
        if args.only and args.only not in case.name:
            continue
        try:
            if case.setup:
                case.setup()
        except FileNotFoundError as exc:
            print(f"{case.name:58s} skipped: {exc}")
            continue
        if case.memory_target_mib is not None:
            rows.append(_memory_row(case))
            continue
        if case.time_budget_s is not None:
            baseline_s, baseline_mb = case.time_budget_s, 0.0
        else:
            baseline_s, baseline_mb = timed(case.baseline, args.memory)
        ours_s, ours_mb = timed(case.ours, args.memory)
        ratio = ours_s / baseline_s
        verdict = "ok" if ratio <= case.target_ratio else "MISSED"
        print(f"{case.name:58s} {ours_s:9.3f} {baseline_s:9.3f} {ratio:7.3f} {case.target_ratio:7.2f} {verdict}")
        if args.memory:
            print(f"{'':58s} peak MiB ours {ours_mb:.1f}, baseline {baseline_mb:.1f}")
        rows.append({"name": case.name, "ours_s": round(ours_s, 4), "baseline_s": round(baseline_s, 4),
                     "ratio": round(ratio, 4), "target": case.target_ratio,
                     "peak_mb": {"ours": round(ours_mb, 1), "baseline": round(baseline_mb, 1)}
                     if args.memory else None, "notes": case.notes})
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    if not args.quiet:
        print(f"rows written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
