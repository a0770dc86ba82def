"""Python records (dicts) as Arrow tables: inference over all records, grouped where field types conflict."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from streamkit.errors import SchemaError

__all__ = ("records_to_tables", "add_to_type_group", "flat_types")


def records_to_tables(records: list[Any]) -> list[tuple[pa.Table, np.ndarray]]:
    """Records as Arrow tables; records whose field types conflict go to separate tables."""
    for i, r in enumerate(records):
        if type(r) is not dict and not isinstance(r, Mapping):
            msg = f"record {i} is a {type(r).__name__}, expected a dict"
            raise SchemaError(msg)
    try:
        return [(_from_pylist(records), np.arange(len(records), dtype=np.int64))]
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    groups: list[tuple[dict[str, type], list[int], list[Mapping[str, Any]]]] = []
    for i, r in enumerate(records):
        add_to_type_group(groups, i, flat_types(r))
    out = []
    for _, ids, _ in groups:
        try:
            t = _from_pylist([records[i] for i in ids])
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            msg = f"records {ids[:5]}{'...' if len(ids) > 5 else ''} cannot be read as Arrow: {exc}"
            raise SchemaError(msg) from None
        out.append((t, np.array(ids, np.int64)))
    return out


def _from_pylist(records: list[Mapping[str, Any]]) -> pa.Table:
    """Records as a table whose columns are every field of any record (types inferred over all)."""
    names: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(r))
    if not names:  # no record has any field: keep the row count
        return pa.table({"_": pa.nulls(len(records))}).drop_columns(["_"])
    return pa.table({k: pa.array([r.get(k) for r in records]) for k in names})


def add_to_type_group(
    groups: list[tuple[dict[str, type], list[int], list[Any]]], i: int, record: Mapping[str, Any]
) -> None:
    """Put record ``i`` in the first group whose field types agree with its own (nulls agree with all).

    Each group is ``(field -> type, record numbers, records)``; a record that fits none starts a new one.
    """
    fields = [(k, type(v)) for k, v in record.items() if v is not None]
    for types, ids, recs in groups:
        if all(types.get(k, t) is t for k, t in fields):
            for k, t in fields:
                types.setdefault(k, t)
            ids.append(i)
            recs.append(record)
            return
    groups.append((dict(fields), [i], [record]))


def flat_types(record: Mapping[str, Any], prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """Nested fields as ``a.b`` / ``a[]`` keys, so grouping by field type sees nested types too.

    Examples
    --------
    >>> flat_types({"a": {"x": 1}, "b": [{"y": "s"}], "c": 2.5})
    {'a': {}, 'a.x': 1, 'b': [], 'b[].y': 's', 'c': 2.5}
    """
    out = {} if out is None else out
    for k, v in record.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out[key] = {}
            flat_types(v, key + ".", out)
        elif isinstance(v, (list, tuple)):
            out[key] = []
            first = next((e for e in v if e is not None), None)
            if isinstance(first, Mapping):
                flat_types(first, key + "[].", out)
            elif first is not None:
                out[key + "[]"] = first
        else:
            out[key] = v
    return out
