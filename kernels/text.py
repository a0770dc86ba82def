"""Text helpers for the generated state kernels: UTF-8 byte spans, with Python's exact ``str`` semantics.

A string in a kernel is a span ``(buf, s, e)``: bytes ``s .. e-1`` of a uint8
array (an Arrow string column's data, the kernel's literals, or its per-row
scratch space). Helpers that build text write into a destination array at a
cursor and return the new cursor, ``-1`` when the destination is full (the
caller grows it, or hands the row to Python). Where Python's answer needs more
than bytes — case mapping or whitespace beyond ASCII, number text other than
plain decimal — a helper answers ``ESCAPE`` (``-2``) and the row runs as
Python, so every result is Python's own. UTF-8 preserves code-point order, so
comparing bytes compares strings as Python does, and a byte search for valid
UTF-8 finds matches only at character boundaries.

Every helper is a plain loop over numpy arrays; none allocates or raises.
Numbers as text, both ways, are in :mod:`kernels.textnum`.
"""

from __future__ import annotations

from kernels._bytes import append_span
from kernels._jit import jit

__all__ = (
    "FULL",
    "ESCAPE",
    "t_eq",
    "t_cmp",
    "t_find",
    "t_rfind",
    "t_count",
    "t_len",
    "t_cp_offset",
    "t_startswith",
    "t_endswith",
    "t_put",
    "t_move",
    "t_put_byte",
    "t_case",
    "t_strip",
    "t_replace",
    "t_pad",
    "t_zfill",
    "t_split_at",
    "t_split_ws_at",
    "t_is",
    "t_ascii",
)

#: A destination array had no room left (the caller grows it, or escapes the row).
FULL = -1
#: The exact answer needs Python (non-ASCII case mapping, unusual number text): escape the row.
ESCAPE = -2


@jit
def t_eq(a, as_, ae, b, bs, be):
    """Whether two spans hold the same bytes."""
    n = ae - as_
    if n != be - bs:
        return False
    for k in range(n):
        if a[as_ + k] != b[bs + k]:
            return False
    return True


@jit
def t_cmp(a, as_, ae, b, bs, be):
    """-1, 0 or 1: the spans compared byte by byte (code-point order, as Python compares str)."""
    na = ae - as_
    nb = be - bs
    n = na if na < nb else nb
    for k in range(n):
        x = a[as_ + k]
        y = b[bs + k]
        if x != y:
            return -1 if x < y else 1
    if na == nb:
        return 0
    return -1 if na < nb else 1


@jit
def t_find(h, hs, he, n, ns, ne, frm):
    """Byte position of the first occurrence of span ``n`` in ``h`` at or after ``frm``, or -1."""
    m = ne - ns
    last = he - m
    i = frm
    while i <= last:
        ok = True
        for k in range(m):
            if h[i + k] != n[ns + k]:
                ok = False
                break
        if ok:
            return i
        i += 1
    return -1


@jit
def t_rfind(h, hs, he, n, ns, ne):
    """Byte position of the last occurrence of span ``n`` in ``h``, or -1."""
    m = ne - ns
    i = he - m
    while i >= hs:
        ok = True
        for k in range(m):
            if h[i + k] != n[ns + k]:
                ok = False
                break
        if ok:
            return i
        i -= 1
    return -1


@jit
def t_len(a, s, e):
    """Code points in the span (UTF-8 lead bytes)."""
    c = 0
    for k in range(s, e):
        if (a[k] & 0xC0) != 0x80:
            c += 1
    return c


@jit
def t_count(h, hs, he, n, ns, ne):
    """Non-overlapping occurrences of ``n`` in ``h`` (an empty ``n``: code points + 1, as Python counts)."""
    m = ne - ns
    if m == 0:
        return t_len(h, hs, he) + 1
    c = 0
    i = hs
    while True:
        j = t_find(h, hs, he, n, ns, ne, i)
        if j < 0:
            return c
        c += 1
        i = j + m


@jit
def t_cp_offset(a, s, e, k):
    """Byte position of code point ``k`` of the span (``e`` when ``k`` is its length or more)."""
    if k <= 0:
        return s
    c = 0
    for p in range(s, e):
        if (a[p] & 0xC0) != 0x80:
            if c == k:
                return p
            c += 1
    return e


@jit
def t_startswith(a, s, e, p, ps, pe):
    """Whether span ``a`` starts with span ``p``."""
    m = pe - ps
    if m > e - s:
        return False
    for k in range(m):
        if a[s + k] != p[ps + k]:
            return False
    return True


@jit
def t_endswith(a, s, e, p, ps, pe):
    """Whether span ``a`` ends with span ``p``."""
    m = pe - ps
    if m > e - s:
        return False
    off = e - m
    for k in range(m):
        if a[off + k] != p[ps + k]:
            return False
    return True


