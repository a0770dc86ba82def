"""JSON Lines sources: exact chunks, malformed lines with their line numbers, type drift, schemas."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_io_helpers import check_chunks, malformed, read_all, records

from streamkit.io import open_source
from streamkit.io._buffers import BufferPool
from streamkit.io._lines import iter_line_blocks
from streamkit.io.jsonl import JsonlSource


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def types_of(chunk) -> list[dict[str, str]]:
    return [{f.name: str(f.type) for f in b.schema} for b, _ in chunk.parts]


# -- chunking -------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 10, 64])
def test_chunks_hold_exactly_chunk_size_lines(tmp_path: Path, chunk_size: int) -> None:
    p = write(tmp_path / "a.jsonl", "".join(json.dumps({"i": i}) + "\n" for i in range(10)))
    chunks = read_all(p, chunk_size=chunk_size)
    sizes = [c.count for c in chunks]
    assert sizes == [chunk_size] * (10 // chunk_size) + ([10 % chunk_size] if 10 % chunk_size else [])
    assert records(chunks) == {i: {"i": i} for i in range(10)}
    assert all(len(c.parts) == 1 for c in chunks)


def test_blank_lines_are_not_records_but_count_as_lines(tmp_path: Path) -> None:
    p = write(tmp_path / "a.jsonl", '\n{"a": 1}\n\n   \n\t\r\n{"a": 2}\r\n\r\nbad\n\n')
    chunks = read_all(p, chunk_size=2)
    assert [c.count for c in chunks] == [2, 1]
    assert records(chunks) == {0: {"a": 1}, 1: {"a": 2}}
    assert [(m["_row"], m["line"]) for m in malformed(chunks)] == [(2, 8)]


def test_small_reads_cut_lines_right(tmp_path: Path) -> None:
    lines = [json.dumps({"i": i, "s": "x" * (i % 13)}) for i in range(200)]
    data = "\r\n".join(lines).encode()  # CRLF and no newline at the end
    blocks = list(iter_line_blocks(io.BytesIO(data), 17, read_size=7))
    assert [len(b) for b in blocks] == [17] * 11 + [13]
    got = [b.line(k).decode() for b in blocks for k in range(len(b))]
    assert got == lines
    assert [int(n) for b in blocks for n in b.lines] == list(range(1, 201))


def _reference_lines(data: bytes) -> list[tuple[int, bytes]]:
    """(line number, text) of every non-blank line, by plain Python string handling."""
    data = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()  # a final newline ends the last line; it does not start another
    out = []
    for k, line in enumerate(parts, 1):
        line = line[:-1] if line.endswith(b"\r") else line
        if line.strip():
            out.append((k, line))
    return out


@settings(max_examples=300, deadline=None)
@given(
    data=st.lists(
        st.sampled_from([b"a", b"{}", b" ", b"\t", b"\r", b"\n", b"\r\n", b"\x0b", b"\xc3\xa9", b"x\ny"]), max_size=60
    ).map(b"".join),
    bom=st.booleans(),
    n=st.integers(1, 6),
    read_size=st.integers(1, 20),
)
def test_blocks_match_a_plain_python_line_split(data: bytes, bom: bool, n: int, read_size: int) -> None:
    data = b"\xef\xbb\xbf" + data if bom else data
    blocks = list(iter_line_blocks(io.BytesIO(data), n, read_size=read_size))
    want = _reference_lines(data)
    assert [(int(b.lines[k]), b.line(k)) for b in blocks for k in range(len(b))] == want
    assert all(len(b) == n for b in blocks[:-1]) and all(0 < len(b) <= n for b in blocks)
    body = data[3:] if bom else data
    assert b"".join(b.data for b in blocks) == body[: len(b"".join(b.data for b in blocks))]


def test_memory_stays_bounded_whatever_the_file_size() -> None:
    """Only a chunk's lines and one read are held: the first block comes before the stream is read."""

    class Counting(io.BytesIO):
        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            self.read_bytes = 0

        def read(self, n: int = -1) -> bytes:
            out = super().read(n)
            self.read_bytes += len(out)
            return out

        def readinto(self, b: Any) -> int:
            got = super().readinto(b)
            self.read_bytes += got
            return got

    data = b"".join(b'{"i": %d}\n' % i for i in range(100_000))
    stream = Counting(data)
    blocks = iter_line_blocks(stream, 100, read_size=4096)
    first = next(blocks)
    assert len(first) == 100
    assert 0 < stream.read_bytes <= 2 * 4096 < len(data)


