"""What every command shares: --version, -q/--quiet and -v/--verbose, and the
`metaeval` console script that dispatches to the `python -m experiments.X` entry points.

    metaeval run --benchmark demo          # python -m experiments.run_correlation
    metaeval figures --results results     # python -m experiments.make_figures
    metaeval study export ...              # python -m experiments.human_study
    metaeval generate ...                  # python -m experiments.generate_reasons
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import sys
import warnings
from contextlib import contextmanager
from importlib import metadata
from typing import Iterator

DISTRIBUTION = "socratis-metaeval"
# subcommand -> (module with main(argv), what it does). A module this checkout lacks
# is left out of the help and reported as unknown.
COMMANDS = {
    "run": ("experiments.run_correlation", "score benchmarks and measure agreement with people"),
    "figures": ("experiments.make_figures", "figures and LaTeX tables from saved results"),
    "study": ("experiments.human_study", "the human-study kit (export, import)"),
    "generate": ("experiments.generate_reasons", "machine-written reasons for Socratis"),
    "judge": ("experiments.judge_batch", "the VLM judge as batch files (export, import)"),
    "fetch": ("experiments.fetch_data", "fetch public benchmark data from their authors"),
    "plan": ("experiments.plan_study", "power and sample size for a human study"),
    "fleur": ("experiments.fleur_scores", "convert FLEUR's released scores"),
    "speed": ("experiments.speed", "time the project against its baselines"),
}


def package_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def add_common_arguments(parser: argparse.ArgumentParser, version: bool = True,
                         loudness: bool = True) -> None:
    """--version, -q/--quiet (errors and the final result only), -v/--verbose (debug logs)."""
    if version:
        parser.add_argument("--version", action="version",
                            version=f"%(prog)s ({DISTRIBUTION} {package_version()})")
    if not loudness:
        return
    loud = parser.add_mutually_exclusive_group()
    loud.add_argument("-q", "--quiet", action="store_true",
                      help="print only errors and the final result (no logs, no progress bars)")
    loud.add_argument("-v", "--verbose", action="store_true", help="debug logs")


def setup_logging(args: argparse.Namespace, default: int = logging.INFO) -> None:
    """Log level from -q/-v (else `default`); quiet also silences the libraries' own
    chatter (transformers' and huggingface_hub's progress bars and notices, warnings)."""
    quiet, verbose = getattr(args, "quiet", False), getattr(args, "verbose", False)
    level = logging.ERROR if quiet else logging.DEBUG if verbose else default
    # A no-op where logging is already set up (an embedding program, pytest): then the
    # host decides what is shown.
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("matplotlib", "PIL", "fontTools", "urllib3", "filelock", "httpx"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    if quiet:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
        os.environ.setdefault("TQDM_DISABLE", "1")
        warnings.simplefilter("ignore")
        try:  # only where transformers is already imported or importable cheaply
            if "transformers" in sys.modules:
                sys.modules["transformers"].logging.set_verbosity_error()
                sys.modules["transformers"].logging.disable_progress_bar()
        except AttributeError:
            pass


@contextmanager
def quiet_stderr(active: bool) -> Iterator[None]:
    """While active, what child processes (the Java PTB tokenizer, METEOR) and C
    libraries write to the standard error stream goes nowhere; Python's own errors are
    reported after the block."""
    if not active:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def available() -> dict[str, tuple[str, str]]:
    """The subcommands whose modules this checkout has."""
    found = {}
    for name, (module, what) in COMMANDS.items():
        try:
            spec = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            spec = None
        if spec is not None:
            found[name] = (module, what)
    return found


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = available()
    usage = "metaeval {" + ",".join(commands) + "} [options]   (metaeval COMMAND --help)"
    if argv and argv[0] == "--version":
        print(f"metaeval ({DISTRIBUTION} {package_version()})")
        return 0
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: {usage}\n\ncommands:")
        for name, (module, what) in commands.items():
            print(f"  {name:<9} {what} (python -m {module})")
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in commands:
        print(f"metaeval: unknown command {name!r}; commands: {', '.join(commands)}",
              file=sys.stderr)
        return 2
    module = importlib.import_module(commands[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
