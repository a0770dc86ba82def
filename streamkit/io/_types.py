"""Column types of output files: which casts lose nothing, and one file type for tables whose types differ.

Used by the file sinks, whose tables may differ in columns and types from one
write to the next (per-chunk inference, different end states in one sink).
Types are unified as results unify them (:func:`streamkit._arrow.unify.common_type`);
where that leaves no common type (an int field that became text), a file format
that holds no union gets the values' text.

- :func:`fits` / :func:`conform`: a table into a file schema without losing
  anything (a null column takes any type; missing columns become nulls; ints
  widen; ints become floats only when every value is exact; strings of any
  offset width; dictionaries decode). Anything else does not fit.
- :func:`unify_types`: one type for values of several types (their common
  type; text when they have none).
- :func:`cast_to`: a table to a unified schema; values of other types become
  their text (nested values as JSON).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from streamkit._arrow.cast import cast_array
from streamkit._arrow.unify import common_type
from streamkit.io._jsontext import dumps

__all__ = ("conform", "unify_types", "unify_schemas", "cast_to", "to_text", "without_unions")


def _is_str(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _is_num(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t)


def _safe_cast(arr: Any, t: pa.DataType) -> Any:
    """``arr`` cast to ``t`` when no value changes, else ``None``."""
    if arr.type == t:
        return arr
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), t)
    s = arr.type
    if pa.types.is_dictionary(s):
        return _safe_cast(arr.cast(s.value_type), t)
    ok = (
        (_is_str(s) and _is_str(t))
        or (pa.types.is_integer(s) and _is_num(t))
        or (pa.types.is_floating(s) and pa.types.is_floating(t) and s.bit_width <= t.bit_width)
        or (pa.types.is_struct(s) and pa.types.is_struct(t) and all(t.get_field_index(f.name) >= 0 for f in s))
        or ((pa.types.is_list(s) or pa.types.is_large_list(s)) and (pa.types.is_list(t) or pa.types.is_large_list(t)))
        or (pa.types.is_timestamp(s) and pa.types.is_timestamp(t) and s.tz == t.tz)
    )
    if not ok:
        return None
    nested = pa.types.is_struct(s) or pa.types.is_list(s) or pa.types.is_large_list(s)
    if nested and not _nested_fits(s, t):
        return None
    try:
        return cast_array(arr, t)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None


def _nested_fits(s: pa.DataType, t: pa.DataType) -> bool:
    if pa.types.is_struct(s):
        return all(_type_fits(f.type, t.field(f.name).type) for f in s)
    return _type_fits(s.value_type, t.value_type)


def _type_fits(s: pa.DataType, t: pa.DataType) -> bool:
    if s == t or pa.types.is_null(s):
        return True
    if _is_str(s) and _is_str(t):
        return True
    if pa.types.is_integer(s) and _is_num(t):  # the safe cast that follows checks every value
        return True
    if pa.types.is_floating(s) and pa.types.is_floating(t):
        return t.bit_width >= s.bit_width
    if pa.types.is_struct(s) and pa.types.is_struct(t):
        return all(t.get_field_index(f.name) >= 0 and _type_fits(f.type, t.field(f.name).type) for f in s)
    if (pa.types.is_list(s) or pa.types.is_large_list(s)) and (pa.types.is_list(t) or pa.types.is_large_list(t)):
        return _type_fits(s.value_type, t.value_type)
    return False


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table | None:
    """``table`` with exactly ``schema``'s columns and types if nothing is lost, else ``None``.

    Examples
    --------
    >>> s = pa.schema([("a", pa.float64()), ("b", pa.string())])
    >>> conform(pa.table({"a": [1, 2]}), s).to_pylist()
    [{'a': 1.0, 'b': None}, {'a': 2.0, 'b': None}]
    >>> conform(pa.table({"a": [2**60]}), s) is None, conform(pa.table({"c": [1]}), s) is None
    (True, True)
    """
    if table.schema.equals(schema):
        return table
    names = set(schema.names)
    if any(n not in names for n in table.column_names) or len(set(table.column_names)) != table.num_columns:
        return None
    cols = []
    for f in schema:
        if f.name in table.column_names:
            c = _safe_cast(table.column(f.name), f.type)
            if c is None:
                return None
        else:
            c = pa.nulls(table.num_rows, f.type)
        cols.append(c)
    return pa.Table.from_arrays(cols, schema=schema)


def unify_types(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    """One type for a file column holding values of ``a`` and of ``b``: their common type, else text.

    Examples
    --------
    >>> unify_types(pa.null(), pa.int64()), unify_types(pa.int64(), pa.float64()), unify_types(pa.int64(), pa.string())
    (DataType(int64), DataType(double), DataType(string))
    """
    t = common_type([a, b])
    return pa.string() if t is None else t


def unify_schemas(schemas: list[pa.Schema]) -> pa.Schema:
    """Every column of any schema (in order of first appearance), each with a type that holds all of its types."""
    types: dict[str, pa.DataType] = {}
    for s in schemas:
        for f in s:
            types[f.name] = unify_types(types[f.name], f.type) if f.name in types else f.type
    return pa.schema(list(types.items()))


def to_text(arr: Any) -> pa.Array:
    """Values as text: Arrow's cast where it has one, else JSON for values other than strings.

    Examples
    --------
    >>> to_text(pa.array([{"a": 1}, None])).to_pylist()
    ['{"a":1}', None]
    >>> u = pa.UnionArray.from_dense(pa.array([0, 1], pa.int8()), pa.array([0, 0], pa.int32()),
    ...                              [pa.array([[1]]), pa.array(["x"])])
    >>> to_text(u).to_pylist()
    ['[1]', 'x']
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    try:
        return arr.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.array(
            [v if v is None or isinstance(v, str) else dumps(v).decode() for v in arr.to_pylist()], pa.string()
        )


def cast_to(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` in ``schema`` (see :func:`unify_schemas`): lossless casts, else text, missing columns null."""
    cols = []
    for f in schema:
        if f.name not in table.column_names:
            cols.append(pa.nulls(table.num_rows, f.type))
            continue
        c = table.column(f.name)
        out = _safe_cast(c, f.type)
        if out is None:
            if _is_str(f.type):
                out = to_text(c).cast(f.type)
            else:
                try:
                    out = cast_array(c, f.type)
                except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                    out = to_text(c).cast(f.type, safe=False)
        cols.append(out)
    return pa.Table.from_arrays(cols, schema=schema)


def without_unions(table: pa.Table) -> pa.Table:
    """``table`` with every union column (values of several types) as their text, for tools that hold no union.

    Examples
    --------
    >>> u = pa.UnionArray.from_dense(pa.array([0, 1], pa.int8()), pa.array([0, 0], pa.int32()),
    ...                              [pa.array([1]), pa.array(["x"])])
    >>> without_unions(pa.table({"u": u, "n": [1, 2]})).to_pylist()
    [{'u': '1', 'n': 1}, {'u': 'x', 'n': 2}]
    """
    if not any(pa.types.is_union(t) for t in table.schema.types):
        return table
    cols = [to_text(c) if pa.types.is_union(c.type) else c for c in table.columns]
    return pa.Table.from_arrays(cols, names=table.column_names)