class _ReadOnly:
    """A stream with ``read`` only (no ``readinto``), handing out a few bytes at a time."""

    def __init__(self, data: bytes, most: int) -> None:
        self._f = io.BytesIO(data)
        self._most = most

    def read(self, n: int) -> bytes:
        return self._f.read(min(n, self._most))


def test_streams_without_readinto_and_short_reads() -> None:
    lines = [json.dumps({"i": i, "s": "é" * (i % 5)}).encode() for i in range(300)]
    data = b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n"
    for stream in (_ReadOnly(data, 1), _ReadOnly(data, 37), io.BytesIO(data)):
        blocks = list(iter_line_blocks(stream, 64, read_size=50))
        assert [b.line(k) for b in blocks for k in range(len(b))] == lines
        assert [len(b) for b in blocks] == [64] * 4 + [44]


def test_released_blocks_are_read_into_again() -> None:
    """A block given back lends its buffer to a later block; blocks held are never overwritten."""
    pool = BufferPool(keep=2)
    data = b"".join(b'{"i": %d}\n' % i for i in range(1000))
    held = []
    buffers = set()
    for k, b in enumerate(iter_line_blocks(io.BytesIO(data), 100, read_size=256, pool=pool)):
        buffers.add(id(b.data.base if b.data.base is not None else b.data))
        if k % 2:
            held.append((k, b, b.line(0)))
        else:
            b.release()
            assert len(b) == 0
    assert len(buffers) < 10  # buffers were reused
    for k, b, text in held:  # the held blocks still hold their own lines
        assert b.line(0) == text == b'{"i": %d}' % (100 * k)


def test_empty_and_blank_files_give_no_chunks(tmp_path: Path) -> None:
    assert read_all(write(tmp_path / "e.jsonl", "")) == []
    assert read_all(write(tmp_path / "b.jsonl", "\n\n  \n\r\n")) == []


def test_no_trailing_newline_crlf_bom_unicode(tmp_path: Path) -> None:
    text = '\ufeff{"s": "héllo ✓ 😀"}\r\n{"s": "\\u00e9\\ud83d\\ude00", "n": null}'
    chunks = read_all(write(tmp_path / "u.jsonl", text), chunk_size=10)
    assert records(chunks) == {0: {"s": "héllo ✓ 😀", "n": None}, 1: {"s": "é😀", "n": None}}


