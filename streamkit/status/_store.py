"""Storage behind :class:`~streamkit.status.StatusIndex`: the id -> status byte map and growable id lists.

Ids from a stream are row positions, dense from some start, so the map is a
**status column** indexed by ``id - base`` (one byte per id, ``ABSENT`` where
there is none). Ids far from the column (job ids, outliers) go to an
open-addressing **hash table** of int64 keys and uint8 statuses. The column
grows (by an eighth at least, in place) to cover new ids while at least a quarter of its
range is used. It slides forward past ids that were dropped, moving the few
left behind (say failed records kept for a retry) to the hash table, so an
unbounded stream that cleans up what it has finished keeps a column only about
as wide as the ids it still holds.
"""

from __future__ import annotations

import numpy as np

from kernels import status as K

__all__ = ("IdList", "HashTable", "Store", "EMPTY_U8", "EMPTY_I64")

EMPTY_U8 = np.empty(0, np.uint8)
EMPTY_I64 = np.empty(0, np.int64)

#: Smallest column; also the slack a sparse batch may add to it.
MIN_COLUMN = 1 << 12
#: The column may span at most this many ids per id it holds: at 1/16 full it
#: costs 16 bytes per id, about what the hash table costs (9 bytes a slot at a
#: load of 1/4 to 1/2).
MAX_SPREAD = 16
#: An id list keeps up to this capacity however empty it gets (2 MiB).
KEEP_CAPACITY = 1 << 18
#: Rebuild a hash table when live + deleted slots pass this share of its capacity.
MAX_LOAD = 0.7


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


class HashTable:
    """Open addressing over int64 keys (ids) with a uint8 value each; ``n_live`` entries."""

    __slots__ = ("keys", "vals", "n_live", "n_used")

    def __init__(self, capacity: int = 16) -> None:
        self.keys = np.full(capacity, K.EMPTY, np.int64)
        self.vals = np.zeros(capacity, np.uint8)
        self.n_live = 0
        self.n_used = 0  # live + deleted slots (an upper bound: reused tombstones are not subtracted)

    def reserve(self, m: int) -> None:
        """Make room for ``m`` more keys, rebuilding at a load between a quarter and a half."""
        if self.n_used + m > MAX_LOAD * self.keys.shape[0]:
            self.rebuild(self.n_live + m)

    def rebuild(self, n: int) -> None:
        """Rehash the live entries into a table sized for ``n`` keys (drops the tombstones)."""
        cap = 16
        while cap < 2 * n:
            cap *= 2
        keys = np.full(cap, K.EMPTY, np.int64)
        vals = np.zeros(cap, np.uint8)
        K.hash_rehash(self.keys, self.vals, keys, vals)
        self.keys, self.vals, self.n_used = keys, vals, self.n_live

    def removed(self, n: int) -> None:
        """Account for ``n`` entries a kernel deleted; shrink a mostly empty table."""
        self.n_live -= n
        if self.keys.shape[0] > 64 and self.n_live < self.keys.shape[0] // 16:
            self.rebuild(self.n_live)

    def drop(self, mask: np.ndarray) -> None:
        """Delete the entries whose value ``v`` has ``mask[v]`` (256 entries)."""
        hit = (self.keys >= 0) & mask[self.vals]
        self.keys[hit] = K.TOMB
        self.removed(int(np.count_nonzero(hit)))

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """Live keys and values, in slot order."""
        live = self.keys >= 0
        return self.keys[live], self.vals[live]

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return self.keys.nbytes + self.vals.nbytes


