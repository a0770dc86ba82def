"""Arrow arrays to and from numpy through their buffers, without ``pa.array`` or ``Array.to_numpy``.

``pa.array``, ``Array.to_numpy`` and ``Schema.empty_table`` import pandas the
first time they run in a process when pandas is installed (to check whether
their input or output is a pandas object): ~0.2 s, paid by the first run that
builds a literal, an index or an error table. The arrays streamkit builds or
reads itself go through their buffers here instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ("empty_table", "from_numpy", "strings", "to_numpy", "unpack_bits", "values_view")

_TYPES = {
    np.dtype(np.int64): pa.int64(),
    np.dtype(np.int32): pa.int32(),
    np.dtype(np.uint8): pa.uint8(),
    np.dtype(np.int16): pa.int16(),
    np.dtype(np.float64): pa.float64(),
}


def from_numpy(values: np.ndarray) -> pa.Array:
    """A 1-d numpy array of a primitive type as an Arrow array without nulls (zero-copy when contiguous).

    Examples
    --------
    >>> from_numpy(np.arange(3)).to_pylist(), from_numpy(np.array([True, False])).to_pylist()
    ([0, 1, 2], [True, False])
    """
    v = np.ascontiguousarray(values)
    if v.dtype == np.bool_:
        bits = np.packbits(v, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(v), [None, pa.py_buffer(bits)])
    t = _TYPES.get(v.dtype) or pa.from_numpy_dtype(v.dtype)
    return pa.Array.from_buffers(t, len(v), [None, pa.py_buffer(v)])


def strings(values: Sequence[str | None]) -> pa.Array:
    """Python strings (or ``None``) as an Arrow string array.

    Examples
    --------
    >>> strings(["a", None, "ßx"]).to_pylist()
    ['a', None, 'ßx']
    """
    n = len(values)
    encoded = [b"" if v is None else v.encode() for v in values]
    offsets = np.zeros(n + 1, np.int32)
    if n:
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
    data = b"".join(encoded)
    nulls = [k for k, v in enumerate(values) if v is None]
    validity = None
    if nulls:
        flags = np.ones(n, np.bool_)
        flags[nulls] = False
        validity = pa.py_buffer(np.packbits(flags, bitorder="little"))
    return pa.Array.from_buffers(
        pa.string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(data)], null_count=len(nulls)
    )


def empty_table(schema: pa.Schema) -> pa.Table:
    """A table of ``schema`` with no rows (``Schema.empty_table`` imports pandas).

    Examples
    --------
    >>> empty_table(pa.schema([("x", pa.int64())])).num_rows
    0
    """
    return pa.Table.from_batches([], schema)


def to_numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numeric or boolean Arrow array without nulls as numpy (a view when it is one primitive chunk).

    Anything else (nulls, other types) goes through ``to_numpy(zero_copy_only=False)``.

    Examples
    --------
    >>> to_numpy(pa.chunked_array([from_numpy(np.arange(3)), from_numpy(np.arange(2))])).tolist()
    [0, 1, 2, 0, 1]
    >>> to_numpy(from_numpy(np.arange(5)).slice(2)).tolist(), to_numpy(from_numpy(np.array([True, False]))).tolist()
    ([2, 3, 4], [True, False])
    """
    if isinstance(values, pa.ChunkedArray):
        parts = [to_numpy(c) for c in values.chunks]
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return np.empty(0, values.type.to_pandas_dtype() if _numeric(values.type) else object)
        return np.concatenate(parts)
    t = values.type
    if values.null_count == 0 and _numeric(t):
        if values.buffers()[1] is None:
            return np.empty(0, t.to_pandas_dtype())
        if pa.types.is_boolean(t):
            return unpack_bits(values.buffers()[1], values.offset, len(values)).view(np.bool_)
        return values_view(values, t.to_pandas_dtype())
    return values.to_numpy(zero_copy_only=False)


def _numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)


def unpack_bits(buf: pa.Buffer, offset: int, n: int) -> np.ndarray:
    """Bits ``offset .. offset + n`` of an Arrow bitmap (validity or boolean values), one uint8 each."""
    bits = np.frombuffer(buf, np.uint8)[offset >> 3 : (offset + n + 7) >> 3]
    return np.unpackbits(bits, bitorder="little")[offset & 7 : (offset & 7) + n]


def values_view(arr: pa.Array, dtype: Any) -> np.ndarray:
    """Zero-copy numpy view of a primitive array's values (nulls hold garbage)."""
    buf = arr.buffers()[1]
    return np.frombuffer(buf, dtype=dtype, count=len(arr) + arr.offset)[arr.offset :]
