"""Progressions: named, ordered sets of item ids — on their own, or views of a flow's status index.

A :class:`Progression` made by hand holds its own ids. Once added to a
:class:`~streamkit.executor.Flow` it becomes a view of the flow's
:class:`~streamkit.status.StatusIndex`: of the bucket of one status (an
executor's ``pending``, ``completed``, ... progressions) or of one tag (any
other progression, M:N: an item may carry many). A view answers ``len`` in
O(1), ``in`` in O(1) and ``order`` in O(k) for its k ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from streamkit.status import EventStatus
from streamkit.status.codes import STATUS_NAMES, as_status

__all__ = ("Progression", "item_id")


def item_id(item: object) -> uuid.UUID:
    """The UUID of ``item``: an item with an ``id``, a UUID, or a UUID's string.

    Examples
    --------
    >>> item_id("12345678-1234-5678-1234-567812345678")
    UUID('12345678-1234-5678-1234-567812345678')
    """
    if isinstance(item, uuid.UUID):
        return item
    key = getattr(item, "id", None)
    if isinstance(key, uuid.UUID):
        return key
    if isinstance(item, str):
        try:
            return uuid.UUID(item)
        except ValueError:
            pass
    msg = f"expected an item with a UUID `id`, a UUID or a UUID string, got {item!r}"
    raise TypeError(msg)


class Progression:
    """A named, ordered set of item ids (UUIDs): ``order``, ``len``, ``in``, iteration, ``append``, ``remove``.

    Parameters
    ----------
    name:
        The progression's name, by which a flow finds it (``flow.get_progression(name)``).
    order:
        Items (or their ids) it holds from the start, in order.

    Examples
    --------
    >>> import uuid
    >>> a, b = uuid.uuid4(), uuid.uuid4()
    >>> p = Progression(name="retry", order=[a])
    >>> p.append(b); p.remove(a)
    >>> len(p), b in p, a in p, p.order == [b]
    (1, True, False, True)
    """

    __slots__ = ("_code", "_flow", "_own", "name")

    def __init__(self, name: str, order: Iterable[Any] = ()) -> None:
        if not isinstance(name, str) or not name:
            msg = f"a progression's `name` must be a non-empty string, got {name!r}"
            raise TypeError(msg) if not isinstance(name, str) else ValueError(msg)
        self.name = name
        self._flow: Any = None  # the Flow it is a view of (flow.py imports this module, not the reverse)
        self._code = -1  # the status code of a status view, -1 for a tag view or an own set
        self._own: dict[uuid.UUID, None] | None = dict.fromkeys(item_id(x) for x in order)

    # ------------------------------------------------------------------ attaching (the flow calls these)

    def _attach(self, flow: Any, code: int) -> None:
        """Become a view of ``flow``'s index: of status ``code``, or of the tag named like this (``code`` -1)."""
        self._flow = flow
        self._code = code
        self._own = None

    def _detach(self, ids: list[uuid.UUID]) -> None:
        """Hold ``ids`` again on its own (the flow let it go)."""
        self._flow = None
        self._code = -1
        self._own = dict.fromkeys(ids)

    @property
    def status(self) -> EventStatus | None:
        """The status this progression is the bucket of, or ``None`` (a tag view or a progression of its own)."""
        return as_status(self._code) if self._code >= 0 else None

    # ------------------------------------------------------------------ reading

    @property
    def order(self) -> list[uuid.UUID]:
        """The ids, in the order they entered (a new list)."""
        if self._flow is None:
            assert self._own is not None
            return list(self._own)
        return self._flow._order(self)

    def __len__(self) -> int:
        if self._flow is None:
            assert self._own is not None
            return len(self._own)
        return self._flow._count(self)

    def __contains__(self, item: object) -> bool:
        try:
            key = item_id(item)
        except TypeError:
            return False
        if self._flow is None:
            assert self._own is not None
            return key in self._own
        return self._flow._holds(self, key)

    def __iter__(self) -> Iterator[uuid.UUID]:
        return iter(self.order)

    # ------------------------------------------------------------------ changing

    def append(self, item: object) -> None:
        """Add an item (or its id) at the end; one it holds already stays where it is.

        In a flow, the item must be one of the flow's; a status progression
        changes only with its items' statuses (``ValueError``).
        """
        key = item_id(item)
        if self._flow is None:
            assert self._own is not None
            self._own[key] = None
        else:
            self._flow._tag(self, key, add=True)

    def remove(self, item: object) -> None:
        """Take an item (or its id) out; ``KeyError`` if it is not there."""
        key = item_id(item)
        if self._flow is None:
            assert self._own is not None
            if key not in self._own:
                msg = f"{key} is not in progression {self.name!r}"
                raise KeyError(msg)
            del self._own[key]
        else:
            self._flow._tag(self, key, add=False)

    def __repr__(self) -> str:
        kind = f"status {STATUS_NAMES[self._code]!r}" if self._code >= 0 else "tag" if self._flow is not None else "own"
        return f"Progression({self.name!r}, {len(self)} items, {kind})"
