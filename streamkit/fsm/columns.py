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

from streamkit._arrow.cast import cast_array
from streamkit._arrow.gather import codes_array, const_array, np_array, num_array, take_arrow, valid_flags, values_view


__all__ = ("Col", "column_kind", "from_arrow", "py_column", "EMPTY_IX", "NO_VALID")

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
        columns that share one (see :func:`~streamkit._arrow.gather.take_arrow`).
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
