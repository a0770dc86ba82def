"""Sources other than the text parsers: paths and globs, Parquet / IPC, in-memory data, (async) iterables."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_io_helpers import check_chunks, malformed, read_all, records

from examples.seed_network import generate_records
from streamkit.io import Source, SourceChunk, open_source


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


# -- paths ---------------------------------------------------------------------------------------


def test_globs_are_sorted_and_positions_continue_across_files(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "b.jsonl", [{"f": "b", "i": i} for i in range(3)])
    write_jsonl(tmp_path / "a.jsonl", [{"f": "a", "i": i} for i in range(4)])
    (tmp_path / "c.jsonl").write_text('{"f": "c", "i": 0}\nbroken\n')
    chunks = read_all(str(tmp_path / "*.jsonl"), chunk_size=3)
    assert [(c.start, c.count) for c in chunks] == [(0, 3), (3, 1), (4, 3), (7, 2)]
    got = records(chunks)
    assert [got[k]["f"] for k in sorted(got)] == ["a"] * 4 + ["b"] * 3 + ["c"]
    [m] = malformed(chunks)
    assert (m["_row"], m["line"], m["source"]) == (8, 2, str(tmp_path / "c.jsonl"))


def test_lists_of_paths_mix_formats_by_suffix(tmp_path: Path) -> None:
    t = pa.table({"x": [1, 2, 3]})
    pq.write_table(t, tmp_path / "a.parquet")
    with pa.ipc.new_stream(tmp_path / "b.arrows", t.schema) as w:
        w.write_table(t)
    feather = tmp_path / "c.feather"
    with pa.ipc.new_file(feather, t.schema) as w:
        w.write_table(t)
    (tmp_path / "d.csv").write_text("x\n4\n")
    write_jsonl(tmp_path / "e.ndjson", [{"x": 5}])
    sources = [tmp_path / "a.parquet", str(tmp_path / "b.arrows"), feather, tmp_path / "d.csv", tmp_path / "e.ndjson"]
    chunks = read_all(sources, chunk_size=2)
    check_chunks(chunks, 11)
    assert [records(chunks)[k]["x"] for k in range(11)] == [1, 2, 3] * 3 + [4, 5]


def test_a_directory_reads_its_data_files(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "1.jsonl", [{"x": 1}])
    write_jsonl(tmp_path / "2.jsonl", [{"x": 2}])
    (tmp_path / "notes.txt").write_text("not data")
    assert records(read_all(tmp_path)) == {0: {"x": 1}, 1: {"x": 2}}


def test_missing_paths_and_unknown_suffixes_fail_at_open(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"^no such file: '.*nope\.jsonl'$"):
        open_source(tmp_path / "nope.jsonl")
    with pytest.raises(FileNotFoundError, match=r"^no files match '.*\*\.csv'$"):
        open_source(str(tmp_path / "*.csv"))
    (tmp_path / "data.txt").write_text("x")
    with pytest.raises(
        ValueError,
        match=r"^cannot tell the format of '.*data\.txt' from its suffix; known suffixes: "
        r"\.jsonl, \.ndjson, \.csv",
    ):
        open_source(tmp_path / "data.txt")
    with pytest.raises(ValueError, match=r"^unknown format 'xml'; expected one of 'jsonl', 'csv', 'parquet', 'ipc'$"):
        open_source(tmp_path / "data.txt", format="xml")


def test_format_overrides_the_suffix(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "data.txt", [{"x": 1}])
    assert records(read_all(tmp_path / "data.txt", format="jsonl")) == {0: {"x": 1}}


# -- Parquet and IPC --------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 4, 10, 64])
def test_parquet_chunks_are_exact_across_row_groups(tmp_path: Path, chunk_size: int) -> None:
    t = generate_records(50)
    pq.write_table(t, tmp_path / "t.parquet", row_group_size=7)
    chunks = read_all(tmp_path / "t.parquet", chunk_size=chunk_size)
    assert all(c.count == chunk_size for c in chunks[:-1])
    got = pa.Table.from_batches([b for c in chunks for b, _ in c.parts])
    assert got.equals(t)


def test_ipc_file_is_memory_mapped_and_sliced_without_copies(tmp_path: Path) -> None:
    t = generate_records(100)
    p = tmp_path / "t.arrow"
    with pa.ipc.new_file(p, t.schema) as w:
        w.write_table(t, max_chunksize=40)
    chunks = read_all(p, chunk_size=20)
    assert [c.count for c in chunks] == [20] * 5
    assert pa.Table.from_batches([b for c in chunks for b, _ in c.parts]).equals(t)
    # chunks inside one stored batch are slices of the same (mapped) buffer; one across batches is a copy
    address = [c.parts[0][0].column("id").buffers()[1].address for c in chunks]
    assert address[0] == address[1] != address[2]


def test_schema_casts_arrow_files(tmp_path: Path) -> None:
    pq.write_table(pa.table({"v": ["1", "x", None]}), tmp_path / "s.parquet")
    chunks = read_all(tmp_path / "s.parquet", schema={"v": pa.int64()})
    assert records(chunks) == {0: {"v": 1}, 2: {"v": None}}
    assert [m["error_message"] for m in malformed(chunks)] == ["field `v`: expected int64, got string 'x'"]


# -- in-memory Arrow and polars ------------------------------------------------------------------


def test_table_is_sliced_zero_copy_to_at_most_chunk_size() -> None:
    t = pa.concat_tables([generate_records(5), generate_records(7)])  # two chunks of 5 and 7 rows
    chunks = read_all(t, chunk_size=4)
    assert [c.count for c in chunks] == [4, 1, 4, 3]
    base = t.column("id").chunks[0].buffers()[1].address
    assert chunks[0].parts[0][0].column("id").buffers()[1].address == base
    assert open_source(t).name == "pyarrow.Table"


def test_record_batch_reader_and_arrow_c_stream() -> None:
    t = generate_records(10)
    assert pa.Table.from_batches([b for c in read_all(t.to_reader(), chunk_size=3) for b, _ in c.parts]).equals(t)

    class Stream:
        def __arrow_c_stream__(self, requested_schema=None):
            return t.__arrow_c_stream__(requested_schema)

    chunks = read_all(Stream(), chunk_size=6)
    assert [c.count for c in chunks] == [6, 4]


def test_polars_dataframe_and_lazyframe() -> None:
    df = pl.DataFrame({"a": list(range(10)), "s": [f"s{i}" for i in range(10)]})
    chunks = read_all(df, chunk_size=4)
    assert [c.count for c in chunks] == [4, 4, 2]
    assert records(chunks)[9] == {"a": 9, "s": "s9"}
    lazy = df.lazy().filter(pl.col("a") % 2 == 0).with_columns(b=pl.col("a") * 10)
    chunks = read_all(lazy, chunk_size=2)
    assert [c.count for c in chunks] == [2, 2, 1]
    assert [r["b"] for r in records(chunks).values()] == [0, 20, 40, 60, 80]


# -- Python iterables ----------------------------------------------------------------------------------


def test_iterable_of_dicts_is_chunked_exactly() -> None:
    chunks = read_all(({"i": i} for i in range(7)), chunk_size=3)
    assert [c.count for c in chunks] == [3, 3, 1]
    assert records(chunks) == {i: {"i": i} for i in range(7)}


def test_items_that_are_not_mappings_are_malformed() -> None:
    items = [{"a": 1}, 5, None, "text", {"a": 2}, [1, 2]]
    chunks = read_all(items, chunk_size=4)
    assert records(chunks) == {0: {"a": 1}, 4: {"a": 2}}
    assert [
        (m["_row"], m["error_type"], m["error_message"], m["line"], m["source"], m["raw"]) for m in malformed(chunks)
    ] == [
        (1, "TypeError", "expected a mapping (dict), got int", None, None, "5"),
        (2, "TypeError", "expected a mapping (dict), got NoneType", None, None, "None"),
        (3, "TypeError", "expected a mapping (dict), got str", None, None, "'text'"),
        (5, "TypeError", "expected a mapping (dict), got list", None, None, "[1, 2]"),
    ]


def test_iterable_type_drift_gives_parts() -> None:
    [c] = read_all([{"v": 1}, {"v": "x"}, {"v": 2}], chunk_size=10)
    assert sorted(ids.tolist() for _, ids in c.parts) == [[0, 2], [1]]


def test_iterable_of_batches_and_records_mixed() -> None:
    items = [{"x": 1}, pa.record_batch({"x": [2, 3, 4]}), {"x": 5}, pa.table({"y": ["a"]}), pl.DataFrame({"x": [6]})]
    chunks = read_all(items, chunk_size=2)
    assert [c.count for c in chunks] == [1, 2, 1, 1, 1, 1]
    assert [r.get("x", r.get("y")) for _, r in sorted(records(chunks).items())] == [1, 2, 3, 4, 5, "a", 6]


def test_empty_sources_give_no_chunks() -> None:
    assert read_all([]) == []
    assert read_all(iter([])) == []
    assert read_all(pa.table({"x": pa.array([], pa.int64())})) == []


def test_refused_sources() -> None:
    with pytest.raises(TypeError, match=r"^expected a stream of records, got a dict\n\nHint: wrap a single record"):
        open_source({"a": 1})
    with pytest.raises(TypeError, match=r"^cannot read from a int; expected a path"):
        open_source(5)
    with pytest.raises(ValueError, match=r"^`chunk_size` must be a positive integer, got 0$"):
        open_source([], chunk_size=0)


# -- async iterables ---------------------------------------------------------------------------------


async def generate_streaming_data(count: int = 1000, chunk_size: int = 100):
    """Seed 002's generator (without its sleep): yields records one by one."""
    for i in range(0, count, chunk_size):
        for j in range(min(chunk_size, count - i)):
            yield {"id": i + j, "value": (i + j) * 10, "category": f"cat_{(i + j) % 5}", "status": "pending"}
        await anyio.sleep(0)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_generator_of_the_seed(backend: str) -> None:
    async def main() -> list[SourceChunk]:
        src = open_source(generate_streaming_data(count=50, chunk_size=10), chunk_size=5000)
        assert src.is_async
        async with src:
            return [c async for c in src.achunks()]

    chunks = anyio.run(main, backend=backend)
    check_chunks(chunks, 50)
    assert records(chunks)[49] == {"id": 49, "value": 490, "category": "cat_4", "status": "pending"}


