"""What every command shares: --version, -q/--quiet and -v/--verbose, and the
`metaeval` console script that dispatches to the `python -m experiments.X` entry points.

    metaeval run --benchmark demo          # python -m experiments.run_correlation
    metaeval figures --results results     # python -m experiments.make_figures
    metaeval study export ...              # python -m experiments.human_study
    metaeval generate ...                  # python -m experiments.generate_reasons
"""
from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
import logging
import os
import sys
import warnings
from contextlib import contextmanager
from importlib import metadata
from typing import Callable, Iterator

from .interrupts import handles_interrupts

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
    "score": ("experiments.score_files", "score plain candidate and reference files"),
}


def package_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


# The module that `metaeval NAME` is running, and the name it runs under; every parser
# built while it runs says `usage: metaeval NAME`.
_dispatched: dict[str, str] = {}


def command_name(module: str) -> str:
    """What to call entry point `module` (experiments.X) in usage lines: `metaeval NAME`
    when the console script dispatched to it, else `python -m experiments.X`."""
    return _dispatched.get(module, f"python -m {module}")


def _with_defaults(base: type[argparse.HelpFormatter]) -> type[argparse.HelpFormatter]:
    """`base`, adding " (default: X)" to each option's help that does not already name
    its default; options whose default is None, False or empty say nothing (their help
    says what happens without them)."""

    class DefaultsShown(base):  # type: ignore[misc, valid-type]
        def _get_help_string(self, action: argparse.Action) -> str | None:
            text = action.help or ""
            default = action.default
            if (not action.option_strings or "default" in text.lower()
                    or default is None or default is False or default == argparse.SUPPRESS
                    or default == []
                    or isinstance(action, (argparse._VersionAction, argparse._HelpAction))):
                return action.help
            return f"{text} (default: %(default)s)"

    DefaultsShown.__name__ = f"DefaultsShown{base.__name__}"
    return DefaultsShown


def add_common_arguments(parser: argparse.ArgumentParser, version: bool = True,
                         loudness: bool = True) -> None:
    """--version, -q/--quiet (errors and the final result only), -v/--verbose (debug logs);
    every option's help names its default."""
    if not parser.formatter_class.__name__.startswith("DefaultsShown"):
        parser.formatter_class = _with_defaults(parser.formatter_class)
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
    libraries write to the standard error stream goes nowhere; what Python writes
    there (an error printed inside the block, a logged error) is still shown: sys.stderr
    and the logging handlers that write to it are pointed at the real stream meanwhile.
    Uncaught errors are reported after the block."""
    if not active:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    undo = _keep_python_stderr(saved)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        undo()
        os.dup2(saved, 2)
        os.close(saved)


def _keep_python_stderr(saved_fd: int):
    """Point sys.stderr, where it writes to descriptor 2, and the logging handlers that
    write to it at a copy of `saved_fd`; returns the function that puts them back."""
    stream = sys.stderr
    try:
        on_fd2 = stream.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a stream of the host's (pytest, IDE)
        on_fd2 = False
    if not on_fd2:
        return lambda: None
    kept = open(os.dup(saved_fd), "w", buffering=1, encoding=stream.encoding,
                errors=stream.errors)
    named = logging.Logger.manager.loggerDict.values()
    loggers = [logging.getLogger()] + [lg for lg in named if isinstance(lg, logging.Logger)]
    handlers = [h for logger in loggers for h in logger.handlers
                if isinstance(h, logging.StreamHandler) and h.stream is stream]
    for handler in handlers:
        handler.setStream(kept)
    sys.stderr = kept

    def undo():
        kept.flush()
        sys.stderr = stream
        for handler in handlers:
            handler.setStream(stream)
        kept.close()

    return undo


def _error_kinds() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """(errors of usage or data: exit 2, errors of the machine: exit 1)."""
    from metrics import CacheFolderError, CacheWriteError, InputError

    from .benchmarks.base import DataError
    from .benchmarks.download import WriteError
    from .pipeline.metric_options import UsageError
    from .pipeline.results_folder import OutputFolderError, OutputWriteError, ResultsError

    return ((DataError, UsageError, InputError, CacheFolderError, OutputFolderError,
             ResultsError),
            (CacheWriteError, OutputWriteError, WriteError, OSError))


def one_line_errors(main: Callable[..., int]) -> Callable[..., int]:
    """An entry point whose errors of usage or data (exit 2) and of the machine (a
    full disk, a folder removed or made read-only while it ran: exit 1) end it with
    one line `error: ...` on the standard error stream, never a traceback (that goes
    to the debug log, shown by -v). Each error says what and where; what it wrote
    half-way was removed where it was raised."""

    @functools.wraps(main)
    def run(argv: list[str] | None = None) -> int:
        try:
            return main(argv)
        except Exception as exc:
            usage, machine = _error_kinds()
            if not isinstance(exc, usage + machine):
                raise
            logging.getLogger("experiments").debug("the error's traceback", exc_info=exc)
            print(f"error: {_one_line(exc)}", file=sys.stderr)
            return 2 if isinstance(exc, usage) else 1

    return run


def _one_line(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror and type(exc).__str__ is OSError.__str__:
        where = " and ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
        return f"{where}: {exc.strerror}" if where else exc.strerror
    return " ".join(str(exc).split()) or type(exc).__name__


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


@handles_interrupts("nothing written")
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
    module_name = commands[name][0]
    _dispatched[module_name] = f"metaeval {name}"
    try:
        module = importlib.import_module(module_name)
        return int(module.main(rest) or 0)
    finally:
        _dispatched.pop(module_name, None)


if __name__ == "__main__":
    sys.exit(main())
