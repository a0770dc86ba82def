"""The event plan: a state that runs events (seed 003) over its group of records.

The group's records go to :meth:`PyNetwork.run_events
<streamkit.fsm.interpret.PyNetwork.run_events>` as dicts of their non-null
fields, each event binding its arguments by the names of the group's fields;
where each record then goes (its arcs by ``on`` and condition) is the reference
interpreter's rule, so the engine and the interpreter cannot disagree. The
records that move on become columns again as the Python plan's do.

Executors live with the plan's network for as long as it does: a thread pool
is made the first time an event needs it, not per chunk.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamkit.config.model import EventSpec
from streamkit.events.base import DefaultExecutor
from streamkit.fsm.plans.base import BatchContext, Exits, Group
from streamkit.fsm.plans.python import exits_of

__all__ = ("EventPlan", "EventPools")


class EventPools:
    """The executors of a network's event states, made at first use and kept (thread-safe)."""

    def __init__(self) -> None:
        self._pools: dict[tuple[str, int], Any] = {}
        self._lock = threading.Lock()

    def for_state(self, state: str, spec: EventSpec) -> dict[int, Any]:
        """Event index → executor, for the events of ``state`` that do not run inline."""
        out: dict[int, Any] = {}
        for j, ev in enumerate(spec.events):
            cls = type(ev)
            if cls.executor is None or cls.executor is DefaultExecutor:
                continue
            key = (state, j)
            pool = self._pools.get(key)
            if pool is None:
                with self._lock:
                    pool = self._pools.get(key)
                    if pool is None:
                        kwargs = cls.pool_config().pool_kwargs(cls.executor)
                        if "thread_name_prefix" not in kwargs and issubclass(cls.executor, ThreadPoolExecutor):
                            kwargs["thread_name_prefix"] = f"streamkit-{state}"
                        pool = cls.executor(**kwargs)
                        self._pools[key] = pool
            out[j] = pool
        return out

    def shutdown(self) -> None:
        """Stop every executor (their threads finish what they hold)."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.shutdown(wait=True)


@dataclass(eq=False)
class EventPlan:
    """A state's events over a group of records (see the module docstring)."""

    spec: EventSpec
    pools: EventPools
    backend: str = "events"
    reason: str | None = None
    #: records run through this plan so far (what ``explain()`` reports)
    records: int = 0
    #: calls of ``process`` beyond each record's first, so far
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def run(self, group: Group, ctx: BatchContext) -> Exits:
        """Run the state's events on every record of the group; route each by its outcome."""
        name = ctx.state_names[group.state]
        inputs = group.records()
        rows = np.arange(group.n) if group.rows is None else group.rows
        results = ctx.py.run_events(
            name, inputs, fields=list(group.frame), rows=rows.tolist(), pools=self.pools.for_state(name, self.spec)
        )
        moved: list[tuple[int, Any, str | None]] = []
        failed: list[tuple[int, str, str]] = []
        attempts: list[int] = []
        retries = 0
        for t, (outcome, step) in enumerate(results):
            attempts.append(outcome.attempts)
            retries += outcome.retries
            if step.data is None:
                failed.append((t, step.error_type or "EventFailed", step.error_message or ""))
            else:
                moved.append((t, step.data, step.next_state))
        with self._lock:
            self.records += group.n
            self.retries += retries
        if retries:
            ctx.retries[name] = ctx.retries.get(name, 0) + retries
        return exits_of(group, ctx, moved, failed, inputs, raw=True, attempts=attempts)
