"""Columns of records in flight: views over input arrays or kernel outputs, never copied.

A :class:`Col` is a base — an input Arrow array (:class:`ArrowCol`), values a
kernel wrote (:class:`ValuesCol`, :class:`NumCol`, :class:`TextCol`) or one
value for every row (:class:`ConstCol`) — plus optional positions into it
(``ix``; ``None`` is the identity). Routing a record only composes positions;
values are gathered once, when an end state's table is built or a kernel reads
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from streamkit._arrow.build import values_view
from streamkit._arrow.gather import (
    codes_array,
    const_array,
    np_array,
    num_array,
    take_arrow,
    text_array,
    valid_flags,
)

__all__ = (
    "Col",
    "ArrowCol",
    "ValuesCol",
    "NumCol",
    "TextCol",
    "ConstCol",
    "column_kind",
    "from_arrow",
    "py_column",
    "text_view",
    "EMPTY_IX",
    "NO_VALID",
    "Views",
)

EMPTY_IX = np.empty(0, np.int64)
NO_VALID = np.ones(1, np.bool_)
_NO_CODES = np.empty(0, np.int32)
_NO_BYTES = np.empty(0, np.uint8)

#: The numpy views of a batch's input arrays, made once per batch and shared by every group:
#: ``id(array) -> (array, view)`` (the array kept beside its view, so the id stays its own).
Views = dict[int, tuple[pa.Array, "Col"]]

_INT_TYPES = (pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32())
_CONST_DTYPE = {"bool": np.bool_, "int": np.int64, "float": np.float64}


def column_kind(t: pa.DataType) -> str:
    """The kind a kernel sees for an Arrow type: int float bool str null, or ``other:<type>``.

    Examples
    --------
    >>> column_kind(pa.int32()), column_kind(pa.large_string()), column_kind(pa.list_(pa.int64()))
    ('int', 'str', 'other:list<item: int64>')
    """
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
    """One field of a group of records: a base of values and the positions of the group's rows in it.

    Attributes
    ----------
    kind:
        What a kernel sees (see :func:`column_kind`; ``num`` for int-or-float values).
    ix:
        Positions into the base, one per row (``None``: the base itself, ``length`` rows).
    length:
        Rows of the base (the column's length when ``ix`` is ``None``).
    no_nulls:
        No value at these positions is null (a kernel proved it): no validity to gather.
    """

    kind: str
    ix: np.ndarray | None
    length: int
    no_nulls: bool = False

    @property
    def n(self) -> int:
        """Rows in the column."""
        return self.length if self.ix is None else len(self.ix)

    @property
    def base(self) -> Any:
        """What the values are read from (columns over the same base share it)."""
        return self

    @property
    def written(self) -> bool:
        """Whether a kernel wrote the values (they are still in cache right after it ran)."""
        return False

    def take(self, pos: np.ndarray | None) -> Col:
        """The same column at positions ``pos`` of this one (a view)."""
        if pos is None:
            return self
        new = object.__new__(type(self))  # a copy with other positions (dataclasses.replace: 5x slower)
        new.__dict__.update(self.__dict__)
        new.ix = pos if self.ix is None else self.ix[pos]
        return new

    def kernel_args(self, views: Views) -> list[Any]:
        """``ix, has_valid, valid, data...`` as a generated kernel reads the field."""
        raise NotImplementedError

    def to_arrow(self, runs: dict | None = None) -> pa.Array:
        """The column's values at its positions as an Arrow array.

        ``runs`` caches the runs of consecutive positions per positions array, for the
        columns that share one (see :func:`~streamkit._arrow.gather.take_arrow`).
        """
        raise NotImplementedError

    def to_pylist(self) -> list[Any]:
        """Python values at the column's positions."""
        arr = self.to_arrow()
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        return arr.to_pylist()

    def _ix(self) -> np.ndarray:
        return EMPTY_IX if self.ix is None else self.ix


def _valid_args(valid: np.ndarray | None) -> list[Any]:
    return [valid is not None, NO_VALID if valid is None else valid]


@dataclass(eq=False, kw_only=True)
class ValuesCol(Col):
    """bool, int64 or float64 values with their validity (``None``: none is null), e.g. a kernel's output.

    ``src`` is the input Arrow array the values were read from when it has their very
    type (int64, float64, bool): outputs re-select it instead of building a new array.
    """

    values: np.ndarray
    valid: np.ndarray | None
    src: pa.Array | None = None

    @property
    def base(self) -> Any:
        return self.src if self.src is not None else self.values

    @property
    def written(self) -> bool:
        return self.src is None

    def kernel_args(self, views: Views) -> list[Any]:
        return [self._ix(), *_valid_args(self.valid), self.values]

    def to_arrow(self, runs: dict | None = None) -> pa.Array:
        if self.src is not None:
            return self.src if self.ix is None else take_arrow(self.src, self.ix, runs, no_nulls=self.no_nulls)
        return np_array(self.values, None if self.no_nulls else self.valid, self.ix, self.n)


@dataclass(eq=False, kw_only=True)
class NumCol(Col):
    """Ints and floats side by side, as a kernel wrote a value that may be either (``isf`` says which)."""

    isf: np.ndarray
    ints: np.ndarray
    floats: np.ndarray
    valid: np.ndarray | None

    @property
    def base(self) -> Any:
        return self.isf

    @property
    def written(self) -> bool:
        return True

    def kernel_args(self, views: Views) -> list[Any]:
        return [self._ix(), *_valid_args(self.valid), self.isf, self.ints, self.floats]

    def to_arrow(self, runs: dict | None = None) -> pa.Array:
        """float64 if any valid value is a float, else int64 (as Python would build the column)."""
        return num_array(self.isf, self.ints, self.floats, self.valid, self.ix, self.n)

    def to_pylist(self) -> list[Any]:
        """Python values at the column's positions (ints stay ints, floats floats)."""
        ix = self.ix if self.ix is not None else np.arange(len(self.isf))
        out: list[Any] = []
        for k in ix.tolist():
            if self.valid is not None and not self.valid[k]:
                out.append(None)
            else:
                out.append(float(self.floats[k]) if self.isf[k] else int(self.ints[k]))
        return out


@dataclass(eq=False, kw_only=True)
class TextCol(Col):
    """Strings as UTF-8 bytes in Arrow's layout (int32 ``offsets`` into ``data``), read through ``codes``
    when the column is dictionary-encoded (a Parquet dictionary column, a kernel's literals).

    ``valid`` holds a flag per row of the base (``None``: no null); ``arr`` is the
    input Arrow array these are views of, if any (outputs re-select it);
    ``dictionary`` the Arrow strings ``codes`` number (outputs stay dictionary-encoded).
    """

    offsets: np.ndarray
    data: np.ndarray
    valid: np.ndarray | None
    codes: np.ndarray | None = None
    dictionary: pa.Array | None = None
    arr: pa.Array | None = None

    @property
    def base(self) -> Any:
        if self.arr is not None:
            return self.arr
        return self.codes if self.codes is not None else self.offsets

    @property
    def written(self) -> bool:
        return self.arr is None

    def kernel_args(self, views: Views) -> list[Any]:
        codes = _NO_CODES if self.codes is None else self.codes
        return [self._ix(), *_valid_args(self.valid), codes, self.offsets, self.data]

    def to_arrow(self, runs: dict | None = None) -> pa.Array:
        if self.arr is not None:
            return self.arr if self.ix is None else take_arrow(self.arr, self.ix, runs, no_nulls=self.no_nulls)
        if self.codes is not None and self.dictionary is not None:
            return codes_array(self.codes, self.valid, self.ix, self.n, self.dictionary)
        return text_array(self.offsets, self.data, None if self.no_nulls else self.valid, self.ix, self.n)


def text_view(arr: pa.Array) -> TextCol:
    """A kernel's view of a string or dictionary-of-strings array: its offsets, bytes and codes, not copied."""
    if pa.types.is_dictionary(arr.type):
        d = arr.dictionary
        if d.null_count or not pa.types.is_string(d.type):
            return text_view(arr.cast(pa.string()))
        t = text_view(d)
        codes = np.asarray(arr.indices.fill_null(0).cast(pa.int32()), dtype=np.int32)
        return TextCol(
            "str",
            None,
            len(arr),
            offsets=t.offsets,
            data=t.data,
            valid=valid_flags(arr),
            codes=codes,
            dictionary=d,
            arr=arr,
        )
    bufs = arr.buffers()
    off = arr.offset
    offsets = (
        np.frombuffer(bufs[1], np.int32, count=off + len(arr) + 1)[off:]
        if bufs[1] is not None
        else np.zeros(len(arr) + 1, np.int32)
    )
    data = _NO_BYTES if bufs[2] is None else np.frombuffer(bufs[2], np.uint8)
    return TextCol("str", None, len(arr), offsets=offsets, data=data, valid=valid_flags(arr), arr=arr)


@dataclass(eq=False, kw_only=True)
class ConstCol(Col):
    """One value for every row (a transform's literal)."""

    value: Any

    def kernel_args(self, views: Views) -> list[Any]:
        v = self.value
        ix = np.zeros(self.n, np.int64)  # every row reads the one value
        if isinstance(v, str):
            b = np.frombuffer(v.encode(), np.uint8)
            return [ix, False, NO_VALID, _NO_CODES, np.array([0, len(b)], np.int32), b]
        return [ix, False, NO_VALID, np.array([v], _CONST_DTYPE[self.kind])]

    def to_arrow(self, runs: dict | None = None) -> pa.Array:
        return const_array(self.value, self.n)


@dataclass(eq=False, kw_only=True)
class ArrowCol(Col):
    """An input Arrow array. A kernel reads it through numpy views made once per chunk (see :meth:`view`)."""

    arr: pa.Array

    @property
    def base(self) -> Any:
        return self.arr

    def view(self, views: Views) -> Col:
        """The array as a kernel reads it: values and validity, or UTF-8 bytes (made once per batch)."""
        arr = self.arr
        hit = views.get(id(arr))
        if hit is not None and hit[0] is arr:
            return hit[1]
        v: Col
        if self.kind == "str":
            v = text_view(arr)
        else:
            valid = valid_flags(arr)
            if self.kind == "bool":
                filled = arr.fill_null(fill_value=False) if valid is not None else arr
                vals = np.asarray(filled, dtype=np.bool_)
            else:
                t = pa.int64() if self.kind == "int" else pa.float64()
                vals = values_view(
                    arr if arr.type == t else arr.cast(t), np.int64 if self.kind == "int" else np.float64
                )
            v = ValuesCol(self.kind, None, len(arr), values=vals, valid=valid)
        views[id(arr)] = (arr, v)
        return v

    def kernel_args(self, views: Views) -> list[Any]:
        return self.view(views).take(self.ix).kernel_args(views)

    def to_arrow(self, runs: dict | None = None) -> pa.Array:
        return self.arr if self.ix is None else take_arrow(self.arr, self.ix, runs, no_nulls=self.no_nulls)


def from_arrow(arr: pa.Array | pa.ChunkedArray) -> ArrowCol:
    """A column over an input array (chunked arrays are combined first; large or view strings made plain)."""
    if isinstance(arr, pa.ChunkedArray):
        # one chunk: use it as is (``combine_chunks`` copies even then)
        arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    kind = column_kind(arr.type)
    if kind == "str" and (pa.types.is_large_string(arr.type) or pa.types.is_string_view(arr.type)):
        arr = arr.cast(pa.string())
    return ArrowCol(kind, None, len(arr), arr=arr)


def py_column(values: list[Any]) -> ArrowCol:
    """A column from Python values produced by a Python-run state."""
    return from_arrow(pa.array(values))
