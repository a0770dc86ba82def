"""Status codes: :class:`EventStatus`, one byte per record, and how a status is named.

The codes are fixed: ``pending`` 0, ``processing`` 1, ``completed`` 2,
``failed`` 3, ``skipped`` 4, ``cancelled`` 5, ``aborted`` 6 — the batch
executor's uint8 status column already uses ``completed`` 2 and ``failed`` 3.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np

__all__ = (
    "EventStatus",
    "StatusLike",
    "as_status",
    "status_code",
    "status_codes",
    "status_name_array",
    "STATUS_NAMES",
    "N_STATUSES",
)


class EventStatus(int, enum.Enum):
    """The status of an event, a record or a job: an ``int`` (its code) whose value is its name.

    A member is its one-byte code wherever an integer is expected (numpy
    columns, comparisons with the executor's codes), and its ``value`` is the
    name the seed documents use (``EventStatus.FAILED.value == 'failed'``), so
    ``EventStatus('failed')``, ``EventStatus(3)`` and ``EventStatus.FAILED`` are
    the same member. Every member is truthy, ``PENDING`` (code 0) too: a
    status is never "nothing" (seed 000 writes ``force_status if force_status
    else ...``).

    Examples
    --------
    >>> EventStatus("failed")
    <EventStatus.FAILED: 'failed'>
    >>> EventStatus(3) is EventStatus.FAILED, int(EventStatus.FAILED), str(EventStatus.FAILED)
    (True, 3, 'failed')
    >>> [s.value for s in EventStatus]
    ['pending', 'processing', 'completed', 'failed', 'skipped', 'cancelled', 'aborted']
    >>> all(EventStatus), bool(int(EventStatus.PENDING))
    (True, False)
    """

    def __new__(cls, code: int, name: str) -> EventStatus:
        member = int.__new__(cls, code)
        member._value_ = name
        member._code = code  # a plain int: status_code() skips hashing the member (Enum hashes by name, in Python)
        return member

    _code: int

    PENDING = (0, "pending")
    PROCESSING = (1, "processing")
    COMPLETED = (2, "completed")
    FAILED = (3, "failed")
    SKIPPED = (4, "skipped")
    CANCELLED = (5, "cancelled")
    ABORTED = (6, "aborted")

    @classmethod
    def _missing_(cls, value: object) -> EventStatus | None:
        # codes: EventStatus(3); names are the values, found before this is called
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            return _BY_CODE.get(int(value))
        return None

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<EventStatus.{self._name_}: {self._value_!r}>"

    def __str__(self) -> str:
        return self._value_

    def __format__(self, spec: str) -> str:
        return format(self._value_, spec)


StatusLike = EventStatus | Literal[
    "pending", "processing", "completed", "failed", "skipped", "cancelled", "aborted"
] | int  # fmt: skip
"""A status as the API accepts it: a member, its name, or its code ``0..6``."""

_BY_CODE = {int(s): s for s in EventStatus}

#: Status names in code order (``STATUS_NAMES[code]``).
STATUS_NAMES: tuple[str, ...] = tuple(s.value for s in EventStatus)
#: Number of statuses (codes are ``0 .. N_STATUSES - 1``).
N_STATUSES = len(STATUS_NAMES)

# every accepted spelling -> code: members and ints hash alike, names are strings
_CODES: dict[Any, int] = {**{i: i for i in range(N_STATUSES)},
                          **{name: i for i, name in enumerate(STATUS_NAMES)}}  # fmt: skip
_NOT_A_STATUS = (bool, float, np.bool_, np.floating)
_EXPECTED = ", ".join(map(repr, STATUS_NAMES))


def status_code(status: object, *, what: str = "status") -> int:
    """The code ``0..6`` of ``status`` (an :class:`EventStatus`, its name or its code).

    Parameters
    ----------
    status:
        The status to look up.
    what:
        How the message names the argument, e.g. ``"to_status"``.

    Raises
    ------
    ValueError
        An unknown name or code; the message lists the valid names.
    TypeError
        Anything that is not a string or an integer.

    Examples
    --------
    >>> status_code("failed"), status_code(EventStatus.SKIPPED), status_code(6)
    (3, 4, 6)
    >>> status_code("done")
    Traceback (most recent call last):
    ...
    ValueError: `status` must be one of 'pending', 'processing', 'completed', 'failed', 'skipped', 'cancelled', 'aborted' (or an EventStatus, or a code 0..6), got 'done'
    """  # noqa: E501
    if status.__class__ is EventStatus:  # fast paths: count() and one-id changes are ~1 µs in all
        return status._code
    if status.__class__ is str:
        code = _CODES.get(status)
        if code is not None:
            return code
    try:
        code = _CODES[status]
    except (KeyError, TypeError):
        code = None
    if code is None or isinstance(status, _NOT_A_STATUS):
        if isinstance(status, (str, int, np.integer)) and not isinstance(status, _NOT_A_STATUS):
            msg = f"`{what}` must be one of {_EXPECTED} (or an EventStatus, or a code 0..6), got {status!r}"
            raise ValueError(msg)
        msg = f"`{what}` must be an EventStatus or one of {_EXPECTED}, got {status!r} of type {type(status).__name__}"
        raise TypeError(msg)
    return code


def as_status(status: object, *, what: str = "status") -> EventStatus:
    """``status`` as an :class:`EventStatus` member (see :func:`status_code` for what is accepted).

    Examples
    --------
    >>> as_status("cancelled")
    <EventStatus.CANCELLED: 'cancelled'>
    """
    return _BY_CODE[status_code(status, what=what)]


def status_codes(statuses: object, *, what: str = "statuses") -> list[int]:
    """Codes of one status or of an iterable of statuses, in order, without repeats.

    Examples
    --------
    >>> status_codes("failed"), status_codes(["failed", EventStatus.PENDING, 3])
    ([3], [3, 0])
    """
    if isinstance(statuses, (str, EventStatus, int, np.integer)):
        return [status_code(statuses, what=what)]
    if not isinstance(statuses, Iterable):
        msg = f"`{what}` must be a status or an iterable of statuses, got {statuses!r}"
        raise TypeError(msg)
    codes: list[int] = []
    for s in statuses:
        c = status_code(s, what=what)
        if c not in codes:
            codes.append(c)
    return codes


def status_name_array() -> Any:
    """The status names as an Arrow string array, in code order (a dictionary for status codes).

    Built from buffers: ``pa.array`` would import pandas (~0.25 s) the first time it runs.

    Examples
    --------
    >>> status_name_array().to_pylist()[:3]
    ['pending', 'processing', 'completed']
    """
    import pyarrow as pa

    data = "".join(STATUS_NAMES).encode()
    offsets = np.cumsum([0, *(len(n.encode()) for n in STATUS_NAMES)], dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), N_STATUSES, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
