"""Scalar helpers with Python's exact semantics, for the generated state kernels.

Each returns ``(value, code)`` where ``code`` is 0 on success; the caller turns
a non-zero code into the record's error. Integer arithmetic is checked against
int64 overflow with unsigned (wrapping) arithmetic, never relying on wrap-around
of signed values.
"""

from __future__ import annotations

import math

import numpy as np

from kernels._jit import jit

__all__ = (
    "add_i",
    "sub_i",
    "mul_i",
    "floordiv_i",
    "mod_i",
    "pow_i",
    "neg_i",
    "divmod_f",
    "pow_f",
    "round_f",
    "to_int_f",
    "INT_MIN",
    "INT_MAX",
)

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1

OK = 0
OVERFLOW = 1
ZERODIV = 2
COMPLEX = 3  # result would be complex: let Python handle the row
VALUE = 4  # ValueError (NaN to int)
FLOAT_RANGE = 5  # float pow out of range (Python's OverflowError)


@jit
def add_i(a, b):
    r = np.int64(np.uint64(a) + np.uint64(b))
    if ((a ^ r) & (b ^ r)) < 0:
        return r, OVERFLOW
    return r, OK


@jit
def sub_i(a, b):
    r = np.int64(np.uint64(a) - np.uint64(b))
    if ((a ^ b) & (a ^ r)) < 0:
        return r, OVERFLOW
    return r, OK


@jit
def mul_i(a, b):
    r = np.int64(np.uint64(a) * np.uint64(b))
    p = float(a) * float(b)
    if -9.2e18 < p < 9.2e18:
        return r, OK
    if a == 0 or b == 0:
        return np.int64(0), OK
    if (a == -1 and b == INT_MIN) or (b == -1 and a == INT_MIN):
        return r, OVERFLOW
    if r // b != a or r % b != 0:
        return r, OVERFLOW
    return r, OK


@jit
def floordiv_i(a, b):
    if b == 0:
        return np.int64(0), ZERODIV
    if b == -1:
        if a == INT_MIN:
            return np.int64(0), OVERFLOW
        return -a, OK
    return a // b, OK  # numba's integer // floors, as Python's does


@jit
def mod_i(a, b):
    if b == 0:
        return np.int64(0), ZERODIV
    if b == -1:
        return np.int64(0), OK
    m = a % b
    return m, OK


@jit
def neg_i(a):
    if a == INT_MIN:
        return a, OVERFLOW
    return -a, OK


@jit
def pow_i(a, b):
    """``a ** b`` for ``b >= 0`` with overflow detection."""
    if b == 0:
        return np.int64(1), OK
    if a == 0 or a == 1:
        return a, OK
    if a == -1:
        return (np.int64(1) if b % 2 == 0 else np.int64(-1)), OK
    if b >= 64:
        return np.int64(0), OVERFLOW
    result = np.int64(1)
    base = a
    e = b
    while e > 0:
        if e & 1:
            result, c = mul_i(result, base)
            if c != OK:
                return result, OVERFLOW
        e >>= 1
        if e > 0:
            base, c = mul_i(base, base)
            if c != OK:
                return result, OVERFLOW
    return result, OK


@jit
def divmod_f(x, y):
    """Python's float ``divmod`` (Objects/floatobject.c ``_float_div_mod``)."""
    if y == 0.0:
        return 0.0, 0.0, ZERODIV
    mod = np.fmod(x, y)
    div = (x - mod) / y
    if mod != 0.0:
        if (y < 0.0) != (mod < 0.0):
            mod += y
            div -= 1.0
    else:
        mod = np.copysign(0.0, y)
    if div != 0.0:
        floordiv = np.floor(div)
        if div - floordiv > 0.5:
            floordiv += 1.0
    else:
        floordiv = np.copysign(0.0, x / y)
    return floordiv, mod, OK


@jit
def pow_f(iv, iw):
    """Python's ``float.__pow__`` (Objects/floatobject.c ``float_pow``)."""
    if iw == 0.0:
        return 1.0, OK
    if math.isnan(iv):
        return iv, OK
    if math.isnan(iw):
        return (1.0 if iv == 1.0 else iw), OK
    if math.isinf(iw):
        a = abs(iv)
        if a == 1.0:
            return 1.0, OK
        if (iw > 0.0) == (a > 1.0):
            return abs(iw), OK
        return 0.0, OK
    if math.isinf(iv):
        iw_is_odd = np.fmod(abs(iw), 2.0) == 1.0
        if iw > 0.0:
            return (iv if iw_is_odd else abs(iv)), OK
        return (np.copysign(0.0, iv) if iw_is_odd else 0.0), OK
    if iv == 0.0:
        iw_is_odd = np.fmod(abs(iw), 2.0) == 1.0
        if iw < 0.0:
            return 0.0, ZERODIV
        return (iv if iw_is_odd else 0.0), OK
    if iv < 0.0 and iw != np.floor(iw):
        return 0.0, COMPLEX
    if iv == 1.0:
        return 1.0, OK
    r = iv**iw
    if math.isinf(r):
        return r, FLOAT_RANGE
    return r, OK


@jit
def to_int_f(x):
    """``int(x)`` for a float: truncation, NaN -> ValueError, inf / out of int64 -> OverflowError."""
    if math.isnan(x):
        return np.int64(0), VALUE
    if math.isinf(x):
        return np.int64(0), OVERFLOW
    t = np.trunc(x)
    if t >= 9.223372036854775807e18 or t < -9.223372036854775808e18:
        return np.int64(0), OVERFLOW
    return np.int64(t), OK


@jit
def round_f(x):
    """``round(x)`` for a float: half to even, NaN -> ValueError, inf / out of int64 -> OverflowError."""
    if math.isnan(x):
        return np.int64(0), VALUE
    if math.isinf(x):
        return np.int64(0), OVERFLOW
    r = np.rint(x)
    if r >= 9.223372036854775807e18 or r < -9.223372036854775808e18:
        return np.int64(0), OVERFLOW
    return np.int64(r), OK
