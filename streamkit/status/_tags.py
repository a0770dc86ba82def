"""Named tags of a :class:`~streamkit.status.StatusIndex`: M:N views (an id may carry many tags).

Statuses are exclusive (one per id); tags are not: ``high_priority``,
``team_a``, ``api_calls`` may all hold the same id, as seed 000's custom
progressions do. A :class:`TagSet` is one tag's ids (a hash table plus the
order they were tagged in); :class:`Tags` is the registry of them by name.
Whether tagged ids are in the index is the index's check; after a cleanup,
:meth:`Tags.purge` untags the ids it dropped.
"""

from __future__ import annotations

import numpy as np

from kernels import status as K
from streamkit.status._lists import IdList
from streamkit.status._store import EMPTY_U8, HashTable, Store
from streamkit.status.errors import UnknownTagError

__all__ = ("TagSet", "Tags", "COMPACT_MIN", "check_tag_name")

#: Compact a tag's list only once it has this many stale entries (and more stale than live).
COMPACT_MIN = 1024


class TagSet:
    """The ids carrying one tag: O(1) membership, O(k) listing in tagging order."""

    __slots__ = ("order", "table")

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
        added: int = self.order.n - n_before
        self.table.n_live += added
        self.table.n_used += n_empty
        return added

    def remove(self, ids: np.ndarray) -> int:
        """Untag ``ids`` (untagged ones are skipped); return how many were removed."""
        removed: int = K.set_remove(self.table.keys, ids, self.table.n_live)
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


class Tags:
    """The tags by name, in the order they were created."""

    __slots__ = ("_sets",)

    def __init__(self) -> None:
        self._sets: dict[str, TagSet] = {}

    def names(self) -> list[str]:
        """The tag names, oldest first."""
        return list(self._sets)

    def get(self, name: str) -> TagSet:
        """The tag ``name``.

        Raises
        ------
        UnknownTagError
            No tag has that name; the message lists the names there are.
        """
        tags = self._sets.get(name) if isinstance(name, str) else None
        if tags is None:
            known = ", ".join(map(repr, self._sets)) or "no tags yet"
            msg = f"unknown tag {name!r}: {'expected one of ' if self._sets else ''}{known}"
            raise UnknownTagError(msg)
        return tags

    def get_or_create(self, name: str) -> TagSet:
        """The tag ``name``, created empty if there is none (after checking the name)."""
        tags = self._sets.get(check_tag_name(name))
        if tags is None:
            tags = self._sets[name] = TagSet()
        return tags

    def drop(self, name: str) -> None:
        """Forget the tag ``name`` (:class:`UnknownTagError` if there is none)."""
        self.get(name)
        del self._sets[name]

    def ordered_ids(self) -> dict[str, np.ndarray]:
        """Each tag's ids in tagging order, by name in creation order."""
        return {name: t.ids() for name, t in self._sets.items()}

    def remove_ids(self, ids: np.ndarray) -> None:
        """Untag ``ids`` in every tag (ids a tag lacks are skipped)."""
        for tags in self._sets.values():
            if len(tags):
                tags.remove(ids)

    def purge(self, store: Store) -> None:
        """Untag, in every tag, the ids no longer in ``store``."""
        for tags in self._sets.values():
            tags.purge(store)

    @property
    def nbytes(self) -> int:
        """Bytes held by every tag."""
        return sum(t.nbytes for t in self._sets.values())


def check_tag_name(name: object) -> str:
    """``name`` if it can name a tag (a non-empty string), else ``TypeError`` / ``ValueError``."""
    if not isinstance(name, str):
        msg = f"a tag name must be a string, got {name!r} of type {type(name).__name__}"
        raise TypeError(msg)
    if not name:
        msg = "a tag name must not be empty"
        raise ValueError(msg)
    return name
