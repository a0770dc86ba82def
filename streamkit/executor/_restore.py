"""Reading a flow back from :meth:`Flow.to_dict`'s output: checks with paths, then one bulk fill of the index."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import numpy as np

from streamkit.executor.event import Event, event_class
from streamkit.executor.progression import Progression
from streamkit.status import EventStatus
from streamkit.status.codes import STATUS_NAMES, as_status

__all__ = ("restore_flow",)


def _bad(where: str, what: str, got: object) -> str:
    return f"invalid flow dict: `{where}` must be {what}, got {got!r}"


def _read_item(data: Any, item_type: type[Any] | None, at: str) -> Any:
    # Event.from_dict checks that `data` is a mapping
    reader = item_type if item_type is not None and hasattr(item_type, "from_dict") else Event
    if issubclass(reader, Event):
        return reader.from_dict(data, at=at)
    return reader.from_dict(data)


def restore_flow(cls: type[Any], data: Mapping[str, Any], item_type: type[Any] | None) -> Any:
    """A new ``cls`` (a Flow class) holding what ``data`` describes (see :meth:`Flow.from_dict`)."""
    if not isinstance(data, Mapping) or data.get("format") != "streamkit.flow":
        got = data.get("format") if isinstance(data, Mapping) else data
        raise ValueError(_bad("format", "'streamkit.flow' (a dict from Flow.to_dict())", got))
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(_bad("name", "a string", name))
    if item_type is None and data.get("item_type") is not None:
        item_type = event_class(data["item_type"], at="item_type")
    raw_items, raw_progs = data.get("items"), data.get("progressions")
    if not isinstance(raw_items, list):
        raise ValueError(_bad("items", "a list of item dicts", raw_items))
    if not isinstance(raw_progs, list):
        raise ValueError(_bad("progressions", "a list of progression dicts", raw_progs))
    items = [_read_item(d, item_type, f"items[{i}]") for i, d in enumerate(raw_items)]
    numbers: dict[uuid.UUID, int] = {}
    for i, item in enumerate(items):
        if item.id in numbers:
            raise ValueError(_bad(f"items[{i}].id", "unique", str(item.id)))
        numbers[item.id] = i
    progs = [_read_progression(p, f"progressions[{k}]", numbers) for k, p in enumerate(raw_progs)]
    is_status = [kind == "status" for _, kind, _ in progs]
    flow = cls(item_type=item_type, name=name)
    if any(is_status):
        _check_statuses(progs, items)
        flow._track_statuses()
        for prog_name, kind, order in progs:
            if kind == "status" and order.shape[0]:
                flow._index.add(order, as_status(prog_name))
    elif items:
        codes = np.array([int(_status(item)) for item in items], np.uint8)
        flow._index.add_chunk(range(len(items)), codes)
    objs = np.empty(max(2 * len(items), 64), object)
    objs[: len(items)] = items
    flow._objs, flow._next, flow._numbers = objs, len(items), numbers
    if flow._tracks:
        for i, item in enumerate(items):
            item._tracker, item._number = flow, i
    for prog_name, kind, order in progs:
        if kind == "tag":
            flow._index.tag(order, prog_name)
            prog = Progression(prog_name)
            prog._attach(flow, -1)
            flow._progs[prog_name] = prog
    return flow


def _status(item: object) -> EventStatus:
    status = getattr(item, "status", EventStatus.PENDING)
    return status if isinstance(status, EventStatus) else EventStatus.PENDING


def _read_progression(raw: object, at: str, numbers: dict[uuid.UUID, int]) -> tuple[str, str, np.ndarray]:
    if not isinstance(raw, Mapping):
        raise ValueError(_bad(at, "a dict with `name`, `kind` and `order`", raw))
    name, kind, order = raw.get("name"), raw.get("kind", "tag"), raw.get("order", [])
    if not isinstance(name, str) or not name:
        raise ValueError(_bad(f"{at}.name", "a non-empty string", name))
    if kind not in ("status", "tag"):
        raise ValueError(_bad(f"{at}.kind", "'status' or 'tag'", kind))
    if kind == "status" and name not in STATUS_NAMES:
        raise ValueError(
            _bad(f"{at}.name", f"a status name ({', '.join(STATUS_NAMES)}) for a status progression", name)
        )
    if not isinstance(order, list):
        raise ValueError(_bad(f"{at}.order", "a list of item ids", order))
    out = np.empty(len(order), np.int64)
    for j, key in enumerate(order):
        try:
            out[j] = numbers[uuid.UUID(str(key))]
        except (KeyError, ValueError):
            raise ValueError(_bad(f"{at}.order[{j}]", "the id of an item in `items`", key)) from None
    return name, kind, out


def _check_statuses(progs: list[tuple[str, str, np.ndarray]], items: list[Any]) -> None:
    # a status-tracking flow: every status has its progression, and each item is in the one of its status
    names = [name for name, kind, _ in progs if kind == "status"]
    missing = [s for s in STATUS_NAMES if s not in names]
    if missing:
        raise ValueError(
            _bad("progressions", f"one status progression per status (missing {', '.join(missing)})", names)
        )
    seen = np.zeros(len(items), np.bool_)
    for k, (name, kind, order) in enumerate(progs):
        if kind != "status":
            continue
        for j, number in enumerate(order.tolist()):
            item = items[number]
            if seen[number]:
                raise ValueError(
                    _bad(f"progressions[{k}].order[{j}]", "an item in no other status progression", str(item.id))
                )
            seen[number] = True
            if _status(item).value != name:
                raise ValueError(
                    _bad(
                        f"progressions[{k}].order[{j}]", f"an item whose status is {name!r}", f"{_status(item).value!r}"
                    )
                )
    if not seen.all():
        i = int(np.argmin(seen))
        raise ValueError(_bad(f"items[{i}]", "in the status progression of its status", str(items[i].id)))
