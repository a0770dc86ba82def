"""A named tag: a set of ids (hash table) plus the order they were tagged in (id list)."""

from __future__ import annotations

import numpy as np

from kernels import status as K
from streamkit.status._store import EMPTY_U8, HashTable, IdList, Store

__all__ = ("TagSet",)

#: Compact a tag's list only once it has this many stale entries (and more stale than live).
COMPACT_MIN = 1024


class TagSet:
    """The ids carrying one tag: O(1) membership, O(k) listing in tagging order."""

    __slots__ = ("table", "order")

    def __init__(self) -> None:
        self.table = HashTable()
        self.order = IdList()

    def __len__(self) -> int:
        return self.table.n_live

    def add(self, ids: np.ndarray) -> int:
        """Tag ``ids`` (already tagged ones and repeats are skipped); return how many were new."""
        self.table.reserve(ids.shape[0])
        self.order.reserve(ids.shape[0])
        n_before = self.order.n
        self.order.n, n_empty = K.set_add(self.table.keys, self.table.vals, ids, self.order.buf, self.order.n)
        added = self.order.n - n_before
        self.table.n_live += added
        self.table.n_used += n_empty
        return added

    def remove(self, ids: np.ndarray) -> int:
        """Untag ``ids`` (untagged ones are skipped); return how many were removed."""
        removed = K.set_remove(self.table.keys, ids, self.table.n_live)
        self.table.removed(removed)
        self._maybe_compact()
        return removed

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """Whether each id carries the tag (the lookup kernel over the table alone: members map to 1)."""
        out = np.empty(ids.shape[0], np.uint8)
        K.lookup(ids, 0, EMPTY_U8, self.table.keys, self.table.vals, self.table.n_live, out)
        return out != K.ABSENT

    def ids(self) -> np.ndarray:
        """The tagged ids in the order they were (last) tagged, as a new array."""
        if self.order.n != self.table.n_live:
            self._compact()
        return self.order.buf[: self.order.n].copy()

    def purge(self, store: Store) -> None:
        """Untag ids that are no longer in ``store`` (after a cleanup)."""
        if self.table.n_live:
            slots = np.flatnonzero(self.table.keys >= 0)
            codes, n_gone = store.lookup(self.table.keys[slots])
            if n_gone:
                self.table.keys[slots[codes == K.ABSENT]] = K.TOMB
                self.table.removed(n_gone)
                self._maybe_compact()

    def _maybe_compact(self) -> None:
        stale = self.order.n - self.table.n_live
        if self.table.n_live == 0:
            self.order.clear()
        elif stale > self.table.n_live and stale > COMPACT_MIN:
            self._compact()

    def _compact(self) -> None:
        self.order.n = K.set_compact(self.order.buf, self.order.n, self.table.keys, self.table.vals)
        self.order.shrink()

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return self.table.nbytes + self.order.buf.nbytes
