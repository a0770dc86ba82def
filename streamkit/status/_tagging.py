"""Named tags of a :class:`~streamkit.status.StatusIndex`: M:N views (an id may carry many tags).

Statuses are exclusive (one per id); tags are not: ``high_priority``,
``team_a``, ``api_calls`` may all hold the same id, as seed 000's custom
progressions do. A tag holds ids that are in the index; :meth:`cleanup`
untags the ids it drops.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from kernels import status as K
from streamkit.status._errors_for import unknown_ids_error
from streamkit.status._ids import as_ids, is_scalar_id
from streamkit.status._store import Store
from streamkit.status._tags import TagSet
from streamkit.status.errors import UnknownTagError

__all__ = ("TagMethods",)


class TagMethods:
    """The tag methods of :class:`~streamkit.status.StatusIndex`."""

    _lock: threading.Lock
    _store: Store
    _tags: dict[str, TagSet]

    def tag(self, ids: Any, name: str) -> None:
        """Give ``ids`` the tag ``name`` (created on first use); tagging twice changes nothing.

        Raises
        ------
        UnknownIdError
            An id is not in the index; nothing is tagged.

        Examples
        --------
        >>> from streamkit.status import StatusIndex
        >>> index = StatusIndex()
        >>> index.add(range(5))
        >>> index.tag([3, 1], "high_priority")
        >>> index.tag([1, 2], "team_a")
        >>> index.tagged("high_priority"), index.tag_count("team_a"), index.tags()
        (array([3, 1]), 2, ['high_priority', 'team_a'])
        """
        name = _tag_name(name)
        arr = as_ids(ids)
        with self._lock:
            self._require_present(arr)
            tags = self._tags.get(name)
            if tags is None:
                tags = self._tags[name] = TagSet()
            tags.add(arr)

    def untag(self, ids: Any, name: str) -> None:
        """Take the tag ``name`` off ``ids`` (ids without it are skipped).

        Examples
        --------
        >>> from streamkit.status import StatusIndex
        >>> index = StatusIndex()
        >>> index.add(range(3))
        >>> index.tag([0, 1, 2], "retry")
        >>> index.untag([1], "retry")
        >>> index.tagged("retry")
        array([0, 2])
        """
        arr = as_ids(ids)
        with self._lock:
            tags = self._tag_set(name)
            self._require_present(arr)
            tags.remove(arr)

    def tagged(self, name: str) -> np.ndarray:
        """The ids carrying tag ``name``, in the order they were (last) tagged, as a new array; O(k).

        Examples
        --------
        >>> from streamkit.status import StatusIndex
        >>> index = StatusIndex()
        >>> index.add([10, 20])
        >>> index.tag([20, 10], "team_a")
        >>> index.tagged("team_a")
        array([20, 10])
        """
        with self._lock:
            return self._tag_set(name).ids()

    def tag_count(self, name: str) -> int:
        """How many ids carry tag ``name``, in O(1).

        Examples
        --------
        >>> from streamkit.status import StatusIndex
        >>> index = StatusIndex()
        >>> index.add(range(4))
        >>> index.tag(range(4), "api_calls")
        >>> index.tag_count("api_calls")
        4
        """
        with self._lock:
            return len(self._tag_set(name))

    def tags(self) -> list[str]:
        """The tag names, in the order they were created.

        Examples
        --------
        >>> from streamkit.status import StatusIndex
        >>> StatusIndex().tags()
        []
        """
        with self._lock:
            return list(self._tags)

    def has_tag(self, ids: Any, name: str) -> bool | np.ndarray:
        """Whether one id (a bool) or each of many (a bool array) carries tag ``name``; O(1) per id.

        Examples
        --------
        >>> from streamkit.status import StatusIndex
        >>> index = StatusIndex()
        >>> index.add(range(3))
        >>> index.tag([2], "urgent")
        >>> index.has_tag(2, "urgent"), index.has_tag([0, 2], "urgent")
        (True, array([False,  True]))
        """
        arr = as_ids(ids)
        with self._lock:
            out = self._tag_set(name).contains(arr)
        return bool(out[0]) if is_scalar_id(ids) else out

    def drop_tag(self, name: str) -> None:
        """Forget tag ``name`` and all its memberships.

        Examples
        --------
        >>> from streamkit.status import StatusIndex
        >>> index = StatusIndex()
        >>> index.add([1])
        >>> index.tag([1], "tmp")
        >>> index.drop_tag("tmp")
        >>> index.tags()
        []
        """
        with self._lock:
            self._tag_set(name)
            del self._tags[name]

    def _tag_set(self, name: str) -> TagSet:
        tags = self._tags.get(name) if isinstance(name, str) else None
        if tags is None:
            known = ", ".join(map(repr, self._tags)) or "no tags yet"
            msg = f"unknown tag {name!r}: {'expected one of ' if self._tags else ''}{known}"
            raise UnknownTagError(msg)
        return tags

    def _require_present(self, arr: np.ndarray) -> None:
        codes, n_absent = self._store.lookup(arr)
        if n_absent:
            raise unknown_ids_error(arr[codes == K.ABSENT])


def _tag_name(name: object) -> str:
    if not isinstance(name, str):
        msg = f"a tag name must be a string, got {name!r} of type {type(name).__name__}"
        raise TypeError(msg)
    if not name:
        msg = "a tag name must not be empty"
        raise ValueError(msg)
    return name