def test_async_iterable_of_batches_and_bad_items() -> None:
    async def gen():
        yield {"a": 1}
        yield 3
        yield pa.record_batch({"a": [2, 3]})

    async def main() -> list[SourceChunk]:
        async with open_source(gen(), chunk_size=2) as src:
            return [c async for c in src.achunks()]

    chunks = anyio.run(main)
    check_chunks(chunks, 4)
    assert records(chunks) == {0: {"a": 1}, 2: {"a": 2}, 3: {"a": 3}}
    assert [m["_row"] for m in malformed(chunks)] == [1]


def test_async_source_read_with_chunks_runs_a_private_loop() -> None:
    chunks = read_all(generate_streaming_data(count=25, chunk_size=10), chunk_size=10)
    assert [c.count for c in chunks] == [10, 10, 5]


def test_sync_source_read_with_achunks() -> None:
    async def main() -> list[int]:
        async with open_source([{"a": i} for i in range(5)], chunk_size=2) as src:
            return [c.count async for c in src.achunks()]

    assert anyio.run(main) == [2, 2, 1]


# -- the Source object ----------------------------------------------------------------------------------


def test_a_source_is_read_once_and_close_is_idempotent(tmp_path: Path) -> None:
    p = write_jsonl(tmp_path / "a.jsonl", [{"a": i} for i in range(5)])
    src = open_source(p, chunk_size=2)
    assert isinstance(src, Source) and not src.is_async and src.name == str(p)
    it = src.chunks()
    assert next(it).count == 2
    with pytest.raises(RuntimeError, match=r"is already being read; a source is read once$"):
        src.chunks()
    src.close()
    src.close()
    with pytest.raises(StopIteration):
        next(it)
    assert open_source(src) is src


