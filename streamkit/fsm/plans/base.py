"""The plan interface: what a state receives (:class:`Group`) and what it gives back (:class:`Exits`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa

from streamkit.fsm.columns import Col, Views
from streamkit.status.codes import EventStatus

if TYPE_CHECKING:
    from streamkit.fsm.interpret import PyNetwork

__all__ = (
    "Frame",
    "Group",
    "Move",
    "Failure",
    "Exits",
    "StatePlan",
    "BatchContext",
    "StopSignal",
    "rows_at",
    "take",
)

Frame = dict[str, Col]
"""The fields of a group of records, by name."""

FAILED = int(EventStatus.FAILED)


def rows_at(rows: np.ndarray | None, pos: np.ndarray) -> np.ndarray:
    """Batch positions of the group rows at ``pos`` (``rows`` ``None``: the group is the whole batch)."""
    return pos if rows is None else rows[pos]


def take(frame: Frame, pos: np.ndarray | None) -> Frame:
    """The frame's columns at positions ``pos`` of the group (views)."""
    if pos is None:
        return frame
    return {k: c.take(pos) for k, c in frame.items()}


@dataclass(eq=False)
class Group:
    """Records of one batch in one state.

    Attributes
    ----------
    state:
        The state's index in the network.
    rows:
        The records' positions in the batch, ascending (``None``: every row of the batch).
    frame:
        Their fields, as column views.
    n:
        How many records.
    """

    state: int
    rows: np.ndarray | None
    frame: Frame
    n: int

    def subset(self, pos: np.ndarray | None) -> Group:
        """The records at positions ``pos`` of this group."""
        if pos is None:
            return self
        return Group(self.state, rows_at(self.rows, pos), take(self.frame, pos), len(pos))

    def table(self) -> pa.Table:
        """The records as an Arrow table (Arrow at the boundary, for plans that run outside kernels)."""
        return (
            pa.table({k: c.to_arrow() for k, c in self.frame.items()})
            if self.frame
            else pa.table({"_": pa.nulls(self.n)}).drop_columns(["_"])
        )

    def records(self) -> list[dict[str, Any]]:
        """The records as dicts of their non-null fields: what ``state.data`` holds."""
        if not self.frame:
            return [{} for _ in range(self.n)]
        arrays = [c.to_arrow() for c in self.frame.values()]
        rows = pa.Table.from_arrays(arrays, names=list(self.frame)).to_pylist()
        has_null = np.zeros(self.n, np.bool_)
        for a in arrays:
            if a.null_count:
                has_null |= np.asarray(a.is_null(), np.bool_)
        for t in np.flatnonzero(has_null).tolist():  # a null field is a missing one
            rows[t] = {k: v for k, v in rows[t].items() if v is not None}
        return rows


@dataclass(eq=False)
class Move:
    """Records leaving a state: to ``target`` (a state index), and ending there when ``end`` is true."""

    target: int
    end: bool
    rows: np.ndarray | None
    frame: Frame


@dataclass(eq=False)
class Failure:
    """Records that failed (or ended ``status``: skipped, cancelled), with the state and the reason per record.

    ``state`` is a state index, or a state name per record (a fused kernel fails
    records in several states).
    """

    rows: np.ndarray
    state: int | list[str]
    types: list[str]
    messages: list[str]
    status: int = FAILED
    #: per record, the calls an event state made for it (``None``: a state that runs no event)
    attempts: list[int] | None = None


@dataclass(eq=False)
class Exits:
    """What a plan gives back: the records that move on and those that failed."""

    moves: list[Move] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def extend(self, other: Exits) -> None:
        """Add another plan's exits (a kernel's rows that Python ran)."""
        self.moves += other.moves
        self.failures += other.failures


class StopSignal:
    """A run's request to stop, raised by an event's stop flag (seed 003); the first one is kept.

    Examples
    --------
    >>> s = StopSignal()
    >>> s.fire("charge", 12, "stop_on_error: declined"); s.fire("charge", 13, "later")
    >>> s.fired, s.info
    (True, {'state': 'charge', 'row': 12, 'reason': 'stop_on_error: declined'})
    """

    def __init__(self) -> None:
        self.info: dict[str, Any] | None = None
        self._lock = threading.Lock()
        #: the run was cancelled: work in hand is given up (record loops that run Python check this)
        self.abandoned = False

    def abandon(self) -> None:
        """Give up the work in hand: record loops raise :class:`~streamkit._owner.RunAbandoned` at their next
        check (see :func:`~streamkit._owner.check_abandoned`)."""
        self.abandoned = True

    @property
    def fired(self) -> bool:
        """Whether the run was asked to stop."""
        return self.info is not None

    def fire(self, state: str, row: int, reason: str) -> None:
        """Ask the run to stop (only the first request counts)."""
        with self._lock:
            if self.info is None:
                self.info = {"state": state, "row": int(row), "reason": reason}


@dataclass(eq=False)
class BatchContext:
    """What plans share while one batch runs: the network's names, its Python twin, the batch's input views."""

    index: dict[str, int]
    state_names: list[str]
    #: The network's Python twin, got when a plan first needs it (most batches never do).
    python: Callable[[], PyNetwork]
    views: Views
    n: int
    #: retries event states made while this batch ran, by state name
    retries: dict[str, int] = field(default_factory=dict)
    #: the run's stop signal (``None``: nothing can stop it)
    stop: StopSignal | None = None
    #: the batch's field names, null columns included (an event parameter named like one gets its value)
    schema_fields: tuple[str, ...] = ()
    #: the stream position of the batch's first record, or each record's (``row_ids``)
    row_offset: int = 0
    row_ids: np.ndarray | None = None

    def row_of(self, pos: int) -> int:
        """The stream position of the record at batch position ``pos``."""
        return int(self.row_ids[pos]) if self.row_ids is not None else self.row_offset + int(pos)

    @property
    def py(self) -> PyNetwork:
        """The network's per-record twin (:class:`~streamkit.fsm.interpret.PyNetwork`)."""
        return self.python()


class StatePlan(Protocol):
    """How one state runs for one typing of its input.

    Attributes
    ----------
    backend:
        ``"numba"`` or ``"python"`` (what ``explain()`` shows).
    reason:
        Why a state runs as Python (``None`` for compiled plans).
    records:
        Records run through the plan so far (what ``explain()`` reports).
    """

    @property
    def backend(self) -> str: ...

    @property
    def reason(self) -> str | None: ...

    @property
    def records(self) -> int: ...

    def run(self, group: Group, ctx: BatchContext) -> Exits:
        """Run the group's records through the state; say where each one went."""
        ...
