"""Worker-level state (seed 001): what a long-lived worker keeps across the jobs it runs."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

__all__ = ("WorkerState",)


class WorkerState:
    """State a worker keeps across jobs: caches, counters, connection pools, per routine key.

    The engine writes only ``status``; user keys are the routines' own.
    ``update(key, fn)`` is an atomic read-modify-write under the state's lock, so
    counters kept by many threads lose no update.

    Examples
    --------
    >>> s = WorkerState("w1", "flow")
    >>> s.update("counter", lambda old: (old or 0) + 1)
    1
    >>> s.get_routine_state("counter"), s.get_routine_state("missing")
    (1, None)
    """

    def __init__(self, worker_id: str, flow_id: str) -> None:
        self.worker_id = worker_id
        self.flow_id = flow_id
        #: ``"starting"``, ``"running"`` or ``"stopped"``
        self.status = "starting"
        self.routine_states: dict[str, Any] = {}
        self._lock = threading.RLock()

    def get_routine_state(self, key: str) -> Any:
        """A copy of the value kept under ``key`` (``None`` when there is none): changing it changes nothing here."""
        with self._lock:
            value = self.routine_states.get(key)
            return copy.copy(value)

    def update_routine_state(self, key: str, value: Any) -> None:
        """Replace the value kept under ``key``."""
        with self._lock:
            self.routine_states[key] = value

    def update(self, key: str, fn: Callable[[Any], Any]) -> Any:
        """Atomically replace the value under ``key`` by ``fn(old or None)``; return the new value."""
        with self._lock:
            new = fn(self.routine_states.get(key))
            self.routine_states[key] = new
            return new

    def __repr__(self) -> str:
        return f"WorkerState({self.worker_id!r}, flow={self.flow_id!r}, status={self.status!r})"
