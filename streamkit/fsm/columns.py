"""Columns of records in flight: views over input arrays or kernel outputs, never copied.

A :class:`Col` is a base (an input Arrow array, arrays a kernel wrote, dictionary
codes, a constant) plus optional positions into it. Routing a record only
composes positions; values are gathered once, when an end state's table is built
or a kernel reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from streamkit._cast import cast_array
from streamkit.errors import SchemaError
from streamkit.fsm.gather import codes_array, const_array, np_array, num_array, take_arrow, valid_flags, values_view


__all__ = ("Col", "column_kind", "from_arrow", "EMPTY_IX", "NO_VALID")

EMPTY_IX = np.empty(0, np.int64)
NO_VALID = np.ones(1, np.bool_)

_INT_TYPES = (pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32())


_SAME_AS_NUMPY = (pa.int64(), pa.float64(), pa.bool_())


def column_kind(t: pa.DataType) -> str:
    """The kind a kernel sees for an Arrow type: int float bool str null, or ``other:<type>``."""
    if t in _INT_TYPES:
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "str"
    if pa.types.is_dictionary(t) and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
        return "str"
    if pa.types.is_null(t):
        return "null"
    return f"other:{t}"


@dataclass(eq=False)
class Col:
    """One field of a group of records.

    ``kind`` is the kernel kind; ``data`` depends on it: an Arrow array
    (``arrow``), ``(values, valid)`` numpy arrays (``np``), ``(isfloat, ints,
    floats, valid)`` (``num``), ``(codes, valid, pool)`` (``codes``) or a
    Python value (``const``). ``ix`` (positions into the base) is ``None`` for
    the identity.
    """

    kind: str
    store: str
    data: Any
    ix: np.ndarray | None = None
    length: int = 0
    #: the input Arrow array an ``np`` column was converted from, when it has the very type
    #: the numpy values would give (int64, float64, bool): outputs re-select it directly
    src: pa.Array | None = None
    #: no value at these positions is null (a kernel proved it): no validity to gather
    no_nulls: bool = False

    @property
    def base(self) -> Any:
        """What the values are read from (columns over the same base share it)."""
        return self.src if self.src is not None else self.data

    def take(self, pos: np.ndarray | None) -> Col:
        """The same column at positions ``pos`` of this one (a view)."""
        if pos is None:
            return self
        ix = pos if self.ix is None else self.ix[pos]
        return Col(self.kind, self.store, self.data, ix, len(pos), self.src, self.no_nulls)

    # -- kernel arguments -------------------------------------------------------
    def kernel_args(self, pool: Any) -> list[Any]:
        """``ix, has_valid, valid, data...`` as the generated kernel expects them."""
        ix = EMPTY_IX if self.ix is None else self.ix
        if self.store == "arrow":
            self._to_numpy(pool)
        if self.store == "const":
            n = self.length if self.ix is None else len(self.ix)
            v = self.data
            if isinstance(v, str):
                data = pool.intern_strings([v])
            else:
                data = np.array([v], {"bool": np.bool_, "int": np.int64, "float": np.float64}[self.kind])
            return [np.zeros(n, np.int64), False, NO_VALID, data]
        if self.store == "np":
            vals, valid = self.data
            return [ix, valid is not None, NO_VALID if valid is None else valid, vals]
        if self.store == "num":
            isf, iv, fv, valid = self.data
            return [ix, valid is not None, NO_VALID if valid is None else valid, isf, iv, fv]
        codes, valid, _ = self.data
        return [ix, valid is not None, NO_VALID if valid is None else valid, codes]

    def _to_numpy(self, pool: Any) -> None:
        arr: pa.Array = self.data
        hit = pool.views.get(id(arr))
        if hit is not None and hit[0] is arr:
            self.store, self.data = hit[1], hit[2]
        else:
            self._convert(arr, pool)
            pool.views[id(arr)] = (arr, self.store, self.data)
        if self.store == "np" and arr.type in _SAME_AS_NUMPY:
            self.src = arr

    def _convert(self, arr: pa.Array, pool: Any) -> None:
        if self.kind == "str":
            codes, valid = pool.encode(arr)
            self.store, self.data = "codes", (codes, valid, pool)
            return
        valid = valid_flags(arr)
        if self.kind == "bool":
            vals = np.asarray(arr.fill_null(False), dtype=np.bool_) if valid is not None else np.asarray(arr, dtype=np.bool_)
        elif self.kind == "int":
            a = arr if arr.type == pa.int64() else arr.cast(pa.int64())
            vals = values_view(a, np.int64)
        else:
            a = arr if arr.type == pa.float64() else arr.cast(pa.float64())
            vals = values_view(a, np.float64)
        self.store, self.data = "np", (vals, valid)

    # -- materialization ----------------------------------------------------------
    def to_arrow(self, runs: dict | None = None) -> pa.Array:
        """The column's values at its positions as an Arrow array.

        ``runs`` caches the runs of consecutive positions per positions array, for the
        columns that share one (see :func:`~streamkit.fsm.gather.take_arrow`).
        """
        ix = self.ix
        n = self.length if ix is None else len(ix)
        if self.store == "arrow":
            arr = self.data
            return arr if ix is None else take_arrow(arr, ix, runs, no_nulls=self.no_nulls)
        if self.store == "const":
            return const_array(self.data, n)
        if self.store == "np":
            if self.src is not None:
                return self.src if ix is None else take_arrow(self.src, ix, runs, no_nulls=self.no_nulls)
            vals, valid = self.data
            return np_array(vals, None if self.no_nulls else valid, ix, n)
        if self.store == "num":
            isf, iv, fv, valid = self.data
            return num_array(isf, iv, fv, valid, ix, n)
        codes, valid, pool = self.data
        if len(pool) == 0:
            return pa.nulls(n, pa.string())
        return codes_array(codes, valid, ix, n, pool.array)

    def to_pylist(self) -> list[Any]:
        """Python values at the column's positions (ints stay ints in ``num`` columns)."""
        if self.store == "num":
            isf, iv, fv, valid = self.data
            ix = self.ix if self.ix is not None else np.arange(len(isf))
            out: list[Any] = []
            for k in ix.tolist():
                if valid is not None and not valid[k]:
                    out.append(None)
                else:
                    out.append(float(fv[k]) if isf[k] else int(iv[k]))
            return out
        arr = self.to_arrow()
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        return arr.to_pylist()


