"""Arrow arrays built from buffers, without ``pa.array``.

``pa.array`` imports pandas the first time it runs in a process when pandas is
installed (to check whether its input is a pandas object): ~0.25 s, paid by the
first run that builds a literal, an index or an error table. The arrays streamkit
builds itself are made here from numpy buffers instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

__all__ = ("from_numpy", "strings")

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
