"""The engine over every kind of source, and what happens when a stage fails or is interrupted."""

from __future__ import annotations

import threading
import time

import anyio
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from examples.seed_network import create_streaming_fsm_config, generate_records
from streamkit import AsyncSimpleFSM, Collector, SimpleFSM


@pytest.fixture(scope="module")
def fsm() -> SimpleFSM:
    return SimpleFSM(create_streaming_fsm_config())


@pytest.fixture(scope="module")
def data() -> pa.Table:
    return generate_records(3000, seed=7)


@pytest.fixture(scope="module")
def expected(fsm, data):
    return fsm.process(data)


def same_as_memory(result, expected) -> None:
    assert result.total_records == expected.total_records
    assert result.successful + result.failed == result.total_records
    assert result.end_state_counts == expected.end_state_counts
    for s in ("output", "error"):
        assert result.output(s).to_pylist() == expected.output(s).to_pylist()


def test_parquet_glob_and_ipc_and_csv(tmp_path, fsm, data, expected):
    pq.write_table(data.slice(0, 1000), tmp_path / "a-1.parquet")
    pq.write_table(data.slice(1000), tmp_path / "a-2.parquet")
    same_as_memory(fsm.process_stream(str(tmp_path / "a-*.parquet"), chunk_size=700), expected)
    with pa.ipc.new_file(tmp_path / "d.arrow", data.schema) as w:
        w.write_table(data)
    same_as_memory(fsm.process_stream(str(tmp_path / "d.arrow"), chunk_size=512), expected)
    pl.from_arrow(data).write_csv(tmp_path / "d.csv")
    r = fsm.process_stream(str(tmp_path / "d.csv"), chunk_size=999)
    assert r.end_state_counts == expected.end_state_counts and r.failed == expected.failed


def test_arrow_and_polars_sources(fsm, data, expected):
    same_as_memory(fsm.process_stream(pl.from_arrow(data).lazy(), chunk_size=640), expected)
    same_as_memory(fsm.process_stream(pl.from_arrow(data), chunk_size=640), expected)
    same_as_memory(fsm.process_stream(data.to_reader(max_chunksize=500), chunk_size=640), expected)
    same_as_memory(fsm.process_stream(iter(data.to_batches(max_chunksize=333)), chunk_size=640), expected)

    class Exporter:
        def __arrow_c_stream__(self, requested_schema=None):
            return data.__arrow_c_stream__(requested_schema)

    same_as_memory(fsm.process_stream(Exporter(), chunk_size=640), expected)


def test_async_iterable_of_batches(data, expected):
    afsm = AsyncSimpleFSM(create_streaming_fsm_config())

    async def batches():
        for b in data.to_batches(max_chunksize=250):
            yield b
            await anyio.sleep(0)

    async def main():
        return await afsm.process_stream(batches(), chunk_size=1000)

    same_as_memory(anyio.run(main), expected)


def test_use_streaming_false_reads_one_chunk(fsm, data, expected):
    r = fsm.process_stream(data, chunk_size=100, use_streaming=False)
    assert r.chunks_processed == 1
    same_as_memory(r, expected)


def test_collector_sink(fsm, data, expected):
    c = Collector()
    r = fsm.process_stream(data, sink=c, chunk_size=1000)
    assert len(c) == r.successful == expected.successful
    assert sorted(c.table().column("_row").to_pylist()) == c.table().column("_row").to_pylist()


def test_a_failing_source_stops_the_stream_with_its_error(tmp_path, fsm):
    def records():
        for i in range(5000):
            if i == 3500:
                raise OSError("connection reset")
            yield {"id": i, "value": i, "category": "cat_0"}

    with pytest.raises(OSError, match="connection reset"):
        fsm.process_stream(records(), sink=str(tmp_path / "out.jsonl"), chunk_size=1000)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_sink_stops_the_stream_with_its_error(fsm, data):
    def sink(batch):
        if batch.column(0)[0].as_py() >= 1000:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        fsm.process_stream(data, sink=sink, chunk_size=500)


def test_keyboard_interrupt_stops_cleanly(tmp_path, fsm):
    data = generate_records(50_000, seed=1)
    before = threading.active_count()

    def on_progress(p):
        if p.chunks_processed == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fsm.process_stream(
            data, sink=str(tmp_path / "out.parquet"), chunk_size=5000, parallelism=2, on_progress=on_progress
        )
    assert list(tmp_path.iterdir()) == []
    r = fsm.process_stream(data, chunk_size=5000, parallelism=2)  # the engine still works afterwards
    assert r.total_records == 50_000 == r.successful + r.failed
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)  # worker threads of the finished runs are told to stop; give them a moment
    assert threading.active_count() <= before
    assert np.all(np.diff(r.ids("output")) > 0)


def test_in_memory_tables_are_sliced_in_the_event_loop(fsm, data, expected):
    """Slices of a table or batch are read inline (no thread per chunk); readers and casts are not."""
    from streamkit.io.arrowsources import ArrowSource

    assert ArrowSource(data, 10).cheap_chunks
    assert ArrowSource(data.to_batches()[0], 10).cheap_chunks
    assert not ArrowSource(pa.RecordBatchReader.from_batches(data.schema, data.to_batches()), 10).cheap_chunks
    assert not ArrowSource(data, 10, schema=data.schema).cheap_chunks
    threads: set[str] = set()
    r = fsm.process_stream(
        data, sink=lambda b: threads.add(threading.current_thread().name), chunk_size=7, parallelism=2
    )
    assert r.end_state_counts == expected.end_state_counts and r.total_records == data.num_rows
    assert threads and threading.main_thread().name not in threads  # callbacks still run in threads
