"""The record as a transform sees it: ``state.data``.

A field that is missing and a field that is null are the same thing, as in
Arrow and Polars:

* ``data['x']`` and ``data.get('x')`` give ``None`` for either; field access
  never raises;
* ``data.get('x', d)`` gives ``d`` for either;
* ``'x' in data`` is true only when ``x`` is not null, and iteration,
  ``len()`` and ``**data`` see only the fields that have values, so
  ``{'x': 0, **data}`` keeps ``0`` when ``x`` is null.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ("RecordData", "State")


class RecordData(Mapping):
    """A read-only mapping of field -> value in which null means missing.

    Parameters
    ----------
    fields:
        The record's fields; entries whose value is ``None`` are treated as absent.

    Examples
    --------
    >>> d = RecordData({"a": 1, "b": None})
    >>> d["b"], d.get("b", 5), "b" in d, len(d), {"b": 0, **d}
    (None, 5, False, 1, {'b': 0, 'a': 1})
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self._fields = {k: v for k, v in fields.items() if v is not None}

    def __getitem__(self, key: Any) -> Any:
        return self._fields.get(key)

    def get(self, key: Any, default: Any = None) -> Any:
        """Value of ``key``, or ``default`` when it is missing or null."""
        v = self._fields.get(key)
        return default if v is None else v

    def __contains__(self, key: object) -> bool:
        return key in self._fields

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"RecordData({self._fields!r})"

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of the fields that have values."""
        return dict(self._fields)


class State:
    """What a transform or condition receives: ``state.data`` and ``state.name``.

    Parameters
    ----------
    data:
        The record's current fields.
    name:
        Name of the FSM state the record is in.
    """

    __slots__ = ("data", "name")

    def __init__(self, data: Mapping[str, Any], name: str = "") -> None:
        self.data = data if isinstance(data, RecordData) else RecordData(data)
        self.name = name

    def __repr__(self) -> str:
        return f"State(name={self.name!r}, data={self.data!r})"