def test_compressed_file(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl.gz"
    p.write_bytes(gzip.compress(b'{"a": 1}\n{"a": 2}\n'))
    assert records(read_all(p)) == {0: {"a": 1}, 1: {"a": 2}}


# -- malformed lines ---------------------------------------------------------------------------


def test_malformed_lines_have_line_numbers_reasons_and_text(tmp_path: Path) -> None:
    text = (
        '{"a": 1}\n'
        '{"a": \n'  # bad JSON
        "[1, 2]\n"  # not an object
        "\n"
        "42\n"
        "null\n"
        '"str"\n'
        '{"a": 2}{"a": 3}\n'  # two objects on one line
        '{"a": 4}\n'
        '{"a": 5'
    )  # truncated last line
    p = write(tmp_path / "m.jsonl", text)
    chunks = read_all(p, chunk_size=4)
    assert [c.count for c in chunks] == [4, 4, 1]
    assert records(chunks) == {0: {"a": 1}, 7: {"a": 4}}
    bad = malformed(chunks)
    assert [(m["_row"], m["line"], m["error_type"]) for m in bad] == [
        (1, 2, "JSONDecodeError"),
        (2, 3, "TypeError"),
        (3, 5, "TypeError"),
        (4, 6, "TypeError"),
        (5, 7, "TypeError"),
        (6, 8, "JSONDecodeError"),
        (8, 10, "JSONDecodeError"),
    ]
    assert bad[1]["error_message"] == "expected a JSON object, got an array"
    assert bad[3]["error_message"] == "expected a JSON object, got null"
    assert bad[0]["error_message"].endswith("at column 7")
    assert [m["raw"] for m in bad] == ['{"a": ', "[1, 2]", "42", "null", '"str"', '{"a": 2}{"a": 3}', '{"a": 5']
    assert {m["source"] for m in bad} == {str(p)}


def test_a_block_of_null_lines_does_not_reach_the_arrow_reader(tmp_path: Path) -> None:
    # pyarrow.json crashes the process on a block starting with `null` (regression guard)
    chunks = read_all(write(tmp_path / "n.jsonl", 'null\n{"a": 1}\nnull\n'), chunk_size=10)
    assert records(chunks) == {1: {"a": 1}}
    assert [m["line"] for m in malformed(chunks)] == [1, 3]


def test_very_deep_nesting_is_a_malformed_line_not_a_crash(tmp_path: Path) -> None:
    deep = '{"a":' * 100_000 + "1" + "}" * 100_000
    ok = '{"a":' * 500 + "1" + "}" * 500
    chunks = read_all(write(tmp_path / "d.jsonl", f'{{"x": 1}}\n{deep}\n{ok}\n'), chunk_size=10)
    bad = malformed(chunks)
    assert [(m["_row"], m["line"]) for m in bad] == [(1, 2)]
    assert bad[0]["error_type"] in ("RecursionError", "JSONDecodeError")
    assert len(bad[0]["raw"]) == 1000  # raw text is cut
    got = records(chunks)
    assert set(got) == {0, 2}
    v, depth = got[2], 0
    while isinstance(v, dict):
        v, depth = v["a"], depth + 1
    assert (v, depth) == (1, 500)


def test_bad_utf8_is_malformed(tmp_path: Path) -> None:
    chunks = read_all(write(tmp_path / "b.jsonl", b'{"a": "ok"}\n{"a": "\xff\xfe"}\n'))
    assert records(chunks) == {0: {"a": "ok"}}
    [m] = malformed(chunks)
    assert m["line"] == 2 and m["raw"] == '{"a": "\ufffd\ufffd"}'


# -- types ---------------------------------------------------------------------------------------


def test_types_drift_between_chunks(tmp_path: Path) -> None:
    text = '{"v": 1}\n{"v": 2}\n{"v": "three"}\n{"v": "four"}\n{"v": 5.5}\n{"v": null}\n'
    chunks = read_all(write(tmp_path / "d.jsonl", text), chunk_size=2)
    assert [types_of(c) for c in chunks] == [[{"v": "int64"}], [{"v": "string"}], [{"v": "double"}]]
    assert records(chunks)[2] == {"v": "three"}


def test_types_that_conflict_inside_a_chunk_give_parts(tmp_path: Path) -> None:
    text = '{"v": 1, "k": "a"}\n{"v": "x"}\n{"v": 3}\n{"v": {"n": 1}}\n{"v": [1]}\n'
    chunks = read_all(write(tmp_path / "c.jsonl", text), chunk_size=10)
    [c] = chunks
    assert c.n_malformed == 0
    parts = {str(b.schema.field("v").type): ids.tolist() for b, ids in c.parts}
    assert parts == {"int64": [0, 2], "string": [1], "struct<n: int64>": [3], "list<item: int64>": [4]}
    assert records(chunks) == {
        0: {"v": 1, "k": "a"},
        1: {"v": "x"},
        2: {"v": 3, "k": None},
        3: {"v": {"n": 1}},
        4: {"v": [1]},
    }


def test_nested_types_that_conflict_inside_a_chunk(tmp_path: Path) -> None:
    text = '{"m": {"c": 1}}\n{"m": {"c": "A1"}}\n{"m": {"c": 2}}\n'
    [c] = read_all(write(tmp_path / "n.jsonl", text), chunk_size=10)
    assert c.n_malformed == 0
    assert sorted(ids.tolist() for _, ids in c.parts) == [[0, 2], [1]]


def test_ints_outside_int64_are_malformed_not_floats(tmp_path: Path) -> None:
    text = (
        '{"a": 9223372036854775807, "f": 1.5}\n'
        '{"a": -9223372036854775808, "f": 2}\n'
        '{"a": 9223372036854775808, "f": 2.5}\n'
        '{"a": 1, "n": {"deep": [1, 99999999999999999999]}}\n'
        '{"a": 12345678901234567890123.5}\n'
    )
    chunks = read_all(write(tmp_path / "b.jsonl", text), chunk_size=10)
    got = records(chunks)
    assert got[0]["a"] == 2**63 - 1 and got[1]["a"] == -(2**63)
    assert got[4]["a"] == 12345678901234567890123.5
    bad = malformed(chunks)
    assert [(m["line"], m["error_type"]) for m in bad] == [(3, "OverflowError"), (4, "OverflowError")]
    assert bad[0]["error_message"] == "field `a`: integer 9223372036854775808 is outside the int64 range"
    assert bad[1]["error_message"].startswith("field `n`: integer 99999999999999999999")


def test_date_like_text_stays_text(tmp_path: Path) -> None:
    text = '{"t": "2020-01-01", "u": {"at": "2021-02-03T04:05:06"}}\n{"t": "2020-01-02T10:00:00"}\n' * 3
    chunks = read_all(write(tmp_path / "t.jsonl", text), chunk_size=2)
    got = records(chunks)
    assert got[0] == {"t": "2020-01-01", "u": {"at": "2021-02-03T04:05:06"}}
    assert got[5]["t"] == "2020-01-02T10:00:00"
    for c in chunks:
        for b, _ in c.parts:
            assert str(b.schema.field("t").type) == "string"


def test_records_are_the_same_on_the_fast_and_the_careful_path(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {"i": i, "f": i / 3, "s": f"s{i}", "b": i % 2 == 0, "l": [i, i + 1], "o": {"x": i, "y": None}, "z": None}
        )
        for i in range(20)
    ]
    fast = records(read_all(write(tmp_path / "f.jsonl", "\n".join(lines)), chunk_size=100))
    careful = records(read_all(write(tmp_path / "c.jsonl", "\n".join([*lines, "oops"])), chunk_size=100))
    assert fast == careful == {i: json.loads(line) for i, line in enumerate(lines)}


