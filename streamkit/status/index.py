""":class:`StatusIndex`: the status of every id, counts per status in O(1), ids per status in O(k).

The index is one class whose state lives in four collaborators, each owning
its data and invariants, all guarded by the index's one lock:

- :class:`~streamkit.status._store.Store`: id -> status byte (column + hash table);
- :class:`~streamkit.status._lists.StatusLists`: counts, kept id lists, cleaned tally;
- :class:`~streamkit.status._tags.Tags`: the named tags;
- :class:`~streamkit.status._log.TransitionLog`: the optional log.

Snapshots are encoded and decoded by ``_snapshot.py`` from and to a
:class:`~streamkit.status._snapshot.Snapshot` of the index's state.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any, Literal, NoReturn

import numpy as np
import pyarrow as pa

from kernels import status as K
from streamkit.status._errors_for import add_error, transition_error, unknown_ids_error
from streamkit.status._ids import as_codes, as_ids, is_scalar_id
from streamkit.status._lists import StatusLists
from streamkit.status._log import TransitionLog
from streamkit.status._snapshot import Snapshot, decode_dict, decode_ipc, encode_dict, encode_ipc
from streamkit.status._store import EMPTY_U8, Store
from streamkit.status._tags import Tags, check_tag_name
from streamkit.status.codes import N_STATUSES, STATUS_NAMES, EventStatus, StatusLike, status_code, status_codes
from streamkit.status.errors import StatusIndexError

__all__ = ("StatusIndex", "DEFAULT_KEEP_IDS")

#: Statuses whose ids are kept by default: all but ``completed``, which in a
#: stream is nearly every record (its ids are "all ids but the others"), so
#: 100M records cost 1 byte each instead of 9.
DEFAULT_KEEP_IDS = frozenset(EventStatus) - {EventStatus.COMPLETED}

_MEMBERS = tuple(EventStatus)
_DEFAULT_KEEP_CODES = sorted(int(s) for s in DEFAULT_KEEP_IDS)
_MAX_ID = (1 << 63) - 1
_ADDED = 255  # the log's "from" of an added id
_ABSENT = K.ABSENT


def _one_id(ids: Any) -> int:
    # ``ids`` as one id for the one-id paths, else -1: not one integer, or out of range (the batch path says why)
    if ids.__class__ is not int:
        if not isinstance(ids, np.integer):
            return -1
        ids = int(ids)
    return ids if 0 <= ids <= _MAX_ID else -1


class StatusIndex:
    """The status of every id (one byte each), the count per status, and the ids per status.

    Every id is in exactly one status at a time. Ids are non-negative int64: row
    positions of a stream (dense, stored in a status column indexed by id) or
    arbitrary ids such as job ids (sparse, stored in a hash table). Each kept
    status also has the list of its ids, so :meth:`ids` costs O(k) for k ids in
    the answer; a transition marks the old entries stale, and a list is
    compacted when asked for or once it is more stale than live. The ids of a
    status that is not kept are found by a scan. Counts are always exact. One
    id at a time (an int) takes a path without arrays or kernels, ~1 µs. All
    methods are thread-safe (one lock; the kernels release the GIL).

    Parameters
    ----------
    keep_ids:
        Statuses whose id lists are kept (one or several), or ``"all"``. The default keeps all
        but ``completed``: in a stream of 100M records almost all complete, and
        a kept id costs 8 bytes in its list on top of its 1-byte status. Every
        query answers for every status; a status that is not kept costs a scan
        in :meth:`ids`.
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
        self._store = Store()
        self._lists = StatusLists(codes)
        self._tags = Tags()
        self._log = TransitionLog() if log_transitions else None
        self._lock = threading.Lock()
        self._old = EMPTY_U8  # scratch of transition(): each id's previous status

    # ------------------------------------------------------------------ adding

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
        >>> index = StatusIndex()
        >>> index.add([10, 11, 12], "processing")
        >>> index.add(11)
        Traceback (most recent call last):
        ...
        streamkit.status.errors.DuplicateIdError: ids already in the index: 11; change their status with `transition`
        """
        code = status_code(status)
        key = ids if ids.__class__ is int and 0 <= ids <= _MAX_ID else _one_id(ids)
        if key >= 0:
            with self._lock:
                if not self._store.add_one(key, code):
                    self._refuse_add(np.array([key], np.int64), EMPTY_U8)
                self._lists.enter_one(key, code)
                if self._log is not None:
                    self._log.record_one(key, _ADDED, code)
            return
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
        >>> index = StatusIndex()
        >>> index.add_range(0, 1000)
        >>> len(index), index.count("pending")
        (1000, 1000)
        """
        code = status_code(status)
        start, stop = _range_bounds(start, stop)
        if stop > start:
            with self._lock:
                self._add_run(start, stop - start, EMPTY_U8, code)

    def add_chunk(self, ids: Any, statuses: Any) -> None:
        """Add new ids, each with its own status: a chunk's status column (uint8 codes, names, Arrow).

        ``ids`` given as a ``range`` (consecutive row positions) take the fast
        path: the codes are copied into the status column and counted in one
        pass, and the kept statuses' ids grouped by a counting sort.

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add_chunk(range(100, 104), np.array([2, 3, 2, 0], np.uint8))
        >>> index.counts()["completed"], index.ids("failed"), index.ids("pending")
        (2, array([101]), array([103]))
        """
        if isinstance(ids, range) and ids.step == 1:
            start, stop = _range_bounds(ids.start, ids.stop)
            codes = as_codes(statuses, max(stop - start, 0))
            if stop > start:
                with self._lock:
                    self._add_run(start, stop - start, codes, 0)
            return
        arr = as_ids(ids)
        codes = as_codes(statuses, arr.shape[0])
        with self._lock:
            self._add(arr, codes, 0)

    def _add(self, arr: np.ndarray, codes: np.ndarray, code: int) -> None:
        # ids in any order, one code for all (codes empty) or one each; under the lock
        if not arr.shape[0]:
            return
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0:
            at = int(np.argmax(arr < 0))
            msg = f"ids must be non-negative, got {int(arr[at])} at position {at}"
            raise ValueError(msg)
        counts = np.zeros(N_STATUSES, np.int64)
        if self._store.add(arr, lo, hi, codes, code, counts) >= 0:
            self._refuse_add(arr, codes)
        self._added(arr, 0, arr.shape[0], codes, code, counts)

    def _add_run(self, start: int, m: int, codes: np.ndarray, code: int) -> None:
        # the ids start .. start + m - 1; under the lock
        counts = np.zeros(N_STATUSES, np.int64)
        if self._store.add_run(start, m, codes, code, counts) >= 0:
            self._refuse_add(np.arange(start, start + m, dtype=np.int64), codes)
        self._added(None, start, m, codes, code, counts)

    def _added(self, arr: np.ndarray | None, start: int, m: int, codes: np.ndarray, code: int,
               counts: np.ndarray) -> None:  # fmt: skip
        self._lists.added(arr, start, m, codes, code, counts)
        if self._log is not None:
            ids = arr if arr is not None else np.arange(start, start + m, dtype=np.int64)
            self._log.record(ids, _ADDED, codes if codes.shape[0] else code)

    def _refuse_add(self, arr: np.ndarray, codes: np.ndarray) -> NoReturn:
        raise add_error(arr, codes, self._store.lookup(arr)[0])

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
        key = ids if ids.__class__ is int and 0 <= ids <= _MAX_ID else _one_id(ids)
        if key >= 0:
            with self._lock:
                old = self._store.move_one(key, to, frm)
                if old == _ABSENT or (frm >= 0 and old != frm):
                    arr = np.array([key], np.int64)
                    raise transition_error(arr, frm, self._store.lookup(arr)[0])
                if old != to:
                    self._lists.move_one(key, old, to, self._store)
                    if self._log is not None:
                        self._log.record_one(key, old, to)
            return
        arr = as_ids(ids)
        m = arr.shape[0]
        if m == 0:
            return
        with self._lock:
            buf, n_buf = self._lists.target(to, m)
            if self._old.shape[0] < m:
                self._old = np.empty(m, np.uint8)
            old_codes = self._old[:m]
            counts = np.zeros(N_STATUSES, np.int64)
            bad, n_buf = self._store.transition(arr, to, frm, counts, old_codes, buf, n_buf)
            if bad >= 0:
                raise transition_error(arr, frm, self._store.lookup(arr)[0])
            self._lists.moved(counts, to, n_buf, self._store)
            if self._log is not None:
                changed = old_codes != to
                self._log.record(arr[changed], old_codes[changed], to)

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
            dropped = self._lists.cleanup(codes, self._store)
            if dropped:
                self._store.trim()
                self._tags.purge(self._store)
            return dropped

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
        return self._lists.counts[status_code(status)]

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
            return dict(zip(STATUS_NAMES, self._lists.counts))

    status_counts = counts

    def cleaned_counts(self) -> dict[str, int]:
        """Ids dropped by :meth:`cleanup`, per status they were in.

        Examples
        --------
        >>> StatusIndex().cleaned_counts()["failed"]
        0
        """
        with self._lock:
            return dict(zip(STATUS_NAMES, self._lists.cleaned))

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
        """The statuses whose id lists are kept: :meth:`ids` answers for them in O(k), for others by a scan.

        Examples
        --------
        >>> sorted(StatusIndex(keep_ids=["failed", "skipped"]).keep_ids)
        [<EventStatus.FAILED: 'failed'>, <EventStatus.SKIPPED: 'skipped'>]
        """
        return frozenset(_MEMBERS[c] for c in self._lists.kept())

    def ids(self, status: StatusLike) -> np.ndarray:
        """The ids in ``status``, as a new int64 array.

        For a status in :attr:`keep_ids` this costs O(k) for k ids, in the order
        they (last) entered it. For any other status (by default
        ``completed``) it is one scan of the status column and the hash table,
        O(n) in the ids held (~0.3 ns each when few are in ``status``,
        ~2 ns when most are), and the ids come in ascending order.

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add([5, 3, 9])
        >>> index.transition([9, 5], "completed")
        >>> index.ids("pending"), index.ids("completed")
        (array([3]), array([5, 9]))
        >>> index = StatusIndex(keep_ids="all")
        >>> index.add([5, 3, 9])
        >>> index.transition([9, 5], "completed")
        >>> index.ids("completed")
        array([9, 5])
        """
        code = status_code(status)
        with self._lock:
            return self._lists.ids(code, self._store)

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
        key = _one_id(ids)
        if key >= 0:
            with self._lock:
                b = self._store.get_one(key)
            if b == _ABSENT:
                raise unknown_ids_error(np.array([key], np.int64))
            return _MEMBERS[b]
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
        key = _one_id(item)
        if key >= 0:
            with self._lock:
                return self._store.get_one(key) != _ABSENT
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
        return self._store.nbytes + self._lists.nbytes + self._tags.nbytes

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

    # ------------------------------------------------------------------ tags

    def tag(self, ids: Any, name: str) -> None:
        """Give ``ids`` the tag ``name`` (created on first use); tagging twice changes nothing.

        Tags are M:N views (an id may carry many); they do not follow statuses,
        and :meth:`cleanup` untags the ids it drops.

        Raises
        ------
        UnknownIdError
            An id is not in the index; nothing is tagged.

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add(range(5))
        >>> index.tag([3, 1], "high_priority")
        >>> index.tag([1, 2], "team_a")
        >>> index.tagged("high_priority"), index.tag_count("team_a"), index.tags()
        (array([3, 1]), 2, ['high_priority', 'team_a'])
        """
        name = check_tag_name(name)
        arr = as_ids(ids)
        with self._lock:
            self._require_present(arr)
            self._tags.get_or_create(name).add(arr)

    def untag(self, ids: Any, name: str) -> None:
        """Take the tag ``name`` off ``ids`` (ids without it are skipped).

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add(range(3))
        >>> index.tag([0, 1, 2], "retry")
        >>> index.untag([1], "retry")
        >>> index.tagged("retry")
        array([0, 2])
        """
        arr = as_ids(ids)
        with self._lock:
            tags = self._tags.get(name)
            self._require_present(arr)
            tags.remove(arr)

    def tagged(self, name: str) -> np.ndarray:
        """The ids carrying tag ``name``, in the order they were (last) tagged, as a new array; O(k).

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add([10, 20])
        >>> index.tag([20, 10], "team_a")
        >>> index.tagged("team_a")
        array([20, 10])
        """
        with self._lock:
            return self._tags.get(name).ids()

    def tag_count(self, name: str) -> int:
        """How many ids carry tag ``name``, in O(1).

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add(range(4))
        >>> index.tag(range(4), "api_calls")
        >>> index.tag_count("api_calls")
        4
        """
        with self._lock:
            return len(self._tags.get(name))

    def tags(self) -> list[str]:
        """The tag names, in the order they were created.

        Examples
        --------
        >>> StatusIndex().tags()
        []
        """
        with self._lock:
            return self._tags.names()

    def has_tag(self, ids: Any, name: str) -> bool | np.ndarray:
        """Whether one id (a bool) or each of many (a bool array) carries tag ``name``; O(1) per id.

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add(range(3))
        >>> index.tag([2], "urgent")
        >>> index.has_tag(2, "urgent"), index.has_tag([0, 2], "urgent")
        (True, array([False,  True]))
        """
        arr = as_ids(ids)
        with self._lock:
            out = self._tags.get(name).contains(arr)
        return bool(out[0]) if is_scalar_id(ids) else out

    def drop_tag(self, name: str) -> None:
        """Forget tag ``name`` and all its memberships.

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add([1])
        >>> index.tag([1], "tmp")
        >>> index.drop_tag("tmp")
        >>> index.tags()
        []
        """
        with self._lock:
            self._tags.drop(name)

    def _require_present(self, arr: np.ndarray) -> None:
        codes, n_absent = self._store.lookup(arr)
        if n_absent:
            raise unknown_ids_error(arr[codes == K.ABSENT])

    # ------------------------------------------------------------------ snapshots

    def to_ipc(self) -> bytes:
        """The whole index (statuses, cleaned tally, tags) as an Arrow IPC stream (layout: ``_snapshot.py``).

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add(range(4))
        >>> index.transition([2], "failed")
        >>> index.tag([2], "retry")
        >>> copy = StatusIndex.from_ipc(index.to_ipc())
        >>> copy.ids("failed"), copy.tagged("retry"), copy.count("pending")
        (array([2]), array([2]), 3)
        """
        with self._lock:
            snap = self._snapshot()
        return encode_ipc(snap)

    @classmethod
    def from_ipc(cls, data: bytes | bytearray | memoryview | pa.Buffer) -> StatusIndex:
        """Rebuild an index from :meth:`to_ipc`'s bytes (exactly: ids, order, counts, tags, tally).

        Raises
        ------
        StatusIndexError
            ``data`` is not an Arrow IPC stream written by :meth:`to_ipc`.

        Examples
        --------
        >>> StatusIndex.from_ipc(b"not arrow")
        Traceback (most recent call last):
        ...
        streamkit.status.errors.StatusIndexError: not a status index snapshot: expected an Arrow IPC stream, got 9 bytes that are not one
        """  # noqa: E501
        return cls._restore(decode_ipc(data))

    def to_dict(self) -> dict[str, Any]:
        """The whole index as plain Python (lists of ints), for JSON audit; see :meth:`from_dict`.

        Examples
        --------
        >>> import json
        >>> index = StatusIndex()
        >>> index.add([7, 8], "failed")
        >>> d = index.to_dict()
        >>> d["statuses"]["failed"], d["cleaned"]["failed"]
        ([7, 8], 0)
        >>> StatusIndex.from_dict(json.loads(json.dumps(d))).to_dict() == d
        True
        """
        with self._lock:
            snap = self._snapshot()
        return encode_dict(snap)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StatusIndex:
        """Rebuild an index from :meth:`to_dict`'s output (or the same loaded back from JSON).

        Raises
        ------
        StatusIndexError
            ``data`` is not such a dict; the message says where.

        Examples
        --------
        >>> StatusIndex.from_dict({"format": "streamkit.status_index", "version": 1})
        Traceback (most recent call last):
        ...
        streamkit.status.errors.StatusIndexError: invalid status index dict: `statuses` must be a mapping of status name to list of ids, got None
        """  # noqa: E501
        return cls._restore(decode_dict(data))

    def _snapshot(self) -> Snapshot:
        # under the lock: each status's ids as ids() gives them, grouped in code order
        groups = [self._lists.ids(c, self._store) for c in range(N_STATUSES)]
        sizes = [g.shape[0] for g in groups]
        return Snapshot(
            keep_ids=[STATUS_NAMES[c] for c in self._lists.kept()],
            log_transitions=self._log is not None,
            cleaned=dict(enumerate(self._lists.cleaned)),
            ids=np.concatenate(groups),
            codes=np.repeat(np.arange(N_STATUSES, dtype=np.uint8), sizes),
            tags=self._tags.ordered_ids(),
        )

    @classmethod
    def _restore(cls, snap: Snapshot) -> StatusIndex:
        # replay a snapshot through the public methods; the replayed adds are not history
        index = cls(keep_ids=snap.keep_ids, log_transitions=snap.log_transitions)  # type: ignore[arg-type]
        index.add_chunk(snap.ids, snap.codes)
        for c, n in snap.cleaned.items():
            index._lists.cleaned[c] = n
        for name, tagged in snap.tags.items():
            index.tag(tagged, name)
        if index._log is not None:
            index._log = TransitionLog()
        return index

    def __reduce__(self) -> Any:
        msg = "a StatusIndex is not pickled\n\nsave it with `to_ipc()` and load it with `StatusIndex.from_ipc(data)`"
        raise TypeError(msg)

    def __repr__(self) -> str:
        parts = [f"{n}={c}" for n, c in zip(STATUS_NAMES, self._lists.counts) if c]
        return f"StatusIndex(total={self.total}{''.join(', ' + p for p in parts)})"


def _range_bounds(start: Any, stop: Any) -> tuple[int, int]:
    if not (is_scalar_id(start) and is_scalar_id(stop)):
        msg = f"`start` and `stop` must be integers, got {start!r} and {stop!r}"
        raise TypeError(msg)
    if start < 0:
        msg = f"ids must be non-negative, got `start` {int(start)}"
        raise ValueError(msg)
    return int(start), int(stop)
