"""Runs of deployments (seed 004): their handles, where they run, and where to find them again.

Every run is a :class:`FlowRun` — a :class:`~streamkit.RunHandle` like a runtime
job or a stream — with the seed's ``state`` (a :class:`~streamkit.submit.State`).
Runs execute on one event loop on a daemon thread of its own (started at the
first submit), so a run goes on whatever the submitting code does next, and
its end is signalled to every waiter, sync or async: nothing polls.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar

from streamkit.handle import RunHandle
from streamkit.submit.states import State, StateType

__all__ = ("FlowRun", "get_run", "run_loop", "KEEP_FINISHED_RUNS")

#: Finished runs kept for :func:`get_run` (older ones leave memory; their deployment keeps the counts).
KEEP_FINISHED_RUNS = 100_000

_STATUS_OF = {
    StateType.SCHEDULED: "pending",
    StateType.PENDING: "pending",
    StateType.RUNNING: "running",
    StateType.COMPLETED: "completed",
    StateType.FAILED: "failed",
    StateType.CRASHED: "failed",
    StateType.CANCELLED: "cancelled",
}


_WAITING = frozenset({StateType.SCHEDULED, StateType.PENDING})


class FlowRun(RunHandle):
    """One run of a deployment: ``id``, ``deployment``, ``parameters``, ``state`` (its ``name`` and ``type``),
    times, ``result`` and ``error``; also a :class:`~streamkit.RunHandle` (``status``, ``wait``, ``cancel``...).

    ``start_time`` and ``end_time`` are ``started_at`` and ``completed_at``.
    """

    kind: ClassVar[str] = "submission"

    def __init__(self, run_id: str, deployment: str, parameters: dict[str, Any], idempotency_key: str | None) -> None:
        super().__init__(run_id)
        self.deployment = deployment
        self.parameters = parameters
        self.idempotency_key = idempotency_key
        self.state = State(StateType.SCHEDULED)
        self._task: asyncio.Task[Any] | None = None
        self._cancellable = False  # an async target or a network runs: cancelling its task stops it
        self._on_state: Callable[[FlowRun, State, State], None] | None = None

    @property
    def start_time(self) -> Any:
        """When the run started (``started_at``)."""
        return self.started_at

    @property
    def end_time(self) -> Any:
        """When the run ended (``completed_at``)."""
        return self.completed_at

    def _set_state(
        self,
        state: State,
        *,
        result: Any = None,
        error: str | None = None,
        only_from: frozenset[StateType] | None = None,
    ) -> bool:
        """Move to ``state`` (``only_from`` those state types); whether it moved. A final state wakes every waiter
        and calls every end callback."""
        cond = self._condition()
        assert cond is not None
        with cond:
            old = self.state
            if old.is_final() or (only_from is not None and old.type not in only_from):
                return False
            self.state = state
            if state.is_final():
                self._set_final(_STATUS_OF[state.type], error, result)
                cond.notify_all()
            elif state.type is StateType.RUNNING:
                self._start()
            else:
                self.status = _STATUS_OF[state.type]
        if self._on_state is not None:
            self._on_state(self, old, state)
        if state.is_final():
            self._ended()
        return True

    def cancel(self) -> bool:
        """Cancel the run: one still waiting for a slot ends ``Cancelled`` at once; a running async target or
        network is cancelled; a running Python function cannot be stopped (``False``)."""
        if self._set_state(
            State(StateType.CANCELLED, message="cancelled before it started"),
            error="cancelled before it started",
            only_from=_WAITING,
        ):
            return True
        task = self._task
        if self.finished or task is None or not self._cancellable:
            return False
        run_loop().call_soon_threadsafe(task.cancel)
        return True

    def to_dict(self) -> dict[str, Any]:
        """The run as plain data (the handle's fields, the deployment, parameters and state)."""
        out = super().to_dict()
        out.update(
            deployment=self.deployment,
            parameters=dict(self.parameters),
            state={"type": self.state.type.value, "name": self.state.name, "message": self.state.message},
        )
        return out

    def __repr__(self) -> str:
        return f"FlowRun({self.id[:8]!r}, deployment={self.deployment!r}, state={self.state.name!r})"


class _RunLoop:
    """The event loop runs execute on, on a daemon thread started at first use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> asyncio.AbstractEventLoop:
        loop = self.loop
        if loop is not None:
            return loop
        with self.lock:
            if self.loop is None:
                ready = threading.Event()
                loop = asyncio.new_event_loop()

                def main() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                threading.Thread(target=main, name="streamkit-submit", daemon=True).start()
                ready.wait()
                self.loop = loop
            return self.loop


_LOOP = _RunLoop()


def run_loop() -> asyncio.AbstractEventLoop:
    """The event loop submitted runs execute on (started at first use)."""
    return _LOOP.get()


class _Runs:
    """Every run by id: unfinished ones always, the newest :data:`KEEP_FINISHED_RUNS` finished ones."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_id: dict[str, FlowRun] = {}
        self.finished: deque[str] = deque()

    def add(self, run: FlowRun) -> None:
        with self.lock:
            self.by_id[run.id] = run

    def ended(self, run: FlowRun) -> None:
        with self.lock:
            self.finished.append(run.id)
            while len(self.finished) > KEEP_FINISHED_RUNS:
                self.by_id.pop(self.finished.popleft(), None)


RUNS = _Runs()


def get_run(run_id: str) -> FlowRun:
    """The run ``run_id`` (its state, parameters, times, result and error); ``KeyError`` when there is none."""
    run = RUNS.by_id.get(run_id)
    if run is None:
        msg = f"no run {run_id!r} (unknown, or finished long ago: the newest {KEEP_FINISHED_RUNS:,} finished are kept)"
        raise KeyError(msg)
    return run
