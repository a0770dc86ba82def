"""The numba JSON Lines writer (streamkit/io/_jsonwrite.py) against polars' write_ndjson, byte for byte."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import polars as pl
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamkit.io._jsonwrite import BufferPool, encode_jsonl


def polars_text(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pl.from_arrow(table).write_ndjson(buf)
    return buf.getvalue()


def ours(table: pa.Table, pool: BufferPool | None = None) -> bytes:
    text = encode_jsonl(table, pool)
    assert text is not None
    return bytes(text)


EDGE_FLOATS = [
    100.0,
    1e16,
    1.5e-7,
    0.1,
    -0.0,
    0.0,
    math.nan,
    math.inf,
    -math.inf,
    1.2345678901234568e17,
    1e22,
    5e-324,
    2.5,
    None,
    1e15,
    1e21,
    1e-5,
    -1.7976931348623157e308,
]
EDGE_STRINGS = ['a"b', "\\", "\x01\n\t\x7f", "é😀", "\u2028", None, "", "x" * 40, "\x1f\b\f\r", "\x00", "/"]


def test_every_kind_matches_polars_byte_for_byte() -> None:
    n = len(EDGE_FLOATS)
    strings = (EDGE_STRINGS * 2)[:n]
    table = pa.table(
        {
            "f": pa.array(EDGE_FLOATS, pa.float64()),
            "i": pa.array([None, -(2**63), 2**63 - 1, 0, -1, 9, 10, 99, 100, 101, 12345, None, 7, 8, 9, 10, 11, 12]),
            "u": pa.array([2**64 - 1, None, *range(n - 2)], pa.uint64()),
            "i8": pa.array([(-128 + 15 * k) for k in range(n)], pa.int8()),
            "u32": pa.array([2**32 - 1 - k for k in range(n)], pa.uint32()),
            "s": pa.array(strings, pa.string()),
            "ls": pa.array(strings, pa.large_string()),
            "b": pa.array(([True, False, None] * n)[:n]),
            "d": pa.array((["x", "y", None, "x", 'z"\n'] * n)[:n]).dictionary_encode(),
            'k"ey\n': pa.array(range(n), pa.int16()),
            "nul": pa.nulls(n),
            "f32": pa.array(([0.1, 1.0, None, 3.4e38, math.nan] * n)[:n], pa.float32()),
        }
    )
    assert ours(table) == polars_text(table)
    for start, length in ((3, 9), (1, 1), (7, n - 7)):
        part = table.slice(start, length)
        assert ours(part) == polars_text(part)


def test_string_views_and_many_chunks() -> None:
    t = pa.table({"s": pa.array(["a", None, "b\n"]).cast(pa.string_view()), "x": [1, 2, 3]})
    assert ours(t) == b'{"s":"a","x":1}\n{"s":null,"x":2}\n{"s":"b\\n","x":3}\n'
    chunked = pa.concat_tables(
        [pa.table({"x": [1, None]}), pa.table({"x": [3]}), pa.table({"x": pa.array([], pa.int64())})]
    )
    assert ours(chunked) == b'{"x":1}\n{"x":null}\n{"x":3}\n'


def test_types_it_does_not_write_are_left_to_the_caller() -> None:
    assert encode_jsonl(pa.table({"t": pa.array([1], pa.timestamp("us"))})) is None
    assert encode_jsonl(pa.table({"l": [[1, 2]]})) is None
    assert encode_jsonl(pa.table({"b": [b"x"]})) is None
    assert encode_jsonl(pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"])) is None
    assert encode_jsonl(pa.table({})) is None


def test_large_dictionaries_are_decoded() -> None:
    values = [f"v{k}\t" for k in range(5000)]
    t = pa.table({"d": pa.array([*values[::-1], None]).dictionary_encode()})
    assert ours(t) == polars_text(t)


def test_buffers_are_reused_once_given_back() -> None:
    pool = BufferPool(keep=2)
    t = pa.table({"x": list(range(1000))})
    first = encode_jsonl(t, pool)
    assert first is not None
    want = bytes(first)
    pool.give(first)
    second = encode_jsonl(t, pool)
    assert second is not None and np.shares_memory(first, second)
    assert bytes(second) == want
    other = encode_jsonl(pa.table({"x": [1]}), pool)  # pool is empty: a new buffer
    assert other is not None and not np.shares_memory(other, second)
    middle = encode_jsonl(pa.table({"x": list(range(100))}), pool)
    pool.give(second)
    pool.give(middle)
    pool.give(middle)  # twice: kept once
    pool.give(other)  # a third: the smallest kept is dropped
    assert len(pool._free) == 2
    small = encode_jsonl(pa.table({"x": [7]}), pool)  # the smallest that fits is taken
    assert small is not None and np.shares_memory(small, middle)


_float = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**6), 10**6).map(float))
_int = st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))
_text = st.one_of(st.none(), st.text(max_size=12))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_columns_match_polars(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 30))
    table = pa.table(
        {
            "f": pa.array(data.draw(st.lists(_float, min_size=n, max_size=n)), pa.float64()),
            "i": pa.array(data.draw(st.lists(_int, min_size=n, max_size=n)), pa.int64()),
            "s": pa.array(data.draw(st.lists(_text, min_size=n, max_size=n)), pa.string()),
            "b": pa.array(data.draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n)), pa.bool_()),
            "d": pa.array(
                data.draw(st.lists(st.sampled_from(["a", "b\\", None, "é"]), min_size=n, max_size=n)), pa.string()
            ).dictionary_encode(),
        }
    )
    start = data.draw(st.integers(0, n - 1))
    part = table.slice(start)
    text = ours(part)
    assert text == polars_text(part)
    for line, row in zip(text.splitlines(), part.to_pylist()):  # and it is the rows, as JSON
        got = json.loads(line)
        for k, v in row.items():
            if isinstance(v, float) and not math.isfinite(v):
                assert got[k] is None
            else:
                assert got[k] == v


def test_float_columns_of_whole_numbers_match_polars() -> None:
    whole = [0.0, 1.0, -5.0, 100.0, 1e15, 2.0**53 - 1, -(2.0**53) + 1, 123456789.0, None]
    cases = {
        "whole": whole,
        "with_minus_zero": [1.0, -0.0, None],
        "at_2_53": [2.0**53, 3.0],
        "big": [1e16, 2.0],
        "not_whole": [1.0, 2.5],
        "nan": [1.0, float("nan"), None],
        "inf": [float("inf"), 1.0],
        "all_null": [None, None],
    }
    for name, vals in cases.items():
        t = pa.table({name: pa.array(vals, pa.float64()), "i": list(range(len(vals)))})
        assert ours(t) == polars_text(t), name
    t32 = pa.table({"f": pa.array([1.0, 2.0, None], pa.float32())})
    assert ours(t32) == polars_text(t32)
    sliced = pa.table({"f": pa.array([0.5, 1.0, 2.0, None, 3.0], pa.float64())}).slice(1, 4)
    assert ours(sliced) == polars_text(sliced)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-(2**54), 2**54).map(float),
            st.sampled_from([0.0, -0.0, 2.0**53, 2.0**53 - 1, -(2.0**53), 1e16, 1e15, 5e-324]),
        ),
        max_size=40,
    ),
    st.integers(0, 5),
)
def test_float64_values_whole_or_not_match_polars(values: list, offset: int) -> None:
    arr = pa.array([0.25] * offset + values, pa.float64()).slice(offset)
    t = pa.table({"f": arr, "g": pa.array(values[::-1], pa.float64())})
    assert ours(t) == polars_text(t)


_in_repr_range = st.one_of(
    st.floats(min_value=1e-4, max_value=1e16, exclude_max=True),
    st.floats(min_value=-1e16, max_value=-1e-4, exclude_min=True),
    st.sampled_from(
        [
            1e-4,
            -1e-4,
            0.00010000000000000002,
            9999999999999998.0,
            1234567890123456.8,
            1e15 + 0.5,
            0.1,
            1 / 3,
            2 / 3,
            123456.789e-3,
            5e-4,
            1.5,
            -2.25,
        ]
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_in_repr_range, max_size=30),
    st.lists(st.one_of(st.none(), st.integers(-(2**53), 2**53).map(float)), max_size=10),
    st.sampled_from([None, 1e-5, 1e16, math.nan, math.inf, 5e-324, -0.0]),
)
def test_a_few_non_whole_floats_match_polars(values: list, whole: list, odd: float | None) -> None:
    """Few non-whole values in repr's positional range (formatted by repr), with or without one
    value outside it (the column then goes to polars): polars' text either way."""
    column = values + whole + ([] if odd is None else [odd])
    t = pa.table({"f": pa.array(column, pa.float64())})
    assert ours(t) == polars_text(t)


def test_many_non_whole_floats_match_polars() -> None:
    rng = np.random.default_rng(7)
    for n in (4095, 4096, 4097, 20_000):  # around the most repr formats in one column
        vals = rng.random(n) * 10.0 ** rng.integers(-4, 16, n)
        vals[::3] = np.round(vals[::3])
        t = pa.table({"f": pa.array(vals, pa.float64())})
        assert ours(t) == polars_text(t)
