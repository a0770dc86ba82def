"""Numbers as text and text as numbers in the generated state kernels, with Python's exact results.

``str(int)``, ``str(float)`` (the shortest repr, or ESCAPE where it is not plain
decimal), ``int(text)`` and ``float(text)`` over UTF-8 spans (see
:mod:`kernels.text` for spans, cursors, FULL and ESCAPE). Only ASCII's six
whitespace characters are stripped around a number here; text with any other
character that Python would accept escapes to Python.
"""

from __future__ import annotations

import numpy as np

from kernels._jit import jit
from kernels.text import ESCAPE, FULL

__all__ = ("t_fmt_int", "t_fmt_int_pad", "t_fmt_float", "t_parse_int", "t_parse_float")

_MAX_F = 9007199254740992.0  # 2**53: floats below it hold every integer exactly


@jit
def _is_num_ws(c):
    """Whitespace that ``int()`` and ``float()`` strip: ASCII's six (not the separators 0x1c-0x1f)."""
    return c == 32 or 9 <= c <= 13


#: "00" "01" ... "99": two digits at a time
_PAIRS = np.frombuffer("".join(f"{k:02d}" for k in range(100)).encode(), np.uint8)


@jit
def _n_digits(u):
    """Decimal digits of uint64 ``u`` (1 for 0)."""
    d = 1
    while u >= np.uint64(10000):
        u //= np.uint64(10000)
        d += 4
    if u >= np.uint64(100):
        d += 3 if u >= np.uint64(1000) else 2
    elif u >= np.uint64(10):
        d += 1
    return d


@jit
def _put_digits(dst, end, u):
    """Write the digits of uint64 ``u`` so that the last one is at ``end - 1``."""
    p = end
    while u >= np.uint64(100):
        q = u // np.uint64(100)
        r = np.int64(u - q * np.uint64(100)) * 2
        p -= 2
        dst[p] = _PAIRS[r]
        dst[p + 1] = _PAIRS[r + 1]
        u = q
    if u >= np.uint64(10):
        r = np.int64(u) * 2
        dst[p - 2] = _PAIRS[r]
        dst[p - 1] = _PAIRS[r + 1]
    else:
        dst[p - 1] = np.uint8(48 + np.int64(u))


@jit
def t_fmt_int(dst, n, v):
    """Append the decimal text of int64 ``v``."""
    if n < 0 or n + 20 > dst.shape[0]:
        return FULL
    neg = v < 0
    u = np.uint64(-(v + 1)) + np.uint64(1) if neg else np.uint64(v)
    if neg:
        dst[n] = 45
        n += 1
    end = n + _n_digits(u)
    _put_digits(dst, end, u)
    return end


@jit
def t_fmt_int_pad(dst, n, v, width, zero, plus):
    """Append int64 ``v`` as ``format(v, spec)`` for a spec ``[+][0]width[d]``.

    The text is right-aligned in ``width`` characters: with ``zero``, zeros go after
    the sign (``-0005``), else spaces before it (``'   -5'``); ``plus`` writes ``+``
    before numbers that are not negative.
    """
    if n < 0 or n + 21 + width > dst.shape[0]:
        return FULL
    neg = v < 0
    u = np.uint64(-(v + 1)) + np.uint64(1) if neg else np.uint64(v)
    digits = _n_digits(u)
    signed = neg or plus
    pad = width - digits - (1 if signed else 0)
    if pad < 0:
        pad = 0
    if not zero:
        for k in range(pad):
            dst[n + k] = 32
        n += pad
    if signed:
        dst[n] = 45 if neg else 43
        n += 1
    if zero:
        for k in range(pad):
            dst[n + k] = 48
        n += pad
    end = n + digits
    _put_digits(dst, end, u)
    return end


