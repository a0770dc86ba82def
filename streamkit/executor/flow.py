"""Flows: items by id, and named progressions that are views of one status index.

A :class:`Flow` numbers its items 0, 1, 2, ... in the order they are added
and keeps each item's number in a :class:`~streamkit.status.StatusIndex`
(with its status) and in an object array (number -> item), so a progression's
items come out of the index as a number array and out of the object array in
one gather: O(k) for k items, with no loop over the others. A progression
added to a flow is a tag of the index (M:N: an item may be in many); an
executor's flow also has one progression per :class:`EventStatus`, the
bucket of that status, which its items enter and leave as their status
changes (one at a time).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from streamkit.errors import did_you_mean
from streamkit.executor._restore import restore_flow
from streamkit.executor.event import Event
from streamkit.executor.progression import Progression, item_id
from streamkit.status import EventStatus, StatusIndex
from streamkit.status.codes import status_code

__all__ = ("Flow", "Items", "Progressions", "FLOW_FORMAT")

E = TypeVar("E")
"""The type of a flow's items."""
P = TypeVar("P", bound=Progression)
"""The type of a flow's progressions."""

#: The ``format`` of :meth:`Flow.to_dict`'s output.
FLOW_FORMAT = "streamkit.flow"
_PENDING = EventStatus.PENDING
_MIN_OBJS = 64


class Items(Generic[E]):
    """A flow's items by id: ``items[uuid]``, ``in``, ``len`` (O(1)), and iteration in the order they were added."""

    __slots__ = ("_flow",)

    def __init__(self, flow: Flow[E, Any]) -> None:
        self._flow = flow

    def __getitem__(self, key: object) -> E:
        flow = self._flow
        number = flow._numbers.get(key) if isinstance(key, uuid.UUID) else flow._numbers.get(item_id(key))
        if number is None:
            msg = f"no item with id {key} in flow {flow.name!r}"
            raise KeyError(msg)
        item: E = flow._objs[number - flow._base]
        return item

    def get(self, key: object, default: Any = None) -> Any:
        """The item with id ``key``, or ``default``."""
        try:
            return self[key]
        except (KeyError, TypeError):
            return default

    def __contains__(self, key: object) -> bool:
        try:
            return item_id(key) in self._flow._numbers
        except TypeError:
            return False

    def __len__(self) -> int:
        return len(self._flow._numbers)

    def __iter__(self) -> Iterator[E]:
        flow = self._flow
        live = flow._objs[: flow._next - flow._base]
        return iter([x for x in live.tolist() if x is not None])

    def __repr__(self) -> str:
        return f"Items({len(self)} items of flow {self._flow.name!r})"


class Progressions(Generic[P]):
    """A flow's progressions by name: iteration in the order they were added, ``len``, ``[name]``, ``in``."""

    __slots__ = ("_flow",)

    def __init__(self, flow: Flow[Any, P]) -> None:
        self._flow = flow

    def __iter__(self) -> Iterator[P]:
        return iter(list(self._flow._progs.values()))

    def __len__(self) -> int:
        return len(self._flow._progs)

    def __getitem__(self, name: str) -> P:
        return self._flow.get_progression(name)

    def __contains__(self, item: object) -> bool:
        progs = self._flow._progs
        if isinstance(item, Progression):
            return progs.get(item.name) is item
        return isinstance(item, str) and item in progs

    def names(self) -> list[str]:
        """The progression names, in the order they were added."""
        return list(self._flow._progs)

    def __repr__(self) -> str:
        return f"Progressions({', '.join(map(repr, self._flow._progs))})"


