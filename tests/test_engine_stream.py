"""The streaming engine against the in-memory core: same answers, whatever the chunking.

Every run here checks conservation (records in == completed + failed) through
``check_run``.
"""

from __future__ import annotations

import json
import threading
import time

import anyio
import numpy as np
import pyarrow as pa
import pytest
from config_helpers import a_to_b
from hypothesis import given, settings
from hypothesis import strategies as st

from examples.seed_network import create_streaming_fsm_config, generate_records
from streamkit import AsyncSimpleFSM, Pipeline, SimpleFSM, StreamConfig


def seed_records(n: int, seed: int = 0) -> pa.Table:
    return generate_records(n, seed=seed)


def check_run(result, n_in: int) -> None:
    """Conservation: every record is completed or failed, and the index agrees with the counts."""
    assert result.total_records == n_in
    assert result.successful + result.failed == n_in
    assert sum(result.end_state_counts.values()) == result.successful
    counts = result.status_counts()
    assert counts.get("completed", 0) == result.successful and counts.get("failed", 0) == result.failed


def table_rows(t: pa.Table) -> list[dict]:
    return t.to_pylist()


@pytest.fixture(scope="module")
def seed_fsm() -> SimpleFSM:
    return SimpleFSM(create_streaming_fsm_config())


# -- the stream gives the in-memory answer ---------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 3000), chunk=st.integers(1, 1200), par=st.integers(1, 3), order=st.booleans())
def test_stream_equals_process(seed_fsm, n, chunk, par, order):
    data = seed_records(n, seed=n)
    expected = seed_fsm.process(data)
    r = seed_fsm.process_stream(data, chunk_size=chunk, parallelism=par, preserve_order=order)
    check_run(r, n)
    assert r.end_state_counts == expected.end_state_counts
    for state in ("output", "error"):
        got = r.output(state)
        if not order:
            got = got.sort_by("_row")
        assert table_rows(got) == table_rows(expected.output(state))
    assert r.chunks_processed == (-(-n // chunk) if n else 0)


def test_failed_records_kept_in_memory_and_indexed():
    fsm = SimpleFSM(a_to_b("lambda state: {'y': 10 // state.data['x']}"))
    data = [{"x": i % 4} for i in range(40)]
    r = fsm.process_stream(data, chunk_size=7)
    check_run(r, 40)
    assert r.failed == 10
    assert r.ids("failed").tolist() == list(range(0, 40, 4))
    errs = r.records("failed")
    assert errs.column("_row").to_pylist() == list(range(0, 40, 4))
    assert set(errs.column("error_type").to_pylist()) == {"ZeroDivisionError"}
    assert r.ids("b").tolist() == [i for i in range(40) if i % 4]


# -- files, sinks and where failures go --------------------------------------------------------
def write_jsonl(path, lines):
    path.write_text("".join(line + "\n" for line in lines))


def test_file_sinks_per_end_state_and_default_error_file(tmp_path, seed_fsm):
    lines = [json.dumps({"id": i, "value": (i * 37) % 9000 - 100, "category": f"cat_{i % 5}"}) for i in range(200)]
    lines[17] = '{"id": 17, "value": '  # truncated line
    lines[90] = "[1, 2, 3]"  # not an object
    write_jsonl(tmp_path / "in.jsonl", lines)
    out, err = tmp_path / "out.jsonl", tmp_path / "err.parquet"
    r = seed_fsm.process_stream(
        str(tmp_path / "in.jsonl"), sinks={"output": str(out), "error": str(err)}, chunk_size=32
    )
    check_run(r, 200)
    assert r.malformed == 2 and r.failed == 2
    errors = [json.loads(x) for x in (tmp_path / "out.errors.jsonl").read_text().splitlines()]
    assert [e["_row"] for e in errors] == [17, 90]
    assert [e["line"] for e in errors] == [18, 91]
    assert all(e["error_message"] for e in errors)
    n_out = sum(1 for _ in out.read_text().splitlines())
    n_err = pa.parquet.read_table(err).num_rows if hasattr(pa, "parquet") else None
    import pyarrow.parquet as pq

    n_err = pq.read_table(err).num_rows
    assert (n_out, n_err) == (r.end_state_counts["output"], r.end_state_counts["error"])
    assert n_out + n_err + 2 == 200


def test_explicit_error_sink_and_callback_sink(tmp_path, seed_fsm):
    got: list[pa.RecordBatch] = []
    err: list[dict] = []
    data = seed_records(500)
    r = seed_fsm.process_stream(data, sink=got.append, error_sink=err, chunk_size=128)
    check_run(r, 500)
    assert sum(b.num_rows for b in got) == r.successful
    rows = np.concatenate([b.column(b.schema.get_field_index("_row")).to_numpy() for b in got])
    assert rows.tolist() == sorted(rows.tolist())
    assert len(err) == r.failed


def test_empty_input(tmp_path, seed_fsm):
    (tmp_path / "empty.jsonl").write_text("")
    r = seed_fsm.process_stream(str(tmp_path / "empty.jsonl"), sink=str(tmp_path / "o.jsonl"))
    check_run(r, 0)
    assert r.chunks_processed == 0 and r.end_state_counts == {"output": 0, "error": 0}
    assert (tmp_path / "o.jsonl").exists() and (tmp_path / "o.jsonl").read_text() == ""
    r = seed_fsm.process_stream([], chunk_size=10)
    check_run(r, 0)


def test_type_drift_between_chunks(tmp_path):
    fsm = SimpleFSM(a_to_b("lambda state: {**state.data, 'y': state.data['x'] * 2}"))
    lines = [json.dumps({"x": i}) for i in range(50)] + [json.dumps({"x": f"s{i}"}) for i in range(50)]
    write_jsonl(tmp_path / "in.jsonl", lines)
    for sink in ("out.jsonl", "out.parquet"):
        r = fsm.process_stream(str(tmp_path / "in.jsonl"), sink=str(tmp_path / sink), chunk_size=20)
        check_run(r, 100)
        assert r.successful == 100
    out = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert out[3]["y"] == 6 and out[60]["y"] == "s10s10"


# -- every knob acts -----------------------------------------------------------------------------
def slow_sink(delay: float, into: list):
    def write(batch):
        time.sleep(delay)
        into.append(batch.num_rows)

    return write


def test_memory_limit_holds_with_a_slow_sink(seed_fsm):
    data = seed_records(200_000)
    got: list[int] = []
    limit_mb = 2
    r = seed_fsm.process_stream(
        data, sink=slow_sink(0.005, got), chunk_size=8192, memory_limit_mb=limit_mb, parallelism=2, buffer_size=10**9
    )
    check_run(r, 200_000)
    assert 0 < r.peak_bytes_in_flight <= limit_mb * 2**20
    wide = seed_fsm.process_stream(
        data, sink=slow_sink(0.005, []), chunk_size=8192, memory_limit_mb=256, parallelism=2, buffer_size=10**9
    )
    assert wide.peak_bytes_in_flight > r.peak_bytes_in_flight  # the limit is what held it back


def test_backpressure_threshold_limits_records_in_flight(seed_fsm):
    data = seed_records(20_000)
    r = seed_fsm.process_stream(
        data, sink=slow_sink(0.002, []), chunk_size=1000, backpressure_threshold=3000, parallelism=2
    )
    check_run(r, 20_000)
    assert r.peak_records_in_flight <= 3000
    free = seed_fsm.process_stream(data, sink=slow_sink(0.002, []), chunk_size=1000, parallelism=2, buffer_size=10**9)
    assert free.peak_records_in_flight > 3000


def test_buffer_size_bounds_read_ahead(seed_fsm):
    def run(buffer_size):
        pulled = [0]
        written = [0]
        ahead = [0]

        def source():
            for i in range(4000):
                pulled[0] += 1
                ahead[0] = max(ahead[0], pulled[0] - written[0])
                yield {"id": i, "value": i, "category": "cat_1"}

        def sink(batch):
            time.sleep(0.003)
            written[0] += batch.num_rows

        r = seed_fsm.process_stream(source(), sink=sink, chunk_size=100, buffer_size=buffer_size, parallelism=1)
        check_run(r, 4000)
        return ahead[0]

    small, large = run(100), run(2000)
    assert small <= 100 * 6  # channel + worker + reorder + sink + the chunk being read
    assert large > small


def test_chunk_size_and_progress_per_chunk(seed_fsm):
    seen = []
    r = seed_fsm.process_stream(seed_records(1000), chunk_size=64, on_progress=seen.append)
    check_run(r, 1000)
    assert len(seen) == r.chunks_processed == 16
    assert [p.records_processed for p in seen][-1] == 1000
    assert all(
        p.status_counts.get("completed", 0) + p.status_counts.get("failed", 0) == p.records_processed for p in seen
    )
    assert all(p.elapsed >= 0 and p.bytes_in_flight >= 0 for p in seen)


CALLS = [0]


def slow_network(cls=SimpleFSM):
    """A Python-run state that sleeps on the first 5000 values: chunk durations we control."""

    def work(state):
        x = state.data["x"]
        CALLS[0] += 1
        time.sleep(0.05 if x < 5000 and x % 1000 == 0 else 0)
        return {"x": x}

    cfg = a_to_b("work")
    return cls(cfg, functions={"work": work})


def test_preserve_order_false_writes_chunks_as_they_finish():
    # chunk 0 waits (in its worker) until chunk 1 was written: without order that happens at once
    second_written = threading.Event()

    def work(state):
        x = state.data["x"]
        if x == 0:
            assert second_written.wait(timeout=30), "chunk 1 was never written while chunk 0 ran"
        return {"x": x}

    fsm = SimpleFSM(
        a_to_b("work"),
        functions={"work": work},
    )
    data = pa.table({"x": np.arange(10_000)})
    firsts: list[int] = []

    def sink(b):
        firsts.append(b.column(0).to_pylist()[0])
        if firsts[-1] == 5000:
            second_written.set()

    r = fsm.process_stream(data, sink=sink, chunk_size=5000, parallelism=2, preserve_order=False)
    check_run(r, 10_000)
    assert firsts == [5000, 0]
    firsts.clear()
    second_written.set()  # in order, chunk 1 can only be written after chunk 0: let chunk 0 go at once
    fsm.process_stream(data, sink=sink, chunk_size=5000, parallelism=2)
    assert firsts == [0, 5000]


def _jittery_network(seed: int):
    """A Python-run state that sleeps a random while once per chunk of 500: chunks finish out of order."""
    import random

    rng = random.Random(seed)
    naps = [rng.choice([0, 0, 0.002, 0.01, 0.03]) for _ in range(1000)]

    def work(state):
        x = state.data["x"]
        if x % 500 == 0:
            time.sleep(naps[x // 500])
        return {"x": x}

    cfg = a_to_b("work")
    return SimpleFSM(cfg, functions={"work": work})


@pytest.mark.parametrize("parallelism", [2, 3])
def test_workers_write_in_order_whatever_order_chunks_finish_in(parallelism):
    data = pa.table({"x": np.arange(20_000)})
    got: list[int] = []
    threads: set[int] = set()

    def sink(batch):
        threads.add(threading.get_ident())
        got.extend(batch.column("x").to_pylist())

    r = _jittery_network(parallelism).process_stream(data, sink=sink, chunk_size=500, parallelism=parallelism)
    check_run(r, 20_000)
    assert got == list(range(20_000))
    assert r.chunks_processed == 40
    assert threading.get_ident() not in threads  # written by the workers, not in the event loop


def test_workers_write_every_chunk_once_without_order():
    data = pa.table({"x": np.arange(20_000)})
    got: list[list[int]] = []
    r = _jittery_network(7).process_stream(
        data, sink=lambda b: got.append(b.column("x").to_pylist()), chunk_size=500, parallelism=3, preserve_order=False
    )
    check_run(r, 20_000)
    assert sorted(x for b in got for x in b) == list(range(20_000))
    assert all(b == list(range(b[0], b[0] + 500)) for b in got)  # whole chunks, each once


def test_a_sink_that_fails_stops_the_stream_and_leaves_no_file(tmp_path):
    data = pa.table({"x": np.arange(20_000)})
    written = []

    def sink(batch):
        if len(written) == 5:
            raise OSError("disk full")
        written.append(batch.num_rows)

    out = tmp_path / "b.jsonl"
    with pytest.raises(OSError, match="disk full"):
        _jittery_network(3).process_stream(data, sinks={"b": sink}, error_sink=str(out), chunk_size=500, parallelism=2)
    assert written == [500] * 5
    assert list(tmp_path.iterdir()) == []


def test_a_bad_progress_option_leaves_no_file(tmp_path, seed_fsm):
    """A `progress=` refused after the sinks are open: their temporary files go at once."""
    with pytest.raises(ValueError, match="progress must be True, False or 'lines', got 'bad'"):
        seed_fsm.process_stream(generate_records(10), str(tmp_path / "out.jsonl"), progress="bad")
    assert list(tmp_path.iterdir()) == []


def test_parallelism_runs_chunks_on_several_threads():
    active, peak = [0], [0]
    lock = threading.Lock()
    together = threading.Barrier(2)  # passed only by two chunks running at the same time
    wait_together = [False]

    def work(state):
        x = state.data["x"]
        if x % 5000 == 0:  # once per chunk: note how many chunks run at the same time
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            if wait_together[0]:
                together.wait(timeout=30)
            with lock:
                active[0] -= 1
        return {"x": x}

    cfg = a_to_b("work")
    fsm = SimpleFSM(cfg, functions={"work": work})
    data = pa.table({"x": np.arange(40_000)})
    check_run(fsm.process_stream(data, chunk_size=5000, parallelism=1), 40_000)
    assert peak[0] == 1
    wait_together[0] = True
    r = fsm.process_stream(data, chunk_size=5000, parallelism=2)
    check_run(r, 40_000)
    assert r.failed == 0 and peak[0] == 2  # every chunk met another one at the barrier


def test_bad_options_are_clear_errors(seed_fsm):
    with pytest.raises(ValueError, match="`parallelism` must be a positive integer, got 0"):
        seed_fsm.process_stream([], parallelism=0)
    with pytest.raises(ValueError, match="not an end state"):
        seed_fsm.process_stream([], sinks={"outptu": []})
    with pytest.raises(TypeError, match="source"):
        seed_fsm.process_stream()
    assert StreamConfig(buffer_size=10_000, chunk_size=100).channel_chunks == 100


# -- async flavours and cancellation --------------------------------------------------------------
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_under_both_backends(backend):
    fsm = AsyncSimpleFSM(create_streaming_fsm_config())

    async def gen():
        for i in range(100):
            yield {"id": i, "value": i - 10, "category": "cat_2"}
            if i % 10 == 0:
                await anyio.sleep(0)

    async def main():
        progress = []

        async def on_progress(p):
            progress.append(p.records_processed)

        r = await fsm.process_stream(gen(), chunk_size=10, on_progress=on_progress)
        return r, progress

    r, progress = anyio.run(main, backend=backend)
    check_run(r, 100)
    assert r.end_state_counts == {"output": 90, "error": 10}
    assert progress == list(range(10, 101, 10))


def test_cancellation_stops_every_stage_and_leaves_no_file(tmp_path):
    fsm = slow_network(AsyncSimpleFSM)
    data = pa.table({"x": np.arange(200_000) % 5000})  # every chunk of 5000 sleeps 0.25 s
    before = set(threading.enumerate())
    out = tmp_path / "out.jsonl"

    async def main():
        with anyio.move_on_after(0.4) as scope:
            await fsm.process_stream(data, sink=str(out), chunk_size=5000, parallelism=2)
        return scope.cancelled_caught

    t0 = time.perf_counter()
    assert anyio.run(main)
    assert time.perf_counter() - t0 < 3  # stopped after the chunks in hand, not after all 40
    calls = CALLS[0]
    time.sleep(0.3)
    assert CALLS[0] == calls  # no chunk still running in a thread
    assert [
        t for t in threading.enumerate() if t not in before and t.is_alive() and not t.name.startswith("AnyIO worker")
    ] == []
    assert list(tmp_path.iterdir()) == []  # the sink's temporary file is gone, no final file


# -- pipelines ------------------------------------------------------------------------------------------
def test_pipeline_streams_stage_to_stage():
    cleaner = SimpleFSM(
        {
            "name": "cleaner",
            "networks": [
                {
                    "name": "m",
                    "states": [
                        {
                            "name": "in",
                            "is_start": True,
                            "functions": {
                                "transform": "lambda state: {'id': state.data['id'], "
                                "'value': max(0, state.data.get('value', 0)), "
                                "'category': state.data.get('category', '').upper(), "
                                "'t': __import__('time').time()}"
                            },
                        },
                        {"name": "out", "is_end": True},
                    ],
                    "arcs": [{"from": "in", "to": "out"}],
                }
            ],
        }
    )
    seed = SimpleFSM(create_streaming_fsm_config())
    data = [{"id": i, "value": "n/a" if i == 3 else i * 100 - 500, "category": f"cat_{i % 5}"} for i in range(60)]
    r = (cleaner | seed).process_stream(data, chunk_size=8, parallelism=2)
    check_run(r, 60)
    assert r.failed == 1 and r.ids("failed").tolist() == [3]  # max(0, 'n/a') raises TypeError in stage 1
    assert r.records("failed").column("error_state").to_pylist() == ["cleaner.in"]
    out = r.output("output")
    assert out.column("_row").to_pylist() == [i for i in range(60) if i != 3]
    assert out.column("category").to_pylist()[:2] == ["CAT_0", "CAT_1"]
    assert r.end_state_counts == {"output": 59, "error": 0}
    p = Pipeline([(cleaner, 1), (seed, 2)])
    assert [s.parallelism for s in p.stages] == [1, 2]
    assert table_rows(p.process(data, chunk_size=16).output("output")) == table_rows(out)


def test_progress_counts_one_more_chunk_a_call_when_workers_write_several():
    data = pa.table({"x": np.arange(20_000)})
    seen = []
    r = _jittery_network(11).process_stream(
        data, sink=lambda b: None, chunk_size=500, parallelism=3, on_progress=seen.append
    )
    check_run(r, 20_000)
    assert [p.chunks_processed for p in seen] == list(range(1, 41))
    assert [p.records_processed for p in seen] == [500 * k for k in range(1, 41)]


@pytest.mark.parametrize("order", [True, False])
def test_an_async_sink_gets_chunks_in_order_from_the_sink_task(order):
    data = pa.table({"x": np.arange(10_000)})
    got: list[list[int]] = []

    async def sink(batch):
        await anyio.sleep(0)
        got.append(batch.column("x").to_pylist())

    r = _jittery_network(5).process_stream(data, sink=sink, chunk_size=500, parallelism=3, preserve_order=order)
    check_run(r, 10_000)
    assert all(b == list(range(b[0], b[0] + 500)) for b in got)
    flat = [x for b in got for x in b]
    assert (flat if order else sorted(flat)) == list(range(10_000))


def test_cancelling_stops_at_the_sink_call_in_progress_issue_15(caplog):
    fsm = AsyncSimpleFSM(create_streaming_fsm_config())
    starts: list[float] = []
    written: list[int] = []

    def slow_sink(batch):  # a sink that takes 50 ms a call
        starts.append(time.monotonic())
        time.sleep(0.05)
        written.append(batch.num_rows)

    async def main():
        with anyio.move_on_after(0.5) as scope:
            await fsm.process_stream(seed_records(100_000), sink=slow_sink, chunk_size=500, parallelism=2)
        return scope

    t0 = time.monotonic()
    scope = anyio.run(main)
    returned = time.monotonic()
    assert scope.cancelled_caught
    cancelled_at = scope.deadline
    # no sink call began after the cancellation; the one in progress was let finish
    assert all(t < cancelled_at for t in starts), [round(t - cancelled_at, 3) for t in starts]
    assert returned - cancelled_at < 0.2 + 0.05 + 0.3  # 0.2 s + one sink call (+ slack for a loaded machine)
    assert returned - t0 < 2
    assert "records in full" in caplog.text


def test_a_pipeline_stopped_by_an_event_runs_in_full_the_next_time():
    """A stop flag fired in one run of a pipeline does not stop its next run (each run has its own signal)."""
    from streamkit.events import EventBase

    class StopAtThree(EventBase):
        stop_on_error = True

        def process(self, x):
            return (x != 3), {"x": x}

    stopper = SimpleFSM(
        {
            "name": "s",
            "networks": [
                {
                    "name": "m",
                    "states": [{"name": "a", "is_start": True, "event": StopAtThree}, {"name": "b", "is_end": True}],
                    "arcs": [{"from": "a", "to": "b"}],
                }
            ],
        }
    )
    pipe = stopper | SimpleFSM(a_to_b())
    first = pipe.process_stream([{"x": i} for i in range(10)], chunk_size=1)
    assert first.stopped_by is not None
    again = pipe.process_stream([{"x": i} for i in range(3)], chunk_size=1)
    assert again.stopped_by is None and again.successful == 3
    assert pipe.process([{"x": i} for i in range(3)]).successful == 3
