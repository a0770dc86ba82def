"""JSON Lines text from columns: one pass over the rows, each line written in place.

The caller lays the columns out by kind (see ``streamkit/io/_jsonwrite.py``):

- ``ints`` (int64) and ``uints`` (uint64): one row per column, written as decimal digits;
- ``bools`` (uint8): ``true`` / ``false``;
- ``slices``: byte ranges ``blob[start:end]`` per row, either copied as they are
  (numbers already formatted, dictionary values already quoted) or quoted with
  JSON's escapes (strings);
- ``nulls``: columns with no value at all.

Each kind has a validity row per column (1 = a value, 0 = ``null``). ``fkind`` and
``fidx`` give, per field in output order, its kind and its row in that kind's
arrays; ``keys`` holds each field's rendered prefix (``{"id":`` for the first,
``,"value":`` for the others) as ``keys[kstart[f]:kend[f]]``.
"""

from __future__ import annotations

import numpy as np

from kernels._bytes import load8, store8
from kernels._jit import jit

__all__ = (
    "KIND_INT",
    "KIND_UINT",
    "KIND_BOOL",
    "KIND_SLICE",
    "KIND_NULL",
    "KIND_WHOLE",
    "escape_extra",
    "write_lines",
    "text_slices",
    "float_text_slices",
    "PAD",
)

KIND_INT = 0
KIND_UINT = 1
KIND_BOOL = 2
KIND_SLICE = 3
KIND_NULL = 4
#: float64: per row ``ivalid`` 1 = a whole number below 2**53 (not -0.0), written from ``ints``
#: with ``.0``; 2 = another value, its formatted text in slice row ``wslice[c]``; 0 = null
KIND_WHOLE = 5

_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)
_PAIRS = np.frombuffer("".join(f"{k:02d}" for k in range(100)).encode(), np.uint8)
_POW10 = np.array([10**k for k in range(20)], np.uint64)
_SHORT_ESCAPE = np.zeros(32, np.uint8)
_SHORT_ESCAPE[[8, 9, 10, 12, 13]] = np.frombuffer(b"btnfr", np.uint8)
_NULL = np.uint64(int.from_bytes(b"null\0\0\0\0", "little"))
_TRUE = np.uint64(int.from_bytes(b"true\0\0\0\0", "little"))
_FALSE = np.uint64(int.from_bytes(b"false\0\0\0", "little"))

#: Spare bytes after keys, blob and output that word-at-a-time copies may touch.
PAD = 8


@jit
def escape_extra(data, start, end):
    """Bytes that JSON escapes add to ``data[start:end]`` (``\\"``, ``\\\\``, ``\\n``, ``\\u0001``...)."""
    extra = 0
    for p in range(start, end):
        b = data[p]
        if b < 32:
            if b == 8 or b == 9 or b == 10 or b == 12 or b == 13:
                extra += 1
            else:
                extra += 5
        elif b == 34 or b == 92:
            extra += 1
    return extra


@jit
def _put_uint(out, p, u):
    """Decimal digits of ``u`` at ``out[p:]``, two at a time; return the position after them."""
    nd = np.uint64(1)
    while nd < np.uint64(20) and u >= _POW10[nd]:
        nd += np.uint64(1)
    q = p + nd
    while u >= np.uint64(100):
        d = (u % np.uint64(100)) * np.uint64(2)
        u = u // np.uint64(100)
        q -= np.uint64(2)
        out[q] = _PAIRS[d]
        out[q + np.uint64(1)] = _PAIRS[d + np.uint64(1)]
    if u >= np.uint64(10):
        d = u * np.uint64(2)
        out[p] = _PAIRS[d]
        out[p + np.uint64(1)] = _PAIRS[d + np.uint64(1)]
    else:
        out[p] = np.uint8(48) + np.uint8(u)
    return p + nd


@jit
def _put_null(out, p):
    store8(out, p, _NULL)
    return p + np.uint64(4)


@jit
def _copy(out, p, src, s, e):
    """``src[s:e]`` at ``out[p:]``, a word at a time (both padded); return the position after it."""
    ln = e - s
    q = np.uint64(0)
    while q < ln:
        store8(out, p + q, load8(src, s + q))
        q += np.uint64(8)
    return p + ln


@jit
def _put_escaped(out, p, blob, s, e):
    out[p] = 34
    p += np.uint64(1)
    one = np.uint64(1)
    for q in range(s, e):
        b = blob[q]
        if b >= 32 and b != 34 and b != 92:
            out[p] = b
            p += one
        elif b == 34 or b == 92:
            out[p] = 92
            out[p + one] = b
            p += np.uint64(2)
        elif b == 10 or b == 9 or b == 13 or b == 8 or b == 12:
            out[p] = 92
            out[p + one] = _SHORT_ESCAPE[b]
            p += np.uint64(2)
        else:
            out[p] = 92
            out[p + one] = 117
            out[p + np.uint64(2)] = 48
            out[p + np.uint64(3)] = 48
            out[p + np.uint64(4)] = _HEX[b >> 4]
            out[p + np.uint64(5)] = _HEX[b & 15]
            p += np.uint64(6)
    out[p] = 34
    return p + one