def test_closing_a_source_closes_the_generator_it_reads() -> None:
    closed = []

    def gen():
        try:
            for i in range(100):
                yield {"i": i}
        finally:
            closed.append(True)

    src = open_source(gen(), chunk_size=10)
    next(src.chunks())
    src.close()
    assert closed == [True]


def test_nbytes_counts_batches_ids_and_malformed() -> None:
    [c] = read_all([{"a": 1}, 2], chunk_size=10)
    b, ids = c.parts[0]
    assert c.nbytes == b.nbytes + ids.nbytes + c.malformed.nbytes


def test_whole_input_as_one_chunk(tmp_path: Path) -> None:
    p = write_jsonl(tmp_path / "a.jsonl", [{"a": i} for i in range(1000)])
    [c] = read_all(p, chunk_size=1 << 40)
    assert c.count == 1000
    [c] = read_all(generate_records(1000), chunk_size=1 << 40)
    assert c.count == 1000
    assert np.array_equal(c.parts[0][1], np.arange(1000))


def test_schema_for_python_records() -> None:
    chunks = read_all(
        [{"id": 1, "v": 2}, {"id": "x"}, {"id": 3, "v": None, "other": 1}], schema={"id": pa.int64(), "v": pa.float64()}
    )
    assert records(chunks) == {0: {"id": 1, "v": 2.0}, 2: {"id": 3, "v": None}}
    assert [m["error_message"] for m in malformed(chunks)] == ["field `id`: expected int64, got str 'x'"]


