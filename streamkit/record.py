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

from collections.abc import Mapping
from typing import Any

__all__ = ("RecordData", "State")


class RecordData(dict):
    """The record's fields as a mapping in which null means missing.

    It holds only the fields that have values, and ``data['x']`` gives ``None``
    for a missing field instead of raising. (A ``dict`` subclass, so ``**data``
    and lookups run at C speed.)

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

    __slots__ = ()

    def __init__(self, fields: Mapping[str, Any] = ()) -> None:  # type: ignore[assignment]
        super().__init__((k, v) for k, v in dict(fields).items() if v is not None)

    def __missing__(self, key: Any) -> None:
        return None

    def __repr__(self) -> str:
        return f"RecordData({dict.__repr__(self)})"

    @classmethod
    def _wrap(cls, fields: dict[str, Any]) -> RecordData:
        """A record from a dict that holds no None values."""
        self = cls.__new__(cls)
        dict.update(self, fields)
        return self

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of the fields that have values."""
        return dict(self)


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
    data: dict[str, Any]
    name: str

    def __init__(self, data: Mapping[str, Any], name: str = "") -> None:
        self.data = data if isinstance(data, RecordData) else RecordData(data)
        self.name = name

    @classmethod
    def _of(cls, data: dict[str, Any], name: str) -> State:
        """A state over a dict of a record's non-null fields, as it is (for inline code, which reads
        fields with ``.get``; see :func:`streamkit.expr.ints.compile_inline`)."""
        self = cls.__new__(cls)
        self.data = data
        self.name = name
        return self

    def __repr__(self) -> str:
        return f"State(name={self.name!r}, data={self.data!r})"
