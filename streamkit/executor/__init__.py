"""An executor of status-tracked events (seed 000), on streamkit's status index.

:class:`Event` is one piece of async work (fields as class annotations,
``async _invoke()``), run once by :meth:`Event.invoke` however many callers
await it. An :class:`Executor` queues events and runs them a batch at a time
(:meth:`~Executor.forward`, :meth:`~Executor.execute`); its ``states`` is a
:class:`Flow` whose progressions are the buckets of a
:class:`~streamkit.status.StatusIndex`, one per :class:`EventStatus`, so
"how many are completed" is O(1) and "which are completed" O(k). A
:class:`Flow` also stands alone, with :class:`Progression` views that are
tags of its index (M:N), and round-trips through ``to_dict``/``from_dict``.

Runs on asyncio.

Examples
--------
>>> import asyncio
>>> from streamkit.executor import Event, EventStatus, Executor
>>> class Ping(Event):
...     n: int = 0
...
...     async def _invoke(self):
...         if self.n == 3:
...             raise ValueError("no 3")
...         return self.n
>>> async def main():
...     executor = Executor()
...     for n in range(5):
...         await executor.append(Ping(n=n))
...     await executor.start()
...     await executor.forward()
...     return executor
>>> executor = asyncio.run(main())
>>> executor.status_counts()["completed"], [e.n for e in executor.get_events_by_status("failed")]
(4, [3])
>>> executor.failed_events[0].execution.error
ValueError('no 3')
"""

from streamkit.executor.errors import ExecutorError as ExecutorError
from streamkit.executor.errors import QueueFullError as QueueFullError
from streamkit.executor.event import Event as Event
from streamkit.executor.event import Execution as Execution
from streamkit.executor.executor import Executor as Executor
from streamkit.executor.flow import Flow as Flow
from streamkit.executor.processor import Processor as Processor
from streamkit.executor.progression import Progression as Progression
from streamkit.status import EventStatus as EventStatus

__all__ = (
    "Event",
    "EventStatus",
    "Execution",
    "Executor",
    "Processor",
    "Flow",
    "Progression",
    "QueueFullError",
    "ExecutorError",
)