# -- raw chunks: what the engine reads, decoded by its workers -------------------------------------


def _rows(chunks: list) -> list:
    return [(c.start, c.count, [(b.to_pylist(), ids.tolist()) for b, ids in c.parts], malformed([c])) for c in chunks]


def _arrow_inputs(tmp_path: Path) -> dict[str, object]:
    t = pa.table({"id": list(range(23)), "v": [str(i) if i % 5 else "x" for i in range(23)]})
    pq.write_table(t, tmp_path / "t.parquet", row_group_size=7)
    write_jsonl(tmp_path / "t.jsonl", t.to_pylist())
    return {
        "table": t,
        "reader": lambda: pa.RecordBatchReader.from_batches(t.schema, t.to_batches(6)),
        "parquet": str(tmp_path / "t.parquet"),
        "files": [str(tmp_path / "t.parquet"), str(tmp_path / "t.jsonl")],
    }


@pytest.mark.parametrize("kind", ["table", "reader", "parquet", "files"])
@pytest.mark.parametrize("schema", [None, {"id": pa.int64(), "v": pa.int64()}])
def test_raw_chunks_decoded_out_of_order_give_what_chunks_gives(tmp_path: Path, kind: str, schema) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from streamkit.io.chunk import RawChunk

    def data():
        d = _arrow_inputs(tmp_path)[kind]
        return d() if callable(d) else d

    want = _rows(read_all(data(), chunk_size=4, schema=schema))
    with open_source(data(), chunk_size=4, schema=schema) as src:
        raws = list(src.raw_chunks())
    assert all(isinstance(r, RawChunk) for r in raws)  # nothing was parsed in the reading thread
    assert [(r.start, r.count) for r in raws] == [(s, n) for s, n, _, _ in want]
    assert all(r.nbytes > 0 for r in raws)
    with ThreadPoolExecutor(3) as ex:
        got = list(ex.map(lambda r: r.decode(threads=False), raws[::-1]))[::-1]
    check_chunks(got)
    assert _rows(got) == want
    if schema is not None:  # the text that is not a number failed where it was decoded
        assert {m["_row"] for c in got for m in malformed([c])} >= {0, 5, 10}
