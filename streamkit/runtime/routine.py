"""Routines and flows (seed 001): units of logic with input slots and output events, wired into a flow."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streamkit.errors import did_you_mean
from streamkit.runtime.policies import as_policy

__all__ = ("Routine", "Flow", "FlowRegistry", "SlotSpec")

#: (worker, routine id, job) of the activation running in this context, for ``Routine.emit``.
ACTIVE: contextvars.ContextVar[tuple[Any, str, Any] | None] = contextvars.ContextVar("streamkit_active", default=None)


@dataclass(frozen=True)
class SlotSpec:
    """An input slot: at most ``max_queue_length`` items wait in it (``watermark``: the share at which a
    routine that feeds it is held back)."""

    name: str
    max_queue_length: int = 1000
    watermark: float = 0.8


class Routine:
    """A unit of logic: named input slots, named output events, a logic function and an activation policy.

    The logic is called ``fn(slot_data, policy_message, worker_state)``, ``slot_data``
    being ``{slot name: [data, ...]}`` of one job; ``self.emit(event, **data)`` sends
    data on to the slots the flow connects the event to, in the same job.
    """

    def __init__(self) -> None:
        self.slots: dict[str, SlotSpec] = {}
        self.events: list[str] = []
        self.logic: Callable[..., Any] | None = None
        self.policy: Callable[..., Any] = as_policy(None)

    def add_slot(self, name: str, max_queue_length: int = 1000, watermark: float = 0.8) -> None:
        """Add an input slot."""
        if max_queue_length < 1:
            msg = f"slot {name!r}: max_queue_length must be >= 1, got {max_queue_length}"
            raise ValueError(msg)
        self.slots[name] = SlotSpec(name, int(max_queue_length), float(watermark))

    def add_event(self, name: str) -> None:
        """Add an output event."""
        if name not in self.events:
            self.events.append(name)

    def set_logic(self, fn: Callable[..., Any]) -> None:
        """The function an activation calls: ``fn(slot_data, policy_message, worker_state)``."""
        self.logic = fn

    def set_activation_policy(self, policy: Callable[..., Any]) -> None:
        """When queued data runs (see :mod:`streamkit.runtime.policies`)."""
        self.policy = as_policy(policy)

    def emit(self, event: str, **data: Any) -> None:
        """Send ``data`` (a dict) to every slot ``event`` is connected to, in the current job.

        Raises
        ------
        RuntimeError
            Called outside an activation of this routine's worker.
        """
        active = ACTIVE.get()
        if active is None:
            msg = f"emit({event!r}) outside an activation: routines emit from their logic"
            raise RuntimeError(msg)
        worker, routine_id, job = active
        if event not in self.events:
            msg = f"routine {routine_id!r} has no event {event!r} (events: {', '.join(self.events) or 'none'})"
            raise ValueError(msg)
        worker.emit(routine_id, event, data, job)


class Flow:
    """Routines wired together: ``connect(src_id, event, dst_id, slot)``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.routines: dict[str, Routine] = {}
        self.connections: dict[tuple[str, str], list[tuple[str, str]]] = {}

    def add_routine(self, routine: Routine, routine_id: str) -> None:
        """Add ``routine`` under ``routine_id``."""
        if routine_id in self.routines:
            msg = f"flow {self.name!r} already has a routine {routine_id!r}"
            raise ValueError(msg)
        self.routines[routine_id] = routine

    def connect(self, src_id: str, event: str, dst_id: str, slot: str) -> None:
        """Send what ``src_id`` emits on ``event`` to ``dst_id``'s ``slot``."""
        src = self.routine(src_id)
        dst = self.routine(dst_id)
        if event not in src.events:
            msg = f"routine {src_id!r} has no event {event!r} (events: {', '.join(src.events) or 'none'})"
            raise ValueError(msg)
        if slot not in dst.slots:
            msg = f"routine {dst_id!r} has no slot {slot!r} (slots: {', '.join(dst.slots) or 'none'})"
            raise ValueError(msg)
        self.connections.setdefault((src_id, event), []).append((dst_id, slot))

    def routine(self, routine_id: str) -> Routine:
        """The routine ``routine_id``."""
        try:
            return self.routines[routine_id]
        except KeyError:
            msg = f"flow {self.name!r} has no routine {routine_id!r}{did_you_mean(routine_id, self.routines)}"
            raise KeyError(msg) from None

    def upstream_of(self, routine_id: str) -> set[str]:
        """The routines whose events can reach ``routine_id``, directly or not."""
        feeds: dict[str, set[str]] = {}
        for (src, _), dsts in self.connections.items():
            for dst, _ in dsts:
                feeds.setdefault(dst, set()).add(src)
        seen: set[str] = set()
        todo = [routine_id]
        while todo:
            for src in feeds.get(todo.pop(), ()):
                if src not in seen:
                    seen.add(src)
                    todo.append(src)
        return seen


class FlowRegistry:
    """Flows by name, for ``Runtime.exec("name")`` and ``post("name", ...)``: one registry per process."""

    _instance: FlowRegistry | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self.flows: dict[str, Any] = {}

    @classmethod
    def get_instance(cls) -> FlowRegistry:
        """The process's registry (made at first use)."""
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def register_by_name(self, name: str, flow: Any) -> None:
        """Register ``flow`` as ``name`` (a later registration replaces it)."""
        self.flows[name] = flow

    def get(self, name: str) -> Any:
        """The flow registered as ``name``."""
        try:
            return self.flows[name]
        except KeyError:
            msg = f"no flow registered as {name!r}{did_you_mean(name, self.flows)}"
            raise KeyError(msg) from None
