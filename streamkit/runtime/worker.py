"""A worker: one flow's queues and the thread that runs its activations (seed 001).

Every activation takes data of one job from the front of its routine's slots
(the policy decides how much) and runs the logic with that job current
(:func:`~streamkit.runtime.jobs.get_current_job`). A job's work is counted: its
queued items plus its running activation; when the count drains to zero the
job finishes, failed if any of its logic raised. Items a policy leaves
behind (a batch not yet full) run as one activation once nothing upstream can
add to their job, so every job finishes.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from streamkit.runtime.jobs import _CURRENT, JobContext
from streamkit.runtime.policies import Policy, _Immediate
from streamkit.runtime.routine import ACTIVE, Flow
from streamkit.runtime.state import WorkerState

__all__ = ("Worker", "QueueFullError", "RuntimeClosedError", "wait_for_room")


class QueueFullError(Exception):
    """A slot stayed full for the whole ``timeout`` of a ``post``: nothing was enqueued."""


class RuntimeClosedError(RuntimeError):
    """The runtime was shut down: it takes no more posts."""


def wait_for_room(
    cond: threading.Condition,
    full: Callable[[], bool],
    stopping: Callable[[], bool],
    timeout: float | None,
    refused: Callable[[], str],
) -> None:
    """Wait (holding ``cond``) while ``full()``: ``RuntimeClosedError`` once the worker stops, ``QueueFullError``
    with the message ``refused()`` after ``timeout`` seconds (nothing has been enqueued then)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while full():
        if stopping():
            msg = "the runtime is shutting down"
            raise RuntimeClosedError(msg)
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise QueueFullError(refused())
        cond.wait(left)


