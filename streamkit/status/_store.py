"""Storage behind :class:`~streamkit.status.StatusIndex`: the id -> status byte map and growable id lists.

Ids from a stream are row positions, dense from some start, so the map is a
**status column** indexed by ``id - base`` (one byte per id, ``ABSENT`` where
there is none). Ids far from the column (job ids, outliers) go to an
open-addressing **hash table** of int64 keys and uint8 statuses. The column
grows (by half at least) to cover new ids while at least a quarter of its
range is used, and drops a leading run of dropped ids, so an unbounded stream
that cleans up what it has finished keeps a column only as wide as the ids it
still holds.
"""

from __future__ import annotations

import numpy as np

from kernels import status as K

__all__ = ("IdList", "HashTable", "Store", "EMPTY_U8", "EMPTY_I64")

EMPTY_U8 = np.empty(0, np.uint8)
EMPTY_I64 = np.empty(0, np.int64)

#: Smallest column; also the slack a sparse batch may add to it.
MIN_COLUMN = 1 << 12
#: The column may span at most this many ids per id it holds.
MAX_SPREAD = 4
#: Rebuild a hash table when live + deleted slots pass this share of its capacity.
MAX_LOAD = 0.7


class IdList:
    """A growable int64 array: ``buf[:n]`` are the ids, in the order they were appended."""

    __slots__ = ("buf", "n")

    def __init__(self) -> None:
        self.buf = EMPTY_I64
        self.n = 0

    def reserve(self, m: int) -> None:
        """Make room for ``m`` more ids (capacity grows by half at least)."""
        need = self.n + m
        if need > self.buf.shape[0]:
            new = np.empty(max(need, self.buf.shape[0] * 3 // 2, 1024), np.int64)
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
        """Give back memory when less than a quarter of the capacity is used."""
        if self.buf.shape[0] > 4 * max(self.n, 1024):
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

    __slots__ = ("base", "st", "hash", "n_ids")

    def __init__(self) -> None:
        self.base = 0
        self.st = EMPTY_U8
        self.hash = HashTable()
        self.n_ids = 0  # ids held, column and hash table

    def args(self) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, int]:
        """``(base, st, keys, vals, n_hash)``, the storage arguments of the kernels."""
        h = self.hash
        return self.base, self.st, h.keys, h.vals, h.n_live

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """Status byte of each id (``ABSENT`` for ids not held)."""
        out = np.empty(ids.shape[0], np.uint8)
        K.lookup(ids, *self.args(), out)
        return out

    def prepare_add(self, ids: np.ndarray | None, lo: int, hi: int, m: int) -> None:
        """Make room for ``m`` new ids between ``lo`` and ``hi`` (``ids`` may be None for a range).

        Grows the column over them when that keeps it dense enough, and makes
        room in the hash table for the ones that stay outside.
        """
        end = self.base + self.st.shape[0]
        if self.st.shape[0] and lo >= self.base and hi < end:
            return
        self._cover(lo, hi, m)
        base, end = self.base, self.base + self.st.shape[0]
        if lo < base or hi >= end:
            outside = m if ids is None else int(np.count_nonzero((ids < base) | (ids >= end)))
            self.hash.reserve(outside)

    def _cover(self, lo: int, hi: int, m: int) -> None:
        # widen the column over [lo, hi] (or only upwards over an outlier below it) if dense enough
        n_column = self.n_ids - self.hash.n_live + m
        size = self.st.shape[0]
        budget = MAX_SPREAD * n_column + MIN_COLUMN
        if size == 0:
            options = [(lo, hi + 1)]
        else:
            end = self.base + size
            options = [(min(lo, self.base), max(hi + 1, end)), (self.base, max(hi + 1, end))]
        for new_lo, new_hi in options:
            if new_hi - new_lo <= budget and (new_lo, new_hi - new_lo) != (self.base, size):
                grown = max(new_hi - new_lo, size + size // 2, MIN_COLUMN)
                self._move(new_lo, grown)
                return

    def _move(self, new_base: int, size: int) -> None:
        # a new column over new_base .. new_base + size - 1, keeping every byte of the old one
        st = np.full(size, K.ABSENT, np.uint8)
        if self.st.shape[0]:
            at = self.base - new_base
            st[at : at + self.st.shape[0]] = self.st
        self.base, self.st = new_base, st
        self._migrate()

    def _migrate(self) -> None:
        if self.hash.n_live:
            self.hash.removed(K.migrate(self.hash.keys, self.hash.vals, self.base, self.st))

    def trim(self) -> None:
        """Slide the column past a leading run of dropped ids that fills half of it or more."""
        size = self.st.shape[0]
        first = K.first_present(self.st)
        if size == 0 or first < max(size // 2, MIN_COLUMN):
            return
        self.st[: size - first] = self.st[first:]
        self.st[size - first :] = K.ABSENT
        self.base += first
        self._migrate()

    @property
    def nbytes(self) -> int:
        """Bytes held by the column and the hash table."""
        return self.st.nbytes + self.hash.nbytes
