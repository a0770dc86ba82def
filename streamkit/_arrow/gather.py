"""Build Arrow arrays from column views: gathers and buffer assembly without Arrow compute.

An end state's table is made of input arrays re-selected at the positions of the
records that reached it, and of arrays a kernel wrote. Both are assembled here
with ``pa.Array.from_buffers`` over numpy buffers filled by :mod:`kernels.gather`
(Arrow's ``filter``/``take`` cost 2-6 ns/row on the seed job's columns, the
numba loops 0.5-1.5). Types Arrow can hold but these loops do not know fall
back to ``Array.take``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from kernels.gather import (
    copy_runs,
    copy_string_runs,
    num_as_float_inplace,
    pack_bool_bits,
    runs_of,
    take_bits,
    take_bool_bits,
    take_codes,
    take_num_as_float,
    take_string_bytes,
    take_string_offsets,
    take_values,
)
from streamkit._arrow.build import from_numpy, strings, unpack_bits
from streamkit._memory import SLABS

__all__ = (
    "valid_flags",
    "take_arrow",
    "np_array",
    "num_array",
    "text_array",
    "codes_array",
    "const_array",
    "EMPTY_IX",
)

EMPTY_IX = np.empty(0, np.int64)
_NO_FLAGS = np.ones(1, np.bool_)

#: numpy dtype by Arrow type id, for the fixed-width types gathered here
_NP_DTYPES: dict[int, np.dtype] = {
    t.id: np.dtype(t.to_pandas_dtype())
    for t in (
        pa.int8(),
        pa.int16(),
        pa.int32(),
        pa.int64(),
        pa.uint8(),
        pa.uint16(),
        pa.uint32(),
        pa.uint64(),
        pa.float32(),
        pa.float64(),
    )
}
_STRING_ID = pa.string().id
_BOOL_ID = pa.bool_().id
_INT64 = pa.int64()
_INT32 = pa.int32()
_FLOAT64 = pa.float64()
_BOOL = pa.bool_()


def _bits_of_flags(flags: np.ndarray, ix: np.ndarray | None, n: int) -> tuple[pa.Buffer | None, int]:
    """Validity bitmap of bool ``flags`` at ``ix`` (all rows if ``None``) and its null count.

    The bitmap is ``None`` when nothing is null.
    """
    out = np.empty((n + 7) >> 3, np.uint8)
    n_set = pack_bool_bits(flags, out) if ix is None else take_bool_bits(flags, ix, out)
    if n_set == n:
        return None, 0
    return pa.py_buffer(out), n - n_set


def valid_flags(arr: pa.Array) -> np.ndarray | None:
    """One bool per row of ``arr``: whether it is set (``None`` when no row is null).

    Unpacked from the validity bitmap with numpy (``is_valid()`` then ``asarray`` built
    a boolean Arrow array first: 1 ns/row on the seed's value column, this 0.1).
    """
    if arr.null_count == 0:
        return None
    if pa.types.is_null(arr.type) or arr.buffers()[0] is None:
        return np.asarray(arr.is_valid(), dtype=np.bool_)
    return unpack_bits(arr.buffers()[0], arr.offset, len(arr)).view(np.bool_)


def _runs_of(ix: np.ndarray, n_src: int, cache: dict | None) -> np.ndarray | None:
    """Where runs of consecutive positions start in ``ix`` (plus ``len(ix)``), or ``None``.

    ``None`` when most rows are not kept or the runs are short: then a per-position gather
    is as fast. Cached per positions array in ``cache``.
    """
    if len(ix) == 0 or 2 * len(ix) < n_src:
        return None
    key = id(ix)
    hit = None if cache is None else cache.get(key)
    if hit is not None and hit[0] is ix:
        return hit[1]
    starts = np.empty(len(ix) + 1, np.int64)
    n_runs = runs_of(ix, starts)
    res = starts[: n_runs + 1] if 8 * n_runs <= len(ix) else None
    if cache is not None:
        cache[key] = (ix, res)
    return res


def take_arrow(arr: pa.Array, ix: np.ndarray, cache: dict | None = None, *, no_nulls: bool = False) -> pa.Array:
    """``arr`` at ascending positions ``ix`` (int64), as a new array of the same type.

    Where most rows are kept, runs of consecutive positions are copied as blocks:
    1.7 ns/row against 2.8 per position for int64, 1.7 against 4.4 for short strings,
    on the seed job's chunks. ``cache`` (a dict) keeps the runs of ``ix`` for the next
    column gathered at the same positions. ``no_nulls``: the caller knows no value at
    ``ix`` is null, so no validity is gathered.
    """
    n = len(ix)
    t = arr.type
    tid = t.id
    dtype = _NP_DTYPES.get(tid)
    is_str = tid == _STRING_ID
    if dtype is None and not is_str and tid != _BOOL_ID:
        if pa.types.is_dictionary(t):
            return pa.DictionaryArray.from_arrays(take_arrow(arr.indices, ix, cache), arr.dictionary, safe=False)
        return arr.take(from_numpy(ix))
    off = arr.offset
    size = len(arr)
    bufs = arr.buffers()
    validity = None
    nulls = 0
    if not no_nulls and arr.null_count:
        out = np.empty((n + 7) >> 3, np.uint8)
        nulls = n - take_bits(np.frombuffer(bufs[0], np.uint8), off, ix, out)
        if nulls:
            validity = pa.py_buffer(out)
    if dtype is not None:
        values = np.frombuffer(bufs[1], dtype, count=off + size)[off:]
        out = SLABS.empty(n, dtype)
        starts = _runs_of(ix, size, cache)
        if starts is None:
            take_values(values, ix, out)
        else:
            copy_runs(values, ix, starts, len(starts) - 1, out)
        return pa.Array.from_buffers(t, n, [validity, pa.py_buffer(out)], nulls)
    if not is_str:  # bool: the values are bits too
        out = np.empty((n + 7) >> 3, np.uint8)
        take_bits(np.frombuffer(bufs[1], np.uint8), off, ix, out)
        return pa.Array.from_buffers(t, n, [validity, pa.py_buffer(out)], nulls)
    offsets = np.frombuffer(bufs[1], np.int32, count=off + size + 1)[off:]
    data = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None else np.empty(0, np.uint8)
    out_offsets = SLABS.empty(n + 1, np.int32)
    starts = _runs_of(ix, size, cache)
    if starts is not None:  # one pass; the data buffer sized from the first to the last string
        out = SLABS.empty(int(offsets[ix[-1] + 1]) - int(offsets[ix[0]]), np.uint8)
        used = copy_string_runs(offsets, data, ix, starts, len(starts) - 1, out_offsets, out)
        out = out[:used]
    else:
        total, _ = take_string_offsets(offsets, data, ix, out_offsets)
        out = SLABS.empty(total, np.uint8)
        take_string_bytes(offsets, data, ix, out_offsets, out)
    return pa.Array.from_buffers(t, n, [validity, pa.py_buffer(out_offsets), pa.py_buffer(out)], nulls)


def np_array(vals: np.ndarray, valid: np.ndarray | None, ix: np.ndarray | None, n: int) -> pa.Array:
    """Kernel-written values (bool, int64 or float64) and validity flags, at ``ix``, as Arrow."""
    validity, nulls = (None, 0) if valid is None else _bits_of_flags(valid, ix, n)
    if vals.dtype == np.bool_:
        out = np.empty((n + 7) >> 3, np.uint8)
        if ix is None:
            pack_bool_bits(vals[:n], out)
        else:
            take_bool_bits(vals, ix, out)
        return pa.Array.from_buffers(_BOOL, n, [validity, pa.py_buffer(out)], nulls)
    if ix is None:
        out = vals[:n]
    else:
        out = SLABS.empty(n, vals.dtype)
        take_values(vals, ix, out)
    t = _INT64 if vals.dtype == np.int64 else pa.from_numpy_dtype(vals.dtype)
    return pa.Array.from_buffers(t, n, [validity, pa.py_buffer(np.ascontiguousarray(out))], nulls)


def num_array(
    isf: np.ndarray, iv: np.ndarray, fv: np.ndarray, valid: np.ndarray | None, ix: np.ndarray | None, n: int
) -> pa.Array:
    """An int-or-float column as Arrow: float64 if any valid entry is a float, else int64 (as Python)."""
    validity, nulls = (None, 0) if valid is None else _bits_of_flags(valid, ix, n)
    has = valid is not None
    if ix is None:  # the kernel's own buffer, read by nothing after the run: convert it where it is
        if num_as_float_inplace(isf, iv, fv, n, valid if has else _NO_FLAGS, has) == 0:
            return pa.Array.from_buffers(_INT64, n, [validity, pa.py_buffer(iv[:n])], nulls)
        return pa.Array.from_buffers(_FLOAT64, n, [validity, pa.py_buffer(fv[:n])], nulls)
    out = SLABS.empty(n, np.float64)
    if take_num_as_float(isf, iv, fv, ix, valid if has else _NO_FLAGS, has, out) == 0:
        ints = np.empty(n, np.int64)
        take_values(iv, ix, ints)
        return pa.Array.from_buffers(_INT64, n, [validity, pa.py_buffer(ints)], nulls)
    return pa.Array.from_buffers(_FLOAT64, n, [validity, pa.py_buffer(out)], nulls)


def text_array(
    offsets: np.ndarray, data: np.ndarray, valid: np.ndarray | None, ix: np.ndarray | None, n: int
) -> pa.Array:
    """Strings a kernel wrote (int32 ``offsets`` into UTF-8 ``data``, validity flags) at ``ix``, as Arrow.

    Examples
    --------
    >>> text_array(np.array([0, 1, 3], np.int32), np.frombuffer(b"abc", np.uint8), None, None, 2).to_pylist()
    ['a', 'bc']
    """
    rows = len(offsets) - 1
    validity, nulls = (None, 0) if valid is None else _bits_of_flags(valid, None, rows)
    base = pa.Array.from_buffers(pa.string(), rows, [validity, pa.py_buffer(offsets), pa.py_buffer(data)], nulls)
    return base if ix is None else take_arrow(base, ix)


def codes_array(
    codes: np.ndarray, valid: np.ndarray | None, ix: np.ndarray | None, n: int, dictionary: pa.Array
) -> pa.Array:
    """Codes into ``dictionary`` at ``ix`` as a dictionary array (index 0 under nulls)."""
    validity, nulls = (None, 0) if valid is None else _bits_of_flags(valid, ix, n)
    if ix is None and validity is None and codes.dtype == np.int32:  # a kernel's codes, all set: as they are
        indices = pa.Array.from_buffers(_INT32, n, [None, pa.py_buffer(codes[:n])], 0)
        return pa.DictionaryArray.from_arrays(indices, dictionary, safe=False)
    out = np.empty(n, np.int32)
    has = valid is not None
    take_codes(codes, EMPTY_IX if ix is None else ix, valid if has else _NO_FLAGS, has, out)
    indices = pa.Array.from_buffers(_INT32, n, [validity, pa.py_buffer(out)], nulls)
    return pa.DictionaryArray.from_arrays(indices, dictionary, safe=False)


#: Constant arrays by value, each at least as long as the longest asked for; shorter ones are
#: slices of it (arrays are immutable, so sharing is safe). String constants are dictionary
#: arrays over one shared buffer of zero indices.
_CONSTS: dict[tuple[type, Any], pa.Array] = {}
_ZERO_INDICES: list[pa.Array] = [pa.Array.from_buffers(pa.int32(), 0, [None, pa.py_buffer(np.zeros(0, np.int32))])]


def _zero_indices(n: int) -> pa.Array:
    """``n`` zero int32 indices: a slice of one shared array, grown (doubled) when too short."""
    zeros = _ZERO_INDICES[0]
    if len(zeros) < n:
        zeros = from_numpy(np.zeros(max(n, 2 * len(zeros), 1024), np.int32))
        _ZERO_INDICES[0] = zeros
    return zeros.slice(0, n)


def const_array(v: Any, n: int) -> pa.Array:
    """``n`` copies of ``v``; recent values are kept and sliced, so repeated calls allocate nothing."""
    if isinstance(v, str):
        dictionary = _CONSTS.get((str, v))
        if dictionary is None:
            dictionary = _remember((str, v), strings([v]))
        return pa.DictionaryArray.from_arrays(_zero_indices(n), dictionary, safe=False)
    value_key = (type(v), repr(v) if isinstance(v, float) else v)  # repr: 0.0 and -0.0 differ
    key: tuple[type, Any] | None = value_key
    try:
        hit = _CONSTS.get(value_key)
    except TypeError:  # unhashable value
        hit, key = None, None
    if hit is not None and len(hit) >= n:
        return hit.slice(0, n)
    size = n if key is None else max(n, 1024, 0 if hit is None else 2 * len(hit))
    if v is None:
        arr = pa.nulls(size)
    elif isinstance(v, bool):
        arr = from_numpy(np.full(size, v, np.bool_))
    elif isinstance(v, int):
        arr = from_numpy(np.full(size, v, np.int64))
    elif isinstance(v, float):
        arr = from_numpy(np.full(size, v, np.float64))
    else:
        arr = pa.array([v] * n)
    if key is not None:
        _remember(key, arr)
    return arr.slice(0, n) if len(arr) != n else arr


def _remember(key: tuple[type, Any], arr: pa.Array) -> pa.Array:
    if len(_CONSTS) > 64:
        _CONSTS.clear()
    _CONSTS[key] = arr
    return arr
