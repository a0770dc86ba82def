"""Sinks: round trips, schema drift in Parquet / IPC / CSV, atomic commit and abort, callbacks, Collector."""

from __future__ import annotations

import gc
import json
import threading
from pathlib import Path

import anyio
import anyio.to_thread
import polars as pl
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from config_helpers import a_to_b
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_io_helpers import read_all, records

from examples.seed_network import generate_records
from streamkit.io import Collector, DirectorySink, Sink, open_sink
from streamkit.io.filesinks import JsonlSink
from streamkit.io.partsinks import MAX_OPEN_PARTS


def read_back(path: Path) -> pa.Table:
    suffix = path.suffix
    if suffix == ".parquet":
        return pq.read_table(path)
    if suffix == ".arrow":
        return pa.ipc.open_file(path).read_all()
    if suffix == ".csv":
        if not path.stat().st_size:  # no rows and no columns
            return pa.table({})
        # the sink quotes text and leaves nulls empty
        return pcsv.read_csv(
            path, convert_options=pcsv.ConvertOptions(strings_can_be_null=True, quoted_strings_can_be_null=False)
        )
    return pl.read_ndjson(path).to_arrow()


def leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.startswith("."))


# -- round trips ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["out.jsonl", "out.parquet", "out.arrow", "out.csv"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    t = generate_records(1000)
    path = tmp_path / name
    with open_sink(path) as sink:
        for b in t.to_batches(max_chunksize=300):
            sink.write(b)
    assert sink.records_written == 1000
    assert sink.bytes_written == path.stat().st_size > 0
    assert leftovers(tmp_path) == []
    back = read_back(path)
    assert back.to_pylist() == t.to_pylist()


def test_reading_back_with_open_source(tmp_path: Path) -> None:
    t = pa.table({"a": [1, None, 3], "s": ["x", None, "é"], "l": [[1], [], None], "o": [{"k": 1}, None, {"k": 2}]})
    for name in ("r.jsonl", "r.parquet", "r.arrow"):
        with open_sink(tmp_path / name) as sink:
            sink.write(t)
        assert list(records(read_all(tmp_path / name)).values()) == t.to_pylist()


def test_jsonl_writes_nulls_and_falls_back_for_types_polars_cannot_write(tmp_path: Path) -> None:
    p = tmp_path / "o.jsonl"
    union = pa.UnionArray.from_dense(
        pa.array([0, 1], pa.int8()), pa.array([0, 0], pa.int32()), [pa.array([1]), pa.array(["x"])]
    )
    with open_sink(p) as sink:
        sink.write(pa.table({"a": [1, None], "b": [None, None]}))
        sink.write(pa.table({"bin": pa.array([b"hi", None]), "u": union}))
        sink.write(pa.table({"a": pa.array([], pa.int64())}))
    assert [json.loads(line) for line in p.read_text().splitlines()] == [
        {"a": 1, "b": None},
        {"a": None, "b": None},
        {"bin": "aGk=", "u": 1},
        {"bin": None, "u": "x"},
    ]


def test_format_argument_and_aliases(tmp_path: Path) -> None:
    with open_sink(tmp_path / "data.out", format="parquet") as sink:
        sink.write(pa.table({"a": [1]}))
    assert pq.read_table(tmp_path / "data.out").to_pylist() == [{"a": 1}]
    with pytest.raises(ValueError, match=r"^cannot tell the format of '.*x\.txt' from its suffix"):
        open_sink(tmp_path / "x.txt")


# -- schema drift ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["d.parquet", "d.arrow"])
def test_one_schema_writes_once(tmp_path: Path, name: str) -> None:
    sink = open_sink(tmp_path / name)
    for i in range(5):
        sink.write(pa.table({"a": [i], "b": [None]}))  # null column: fits itself
        sink.write(pa.table({"a": [i]}))  # a missing column fits as nulls
    assert len(sink._parts) == 1
    sink.close()
    assert read_back(tmp_path / name).column("a").to_pylist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


