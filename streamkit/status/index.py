""":class:`StatusIndex`: the status of every id, counts per status in O(1), ids per status in O(k).

One class whose state lives in collaborators, each owning its data and
invariants, all under the index's one lock: the
:class:`~streamkit.status._store.Store` (id -> status byte), the
:class:`~streamkit.status._lists.StatusLists` (counts, kept id lists, cleaned
tally), the :class:`~streamkit.status._tags.Tags` and the optional
:class:`~streamkit.status._log.TransitionLog`. ``_snapshot.py`` encodes and
decodes a :class:`~streamkit.status._snapshot.Snapshot` of that state.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, NoReturn, overload

import numpy as np
import pyarrow as pa

from kernels import status as K
from streamkit.display.views import index_html
from streamkit.status._errors_for import add_error, transition_error, unknown_ids_error
from streamkit.status._ids import MAX_ID, as_codes, as_ids, is_scalar_id, one_id, range_bounds
from streamkit.status._lists import DEFAULT_KEEP_IDS, StatusLists
from streamkit.status._log import TransitionLog
from streamkit.status._snapshot import Snapshot, decode_dict, decode_ipc, encode_dict, encode_ipc, take
from streamkit.status._store import EMPTY_U8, Store
from streamkit.status._tags import Tags, check_tag_name
from streamkit.status.codes import N_STATUSES, STATUS_NAMES, EventStatus, StatusLike, status_code, status_codes
from streamkit.status.errors import StatusIndexError

__all__ = ("StatusIndex", "DEFAULT_KEEP_IDS")

_MEMBERS = tuple(EventStatus)
_ADDED = 255  # the log's "from" of an added id
_ABSENT = K.ABSENT


class StatusIndex:
    """The status of every id (one byte each), the count per status, and the ids per status.

    Every id is in exactly one status at a time. Ids are non-negative int64: row
    positions of a stream (dense, in a status column indexed by id) or any ids,
    such as job ids (sparse, in a hash table). Counts are always exact; a kept
    status lists its ids in O(k), any other by a scan. One id given as an int
    takes a path without arrays or kernels (~1.5 µs to add or move one). All
    methods are thread-safe (one lock; the kernels release the GIL).

    Parameters
    ----------
    keep_ids:
        Statuses whose id lists are kept (one or several), or ``"all"``. The default keeps all
        but ``completed``: in a stream of 100M records almost all complete, and
        a kept id costs 8 bytes in its list on top of its 1-byte status. Every
        query answers for every status; one not kept costs a scan in :meth:`ids`.
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

    def __init__(self, *, keep_ids: Iterable[StatusLike] | Literal["all"] = DEFAULT_KEEP_IDS,
                 log_transitions: bool = False) -> None:  # fmt: skip
        self._lists = StatusLists(keep_ids)
        self._store = Store()
        self._tags = Tags()
        self._log = TransitionLog() if log_transitions else None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ adding and changing

    def add(self, ids: Any, status: StatusLike = EventStatus.PENDING) -> None:
        """Add new ids (one, a list, a ``range``, a numpy or Arrow array of non-negative ints), all in ``status``.

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
        key = ids if ids.__class__ is int and 0 <= ids <= MAX_ID else one_id(ids)
        if key >= 0:
            with self._lock:
                if not self._store.add_one(key, code):
                    self._refuse_add(np.array([key], np.int64), EMPTY_U8)
                self._lists.enter_one(key, code)
                if self._log is not None:
                    self._log.record_one(key, _ADDED, code)
        elif isinstance(ids, range) and ids.step == 1:
            self.add_range(ids.start, ids.stop, code)
        else:
            arr = as_ids(ids)
            with self._lock:
                self._add(arr, EMPTY_U8, code)

    def add_range(self, start: int, stop: int, status: StatusLike = EventStatus.PENDING) -> None:
        """Add the consecutive ids ``start .. stop - 1``, all in ``status`` (no id array is built).

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add_range(0, 1000)
        >>> len(index), index.total, index.count("pending")
        (1000, 1000, 1000)
        """
        code = status_code(status)
        start, stop = range_bounds(start, stop)
        if stop > start:
            with self._lock:
                self._add(None, EMPTY_U8, code, start, stop - start)

    def reserve(self, start: int, stop: int) -> None:
        """Make room for the ids ``start .. stop - 1`` before they are added in pieces (one allocation).

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.reserve(0, 1_000)
        >>> index.add_chunk(range(0, 500), np.full(500, 2, np.uint8)); len(index)
        500
        """
        start, stop = range_bounds(start, stop)
        if stop > start:
            with self._lock:
                self._store.reserve(start, stop - 1)

    def add_chunk(self, ids: Any, statuses: Any) -> None:
        """Add new ids, each with its own status: a chunk's status column (uint8 codes, names, Arrow).

        With ``ids`` a ``range`` (row positions), the codes are copied into the
        status column and counted in one pass, with no id array.

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add_chunk(range(100, 104), np.array([2, 3, 2, 0], np.uint8))
        >>> index.counts()["completed"], index.ids("failed"), index.ids("pending")
        (2, array([101]), array([103]))
        """
        if isinstance(ids, range) and ids.step == 1:
            start, stop = range_bounds(ids.start, ids.stop)
            codes = as_codes(statuses, max(stop - start, 0))
            if stop > start:
                with self._lock:
                    self._add(None, codes, 0, start, stop - start)
            return
        arr = as_ids(ids)
        codes = as_codes(statuses, arr.shape[0])
        with self._lock:
            self._add(arr, codes, 0)

    def _add(self, arr: np.ndarray | None, codes: np.ndarray, code: int, start: int = 0, m: int = 0) -> None:
        # ids ``arr`` (any order) or ``start .. start + m - 1``, each with ``codes`` or all with ``code``; locked
        counts = np.zeros(N_STATUSES, np.int64)
        if arr is None:
            bad = self._store.add_run(start, m, codes, code, counts)
        elif m := arr.shape[0]:
            bad = self._store.add(arr, codes, code, counts)
        else:
            return
        if bad >= 0:
            self._refuse_add(np.arange(start, start + m, dtype=np.int64) if arr is None else arr, codes)
        self._lists.added(arr, start, m, codes, code, counts)
        if self._log is not None:
            ids = np.arange(start, start + m, dtype=np.int64) if arr is None else arr
            self._log.record(ids, _ADDED, codes if codes.shape[0] else code)

    def _refuse_add(self, arr: np.ndarray, codes: np.ndarray) -> NoReturn:
        raise add_error(arr, codes, self._store.lookup(arr)[0])

    def transition(self, ids: Any, to_status: StatusLike, *, from_status: StatusLike | None = None) -> None:
        """Move ``ids`` to ``to_status``, all from ``from_status`` if given (a repeated id moves once).

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
        key = ids if ids.__class__ is int and 0 <= ids <= MAX_ID else one_id(ids)
        if key >= 0:
            with self._lock:
                old = self._store.move_one(key, to, frm)
                if old == _ABSENT or (frm >= 0 and old != frm):
                    self._refuse_transition(np.array([key], np.int64), frm)
                if old != to:
                    self._lists.move_one(key, old, to, self._store)
                    if self._log is not None:
                        self._log.record_one(key, old, to)
            return
        arr = as_ids(ids)
        if not arr.shape[0]:
            return
        with self._lock:
            buf, n_buf = self._lists.target(to, arr.shape[0])
            bad, counts, old_codes, n_buf = self._store.transition(arr, to, frm, buf, n_buf)
            if bad >= 0:
                self._refuse_transition(arr, frm)
            self._lists.moved(counts, to, n_buf, self._store)
            if self._log is not None:
                changed = old_codes != to
                self._log.record(arr[changed], old_codes[changed], to)

    def _refuse_transition(self, arr: np.ndarray, frm: int) -> NoReturn:
        raise transition_error(arr, frm, self._store.lookup(arr)[0])

    def cleanup(self, statuses: StatusLike | Iterable[StatusLike]) -> int:
        """Drop every id in ``statuses`` (and its tags); return how many were dropped.

        Dropped ids are tallied in :meth:`cleaned_counts` (``sum(counts) +
        sum(cleaned_counts)`` is every id ever added), and may be added again.
        O(k) when every cleaned status keeps its ids, else one scan.

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

    def remove(self, ids: Any) -> None:
        """Drop ``ids`` whatever their status (and their tags), tallied in :meth:`cleaned_counts` as by cleanup.

        :class:`~streamkit.status.UnknownIdError` for ids not in the index, and nothing is dropped.

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add(range(4))
        >>> index.transition(2, "failed")
        >>> index.tag([1, 2, 3], "team_a")
        >>> index.remove([2, 1, 2])
        >>> len(index), index.count("failed"), index.ids("pending"), index.tagged("team_a")
        (2, 0, array([0, 3]), array([3]))
        """
        arr = np.unique(as_ids(ids))
        with self._lock:
            codes, n_absent = self._store.lookup(arr)
            if n_absent:
                raise unknown_ids_error(arr[codes == _ABSENT])
            if arr.shape[0]:
                self._lists.remove(arr, codes, self._store)
                self._store.trim()
                self._tags.remove_ids(arr)

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
        """Ids per status, every status named (example: :class:`StatusIndex`); :meth:`status_counts` is the same."""
        with self._lock:
            return dict(zip(STATUS_NAMES, self._lists.counts))

    status_counts = counts

    def cleaned_counts(self) -> dict[str, int]:
        """Ids dropped by :meth:`cleanup`, per status they were in (example: :meth:`cleanup`)."""
        with self._lock:
            return dict(zip(STATUS_NAMES, self._lists.cleaned))

    @property
    def total(self) -> int:
        """How many ids are in the index (``len(index)``), in O(1) (example: :meth:`add_range`)."""
        return self._store.n_ids

    def __len__(self) -> int:
        return self._store.n_ids

    @property
    def keep_ids(self) -> frozenset[EventStatus]:
        """The statuses whose id lists are kept: :meth:`ids` lists them in O(k), others by a scan.

        Examples
        --------
        >>> sorted(StatusIndex(keep_ids=["failed", "skipped"]).keep_ids)
        [<EventStatus.FAILED: 'failed'>, <EventStatus.SKIPPED: 'skipped'>]
        """
        return frozenset(_MEMBERS[c] for c in self._lists.kept())

    def ids(self, status: StatusLike) -> np.ndarray:
        """The ids in ``status``, as a new int64 array.

        A status in :attr:`keep_ids` answers in O(k) for k ids, in the order
        they (last) entered it. Any other (by default ``completed``) answers by
        a scan of the status column and the hash table, O(n) in the ids held
        (~0.1 ns per id when few are in ``status``, ~2 ns when most are), in
        ascending order.

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

    @overload
    def status_of(self, ids: int | np.integer) -> EventStatus: ...
    @overload
    def status_of(self, ids: np.ndarray | pa.Array | Sequence[int] | range) -> np.ndarray: ...
    def status_of(self, ids: Any) -> EventStatus | np.ndarray:
        """The status of one id (an :class:`EventStatus`) or of many (uint8 codes), O(1) per id.

        An id not in the index raises :class:`~streamkit.status.UnknownIdError`.

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add([4, 6], "failed")
        >>> index.status_of(4), index.status_of([6, 4]), index.contains([4, 5]), 6 in index
        (<EventStatus.FAILED: 'failed'>, array([3, 3], dtype=uint8), array([ True, False]), True)
        """
        key = one_id(ids)
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
            raise unknown_ids_error(arr[codes == _ABSENT])
        return _MEMBERS[codes[0]] if is_scalar_id(ids) else codes

    def contains(self, ids: Any) -> np.ndarray:
        """Whether each id is in the index (a bool array; ``id in index`` for one), O(1) per id."""
        arr = as_ids(ids)
        with self._lock:
            codes, _ = self._store.lookup(arr)
        return codes != _ABSENT

    def __contains__(self, item: object) -> bool:
        key = one_id(item)
        if key >= 0:
            with self._lock:
                return self._store.get_one(key) != _ABSENT
        return is_scalar_id(item) and bool(self.contains(item)[0])

    @property
    def nbytes(self) -> int:
        """Bytes held (status column, hash table, id lists, tags), capacity included: a dense id costs
        1 byte, plus 8 while its status keeps ids, plus the slack of arrays that grow by an eighth.

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

        :class:`~streamkit.status.StatusIndexError` if the index was made without ``log_transitions=True``.

        Examples
        --------
        >>> index = StatusIndex(log_transitions=True)
        >>> index.add([1, 2])
        >>> index.transition(2, "failed")
        >>> index.transition_log().select(["id", "from", "to"]).to_pylist()[-1]
        {'id': 2, 'from': 'pending', 'to': 'failed'}
        """
        if self._log is None:
            msg = "this index keeps no transition log\n\nmake it with StatusIndex(log_transitions=True)"
            raise StatusIndexError(msg)
        with self._lock:
            return self._log.table()

    # ------------------------------------------------------------------ tags: M:N views, not following statuses

    def tag(self, ids: Any, name: str) -> None:
        """Give ``ids`` the tag ``name`` (created on first use); tagging twice changes nothing.

        An id not in the index raises :class:`~streamkit.status.UnknownIdError`, and nothing is tagged.

        Examples
        --------
        >>> index = StatusIndex()
        >>> index.add(range(5))
        >>> index.tag([3, 1, 2], "high_priority")
        >>> index.tag([1, 2], "team_a")
        >>> index.untag([2], "high_priority")
        >>> index.tagged("high_priority"), index.tag_count("team_a"), index.has_tag([1, 4], "team_a")
        (array([3, 1]), 2, array([ True, False]))
        >>> index.drop_tag("team_a")
        >>> index.tags(), index.has_tag(3, "high_priority")
        (['high_priority'], True)
        """
        name = check_tag_name(name)
        arr = as_ids(ids)
        with self._lock:
            self._require_present(arr)
            self._tags.get_or_create(name).add(arr)

    def untag(self, ids: Any, name: str) -> None:
        """Take the tag ``name`` off ``ids`` (ids without it are skipped; example: :meth:`tag`)."""
        arr = as_ids(ids)
        with self._lock:
            tags = self._tags.get(name)
            self._require_present(arr)
            tags.remove(arr)

    def tagged(self, name: str) -> np.ndarray:
        """The ids carrying tag ``name``, in the order they were (last) tagged, as a new array; O(k)."""
        with self._lock:
            return self._tags.get(name).ids()

    def tag_count(self, name: str) -> int:
        """How many ids carry tag ``name``, in O(1) (example: :meth:`tag`)."""
        with self._lock:
            return len(self._tags.get(name))

    def tags(self) -> list[str]:
        """The tag names, in the order they were created (example: :meth:`tag`)."""
        with self._lock:
            return self._tags.names()

    def has_tag(self, ids: Any, name: str) -> bool | np.ndarray:
        """Whether one id (a bool) or each of many (a bool array) carries tag ``name``; O(1) per id."""
        arr = as_ids(ids)
        with self._lock:
            out = self._tags.get(name).contains(arr)
        return bool(out[0]) if is_scalar_id(ids) else out

    def drop_tag(self, name: str) -> None:
        """Forget tag ``name`` and all its memberships (example: :meth:`tag`)."""
        with self._lock:
            self._tags.drop(name)

    def _require_present(self, arr: np.ndarray) -> None:
        codes, n_absent = self._store.lookup(arr)
        if n_absent:
            raise unknown_ids_error(arr[codes == _ABSENT])

    # ------------------------------------------------------------------ snapshots (layout: _snapshot.py)

    def to_ipc(self) -> bytes:
        """The whole index (statuses, cleaned tally, tags) as an Arrow IPC stream.

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
            snap = take(self._store, self._lists, self._tags, log_transitions=self._log is not None)
        return encode_ipc(snap)

    @classmethod
    def from_ipc(cls, data: bytes | bytearray | memoryview | pa.Buffer) -> StatusIndex:
        """Rebuild an index from :meth:`to_ipc`'s bytes (exactly: ids, order, counts, tags, tally).

        :class:`~streamkit.status.StatusIndexError` if ``data`` is not a stream :meth:`to_ipc` wrote.

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
            snap = take(self._store, self._lists, self._tags, log_transitions=self._log is not None)
        return encode_dict(snap)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StatusIndex:
        """Rebuild an index from :meth:`to_dict`'s output (or the same loaded back from JSON).

        :class:`~streamkit.status.StatusIndexError` if ``data`` is not such a dict, saying where.

        Examples
        --------
        >>> StatusIndex.from_dict({"format": "streamkit.status_index", "version": 1})
        Traceback (most recent call last):
        ...
        streamkit.status.errors.StatusIndexError: invalid status index dict: `statuses` must be a mapping of status name to list of ids, got None
        """  # noqa: E501
        return cls._restore(decode_dict(data))

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

    def _repr_html_(self) -> str:
        return index_html(self)

    def __repr__(self) -> str:
        parts = [f"{n}={c}" for n, c in zip(STATUS_NAMES, self._lists.counts) if c]
        return f"StatusIndex(total={self.total}{''.join(', ' + p for p in parts)})"
