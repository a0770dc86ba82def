"""The text kernels agree with Python's ``str`` on every input they answer (hypothesis, Unicode included)."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels import text as T
from kernels import textnum as N

# ASCII-heavy text with some Latin, Greek, CJK, emoji, and the whitespace Python knows
CHARS = st.sampled_from(
    [*list("abcXYZ019 _-.,"), "\t", "\n", "\x1c", "\xa0", "\u2003", "\u3000", "é", "ß", "Σ", "ǅ", "日", "😀", "ﬁ", "İ"]
)
TEXT = st.lists(CHARS, max_size=12).map("".join)


def span(s: str) -> tuple[np.ndarray, int, int]:
    b = np.frombuffer(s.encode(), np.uint8).copy()
    return b, 0, len(b)


def padded(s: str) -> tuple[np.ndarray, int, int]:
    """``s`` in the middle of a buffer, to catch helpers reading outside their span."""
    raw = ("@@" + s + "##").encode()
    b = np.frombuffer(raw, np.uint8).copy()
    return b, 2, len(raw) - 2


def text_of(dst: np.ndarray, n: int) -> str:
    return bytes(dst[:n]).decode()


@settings(max_examples=300)
@given(TEXT, TEXT)
def test_compare_and_search(a: str, b: str) -> None:
    x, y = padded(a), padded(b)
    assert T.t_eq(*x, *y) == (a == b)
    assert T.t_cmp(*x, *y) == (a > b) - (a < b)
    assert T.t_len(*x) == len(a)
    assert T.t_startswith(*x, *y) == a.startswith(b)
    assert T.t_endswith(*x, *y) == a.endswith(b)
    found = T.t_find(*x, *y, x[1])
    assert (found >= 0) == (b in a)
    if found >= 0:
        assert len(a.encode()[: found - 2].decode()) == a.find(b)
        assert T.t_len(x[0], x[1], found) == a.find(b)
        assert T.t_len(x[0], x[1], T.t_rfind(*x, *y)) == a.rfind(b)
    assert T.t_count(*x, *y) == a.count(b)


@settings(max_examples=200)
@given(TEXT, st.integers(-3, 15))
def test_code_point_offsets(a: str, k: int) -> None:
    x = padded(a)
    if k >= 0:
        assert bytes(x[0][x[1] : T.t_cp_offset(*x, k)]).decode() == a[:k]


@settings(max_examples=300)
@given(TEXT, st.integers(0, 4))
def test_case_mapping_is_pythons_or_escapes(a: str, mode: int) -> None:
    dst = np.empty(64, np.uint8)
    n = T.t_case(dst, 0, *padded(a), mode)
    if not a.isascii():
        assert n == T.ESCAPE
        return
    expected = [a.upper(), a.lower(), a.swapcase(), a.title(), a.capitalize()][mode]
    assert text_of(dst, n) == expected


@settings(max_examples=300)
@given(TEXT, st.sampled_from(["", "ab", " .", "x_"]), st.booleans(), st.booleans())
def test_strip(a: str, chars: str, left: bool, right: bool) -> None:
    x = padded(a)
    c = span(chars or "?")
    s, e = T.t_strip(*x, *c, left, right, not chars)
    arg = chars or None
    expected = a.strip(arg) if left and right else a.lstrip(arg) if left else a.rstrip(arg) if right else a
    assert bytes(x[0][s:e]).decode() == expected


@settings(max_examples=300)
@given(TEXT, st.sampled_from(["a", "ab", "日", " "]), st.sampled_from(["", "-", "ΣΣ"]), st.integers(-1, 3))
def test_replace(a: str, old: str, new: str, count: int) -> None:
    dst = np.empty(256, np.uint8)
    n = T.t_replace(dst, 0, *padded(a), *span(old), *span(new), count)
    assert text_of(dst, n) == a.replace(old, new, count)


@settings(max_examples=500)
@given(st.integers(-(2**63), 2**63 - 1))
def test_int_text(v: int) -> None:
    dst = np.empty(32, np.uint8)
    assert text_of(dst, N.t_fmt_int(dst, 0, v)) == str(v)


@settings(max_examples=500)
@given(
    st.one_of(st.integers(-(2**63), 2**63 - 1), st.integers(-1000, 1000)),
    st.integers(0, 25),
    st.booleans(),
    st.booleans(),
)
def test_padded_int_text(v: int, width: int, zero: bool, plus: bool) -> None:
    """``[+][0]width`` specs of an int, as ``format()`` writes them."""
    dst = np.full(80, 0xAB, np.uint8)
    spec = ("+" if plus else "") + ("0" if zero else "") + str(width) + "d"
    assert text_of(dst, N.t_fmt_int_pad(dst, 0, v, width, zero, plus)) == format(v, spec)


FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6).map(lambda i: i / 100),
    st.integers(-(10**9), 10**9).map(lambda i: i / 1000),
    st.sampled_from([0.1, 0.2, 0.3, 0.1 + 0.2, 1e-4, 1e-5, 1e16, 9999999999999998.0, 123456.789, -0.0, 2.5, 1 / 3]),
)


@settings(max_examples=1000)
@given(FLOATS)
def test_float_text_is_repr_or_escapes(v: float) -> None:
    dst = np.empty(64, np.uint8)
    n = N.t_fmt_float(dst, 0, v)
    if n == T.ESCAPE:
        return
    assert text_of(dst, n) == repr(v)


def test_float_text_covers_the_plain_cases() -> None:
    dst = np.empty(64, np.uint8)
    for v in [0.0, -0.0, 1.0, 2.5, 0.05, 123.456, -7.25, 1e15, math.inf, -math.inf, math.nan, 1e-4]:
        n = N.t_fmt_float(dst, 0, v)
        assert n != T.ESCAPE, v
        assert text_of(dst, n) == repr(v)


@settings(max_examples=500)
@given(
    st.one_of(
        TEXT,
        st.integers(-(2**64), 2**64).map(str),
        st.sampled_from([" 12 ", "+5", "-0", "1_000", "1__0", "_1", "1_", "", " ", "١٢", "0x10", "12.5", "007"]),
    )
)
def test_int_parsing_is_pythons_or_declines(t: str) -> None:
    v, ok = N.t_parse_int(*padded(t))
    if ok:
        assert v == int(t)


@settings(max_examples=500)
@given(
    st.one_of(
        TEXT,
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.integers(-(10**12), 10**12).map(lambda i: f"{i / 1000:.3f}"),
        st.sampled_from(["1e5", ".5", "5.", "-0", " 3.25 ", "inf", "1_0.5", "0.1", "123456789.123456"]),
    )
)
def test_float_parsing_is_pythons_or_declines(t: str) -> None:
    v, ok = N.t_parse_float(*padded(t))
    if ok:
        expected = float(t)
        assert v == expected and math.copysign(1, v) == math.copysign(1, expected)


def test_parsing_answers_the_plain_cases() -> None:
    for t in ["12", " -7 ", "1_000", "+3"]:
        assert N.t_parse_int(*span(t)) == (int(t), True)
    for t in ["2.5", "-0.125", "3", "100.10"]:
        assert N.t_parse_float(*span(t)) == (float(t), True)


@settings(max_examples=300)
@given(TEXT, st.integers(-2, 14), st.sampled_from(["*", " ", "é"]), st.integers(0, 2))
def test_padding(a: str, width: int, fill: str, align: int) -> None:
    dst = np.empty(256, np.uint8)
    n = T.t_pad(dst, 0, *padded(a), width, *span(fill), align)
    assert text_of(dst, n) == [a.ljust, a.rjust, a.center][align](width, fill)
    n = T.t_zfill(dst, 0, *padded(a), width)
    assert text_of(dst, n) == a.zfill(width)


@settings(max_examples=300)
@given(TEXT, st.sampled_from([",", "ab", " ", "日"]), st.integers(-4, 4))
def test_split_piece(a: str, sep: str, k: int) -> None:
    x = padded(a)
    s, e, found = T.t_split_at(*x, *span(sep), k)
    pieces = a.split(sep)
    assert found == (-len(pieces) <= k < len(pieces))
    if found:
        assert bytes(x[0][s:e]).decode() == pieces[k]


@settings(max_examples=300)
@given(TEXT, st.integers(-4, 4))
def test_split_on_whitespace_piece(a: str, k: int) -> None:
    x = padded(a)
    s, e, status = T.t_split_ws_at(*x, k)
    if status == 2:
        assert not a.isascii()
        return
    pieces = a.split()
    assert (status == 0) == (-len(pieces) <= k < len(pieces))
    if status == 0:
        assert bytes(x[0][s:e]).decode() == pieces[k]


@settings(max_examples=500)
@given(TEXT, st.integers(0, 8))
def test_predicates(a: str, which: int) -> None:
    r = T.t_is(*padded(a), which)
    if r == 2:
        assert not a.isascii()
        return
    name = ["isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "istitle", "isidentifier", "isascii"][
        which
    ]
    assert bool(r) == getattr(a, name)()


@numba.njit
def put(dst, n, a, s, e):  # t_put is an intrinsic: it runs only inside compiled code
    return T.t_put(dst, n, a, s, e)


@settings(max_examples=400)
@given(st.binary(max_size=40), st.integers(0, 40), st.integers(0, 40), st.integers(0, 40), st.integers(0, 24))
def test_put_copies_exactly_the_span(data: bytes, s: int, e: int, n: int, room: int) -> None:
    """Short spans copy as two words, long ones by memcpy; near either array's end, neither reads or writes out."""
    s, e = min(s, len(data)), min(max(s, e), len(data))
    src = np.frombuffer(data, np.uint8).copy()
    dst = np.full(n + room, 0xAB, np.uint8)
    before = dst.copy()
    got = put(dst, n, src, s, e)
    if n + (e - s) > len(dst):
        assert got == T.FULL
        assert (dst == before).all()
        return
    assert got == n + e - s
    assert bytes(dst[n:got]) == data[s:e]
    assert (dst[:n] == before[:n]).all()  # what comes after the cursor is free to hold anything


@pytest.mark.parametrize("helper", [put, T.t_case])
def test_a_full_destination_says_so(helper) -> None:
    dst = np.empty(2, np.uint8)
    args = (dst, 0, *span("abc")) + ((0,) if helper is T.t_case else ())
    assert helper(*args) == T.FULL
