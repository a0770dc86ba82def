"""Per status of a :class:`~streamkit.status.StatusIndex`: its count, its id list when kept, its cleaned tally.

A kept status appends each id that enters it to its :class:`IdList`. An id
that leaves (or re-enters) leaves a *stale* entry behind; a list is compacted
(``kernels.status.compact_list``) when asked for or once it is more stale than
live, so listing costs O(k) for k ids. A status whose ids are not kept is
listed by a scan of the :class:`~streamkit.status._store.Store` instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np

from kernels import status as K
from streamkit.status._store import EMPTY_I64, Store
from streamkit.status.codes import N_STATUSES, EventStatus, StatusLike, status_codes

__all__ = ("IdList", "StatusLists", "DEFAULT_KEEP_IDS", "COMPACT_MIN", "KEEP_CAPACITY")

#: Statuses whose ids are kept by default: all but ``completed``, which in a
#: stream is nearly every record (its ids are "all ids but the others"), so
#: 100M records cost 1 byte each instead of 9.
DEFAULT_KEEP_IDS = frozenset(EventStatus) - {EventStatus.COMPLETED}
_DEFAULT_KEEP_CODES = sorted(int(s) for s in DEFAULT_KEEP_IDS)

#: Compact a status's id list only once it has this many stale entries (and more stale than live).
COMPACT_MIN = 1024
#: An id list keeps up to this capacity however empty it gets (2 MiB).
KEEP_CAPACITY = 1 << 18


class IdList:
    """A growable int64 array: ``buf[:n]`` are the ids, in the order they were appended."""

    __slots__ = ("buf", "n")

    def __init__(self) -> None:
        self.buf = EMPTY_I64
        self.n = 0

    def reserve(self, m: int) -> None:
        """Make room for ``m`` more ids (capacity grows by an eighth at least).

        Growth reallocates in place (the kernel remaps the pages, nothing is
        copied), so a small growth factor is cheap and leaves little slack.
        """
        need = self.n + m
        if need > self.buf.shape[0]:
            size = max(need, self.buf.shape[0] * 9 // 8, 1024)
            if self.buf.base is None and self.buf.shape[0]:
                self.buf.resize(size, refcheck=False)  # no view of a list outlives a call holding the lock
            else:
                new = np.empty(size, np.int64)
                new[: self.n] = self.buf[: self.n]
                self.buf = new

    def append(self, ids: np.ndarray) -> None:
        """Append ``ids`` (copied)."""
        self.reserve(ids.shape[0])
        self.buf[self.n : self.n + ids.shape[0]] = ids
        self.n += ids.shape[0]

    def clear(self) -> None:
        """Forget every id and give back the memory."""
        self.buf = EMPTY_I64
        self.n = 0

    def shrink(self) -> None:
        """Give back memory when less than a quarter of the capacity is used.

        Capacities up to ``KEEP_CAPACITY`` ids are kept: a list that fills and
        drains every chunk (``pending``) would otherwise be reallocated, and its
        fresh pages faulted in, for every chunk.
        """
        if self.buf.shape[0] > max(4 * self.n, KEEP_CAPACITY):
            self.buf = self.buf[: max(2 * self.n, 1024)].copy()


class StatusLists:
    """Counts of every status (exact, O(1)), the id lists of the kept ones, and how many were cleaned up.

    ``counts`` and ``cleaned`` are Python lists indexed by code; ``lists[c]``
    is None for a status whose ids are not kept. The caller holds the lock
    and passes the :class:`~streamkit.status._store.Store` where a list is
    checked against it.
    """

    __slots__ = ("cleaned", "counts", "keep", "lists")

    def __init__(self, keep_ids: Iterable[StatusLike] | Literal["all"]) -> None:
        if keep_ids is DEFAULT_KEEP_IDS:
            kept: Iterable[int] = _DEFAULT_KEEP_CODES
        elif isinstance(keep_ids, str) and keep_ids == "all":
            kept = range(N_STATUSES)
        else:
            kept = status_codes(keep_ids, what="keep_ids")
        self.keep = np.zeros(256, np.bool_)  # by byte, for the grouping kernel
        self.keep[list(kept)] = True
        self.lists = [IdList() if self.keep[c] else None for c in range(N_STATUSES)]
        self.counts = [0] * N_STATUSES
        self.cleaned = [0] * N_STATUSES

    def kept(self) -> list[int]:
        """Codes of the statuses whose ids are kept, in order."""
        return [c for c in range(N_STATUSES) if self.lists[c] is not None]

    # ------------------------------------------------------------------ one id

    def enter_one(self, key: int, code: int) -> None:
        """A new id ``key`` is in ``code``."""
        self.counts[code] += 1
        lst = self.lists[code]
        if lst is not None:  # append, inline (a call costs ~10% of a one-id change)
            n = lst.n
            if n == len(lst.buf):
                lst.reserve(1)
            lst.buf[n] = key
            lst.n = n + 1

    def move_one(self, key: int, old: int, to: int, store: Store) -> None:
        """``key`` went from ``old`` to ``to`` (``old != to``)."""
        counts = self.counts
        counts[old] -= 1
        counts[to] += 1
        lists = self.lists
        lst = lists[to]
        if lst is not None:  # append, inline (a call costs ~10% of a one-id change)
            n = lst.n
            if n == len(lst.buf):
                lst.reserve(1)
            lst.buf[n] = key
            lst.n = n + 1
        lst = lists[old]
        if lst is not None:  # _maybe_compact's test, inline
            live = counts[old]
            stale = lst.n - live
            if live == 0 or (stale > live and stale > COMPACT_MIN):
                self._maybe_compact(old, store)

    # ------------------------------------------------------------------ batches

    def added(self, ids: np.ndarray | None, start: int, m: int, codes: np.ndarray, code: int,
              counts: np.ndarray) -> None:  # fmt: skip
        """New ids (``ids``, or ``start .. start + m - 1``) came in with ``codes`` (or ``code``), ``counts`` by code."""
        new = counts.tolist()
        self.counts = [a + b for a, b in zip(self.counts, new)]
        kept = [c for c in range(N_STATUSES) if new[c] and self.lists[c] is not None]
        if len(kept) == 1 and not codes.shape[0]:
            self.lists[kept[0]].append(ids if ids is not None else np.arange(start, start + m))  # type: ignore[union-attr]
        elif kept:
            self._group(EMPTY_I64 if ids is None else ids, start, codes, new, kept)

    def _group(self, ids: np.ndarray, start: int, codes: np.ndarray, counts: list[int], kept: list[int]) -> None:
        # counting sort of the chunk's ids by code, straight into the list when one status is kept
        starts = np.zeros(256, np.int64)
        if len(kept) == 1:
            lst = self.lists[kept[0]]
            assert lst is not None
            lst.reserve(counts[kept[0]])
            starts[kept[0]] = lst.n
            K.group_by_code(ids, start, codes, self.keep, starts, lst.buf)
            lst.n = int(starts[kept[0]])
            return
        sizes = np.where(self.keep[:N_STATUSES], counts, 0)
        starts[1 : N_STATUSES + 1] = np.cumsum(sizes)
        out = np.empty(int(sizes.sum()), np.int64)
        K.group_by_code(ids, start, codes, self.keep, starts, out)
        for c in kept:
            self.lists[c].append(out[starts[c] - sizes[c] : starts[c]])  # type: ignore[union-attr]

    def target(self, to: int, m: int) -> tuple[np.ndarray, int]:
        """Where a transition of ``m`` ids to ``to`` appends the ones that change: ``(buf, n)``, empty if not kept."""
        lst = self.lists[to]
        if lst is None:
            return EMPTY_I64, 0
        lst.reserve(m)
        return lst.buf, lst.n

    def moved(self, moved: np.ndarray, to: int, n_buf: int, store: Store) -> None:
        """A transition to ``to`` found ``moved[c]`` ids in ``c`` and appended up to ``n_buf`` in ``to``'s list."""
        found = moved[:N_STATUSES].tolist()
        counts = self.counts
        for c in range(N_STATUSES):
            if found[c] and c != to:
                counts[c] -= found[c]  # each count is written once: count() reads them without the lock
        counts[to] += sum(found) - found[to]
        lst = self.lists[to]
        if lst is not None:
            lst.n = n_buf
        for c in range(N_STATUSES):
            if (found[c] or c == to) and self.lists[c] is not None:
                self._maybe_compact(c, store)

    def _maybe_compact(self, code: int, store: Store) -> None:
        lst = self.lists[code]
        assert lst is not None
        live = self.counts[code]
        if live == 0:
            lst.n = 0
            lst.shrink()
        elif lst.n - live > max(live, COMPACT_MIN):
            lst.n = store.compact(lst.buf, lst.n, code)
            lst.shrink()

    # ------------------------------------------------------------------ queries and cleanup

    def ids(self, code: int, store: Store) -> np.ndarray:
        """The ids in ``code`` as a new array: a kept list (compacted first), else a scan of ``store``."""
        lst = self.lists[code]
        if lst is None:
            return store.select(code, self.counts[code])
        if lst.n != self.counts[code]:
            lst.n = store.compact(lst.buf, lst.n, code)
            lst.shrink()
        return lst.buf[: lst.n].copy()

    def remove(self, ids: np.ndarray, codes: np.ndarray, store: Store) -> None:
        """Drop ``ids`` (unique, all held; ``codes[i]`` is the status of ``ids[i]``) from ``store``, tally them."""
        for c in np.unique(codes).tolist():
            sel = ids[codes == c]
            store.drop_listed(sel, sel.shape[0], c)
            self.counts[c] -= sel.shape[0]
            self.cleaned[c] += sel.shape[0]
            if self.lists[c] is not None:  # their entries are stale now
                self._maybe_compact(c, store)

    def cleanup(self, codes: list[int], store: Store) -> int:
        """Drop every id in ``codes`` from ``store`` and the lists, tally them; return how many."""
        live = [c for c in codes if self.counts[c]]
        dropped = sum(self.counts[c] for c in live)
        if live and all(self.lists[c] is not None for c in live):
            for c in live:
                lst = self.lists[c]
                assert lst is not None
                store.drop_listed(lst.buf, lst.n, c)
        elif live:
            store.drop_codes(live)
        for c in codes:
            self.cleaned[c] += self.counts[c]
            self.counts[c] = 0
            lst = self.lists[c]
            if lst is not None:
                lst.clear()
        return dropped

    @property
    def nbytes(self) -> int:
        """Bytes held by the id lists, capacity included."""
        return sum(lst.buf.nbytes for lst in self.lists if lst is not None)