class Worker:
    """One flow's queues and its thread (see the module docstring)."""

    def __init__(self, runtime: Any, flow: Flow, worker_id: str) -> None:
        self.runtime = runtime
        self.flow = flow
        self.state = WorkerState(worker_id, flow.name)
        self.cond = threading.Condition()
        self.queues: dict[tuple[str, str], deque[tuple[str, Any]]] = {
            (rid, slot): deque() for rid, r in flow.routines.items() for slot in r.slots
        }
        #: per routine, its slots' queues by name: what policies look at
        self.views = {rid: {slot: self.queues[(rid, slot)] for slot in r.slots} for rid, r in flow.routines.items()}
        self.pending: dict[str, int] = {}  # job id -> queued items + running activation
        self.jobs: dict[str, JobContext] = {}  # unfinished jobs with work here
        self.errors: dict[str, str] = {}
        self.cancelled: set[str] = set()  # jobs cancelled while an activation of theirs runs
        self.order = list(flow.routines)
        self.feeds = {
            rid: [(dst, slot) for (src, _), dsts in flow.connections.items() if src == rid for dst, slot in dsts]
            for rid in flow.routines
        }
        self.upstream = {rid: flow.upstream_of(rid) for rid in flow.routines}
        self.stopping = False
        self.sleeping = False  # the worker's thread waits for work (only then does a post wake it)
        self.thread = threading.Thread(target=self._loop, name=f"streamkit-worker-{worker_id}", daemon=True)

    def start(self) -> None:
        """Start the worker's thread."""
        self.thread.start()
        self.state.status = "running"

    # -- data in -------------------------------------------------------------------------------
    def enqueue(
        self,
        routine_id: str,
        slot: str,
        job: JobContext,
        data: Any,
        timeout: float | None,
        accepted: Callable[[], None] | None = None,
    ) -> None:
        """Queue ``data`` for ``job`` in a slot; wait while it is full (``QueueFullError`` after ``timeout``).

        ``accepted`` is called once there is room, before the item is queued (the
        runtime registers a new job there, so the worker never sees one it does not know).
        """
        routine = self.flow.routine(routine_id)
        spec = routine.slots.get(slot)
        if spec is None:
            msg = f"routine {routine_id!r} has no slot {slot!r} (slots: {', '.join(routine.slots) or 'none'})"
            raise KeyError(msg)
        q = self.queues[(routine_id, slot)]
        with self.cond:
            wait_for_room(
                self.cond,
                lambda: len(q) >= spec.max_queue_length,
                lambda: self.stopping,
                timeout,
                lambda: f"slot {routine_id}.{slot} held {len(q)} items for {timeout} s: nothing was enqueued",
            )
            if accepted is not None:
                accepted()
            job._worker = self
            q.append((job.job_id, data))
            self.pending[job.job_id] = self.pending.get(job.job_id, 0) + 1
            self.jobs[job.job_id] = job
            if self.sleeping:
                self.cond.notify_all()

    def emit(self, routine_id: str, event: str, data: Any, job: JobContext) -> None:
        """What a routine emits, queued in the connected slots in the same job (never dropped).

        The slots may go past their bound here: the worker runs no activation of a
        routine whose connected slots are full until they drain, so an emit never
        waits on its own thread.
        """
        dsts = self.flow.connections.get((routine_id, event))
        if not dsts:
            return
        with self.cond:
            if job.job_id in self.cancelled or job.job_id not in self.pending:
                return  # the job was cancelled (or dropped at shutdown): the work it would cause is not done
            for dst, slot in dsts:
                self.queues[(dst, slot)].append((job.job_id, data))
            self.pending[job.job_id] += len(dsts)

    # -- the loop ------------------------------------------------------------------------------
    def _blocked(self, routine_id: str) -> bool:
        for dst, slot in self.feeds[routine_id]:
            if len(self.queues[(dst, slot)]) >= self.flow.routines[dst].slots[slot].max_queue_length:
                return True
        return False

    def _take(self, routine_id: str, counts: dict[str, int]) -> tuple[str, dict[str, list[Any]]] | None:
        """Take ``counts`` items from the front of the routine's slots, all of the front item's job."""
        views = self.views[routine_id]
        job = None
        for slot, k in counts.items():
            if k and views[slot]:
                job = views[slot][0][0]
                break
        if job is None:
            return None
        out: dict[str, list[Any]] = {}
        for slot, k in counts.items():
            q = views[slot]
            got: list[Any] = []
            while q and len(got) < k and q[0][0] == job:
                got.append(q.popleft()[1])
            if got:
                out[slot] = got
        return job, out

    def _next(self) -> tuple[str, str, dict[str, list[Any]], Any] | None:
        for rid in self.order:
            views = self.views[rid]
            if not any(views.values()) or self._blocked(rid):
                continue
            routine = self.flow.routines[rid]
            policy = routine.policy
            seen = views if isinstance(policy, Policy) else {k: tuple(q) for k, q in views.items()}
            try:
                ok, data, message = policy(seen, self.state)
            except Exception as exc:  # noqa: BLE001 - a broken policy fails the jobs waiting on it, not the worker
                self._fail_waiting(rid, f"activation policy of {rid!r} raised {type(exc).__name__}: {exc}")
                continue
            if not ok or not data:
                continue
            got = self._take(rid, {slot: len(items) for slot, items in data.items()})
            if got is None:
                continue
            job, taken = got
            self.pending[job] += 1 - sum(len(v) for v in taken.values())
            return rid, job, taken, message
        return None

    def _fail_waiting(self, routine_id: str, error: str) -> None:
        """Fail every job with items waiting in the routine's slots (they are taken out: nothing runs them)."""
        finished: list[tuple[JobContext, str | None]] = []
        for q in self.views[routine_id].values():
            while q:
                job_id, _ = q.popleft()
                self.errors.setdefault(job_id, error)
                self.pending[job_id] -= 1
                if not self.pending[job_id]:
                    del self.pending[job_id]
                    finished.append((self.jobs.pop(job_id), self.errors.pop(job_id, None)))
        if finished:  # called under the lock: the runtime's bookkeeping takes its own lock, never this one
            self.runtime._jobs_finished(finished)

    def _flush(self) -> tuple[str, str, dict[str, list[Any]], Any] | None:
        """Leftovers of a job that nothing upstream can add to, as one activation (the worker is idle)."""
        for rid in self.order:
            if hasattr(self.flow.routines[rid].policy, "due_in"):
                continue  # a timed policy runs what is queued when its interval comes
            views = self.views[rid]
            jobs = {j for q in views.values() for j, _ in q}
            for job in sorted(jobs, key=lambda j: self.jobs[j].created_at if j in self.jobs else 0):
                if any(j == job for up in self.upstream[rid] for q in self.views[up].values() for j, _ in q):
                    continue  # more may come from upstream
                taken: dict[str, list[Any]] = {}
                for slot, q in views.items():
                    keep = deque(item for item in q if item[0] != job)
                    mine = [d for j, d in q if j == job]
                    if mine:
                        taken[slot] = mine
                        q.clear()
                        q.extend(keep)
                if taken:
                    self.pending[job] += 1 - sum(len(v) for v in taken.values())
                    return rid, job, taken, {"flush": True}
        return None

    def _timeout(self) -> float | None:
        waits = [
            r.policy.due_in()
            for rid, r in self.flow.routines.items()
            if hasattr(r.policy, "due_in") and any(self.views[rid].values())  # only routines with work queued
        ]
        return min(waits) if waits else None

    def _loop(self) -> None:
        while True:
            with self.cond:
                acts = self._take_many()
                while not acts:
                    if self.stopping and not self.pending:
                        self.state.status = "stopped"
                        self.cond.notify_all()
                        return
                    timeout = self._timeout()
                    if timeout is None or timeout > 0:
                        flushed = self._flush() if self._idle() else None
                        if flushed is not None:
                            acts = [flushed]
                            break
                        self.sleeping = True
                        self.cond.wait(timeout if timeout is not None else 0.5)
                        self.sleeping = False
                    acts = self._take_many()
                self.cond.notify_all()  # room in the slots it took from: posts may go on
                jobs = [self.jobs[a[1]] for a in acts]
            self._run_many(acts, jobs)

    def _take_many(self, limit: int = 256) -> list[tuple[str, str, dict[str, list[Any]], Any]]:
        """Up to ``limit`` activations ready now (taken under one hold of the lock)."""
        acts: list[tuple[str, str, dict[str, list[Any]], Any]] = []
        for rid in self.order:  # immediate routines: an item is an activation, taken without asking the policy
            routine = self.flow.routines[rid]
            if not isinstance(routine.policy, _Immediate) or self._blocked(rid):
                continue
            for slot, q in self.views[rid].items():
                while q and len(acts) < limit:
                    job, item = q.popleft()
                    acts.append((rid, job, {slot: [item]}, None))  # its job's count: one item out, one activation in
            if len(acts) >= limit:
                return acts
        if acts:
            return acts
        while len(acts) < limit:
            act = self._next()
            if act is None:
                break
            acts.append(act)
        return acts

    def _idle(self) -> bool:
        """Whether something is queued that no policy will run now (then leftovers may be flushed)."""
        return any(self.pending.values())

    def _run_many(self, acts: list[tuple[str, str, dict[str, list[Any]], Any]], jobs: list[JobContext]) -> None:
        """Run activations one after another, each under its job; then settle the jobs whose work drained."""
        starting = [job for job in jobs if job.status == "pending"]
        if starting:
            self.runtime._jobs_running(starting)
        routines = self.flow.routines
        state = self.state
        skip = self.cancelled
        for (routine_id, job_id, data, message), job in zip(acts, jobs, strict=True):
            if skip and job_id in skip:
                continue  # cancelled after it was taken, before it started
            logic = routines[routine_id].logic
            a = ACTIVE.set((self, routine_id, job))
            j = _CURRENT.set(job)
            try:
                if logic is not None:
                    logic(data, message, state)
            except Exception as exc:  # noqa: BLE001 - the job's failure, kept with it
                self.errors.setdefault(job_id, f"{type(exc).__name__}: {exc}")
            finally:
                _CURRENT.reset(j)
                ACTIVE.reset(a)
        finished: list[tuple[JobContext, str | None]] = []
        cancelled: list[tuple[JobContext, str | None]] = []
        with self.cond:
            pending = self.pending
            for (_, job_id, _, _), job in zip(acts, jobs, strict=True):
                if job_id not in pending:  # cancelled while it ran (shutdown without waiting)
                    continue
                left = pending[job_id] - 1
                if left:
                    pending[job_id] = left
                    continue
                del pending[job_id]
                del self.jobs[job_id]
                error = self.errors.pop(job_id, None)
                if self.cancelled and job_id in self.cancelled:
                    self.cancelled.discard(job_id)
                    cancelled.append((job, None))
                else:
                    finished.append((job, error))
        if finished:
            self.runtime._jobs_finished(finished)
        if cancelled:
            self.runtime._jobs_finished(cancelled, status="cancelled")

    # -- one job -------------------------------------------------------------------------------
    def work_left(self, job_id: str) -> int:
        """The job's queued items and running activations."""
        return self.pending.get(job_id, 0)

    def cancel(self, job: JobContext) -> bool:
        """Drop the job's queued items; it ends ``cancelled`` now, or when its running activation returns."""
        job_id = job.job_id
        with self.cond:
            if job_id not in self.jobs or job_id in self.cancelled:
                return job_id in self.cancelled
            removed = 0
            for q in self.queues.values():
                if any(j == job_id for j, _ in q):
                    keep = [item for item in q if item[0] != job_id]
                    removed += len(q) - len(keep)
                    q.clear()
                    q.extend(keep)
            left = self.pending[job_id] - removed
            self.cond.notify_all()  # room in the slots: posts may go on
            if left:
                self.pending[job_id] = left
                self.cancelled.add(job_id)
                return True
            del self.pending[job_id]
            del self.jobs[job_id]
            self.errors.pop(job_id, None)
        self.runtime._jobs_finished([(job, None)], status="cancelled")
        return True

    # -- stopping ------------------------------------------------------------------------------
    def stop(self, *, cancel: bool) -> list[JobContext]:
        """Stop after the queued work (or drop it with ``cancel``); the jobs whose work was dropped."""
        with self.cond:
            self.stopping = True
            dropped: list[JobContext] = []
            if cancel:
                dropped = list(self.jobs.values())
                for q in self.queues.values():
                    q.clear()
                self.pending.clear()
                self.jobs.clear()
            self.cond.notify_all()
        return dropped

    def join(self, timeout: float | None = None) -> None:
        """Wait for the worker's thread to end."""
        self.thread.join(timeout)
