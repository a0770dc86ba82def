"""The runtime (seed 001): long-lived workers that run posted jobs, tracked in a status index.

``Runtime`` hosts flows as workers (:meth:`Runtime.exec`), takes jobs posted into
them (:meth:`Runtime.post`), and answers how many jobs are in each status in
O(1) from a :class:`~streamkit.status.StatusIndex`. A runtime holds the
process tuning for its whole life (one holder, so runs inside it never undo
each other's settings). The newest ``keep_finished`` finished jobs stay
inspectable (and, with ``keep_for``, only those finished in the last so many
seconds); older ones leave memory, their counts kept.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import Any

import numpy as np

from streamkit._tuning import process_tuning
from streamkit.runtime.jobs import JOB_STATUSES, JobContext
from streamkit.runtime.network import NetworkFlow, NetworkWorker
from streamkit.runtime.routine import FlowRegistry
from streamkit.runtime.state import WorkerState
from streamkit.runtime.worker import RuntimeClosedError, Worker
from streamkit.status import EventStatus, StatusIndex

__all__ = ("Runtime",)

_CODES = {
    "pending": EventStatus.PENDING,
    "running": EventStatus.PROCESSING,
    "completed": EventStatus.COMPLETED,
    "failed": EventStatus.FAILED,
    "cancelled": EventStatus.CANCELLED,
}


class Runtime:
    """Workers for flows, and the jobs posted into them (see the module docstring).

    Parameters
    ----------
    keep_finished:
        How many finished jobs stay inspectable (``get_job``, ``list_jobs``); older ones are dropped.
    keep_for:
        Seconds a finished job stays inspectable (``None``: no limit by age); with both bounds,
        whichever drops a job first does. Counts are kept for every job either way.
    tuning:
        Hold the process tuning from start to shutdown (``False``: each network flow run holds it
        while it runs, as ``process()`` does; for a runtime that is never shut down).
    """

    def __init__(self, keep_finished: int = 10_000, *, keep_for: float | None = None, tuning: bool = True) -> None:
        if keep_finished < 0:
            msg = f"keep_finished must be >= 0, got {keep_finished}"
            raise ValueError(msg)
        if keep_for is not None and keep_for < 0:
            msg = f"keep_for must be >= 0 seconds, got {keep_for}"
            raise ValueError(msg)
        self.keep_finished = int(keep_finished)
        self.keep_for = keep_for
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._workers: dict[str, Worker | NetworkWorker] = {}
        self._default: dict[str, Worker | NetworkWorker] = {}  # flow name -> the worker posts go to
        self._jobs: dict[str, JobContext] = {}
        self._number: dict[str, int] = {}  # job id -> its id in the status index
        self._finished: deque[str] = deque()
        self._unfinished = 0
        # jobs posted but not yet in the status index: a post appends here without taking the lock
        # (a post and a worker settling jobs under one lock handed the GIL back and forth every job);
        # whoever takes the lock next files them, several at once
        self._new: deque[JobContext] = deque()
        self._index = StatusIndex(keep_ids=[])
        self._ids = itertools.count()
        self._job_names = itertools.count()
        self._prefix = uuid.uuid4().hex[:12]  # job ids: this runtime's prefix and a number (uuid4 costs 3 µs)
        self._closed = False
        self._tuning = contextlib.ExitStack()
        if tuning:
            self._tuning.enter_context(process_tuning())

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown(wait=exc[0] is None)

    # -- workers -------------------------------------------------------------------------------
    def _flow(self, flow: Any) -> Any:
        return FlowRegistry.get_instance().get(flow) if isinstance(flow, str) else flow

    def exec(self, flow: Any, new_worker: bool = False) -> WorkerState:  # noqa: FBT001, FBT002 - the seed's signature
        """A worker for ``flow`` (a Flow or a registered name): the flow's worker, or a new one."""
        self._open()
        f = self._flow(flow)
        with self._lock:
            w = self._default.get(f.name)
            if w is not None and not new_worker:
                return w.state
            wid = uuid.uuid4().hex[:12]
            worker: Any = NetworkWorker(self, f, wid) if isinstance(f, NetworkFlow) else Worker(self, f, wid)
            self._workers[worker.state.worker_id] = worker
            self._default.setdefault(f.name, worker)
        worker.start()
        return worker.state

    def workers(self, flow: Any = None) -> list[WorkerState]:
        """The workers' states (of ``flow`` only, when given)."""
        name = None if flow is None else self._flow(flow).name
        return [w.state for w in self._workers.values() if name is None or w.flow.name == name]

    # -- jobs ----------------------------------------------------------------------------------
    def post(
        self,
        flow: Any,
        routine_id: Any,
        slot: str | None = None,
        data: Any = None,
        metadata: dict[str, Any] | None = None,
        worker_id: str | None = None,
        job_id: str | None = None,
        timeout: float | None = None,
    ) -> tuple[WorkerState, JobContext]:
        """Queue ``data`` in a routine's slot as (part of) a job; ``(worker state, job)``.

        The flow's worker takes it (made on first use), or ``worker_id``'s. With
        ``job_id`` naming an unfinished job the data join it; otherwise a job of
        that id (or a new one) starts. A full slot makes the post wait, then raise
        :class:`~streamkit.runtime.QueueFullError` after ``timeout`` with nothing enqueued.

        For a :class:`~streamkit.runtime.NetworkFlow`: ``post(flow, records, metadata=...,
        job_id=..., timeout=...)``; the job's ``result`` is then its own ``RunResult``.
        """
        self._open()
        f = self._flow(flow)
        if isinstance(f, NetworkFlow):
            if slot is not None:
                msg = "a network flow takes records: post(flow, records, metadata=..., job_id=..., timeout=...)"
                raise TypeError(msg)
            return self._post_records(f, routine_id, metadata, worker_id, job_id, timeout)
        if worker_id is not None:
            worker = self._workers.get(worker_id)
            if worker is None:
                msg = f"no worker {worker_id!r}"
                raise KeyError(msg)
        else:
            worker = self._default.get(f.name) or self._workers[self.exec(f).worker_id]
        with self._lock:
            job = self._jobs.get(job_id) if job_id is not None else None
            new = job is None or job.finished
        if new:
            jid = job_id if job_id is not None else f"{self._prefix}-{next(self._job_names):x}"
            job = JobContext(jid, worker.state.worker_id, worker.flow.name, metadata=metadata)
        elif job is not None and job.worker_id != worker.state.worker_id:
            if worker_id is not None:  # a job's work stays on one worker: that is where it is counted
                msg = f"job {job_id!r} runs on worker {job.worker_id!r}, not {worker_id!r}"
                raise ValueError(msg)
            worker = self._workers[job.worker_id]
        assert job is not None
        if slot is None or not isinstance(worker, Worker):
            msg = f"post to flow {worker.flow.name!r} takes a routine id, a slot and the data"
            raise TypeError(msg)
        accepted = (lambda: self._register(job)) if new else None
        worker.enqueue(routine_id, slot, job, data, timeout, accepted)  # a full slot raises: nothing is kept
        return worker.state, job

    def _post_records(
        self,
        flow: NetworkFlow,
        records: Any,
        metadata: dict[str, Any] | None,
        worker_id: str | None,
        job_id: str | None,
        timeout: float | None,
    ) -> tuple[WorkerState, JobContext]:
        worker = self._workers.get(worker_id) if worker_id is not None else None
        if worker is None:
            worker = self._default.get(flow.name) or self._workers[self.exec(flow).worker_id]
        if not isinstance(worker, NetworkWorker):
            msg = f"worker {worker.state.worker_id!r} runs flow {worker.flow.name!r}, not network flow {flow.name!r}"
            raise TypeError(msg)
        jid = job_id if job_id is not None else f"{self._prefix}-{next(self._job_names):x}"
        job = JobContext(jid, worker.state.worker_id, flow.name, metadata=metadata)
        worker.enqueue_records(job, records, timeout, lambda: self._register(job))
        return worker.state, job

    def _register(self, job: JobContext) -> None:
        """A new job, seen at once by ``get_job`` and filed in the status index at the next :meth:`_file`."""
        job._runtime = self
        self._jobs[job.job_id] = job  # one dict store and one deque append: atomic, no lock
        self._new.append(job)

    def _file(self) -> None:
        """File the jobs posted since the last time in the status index (the caller holds the lock)."""
        if not self._new:
            return
        numbers = []
        while self._new:
            job = self._new.popleft()
            if self._number.pop(job.job_id, None) is not None:  # an id used again after its job finished
                with contextlib.suppress(ValueError):
                    self._finished.remove(job.job_id)
            number = next(self._ids)
            self._number[job.job_id] = number
            numbers.append(number)
            self._unfinished += 1
        self._index.add(np.asarray(numbers, np.int64), status=EventStatus.PENDING)

    def _jobs_running(self, jobs: list[JobContext]) -> None:
        """Jobs whose first activation starts now: ``running``."""
        now = datetime.now(UTC)
        with self._lock:
            self._file()
            numbers = []
            for job in jobs:
                if job.status == "pending":
                    job.status = "running"
                    job.started_at = now
                    numbers.append(self._number[job.job_id])
            if numbers:
                self._index.transition(numbers, EventStatus.PROCESSING)

    def _jobs_finished(self, done: list[tuple[JobContext, str | None]], *, status: str | None = None) -> None:
        """Jobs whose work drained (failed when an error is given), or ``status`` (``cancelled``)."""
        now = datetime.now(UTC)
        ended = []
        with self._lock:
            self._file()
            by_status: dict[str, list[int]] = {}
            for job, error in done:
                if job.finished:
                    continue
                if job._ends is not None:  # someone awaits it (wait_async): told once the lock is let go
                    ended.append(job)
                job.status = status or ("failed" if error else "completed")
                job.error = error
                job.completed_at = now
                number = self._number.get(job.job_id)
                if number is not None:
                    by_status.setdefault(job.status, []).append(number)
                self._unfinished -= 1
                self._finished.append(job.job_id)
            for name, numbers in by_status.items():
                self._index.transition(numbers, _CODES[name])
            self._forget(now)
            self._done.notify_all()
        for job in ended:
            job._ended()

    def _forget(self, now: datetime) -> None:
        """Drop finished jobs beyond ``keep_finished`` or older than ``keep_for`` (the caller holds the lock)."""
        finished = self._finished
        while finished:
            oldest = self._jobs.get(finished[0])
            too_old = (
                self.keep_for is not None
                and oldest is not None
                and oldest.completed_at is not None
                and (now - oldest.completed_at).total_seconds() > self.keep_for
            )
            if len(finished) <= self.keep_finished and not too_old:
                break
            gone = finished.popleft()
            self._jobs.pop(gone, None)
            self._number.pop(gone, None)

    def wait_until_all_jobs_finished(self, timeout: float | None = None) -> bool:
        """Wait until every job posted so far has finished; whether they did within ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._done:
            self._file()
            while self._unfinished or self._new:
                self._file()
                if not self._unfinished:
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._done.wait(left)
        return True

    def cancel_job(self, job_id: str) -> bool:
        """Cancel a job (see :meth:`JobContext.cancel`); whether it will end ``cancelled``."""
        job = self._jobs.get(job_id)
        if job is None or job.finished:
            return False
        worker = self._workers.get(job.worker_id)
        return worker is not None and worker.cancel(job)

    def get_job(self, job_id: str) -> JobContext | None:
        """The job ``job_id`` (``None`` once it left memory, or never was)."""
        if self.keep_for is not None:
            with self._lock:
                self._forget(datetime.now(UTC))
        return self._jobs.get(job_id)

    def list_jobs(self, status: str | None = None) -> list[JobContext]:
        """The jobs in memory (unfinished, and the newest finished), oldest first; of ``status`` only, when given."""
        if status is not None and status not in JOB_STATUSES:
            msg = f"unknown job status {status!r} (statuses: {', '.join(JOB_STATUSES)})"
            raise ValueError(msg)
        with self._lock:
            if self.keep_for is not None:
                self._forget(datetime.now(UTC))
            jobs = list(self._jobs.values())
        return [j for j in jobs if status is None or j.status == status]

    def job_counts(self) -> dict[str, int]:
        """Jobs per status since the runtime started (finished jobs that left memory included), O(1)."""
        with self._lock:
            self._file()
            counts = self._index.counts()
        return {name: int(counts[code.name.lower()]) for name, code in _CODES.items()}

    # -- the end -------------------------------------------------------------------------------
    def _open(self) -> None:
        if self._closed:
            msg = "the runtime was shut down: it takes no more posts"
            raise RuntimeClosedError(msg)

    def shutdown(self, wait: bool = True) -> None:  # noqa: FBT001, FBT002 - the seed's signature
        """Stop: with ``wait``, after every job finished; else cancel what is queued (jobs ``cancelled``)."""
        if self._closed:
            return
        self._closed = True
        if wait:
            self.wait_until_all_jobs_finished()
        for worker in list(self._workers.values()):
            self._jobs_finished([(job, None) for job in worker.stop(cancel=not wait)], status="cancelled")
        for worker in self._workers.values():
            worker.join()
            worker.state.status = "stopped"
        self._tuning.close()

    def __repr__(self) -> str:
        return f"Runtime(workers={len(self._workers)}, jobs={self.job_counts()})"
