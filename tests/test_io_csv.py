"""CSV sources: exact chunks, rows with the wrong number of fields, per-chunk types, schemas."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_io_helpers import check_chunks, malformed, read_all, records


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 100])
def test_chunks_hold_exactly_chunk_size_rows(tmp_path: Path, chunk_size: int) -> None:
    p = write(tmp_path / "a.csv", "i,s\n" + "".join(f"{i},s{i}\n" for i in range(11)))
    chunks = read_all(p, chunk_size=chunk_size)
    assert [c.count for c in chunks] == [chunk_size] * (11 // chunk_size) + (
        [11 % chunk_size] if 11 % chunk_size else []
    )
    assert records(chunks) == {i: {"i": i, "s": f"s{i}"} for i in range(11)}


def test_many_rows_cross_reader_blocks(tmp_path: Path) -> None:
    n = 60_000
    p = write(tmp_path / "big.csv", "i,v\n" + "".join(f"{i},{i * 0.5}\n" for i in range(n)))
    chunks = read_all(p, chunk_size=7_000)
    assert sum(c.count for c in chunks) == n and chunks[0].count == 7_000
    got = records(chunks)
    assert got[n - 1] == {"i": n - 1, "v": (n - 1) * 0.5}


def test_rows_with_the_wrong_number_of_fields_are_malformed_with_their_line(tmp_path: Path) -> None:
    text = "a,b,c\n1,x,2.5\n\n2,y\n3,z,4\n4,z,5,6\n  \n5,w,\n"
    p = write(tmp_path / "m.csv", text)
    chunks = read_all(p, chunk_size=2)
    assert [c.count for c in chunks] == [2, 2, 1]
    assert records(chunks) == {
        0: {"a": 1, "b": "x", "c": 2.5},
        2: {"a": 3, "b": "z", "c": 4},
        4: {"a": 5, "b": "w", "c": None},
    }
    bad = malformed(chunks)
    assert [(m["_row"], m["line"], m["error_type"], m["error_message"], m["raw"]) for m in bad] == [
        (1, 4, "ParseError", "expected 3 fields, got 2", "2,y"),
        (3, 6, "ParseError", "expected 3 fields, got 4", "4,z,5,6"),
    ]
    assert {m["source"] for m in bad} == {str(p)}


def test_a_chunk_of_only_malformed_rows(tmp_path: Path) -> None:
    chunks = read_all(write(tmp_path / "m.csv", "a,b\n1\n2\n3,4\n"), chunk_size=2)
    assert [(c.count, c.n_records, c.n_malformed) for c in chunks] == [(2, 0, 2), (1, 1, 0)]


def test_quoted_values_with_delimiters_quotes_and_newlines(tmp_path: Path) -> None:
    text = 'id,text\n1,"say ""hi"", then\nleave"\n2,""\n3,\n4,plain\n5\n'
    chunks = read_all(write(tmp_path / "q.csv", text), chunk_size=2)
    assert records(chunks) == {
        0: {"id": 1, "text": 'say "hi", then\nleave'},
        1: {"id": 2, "text": ""},
        2: {"id": 3, "text": None},
        3: {"id": 4, "text": "plain"},
    }
    # a value spanning lines counts as one line for the rows after it (Arrow counts rows)
    assert [(m["_row"], m["line"]) for m in malformed(chunks)] == [(4, 6)]


def test_types_are_inferred_per_chunk(tmp_path: Path) -> None:
    p = write(tmp_path / "t.csv", "v,f\n1,true\n2,false\nx,1\ny,0\n1.5,\n")
    chunks = read_all(p, chunk_size=2)
    types = [str(c.parts[0][0].schema.field("v").type) for c in chunks]
    assert types == ["int64", "string", "double"]
    assert [str(c.parts[0][0].schema.field("f").type) for c in chunks] == ["bool", "int64", "null"]


def test_crlf_bom_empty_and_header_only(tmp_path: Path) -> None:
    chunks = read_all(write(tmp_path / "c.csv", b"\xef\xbb\xbfa,b\r\n1,2\r\n3,4"), chunk_size=5)
    assert records(chunks) == {0: {"a": 1, "b": 2}, 1: {"a": 3, "b": 4}}
    assert read_all(write(tmp_path / "e.csv", "")) == []
    assert read_all(write(tmp_path / "h.csv", "a,b\n")) == []
    assert read_all(write(tmp_path / "blank.csv", "\n\n")) == []


def test_tsv(tmp_path: Path) -> None:
    assert records(read_all(write(tmp_path / "t.tsv", "a\tb\n1\tx,y\n"))) == {0: {"a": 1, "b": "x,y"}}


def test_bad_utf8_is_malformed(tmp_path: Path) -> None:
    chunks = read_all(write(tmp_path / "u.csv", b"a,b\n1,ok\n2,\xff\xfe\n"))
    assert records(chunks) == {0: {"a": 1, "b": "ok"}}
    [m] = malformed(chunks)
    assert (m["_row"], m["error_type"]) == (1, "UnicodeDecodeError")


def test_schema(tmp_path: Path) -> None:
    p = write(tmp_path / "s.csv", "id,v,extra\n1,2.5,a\nx,1,b\n3,,c\n")
    chunks = read_all(p, schema={"id": pa.int64(), "v": pa.float64(), "w": pa.string()})
    assert records(chunks) == {0: {"id": 1, "v": 2.5, "w": None}, 2: {"id": 3, "v": None, "w": None}}
    [m] = malformed(chunks)
    assert (m["_row"], m["error_type"], m["error_message"]) == (
        1,
        "SchemaError",
        "field `id`: expected int64, got string 'x'",
    )


_cell = st.text(alphabet='ab," \n1', max_size=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_cell, min_size=1, max_size=4), max_size=25), chunk_size=st.integers(1, 6))
def test_every_row_is_a_record_or_malformed(tmp_path: Path, rows, chunk_size: int) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["c0", "c1", "c2"])
    w.writerows(rows)
    p = write(tmp_path / "h.csv", buf.getvalue())
    chunks = read_all(p, chunk_size=chunk_size)
    # a row csv writes as spaces alone is a blank line: not a record
    rows = [r for r in rows if not (len(r) == 1 and r[0] and not r[0].strip(" "))]
    check_chunks(chunks, len(rows))
    got, bad = records(chunks), {m["_row"]: m for m in malformed(chunks)}
    assert len(got) + len(bad) == len(rows)
    for pos, row in enumerate(rows):
        if len(row) == 3:
            assert ["" if v is None else str(v) for v in got[pos].values()] == row
        else:
            assert bad[pos]["error_message"] == f"expected 3 fields, got {len(row)}"


def test_line_numbers_after_many_blank_lines(tmp_path: Path) -> None:
    text = "a,b\n" + "".join(("\n" * (i % 3)) + (f"{i},x\n" if i % 4 else f"{i}\n") for i in range(200))
    chunks = read_all(write(tmp_path / "b.csv", text), chunk_size=16)
    lines = text.split("\n")
    bad = malformed(chunks)
    assert len(bad) == 50
    for m in bad:
        assert lines[m["line"] - 1] == m["raw"]