#: ``t_put(dst, n, a, s, e)``: append span ``a[s:e]`` to ``dst`` at cursor ``n``; the new cursor,
#: or FULL. Emitted in place (an intrinsic: no call, nothing to inline); see
#: :func:`kernels._bytes.append_span`.
t_put = append_span


@jit
def t_move(dst, n, s, e):
    """Move bytes ``s .. e-1`` of ``dst`` down to ``n`` (``n <= s``), byte by byte; the new cursor."""
    for k in range(e - s):
        dst[n + k] = dst[s + k]
    return n + e - s


@jit
def t_put_byte(dst, n, b, times):
    """Append byte ``b`` ``times`` times; the new cursor, or FULL."""
    if n < 0 or n + times > dst.shape[0]:
        return FULL
    for k in range(times):
        dst[n + k] = b
    return n + times


@jit
def t_case(dst, n, a, s, e, mode):
    """Append the span case-mapped: 0 upper, 1 lower (also casefold), 2 swapcase, 3 title, 4 capitalize.

    ASCII only (ESCAPE at the first other byte: Unicode case mapping is Python's);
    title treats every letter after a non-letter as a word start, as ``str.title`` does.
    """
    m = e - s
    if n < 0 or n + m > dst.shape[0]:
        return FULL
    prev_cased = False
    for k in range(m):
        c = a[s + k]
        if c >= 0x80:
            return ESCAPE
        is_up = 65 <= c <= 90
        is_low = 97 <= c <= 122
        up = c - 32 if is_low else c
        low = c + 32 if is_up else c
        if mode == 0:
            out = up
        elif mode == 1:
            out = low
        elif mode == 2:
            out = low if is_up else up
        elif mode == 3:
            out = low if prev_cased else up
        else:
            out = up if k == 0 else low
        prev_cased = is_up or is_low
        dst[n + k] = out
    return n + m


@jit
def _is_ws(c):
    return c == 32 or 9 <= c <= 13 or 28 <= c <= 31


@jit
def _ws_at(a, p, e):
    """Bytes of the whitespace character starting at ``p`` (0 if there is none): Python's ``str.isspace``."""
    c = a[p]
    if c < 0x80:
        return 1 if _is_ws(c) else 0
    if c == 0xC2 and p + 1 < e:
        return 2 if a[p + 1] == 0x85 or a[p + 1] == 0xA0 else 0
    if p + 2 >= e:
        return 0
    c1 = a[p + 1]
    c2 = a[p + 2]
    if c == 0xE1:
        return 3 if c1 == 0x9A and c2 == 0x80 else 0
    if c == 0xE2:
        if c1 == 0x80 and (0x80 <= c2 <= 0x8A or c2 == 0xA8 or c2 == 0xA9 or c2 == 0xAF):
            return 3
        return 3 if c1 == 0x81 and c2 == 0x9F else 0
    if c == 0xE3:
        return 3 if c1 == 0x80 and c2 == 0x80 else 0
    return 0


@jit
def _in_set(c, chars, cs, ce):
    for k in range(cs, ce):
        if chars[k] == c:
            return True
    return False


@jit
def t_strip(a, s, e, chars, cs, ce, left, right, default):
    """The span with characters stripped from its ends: ``(s, e)``.

    ``default``: whitespace as ``str.strip()`` sees it (Unicode spaces too);
    else any of the ASCII characters ``chars[cs:ce]``.
    """
    while left and s < e:
        w = _ws_at(a, s, e) if default else (1 if _in_set(a[s], chars, cs, ce) else 0)
        if w == 0:
            break
        s += w
    while right and e > s:
        p = e - 1
        while p > s and (a[p] & 0xC0) == 0x80:  # the start of the last character
            p -= 1
        w = _ws_at(a, p, e) if default else (1 if a[p] < 0x80 and _in_set(a[p], chars, cs, ce) else 0)
        if w == 0 or p + w != e:
            break
        e = p
    return s, e


@jit
def t_replace(dst, n, a, s, e, o, os, oe, w, ws, we, count):
    """Append span ``a`` with non-empty ``o`` replaced by ``w`` (at most ``count`` times if ``count >= 0``)."""
    m = oe - os
    i = s
    done = 0
    while True:
        j = -1 if (count >= 0 and done >= count) else t_find(a, s, e, o, os, oe, i)
        if j < 0:
            return t_put(dst, n, a, i, e)
        n = t_put(dst, n, a, i, j)
        n = t_put(dst, n, w, ws, we)
        if n < 0:
            return FULL
        i = j + m
        done += 1


