"""The flat JSON path (streamkit/io/_jsonflat.py) gives the table the usual path gives, or steps aside."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamkit.io._jsonflat import parse_flat
from streamkit.io._lines import LineBlock, iter_line_blocks
from streamkit.io.jsonl import FLAT_MISSES, JsonlSource


def block_of(text: bytes) -> LineBlock:
    import io

    return next(iter_line_blocks(io.BytesIO(text), 1 << 20))


def usual(block: LineBlock, as_text: dict[str, pa.DataType]) -> tuple[pa.Table | None, int, list[str]]:
    """What the source gives for ``block`` without the flat path: one table (or ``None``), malformed lines,
    the fields it learned to keep as text."""
    src = JsonlSource("unused.jsonl", 1 << 20)
    src._as_text = dict(as_text)
    src._flat_misses = FLAT_MISSES  # the flat path off
    chunk = src.parse_block(block, 0, threads=False)
    bad = 0 if chunk.malformed is None else chunk.malformed.num_rows
    learned = [k for k in src._as_text if k not in as_text]
    if len(chunk.parts) != 1:
        return None, bad, learned
    batch, _ = chunk.parts[0]
    return pa.Table.from_batches([batch]), bad, learned


KEYS = st.sampled_from(
    [
        "a",
        "b",
        "",
        "é",
        "日付",
        "x1",
        "x2",
        "dep_time",
        "arr_time",
        "sched_dep_time",
        "sched_arr_time",
        "key with space",
    ]
)  # keys of one length that differ in one byte: compared a word at a time
INTS = st.one_of(
    st.integers(-1000, 1000),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-(10**20), 10**20),  # beyond int64 and 18 digits
)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
TEXT = st.one_of(
    st.text(max_size=8),  # controls, quotes and backslashes come out escaped
    st.sampled_from(
        [
            "2013-01-01 05:00:00",
            "2013-01-01T05:00",
            "2013-01-01",
            "12:30",
            "2013-01-01T05:00:00.5Z",
            "2013-01-01T05:00:00Z",
            "2013-01-01 05:00:00+01:00",
            "2013-01-01T05-0800",
            "2013-02-30",
        ]
    ),
)
SCALARS = st.one_of(INTS, FLOATS, TEXT, st.booleans(), st.none())
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=2), st.dictionaries(KEYS, SCALARS, max_size=2))


@st.composite
def lines(draw: Any) -> bytes:
    """A block of JSON lines, mostly flat, some with nested values or not JSON at all."""
    # each column keeps to a kind most of the time, so that many blocks are ones the usual path reads whole
    kinds = draw(st.dictionaries(KEYS, st.sampled_from([INTS, FLOATS, TEXT, st.booleans(), VALUES]), min_size=1))
    out = []
    for _ in range(draw(st.integers(1, 12))):
        rec: dict[str, Any] = {}
        for k, strategy in kinds.items():
            if draw(st.integers(0, 9)) == 0:
                continue  # absent
            rec[k] = None if draw(st.integers(0, 9)) == 0 else draw(strategy)
        if draw(st.integers(0, 5)) == 0:  # keys in another order
            rec = dict(reversed(list(rec.items())))
        sep = draw(st.sampled_from([(", ", ": "), (",", ":"), (" ,\t", " :  ")]))
        line = json.dumps(rec, separators=sep, ensure_ascii=draw(st.booleans()))
        if draw(st.integers(0, 30)) == 0:
            line = draw(st.sampled_from([line[:-1], line + "x", "[1]", "null", line.replace(":", "", 1), " " + line]))
        out.append(line.encode())
    return b"\n".join(out) + b"\n"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=lines(), dates_known=st.booleans())
def test_the_flat_path_gives_the_usual_table_or_steps_aside(data: bytes, dates_known: bool) -> None:
    block = block_of(data)
    as_text = {"日付": pa.string(), "a": pa.string()} if dates_known else {}
    flat = parse_flat(block, as_text)
    if flat is None:
        return
    expected, bad, learned = usual(block, as_text)
    assert bad == 0  # whatever the usual path calls malformed, the flat path never reads
    assert expected is not None
    assert flat.table.schema == expected.schema
    assert flat.table.to_pylist() == expected.to_pylist()
    assert flat.learned == learned


def test_flights_like_lines_take_the_flat_path_once_dates_are_known() -> None:
    text = b"".join(
        json.dumps({"year": 2013, "dep_delay": d, "carrier": "UA", "time_hour": "2013-01-01T10:00:00Z"}).encode()
        + b"\n"
        for d in (2, None, -4)
    )
    block = block_of(text)
    for known in ({}, {"time_hour": pa.string()}):  # learned here (as the usual path learns it), or before
        flat = parse_flat(block, known)
        expected, _, learned = usual(block, known)
        assert flat is not None and expected is not None
        assert flat.learned == learned == ([] if known else ["time_hour"])
        assert flat.table.schema == expected.schema and flat.table.schema.names[0] == "time_hour"
        assert flat.table.to_pylist() == expected.to_pylist()


def test_exact_values_at_the_edges() -> None:
    rows = [
        {"i": 999_999_999_999_999_999, "f": 0.1, "m": 1, "s": "ß\u00e9\U0001f600", "b": True},
        {"i": -999_999_999_999_999_999, "f": 1e-320, "m": 2.5, "s": "", "b": False},
        {"i": 0, "f": -0.0, "m": 2**53, "s": "x", "b": None},
        {"i": None, "f": 1.7976931348623157e308, "m": -7, "s": None, "b": True},
    ]
    block = block_of(b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in rows))
    result = parse_flat(block, {})
    assert result is not None
    flat = result.table
    assert flat.schema == pa.schema(
        [("i", pa.int64()), ("f", pa.float64()), ("m", pa.float64()), ("s", pa.string()), ("b", pa.bool_())]
    )
    got = flat.to_pylist()
    assert [r["i"] for r in got] == [r["i"] for r in rows]
    assert [r["f"] for r in got] == [r["f"] for r in rows] and str(got[2]["f"]) == "-0.0"
    assert [r["m"] for r in got] == [1.0, 2.5, float(2**53), -7.0]
    assert [r["s"] for r in got] == [r["s"] for r in rows]


def test_what_the_flat_path_leaves_to_the_usual_one() -> None:
    cases = [
        b'{"a": "x\\"y"}',  # an escape
        b'{"a": [1]}',  # a nested value
        b'{"a": 1, "a": 2}',  # a key twice
        b'{"a": 1234567890123456789}',  # 19 digits
        b'{"a": 1}{"a": 2}',  # two objects on one line
        b'{"a": NaN}',  # not JSON (Python reads it)
        b'{"a": 01}',  # not JSON
        b'{"a": 1.}',  # not JSON
        b'{"a": "\xff"}',  # not UTF-8
        b'{"a": 1, "b": "x"}\n{"a": "y", "b": "z"}',  # a column of numbers and text
        b'{"a": 9007199254740993}\n{"a": 0.5}',  # an integer a double cannot hold, with floats
        b"{}",  # no fields at all
    ]
    for text in cases:
        assert parse_flat(block_of(text + b"\n"), {}) is None, text


def test_a_stream_of_nested_records_stops_trying_the_flat_path(tmp_path: Path) -> None:
    path = tmp_path / "nested.jsonl"
    path.write_text("".join(json.dumps({"a": [k]}) + "\n" for k in range(100)))
    src = JsonlSource(path, 10)
    chunks = list(src.chunks())
    assert sum(c.count for c in chunks) == 100
    assert src._flat_misses == FLAT_MISSES  # it gave up trying
    values = [v for c in chunks for b, _ in c.parts for v in b.column("a").to_pylist()]
    assert values == [[k] for k in range(100)]


def test_a_flat_stream_reads_the_same_with_and_without_the_flat_path(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    path = tmp_path / "flat.jsonl"
    recs = [
        {"id": int(k), "v": float(rng.normal()), "s": f"n{k % 7}", "t": f"2024-01-0{1 + k % 9} 10:00:00"}
        for k in range(5000)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    fast = JsonlSource(path, 512)
    slow = JsonlSource(path, 512)
    slow._flat_misses = FLAT_MISSES
    a = [b for c in fast.chunks() for b, _ in c.parts]
    b = [b for c in slow.chunks() for b, _ in c.parts]
    assert [x.schema for x in a] == [x.schema for x in b]
    assert (
        pa.Table.from_batches(a).to_pylist()
        == pa.Table.from_batches(b).to_pylist()
        == [{"t": r["t"], "id": r["id"], "v": r["v"], "s": r["s"]} if i >= 512 else r for i, r in enumerate(recs)]
    )
