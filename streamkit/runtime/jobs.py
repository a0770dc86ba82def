"""Jobs (seed 001): one request's work, tracked from post to the moment all it caused has drained.

:class:`JobContext` is what a job carries (metadata, data, a trace, its status);
:func:`get_current_job` returns the job whose data the running activation
consumes (a context variable, carried into executor threads by the engine).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any, ClassVar

from streamkit._owner import OWNER, current_owner
from streamkit.handle import RunHandle

__all__ = ("JobContext", "get_current_job", "JOB_STATUSES")

#: A job's statuses, in the order it can pass through them.
JOB_STATUSES = ("pending", "running", "completed", "failed", "cancelled")

#: the running activation's job (the engine carries it into its worker threads and event pools)
_CURRENT = OWNER


def get_current_job() -> JobContext | None:
    """The job whose data the running code consumes (``None`` outside one).

    In a routine, the activation's job. In a network flow, which runs the records
    of many jobs in one batch, the job of the record the code runs on: inside an
    inline transform or condition run in Python, and inside an event's
    ``process`` (also in a thread pool). Kernels run no user code; a per-batch
    event (``process_batch``) sees records of many jobs and gets ``None``.
    """
    owner = current_owner()
    return owner if isinstance(owner, JobContext) else None


def _now() -> datetime:
    return datetime.now(UTC)


class JobContext(RunHandle):
    """One job: ``job_id``, ``worker_id``, ``flow_id``, its times, ``status``, ``error``, metadata, data, trace.

    A job is a :class:`~streamkit.RunHandle`, like a stream or a submitted run:
    ``id`` (its ``job_id``), ``progress``, ``cancel()``, ``wait()``, ``result``.

    Examples
    --------
    >>> job = JobContext("j1", "w1", "flow", metadata={"user_id": 7})
    >>> job.set_data("seq", 1); job.get_data("seq"), job.get_data("missing", 0), job.metadata["user_id"]
    (1, 0, 7)
    >>> job.trace("router", "matched", {"rule": 3}); job.trace_log[0]["action"]
    'matched'
    """

    kind: ClassVar[str] = "job"

    def __init__(self, job_id: str, worker_id: str, flow_id: str, *, metadata: dict[str, Any] | None = None) -> None:
        self.job_id = job_id
        self.worker_id = worker_id
        self.flow_id = flow_id
        self.created_at: datetime = _now()
        self.started_at: datetime | None = None
        self.completed_at: datetime | None = None
        #: ``"pending"`` → ``"running"`` → ``"completed"`` / ``"failed"`` / ``"cancelled"``
        self.status = "pending"
        self.error: str | None = None
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.data: dict[str, Any] = {}
        self.trace_log: list[dict[str, Any]] = []
        self._result: Any = None
        self._result_factory: Any = None  # a network flow's result, built when first read
        #: the runtime that runs it, and the worker it is queued on (set when the job is registered)
        self._runtime: Any = None
        self._worker: Any = None
        #: a network flow job's records
        self._records: int | None = None

    @property
    def id(self) -> str:
        """The job's id (``job_id``)."""
        return self.job_id

    def _condition(self) -> threading.Condition | None:
        return None if self._runtime is None else self._runtime._done

    @property
    def result(self) -> Any:
        """A network flow's :class:`~streamkit.RunResult` for this job's records (``None`` for routine flows)."""
        if self._result is None and self._result_factory is not None:
            self._result, self._result_factory = self._result_factory(), None
        return self._result

    @result.setter
    def result(self, value: Any) -> None:
        self._result = value

    def set_data(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key`` for the job."""
        self.data[key] = value

    def get_data(self, key: str, default: Any = None) -> Any:
        """The job's value under ``key``, or ``default``."""
        return self.data.get(key, default)

    def trace(self, routine_id: str, action: str, details: dict[str, Any] | None = None) -> None:
        """Add an entry to the job's trace (with an ISO timestamp, UTC)."""
        entry = {"timestamp": _now().isoformat(), "routine_id": routine_id, "action": action, "details": details or {}}
        self.trace_log.append(entry)

    @property
    def progress(self) -> dict[str, Any]:
        """``status``, ``elapsed`` seconds, and ``work_left`` (queued items and running activations of a
        routine flow's job) or ``records`` (a network flow job's)."""
        out = super().progress
        if self._records is not None:
            out["records"] = self._records
        elif self._worker is not None:
            out["work_left"] = self._worker.work_left(self.job_id)
        return out

    def cancel(self) -> bool:
        """Cancel the job: its queued work is dropped and it ends ``cancelled`` once its running activation (if
        any) returns; what that activation emits is dropped too. ``False`` when it already finished, or (a
        network flow's job) when its records already run."""
        return False if self._runtime is None else bool(self._runtime.cancel_job(self.job_id))

    def to_dict(self) -> dict[str, Any]:
        """The job as plain data."""
        return {
            "id": self.job_id,
            "kind": self.kind,
            "job_id": self.job_id,
            "worker_id": self.worker_id,
            "flow_id": self.flow_id,
            "created_at": self.created_at.isoformat(),
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "completed_at": None if self.completed_at is None else self.completed_at.isoformat(),
            "status": self.status,
            "error": self.error,
            "metadata": dict(self.metadata),
            "data": dict(self.data),
            "trace_log": list(self.trace_log),
        }

    def __repr__(self) -> str:
        return f"JobContext({self.job_id!r}, flow={self.flow_id!r}, status={self.status!r})"
