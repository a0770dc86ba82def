"""Columns of records in flight: views over input arrays or kernel outputs, never copied.

A :class:`Col` is a base (an input Arrow array, arrays a kernel wrote, dictionary
codes, a constant) plus optional positions into it. Routing a record only
composes positions; values are gathered once, when an end state's table is built
or a kernel reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from kernels.select import num_to_float, positions_to_bitmap

__all__ = ("Col", "column_kind", "from_arrow", "EMPTY_IX", "NO_VALID")

EMPTY_IX = np.empty(0, np.int64)
NO_VALID = np.ones(1, np.bool_)

_INT_TYPES = (pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32())


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


def _validity(arr: pa.Array) -> np.ndarray | None:
    if arr.null_count == 0:
        return None
    return np.asarray(arr.is_valid(), dtype=np.bool_)


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

    def take(self, pos: np.ndarray | None) -> Col:
        """The same column at positions ``pos`` of this one (a view)."""
        if pos is None:
            return self
        ix = pos if self.ix is None else self.ix[pos]
        return Col(self.kind, self.store, self.data, ix, len(pos))

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
            return
        self._convert(arr, pool)
        pool.views[id(arr)] = (arr, self.store, self.data)

    def _convert(self, arr: pa.Array, pool: Any) -> None:
        if self.kind == "str":
            codes, valid = pool.encode(arr)
            self.store, self.data = "codes", (codes, valid, pool)
            return
        valid = _validity(arr)
        if self.kind == "bool":
            vals = np.asarray(arr.fill_null(False), dtype=np.bool_) if valid is not None else np.asarray(arr, dtype=np.bool_)
        elif self.kind == "int":
            a = arr if arr.type == pa.int64() else arr.cast(pa.int64())
            vals = _values_view(a, np.int64)
        else:
            a = arr if arr.type == pa.float64() else arr.cast(pa.float64())
            vals = _values_view(a, np.float64)
        self.store, self.data = "np", (vals, valid)

    # -- materialization ----------------------------------------------------------
    def to_arrow(self, masks: dict | None = None) -> pa.Array:
        """The column's values at its positions as an Arrow array (``masks``: see ``_gather``)."""
        ix = self.ix
        n = self.length if ix is None else len(ix)
        if self.store == "arrow":
            arr = self.data
            if ix is None:
                return arr
            return _gather(arr, ix, masks)
        if self.store == "const":
            return _const_array(self.data, n)
        if self.store == "np":
            vals, valid = self.data
            if ix is not None:
                vals = vals[ix]
                valid = None if valid is None else valid[ix]
            mask = None if valid is None or valid.all() else ~valid
            return pa.array(vals, mask=mask)
        if self.store == "num":
            isf, iv, fv, valid = self.data
            if ix is not None:
                isf, iv, fv = isf[ix], iv[ix], fv[ix]
                valid = None if valid is None else valid[ix]
            mask = None if valid is None or valid.all() else ~valid
            if valid is not None:
                isf = isf & valid
            out = np.empty(len(isf), np.float64)
            if num_to_float(isf, iv, fv, out) == 0:  # no float at all: Python would give ints
                return pa.array(iv, mask=mask)
            return pa.array(out, mask=mask)
        codes, valid, pool = self.data
        if ix is not None:
            codes = codes[ix]
            valid = None if valid is None else valid[ix]
        if len(pool) == 0:
            return pa.nulls(n, pa.string())
        mask = None if valid is None or valid.all() else ~valid
        if mask is not None:
            codes = np.where(mask, 0, codes)
        indices = pa.array(np.asarray(codes, np.int32), mask=mask)
        return pa.DictionaryArray.from_arrays(indices, pool.array)

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


def _gather(arr: pa.Array, ix: np.ndarray, masks: dict | None) -> pa.Array:
    """``arr`` at ascending positions ``ix``: a filter when most rows are kept, else a take.

    ``masks`` caches the filter bitmap per positions array, for the columns that share it.
    """
    n = len(arr)
    if len(ix) * 4 >= n:
        hit = None if masks is None else masks.get(id(ix))
        if hit is None or hit[0] is not ix or hit[1] != n:
            bits = positions_to_bitmap(ix, n)
            hit = (ix, n, pa.BooleanArray.from_buffers(pa.bool_(), n, [None, pa.py_buffer(bits)]))
            if masks is not None:
                masks[id(ix)] = hit
        return arr.filter(hit[2])
    return arr.take(pa.array(ix))


def _values_view(arr: pa.Array, dtype: Any) -> np.ndarray:
    """Zero-copy numpy view of a primitive array's values (nulls hold garbage)."""
    buf = arr.buffers()[1]
    return np.frombuffer(buf, dtype=dtype, count=len(arr) + arr.offset)[arr.offset:]


_ZEROS: dict[int, pa.Array] = {}


def _zero_indices(n: int) -> pa.Array:
    """An immutable int32 array of ``n`` zeros, shared by every constant string column of that length."""
    z = _ZEROS.get(n)
    if z is None:
        if len(_ZEROS) > 16:
            _ZEROS.clear()
        z = pa.array(np.zeros(n, np.int32))
        _ZEROS[n] = z
    return z


def _const_array(v: Any, n: int) -> pa.Array:
    if v is None:
        return pa.nulls(n)
    if isinstance(v, str):
        return pa.DictionaryArray.from_arrays(_zero_indices(n), pa.array([v], pa.string()))
    if isinstance(v, bool):
        return pa.array(np.full(n, v, np.bool_))
    if isinstance(v, int):
        return pa.array(np.full(n, v, np.int64))
    if isinstance(v, float):
        return pa.array(np.full(n, v, np.float64))
    return pa.array([v] * n)


def from_arrow(arr: pa.Array) -> Col:
    """A column over an input array (chunked arrays are combined first)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
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
        return [a.cast(t) for a in plain]
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in types):
        t = pa.float64() if any(pa.types.is_floating(t) for t in types) else pa.int64()
        return [a.cast(t) for a in plain]
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
    """Values of mixed Python types as a dense union (``to_pylist`` gives them back)."""
    kinds: dict[type, int] = {}
    type_ids, offsets = [], []
    children: list[list[Any]] = []
    for v in values:
        t = type(v)
        if t not in kinds:
            kinds[t] = len(children)
            children.append([])
        k = kinds[t]
        type_ids.append(k)
        offsets.append(len(children[k]))
        children[k].append(v)
    arrays = [pa.array(c) for c in children]
    names = [t.__name__ for t in kinds]
    return pa.UnionArray.from_dense(pa.array(type_ids, pa.int8()), pa.array(offsets, pa.int32()), arrays, names)
