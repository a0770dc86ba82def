"""Whose work runs now: the owner (a runtime's job) of running code, and the record a thread is on.

:data:`OWNER` is a context variable: the runtime sets it to the job an
activation consumes, and the engine copies it into every thread a run uses
(its chunk workers, event executors' pools). A network flow that runs the
records of many jobs as one batch sets it to a :class:`ByRow`, which maps a
record's stream row to its job. The code that runs user Python one record at a
time (the Python plan, event states) keeps the record it is on in
:data:`RECORD`, per thread, so :func:`current_owner` answers per record.

A cancelled stream gives up the chunks in hand: the batch a thread runs
keeps its run's stop signal in :data:`WORK`, and record loops that run user
Python call :func:`check_abandoned` now and then.

This module sits below the engine, the events and the runtime; it imports
none of them.
"""

from __future__ import annotations

import contextvars
import threading
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

__all__ = (
    "OWNER",
    "RECORD",
    "WORK",
    "ByRow",
    "RunAbandoned",
    "current_owner",
    "current_row",
    "by_row",
    "check_abandoned",
)

#: The owner of the running code: a job, a :class:`ByRow`, or ``None``.
OWNER: contextvars.ContextVar[Any] = contextvars.ContextVar("streamkit_owner", default=None)

#: Per thread, the record user code runs on now: ``current`` is ``(fields, state, row)``, an object
#: with a ``row`` attribute, or ``None``.
RECORD = threading.local()


class ByRow:
    """Owners of consecutive row ranges of one run: ``owners[k]`` owns rows ``starts[k]`` to ``starts[k+1] - 1``.

    Examples
    --------
    >>> jobs = ByRow([0, 3, 5], ["a", "b", "c"])
    >>> jobs.at(0), jobs.at(2), jobs.at(3), jobs.at(9), jobs.at(None)
    ('a', 'a', 'b', 'c', None)
    """

    __slots__ = ("owners", "starts")

    def __init__(self, starts: Sequence[int], owners: Sequence[Any]) -> None:
        if len(starts) != len(owners):
            msg = f"{len(starts)} starts for {len(owners)} owners"
            raise ValueError(msg)
        self.starts = [int(s) for s in starts]
        self.owners = list(owners)

    def at(self, row: int | None) -> Any:
        """The owner of stream row ``row`` (``None`` for no row, or one before the first range)."""
        if row is None:
            return None
        k = bisect_right(self.starts, row) - 1
        return self.owners[k] if k >= 0 else None


def current_row() -> int | None:
    """The stream row of the record this thread's user code runs on (``None`` between records)."""
    cur = getattr(RECORD, "current", None)
    if cur is None:
        return None
    if type(cur) is tuple:
        return cur[2]
    return getattr(cur, "row", None)


def current_owner() -> Any:
    """The owner of the running code: its job, or the job of the record it runs on."""
    owner = OWNER.get()
    if type(owner) is ByRow:
        return owner.at(current_row())
    return owner


def by_row() -> bool:
    """Whether the running code belongs to many owners by row (then record loops keep :data:`RECORD`)."""
    return type(OWNER.get()) is ByRow


#: Per thread, the work it runs: ``stop`` is the stop signal of its batch (an object with ``abandoned``).
WORK = threading.local()


class RunAbandoned(BaseException):
    """Raised inside a chunk of a cancelled run; the chunk's results are never used."""


def check_abandoned() -> None:
    """Raise :class:`RunAbandoned` when the run of this thread's batch was cancelled."""
    stop = getattr(WORK, "stop", None)
    if stop is not None and stop.abandoned:
        msg = "the run was cancelled"
        raise RunAbandoned(msg)