@pytest.mark.parametrize("name", ["d.parquet", "d.arrow"])
def test_null_then_int_then_text(tmp_path: Path, name: str) -> None:
    with open_sink(tmp_path / name) as sink:
        sink.write(pa.table({"v": pa.nulls(2)}))
        sink.write(pa.table({"v": [1, 2]}))
        sink.write(pa.table({"v": [None, 3]}))
    t = read_back(tmp_path / name)
    assert t.schema.field("v").type == pa.int64()
    assert t.column("v").to_pylist() == [None, None, 1, 2, None, 3]
    with open_sink(tmp_path / name) as sink:
        sink.write(pa.table({"v": [1, 2]}))
        sink.write(pa.table({"v": ["x"]}))
    t = read_back(tmp_path / name)
    assert t.schema.field("v").type == pa.string() and t.column("v").to_pylist() == ["1", "2", "x"]


@pytest.mark.parametrize("name", ["d.parquet", "d.arrow"])
def test_ints_and_floats(tmp_path: Path, name: str) -> None:
    with open_sink(tmp_path / name) as sink:
        sink.write(pa.table({"v": [1.5]}))
        sink.write(pa.table({"v": [2]}))  # exact as a float: fits the float part
        assert len(sink._parts) == 1
        sink.write(pa.table({"v": [2**60 + 1]}))  # not exact: a new part, and text in the end
    t = read_back(tmp_path / name)
    assert t.column("v").to_pylist() == ["1.5", "2", str(2**60 + 1)]
    with open_sink(tmp_path / name) as sink:
        sink.write(pa.table({"v": [1, 2]}))
        sink.write(pa.table({"v": [0.5]}))
    assert read_back(tmp_path / name).column("v").to_pylist() == [1.0, 2.0, 0.5]


@pytest.mark.parametrize("name", ["d.parquet", "d.arrow", "d.csv"])
def test_different_end_states_in_one_sink(tmp_path: Path, name: str) -> None:
    out = pa.table({"_row": [0, 2], "id": [0, 2], "value_tier": ["low", "high"]})
    err = pa.table({"_row": [1], "error_state": ["enrich"], "error_type": ["TypeError"]})
    with open_sink(tmp_path / name) as sink:
        for _ in range(3):
            sink.write(out)
            sink.write(err)
        assert len(sink._parts) == 2
    t = read_back(tmp_path / name)
    assert t.column_names == ["_row", "id", "value_tier", "error_state", "error_type"]
    rows = t.to_pylist()
    assert [r["_row"] for r in rows] == [0, 2] * 3 + [1] * 3
    assert rows[0]["error_state"] in (None, "") and rows[-1]["id"] is None and rows[-1]["error_type"] == "TypeError"


def test_many_schemas_stay_within_the_open_part_limit(tmp_path: Path) -> None:
    with open_sink(tmp_path / "m.parquet") as sink:
        for i in range(3 * MAX_OPEN_PARTS):
            sink.write(pa.table({f"c{i % (MAX_OPEN_PARTS + 2)}": [i]}))
            assert len(sink._open) <= MAX_OPEN_PARTS
    t = read_back(tmp_path / "m.parquet")
    assert t.num_rows == 3 * MAX_OPEN_PARTS and t.num_columns == MAX_OPEN_PARTS + 2


def test_struct_drift_becomes_json_text(tmp_path: Path) -> None:
    with open_sink(tmp_path / "s.parquet") as sink:
        sink.write(pa.table({"o": [{"k": 1}]}))
        sink.write(pa.table({"o": [{"k": "x"}]}))
    assert read_back(tmp_path / "s.parquet").column("o").to_pylist() == ['{"k":1}', '{"k":"x"}']