@jit
def t_pad(dst, n, a, s, e, width, fill, fs, fe, align):
    """Append the span padded to ``width`` code points with the fill character ``fill[fs:fe]``.

    ``align``: 0 left (``ljust``), 1 right (``rjust``), 2 center (``center``: the extra
    character goes left when the padding and the width are both odd, as in CPython).
    """
    length = t_len(a, s, e)
    pad = width - length
    if pad <= 0:
        return t_put(dst, n, a, s, e)
    if align == 0:
        left = 0
    elif align == 1:
        left = pad
    else:
        left = pad // 2 + (pad & width & 1)
    for _ in range(left):
        n = t_put(dst, n, fill, fs, fe)
    n = t_put(dst, n, a, s, e)
    for _ in range(pad - left):
        n = t_put(dst, n, fill, fs, fe)
    return n


@jit
def t_zfill(dst, n, a, s, e, width):
    """Append ``str.zfill(width)`` of the span: zeros after a leading sign."""
    length = t_len(a, s, e)
    pad = width - length
    if pad <= 0:
        return t_put(dst, n, a, s, e)
    if s < e and (a[s] == 43 or a[s] == 45):
        n = t_put(dst, n, a, s, s + 1)
        s += 1
    n = t_put_byte(dst, n, 48, pad)
    return t_put(dst, n, a, s, e)


@jit
def t_split_at(a, s, e, sep, ss, se, k):
    """Piece ``k`` of ``str.split(sep)`` (non-empty ``sep``; ``k < 0`` from the end): ``(s, e, found)``."""
    m = se - ss
    pieces = 1
    i = s
    while True:
        j = t_find(a, s, e, sep, ss, se, i)
        if j < 0:
            break
        pieces += 1
        i = j + m
    if k < 0:
        k += pieces
    if k < 0 or k >= pieces:
        return s, s, False
    i = s
    for _ in range(k):
        i = t_find(a, s, e, sep, ss, se, i) + m
    j = t_find(a, s, e, sep, ss, se, i)
    return i, (e if j < 0 else j), True


@jit
def t_split_ws_at(a, s, e, k):
    """Piece ``k`` of ``str.split()`` (runs of whitespace): ``(s, e, status)``; 0 found, 1 out of range, 2 ESCAPE."""
    for p in range(s, e):
        if a[p] >= 0x80:
            return s, s, 2
    pieces = 0
    p = s
    while p < e:
        while p < e and _is_ws(a[p]):
            p += 1
        if p < e:
            pieces += 1
            while p < e and not _is_ws(a[p]):
                p += 1
    if k < 0:
        k += pieces
    if k < 0 or k >= pieces:
        return s, s, 1
    p = s
    c = -1
    while p < e:
        while p < e and _is_ws(a[p]):
            p += 1
        start = p
        while p < e and not _is_ws(a[p]):
            p += 1
        c += 1
        if c == k:
            return start, p, 0
    return s, s, 1


@jit
def t_is(a, s, e, which):
    """``str.isX()`` over ASCII text: 1 true, 0 false, 2 ESCAPE (a non-ASCII character).

    ``which``: 0 isdigit/isdecimal/isnumeric, 1 isalpha, 2 isalnum, 3 isspace,
    4 isupper, 5 islower, 6 istitle, 7 isidentifier, 8 isascii.
    """
    if which == 8:
        for p in range(s, e):
            if a[p] >= 0x80:
                return 0
        return 1
    for p in range(s, e):
        if a[p] >= 0x80:
            return 2
    if s == e:
        return 0
    if which == 7:
        c = a[s]
        if not (65 <= c <= 90 or 97 <= c <= 122 or c == 95):
            return 0
        for p in range(s + 1, e):
            c = a[p]
            if not (65 <= c <= 90 or 97 <= c <= 122 or c == 95 or 48 <= c <= 57):
                return 0
        return 1
    if which <= 3:
        for p in range(s, e):
            c = a[p]
            dig = 48 <= c <= 57
            alpha = 65 <= c <= 90 or 97 <= c <= 122
            if which == 0 and not dig:
                return 0
            if which == 1 and not alpha:
                return 0
            if which == 2 and not (dig or alpha):
                return 0
            if which == 3 and not _is_ws(c):
                return 0
        return 1
    cased = False
    prev_cased = False
    for p in range(s, e):
        c = a[p]
        up = 65 <= c <= 90
        low = 97 <= c <= 122
        if which == 4 and low:
            return 0
        if which == 5 and up:
            return 0
        if which == 6:
            if up and prev_cased:
                return 0
            if low and not prev_cased:
                return 0
        if up or low:
            cased = True
        prev_cased = up or low
    return 1 if cased else 0


@jit
def t_ascii(a, s, e):
    """Whether the span is plain ASCII (code points are then bytes)."""
    for p in range(s, e):
        if a[p] >= 0x80:
            return False
    return True