class Store:
    """Status byte per id: the column ``st`` over ``base .. base + len(st) - 1``, the hash table elsewhere."""

    __slots__ = ("base", "st", "hash", "n_ids", "top")

    def __init__(self) -> None:
        self.base = 0
        self.st = EMPTY_U8
        self.hash = HashTable()
        self.n_ids = 0  # ids held, column and hash table
        self.top = 0  # 1 + the largest id ever added: the column never slides past it

    def args(self) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, int]:
        """``(base, st, keys, vals, n_hash)``, the storage arguments of the kernels."""
        h = self.hash
        return self.base, self.st, h.keys, h.vals, h.n_live

    def lookup(self, ids: np.ndarray) -> tuple[np.ndarray, int]:
        """Status byte of each id (``ABSENT`` for ids not held), and how many are not held."""
        out = np.empty(ids.shape[0], np.uint8)
        h = self.hash
        n_absent = K.lookup(ids, self.base, self.st, h.keys, h.vals, h.n_live, out)
        return out, n_absent

    def prepare_add(self, ids: np.ndarray | None, lo: int, hi: int, m: int) -> None:
        """Make room for ``m`` new ids between ``lo`` and ``hi`` (``ids`` may be None for a range).

        Grows the column over them when that keeps it dense enough, and makes
        room in the hash table for the ones that stay outside.
        """
        end = self.base + self.st.shape[0]
        self.top = max(self.top, hi + 1)
        if self.st.shape[0] and lo >= self.base and hi < end:
            return
        self._cover(lo, hi, m)
        base, end = self.base, self.base + self.st.shape[0]
        if lo < base or hi >= end:
            outside = m if ids is None else int(np.count_nonzero((ids < base) | (ids >= end)))
            self.hash.reserve(outside)

    def _cover(self, lo: int, hi: int, m: int) -> None:
        # widen the column over [lo, hi] if it stays dense enough; else slide it forward onto them,
        # moving the few ids it leaves behind to the hash table; else leave the new ids to the table
        size = self.st.shape[0]
        budget = MAX_SPREAD * (self.n_ids - self.hash.n_live + m) + MIN_COLUMN
        if size == 0:
            if hi + 1 - lo <= budget:
                self._relocate(lo, max(hi + 1 - lo, MIN_COLUMN))
            return
        end = self.base + size
        for new_lo in (min(lo, self.base), self.base):
            new_hi = max(hi + 1, end)
            if new_hi - new_lo <= budget:
                grown = max(new_hi - new_lo, size + size // 8, MIN_COLUMN)
                if new_lo < self.base:  # growing downwards (chunks out of order): the slack goes below
                    new_lo = max(0, new_hi - grown)
                self._relocate(new_lo, grown)
                return
        new_lo = max(hi + 1, end) - budget
        if self.base <= new_lo <= lo:
            self._relocate(new_lo, budget + budget // 2, max_evicted=m)

    def _relocate(self, new_base: int, size: int, max_evicted: int | None = None) -> bool:
        # the column over new_base .. new_base + size - 1: bytes of the old one inside it are copied,
        # ids outside it move to the hash table (if there are at most max_evicted), hash ids inside it move in
        old, old_base = self.st, self.base
        cut_lo = min(max(new_base - old_base, 0), old.shape[0])
        cut_hi = min(max(new_base + size - old_base, cut_lo), old.shape[0])
        if cut_lo > 0 or cut_hi < old.shape[0]:
            n_out = K.count_present(old[:cut_lo]) + K.count_present(old[cut_hi:])
            if max_evicted is not None and n_out > max_evicted:
                return False
            self.hash.reserve(n_out)
            n = K.evict(old[:cut_lo], old_base, self.hash.keys, self.hash.vals)
            n += K.evict(old[cut_hi:], old_base + cut_hi, self.hash.keys, self.hash.vals)
            self.hash.n_live += n
            self.hash.n_used += n
        if new_base == old_base and cut_hi == old.shape[0] and old.base is None and old.shape[0]:
            # growing upwards: realloc (the kernel moves the pages, no copy); the new tail is zeroed, then filled
            old.resize(size, refcheck=False)  # no view of the column outlives a call holding the lock
            old[cut_hi:] = K.ABSENT
            st = old
        else:
            st = np.empty(size, np.uint8)  # each byte written once: fresh pages cost ~0.4 ns/byte to fault in
            at = old_base + cut_lo - new_base
            st[:at] = K.ABSENT
            st[at : at + cut_hi - cut_lo] = old[cut_lo:cut_hi]
            st[at + cut_hi - cut_lo :] = K.ABSENT
        self.base, self.st = new_base, st
        if self.hash.n_live:
            self.hash.removed(K.migrate(self.hash.keys, self.hash.vals, self.base, self.st))
        return True

    def trim(self) -> None:
        """After ids were dropped: slide the column past a leading run of dropped ids, or of
        nearly only dropped ids (the few left move to the hash table), never past :attr:`top`."""
        size = self.st.shape[0]
        shift = min(size // 2, self.top - self.base)
        if shift < MIN_COLUMN:
            return
        first = min(K.first_present(self.st), self.top - self.base)
        if first >= shift:
            self.st[: size - first] = self.st[first:]
            self.st[size - first :] = K.ABSENT
            self.base += first
            if self.hash.n_live:
                self.hash.removed(K.migrate(self.hash.keys, self.hash.vals, self.base, self.st))
        elif MAX_SPREAD * (self.n_ids - self.hash.n_live) < size:
            self._relocate(self.base + shift, size, max_evicted=shift // (4 * MAX_SPREAD))

    @property
    def nbytes(self) -> int:
        """Bytes held by the column and the hash table."""
        return self.st.nbytes + self.hash.nbytes