def test_csv_union_header(tmp_path: Path) -> None:
    with open_sink(tmp_path / "c.csv") as sink:
        sink.write(pa.table({"a": [1], "b": ["x"]}))
        sink.write(pa.table({"b": ["y"], "a": [2]}))  # same columns, other order: same part
        sink.write(pa.table({"c": [3.5], "a": ["z"]}))
    assert (tmp_path / "c.csv").read_text().splitlines() == ['"a","b","c"', '1,"x",', '2,"y",', '"z",,3.5']


_kinds = {"null": pa.null(), "int": pa.int64(), "float": pa.float64(), "str": pa.string()}


def _column(kind: str, n: int, seed: int) -> pa.Array:
    if kind == "null":
        return pa.nulls(n)
    if kind == "int":
        return pa.array([seed + i for i in range(n)], pa.int64())
    if kind == "float":
        return pa.array([seed + i + 0.5 for i in range(n)])
    return pa.array([f"s{seed + i}" for i in range(n)])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    writes=st.lists(st.tuples(st.sampled_from(list(_kinds)), st.booleans(), st.integers(0, 3)), max_size=8),
    name=st.sampled_from(["p.parquet", "p.arrow", "p.csv"]),
)
def test_drifting_writes_lose_nothing(tmp_path: Path, writes, name: str) -> None:
    expected, row = [], 0
    with open_sink(tmp_path / name) as sink:
        for kind, with_extra, n in writes:
            cols = {"_row": pa.array(range(row, row + n), pa.int64()), "v": _column(kind, n, row)}
            if with_extra:
                cols["extra"] = pa.array(["e"] * n)
            t = pa.table(cols)
            sink.write(t)
            expected += t.to_pylist()
            row += n
    back = read_back(tmp_path / name)
    assert back.num_rows == len(expected)
    got = {r["_row"]: r for r in back.to_pylist()}
    vtype = back.schema.field("v").type if "v" in back.column_names else pa.null()
    for r in expected:
        g = got[r["_row"]]
        assert g.get("extra") == r.get("extra")
        v = r["v"]
        if v is None:
            assert g["v"] is None
        elif pa.types.is_string(vtype):
            assert g["v"] in (str(v), json.dumps(v))
        else:
            assert g["v"] == v


