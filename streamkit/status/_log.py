"""The optional transition log of a status index: (id, from, to, timestamp) per change, as Arrow."""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa

from streamkit.status.codes import status_name_array

__all__ = ("TransitionLog", "LOG_SCHEMA")

_STATUS = pa.dictionary(pa.uint8(), pa.string())
#: Schema of :meth:`StatusIndex.transition_log`; ``from`` is null for an id's ``add``.
LOG_SCHEMA = pa.schema(
    [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("from", _STATUS),
        pa.field("to", _STATUS, nullable=False),
        pa.field("timestamp", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
_NAMES = status_name_array()
_NO_STATUS = 255


class TransitionLog:
    """Batches of changes, kept as numpy arrays until :meth:`table` is asked for.

    Changes of one id at a time gather in a flat Python list (id, from, to,
    timestamp, ...) that becomes one batch when a batch follows or the table
    is read, so the order of changes is kept.
    """

    __slots__ = ("_ones", "_parts")

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, np.ndarray | int, np.ndarray | int, np.ndarray | int]] = []
        self._ones: list[int] = []

    def record(self, ids: np.ndarray, frm: np.ndarray | int, to: np.ndarray | int) -> None:
        """Log that ``ids`` went from ``frm`` (255: added) to ``to`` now; arrays are copied."""
        if ids.shape[0]:
            self._flush()
            self._parts.append((
                ids.copy(),
                frm.copy() if isinstance(frm, np.ndarray) else frm,
                to.copy() if isinstance(to, np.ndarray) else to,
                time.time_ns() // 1000,
            ))  # fmt: skip

    def record_one(self, key: int, frm: int, to: int) -> None:
        """Log that id ``key`` went from ``frm`` (255: added) to ``to`` now."""
        self._ones += (key, frm, to, time.time_ns() // 1000)

    def _flush(self) -> None:
        if self._ones:
            rows = np.array(self._ones, np.int64).reshape(-1, 4)
            self._parts.append((rows[:, 0].copy(), rows[:, 1].astype(np.uint8), rows[:, 2].astype(np.uint8),
                                rows[:, 3].copy()))  # fmt: skip
            self._ones = []

    def table(self) -> pa.Table:
        """Every logged change, oldest first."""
        self._flush()
        if not self._parts:
            return pa.Table.from_batches([], LOG_SCHEMA)  # not Schema.empty_table: that imports pandas
        ids = np.concatenate([p[0] for p in self._parts])
        frm = np.concatenate([np.broadcast_to(np.asarray(p[1], np.uint8), p[0].shape) for p in self._parts])
        to = np.concatenate([np.broadcast_to(np.asarray(p[2], np.uint8), p[0].shape) for p in self._parts])
        ts = np.concatenate([np.broadcast_to(np.asarray(p[3], np.int64), p[0].shape) for p in self._parts])
        added = frm == _NO_STATUS
        columns = [
            pa.array(ids),
            pa.DictionaryArray.from_arrays(pa.array(frm, pa.uint8(), mask=added), _NAMES),
            pa.DictionaryArray.from_arrays(pa.array(to, pa.uint8()), _NAMES),
            pa.array(ts, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        ]
        return pa.Table.from_arrays(columns, schema=LOG_SCHEMA)

    def __len__(self) -> int:
        return sum(p[0].shape[0] for p in self._parts) + len(self._ones) // 4