class Flow(Generic[E, P]):
    """Items by id plus named progressions of them, kept in one status index.

    Parameters
    ----------
    item_type:
        The class items must be instances of (``None``: anything with a UUID ``id``).
    name:
        The flow's name, in messages and snapshots.

    Examples
    --------
    >>> from streamkit.executor import Event
    >>> flow = Flow[Event, Progression](item_type=Event, name="views")
    >>> flow.add_progression(Progression(name="urgent"))
    Progression('urgent', 0 items, tag)
    >>> flow.add_progression(Progression(name="team_a"))
    Progression('team_a', 0 items, tag)
    >>> a, b = Event(), Event()
    >>> flow.add_item(a, progressions=["urgent", "team_a"])
    >>> flow.add_item(b, progressions="team_a")
    >>> len(flow.items), a.id in flow.get_progression("urgent"), flow.get_progression("team_a").order == [a.id, b.id]
    (2, True, True)
    >>> restored = Flow.from_dict(flow.to_dict())
    >>> restored.get_progression("urgent").order == [a.id]
    True
    """

    def __init__(self, *, item_type: type[E] | None = None, name: str | None = None) -> None:
        if name is not None and not isinstance(name, str):
            msg = f"a flow's `name` must be a string or None, got {name!r}"
            raise TypeError(msg)
        if item_type is not None and not isinstance(item_type, type):
            msg = f"`item_type` must be a class or None, got {item_type!r}"
            raise TypeError(msg)
        self.name: str = name if name is not None else "flow"
        self.item_type = item_type
        self._index = StatusIndex(keep_ids="all")
        self._objs: np.ndarray = np.empty(_MIN_OBJS, object)  # item of number n at n - _base
        self._base = 0
        self._next = 0  # the next item's number
        self._numbers: dict[uuid.UUID, int] = {}
        self._progs: dict[str, P] = {}
        self._tracks = False  # an executor's flow: one progression per status, events tracked by it
        self.items: Items[E] = Items(self)
        self.progressions: Progressions[P] = Progressions(self)

    def _track_statuses(self) -> None:
        """Make this an executor's flow: a progression per status, the bucket of the index (no items yet)."""
        for status in EventStatus:
            prog = Progression(status.value)
            prog._attach(self, int(status))
            self._progs[status.value] = prog  # type: ignore[assignment]
        self._tracks = True

    # ------------------------------------------------------------------ items

    def add_item(self, item: E, progressions: str | Progression | Iterable[str | Progression] | None = None) -> None:
        """Add ``item`` and put it in the named ``progressions`` (names or progressions of this flow; M:N).

        The item enters with its status (``item.status``, else ``pending``);
        in an executor's flow that is also its status progression, which cannot
        be named here. Nothing is added if anything is wrong.

        Raises
        ------
        TypeError
            ``item`` is not an ``item_type`` or has no UUID ``id``.
        ValueError
            The item is in the flow already, or is tracked by another executor.
        KeyError
            A progression name the flow does not have.
        """
        key = self._check_new(item)
        names = self._names_of(progressions)
        number = self._insert(item, key, _status_of(item))
        for name in names:
            self._index.tag(number, name)

    def remove_item(self, item: Any) -> E:
        """Take an item (or its id) out of the flow and all its progressions; return it.

        ``KeyError`` if it is not in the flow.
        """
        key = item_id(item)
        number = self._numbers.get(key)
        if number is None:
            msg = f"no item with id {key} in flow {self.name!r}"
            raise KeyError(msg)
        self._index.remove(number)
        del self._numbers[key]
        at = number - self._base
        obj: E = self._objs[at]
        self._objs[at] = None
        if self._tracks:
            obj._tracker = None  # type: ignore[attr-defined]
            obj._number = -1  # type: ignore[attr-defined]
        return obj

    def __len__(self) -> int:
        return len(self._numbers)

    def __contains__(self, item: object) -> bool:
        return item in self.items

    def _check_new(self, item: object) -> uuid.UUID:
        if self.item_type is not None and not isinstance(item, self.item_type):
            msg = f"flow {self.name!r} holds `{self.item_type.__name__}` items, got {item!r}"
            raise TypeError(msg)
        key = getattr(item, "id", None)
        if not isinstance(key, uuid.UUID):
            msg = f"an item of flow {self.name!r} needs a UUID `id`, got {item!r}"
            raise TypeError(msg)
        if key in self._numbers:
            msg = f"{item!r} is in flow {self.name!r} already"
            raise ValueError(msg)
        if self._tracks:
            if not isinstance(item, Event):
                msg = f"flow {self.name!r} tracks statuses: its items must be Events, got {item!r}"
                raise TypeError(msg)
            if item._tracker is not None:
                msg = f"{item!r} is tracked by {item._tracker.name!r} already: an event is in one executor at a time"
                raise ValueError(msg)
        return key

    def _insert(self, item: Any, key: uuid.UUID, status: EventStatus) -> int:
        # add a checked item: its number in the index (cannot fail: numbers are new), the array, the id map
        number = self._next
        self._index.add(number, status)
        at = number - self._base
        if at >= self._objs.shape[0]:
            at = self._grow(at + 1)
        self._objs[at] = item
        self._numbers[key] = number
        self._next = number + 1
        if self._tracks:
            item._tracker = self
            item._number = number
        return number

    def _grow(self, need: int) -> int:
        # room for `need` slots from the current base; drop a dead prefix when at most half is live; new offset
        objs, n = self._objs, self._next - self._base
        start = 0
        if 2 * len(self._numbers) <= n:
            live = np.flatnonzero(np.not_equal(objs[:n], None))  # type: ignore[call-overload]
            start = int(live[0]) if live.shape[0] else n
        new = np.empty(max(2 * (need - start), _MIN_OBJS), object)
        new[: n - start] = objs[start:n]
        self._objs, self._base = new, self._base + start
        return need - 1 - start

    def _items_of(self, numbers: np.ndarray) -> list[Any]:
        """The items with these numbers, in order (one gather)."""
        if self._base:
            numbers = numbers - self._base
        out: list[Any] = self._objs[numbers].tolist()
        return out

    def _in_status(self, status: object) -> list[Any]:
        """The items in ``status``, in the order they entered it: O(k)."""
        return self._items_of(self._index.ids(status_code(status)))

    def _drop_statuses(self, codes: Sequence[int]) -> int:
        """Remove every item in the statuses ``codes``; return how many."""
        parts = [self._index.ids(c) for c in codes]
        numbers = np.concatenate(parts) if parts else np.empty(0, np.int64)
        if not numbers.shape[0]:
            return 0
        items = self._items_of(numbers)
        self._index.cleanup(codes)
        self._objs[numbers - self._base] = None
        tracks, ids = self._tracks, self._numbers
        for item in items:
            del ids[item.id]
            if tracks:
                item._tracker = None
                item._number = -1
        return len(items)

    # ------------------------------------------------------------------ progressions

    def add_progression(self, progression: P) -> P:
        """Add ``progression`` as a view of this flow (a tag of its index), with the items it holds; return it.

        Raises
        ------
        ValueError
            A progression of that name is in the flow, or ``progression`` is in another flow.
        KeyError
            It holds an id that is not an item of this flow (nothing is added).
        """
        if not isinstance(progression, Progression):
            msg = f"expected a Progression, got {progression!r}"
            raise TypeError(msg)
        name = progression.name
        if name in self._progs:
            msg = f"flow {self.name!r} has a progression {name!r} already"
            raise ValueError(msg)
        if progression._flow is not None:
            msg = f"progression {name!r} is in flow {progression._flow.name!r} already"
            raise ValueError(msg)
        numbers = np.array([self._number_of(key) for key in progression.order], np.int64)
        self._index.tag(numbers, name)  # creates the tag, also when empty
        progression._attach(self, -1)
        self._progs[name] = progression
        return progression

    def get_progression(self, name: str) -> P:
        """The progression called ``name``; ``KeyError`` (with the closest name) if there is none."""
        prog = self._progs.get(name)
        if prog is None:
            known = ", ".join(map(repr, self._progs)) or "none"
            msg = f"no progression {name!r} in flow {self.name!r}{did_you_mean(str(name), self._progs)}; it has {known}"
            raise KeyError(msg)
        return prog

    def remove_progression(self, name: str) -> P:
        """Take the progression ``name`` out of the flow (it keeps its ids, on its own); return it.

        An executor's status progressions stay (``ValueError``).
        """
        prog = self.get_progression(name)
        if prog._code >= 0:
            msg = f"progression {name!r} is the bucket of a status: it stays while the flow tracks statuses"
            raise ValueError(msg)
        ids = prog.order
        self._index.drop_tag(name)
        del self._progs[name]
        prog._detach(ids)
        return prog

    def _names_of(self, progressions: str | Progression | Iterable[str | Progression] | None) -> list[str]:
        if progressions is None:
            return []
        if isinstance(progressions, (str, Progression)):
            progressions = [progressions]
        names = []
        for p in progressions:
            name = p.name if isinstance(p, Progression) else p
            prog = self.get_progression(name)
            if prog._code >= 0:
                msg = (
                    f"progression {name!r} of flow {self.name!r} is the bucket of a status: an item enters it by"
                    " having that status, not by being added to it"
                )
                raise ValueError(msg)
            if name not in names:
                names.append(name)
        return names

    def _number_of(self, key: uuid.UUID) -> int:
        number = self._numbers.get(key)
        if number is None:
            msg = f"no item with id {key} in flow {self.name!r}"
            raise KeyError(msg)
        return number

    # the views' queries (Progression calls these)

    def _order(self, prog: Progression) -> list[uuid.UUID]:
        numbers = self._index.ids(prog._code) if prog._code >= 0 else self._index.tagged(prog.name)
        return [item.id for item in self._items_of(numbers)]

    def _count(self, prog: Progression) -> int:
        return self._index.count(prog._code) if prog._code >= 0 else self._index.tag_count(prog.name)

    def _holds(self, prog: Progression, key: uuid.UUID) -> bool:
        number = self._numbers.get(key)
        if number is None:
            return False
        if prog._code >= 0:
            return int(self._index.status_of(number)) == prog._code
        return bool(self._index.has_tag(number, prog.name))

    def _tag(self, prog: Progression, key: uuid.UUID, *, add: bool) -> None:
        if prog._code >= 0:
            msg = f"progression {prog.name!r} is the bucket of a status: it changes only with its items' statuses"
            raise ValueError(msg)
        number = self._number_of(key)
        if add:
            self._index.tag(number, prog.name)
        elif not self._index.has_tag(number, prog.name):
            msg = f"{key} is not in progression {prog.name!r}"
            raise KeyError(msg)
        else:
            self._index.untag(number, prog.name)

    # ------------------------------------------------------------------ snapshots

    def to_dict(self) -> dict[str, Any]:
        """The flow as plain Python: its name, its items (each item's ``to_dict()``, in the order they were
        added) and its progressions (``name``, ``kind`` ``"status"`` or ``"tag"``, ``order`` as UUID strings).

        JSON holds it when the items' fields are JSON values; :meth:`from_dict` reads it back.
        """
        items = []
        for item in self.items:
            to_dict = getattr(item, "to_dict", None)
            if to_dict is None:
                msg = f"item {item!r} of flow {self.name!r} has no `to_dict()`: the flow cannot be written out"
                raise TypeError(msg)
            items.append(to_dict())
        it = self.item_type
        return {
            "format": FLOW_FORMAT,
            "version": 1,
            "name": self.name,
            "item_type": None if it is None else f"{it.__module__}.{it.__qualname__}",
            "items": items,
            "progressions": [
                {"name": p.name, "kind": "status" if p._code >= 0 else "tag", "order": [str(u) for u in p.order]}
                for p in self._progs.values()
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, item_type: type[Any] | None = None) -> Flow[Any, Any]:
        """Rebuild a flow from :meth:`to_dict`'s output (or the same loaded back from JSON).

        Items come back as their own classes (``item_type`` if given, else the
        class each snapshot names) with their ids, fields and executions —
        failed ones with a :class:`~streamkit.executor.event.RecordedError` —
        and statuses as :class:`EventStatus`; progressions come back in order.
        A ``ValueError`` says where the data is wrong.
        """
        flow: Flow[Any, Any] = restore_flow(cls, data, item_type)
        return flow

    def __repr__(self) -> str:
        return f"Flow({self.name!r}, {len(self)} items, {len(self._progs)} progressions)"


def _status_of(item: object) -> EventStatus:
    status = item._status if isinstance(item, Event) else getattr(item, "status", _PENDING)
    return status if isinstance(status, EventStatus) else _PENDING
