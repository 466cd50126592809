"""Where a metric's chunks are scored: in this process, or on a Ray cluster.

`score_with_cache` asks an executor for `(start, stop, output)` chunks of the
samples the cache lacks and commits each one to the driver's cache as it
arrives, in whatever order: a killed run keeps every finished chunk, and a
finished sample is never scored twice.

- `LocalExecutor` scores the chunks one after another here
  (`Metric.iter_score`).
- `RayExecutor` sends the same chunks to a pool of Ray actors, each holding
  one copy of the metric (its model loaded once per actor, on the actor's
  share of a GPU), and yields each chunk as soon as an actor finishes it.
  The chunks are those `Metric.iter_score` would make (`metric.chunk_size`),
  so the scores equal the local path's. A metric whose scores depend on the
  whole call (CIDEr's document frequencies) cannot be split and is scored
  here; one whose numbers change with the company a sample keeps in a call
  (`whole_call`: BERTScore's padded batches) goes whole to one actor, so it
  still runs on the cluster's GPU and gives the local path's numbers. Each
  worker needs what the metric needs locally: its weights in the worker's
  Hugging Face cache (or a path the worker can read), Java for the
  n-gram metrics. A judge backend's requests (`run_requests`, the pairwise
  judge) go the same way to actors holding a copy of the backend.

Ray is an optional dependency (`pip install socratis-metaeval[ray]`): it is
imported only when a `RayExecutor` scores something.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterator, Sequence

from .base import Metric, MetricOutput, Sample, check_unique_ids

log = logging.getLogger(__name__)

Chunk = tuple[int, int, MetricOutput]


class LocalExecutor:
    """Score chunks in this process, in order."""

    name = "local"

    def iter_score(self, metric: Metric, samples: Sequence[Sample], *,
                   images_checked: bool = False) -> Iterator[Chunk]:
        yield from metric.iter_score(samples, images_checked=images_checked)

    def run_requests(self, backend: Any, requests: Sequence[Any], template: Any,
                     chunk_size: int) -> Iterator[tuple[int, Any, str | None]]:
        """A judge backend's (index, answer, error) for `requests`, asked here."""
        yield from backend.run(requests, template)

    def describe(self) -> str:
        return "local"


class _MetricWorker:
    """One Ray actor: a copy of the metric, scoring the chunks it is sent."""

    def __init__(self, metric: Metric, setup: Callable[[], Any] | None):
        if setup is not None:
            setup()
        self.metric = metric

    def run(self, start: int, samples: list[Sample]) -> Chunk:
        out = self.metric.score(samples, images_checked=True)  # the driver checked the whole set
        return start, start + len(samples), out


class _RequestWorker:
    """One Ray actor: a copy of a judge backend, answering the requests it is sent."""

    def __init__(self, backend: Any, setup: Callable[[], Any] | None):
        if setup is not None:
            setup()
        self.backend = backend

    def run(self, start: int, job: tuple[list, Any]) -> list[tuple[int, Any, str | None]]:
        requests, template = job
        return [(start + i, answer, error) for i, answer, error in
                self.backend.run(requests, template)]


class RayExecutor:
    """Score a metric's chunks on Ray actors and stream them back as they finish.

    address: a running cluster (`ray://host:10001`, `auto`), or None for a
        Ray started on this machine.
    workers: how many actors, each with one copy of the metric.
    gpus_per_worker / cpus_per_worker: each actor's share (`num_gpus` may be
        fractional to put several actors on one GPU).
    setup: called once in each actor before the metric is used (for example
        to register a model config or set an environment variable).
    """

    name = "ray"

    def __init__(self, address: str | None = None, workers: int = 2,
                 gpus_per_worker: float = 0.0, cpus_per_worker: float = 1.0,
                 setup: Callable[[], Any] | None = None, in_flight_per_worker: int = 2):
        if workers < 1:
            raise ValueError(f"RayExecutor: workers must be at least 1, got {workers}")
        if gpus_per_worker < 0 or cpus_per_worker <= 0:
            raise ValueError("RayExecutor: gpus_per_worker must be >= 0 and "
                             "cpus_per_worker > 0")
        self.address = address
        self.workers = workers
        self.gpus_per_worker = gpus_per_worker
        self.cpus_per_worker = cpus_per_worker
        self.setup = setup
        self.in_flight_per_worker = max(1, in_flight_per_worker)
        self.chunks_sent = 0

    def describe(self) -> str:
        where = self.address or "local Ray"
        return (f"ray ({where}; {self.workers} workers, {self.cpus_per_worker:g} CPU and "
                f"{self.gpus_per_worker:g} GPU each)")

    def _ray(self):
        try:
            import ray
        except ImportError:
            raise ImportError("--executor ray needs Ray: pip install 'socratis-metaeval[ray]' "
                              "(or pip install ray)") from None
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        return ray

    def chunks(self, metric: Metric, samples: Sequence[Sample]) -> list[tuple[int, list[Sample]]]:
        """The (start, samples) chunks `Metric.iter_score` would score; the
        whole call as one for a `whole_call` metric."""
        if metric.whole_call and samples:
            return [(0, list(samples))]
        return [(start, list(samples[start:stop]))
                for start, stop in metric.chunk_bounds(len(samples))]

    def iter_score(self, metric: Metric, samples: Sequence[Sample], *,
                   images_checked: bool = False) -> Iterator[Chunk]:
        samples = list(samples)
        check_unique_ids(samples)
        if metric.corpus_dependent:
            log.info("%s scores the whole call at once (corpus-dependent): scored here, "
                     "not on Ray", metric.name)
            yield from metric.iter_score(samples, images_checked=images_checked)
            return
        chunks = self.chunks(metric, samples)
        if not chunks:
            return
        # Raise at once for what no worker could score (no image exists).
        if not images_checked:
            metric.check_images(samples)
        yield from self._stream(_MetricWorker, metric, chunks)

    def run_requests(self, backend: Any, requests: Sequence[Any], template: Any,
                     chunk_size: int) -> Iterator[tuple[int, Any, str | None]]:
        """A judge backend's (index, answer, error) for `requests`, asked by
        actors holding a copy of the backend, `chunk_size` requests per task;
        each task's answers are yielded as soon as it finishes."""
        requests = list(requests)
        tasks = [(start, (requests[start:start + chunk_size], template))
                 for start in range(0, len(requests), max(1, chunk_size))]
        for answers in self._stream(_RequestWorker, backend, tasks):
            yield from answers

    def _stream(self, worker: type, state: Any, tasks: list[tuple[int, Any]]) -> Iterator[Any]:
        """Run `tasks` ((start, payload) pairs) on actors of `worker(state, setup)`,
        `in_flight_per_worker` at a time each; yield each result as it finishes."""
        if not tasks:
            return
        ray = self._ray()
        worker_class = ray.remote(num_cpus=self.cpus_per_worker,
                                  num_gpus=self.gpus_per_worker)(worker)
        state_ref = ray.put(state)
        actors = [worker_class.remote(state_ref, self.setup)
                  for _ in range(min(self.workers, len(tasks)))]
        pending: dict[Any, Any] = {}
        queue = list(tasks)

        def send(actor) -> None:
            if queue:
                start, payload = queue.pop(0)
                pending[actor.run.remote(start, payload)] = actor
                self.chunks_sent += 1

        try:
            for actor in actors * self.in_flight_per_worker:
                send(actor)
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                actor = pending.pop(done[0])
                result = ray.get(done[0])
                send(actor)
                yield result
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            for actor in actors:
                ray.kill(actor)
