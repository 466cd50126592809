"""Ctrl-C (SIGINT) in any command: one line, exit status 130, no process left behind.

Every entry point's `main` is wrapped by `handles_interrupts`. On KeyboardInterrupt it
stops this process's children (the analysis' worker processes, DataLoader workers,
the Java tokenizer and METEOR, a Ray started here), says in one line on stderr what
was kept ("interrupted; 12 scores cached; previous results kept") and returns 130,
the shell's status for a command ended by SIGINT (128 + 2). A second Ctrl-C while
it cleans up is ignored. What a run commits stays atomic: `deferred` holds an
interrupt back until a commit is done, and `results_written` records that the new
results are complete, so that the line says so.
"""
from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
import time
from typing import Callable, Iterator

INTERRUPTED = 130
_GRACE_S = 3.0  # how long stopped children get to exit before they are killed

_written: list[str] = []  # results a run completed before it was interrupted


def handles_interrupts(kept: str, cached: tuple[str, ...] = ()) -> Callable:
    """Decorate an entry point `main(argv) -> int`. `kept` says what an interrupted run
    leaves (e.g. "previous results kept"); `cached` names the cache records it counts
    ("scores", "answers"), the first always shown, the others when there are some."""
    def wrap(main: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(main)
        def run(*args, **kwargs) -> int:
            from metrics import cache_writes

            before = cache_writes()
            del _written[:]
            try:
                return main(*args, **kwargs)
            except KeyboardInterrupt:
                with _ignoring_interrupts():
                    _close_progress_bars()
                    stop_children()
                    written = cache_writes()
                    counts = {kind: written[kind] - before[kind] for kind in cached}
                    print(interrupted_line(kept, counts, list(_written)), file=sys.stderr,
                          flush=True)
                return INTERRUPTED
        return run
    return wrap


def interrupted_line(kept: str, counts: dict[str, int], written: list[str]) -> str:
    """'interrupted; N scores cached; previous results kept' (or, after a commit,
    where the new results are)."""
    parts = ["interrupted"]
    shown = [f"{n} {kind}" for i, (kind, n) in enumerate(counts.items()) if i == 0 or n]
    if shown:
        parts.append(" and ".join(shown) + " cached")
    parts.append(f"new results complete in {', '.join(written)}" if written else kept)
    return "; ".join(parts)


def results_written(where: str | os.PathLike) -> None:
    """The run's new results are complete in `where`: an interrupt from now on says so."""
    _written.append(str(where))


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold a Ctrl-C back until the block is done (a commit is never cut in two), then
    raise it. Only the main thread receives signals; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(signal.SIGINT, None)  # the default handler raises KeyboardInterrupt


@contextlib.contextmanager
def _ignoring_interrupts() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _close_progress_bars() -> None:
    """Clear the progress bars an interrupt left open, so the line starts a line."""
    try:
        from tqdm import tqdm
    except ImportError:
        return
    for bar in list(getattr(tqdm, "_instances", ())):
        with contextlib.suppress(Exception):
            bar.close()


def ignore_interrupts_in_worker(blas_threads: int | None = None) -> None:
    """Initializer of a worker process: Ctrl-C reaches the whole terminal's process
    group, and the worker's parent stops it; the worker itself prints nothing. With
    `blas_threads`, the worker's BLAS (numpy's matrix products) uses that many threads:
    a BLAS thread per core in every worker oversubscribes the cores."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if blas_threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(blas_threads, user_api="blas")


def stop_children() -> None:
    """End every process this one started, and theirs: Ray first (its own shutdown),
    then multiprocessing's workers, then any other descendant (Java), each sent
    SIGTERM and, if still there after a grace period, SIGKILL; direct children reaped."""
    ray = sys.modules.get("ray")
    if ray is not None:
        with contextlib.suppress(Exception):
            if ray.is_initialized():
                ray.shutdown()
    import multiprocessing

    workers = multiprocessing.active_children()
    for worker in workers:
        with contextlib.suppress(Exception):
            worker.terminate()
    for worker in workers:
        with contextlib.suppress(Exception):
            worker.join(_GRACE_S)
    others = descendants(os.getpid())
    for pid in others:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + _GRACE_S
    while others and time.monotonic() < deadline:
        others = [pid for pid in others if _alive(pid)]
        if others:
            time.sleep(0.05)
    for pid in others:
        _signal(pid, signal.SIGKILL)
    for pid in others:
        _alive(pid)  # reaps it if it is ours


def descendants(pid: int) -> list[int]:
    """The processes below `pid`, children first (psutil where installed, else /proc;
    an empty list where neither can tell)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        with contextlib.suppress(psutil.Error):
            return [p.pid for p in psutil.Process(pid).children(recursive=True)]
        return []
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        fields = stat[stat.rfind(b")") + 2:].split()
        if fields and fields[0] != b"Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


def _alive(pid: int) -> bool:
    """Whether `pid` still runs; a child of this process that ended is reaped."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:  # not our child: ask the system
        pass
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return stat[stat.rfind(b")") + 2:].split()[0] != b"Z"
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
