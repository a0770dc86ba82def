"""Arrow tables as JSON Lines text, written by one numba pass per batch (:mod:`kernels.jsonwrite`).

Integers, booleans, strings and whole float64 values (``100.0``: digits and
``.0``, below 2**53) are written by the kernel; other floats are formatted by
polars (shortest round-trip text, the same as its own JSON writer: ``100.0``,
``1e+16``; ``NaN`` and infinities become ``null``) and copied, or, when a
float64 column has only a few of them (up to 4096 a batch) and all between 1e-4
and 1e16 in magnitude, by Python's ``repr``, whose text is polars' there; dictionary
columns are rendered once per dictionary value. The output matches polars'
``write_ndjson`` value for value, at a fraction of its cost, releasing the GIL.

Types the kernel does not write (temporal, decimal, binary, nested) make
:func:`encode_jsonl` return ``None``: the caller writes those tables another way.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from kernels.jsonwrite import (
    KIND_BOOL,
    KIND_INT,
    KIND_NULL,
    KIND_SLICE,
    KIND_UINT,
    KIND_WHOLE,
    PAD,
    escape_extra,
    float_text_slices,
    text_slices,
    write_lines,
)
from streamkit._arrow.build import unpack_bits, values_view
from streamkit._arrow.gather import valid_flags
from streamkit.io._buffers import BufferPool
from streamkit.io._jsontext import dumps

__all__ = ("encode_jsonl", "BufferPool")

_INTS = frozenset(t.id for t in (pa.int8(), pa.int16(), pa.int32(), pa.int64(), pa.uint8(), pa.uint16(), pa.uint32()))
_UINT64 = pa.uint64().id
_FLOATS = frozenset(t.id for t in (pa.float16(), pa.float32(), pa.float64()))
_FLOAT64 = pa.float64().id
_TWO_53 = float(2**53)
_TEXT = frozenset(t.id for t in (pa.string(), pa.large_string(), pa.string_view()))
_EMPTY_U8 = np.zeros(0, np.uint8)
_PADDING = np.zeros(PAD, np.uint8)

#: Dictionaries up to this size are rendered value by value; larger ones are decoded.
_RENDER_DICTIONARY = 4096


def _writable(t: pa.DataType) -> bool:
    tid = t.id
    if tid in _INTS or tid == _UINT64 or tid in _FLOATS or tid in _TEXT:
        return True
    if pa.types.is_boolean(t) or pa.types.is_null(t):
        return True
    return pa.types.is_dictionary(t) and t.value_type.id in _TEXT


def encode_jsonl(table: pa.Table, buffers: BufferPool | None = None) -> np.ndarray | None:
    """The rows of ``table`` as JSON lines (uint8 array), or ``None`` if a column type is not handled.

    ``buffers``: where the output buffer comes from (give the result back to it
    once written); a new array otherwise.

    Examples
    --------
    >>> bytes(encode_jsonl(pa.table({"a": [1, None], "b": ["x\\n", "y"], "c": [0.5, 100.0]})))
    b'{"a":1,"b":"x\\\\n","c":0.5}\\n{"a":null,"b":"y","c":100.0}\\n'
    """
    names = table.column_names
    if not names or len(set(names)) != len(names) or not all(_writable(f.type) for f in table.schema):
        return None
    keys, kstart, kend = _pieces([(b"," if i else b"") + dumps(k) + b":" for i, k in enumerate(names)])
    key_blob = np.concatenate([keys, _PADDING])
    key_bytes = len(keys)
    parts = [_Batch(b, key_bytes) for b in table.to_batches() if b.num_rows]
    size = sum(p.bound for p in parts) + PAD
    out = np.empty(size, np.uint8) if buffers is None else buffers.take(size)
    used = 0
    for p in parts:
        used += p.write(out[used:], key_blob, kstart, kend)
    return out[:used]


class _Batch:
    """One record batch laid out for :func:`kernels.jsonwrite.write_lines`, with a bound on its text."""

    def __init__(self, batch: pa.RecordBatch, key_bytes: int) -> None:
        n = batch.num_rows
        self.n = n
        cols = batch.columns
        kinds = [_kind(c) for c in cols]
        count = {k: kinds.count(k) for k in (KIND_INT, KIND_UINT, KIND_BOOL, KIND_SLICE)}
        n_whole = kinds.count(KIND_WHOLE)
        count[KIND_INT] += n_whole  # float64 columns: whole values from ``ints``, the others as text
        count[KIND_SLICE] += n_whole
        self.wslice = np.zeros(count[KIND_INT], np.int64)
        self.ints = np.empty((count[KIND_INT], n), np.int64)
        self.ivalid = np.ones((count[KIND_INT], n), np.uint8)
        self.uints = np.empty((count[KIND_UINT], n), np.uint64)
        self.uvalid = np.ones((count[KIND_UINT], n), np.uint8)
        self.bools = np.empty((count[KIND_BOOL], n), np.uint8)
        self.bvalid = np.ones((count[KIND_BOOL], n), np.uint8)
        self.sstart = np.empty((count[KIND_SLICE], n), np.int64)
        self.send = np.empty((count[KIND_SLICE], n), np.int64)
        self.svalid = np.empty((count[KIND_SLICE], n), np.uint8)
        self.sescape = np.zeros(count[KIND_SLICE], np.uint8)
        fkind = np.array(kinds, np.int64)
        fidx = np.zeros(len(cols), np.int64)
        seen = dict.fromkeys(count, 0)
        blobs: list[np.ndarray] = []
        base = 0
        bound = n * (3 + key_bytes)
        for f, (col, kind) in enumerate(zip(cols, kinds)):
            if kind == KIND_NULL:
                bound += 4 * n
                continue
            row = KIND_INT if kind == KIND_WHOLE else kind
            c = seen[row]
            seen[row] += 1
            fidx[f] = c
            if kind == KIND_WHOLE:
                w = seen[KIND_SLICE]
                seen[KIND_SLICE] += 1
                self.wslice[c] = w
                data, size = self._floats(col, c, w, base)
                blobs.append(data)
                base += len(data)
                bound += 22 * n + size
            elif kind == KIND_INT:
                self.ints[c] = values_view(col if col.type == pa.int64() else col.cast(pa.int64()), np.int64)
                _fill_valid(col, self.ivalid[c])
                bound += 20 * n
            elif kind == KIND_UINT:
                self.uints[c] = values_view(col, np.uint64)
                _fill_valid(col, self.uvalid[c])
                bound += 20 * n
            elif kind == KIND_BOOL:
                self.bools[c] = unpack_bits(col.buffers()[1], col.offset, n)
                _fill_valid(col, self.bvalid[c])
                bound += 5 * n
            else:
                data, size = self._slices(col, c, base)
                blobs.append(data)
                base += len(data)
                bound += size + 4 * n
        self.fkind, self.fidx = fkind, fidx
        self.blob = np.concatenate([*blobs, _PADDING])
        self.bound = bound

    def _floats(self, col: pa.Array, c: int, w: int, base: int) -> tuple[np.ndarray, int]:
        """Lay out a float64 column: whole values in ``ints`` row ``c``, the others formatted
        (polars or ``repr``) into slice row ``w``; return the text bytes and their size."""
        vals = values_view(col, np.float64)
        flags = valid_flags(col)
        with np.errstate(invalid="ignore"):  # NaN, and whatever null slots hold
            whole = (np.abs(vals) < _TWO_53) & (vals == np.trunc(vals)) & ~(np.signbit(vals) & (vals == 0))
            self.ints[c] = np.where(whole, vals, 0)
        state = self.ivalid[c]
        state[:] = np.where(whole, 1, 2)
        if flags is not None:
            state[~flags] = 0
        other = np.flatnonzero(state == 2)
        if not len(other):
            return _EMPTY_U8, 0
        picked = vals[other]
        offsets, data, first, last = _repr_text(picked) if _repr_agrees(picked) else _float_text(pa.array(picked))
        k = len(other)
        starts, ends, ok = np.empty(k, np.int64), np.empty(k, np.int64), np.empty(k, np.uint8)
        float_text_slices(offsets, data, base - first, _EMPTY_U8, False, starts, ends, ok, first)  # noqa: FBT003 - numba
        self.sstart[w, other] = starts
        self.send[w, other] = ends
        self.svalid[w, other] = ok
        return data, last - first

    def _slices(self, col: pa.Array, c: int, base: int) -> tuple[np.ndarray, int]:
        """Lay out a text, float or dictionary column as byte ranges; return its bytes and text bound."""
        n = self.n
        valid = valid_flags(col)
        has = valid is not None
        flags = valid if has else _EMPTY_U8
        if pa.types.is_dictionary(col.type) and len(col.dictionary) <= _RENDER_DICTIONARY:
            # the column has a value, so its dictionary is not empty
            data, starts, ends = _pieces([dumps(v) for v in col.dictionary.to_pylist()])
            idx = values_view(col.indices.cast(pa.int64()) if col.indices.type != pa.int64() else col.indices, np.int64)
            if valid is not None:
                idx = np.where(valid, idx, 0)
            np.add(starts[idx], base, out=self.sstart[c])
            np.add(ends[idx], base, out=self.send[c])
            self.svalid[c] = valid if has else 1
            return data, int((ends - starts).max()) * n
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if col.type.id in _FLOATS:
            offsets, data, first, last = _float_text(col)
            float_text_slices(
                offsets, data, base - first, flags, has, self.sstart[c], self.send[c], self.svalid[c], first
            )
            return data, last - first
        offsets, data, first, last = _text_of(col)
        text_slices(offsets, base - first, flags, has, self.sstart[c], self.send[c], self.svalid[c])
        extra = escape_extra(data, 0, last - first)
        self.sescape[c] = 2 if extra else 1
        return data, last - first + 2 * n + extra

    def write(self, out: np.ndarray, keys: np.ndarray, kstart: np.ndarray, kend: np.ndarray) -> int:
        """Write the lines into ``out``; return the bytes used."""
        return write_lines(
            self.n,
            self.fkind,
            self.fidx,
            keys,
            kstart,
            kend,
            self.ints,
            self.ivalid,
            self.uints,
            self.uvalid,
            self.bools,
            self.bvalid,
            self.sstart,
            self.send,
            self.svalid,
            self.sescape,
            self.wslice,
            self.blob,
            out,
        )


def _kind(col: pa.Array) -> int:
    t = col.type
    if pa.types.is_null(t) or (col.null_count == len(col) and len(col)):
        return KIND_NULL
    if t.id in _INTS:
        return KIND_INT
    if t.id == _UINT64:
        return KIND_UINT
    if pa.types.is_boolean(t):
        return KIND_BOOL
    if t.id == _FLOAT64:  # a whole number's shortest text is its digits and ".0": the kernel writes those
        return KIND_WHOLE
    return KIND_SLICE


def _pieces(pieces: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``pieces`` laid end to end (uint8), with where each starts and ends (int64)."""
    ends = np.cumsum([len(p) for p in pieces], dtype=np.int64)
    starts = np.concatenate([np.zeros(1, np.int64), ends[:-1]])
    return np.frombuffer(b"".join(pieces), np.uint8), starts, ends