# -- atomicity ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a.jsonl", "a.parquet", "a.arrow", "a.csv"])
def test_no_file_before_close_and_nothing_after_abort(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    sink = open_sink(path)
    sink.write(pa.table({"a": [1]}))
    sink.write(pa.table({"b": ["x"]}))
    assert not path.exists()
    assert leftovers(tmp_path) and all(n.startswith(f".{name}.") and n.endswith(".tmp") for n in leftovers(tmp_path))
    sink.abort()
    sink.abort()
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_replaced_only_on_commit(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"old": 1}\n')
    with pytest.raises(ZeroDivisionError), open_sink(path) as sink:
        sink.write(pa.table({"new": [1]}))
        1 / 0  # noqa: B018
    assert path.read_text() == '{"old": 1}\n'
    assert leftovers(tmp_path) == []
    with open_sink(path) as sink:
        sink.write(pa.table({"new": [1]}))
    assert path.read_text() == '{"new":1}\n'


@pytest.mark.parametrize("name", ["e.jsonl", "e.parquet", "e.arrow", "e.csv"])
def test_closing_without_rows_writes_an_empty_file(tmp_path: Path, name: str) -> None:
    with open_sink(tmp_path / name) as sink:
        sink.write(pa.table({"a": pa.array([], pa.int64())}))
    assert (tmp_path / name).exists() and leftovers(tmp_path) == []
    if name.endswith((".parquet", ".arrow")):
        assert read_back(tmp_path / name).schema.names == ["a"]


def test_writing_after_close_fails(tmp_path: Path) -> None:
    sink = open_sink(tmp_path / "a.jsonl")
    sink.close()
    with pytest.raises(RuntimeError, match=r"is closed$"):
        sink.write(pa.table({"a": [1]}))


def test_bad_targets_fail_at_open(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"^cannot write '.*out\.csv': directory '.*missing' does not exist$"):
        open_sink(tmp_path / "missing" / "out.csv")
    (tmp_path / "d.jsonl").mkdir()
    with pytest.raises(IsADirectoryError, match=r"it is a directory$"):
        JsonlSink(tmp_path / "d.jsonl")
    sink = open_sink(tmp_path / "d.jsonl")  # an existing directory: its parts, in the format its name says
    assert isinstance(sink, DirectorySink) and sink.format.name == "jsonl"
    sink.abort()
    with pytest.raises(TypeError, match=r"^cannot write to a int; expected a path, a function"):
        open_sink(3)


def test_an_abandoned_sink_warns_and_cleans_up(tmp_path: Path) -> None:
    sink = open_sink(tmp_path / "a.parquet")
    sink.write(pa.table({"a": [1]}))
    with pytest.warns(ResourceWarning, match="was neither closed nor aborted"):
        del sink
        gc.collect()
    assert list(tmp_path.iterdir()) == []


# -- callbacks, Collector, list ----------------------------------------------------------------------------


def test_sync_callback_gets_one_record_batch_per_write() -> None:
    got = []
    sink = open_sink(got.append)
    assert not sink.is_async
    sink.write(pa.concat_tables([pa.table({"x": [1]}), pa.table({"x": [2, 3]})]))  # two chunks
    sink.write(pa.table({"x": pa.array([], pa.int64())}))  # skipped
    sink.close()
    assert [type(b) for b in got] == [pa.RecordBatch] and got[0].to_pylist() == [{"x": 1}, {"x": 2}, {"x": 3}]
    assert sink.records_written == 3 and sink.path is None


def test_async_callback() -> None:
    got = []

    async def consume(batch: pa.RecordBatch) -> None:
        await anyio.sleep(0)
        got.append(batch.num_rows)

    sink = open_sink(consume)
    assert sink.is_async

    async def main() -> None:
        await sink.awrite(pa.table({"x": [1, 2]}))
        await anyio.to_thread.run_sync(sink.write, pa.table({"x": [3]}))  # from an anyio worker thread

    anyio.run(main)
    assert got == [2, 1] and sink.records_written == 3
    with pytest.raises(RuntimeError, match=r"is async; write to it with `await sink.awrite\(table\)`"):
        sink.write(pa.table({"x": [4]}))


def test_sync_callback_awrite_runs_in_a_worker_thread() -> None:
    threads = []
    sink = open_sink(lambda b: threads.append(threading.current_thread()))

    async def main() -> None:
        await sink.awrite(pa.table({"x": [1]}))

    anyio.run(main)
    assert threads and threads[0] is not threading.main_thread()


def test_collector() -> None:
    c = Collector()
    assert open_sink(c) is c and isinstance(c, Sink)
    assert len(c) == 0 and c.table().num_rows == 0
    c.write(pa.table({"id": [1, 2], "v": pa.nulls(2)}))
    c.write(pa.record_batch({"id": [3], "v": [0.5]}))
    c.write(pa.table({"id": [4], "v": ["x"]}))
    assert len(c) == 4 and len(c.batches) == 3
    t = c.table()  # a field whose type drifts keeps every value (as process() results do)
    assert pa.types.is_union(t.schema.field("v").type)
    assert t.column("v").to_pylist() == [None, None, 0.5, "x"]
    assert c.to_polars()["v"].to_list() == [None, None, "0.5", "x"]  # polars holds no union: text
    assert c.to_pylist()[2] == {"id": 3, "v": 0.5}
    c.abort()
    assert len(c) == 0


def test_list_sink() -> None:
    out: list[dict] = []
    with open_sink(out) as sink:
        sink.write(pa.table({"a": [1, None]}))
    assert out == [{"a": 1}, {"a": None}]


def test_union_columns(tmp_path: Path) -> None:
    union = pa.UnionArray.from_dense(
        pa.array([0, 1, 0], pa.int8()), pa.array([0, 0, 1], pa.int32()), [pa.array([1, 2]), pa.array(["x"])]
    )
    t = pa.table({"u": union})
    for name in ("u.parquet", "u.csv"):
        with open_sink(tmp_path / name) as sink:
            sink.write(t)
    assert read_back(tmp_path / "u.parquet").column("u").to_pylist() == ["1", "x", "2"]
    assert (tmp_path / "u.csv").read_text().splitlines() == ['"u"', '"1"', '"x"', '"2"']
    with open_sink(tmp_path / "u.arrow") as sink:
        sink.write(t)
        sink.write(pa.table({"u": [3]}))
    assert read_back(tmp_path / "u.arrow").column("u").to_pylist() == ["1", "x", "2", "3"]


def test_nested_ints_and_floats_unify_to_floats(tmp_path: Path) -> None:
    with open_sink(tmp_path / "l.parquet") as sink:
        sink.write(pa.table({"l": [[1, 2]], "s": [{"x": 1}]}))
        sink.write(pa.table({"l": [[0.5]], "s": [{"x": 2.5, "y": "a"}]}))
    t = read_back(tmp_path / "l.parquet")
    assert str(t.schema.field("l").type) == "list<element: double>"
    assert t.to_pylist() == [{"l": [1.0, 2.0], "s": {"x": 1.0, "y": None}}, {"l": [0.5], "s": {"x": 2.5, "y": "a"}}]


def test_writes_from_several_threads(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    sink = open_sink(path)

    def work(k: int) -> None:
        for i in range(20):
            sink.write(pa.table({"k": [k] * 10, "i": [i] * 10}))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sink.close()
    back = read_back(path)
    assert back.num_rows == 800 == sink.records_written
    assert sorted(back.column("k").to_pylist()) == sorted([k for k in range(4) for _ in range(200)])


def test_jsonl_sink_keeps_every_byte_with_and_without_direct_io(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamkit.io._files as files

    monkeypatch.setattr(files, "DROP_BEHIND_BYTES", 256)
    tables = [pa.table({"i": list(range(k * 50, k * 50 + 50)), "s": ["x" * 7] * 50}) for k in range(6)]
    for no_direct in ("", "1"):
        monkeypatch.setenv("STREAMKIT_NO_DIRECT_IO", no_direct)
        path = tmp_path / f"out{no_direct}.jsonl"
        sink = open_sink(path)
        for t in tables:
            sink.write(t)
        direct, drop = sink._f.direct, sink._f._drop
        sink.close()
        assert direct == (not no_direct)
        if no_direct:  # written the ordinary way: each ~1 KB table passes the 256-byte mark
            assert drop.requests >= 5
        got = [json.loads(line) for line in path.read_text().splitlines()]
        assert got == [r for t in tables for r in t.to_pylist()]
        assert sink.bytes_written == path.stat().st_size


@pytest.mark.parametrize("suffix", [".gz", ".zst", ".bz2", ".lz4"])
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_text_sinks_compress_by_suffix_issue_15(tmp_path: Path, fmt: str, suffix: str) -> None:
    from streamkit import SimpleFSM

    fsm = SimpleFSM(a_to_b())
    out = tmp_path / f"out.{fmt}{suffix}"
    records = [{"id": i, "name": f"n{i}"} for i in range(2500)]
    r = fsm.process_stream(records, sink=str(out), chunk_size=1000)
    assert r.successful == 2500
    with pa.input_stream(str(out), compression="detect") as f:  # a real compressed file, not plain text
        text = f.read().decode()
    assert out.read_bytes()[:20] != text.encode()[:20]
    back = fsm.process_stream(str(out)).output("b")  # and streamkit reads it back
    assert back.drop_columns(["_row"]).to_pylist() == records


@pytest.mark.parametrize("name", ["out.parquet.gz", "out.arrow.zst"])
def test_formats_that_compress_inside_refuse_a_compression_suffix_issue_15(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=r"are not compressed by a suffix; write '.*out\.(parquet|arrow)'"):
        open_sink(tmp_path / name)
    assert list(tmp_path.iterdir()) == []
