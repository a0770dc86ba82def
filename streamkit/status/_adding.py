"""Adding ids to a :class:`~streamkit.status.StatusIndex`: one status for all, or a status column.

A chunk of a stream is consecutive row ids with a uint8 status column;
:meth:`AddMethods.add_chunk` with a ``range`` copies and counts the column in one
kernel pass (``kernels.status.add_range_codes``) and groups the kept
statuses' ids with a counting sort, without building an id array.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from kernels import status as K
from streamkit.status._errors_for import add_error
from streamkit.status._ids import as_codes, as_ids, is_scalar_id
from streamkit.status._store import EMPTY_I64, EMPTY_U8, IdList, Store
from streamkit.status.codes import N_STATUSES, EventStatus, StatusLike, status_code

__all__ = ("AddMethods",)


class AddMethods:
    """The adding methods of :class:`~streamkit.status.StatusIndex`."""

    _lock: threading.Lock
    _store: Store
    _lists: list[IdList | None]
    _counts: np.ndarray
    _count_list: list[int]
    _keep: np.ndarray
    _scratch: np.ndarray
    _log: Any

    def add(self, ids: Any, status: StatusLike = EventStatus.PENDING) -> None:
        """Add new ids, all in ``status``.

        Parameters
        ----------
        ids:
            Non-negative integers: one, a list, a ``range``, a numpy or pyarrow array.
        status:
            Their status, ``pending`` by default.

        Raises
        ------
        DuplicateIdError
            An id is already in the index, or repeated in ``ids``; nothing is added.
        ValueError
            A negative id.

        Examples
        --------
        >>> from streamkit.status import StatusIndex
        >>> index = StatusIndex()
        >>> index.add([10, 11, 12], "processing")
        >>> index.add(11)
        Traceback (most recent call last):
        ...
        streamkit.status.errors.DuplicateIdError: ids already in the index: 11; change their status with `transition`
        """
        code = status_code(status)
        if isinstance(ids, range) and ids.step == 1:
            self.add_range(ids.start, ids.stop, code)
            return
        arr = as_ids(ids)
        with self._lock:
            self._add(arr, EMPTY_U8, code)

    def add_range(self, start: int, stop: int, status: StatusLike = EventStatus.PENDING) -> None:
        """Add the consecutive ids ``start .. stop - 1``, all in ``status`` (no id array is built).

        Examples
        --------
        >>> from streamkit.status import StatusIndex
        >>> index = StatusIndex()
        >>> index.add_range(0, 1000)
        >>> len(index), index.count("pending")
        (1000, 1000)
        """
        code = status_code(status)
        start, stop = _range_bounds(start, stop)
        m = stop - start
        if m <= 0:
            return
        with self._lock:
            store = self._store
            store.prepare_add(None, start, stop - 1, m)
            off = start - store.base
            if off < 0 or off + m > store.st.shape[0]:
                self._add(np.arange(start, stop, dtype=np.int64), EMPTY_U8, code)
                return
            seg = store.st[off : off + m]
            if K.first_present(seg) < m:
                raise add_error(self, np.arange(start, stop, dtype=np.int64), EMPTY_U8)
            seg.fill(code)
            counts = np.zeros(N_STATUSES, np.int64)
            counts[code] = m
            self._added(None, start, m, EMPTY_U8, code, counts)

    def add_chunk(self, ids: Any, statuses: Any) -> None:
        """Add new ids, each with its own status: a chunk's status column (uint8 codes, names, Arrow).

        ``ids`` given as a ``range`` (consecutive row positions) take the fast
        path: the codes are copied into the status column and counted in one
        pass, and the kept statuses' ids grouped by a counting sort.

        Examples
        --------
        >>> from streamkit.status import StatusIndex
        >>> index = StatusIndex()
        >>> import numpy as np
        >>> index.add_chunk(range(100, 104), np.array([2, 3, 2, 0], np.uint8))
        >>> index.counts()["completed"], index.ids("failed"), index.ids("pending")
        (2, array([101]), array([103]))
        """
        if isinstance(ids, range) and ids.step == 1:
            start, stop = _range_bounds(ids.start, ids.stop)
            codes = as_codes(statuses, max(stop - start, 0))
            if stop > start:
                with self._lock:
                    self._add_range_codes(start, stop, codes)
            return
        arr = as_ids(ids)
        codes = as_codes(statuses, arr.shape[0])
        with self._lock:
            self._add(arr, codes, 0)

    def _add_range_codes(self, start: int, stop: int, codes: np.ndarray) -> None:
        store = self._store
        m = stop - start
        store.prepare_add(None, start, stop - 1, m)
        off = start - store.base
        if off < 0 or off + m > store.st.shape[0]:
            self._add(np.arange(start, stop, dtype=np.int64), codes, 0)
            return
        dst = store.st[off : off + m]
        counts = np.zeros(N_STATUSES, np.int64)
        if K.add_range_codes(dst, codes, N_STATUSES, counts) >= 0:
            raise add_error(self, np.arange(start, stop, dtype=np.int64), codes)
        dst[:] = codes
        self._added(None, start, m, codes, 0, counts)

    def _add(self, arr: np.ndarray, codes: np.ndarray, code: int) -> None:
        # ids in any order, one code for all (codes empty) or one each; under the lock
        m = arr.shape[0]
        if m == 0:
            return
        lo, hi = arr.min(), arr.max()
        if lo < 0:
            at = int(np.argmax(arr < 0))
            msg = f"ids must be non-negative, got {int(arr[at])} at position {at}"
            raise ValueError(msg)
        store = self._store
        store.prepare_add(arr, int(lo), int(hi), m)
        counts = self._scratch
        counts[:] = 0
        bad, n_hashed = K.add_ids(arr, codes, code, N_STATUSES, store.base, store.st,
                                  store.hash.keys, store.hash.vals, counts)  # fmt: skip
        store.hash.n_used += n_hashed  # on failure too: the slots hold tombstones then
        if bad >= 0:
            raise add_error(self, arr, codes)
        store.hash.n_live += n_hashed
        self._added(arr, 0, m, codes, code, counts[:N_STATUSES].copy())

    def _added(self, arr: np.ndarray | None, start: int, m: int, codes: np.ndarray, code: int,
               counts: np.ndarray) -> None:  # fmt: skip
        # bookkeeping after ids (arr, or start .. start + m - 1) were written: counts, lists, log
        self._counts += counts
        self._count_list = self._counts.tolist()
        self._store.n_ids += m
        kept = [c for c in range(N_STATUSES) if counts[c] and self._lists[c] is not None]
        if len(kept) == 1 and not codes.shape[0]:
            self._lists[kept[0]].append(arr if arr is not None else np.arange(start, start + m))
        elif kept:
            self._group_into_lists(arr, start, codes, counts, kept)
        if self._log is not None:
            ids = arr if arr is not None else np.arange(start, start + m)
            self._log.record(ids, 255, codes if codes.shape[0] else code)

    def _group_into_lists(self, arr: np.ndarray | None, start: int, codes: np.ndarray,
                          counts: np.ndarray, kept: list[int]) -> None:  # fmt: skip
        # counting sort of the chunk's ids by code, straight into the list when one status is kept
        ids = EMPTY_I64 if arr is None else arr
        starts = np.zeros(256, np.int64)
        if len(kept) == 1:
            lst = self._lists[kept[0]]
            lst.reserve(int(counts[kept[0]]))
            starts[kept[0]] = lst.n
            K.group_by_code(ids, start, codes, self._keep, starts, lst.buf)
            lst.n = int(starts[kept[0]])
            return
        sizes = np.where(self._keep[:N_STATUSES], counts, 0)
        starts[1 : N_STATUSES + 1] = np.cumsum(sizes)
        out = np.empty(int(sizes.sum()), np.int64)
        K.group_by_code(ids, start, codes, self._keep, starts, out)
        for c in kept:
            self._lists[c].append(out[starts[c] - sizes[c] : starts[c]])


def _range_bounds(start: Any, stop: Any) -> tuple[int, int]:
    if not (is_scalar_id(start) and is_scalar_id(stop)):
        msg = f"`start` and `stop` must be integers, got {start!r} and {stop!r}"
        raise TypeError(msg)
    if start < 0:
        msg = f"ids must be non-negative, got `start` {int(start)}"
        raise ValueError(msg)
    return int(start), int(stop)
