"""Python records (dicts) into Arrow parts, with a reason for every record that cannot be stored.

The common case is one call to :func:`streamkit._arrow.records.records_to_tables` (which
already splits records whose top-level field types conflict). When that fails —
nested field types that conflict, integers outside int64, values Arrow cannot
hold — records are grouped by their nested field types and, as a last resort,
bisected until the records that cannot be stored on their own are found; those
become malformed rows, the rest are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from streamkit._arrow.cast import cast_array
from streamkit._arrow.records import add_to_type_group, flat_types, records_to_tables
from streamkit.io.chunk import Malformed

__all__ = ("records_to_parts", "apply_schema", "to_arrow_schema", "table_to_batch", "short_repr")

Part = tuple[pa.RecordBatch, np.ndarray]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def short_repr(v: Any, limit: int = 60) -> str:
    """``repr(v)``, cut to ``limit`` characters."""
    r = repr(v)
    return r if len(r) <= limit else r[: limit - 3] + "..."


def table_to_batch(table: pa.Table) -> pa.RecordBatch:
    """One record batch holding all of ``table`` (copies only when it has several chunks)."""
    batches = table.combine_chunks().to_batches() if table.num_columns else table.to_batches()
    if len(batches) == 1:
        return batches[0]
    if not batches:
        return pa.RecordBatch.from_pylist([], schema=table.schema)
    return pa.concat_batches(batches)


def to_arrow_schema(schema: Any) -> pa.Schema:
    """A ``pyarrow.Schema`` from a schema or a mapping of field name to pyarrow / polars type (or type name).

    Examples
    --------
    >>> import polars as pl
    >>> to_arrow_schema({"id": pl.Int64, "name": "string", "score": pa.float64()})
    id: int64
    name: string
    score: double
    """
    if isinstance(schema, pa.Schema):
        return schema
    if not isinstance(schema, Mapping):
        msg = f"`schema` must be a pyarrow.Schema or a dict of field name to type, got {type(schema).__name__}"
        raise TypeError(msg)
    return pa.schema([(str(k), _to_arrow_type(k, t)) for k, t in schema.items()])


def _to_arrow_type(name: Any, t: Any) -> pa.DataType:
    if isinstance(t, pa.DataType):
        return t
    if isinstance(t, str):
        try:
            return pa.type_for_alias(t)
        except ValueError:
            msg = f"unknown type name {t!r} for field `{name}`; use a pyarrow or polars type"
            raise ValueError(msg) from None
    if type(t).__module__.startswith("polars") or getattr(t, "__module__", "").startswith("polars"):
        import polars as pl

        return _plain_offsets(pl.Series("x", [], dtype=t).to_arrow().type)
    msg = f"field `{name}`: expected a pyarrow or polars type, got {short_repr(t)}"
    raise TypeError(msg)


def _plain_offsets(t: pa.DataType) -> pa.DataType:
    """Polars' large strings and lists as the ordinary Arrow types (what inference gives)."""
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return pa.list_(_plain_offsets(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_plain_offsets(f.type)) for f in t])
    return t


def records_to_parts(
    records: Sequence[Any],
    positions: Sequence[int] | np.ndarray,
    *,
    schema: pa.Schema | None = None,
    lines: Sequence[int | None] | None = None,
    raw_of: Callable[[int], str | bytes] | None = None,
) -> tuple[list[Part], list[Malformed]]:
    """Store records as Arrow batches; say why for each one that cannot be stored.

    Parameters
    ----------
    records:
        Python objects; those that are not mappings become malformed (``TypeError``).
    positions:
        Stream position of each record (ascending).
    schema:
        Fixed types: values that do not fit make their record malformed
        (``SchemaError`` naming the field, the expected and the actual type) and
        fields outside the schema are ignored. Without it, types are inferred.
    lines:
        Line of each record in its file, for malformed rows.
    raw_of:
        The text of record ``i`` for malformed rows (default ``repr``).

    Examples
    --------
    >>> parts, bad = records_to_parts([{"a": 1}, 5, {"a": "x"}, {"a": 2**70}], [10, 11, 12, 13])
    >>> [(b.to_pylist(), ids.tolist()) for b, ids in parts]
    [([{'a': 1}], [10]), ([{'a': 'x'}], [12])]
    >>> [(m.position, m.error_type) for m in bad]
    [(11, 'TypeError'), (13, 'OverflowError')]
    """
    pos = np.asarray(positions, np.int64)
    bad: list[Malformed] = []

    def fail(i: int, error_type: str, message: str) -> None:
        raw = raw_of(i) if raw_of is not None else short_repr(records[i], 1000)
        bad.append(Malformed(int(pos[i]), error_type, message, None if lines is None else lines[i], raw))

    keep: list[int] = []
    for i, r in enumerate(records):
        if type(r) is dict or isinstance(r, Mapping):  # the ABC check alone costs ~1 µs a record
            keep.append(i)
        else:
            fail(i, "TypeError", f"expected a mapping (dict), got {type(r).__name__}")
    if schema is not None:
        parts = _with_schema(records, keep, pos, schema, fail)
    else:
        parts = _inferred(records, keep, pos, fail)
    bad.sort(key=lambda m: m.position)
    return parts, bad


def _with_schema(
    records: Sequence[Any], keep: list[int], pos: np.ndarray, schema: pa.Schema, fail: Callable[[int, str, str], None]
) -> list[Part]:
    good = []
    for i in keep:
        problem = _schema_problem(records[i], schema)
        if problem is None:
            good.append(i)
        else:
            fail(i, "SchemaError", problem)
    if not good:
        return []
    cols = [_column([records[i].get(f.name) for i in good], f.type) for f in schema]
    return [(pa.RecordBatch.from_arrays(cols, schema=schema), pos[good])]


