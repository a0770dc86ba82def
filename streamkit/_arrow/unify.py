"""One policy for a field whose type differs between the pieces of a result: keep every value exactly.

Each chunk of a stream is typed on its own (inferred from its own records), and
records routed through different states may leave with different types, so the
pieces of one output column do not always agree. Results — ``process()`` and
``process_stream()`` into memory alike — unify them so:

1. a type common to all pieces that holds every value as it is: nulls take any
   type, integers widen, integers and floats give float64 (as ``pa.array`` and
   polars do), text of any offset width gives text, dictionaries decode, structs
   merge their fields, lists unify their items;
2. otherwise a dense union with one child per Python type (per shape for nested
   values that disagree), so ``to_pylist()`` gives back exactly the values the
   records held — the per-record semantics (DESIGN.md §3) compare values, never
   their text.

File sinks write formats that hold no union: they write such values as text
(:mod:`streamkit.io._types`), on top of :func:`common_type`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from streamkit._arrow.cast import cast_array
from streamkit.errors import SchemaError

__all__ = ("common_type", "unify_arrays", "concat_tables", "dense_union", "value_shape")

_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)


def _is_str(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t)


def _pair(a: pa.DataType, b: pa.DataType) -> pa.DataType | None:
    if a == b:
        return a
    if pa.types.is_null(a):
        return b
    if pa.types.is_null(b):
        return a
    if pa.types.is_dictionary(a):
        return _pair(a.value_type, b)
    if pa.types.is_dictionary(b):
        return _pair(a, b.value_type)
    if _is_str(a) and _is_str(b):
        return pa.large_string() if pa.types.is_large_string(a) or pa.types.is_large_string(b) else pa.string()
    if pa.types.is_integer(a) and pa.types.is_integer(b):
        if pa.types.is_signed_integer(a) == pa.types.is_signed_integer(b):
            return a if a.bit_width >= b.bit_width else b
        signed, unsigned = (a, b) if pa.types.is_signed_integer(a) else (b, a)
        return signed if signed.bit_width > unsigned.bit_width else (pa.int64() if unsigned.bit_width < 64 else None)
    if (pa.types.is_integer(a) or pa.types.is_floating(a)) and (pa.types.is_integer(b) or pa.types.is_floating(b)):
        return pa.float64()
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        fields: dict[str, pa.DataType] = {f.name: f.type for f in a}
        for f in b:
            if f.name in fields:
                t = _pair(fields[f.name], f.type)
                if t is None:
                    return None
                fields[f.name] = t
            else:
                fields[f.name] = f.type
        return pa.struct(list(fields.items()))
    if _is_list(a) and _is_list(b):
        item = _pair(a.value_type, b.value_type)
        if item is None:
            return None
        return pa.large_list(item) if pa.types.is_large_list(a) or pa.types.is_large_list(b) else pa.list_(item)
    if pa.types.is_timestamp(a) and pa.types.is_timestamp(b) and a.tz == b.tz:
        return a if _UNIT_ORDER.index(a.unit) >= _UNIT_ORDER.index(b.unit) else b
    return None


_UNIT_ORDER = ("s", "ms", "us", "ns")


def common_type(types: Iterable[pa.DataType]) -> pa.DataType | None:
    """The type that holds the values of every type in ``types`` as they are, or ``None`` if there is none.

    Examples
    --------
    >>> common_type([pa.null(), pa.int32(), pa.int64()]), common_type([pa.int64(), pa.float64()])
    (DataType(int64), DataType(double))
    >>> common_type([pa.struct([("a", pa.int64())]), pa.struct([("b", pa.string())])])
    StructType(struct<a: int64, b: string>)
    >>> common_type([pa.int64(), pa.string()]) is None, common_type([pa.int64(), pa.uint64()]) is None
    (True, True)
    """
    out: pa.DataType | None = None
    for t in types:
        out = t if out is None else _pair(out, t)
        if out is None:
            return None
    return pa.null() if out is None else out


def unify_arrays(arrays: list[pa.Array]) -> list[pa.Array]:
    """Arrays of one field from different pieces, in one type that keeps every value (see the module).

    Examples
    --------
    >>> [a.type for a in unify_arrays([pa.array([1]), pa.array([None]), pa.array([0.5])])]
    [DataType(double), DataType(double), DataType(double)]
    >>> a, b = unify_arrays([pa.array([1, None]), pa.array(["x"])])
    >>> a.type == b.type, a.to_pylist() + b.to_pylist()
    (True, [1, None, 'x'])
    """
    types = {a.type for a in arrays}
    if len(types) <= 1:
        return arrays
    t = common_type(types)
    if t is not None:
        try:
            return [cast_array(a, t) for a in arrays]
        except _CAST_ERRORS:
            pass
    values = [v for a in arrays for v in a.to_pylist()]
    try:
        merged = pa.array(values)
    except _CAST_ERRORS:
        merged = dense_union(values)
    out, pos = [], 0
    for a in arrays:
        out.append(merged.slice(pos, len(a)))
        pos += len(a)
    return out


def concat_tables(tables: list[pa.Table]) -> pa.Table:
    """Tables whose columns or types differ as one table: every column of any of them, unified.

    A column a table lacks is null there. Equal schemas are concatenated without a copy.

    Examples
    --------
    >>> t = concat_tables([pa.table({"a": [1]}), pa.table({"a": ["x"], "b": [None]})])
    >>> t.column_names, t.column("a").to_pylist()
    (['a', 'b'], [1, 'x'])
    """
    tables = [t for t in tables if t is not None]
    if not tables:
        return pa.table({})
    schema = tables[0].schema
    if all(t.schema.equals(schema) for t in tables[1:]):
        return pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    names: dict[str, None] = {}
    for t in tables:
        names.update(dict.fromkeys(t.column_names))
    columns: dict[str, pa.ChunkedArray] = {}
    for name in names:
        pieces = [t.column(name).combine_chunks() if name in t.column_names else pa.nulls(t.num_rows) for t in tables]
        columns[name] = pa.chunked_array(unify_arrays(pieces))
    return pa.table(columns)


def dense_union(values: list[Any]) -> pa.Array:
    """Values of mixed types as a dense union (``to_pylist`` gives them back).

    One child per Python type; values of one Python type that Arrow cannot hold
    in one array (``{'x': 1}`` beside ``{'x': 's'}``) get one child per shape.

    Examples
    --------
    >>> dense_union([{"x": 1}, "s", {"x": "t", "y": [1]}, None]).to_pylist()
    [{'x': 1}, 's', {'x': 't', 'y': [1]}, None]
    """
    groups: dict[Any, list[int]] = {}
    nulls: list[int] = []
    for i, v in enumerate(values):
        if v is None:
            nulls.append(i)
        else:
            groups.setdefault(type(v), []).append(i)
    if not groups:
        return pa.nulls(len(values))
    if nulls:  # nulls are nulls of the first child (a union has no validity of its own)
        first = next(iter(groups.values()))
        first += nulls
        first.sort()
    children: list[tuple[str, list[int], pa.Array | None]] = []  # name, value numbers, array if built
    for t, idx in groups.items():
        try:
            children.append((t.__name__, idx, pa.array([values[i] for i in idx])))
        except _CAST_ERRORS:
            shapes: dict[Any, list[int]] = {}
            for i in idx:
                shapes.setdefault(value_shape(values[i]), []).append(i)
            children += [(f"{t.__name__}{k}", ids, None) for k, ids in enumerate(shapes.values())]
    if len(children) > _MAX_UNION_CHILDREN:
        msg = f"values of {len(children)} different types or shapes in one field; at most {_MAX_UNION_CHILDREN}"
        raise SchemaError(msg)
    type_ids = np.empty(len(values), np.int8)
    offsets = np.empty(len(values), np.int32)
    arrays = []
    for k, (_, idx, arr) in enumerate(children):
        type_ids[idx] = k
        offsets[idx] = np.arange(len(idx), dtype=np.int32)
        try:
            arrays.append(arr if arr is not None else pa.array([values[i] for i in idx]))
        except _CAST_ERRORS as exc:
            msg = f"values of one field cannot be held by Arrow together: {exc}"
            raise SchemaError(msg) from None
    names = [name for name, _, _ in children]
    return pa.UnionArray.from_dense(pa.array(type_ids), pa.array(offsets), arrays, names)


#: Arrow's limit on a union's children (type codes 0..127).
_MAX_UNION_CHILDREN = 128


def value_shape(v: Any) -> Any:
    """A hashable description of a value's nested types: equal shapes fit one Arrow array.

    Mappings by field (null fields left out), lists by the shapes of their
    elements, anything else by its Python type.

    Examples
    --------
    >>> value_shape({"x": 1, "y": None}) == value_shape({"x": 2})
    True
    >>> value_shape({"x": 1}) == value_shape({"x": "s"})
    False
    """
    if isinstance(v, Mapping):
        return ("map", frozenset((k, value_shape(e)) for k, e in v.items() if e is not None))
    if isinstance(v, (list, tuple)):
        return ("list", frozenset(value_shape(e) for e in v if e is not None))
    return type(v)
