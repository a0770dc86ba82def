""":class:`StatusIndex`: the status of every id, counts per status in O(1), ids per status in O(k)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np

from kernels import status as K
from streamkit.status._adding import AddMethods
from streamkit.status._errors_for import transition_error, unknown_ids_error
from streamkit.status._ids import as_ids, is_scalar_id
from streamkit.status._log import TransitionLog
from streamkit.status._store import EMPTY_I64, EMPTY_U8, IdList, Store
from streamkit.status._snapshot import SnapshotMethods
from streamkit.status._tagging import TagMethods
from streamkit.status._tags import TagSet
from streamkit.status.codes import N_STATUSES, STATUS_NAMES, EventStatus, StatusLike, status_code, status_codes
from streamkit.status.errors import StatusIndexError

__all__ = ("StatusIndex", "DEFAULT_KEEP_IDS")

#: Statuses whose ids are kept by default: all but ``completed``, which in a
#: stream is nearly every record (its ids are "all ids but the others"), so
#: 100M records cost 1 byte each instead of 9.
DEFAULT_KEEP_IDS = frozenset(EventStatus) - {EventStatus.COMPLETED}

#: Compact a status's id list only once it has this many stale entries (and more stale than live).
COMPACT_MIN = 1024
_MEMBERS = tuple(EventStatus)
_DEFAULT_KEEP_CODES = sorted(int(s) for s in DEFAULT_KEEP_IDS)


class StatusIndex(AddMethods, TagMethods, SnapshotMethods):
    """The status of every id (one byte each), the count per status, and the ids per status.

    Every id is in exactly one status at a time. Ids are non-negative int64: row
    positions of a stream (dense, stored in a status column indexed by id) or
    arbitrary ids such as job ids (sparse, stored in a hash table). Each kept
    status also has the list of its ids, so :meth:`ids` costs O(k) for k ids in
    the answer; a transition marks the old entries stale, and a list is
    compacted when asked for or once it is more stale than live. Counts are
    always exact. All methods are thread-safe (one lock; the kernels release
    the GIL).

    Parameters
    ----------
    keep_ids:
        Statuses whose id lists are kept (one or several), or ``"all"``. The default keeps all
        but ``completed``: in a stream of 100M records almost all complete, and
        a kept id costs 8 bytes in its list on top of its 1-byte status. The
        status of any id, kept or not, is always known (:meth:`status_of`).
    log_transitions:
        Record every add and change (id, from, to, timestamp) for
        :meth:`transition_log`. Off by default, and then free.

    Examples
    --------
    >>> index = StatusIndex()
    >>> index.add(range(5))
    >>> index.transition([1, 3], "failed")
    >>> index.count("failed"), index.ids("failed"), index.status_of(3)
    (2, array([1, 3]), <EventStatus.FAILED: 'failed'>)
    >>> index.counts()
    {'pending': 3, 'processing': 0, 'completed': 0, 'failed': 2, 'skipped': 0, 'cancelled': 0, 'aborted': 0}
    """

    def __init__(
        self,
        *,
        keep_ids: Iterable[StatusLike] | Literal["all"] = DEFAULT_KEEP_IDS,
        log_transitions: bool = False,
    ) -> None:
        if keep_ids is DEFAULT_KEEP_IDS:
            codes: Iterable[int] = _DEFAULT_KEEP_CODES
        else:
            every = isinstance(keep_ids, str) and keep_ids == "all"
            codes = range(N_STATUSES) if every else status_codes(keep_ids, what="keep_ids")
        self._keep = np.zeros(256, np.bool_)
        self._keep[list(codes)] = True
        self._lists = [IdList() if self._keep[c] else None for c in range(N_STATUSES)]
        self._counts = np.zeros(N_STATUSES, np.int64)
        self._count_list = [0] * N_STATUSES  # the counts as Python ints: count() reads one
        self._cleaned = np.zeros(N_STATUSES, np.int64)
        self._store = Store()
        self._tags: dict[str, TagSet] = {}
        self._log = TransitionLog() if log_transitions else None
        self._lock = threading.Lock()
        self._old = EMPTY_U8  # scratch: previous status per id of a transition
        self._scratch = np.zeros(256, np.int64)

    # ------------------------------------------------------------------ changing

    def transition(self, ids: Any, to_status: StatusLike, *, from_status: StatusLike | None = None) -> None:
        """Move ``ids`` to ``to_status`` (ids already there stay; a repeated id moves once).

        Parameters
        ----------
        ids:
            Ids in the index (one, a list, a range, a numpy or pyarrow array).
        to_status:
            Their new status.
        from_status:
            If given, every id must be in this status now (else nothing changes).

        Raises
        ------
        UnknownIdError
            Ids not in the index; nothing changes.
        StatusMismatchError
            With ``from_status``: ids in another status; nothing changes.

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add(range(4))
        >>> index.transition([0, 1], "processing", from_status="pending")
        >>> index.transition([1, 2], "completed", from_status="processing")
        Traceback (most recent call last):
        ...
        streamkit.status.errors.StatusMismatchError: ids not in status 'processing': 2 (in 'pending')
        """
        to = status_code(to_status, what="to_status")
        frm = -1 if from_status is None else status_code(from_status, what="from_status")
        arr = as_ids(ids)
        m = arr.shape[0]
        if m == 0:
            return
        with self._lock:
            lst = self._lists[to]
            if lst is not None:
                lst.reserve(m)
            if self._old.shape[0] < m:
                self._old = np.empty(m, np.uint8)
            old = self._old[:m]
            counts = self._scratch
            counts[:] = 0
            bad, n_buf = K.transition(arr, to, frm, *self._store.args(), counts, old,
                                      EMPTY_I64 if lst is None else lst.buf,
                                      0 if lst is None else lst.n)  # fmt: skip
            if bad >= 0:
                raise transition_error(self, arr, frm)
            moved = counts[:N_STATUSES].copy()
            self._counts -= moved
            self._counts[to] += moved.sum()
            self._count_list = self._counts.tolist()
            if lst is not None:
                lst.n = n_buf
            if self._log is not None:
                changed = old != to
                self._log.record(arr[changed], old[changed], to)
            for c in np.flatnonzero(moved).tolist() + [to]:
                self._maybe_compact(c)

    def cleanup(self, statuses: StatusLike | Iterable[StatusLike]) -> int:
        """Drop every id in ``statuses`` (and its tags); return how many were dropped.

        Dropped ids leave :meth:`counts` and ``len()`` and are added to
        :meth:`cleaned_counts`, so ``sum(counts) + sum(cleaned_counts)`` is every
        id ever added. A dropped id is unknown afterwards and may be added
        again. Costs O(k) when every cleaned status keeps its ids, else one scan
        of the status column.

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add(range(6), "completed")
        >>> index.transition([4], "failed")
        >>> index.cleanup("completed"), len(index), index.cleaned_counts()["completed"]
        (5, 1, 5)
        """
        codes = status_codes(statuses, what="statuses")
        with self._lock:
            store = self._store
            live = [c for c in codes if self._counts[c]]
            dropped = int(sum(self._counts[c] for c in live))
            if live and all(self._lists[c] is not None for c in live):
                for c in live:
                    lst = self._lists[c]
                    _, hashed = K.drop_listed(lst.buf, lst.n, c, *store.args())
                    store.hash.removed(hashed)
            elif live:
                mask = np.zeros(256, np.bool_)
                mask[live] = True
                counts = np.zeros(256, np.int64)
                K.drop_dense(store.st, mask, counts)
                store.hash.drop(mask)
            store.n_ids -= dropped
            for c in codes:
                self._cleaned[c] += self._counts[c]
                self._counts[c] = 0
                if self._lists[c] is not None:
                    self._lists[c].clear()
            self._count_list = self._counts.tolist()
            if dropped:
                store.trim()
                for tag in self._tags.values():
                    tag.purge(store)
            return dropped

    def _maybe_compact(self, code: int) -> None:
        lst = self._lists[code]
        if lst is None:
            return
        live = int(self._counts[code])
        if live == 0:
            lst.n = 0
            lst.shrink()
        elif lst.n - live > max(live, COMPACT_MIN):
            self._compact(code)

    def _compact(self, code: int) -> None:
        lst = self._lists[code]
        lst.n = K.compact_list(lst.buf, lst.n, code, *self._store.args())
        lst.shrink()

    # ------------------------------------------------------------------ queries

    def count(self, status: StatusLike) -> int:
        """How many ids are in ``status`` now, in O(1).

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add(range(3), "skipped")
        >>> index.count(EventStatus.SKIPPED), index.count("failed")
        (3, 0)
        """
        return self._count_list[status_code(status)]

    def counts(self) -> dict[str, int]:
        """Ids per status, every status named (``{'pending': 3, ...}``), in O(number of statuses).

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add([7, 8], "aborted")
        >>> index.counts()["aborted"]
        2
        """
        with self._lock:
            return dict(zip(STATUS_NAMES, self._counts.tolist()))

    status_counts = counts

    def cleaned_counts(self) -> dict[str, int]:
        """Ids dropped by :meth:`cleanup`, per status they were in.

        Examples
        --------
        >>> StatusIndex().cleaned_counts()["failed"]
        0
        """
        with self._lock:
            return dict(zip(STATUS_NAMES, self._cleaned.tolist()))

    @property
    def total(self) -> int:
        """How many ids are in the index (``len(index)``), in O(1).

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add_range(0, 10)
        >>> index.total, len(index)
        (10, 10)
        """
        return self._store.n_ids

    def __len__(self) -> int:
        return self._store.n_ids

    @property
    def keep_ids(self) -> frozenset[EventStatus]:
        """The statuses whose ids :meth:`ids` can list.

        Examples
        --------
        >>> sorted(StatusIndex(keep_ids=["failed", "skipped"]).keep_ids)
        [<EventStatus.FAILED: 'failed'>, <EventStatus.SKIPPED: 'skipped'>]
        """
        return frozenset(_MEMBERS[c] for c in range(N_STATUSES) if self._lists[c] is not None)

    def ids(self, status: StatusLike) -> np.ndarray:
        """The ids in ``status``, in the order they (last) entered it, as a new int64 array; O(k).

        Raises
        ------
        StatusIndexError
            ``status`` is not one whose ids are kept (see ``keep_ids``).

        Examples
        --------
        >>> index = StatusIndex(keep_ids="all")
        >>> index.add([5, 3, 9])
        >>> index.transition([9, 5], "completed")
        >>> index.ids("completed"), index.ids("pending")
        (array([9, 5]), array([3]))
        """
        code = status_code(status)
        lst = self._lists[code]
        if lst is None:
            kept = ", ".join(repr(STATUS_NAMES[c]) for c in range(N_STATUSES) if self._lists[c] is not None)
            msg = (f"ids of status {STATUS_NAMES[code]!r} are not kept (kept: {kept or 'none'})"
                   f"\n\nkeep them with StatusIndex(keep_ids=...), e.g. keep_ids='all'")  # fmt: skip
            raise StatusIndexError(msg)
        with self._lock:
            if lst.n != self._counts[code]:
                self._compact(code)
            return lst.buf[: lst.n].copy()

    def status_of(self, ids: Any) -> EventStatus | np.ndarray:
        """The status of one id (an :class:`EventStatus`) or of many (uint8 codes), O(1) per id.

        Raises
        ------
        UnknownIdError
            An id is not in the index.

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add([4, 6], "failed")
        >>> index.status_of(4), index.status_of([6, 4])
        (<EventStatus.FAILED: 'failed'>, array([3, 3], dtype=uint8))
        """
        arr = as_ids(ids)
        with self._lock:
            codes, n_absent = self._store.lookup(arr)
        if n_absent:
            raise unknown_ids_error(arr[codes == K.ABSENT])
        return _MEMBERS[codes[0]] if is_scalar_id(ids) else codes

    def contains(self, ids: Any) -> np.ndarray:
        """Whether each id is in the index (a bool array), O(1) per id.

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add([1, 2])
        >>> index.contains([0, 1, 2]), 2 in index
        (array([False,  True,  True]), True)
        """
        arr = as_ids(ids)
        with self._lock:
            codes, _ = self._store.lookup(arr)
        return codes != K.ABSENT

    def __contains__(self, item: object) -> bool:
        return is_scalar_id(item) and bool(self.contains(item)[0])

    @property
    def nbytes(self) -> int:
        """Bytes held by the index (status column, hash table, id lists and tags), capacity included.

        A dense id costs 1 byte, plus 8 while its status keeps ids, plus the
        slack of arrays that grow by an eighth.

        Examples
        --------
        >>> index = StatusIndex(keep_ids="all")
        >>> index.add_range(0, 100_000, "failed")
        >>> round(index.nbytes / 100_000, 2)
        9.0
        """
        lists = sum(lst.buf.nbytes for lst in self._lists if lst is not None)
        return self._store.nbytes + lists + sum(t.nbytes for t in self._tags.values())

    def transition_log(self) -> Any:
        """Every add and change so far as an Arrow table ``id, from, to, timestamp`` (``from`` null: added).

        Raises
        ------
        StatusIndexError
            The index was made without ``log_transitions=True``.

        Examples
        --------
        >>> index = StatusIndex(log_transitions=True)
        >>> index.add([1, 2])
        >>> index.transition([2], "failed")
        >>> index.transition_log().select(["id", "from", "to"]).to_pylist()[-1]
        {'id': 2, 'from': 'pending', 'to': 'failed'}
        """
        if self._log is None:
            msg = "this index keeps no transition log\n\nmake it with StatusIndex(log_transitions=True)"
            raise StatusIndexError(msg)
        with self._lock:
            return self._log.table()

    def __reduce__(self) -> Any:
        msg = "a StatusIndex is not pickled\n\nsave it with `to_ipc()` and load it with `StatusIndex.from_ipc(data)`"
        raise TypeError(msg)

    def __repr__(self) -> str:
        parts = [f"{n}={c}" for n, c in zip(STATUS_NAMES, self._counts.tolist()) if c]
        return f"StatusIndex(total={self.total}{''.join(', ' + p for p in parts)})"