def _schema_problem(record: Mapping[str, Any], schema: pa.Schema) -> str | None:
    for f in schema:
        v = record.get(f.name)
        if v is not None and not _fits(v, f.type):
            return f"field `{f.name}`: expected {f.type}, got {type(v).__name__} {short_repr(v)}"
    return None


def _fits(v: Any, t: pa.DataType) -> bool:
    if pa.types.is_integer(t):
        if not isinstance(v, int) or isinstance(v, bool):
            return False
        info = np.iinfo(t.to_pandas_dtype())
        return int(info.min) <= v <= int(info.max)
    if pa.types.is_floating(t):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if pa.types.is_boolean(t):
        return isinstance(v, bool)
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return isinstance(v, str)
    if pa.types.is_null(t):
        return False
    try:
        _column([v], t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError, TypeError, ValueError):
        return False
    return True


def _column(values: list[Any], t: pa.DataType) -> pa.Array:
    try:
        return pa.array(values, type=t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        # e.g. ISO text for a timestamp field: parse it the way the JSON reader does
        return cast_array(pa.array(values), t)


def _inferred(
    records: Sequence[Any], keep: list[int], pos: np.ndarray, fail: Callable[[int, str, str], None]
) -> list[Part]:
    if not keep:
        return []
    parts = _try_tables(records, keep, pos)
    if parts is not None:
        return parts
    groups: list[tuple[dict[str, type], list[int], list[Any]]] = []
    for i in keep:
        add_to_type_group(groups, i, flat_types(records[i]))
    out: list[Part] = []
    for _, ids, _ in groups:
        out += _bisect(records, ids, pos, fail)
    out.sort(key=lambda p: int(p[1][0]))
    return out


def _try_tables(records: Sequence[Any], idx: list[int], pos: np.ndarray) -> list[Part] | None:
    try:
        tables = records_to_tables([records[i] for i in idx])
    except Exception:  # noqa: BLE001 - any failure means: look closer at these records
        return None
    sel = np.asarray(idx, np.int64)
    return [(table_to_batch(t), pos[sel[ids]]) for t, ids in tables]


def _bisect(
    records: Sequence[Any], idx: list[int], pos: np.ndarray, fail: Callable[[int, str, str], None]
) -> list[Part]:
    parts = _try_tables(records, idx, pos)
    if parts is not None:
        return parts
    if len(idx) == 1:
        fail(idx[0], *_record_problem(records[idx[0]]))
        return []
    mid = len(idx) // 2
    return _bisect(records, idx[:mid], pos, fail) + _bisect(records, idx[mid:], pos, fail)


def _record_problem(record: Mapping[str, Any]) -> tuple[str, str]:
    """Why one record cannot be stored: the first field that fails, and the reason."""
    for k, v in record.items():
        big = _big_int(v)
        if big is not None:
            return "OverflowError", f"field `{k}`: integer {short_repr(big)} is outside the int64 range"
        try:
            pa.array([v])
        except Exception as exc:  # noqa: BLE001 - the reason is reported, whatever it is
            return "SchemaError", f"field `{k}`: cannot be stored in an Arrow column: {exc}"
    return "SchemaError", "record cannot be stored as Arrow"


def _big_int(v: Any) -> int | None:
    if isinstance(v, int) and not isinstance(v, bool):
        return v if not _INT64_MIN <= v <= _INT64_MAX else None
    if isinstance(v, Mapping):
        v = v.values()
    elif not isinstance(v, (list, tuple)):
        return None
    for e in v:
        b = _big_int(e)
        if b is not None:
            return b
    return None


def apply_schema(
    batch: pa.RecordBatch, ids: np.ndarray, schema: pa.Schema
) -> tuple[pa.RecordBatch, np.ndarray, list[Malformed]]:
    """Cast ``batch`` to ``schema``; rows holding a value that does not convert become malformed.

    Columns outside the schema are dropped; schema fields the batch lacks are null.

    Examples
    --------
    >>> b = pa.record_batch({"a": ["1", "x", "3"], "b": [1, 2, 3]})
    >>> out, ids, bad = apply_schema(b, np.arange(3), pa.schema([("a", pa.int64()), ("c", pa.string())]))
    >>> out.to_pylist(), ids.tolist(), [(m.position, m.message) for m in bad]
    ([{'a': 1, 'c': None}, {'a': 3, 'c': None}], [0, 2], [(1, "field `a`: expected int64, got string 'x'")])
    """
    have = dict(zip(batch.schema.names, batch.columns))
    keep = np.ones(batch.num_rows, np.bool_)
    bad: list[Malformed] = []
    for f in schema:
        col = have.get(f.name)
        if col is None or col.type == f.type or _casts(col, f.type):
            continue
        for i, v in enumerate(col.to_pylist()):
            if keep[i] and v is not None and not _casts(pa.array([v], col.type), f.type):
                keep[i] = False
                bad.append(
                    Malformed(
                        int(ids[i]),
                        "SchemaError",
                        f"field `{f.name}`: expected {f.type}, got {col.type} {short_repr(v)}",
                    )
                )
    if not keep.all():
        batch = batch.filter(pa.array(keep))
        ids = ids[keep]
        have = dict(zip(batch.schema.names, batch.columns))
    cols = [cast_array(have[f.name], f.type) if f.name in have else pa.nulls(batch.num_rows, f.type) for f in schema]
    bad.sort(key=lambda m: m.position)
    return pa.RecordBatch.from_arrays(cols, schema=schema), ids, bad


def _casts(col: pa.Array, t: pa.DataType) -> bool:
    try:
        col.cast(t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        return False
    return True