@jit
def write_lines(
    n,
    fkind,
    fidx,
    keys,
    kstart,
    kend,
    ints,
    ivalid,
    uints,
    uvalid,
    bools,
    bvalid,
    sstart,
    send,
    svalid,
    sescape,
    wslice,
    blob,
    out,
):
    """Write ``n`` JSON lines into ``out``; return the bytes used.

    ``out`` must hold the caller's bound plus 8 bytes; ``keys`` and ``blob`` need 8
    bytes of padding after their data (see :mod:`kernels._bytes`). ``sescape`` per
    slice column: 0 copy as is, 1 quote (nothing to escape), 2 quote and escape.
    """
    nf = fkind.shape[0]
    p = np.uint64(0)
    one = np.uint64(1)
    for i in range(n):
        r = np.uint64(i)
        out[p] = 123  # {
        p += one
        for f in range(nf):
            p = _copy(out, p, keys, np.uint64(kstart[f]), np.uint64(kend[f]))
            kind = fkind[f]
            c = np.uint64(fidx[f])
            if kind == KIND_INT or kind == KIND_WHOLE:
                state = ivalid[c, r]
                if state == 0:
                    p = _put_null(out, p)
                elif state == 2:  # a float that is not whole: the text polars formatted
                    w = np.uint64(wslice[c])
                    if svalid[w, r] == 0:
                        p = _put_null(out, p)
                    else:
                        p = _copy(out, p, blob, np.uint64(sstart[w, r]), np.uint64(send[w, r]))
                else:
                    v = ints[c, r]
                    if v < 0:
                        out[p] = 45
                        p = _put_uint(out, p + one, np.uint64(-(v + 1)) + one)
                    else:
                        p = _put_uint(out, p, np.uint64(v))
                    if kind == KIND_WHOLE:  # a whole float's shortest text: its digits and ".0"
                        out[p] = 46
                        out[p + one] = 48
                        p += np.uint64(2)
            elif kind == KIND_SLICE:
                if svalid[c, r] == 0:
                    p = _put_null(out, p)
                else:
                    esc = sescape[c]
                    s = np.uint64(sstart[c, r])
                    e = np.uint64(send[c, r])
                    if esc == 0:
                        p = _copy(out, p, blob, s, e)
                    elif esc == 1:
                        out[p] = 34
                        p = _copy(out, p + one, blob, s, e)
                        out[p] = 34
                        p += one
                    else:
                        p = _put_escaped(out, p, blob, s, e)
            elif kind == KIND_BOOL:
                if bvalid[c, r] == 0:
                    p = _put_null(out, p)
                elif bools[c, r] != 0:
                    store8(out, p, _TRUE)
                    p += np.uint64(4)
                else:
                    store8(out, p, _FALSE)
                    p += np.uint64(5)
            elif kind == KIND_UINT:
                if uvalid[c, r] == 0:
                    p = _put_null(out, p)
                else:
                    p = _put_uint(out, p, uints[c, r])
            else:
                p = _put_null(out, p)
        out[p] = 125  # }
        out[p + one] = 10  # \n
        p += np.uint64(2)
    return p


@jit
def text_slices(offsets, base, valid, has_valid, starts, ends, out_valid):
    """Byte ranges (``offsets`` moved by ``base``) and validity of a text column, row by row."""
    for r in range(starts.shape[0]):
        starts[r] = base + offsets[r]
        ends[r] = base + offsets[r + 1]
        out_valid[r] = 1 if not has_valid or valid[r] else 0


@jit
def float_text_slices(offsets, data, base, valid, has_valid, starts, ends, out_valid, first):
    """Like :func:`text_slices` for formatted floats: ``NaN``, ``inf`` and ``-inf`` become null (JSON has none).

    ``data`` starts at byte ``first`` of the offsets' buffer.
    """
    for r in range(starts.shape[0]):
        s = offsets[r]
        e = offsets[r + 1]
        starts[r] = base + s
        ends[r] = base + e
        ok = not has_valid or valid[r]
        s -= first
        e -= first
        if ok and e > s:
            b = data[s]
            if b == 78 or b == 105 or (b == 45 and e > s + 1 and data[s + 1] == 105):  # N, i, -i
                ok = False
        out_valid[r] = 1 if ok else 0
