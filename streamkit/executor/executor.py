"""The executor: events appended, queued, run in batches, and tracked by status in O(1) / O(k).

An :class:`Executor` keeps its events in a :class:`~streamkit.executor.Flow`
whose progressions are the buckets of its status index, one per
:class:`EventStatus`; every status change goes through
:meth:`Executor._update_progression` (the hook a subclass overrides to see
transitions), which moves the event's index number to its new bucket in
~1.5 µs. Counting a status is O(1); listing one is O(k) in its events.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from streamkit.executor.errors import ExecutorError, QueueFullError
from streamkit.executor.event import Event
from streamkit.executor.flow import Flow
from streamkit.executor.processor import Processor, check_config
from streamkit.executor.progression import Progression, item_id
from streamkit.status import EventStatus, StatusLike
from streamkit.status.codes import as_status, status_codes

__all__ = ("Executor", "DEFAULT_CLEANUP")

#: What :meth:`Executor.cleanup_events` removes when given no statuses.
DEFAULT_CLEANUP = (EventStatus.COMPLETED, EventStatus.FAILED, EventStatus.ABORTED)
_PENDING = EventStatus.PENDING


class Executor:
    """Runs events a batch at a time and tracks each one's status in a status index.

    Parameters
    ----------
    processor_config:
        Settings of the processor (see :class:`~streamkit.executor.Processor`):
        ``queue_capacity`` (events per batch, default 1000),
        ``capacity_refresh_time`` (seconds between batches in :meth:`execute`,
        default 0.01), ``concurrency_limit`` (events running at once, default
        100), ``max_queue_size`` (events waiting, default ``None``: no limit).
        Unknown keys and bad values raise at once.
    name:
        The name of the executor and of its flow (default ``"executor_states"``).

    Examples
    --------
    >>> import asyncio
    >>> from streamkit.executor import Event
    >>> class Double(Event):
    ...     x: int = 0
    ...
    ...     async def _invoke(self):
    ...         return 2 * self.x
    >>> async def main():
    ...     executor = Executor(processor_config={"queue_capacity": 2}, name="doubler")
    ...     for x in range(3):
    ...         await executor.append(Double(x=x))
    ...     await executor.start()
    ...     await executor.forward()
    ...     return executor, [e.response for e in executor.completed_events]
    >>> executor, responses = asyncio.run(main())
    >>> executor, responses
    (Executor(name='doubler', total=3, pending=1, completed=2), [0, 2])
    """

    #: The processor class (its ``event_type`` says which events the executor takes).
    processor_type: ClassVar[type[Processor]] = Processor

    def __init__(self, processor_config: Mapping[str, Any] | None = None, *, name: str | None = None) -> None:
        ptype = type(self).processor_type
        if not (isinstance(ptype, type) and issubclass(ptype, Processor)):
            msg = f"`{type(self).__name__}.processor_type` must be a Processor subclass, got {ptype!r}"
            raise TypeError(msg)
        self.processor_config: dict[str, Any] = check_config(processor_config, owner=type(self).__name__)
        self.processor: Processor | None = None
        self.states: Flow[Event, Progression] = Flow(item_type=ptype.event_type, name=name or "executor_states")
        self.states._track_statuses()
        self._early: dict[int, float] = {}  # priorities of events appended before start()
        self._hooked = type(self)._update_progression is not Executor._update_progression
        self._stopped = False
        self._wake: asyncio.Event | None = None

    @property
    def name(self) -> str:
        """The executor's name (its flow's)."""
        return self.states.name

    @property
    def event_type(self) -> type[Event]:
        """The events this executor takes (its processor's ``event_type``)."""
        return type(self).processor_type.event_type

    # ------------------------------------------------------------------ events in

    async def append(self, event: Event, priority: float | None = None) -> None:
        """Add ``event``: it enters the progression of its status, and is queued if it is pending.

        ``priority``: lower goes first; events with a priority go before those
        without, which go in the order they were appended.

        Raises
        ------
        QueueFullError
            ``max_queue_size`` events wait to be processed; the event is added nowhere.
        TypeError
            ``event`` is not an ``event_type``.
        ValueError
            The event is in this or another executor already, is running, or ``priority`` is not a finite number.
        """
        flow = self.states
        key = flow._check_new(event)
        if priority is not None:
            priority = _check_priority(priority)
        status = event._status
        if status is EventStatus.PROCESSING:
            msg = f"{event!r} is running: append it before it runs or once it has finished"
            raise ValueError(msg)
        if status is _PENDING:
            limit = self.processor_config["max_queue_size"]
            if limit is not None and flow._index.count(_PENDING) >= limit:
                waiting = flow._index.count(_PENDING)
                msg = (
                    f"executor {self.name!r} has {waiting:,} events waiting (max_queue_size={limit:,}): {event!r}"
                    " was not added\n\nprocess some first (`forward()`, `execute()`) or raise `max_queue_size`"
                )
                raise QueueFullError(msg, queue_size=waiting, max_size=limit)
        number = flow._insert(event, key, status)
        if status is _PENDING:
            if self.processor is not None:
                self.processor.enqueue(number, priority)
            elif priority is not None:
                self._early[number] = priority
            if self._wake is not None:
                self._wake.set()

    # ------------------------------------------------------------------ running

    async def start(self) -> None:
        """Create the processor (once) and queue every pending event, also those appended before.

        Nothing runs in the background: :meth:`forward` runs one batch, :meth:`execute` runs until :meth:`stop`.
        """
        if self.processor is None:
            processor = self.processor_type(self, **self.processor_config)
            numbers = self.states._index.ids(_PENDING).tolist()  # in the order they were appended
            early = self._early
            if early:
                for number in numbers:
                    processor.enqueue(number, early.pop(number, None))
                early.clear()
            else:
                processor._fifo.extend(numbers)
            self.processor = processor
        self._stopped = False

    async def forward(self) -> int:
        """Run one batch (up to ``queue_capacity`` queued events) to its end; return how many ran.

        ``ExecutorError`` before :meth:`start`.
        """
        if self.processor is None:
            msg = f"executor {self.name!r} is not started: `await executor.start()` creates its processor first"
            raise ExecutorError(msg)
        return await self.processor.process()

    async def execute(self) -> None:
        """Start, then run batches until :meth:`stop`: ``capacity_refresh_time`` apart while events wait,
        and, when none wait, as soon as one is appended."""
        await self.start()
        assert self.processor is not None
        self._stopped = False
        wake = self._wake = asyncio.Event()
        try:
            while not self._stopped:
                wake.clear()
                await self.processor.process()
                if self._stopped:
                    break
                if self.states._index.count(_PENDING):
                    await asyncio.sleep(self.processor.capacity_refresh_time)
                else:
                    await wake.wait()
        finally:
            self._wake = None

    async def stop(self) -> None:
        """Make :meth:`execute` return after the batch it is running."""
        self._stopped = True
        if self._wake is not None:
            self._wake.set()

    async def _update_progression(self, event: Event, force_status: EventStatus | None = None) -> None:
        """Record that ``event`` is now in ``force_status`` (or, without it, in ``event.execution.status``).

        Called for every status change of every event (``pending`` →
        ``processing`` when its batch starts, → its final status when it ends),
        before which ``event.status`` still reads the old status: a subclass
        that overrides this to log transitions reads ``event.status``, then
        calls ``super()._update_progression(...)``.
        """
        self._publish(event, force_status if force_status is not None else event.execution.status)

    def _publish(self, event: Event, status: Any) -> None:
        # the default transition: the index and the event's status (an event removed meanwhile: the event only)
        if status.__class__ is not EventStatus:
            status = as_status(status, what="force_status")
        if event._tracker is self.states:
            self.states._index.transition(event._number, status)
        event._status = status

    # ------------------------------------------------------------------ queries

    def status_counts(self) -> dict[str, int]:
        """Events per status, every status named, in O(1)."""
        return self.states._index.counts()

    def get_events_by_status(self, status: StatusLike) -> list[Event]:
        """The events in ``status`` (an :class:`EventStatus` or its name), in the order they entered it; O(k)."""
        return self.states._in_status(status)

    @property
    def completed_events(self) -> list[Event]:
        """The completed events (:meth:`get_events_by_status`)."""
        return self.states._in_status(EventStatus.COMPLETED)

    @property
    def failed_events(self) -> list[Event]:
        """The failed events (:meth:`get_events_by_status`)."""
        return self.states._in_status(EventStatus.FAILED)

    @property
    def pending_events(self) -> list[Event]:
        """The pending events (:meth:`get_events_by_status`)."""
        return self.states._in_status(EventStatus.PENDING)

    @property
    def processing_events(self) -> list[Event]:
        """The events of the batch running now (:meth:`get_events_by_status`)."""
        return self.states._in_status(EventStatus.PROCESSING)

    async def cleanup_events(self, statuses: StatusLike | Iterable[StatusLike] | None = None) -> int:
        """Remove every event in ``statuses`` (default: completed, failed, aborted); return how many.

        O(k) in the events removed. They leave the flow and the index (which
        tallies them in ``states`` index's cleaned counts) and may be appended again.
        """
        codes = status_codes(DEFAULT_CLEANUP if statuses is None else statuses, what="statuses")
        return self.states._drop_statuses(codes)

    def __len__(self) -> int:
        return len(self.states)

    def __contains__(self, event: object) -> bool:
        try:
            return item_id(event) in self.states._numbers
        except TypeError:
            return False

    def __repr__(self) -> str:
        counts = [f", {name}={n:,}" for name, n in self.status_counts().items() if n]
        return f"{type(self).__name__}(name={self.name!r}, total={len(self.states):,}{''.join(counts)})"


def _check_priority(priority: object) -> float:
    if isinstance(priority, bool) or not isinstance(priority, (int, float)):
        msg = f"`priority` must be a number (lower goes first) or None, got {priority!r}"
        raise TypeError(msg)
    if not math.isfinite(priority):
        msg = f"`priority` must be finite, got {priority!r}"
        raise ValueError(msg)
    return float(priority)