def _fill_valid(arr: pa.Array, row: np.ndarray) -> None:
    flags = valid_flags(arr)
    if flags is not None:
        row[:] = flags


def _float_text(col: pa.Array) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Floats formatted by polars (shortest round-trip text), as :func:`_text_of` lays them out."""
    import polars as pl

    return _text_of(pl.Series(col.cast(pa.float64()) if col.type == pa.float16() else col).cast(pl.String).to_arrow())


#: Up to this many non-whole floats of a column are formatted by Python's ``repr`` (where its
#: text is polars'), so a column of mostly whole numbers does not need polars loaded.
_REPR_MAX = 4096
#: Python's ``repr`` writes these magnitudes positionally (``0.0001`` .. ``1234567890123456.8``):
#: there its text is polars' (both are the shortest round-trip digits); outside, the exponent forms differ.
_REPR_LOW, _REPR_HIGH = 1e-4, 1e16


def _repr_agrees(vals: np.ndarray) -> bool:
    """Whether ``repr`` gives polars' text for every value of ``vals`` (few, finite, in its positional range)."""
    if len(vals) > _REPR_MAX:
        return False
    mag = np.abs(vals)
    return bool(((mag >= _REPR_LOW) & (mag < _REPR_HIGH)).all())


def _repr_text(vals: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """``vals`` formatted by ``repr``, laid out as :func:`_text_of` lays out a text column."""
    texts = [repr(v) for v in vals.tolist()]
    offsets = np.zeros(len(texts) + 1, np.int64)
    np.cumsum([len(t) for t in texts], out=offsets[1:])
    data = np.frombuffer("".join(texts).encode("ascii"), np.uint8)
    return offsets, data, 0, int(offsets[-1])


def _text_of(col: pa.Array) -> tuple[np.ndarray, np.ndarray, int, int]:
    """A text column's offsets, the bytes it uses (``data`` from byte ``first`` to ``last``
    of its buffer: only those go into the blob), ``first`` and ``last``."""
    if col.type.id == pa.string_view().id:
        col = col.cast(pa.large_string())
    offsets, data = _text_buffers(col)
    first, last = int(offsets[0]), int(offsets[-1])
    return offsets, data[first:last], first, last


def _text_buffers(col: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (int64, one more than rows) and data bytes of a string / large_string array."""
    bufs = col.buffers()
    dtype = np.int64 if col.type.id == pa.large_string().id else np.int32
    offsets = np.frombuffer(bufs[1], dtype, count=len(col) + col.offset + 1)[col.offset :]
    data = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None else _EMPTY_U8
    return offsets.astype(np.int64, copy=False), data
