"""The numba helper kernels agree with Python on every input (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels import arith
from kernels.select import num_to_float, positions_to_bitmap

I64 = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([0, 1, -1, 2, -2, 2**31, 2**32, 3_037_000_499, 3_037_000_500, 2**62, -(2**63), 2**63 - 1]),
)
F64 = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.5, 1e308, 5e-324]),
)
IN_RANGE = range(-(2**63), 2**63)


def _same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


@settings(max_examples=400, deadline=None)
@given(I64, I64)
def test_checked_int_ops_match_python(a: int, b: int) -> None:
    for fn, exact in ((arith.add_i, a + b), (arith.sub_i, a - b), (arith.mul_i, a * b)):
        r, code = fn(np.int64(a), np.int64(b))
        if exact in IN_RANGE:
            assert (int(r), code) == (exact, arith.OK)
        else:
            assert code == arith.OVERFLOW
    q, code = arith.floordiv_i(np.int64(a), np.int64(b))
    m, mcode = arith.mod_i(np.int64(a), np.int64(b))
    if b == 0:
        assert code == mcode == arith.ZERODIV
    else:
        assert mcode == arith.OK and int(m) == a % b
        if a // b in IN_RANGE:
            assert (int(q), code) == (a // b, arith.OK)
        else:
            assert code == arith.OVERFLOW


@settings(max_examples=300, deadline=None)
@given(st.integers(-50, 50), st.integers(0, 70))
def test_int_pow_matches_python(a: int, b: int) -> None:
    r, code = arith.pow_i(np.int64(a), np.int64(b))
    exact = a**b
    if exact in IN_RANGE:
        assert (int(r), code) == (exact, arith.OK)
    else:
        assert code == arith.OVERFLOW


@settings(max_examples=400, deadline=None)
@given(F64, F64)
def test_float_divmod_and_pow_match_python(x: float, y: float) -> None:
    q, m, code = arith.divmod_f(x, y)
    try:
        pq, pm = divmod(x, y)
    except ZeroDivisionError:
        assert code == arith.ZERODIV
    else:
        assert code == arith.OK and _same_float(q, pq) and _same_float(m, pm)
    r, code = arith.pow_f(x, y)
    try:
        p = x**y
    except ZeroDivisionError:
        assert code == arith.ZERODIV
    except OverflowError:
        assert code in (arith.FLOAT_RANGE, arith.COMPLEX)
    else:
        if isinstance(p, complex):
            assert code == arith.COMPLEX
        else:
            assert code == arith.OK and _same_float(r, p)


@settings(max_examples=300, deadline=None)
@given(F64)
def test_float_to_int_and_round_match_python(x: float) -> None:
    for fn, py in ((arith.to_int_f, int), (arith.round_f, round)):
        r, code = fn(x)
        try:
            exact = py(x)
        except ValueError:
            assert code == arith.VALUE
        except OverflowError:
            assert code == arith.OVERFLOW
        else:
            if exact in IN_RANGE:
                assert (int(r), code) == (exact, arith.OK)
            else:
                assert code == arith.OVERFLOW


@given(st.sets(st.integers(0, 99)))
def test_bitmap_and_num_merge(pos: set[int]) -> None:
    ix = np.array(sorted(pos), np.int64)
    bits = np.unpackbits(positions_to_bitmap(ix, 100), bitorder="little")[:100]
    assert np.flatnonzero(bits).tolist() == ix.tolist()
    isf = np.zeros(100, np.bool_)
    isf[ix] = True
    out = np.empty(100)
    assert num_to_float(isf, np.arange(100, dtype=np.int64), np.full(100, 0.5), out) == len(ix)
    assert out.tolist() == [0.5 if i in pos else float(i) for i in range(100)]
