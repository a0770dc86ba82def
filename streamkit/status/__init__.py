"""Columnar status indices: each id's status in one byte, counts in O(1), ids per status in O(k).

:class:`StatusIndex` tracks records of a stream (row ids) or jobs (any
non-negative int64 ids) through the :class:`EventStatus` values, with named
tags for M:N views, snapshots to Arrow IPC and dicts, and an optional
transition log. Statuses whose ids are not kept are listed by a scan. The
numba kernels it runs on are in ``kernels/status.py``; ``index.py`` says which
private module holds which part of its state.

Examples
--------
>>> from streamkit.status import EventStatus, StatusIndex
>>> index = StatusIndex()
>>> index.add_chunk(range(6), [2, 2, 3, 2, 0, 2])
>>> index.count(EventStatus.COMPLETED), index.ids("failed")
(4, array([2]))
"""

from streamkit.status.codes import EventStatus as EventStatus
from streamkit.status.codes import StatusLike as StatusLike
from streamkit.status.errors import DuplicateIdError as DuplicateIdError
from streamkit.status.errors import StatusIndexError as StatusIndexError
from streamkit.status.errors import StatusMismatchError as StatusMismatchError
from streamkit.status.errors import UnknownIdError as UnknownIdError
from streamkit.status.errors import UnknownTagError as UnknownTagError
from streamkit.status.index import DEFAULT_KEEP_IDS as DEFAULT_KEEP_IDS
from streamkit.status.index import StatusIndex as StatusIndex

__all__ = (
    "EventStatus",
    "StatusLike",
    "StatusIndex",
    "DEFAULT_KEEP_IDS",
    "StatusIndexError",
    "DuplicateIdError",
    "UnknownIdError",
    "StatusMismatchError",
    "UnknownTagError",
)
