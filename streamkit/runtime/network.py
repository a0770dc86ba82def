"""A seed 002 network as a flow of the runtime (seed 001): jobs of records, run together, split back exactly.

``runtime.post(network_flow, records)`` queues a job's records. The flow's
worker gathers the queued jobs' records into one Arrow table (up to
``max_records``), runs it through the compiled network with
:meth:`SimpleFSM.process <streamkit.SimpleFSM.process>` (kernels and event
states at batch speed), and splits the result back: each record keeps its job,
so every job gets its own :class:`~streamkit.RunResult` with its outputs, its
failed records and their statuses, its ``_row`` counted from 0. A job whose
records cannot become one Arrow table (mixed types) runs alone, so its
records fail or pass exactly as ``process()`` would have them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa

from streamkit._arrow.build import from_numpy, to_numpy
from streamkit._arrow.unify import concat_tables
from streamkit._owner import ByRow
from streamkit.api import SimpleFSM
from streamkit.engine.chunks import Chunk
from streamkit.engine.result import RunResult
from streamkit.engine.tally import Tally
from streamkit.io import Collector
from streamkit.runtime.jobs import _CURRENT, JobContext
from streamkit.runtime.state import WorkerState
from streamkit.runtime.worker import wait_for_room

__all__ = ("NetworkFlow", "NetworkWorker")


class NetworkFlow:
    """A compiled network (a config, or a :class:`~streamkit.SimpleFSM`) as a flow the runtime posts records to.

    Parameters
    ----------
    network:
        The seed 002 config (dict, YAML path) or a ``SimpleFSM``.
    name:
        The flow's name (default: the config's).
    max_records:
        Records gathered into one run at most (jobs are never split).
    max_queue_jobs:
        Jobs that may wait; a post beyond it waits (or raises ``QueueFullError`` after its timeout).
    linger:
        Seconds the worker waits for more jobs before a run with fewer than ``max_records`` records.
    """

    def __init__(
        self,
        network: Any,
        name: str | None = None,
        *,
        max_records: int = 262_144,
        max_queue_jobs: int = 10_000,
        linger: float = 0.005,
    ) -> None:
        self.fsm = network if isinstance(network, SimpleFSM) else SimpleFSM(network)
        self.name = name or self.fsm.config.name
        self.max_records = int(max_records)
        self.max_queue_jobs = int(max_queue_jobs)
        self.linger = float(linger)


def _as_table(records: Any) -> pa.Table | None:
    """A job's records as one Arrow table, or ``None`` when they cannot be one (then the job runs alone)."""
    try:
        if isinstance(records, pa.Table):
            return records
        if isinstance(records, pa.RecordBatch):
            return pa.Table.from_batches([records])
        if hasattr(records, "to_arrow"):  # a polars DataFrame
            return records.to_arrow()
        rows = list(records)
        if rows and all(type(r) is dict for r in rows):
            return pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        return None
    return None


def _length(records: Any) -> int | None:
    try:
        return len(records)
    except TypeError:
        return None


