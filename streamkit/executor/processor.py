"""The processor: an executor's queue of events and the running of one batch of them.

A batch is up to ``queue_capacity`` queued events. They move to
``processing`` together (one transition of the status index when the
executor's ``_update_progression`` is not overridden), then run on at most
``concurrency_limit`` worker coroutines that pull from one deque: the caller's
task is the first worker, and another is started only when a running event
gives the event loop a turn while events still wait — so events that never
wait cost no task at all, and slow ones get up to ``concurrency_limit`` of
them. Each event's final status is recorded the moment it finishes.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections import deque
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from streamkit.errors import did_you_mean
from streamkit.executor.event import Event
from streamkit.status import EventStatus

__all__ = ("Processor", "DEFAULT_CONFIG", "check_config")

#: The processor settings an executor takes in ``processor_config``, and their defaults.
DEFAULT_CONFIG: Mapping[str, Any] = {
    "queue_capacity": 1000,
    "capacity_refresh_time": 0.01,
    "concurrency_limit": 100,
    "max_queue_size": None,
}

_PENDING = EventStatus.PENDING
_PROCESSING = EventStatus.PROCESSING


class Processor:
    """Queues an executor's events (by priority, then in order) and runs them a batch at a time.

    Parameters
    ----------
    executor:
        The executor whose events it runs (it records their statuses).
    queue_capacity:
        At most this many events per batch (``forward()``): what one call may start.
    capacity_refresh_time:
        Seconds ``execute()`` waits between batches: with ``queue_capacity``, a
        limit on how many events start per second.
    concurrency_limit:
        At most this many events of a batch run at the same time.
    max_queue_size:
        At most this many events wait to be processed (``None``: no limit); an
        ``append`` past it raises :class:`~streamkit.executor.QueueFullError`.
    """

    #: The events it processes (an executor refuses others).
    event_type: ClassVar[type[Event]] = Event

    def __init__(
        self,
        executor: Any,
        *,
        queue_capacity: int = DEFAULT_CONFIG["queue_capacity"],
        capacity_refresh_time: float = DEFAULT_CONFIG["capacity_refresh_time"],
        concurrency_limit: int = DEFAULT_CONFIG["concurrency_limit"],
        max_queue_size: int | None = DEFAULT_CONFIG["max_queue_size"],
    ) -> None:
        config = check_config(
            {
                "queue_capacity": queue_capacity,
                "capacity_refresh_time": capacity_refresh_time,
                "concurrency_limit": concurrency_limit,
                "max_queue_size": max_queue_size,
            },
            owner=type(self).__name__,
        )
        self.executor = executor  # its Executor (executor.py imports this module, not the reverse)
        self.queue_capacity: int = config["queue_capacity"]
        self.capacity_refresh_time: float = config["capacity_refresh_time"]
        self.concurrency_limit: int = config["concurrency_limit"]
        self.max_queue_size: int | None = config["max_queue_size"]
        self._fifo: deque[int] = deque()  # numbers of events without a priority, in order
        self._heap: list[tuple[float, int, int]] = []  # (priority, sequence, number)
        self._seq = itertools.count()

    # ------------------------------------------------------------------ the queue

    def enqueue(self, number: int, priority: float | None = None) -> None:
        """Queue the event with index number ``number``; a lower ``priority`` goes first, and events
        with one before those without (which go in the order they came)."""
        if priority is None:
            self._fifo.append(number)
        else:
            heapq.heappush(self._heap, (priority, next(self._seq), number))

    def __len__(self) -> int:
        """Entries in the queue (events removed from the executor since are skipped when they come up)."""
        return len(self._fifo) + len(self._heap)

    def _take(self, k: int) -> list[Event]:
        # up to k queued events that are still pending and still in the flow
        flow = self.executor.states
        out: list[Event] = []
        heap, fifo = self._heap, self._fifo
        while len(out) < k and (heap or fifo):
            numbers = [heapq.heappop(heap)[2] for _ in range(min(k - len(out), len(heap)))]
            need = k - len(out) - len(numbers)
            if need >= len(fifo):
                numbers.extend(fifo)
                fifo.clear()
            else:
                numbers.extend(fifo.popleft() for _ in range(need))
            arr = np.array(numbers, np.int64) - flow._base
            arr = arr[arr >= 0]  # below the base: removed long ago
            out += [e for e in flow._objs[arr].tolist() if e is not None and e._status is _PENDING]
        return out

    def _requeue_front(self, events: list[Event]) -> None:
        # events taken but never started go back to the head of the queue, in order
        self._fifo.extendleft(e._number for e in reversed(events))

    # ------------------------------------------------------------------ a batch

    async def process(self) -> int:
        """Run one batch: up to ``queue_capacity`` queued events; return how many ran.

        Every status change goes through the executor (``_update_progression``).
        If the batch is cancelled, its events that had not started go back to
        ``pending`` at the head of the queue, and those running end ``cancelled``.
        """
        events = self._take(self.queue_capacity)
        if not events:
            return 0
        ex = self.executor
        hooked = ex._hooked
        if hooked:
            try:
                for event in events:
                    await ex._update_progression(event, _PROCESSING)
            except BaseException:  # the hook failed: the batch goes back to the queue as it was
                for event in events:
                    ex._publish(event, _PENDING)
                self._requeue_front(events)
                raise
        else:
            ex.states._index.transition(np.array([e._number for e in events], np.int64), _PROCESSING)
            for event in events:
                event._status = _PROCESSING
        todo = deque(events)
        try:
            await self._run(todo, hooked=hooked)
        except BaseException:
            left = list(todo)
            todo.clear()
            for event in left:
                if hooked:
                    await ex._update_progression(event, _PENDING)
                else:
                    ex._publish(event, _PENDING)
            self._requeue_front(left)
            raise
        return len(events)

    async def _run(self, todo: deque[Event], *, hooked: bool) -> None:
        # workers pull from `todo`; this task is the first, more start when the loop gets a turn
        loop = asyncio.get_running_loop()
        ex = self.executor
        tasks: list[asyncio.Task[None]] = []
        limit = self.concurrency_limit
        state = {"armed": False, "failed": False}

        def spawn() -> None:
            state["armed"] = False
            if todo and not state["failed"] and len(tasks) + 1 < limit:
                tasks.append(loop.create_task(work()))

        async def work() -> None:
            try:
                while todo and not state["failed"]:
                    event = todo.popleft()
                    if todo and not state["armed"] and len(tasks) + 1 < limit:
                        state["armed"] = True  # runs only if this event waits: then the next one gets a worker
                        loop.call_soon(spawn)
                    try:
                        await event.invoke()
                    finally:
                        if hooked:
                            await ex._update_progression(event)
                        else:
                            ex._publish(event, event.execution.status)
            except BaseException:
                state["failed"] = True
                raise

        try:
            await work()
            if tasks:
                await _join(tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            raise


async def _join(tasks: list[asyncio.Task[None]]) -> None:
    # wait for every worker; the first error cancels the rest and is raised
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            for other in pending:
                other.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            raise task.exception()  # type: ignore[misc]
    if pending:  # a worker was cancelled from outside
        await asyncio.gather(*pending)


def check_config(config: Mapping[str, Any] | None, *, owner: str = "Executor") -> dict[str, Any]:
    """``config`` merged over :data:`DEFAULT_CONFIG`, checked: unknown keys and bad values raise,
    naming the key (``TypeError`` for a wrong type, ``ValueError`` for a wrong value).

    Examples
    --------
    >>> check_config({"queue_capacity": 10})["queue_capacity"]
    10
    >>> check_config({"queue_capacty": 10})
    Traceback (most recent call last):
    ...
    TypeError: `processor_config` of Executor has no key 'queue_capacty' (did you mean 'queue_capacity'?); it takes 'queue_capacity', 'capacity_refresh_time', 'concurrency_limit', 'max_queue_size'
    """  # noqa: E501
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        msg = f"`processor_config` of {owner} must be a dict, got {config!r}"
        raise TypeError(msg)
    for key in config:
        if key not in DEFAULT_CONFIG:
            known = ", ".join(map(repr, DEFAULT_CONFIG))
            hint = did_you_mean(str(key), DEFAULT_CONFIG)
            msg = f"`processor_config` of {owner} has no key {key!r}{hint}; it takes {known}"
            raise TypeError(msg)
    out = {**DEFAULT_CONFIG, **config}
    for key in ("queue_capacity", "concurrency_limit", "max_queue_size"):
        value = out[key]
        if value is None and key == "max_queue_size":
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            msg = f"`processor_config['{key}']` of {owner} must be an int, got {value!r}"
            raise TypeError(msg)
        if value < 1:
            msg = f"`processor_config['{key}']` of {owner} must be at least 1, got {value!r}"
            raise ValueError(msg)
    refresh = out["capacity_refresh_time"]
    if isinstance(refresh, bool) or not isinstance(refresh, (int, float)):
        msg = f"`processor_config['capacity_refresh_time']` of {owner} must be a number of seconds, got {refresh!r}"
        raise TypeError(msg)
    if not (math.isfinite(refresh) and refresh >= 0):
        msg = f"`processor_config['capacity_refresh_time']` of {owner} must be >= 0 and finite, got {refresh!r}"
        raise ValueError(msg)
    return out