# -- schema= -------------------------------------------------------------------------------------


def test_schema_fixes_types_and_rejects_values_that_do_not_fit(tmp_path: Path) -> None:
    text = '{"id": 1, "v": 2.5, "extra": "x"}\n{"id": "two", "v": 1}\n{"id": 3}\n{"id": 4, "v": "high"}\n{"id": 5.5}\n'
    chunks = read_all(write(tmp_path / "s.jsonl", text), chunk_size=10, schema={"id": pl.Int64, "v": pa.float64()})
    got = records(chunks)
    assert got == {0: {"id": 1, "v": 2.5}, 2: {"id": 3, "v": None}}
    assert [b.schema for c in chunks for b, _ in c.parts] == [pa.schema([("id", pa.int64()), ("v", pa.float64())])]
    assert [(m["line"], m["error_type"], m["error_message"]) for m in malformed(chunks)] == [
        (2, "SchemaError", "field `id`: expected int64, got str 'two'"),
        (4, "SchemaError", "field `v`: expected double, got str 'high'"),
        (5, "SchemaError", "field `id`: expected int64, got float 5.5"),
    ]


def test_schema_keeps_types_stable_across_chunks(tmp_path: Path) -> None:
    text = '{"v": null}\n{"v": null}\n{"v": 1}\n{"v": 2}\n'
    schema = pa.schema([("v", pa.int64()), ("w", pa.string())])
    chunks = read_all(write(tmp_path / "s.jsonl", text), chunk_size=2, schema=schema)
    assert [b.schema for c in chunks for b, _ in c.parts] == [schema, schema]


def test_schema_with_timestamps_parses_iso_text(tmp_path: Path) -> None:
    text = '{"t": "2020-01-01T10:00:00"}\n{"t": "not a date"}\n'
    chunks = read_all(write(tmp_path / "t.jsonl", text), schema={"t": pa.timestamp("us")})
    assert str(records(chunks)[0]["t"]) == "2020-01-01 10:00:00"
    assert [m["line"] for m in malformed(chunks)] == [2]


def test_a_bad_schema_is_refused_at_open() -> None:
    with pytest.raises(ValueError, match=r"^unknown type name 'integer' for field `a`; use a pyarrow or polars type$"):
        open_source([{"a": 1}], schema={"a": "integer"})
    with pytest.raises(TypeError, match=r"^`schema` must be a pyarrow.Schema or a dict"):
        open_source([{"a": 1}], schema=[("a", pa.int64())])


# -- property: whatever the corruption, every line is accounted for --------------------------------

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
_record = st.dictionaries(st.sampled_from(["a", "b", "c"]), _values, max_size=3)
_garbage = st.sampled_from(["{", "[1]", "3", "null", '{"a": 1,}', '"x"', "{'a': 1}", '{"a": tru}'])
_line = st.one_of(
    _record.map(lambda r: ("ok", json.dumps(r))),
    _garbage.map(lambda g: ("bad", g)),
    st.sampled_from(["", "  ", "\r"]).map(lambda b: ("blank", b)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_line, max_size=40), chunk_size=st.integers(1, 12))
def test_every_line_is_a_record_or_malformed_at_its_place(tmp_path: Path, lines, chunk_size: int) -> None:
    p = tmp_path / "h.jsonl"
    p.write_text("\n".join(text for _, text in lines))
    chunks = read_all(p, chunk_size=chunk_size)
    nonblank = [(k + 1, kind, text) for k, (kind, text) in enumerate(lines) if kind != "blank"]
    check_chunks(chunks, len(nonblank))
    got, bad = records(chunks), {m["_row"]: m for m in malformed(chunks)}
    assert len(got) + len(bad) == len(nonblank)
    for pos, (line, kind, text) in enumerate(nonblank):
        if kind == "ok":
            assert got[pos] == {k: json.loads(text).get(k) for k in got[pos]}
            assert all(got[pos][k] == v for k, v in json.loads(text).items())
        else:
            assert bad[pos]["line"] == line and bad[pos]["raw"] == text