class NetworkWorker:
    """The worker of a :class:`NetworkFlow`: a queue of jobs and the thread that runs them in batches."""

    def __init__(self, runtime: Any, flow: NetworkFlow, worker_id: str) -> None:
        self.runtime = runtime
        self.flow = flow
        self.state = WorkerState(worker_id, flow.name)
        self.cond = threading.Condition()
        self.queue: deque[tuple[JobContext, Any, pa.Table | None]] = deque()
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, name=f"streamkit-network-{worker_id}", daemon=True)

    def start(self) -> None:
        """Start the worker's thread."""
        self.thread.start()
        self.state.status = "running"

    def enqueue_records(self, job: JobContext, records: Any, timeout: float | None, accepted: Any) -> None:
        """Queue a job's records; wait while ``max_queue_jobs`` jobs wait (``QueueFullError`` after ``timeout``)."""
        table = _as_table(records)
        with self.cond:
            wait_for_room(
                self.cond,
                lambda: len(self.queue) >= self.flow.max_queue_jobs,
                lambda: self.stopping,
                timeout,
                lambda: f"{len(self.queue)} jobs wait for flow {self.flow.name!r}: nothing was enqueued",
            )
            if accepted is not None:
                accepted()
            job._worker = self
            job._records = table.num_rows if table is not None else _length(records)
            self.queue.append((job, records, table))
            self.cond.notify_all()

    def cancel(self, job: JobContext) -> bool:
        """Take the job out of the queue (it ends ``cancelled``); ``False`` once its records run."""
        with self.cond:
            for k, item in enumerate(self.queue):
                if item[0] is job:
                    del self.queue[k]
                    self.cond.notify_all()
                    break
            else:
                return False
        self.runtime._jobs_finished([(job, None)], status="cancelled")
        return True

    def stop(self, *, cancel: bool) -> list[JobContext]:
        """Stop after the queued jobs (or drop them with ``cancel``); the jobs dropped."""
        with self.cond:
            self.stopping = True
            dropped = [job for job, _, _ in self.queue] if cancel else []
            if cancel:
                self.queue.clear()
            self.cond.notify_all()
        return dropped

    def join(self, timeout: float | None = None) -> None:
        """Wait for the worker's thread to end."""
        self.thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self.cond:
                while not self.queue:
                    if self.stopping:
                        self.state.status = "stopped"
                        return
                    self.cond.wait(0.5)
                # a moment for more jobs to arrive: one run of many jobs costs what a run of one does
                deadline = time.monotonic() + self.flow.linger
                while not self.stopping and self._queued_records() < self.flow.max_records:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self.cond.wait(left)
                batch = [self.queue.popleft()]
                if batch[0][2] is not None:  # gather more jobs, up to max_records
                    total = batch[0][2].num_rows
                    while self.queue and self.queue[0][2] is not None:
                        n = self.queue[0][2].num_rows
                        if total + n > self.flow.max_records:
                            break
                        batch.append(self.queue.popleft())
                        total += n
                self.cond.notify_all()
            self._run(batch)

    def _queued_records(self) -> int:
        return sum(t.num_rows if t is not None else self.flow.max_records for _, _, t in self.queue)

    def _run(self, batch: list[tuple[JobContext, Any, pa.Table | None]]) -> None:
        jobs = [job for job, _, _ in batch]
        self.runtime._jobs_running(jobs)
        try:
            if batch[0][2] is None:  # records that are not one table: the job alone, as process() reads them
                job, records, _ = batch[0]
                token = _CURRENT.set(job)
                try:
                    job.result = self.flow.fsm.process(records)
                finally:
                    _CURRENT.reset(token)
            else:
                self._run_tables(batch)
        except Exception as exc:  # noqa: BLE001 - the jobs' failure, kept with them
            error = f"{type(exc).__name__}: {exc}"
            self.runtime._jobs_finished([(job, error) for job in jobs])
            return
        self.runtime._jobs_finished([(job, None) for job in jobs])

    def _run_tables(self, batch: list[tuple[JobContext, Any, pa.Table | None]]) -> None:
        tables = [t for _, _, t in batch]
        sizes = np.array([0 if t is None else t.num_rows for t in tables], np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        combined = tables[0] if len(tables) == 1 else concat_tables([t for t in tables if t is not None])
        t0 = time.perf_counter()
        # each record's job, for get_current_job() in user code run per record
        token = _CURRENT.set(ByRow(starts[:-1].tolist(), [job for job, _, _ in batch]))
        try:
            result = self.flow.fsm.process(combined)
        finally:
            _CURRENT.reset(token)
        duration = time.perf_counter() - t0
        end_states = result.end_states
        parts = {s: _Split(result.output(s), starts) for s in end_states}
        errors = _Split(result.errors(), starts)
        for k, (job, _, _) in enumerate(batch):
            # built when first read: a job's result costs nothing until someone looks at it
            outputs = {s: p.part(k) for s, p in parts.items()}
            job._result_factory = partial(_job_result, end_states, outputs, errors.part(k), int(sizes[k]), duration)


class _Split:
    """A run's table (in ``_row`` order) cut at the jobs' first rows: each job's rows, numbered from 0."""

    def __init__(self, table: pa.Table, starts: np.ndarray) -> None:
        self.table = table
        self.starts = starts
        self.rows: np.ndarray | None = None
        if table.num_rows and "_row" in table.column_names:
            col = table.column("_row")
            self.rows = to_numpy(col.chunk(0) if col.num_chunks == 1 else col.combine_chunks())
            self.cuts = np.searchsorted(self.rows, starts)

    def part(self, k: int) -> pa.Table:
        """Job ``k``'s rows."""
        if self.rows is None:
            return self.table.slice(0, 0)
        a, b = int(self.cuts[k]), int(self.cuts[k + 1])
        part = self.table.slice(a, b - a)
        lo = int(self.starts[k])
        if lo and b > a:
            local = self.rows[a:b] - lo
            part = part.set_column(part.schema.get_field_index("_row"), "_row", from_numpy(local))
        return part


def _job_result(
    end_states: list[str], outputs: dict[str, pa.Table], errors: pa.Table, n: int, duration: float
) -> RunResult:
    """One job's :class:`~streamkit.RunResult` from its share of a run's tables."""
    tally = Tally(end_states)
    chunk = Chunk(seq=0, start=0, count=n, parts=[])
    chunk.outputs = {s: [t] for s, t in outputs.items() if t.num_rows}
    chunk.error_table = errors if errors.num_rows else None
    tally.account(chunk)
    collected = {}
    for s, t in outputs.items():
        c = Collector()
        c.write(t)
        collected[s] = c
    collected_errors = Collector()
    collected_errors.write(errors)
    return RunResult(
        tally, duration=duration, collected=collected, collected_errors=collected_errors, paths={}, warnings=[]
    )