@jit
def t_fmt_float(dst, n, v):
    """Append ``repr(v)`` where it is plain: nan, inf, whole values below 1e16, and short decimals.

    A float's repr is the shortest text that reads back as it. Here: whole numbers
    (``3.0``), and values whose shortest form has at most 15 significant digits in
    the positional range Python prints positionally (1e-4 <= |v| < 1e16), found as
    the unique decimal with fewest fractional digits that reads back as ``v``.
    Anything else (scientific notation, 16-17 digits) is ESCAPE.
    """
    if n < 0 or n + 40 > dst.shape[0]:
        return FULL
    if v != v:
        dst[n] = 110
        dst[n + 1] = 97
        dst[n + 2] = 110
        return n + 3
    neg = v < 0.0 or (v == 0.0 and np.signbit(v))
    x = -v if neg else v
    if x == np.inf:
        if neg:
            dst[n] = 45
            n += 1
        dst[n] = 105
        dst[n + 1] = 110
        dst[n + 2] = 102
        return n + 3
    if x != 0.0 and (x < 1e-4 or x >= 1e16):
        return ESCAPE
    if x == np.floor(x):  # whole: digits, then ".0"
        if neg:
            dst[n] = 45
            n += 1
        n = t_fmt_int(dst, n, np.int64(x))
        dst[n] = 46
        dst[n + 1] = 48
        return n + 2
    scale = 1.0
    for d in range(1, 16):
        scale *= 10.0
        mf = np.floor(x * scale + 0.5)
        if mf >= _MAX_F:
            return ESCAPE
        if mf / scale == x:
            if (mf - 1.0) / scale == x or (mf + 1.0) / scale == x:
                return ESCAPE  # two candidates: Python picks the nearer; let it
            m = np.int64(mf)
            p10 = np.int64(1)
            for _ in range(d):
                p10 *= 10
            ip = m // p10
            fp = m - ip * p10
            if neg:
                dst[n] = 45
                n += 1
            n = t_fmt_int(dst, n, ip)
            dst[n] = 46
            n += 1
            q = p10 // 10
            for _ in range(d):
                dst[n] = np.uint8(48 + (fp // q) % 10)
                n += 1
                q //= 10
            return n
    return ESCAPE


@jit
def t_parse_int(a, s, e):
    """``int(text)`` for plain ASCII decimal text: ``(value, ok)``; not ok for anything else (Python decides).

    Accepts surrounding ASCII whitespace, a sign, and digits with single underscores
    between them, as Python does; anything past int64 or unusual is not ok.
    """
    while s < e and _is_num_ws(a[s]):
        s += 1
    while e > s and _is_num_ws(a[e - 1]):
        e -= 1
    if s >= e:
        return np.int64(0), False
    neg = False
    if a[s] == 45 or a[s] == 43:
        neg = a[s] == 45
        s += 1
    if s >= e:
        return np.int64(0), False
    v = np.int64(0)
    prev_us = True
    for k in range(s, e):
        c = a[k]
        if c == 95:
            if prev_us:
                return np.int64(0), False
            prev_us = True
            continue
        if c < 48 or c > 57:
            return np.int64(0), False
        if v > 922337203685477579:  # one more digit could leave int64
            return np.int64(0), False
        v = v * 10 + (c - 48)
        prev_us = False
    if prev_us:
        return np.int64(0), False
    return (-v if neg else v), True


@jit
def t_parse_float(a, s, e):
    """``float(text)`` where it is exact in one operation: ``(value, ok)``.

    Plain ASCII decimals ``[sign]digits[.digits]`` with at most 15 significant
    digits and at most 22 fractional digits: the digits as an integer (exact
    below 2**53) divided by a power of ten (exact up to 1e22) rounds once,
    correctly. Anything else is not ok (Python decides).
    """
    while s < e and _is_num_ws(a[s]):
        s += 1
    while e > s and _is_num_ws(a[e - 1]):
        e -= 1
    if s >= e:
        return 0.0, False
    neg = False
    if a[s] == 45 or a[s] == 43:
        neg = a[s] == 45
        s += 1
    m = np.int64(0)
    digits = 0
    frac = 0
    seen_dot = False
    any_digit = False
    for k in range(s, e):
        c = a[k]
        if c == 46:
            if seen_dot:
                return 0.0, False
            seen_dot = True
            continue
        if c < 48 or c > 57:
            return 0.0, False
        any_digit = True
        if m > 0 or c != 48:
            digits += 1
        if digits > 15:
            return 0.0, False
        m = m * 10 + (c - 48)
        if seen_dot:
            frac += 1
    if not any_digit or frac > 22:
        return 0.0, False
    p = 1.0
    for _ in range(frac):
        p *= 10.0
    r = np.float64(m) / p
    return (-r if neg else r), True
