"""Parquet sinks: row groups encoded apart (in worker threads) and joined into one file."""

from __future__ import annotations

import threading
from pathlib import Path
from unittest import mock

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examples.seed_network import create_streaming_fsm_config, generate_records
from streamkit import SimpleFSM
from streamkit.io import open_sink, partsinks
from streamkit.io._pqjoin import _ROW_GROUP, JoinedFile, ParquetBlock, _RowGroup, _Walker, _zigzag, encode_block
from streamkit.io.partsinks import ENCODE_ROWS, ParquetSink


def table(start: int, n: int, *, nulls: bool = True) -> pa.Table:
    """Rows ``start .. start + n - 1``: ints, floats, text, a dictionary column, with nulls."""
    rng = np.random.default_rng(start)
    rows = np.arange(start, start + n, dtype=np.int64)
    mask = (rng.random(n) < 0.1) if nulls else None
    return pa.table(
        {
            "_row": rows,
            "v": pa.array(rng.integers(-(2**62), 2**62, n), mask=mask),
            "u": pa.array(rng.integers(0, 2**64 - 1, n, dtype=np.uint64)),
            "f": pa.array(rng.random(n), mask=mask),
            "s": pa.array([f"s{i % 7}" for i in range(start, start + n)], mask=mask),
            "d": pa.array(["lo", "hi", "mid"] * (n // 3) + ["lo"] * (n % 3)).dictionary_encode(),
        }
    )


def same(a: pa.Table, b: pa.Table) -> bool:
    """Equal schemas and rows (dictionary columns may be split into other dictionaries)."""
    return a.schema.equals(b.schema) and a.to_pylist() == b.to_pylist()


def row_groups(path: Path) -> list[int]:
    md = pq.ParquetFile(path).metadata
    return [md.row_group(i).num_rows for i in range(md.num_row_groups)]


# -- joining encoded blocks ------------------------------------------------------------------------------


def test_joined_blocks_read_back_like_one_written_file(tmp_path: Path) -> None:
    parts = [table(0, 1000), table(1000, 1), table(1001, 4000), table(5001, 17)]
    f = JoinedFile(tmp_path / "j.parquet")
    for t in parts:
        f.append(encode_block(t, compression="snappy"))
    f.close()
    whole = pa.concat_tables(parts)
    back = pq.read_table(tmp_path / "j.parquet")
    assert same(back, whole)
    assert row_groups(tmp_path / "j.parquet") == [1000, 1, 4000, 17]
    assert f.size == (tmp_path / "j.parquet").stat().st_size
    # polars agrees, and statistics of every row group point at the right pages
    df = pl.read_parquet(tmp_path / "j.parquet")
    assert df["_row"].to_list() == list(range(5018)) and df["s"].to_list() == whole.column("s").to_pylist()
    md = pq.ParquetFile(tmp_path / "j.parquet").metadata
    starts = [0, 1000, 1001, 5001]
    for i, start in enumerate(starts):
        stats = md.row_group(i).column(0).statistics
        assert (stats.min, stats.max) == (start, start + md.row_group(i).num_rows - 1)
    picked = pl.scan_parquet(tmp_path / "j.parquet").filter(pl.col("_row").is_between(1001, 1003)).collect()
    assert picked["_row"].to_list() == [1001, 1002, 1003]


def test_many_row_groups_and_empty_blocks(tmp_path: Path) -> None:
    f = JoinedFile(tmp_path / "m.parquet")
    f.append(encode_block(table(0, 3).slice(0, 0)))  # an empty block: a row group without rows, like pyarrow's
    for k in range(200):  # a row group count beyond one byte in the footer
        f.append(encode_block(table(3 * k, 3)))
    f.close()
    assert row_groups(tmp_path / "m.parquet") == [0] + [3] * 200
    assert pq.read_table(tmp_path / "m.parquet").column("_row").to_pylist() == list(range(600))


def test_blocks_of_another_layout_are_refused(tmp_path: Path) -> None:
    f = JoinedFile(tmp_path / "r.parquet")
    f.append(encode_block(pa.table({"a": [1]})))
    other = encode_block(pa.table({"a": ["x"]}))
    assert not f.accepts(other) and f.accepts(encode_block(pa.table({"a": [2]})))
    with pytest.raises(ValueError, match="another schema"):
        f.append(other)
    f.discard()
    with pytest.raises(ValueError, match="append a block"):
        JoinedFile(tmp_path / "e.parquet").close()


def test_a_row_group_ordinal_moves_and_is_left_out_when_too_large() -> None:
    # RowGroup{columns: [], total_byte_size: 10, num_rows: 2, file_offset: 4, ordinal: 0}
    raw = (
        bytes([0x19, 0x0C, 0x16])
        + _zigzag(10)
        + bytes([0x16])
        + _zigzag(2)
        + bytes([0x26])
        + _zigzag(4)
        + bytes([0x24])
        + _zigzag(0)
        + b"\x00"
    )
    w = _Walker(raw)
    w.struct(_ROW_GROUP)
    assert w.pos == len(raw)
    rg = _RowGroup(*w.cut())
    assert rg.slots == [("off", 4), ("ord", 0)]
    moved = rg.render(100, 5)
    assert moved == raw.replace(
        bytes([0x26]) + _zigzag(4) + bytes([0x24]) + _zigzag(0),
        bytes([0x26]) + _zigzag(104) + bytes([0x24]) + _zigzag(5),
    )
    assert rg.render(100, 40_000).endswith(bytes([0x26]) + _zigzag(104) + b"\x00")


# -- the sink: encode in threads, write in order ---------------------------------------------------------


def test_encoded_writes_round_trip_in_order_with_small_ones_merged(tmp_path: Path) -> None:
    big, small = ENCODE_ROWS, 100
    sizes = [big, small, small, big + 5, big, small, 1, big]
    tables, pos = [], 0
    for n in sizes:
        tables.append(table(pos, n))
        pos += n
    sink = ParquetSink(tmp_path / "o.parquet")
    encoded = [sink.encode(t) for t in tables]
    assert [isinstance(e, ParquetBlock) for e in encoded] == [n >= ENCODE_ROWS for n in sizes]
    with sink:
        for e in encoded:
            sink.write(e)
    assert sink.records_written == pos
    back = pq.read_table(tmp_path / "o.parquet")
    assert same(back, pa.concat_tables(tables))
    # small tables wait for the next row group; an encoded one takes what waits before it
    assert row_groups(tmp_path / "o.parquet") == [big, 2 * small, big + 5, big, small + 1, big]


def test_blocks_encoded_in_parallel_threads(tmp_path: Path) -> None:
    n = 12
    tables = [table(k * ENCODE_ROWS, ENCODE_ROWS, nulls=k % 2 == 0) for k in range(n)]
    sink = open_sink(tmp_path / "p.parquet")
    blocks: list = [None] * n

    def enc(k: int) -> None:
        blocks[k] = sink.encode(tables[k])

    threads = [threading.Thread(target=enc, args=(k,)) for k in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with sink:
        for b in blocks:
            sink.write(b)
    back = pq.read_table(tmp_path / "p.parquet")
    assert same(back, pa.concat_tables(tables))
    assert back.column("_row").to_pylist() == list(range(n * ENCODE_ROWS))


def test_encoded_blocks_follow_schema_drift(tmp_path: Path) -> None:
    n = ENCODE_ROWS
    ints = pa.table({"_row": pa.array(range(n), pa.int64()), "v": pa.array(range(n), pa.int64())})
    narrow = pa.table({"_row": pa.array(range(n, 2 * n), pa.int64()), "v": pa.array(range(n), pa.int32())})
    text = pa.table({"_row": pa.array(range(2 * n, 3 * n), pa.int64()), "v": pa.array(["x"] * n)})
    nulls = pa.table({"_row": pa.array(range(3 * n, 4 * n), pa.int64()), "v": pa.nulls(n, pa.int64())})
    sink = ParquetSink(tmp_path / "d.parquet")
    with sink:
        for t in (ints, narrow, text, nulls):
            sink.write(sink.encode(t))
    back = pq.read_table(tmp_path / "d.parquet").sort_by("_row")
    assert back.schema.field("v").type == pa.string()  # ints and text: text
    v = back.column("v").to_pylist()
    assert v[:n] == [str(i) for i in range(n)] and v[n : 2 * n] == [str(i) for i in range(n)]
    assert v[2 * n : 3 * n] == ["x"] * n and v[3 * n :] == [None] * n


def _column(kind: str, n: int, start: int) -> pa.Array:
    if kind == "null":
        return pa.nulls(n)
    if kind in ("int", "int32"):
        return pa.array([start + i if i % 3 else None for i in range(n)], pa.int32() if kind == "int32" else pa.int64())
    if kind == "float":
        return pa.array([start + i + 0.5 for i in range(n)])
    if kind == "dict":
        return pa.array([f"d{(start + i) % 2}" for i in range(n)]).dictionary_encode()
    return pa.array([f"s{start + i}" for i in range(n)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    writes=st.lists(
        st.tuples(st.sampled_from(["null", "int", "int32", "float", "dict", "str"]), st.booleans(), st.integers(0, 9)),
        max_size=10,
    )
)
def test_encoded_writes_give_the_file_plain_writes_give(tmp_path: Path, writes) -> None:
    tables, row = [], 0
    for kind, with_extra, n in writes:
        cols = {"_row": pa.array(range(row, row + n), pa.int64()), "v": _column(kind, n, row)}
        if with_extra:
            cols["extra"] = pa.array(["e"] * n)
        tables.append(pa.table(cols))
        row += n
    plain, encoded = tmp_path / "plain.parquet", tmp_path / "encoded.parquet"
    plain.unlink(missing_ok=True)
    encoded.unlink(missing_ok=True)
    # blocks of a few rows, mixed with merged tables
    with mock.patch.object(partsinks, "ENCODE_ROWS", 4), ParquetSink(plain) as a, ParquetSink(encoded) as b:
        for t in tables:
            a.write(t)
            b.write(b.encode(t))
    x, y = pq.read_table(plain), pq.read_table(encoded)
    assert y.schema.equals(x.schema)
    assert y.num_rows == x.num_rows == row
    if row:
        assert y.sort_by("_row").to_pylist() == x.sort_by("_row").to_pylist()


def test_an_aborted_sink_with_encoded_blocks_leaves_nothing(tmp_path: Path) -> None:
    sink = ParquetSink(tmp_path / "a.parquet")
    sink.write(sink.encode(table(0, ENCODE_ROWS)))
    sink.write(sink.encode(pa.table({"other": ["x"] * ENCODE_ROWS})))
    sink.abort()
    assert list(tmp_path.iterdir()) == []


def test_integers_are_written_as_deltas_and_keep_their_extremes(tmp_path: Path) -> None:
    t = pa.table(
        {
            "i": pa.array([-(2**63), 2**63 - 1, None, 0, -1], pa.int64()),
            "u": pa.array([0, 2**64 - 1, None, 1, 2**63], pa.uint64()),
            "b": pa.array([-128, 127, None, 0, 5], pa.int8()),
            "s": ["a", "b", None, "a", "c"],
        }
    )
    with open_sink(tmp_path / "x.parquet") as sink:
        sink.write(t)
    assert pq.read_table(tmp_path / "x.parquet").equals(t)
    assert pl.read_parquet(tmp_path / "x.parquet").to_arrow().column("u").to_pylist() == t.column("u").to_pylist()
    col = pq.ParquetFile(tmp_path / "x.parquet").metadata.row_group(0)
    encodings = {col.column(i).path_in_schema: col.column(i).encodings for i in range(col.num_columns)}
    assert all("DELTA_BINARY_PACKED" in encodings[c] for c in "iub")
    assert "RLE_DICTIONARY" in encodings["s"]


def test_a_stream_to_parquet_with_parallel_workers(tmp_path: Path) -> None:
    n = 6 * ENCODE_ROWS + 123  # 5 chunks whose outputs are encoded by the workers, and a smaller one
    records = generate_records(n, seed=3)
    src = tmp_path / "in.parquet"
    pq.write_table(records, src, row_group_size=10_000)
    out, err = tmp_path / "out.parquet", tmp_path / "err.parquet"
    result = SimpleFSM(create_streaming_fsm_config()).process_stream(
        str(src), sinks={"output": str(out), "error": str(err)}, chunk_size=ENCODE_ROWS + 1000, parallelism=2
    )
    assert result.total_records == n and result.failed == 0
    ok, bad = pq.read_table(out), pq.read_table(err)
    assert ok.num_rows + bad.num_rows == n
    assert ok.num_rows == result.end_state_counts["output"] and bad.num_rows == result.end_state_counts["error"]
    for t in (ok, bad):  # stream order within each file
        rows = t.column("_row").to_numpy()
        assert (np.diff(rows) > 0).all()
    assert set(ok.column("_row").to_pylist()) | set(bad.column("_row").to_pylist()) == set(range(n))
    ids = records.column("id").to_numpy()
    assert (ok.column("id").to_numpy() == ids[ok.column("_row").to_numpy()]).all()
    values = records.column("value").to_pylist()
    assert ok.column("doubled_value").to_pylist() == [2 * values[r] for r in ok.column("_row").to_pylist()]
    assert pq.ParquetFile(out).metadata.num_row_groups == 6


@pytest.mark.parametrize("text_statistics", [False, True])
def test_statistics_for_numbers_always_and_for_text_on_request(tmp_path, text_statistics):
    from streamkit.io import ParquetSink

    t = pa.table(
        {
            "n": pa.array(range(20_000), pa.int64()),
            "f": [0.5] * 20_000,
            "s": ["b", "a"] * 10_000,
            "d": pa.array(["y", "x"] * 10_000).dictionary_encode(),
        }
    )
    path = tmp_path / "o.parquet"
    with ParquetSink(path, text_statistics=text_statistics) as sink:
        sink.write(sink.encode(t))  # encoded in a worker, as a stream does
        sink.write(t.slice(0, 10))  # merged in the sink
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 2
    for g in range(meta.num_row_groups):
        cols = {meta.row_group(g).column(k).path_in_schema: meta.row_group(g).column(k) for k in range(4)}
        assert cols["n"].is_stats_set and cols["n"].statistics.min == 0
        assert cols["f"].is_stats_set
        assert cols["s"].is_stats_set is text_statistics
        assert cols["d"].is_stats_set is text_statistics
    back = pq.read_table(path)
    assert back.column("s").to_pylist() == t.column("s").to_pylist() + t.column("s").to_pylist()[:10]