def from_arrow(arr: pa.Array) -> Col:
    """A column over an input array (chunked arrays are combined first)."""
    if isinstance(arr, pa.ChunkedArray):
        # one chunk: use it as is (``combine_chunks`` copies even then)
        arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    kind = column_kind(arr.type)
    if kind == "str" and (pa.types.is_large_string(arr.type) or pa.types.is_string_view(arr.type)):
        arr = arr.cast(pa.string())
    return Col(kind, "arrow", arr, None, len(arr))


def py_column(values: list[Any]) -> Col:
    """A column from Python values produced by a Python-run state."""
    arr = pa.array(values)
    return from_arrow(arr)


def unify_arrays(arrays: list[pa.Array]) -> list[pa.Array]:
    """Cast arrays of one field from different groups to one type (as ``pa.array`` would infer)."""
    types = {a.type for a in arrays}
    if len(types) <= 1:
        return arrays
    plain = [a.cast(a.type.value_type) if pa.types.is_dictionary(a.type) else a for a in arrays]
    types = {a.type for a in plain if not pa.types.is_null(a.type)}
    if len(types) <= 1:
        t = next(iter(types), pa.null())
        return [cast_array(a, t) for a in plain]
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in types):
        t = pa.float64() if any(pa.types.is_floating(t) for t in types) else pa.int64()
        return [cast_array(a, t) for a in plain]
    values = [v for a in plain for v in a.to_pylist()]
    try:
        merged = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        merged = _dense_union(values)
    out, pos = [], 0
    for a in plain:
        out.append(merged.slice(pos, len(a)))
        pos += len(a)
    return out


def _dense_union(values: list[Any]) -> pa.Array:
    """Values of mixed types as a dense union (``to_pylist`` gives them back).

    One child per Python type; values of one Python type that Arrow cannot hold
    in one array (``{'x': 1}`` beside ``{'x': 's'}``) get one child per shape.

    Examples
    --------
    >>> _dense_union([{"x": 1}, "s", {"x": "t", "y": [1]}, None]).to_pylist()
    [{'x': 1}, 's', {'x': 't', 'y': [1]}, None]
    """
    groups: dict[Any, list[int]] = {}
    for i, v in enumerate(values):
        groups.setdefault(type(v), []).append(i)
    children: list[tuple[str, list[int], pa.Array | None]] = []  # name, value numbers, array if built
    for t, idx in groups.items():
        try:
            children.append((t.__name__, idx, pa.array([values[i] for i in idx])))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
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
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
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