def test_row_ids_are_numpy_int64(tmp_path: Path) -> None:
    [c] = read_all(write(tmp_path / "a.jsonl", '{"a": 1}\n'))
    assert c.parts[0][1].dtype == np.int64


def test_blocks_larger_than_the_first_span_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamkit.io._lines as lines_mod

    monkeypatch.setattr(lines_mod, "_FIRST_CAPACITY", 2)
    data = b"".join(b'{"i": %d}\n\n' % i for i in range(50))
    blocks = list(iter_line_blocks(io.BytesIO(data), 1 << 40, read_size=64))
    assert len(blocks) == 1
    assert [int(x) for x in blocks[0].lines] == list(range(1, 100, 2))
    assert [blocks[0].line(k) for k in range(50)] == [b'{"i": %d}' % i for i in range(50)]


# -- raw chunks: parsed later, elsewhere -----------------------------------------------------------


def _mixed_lines(n: int) -> list[str]:
    """Records of every kind the reader handles: text with escapes, dates, nesting, bad lines, drift."""
    out = []
    for i in range(n):
        if i % 97 == 13:
            out.append(f'{{"id": {i}, "s": ')  # bad JSON
        elif i % 89 == 5:
            out.append(json.dumps({"id": i, "s": 12345}))  # s drifts to a number
        else:
            out.append(
                json.dumps(
                    {
                        "id": i,
                        "s": f'a"b\\\\c é {i}',
                        "day": f"2024-01-{1 + i % 28:02d}",
                        "v": [i, i + 1],
                        "o": {"x": i * 0.5, "t": "2024-02-03T04:05:06"},
                    },
                    ensure_ascii=i % 2 == 0,
                )
            )
    return out


def _as_rows(chunks: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (
            c.start,
            c.count,
            [(b.to_pylist(), ids.tolist()) for b, ids in c.parts],
            malformed([c]) if c.malformed is not None else [],
        )
        for c in chunks
    ]


@pytest.mark.parametrize("chunk_size", [7, 50, 1000])
def test_raw_chunks_parsed_in_any_order_and_thread_give_the_same_chunks(tmp_path: Path, chunk_size: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    p = write(tmp_path / "m.jsonl", "\n".join(_mixed_lines(600)) + "\n")
    want = _as_rows(read_all(p, chunk_size=chunk_size))
    with JsonlSource(p, chunk_size) as src:
        raws = list(src.raw_chunks())  # all read before any is parsed: buffers are not shared
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(lambda r: r.decode(threads=False), raws[::-1]))[::-1]
    check_chunks(got)
    assert _as_rows(got) == want


def test_parsed_records_do_not_share_the_released_buffer(tmp_path: Path) -> None:
    p = write(tmp_path / "m.jsonl", "\n".join(_mixed_lines(300)) + "\n")
    with JsonlSource(p, 100) as src:
        for raw in src.raw_chunks():
            buffers = list(src._buffers._free)
            chunk = raw.decode(threads=True)
            before = _as_rows([chunk])
            for buf in [*buffers, *src._buffers._free]:
                buf[:] = ord("x")  # scribble over every buffer the source may reuse
            assert _as_rows([chunk]) == before


@settings(max_examples=300, deadline=None)
@given(
    data=st.lists(
        st.sampled_from(
            [b"a", b"{}", b" ", b"\t", b"\r", b"\n", b"\r\n", b"\x0b", b"\xc3\xa9", b"x\ny", b"0123456789"]
        ),
        max_size=60,
    ).map(b"".join),
    cut=st.integers(0, 200),
)
def test_count_lines_counts_what_the_line_reader_finds(data: bytes, cut: int) -> None:
    """The Ray engine counts byte ranges of a file (cut after a line end) with one pass of ``count_lines``."""
    from kernels.lines import count_lines

    at = data.find(b"\n", min(cut, len(data)))
    parts = [data] if at < 0 else [data[: at + 1], data[at + 1 :]]
    counted = [count_lines(np.frombuffer(p, np.uint8)) for p in parts]
    assert sum(n for _, n in counted) == len(_reference_lines(data))
    blocks = list(iter_line_blocks(io.BytesIO(data), 1 << 20))
    last_line = int(blocks[-1].lines[-1]) if blocks else 0
    assert sum(lines for lines, _ in counted) >= last_line
    assert sum(lines for lines, _ in counted) == data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
