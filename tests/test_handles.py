"""Run handles: one object for anything running — streams started in the background and runtime jobs alike
(id, status, progress, cancel, wait, result)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from streamkit import AsyncSimpleFSM, RunHandle, SimpleFSM, StreamHandle
from streamkit.runtime import Flow, Routine, Runtime, get_current_job
from tests.config_helpers import a_to_b


def slow(gate: threading.Event | None = None, every: int = 1000) -> SimpleFSM:
    """A Python-run state; with ``gate``, a record whose x is a multiple of ``every`` waits for it."""

    def work(state: Any) -> dict[str, Any]:
        x = state.data["x"]
        if gate is not None and x % every == 0:
            gate.wait(30)
        return {"x": x, "y": x * 2}

    return SimpleFSM(a_to_b("work"), functions={"work": work})


def test_a_started_stream_completes_with_the_result_process_stream_gives(tmp_path: Any) -> None:
    data = pa.table({"x": np.arange(20_000)})
    seen: list[int] = []
    h = slow().start_stream(
        data, sink=str(tmp_path / "out.jsonl"), chunk_size=2000, on_progress=lambda p: seen.append(p.records_processed)
    )
    assert isinstance(h, StreamHandle) and isinstance(h, RunHandle) and h.kind == "stream"
    assert h.wait(60) and h.status == "completed" and h.error is None
    r = h.result
    assert r.total_records == 20_000 and r.end_state_counts == {"b": 20_000}
    assert seen[-1] == 20_000  # the user's own on_progress still runs
    p = h.progress
    assert p["status"] == "completed" and p["records_processed"] == 20_000 and p["successful"] == 20_000
    assert p["elapsed"] > 0 and h.started_at is not None and h.completed_at >= h.started_at
    assert h.result_or_raise() is r and h.cancel() is False
    assert (tmp_path / "out.jsonl").read_text().count("\n") == 20_000
    assert h.to_dict()["status"] == "completed"


def test_cancelling_a_started_stream_ends_it_cancelled_and_removes_file_sinks(tmp_path: Any) -> None:
    gate = threading.Event()
    data = pa.table({"x": np.arange(50_000)})
    h = slow(gate, every=5000).start_stream(data, sink=str(tmp_path / "out.jsonl"), chunk_size=5000, parallelism=2)
    time.sleep(0.2)
    assert h.status == "running" and not h.finished
    assert h.progress["status"] == "running"
    assert h.cancel() is True
    gate.set()
    assert h.wait(30) and h.status == "cancelled"
    assert "records" in (h.error or "")  # what was written and what was not
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(asyncio.CancelledError):
        h.result_or_raise()


def test_a_stream_that_fails_ends_failed_and_raises_its_error() -> None:
    h = slow().start_stream("/no/such/file.jsonl")
    assert h.wait(30) and h.status == "failed" and h.result is None
    assert "file.jsonl" in (h.error or "")
    with pytest.raises(Exception, match=r"file\.jsonl"):
        h.result_or_raise()


def test_bad_options_raise_in_the_caller() -> None:
    with pytest.raises(TypeError, match="chunk_sise"):
        slow().start_stream([{"x": 1}], chunk_sise=5)  # type: ignore[call-arg]


def test_an_async_fsm_starts_a_stream_and_waits_without_blocking_its_loop() -> None:
    fsm = AsyncSimpleFSM(a_to_b("work"), functions={"work": lambda s: {"x": s.data["x"] + 1}})

    async def main() -> Any:
        h = fsm.start_stream([{"x": i} for i in range(1000)])
        ticks = 0
        while not await h.wait_async(0.001):
            ticks += 1
        return h, ticks

    h, _ = asyncio.run(main())
    assert h.status == "completed" and h.result.output("b").num_rows == 1000


def test_a_pipeline_starts_a_stream_too() -> None:
    p = slow() | SimpleFSM(a_to_b())
    h = p.start_stream([{"x": i} for i in range(100)])
    assert h.wait(30) and h.status == "completed" and h.result.end_state_counts == {"b": 100}


class Hold(Routine):
    """Each activation waits on ``gate`` when its item says so, and emits the item downstream."""

    def __init__(self, gate: threading.Event, ran: list[Any]) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("out")

        def logic(slot_data: dict[str, list[Any]], message: Any, worker_state: Any) -> None:
            for item in slot_data["input"]:
                if item == "hold":
                    gate.wait(30)
                ran.append((get_current_job().job_id, item))
                self.emit("out", item=item)

        self.set_logic(logic)


class Sink(Routine):
    def __init__(self, ran: list[Any]) -> None:
        super().__init__()
        self.add_slot("input")

        def logic(slot_data: dict[str, list[Any]], message: Any, worker_state: Any) -> None:
            ran.append((get_current_job().job_id, "sink"))

        self.set_logic(logic)


def hold_flow(name: str) -> tuple[Flow, threading.Event, list[Any]]:
    """A flow whose ``"hold"`` items wait on the gate it returns, then go to a sink; what ran is logged."""
    gate = threading.Event()
    ran: list[Any] = []
    flow = Flow(name)
    flow.add_routine(Hold(gate, ran), "hold")
    flow.add_routine(Sink(ran), "sink")
    flow.connect("hold", "out", "sink", "input")
    return flow, gate, ran


def test_jobs_are_run_handles_that_cancel_queued_and_running_work() -> None:
    flow, gate, ran = hold_flow("hold-flow")
    with Runtime() as rt:
        _, running = rt.post(flow, "hold", "input", "hold")  # its activation blocks the worker
        assert isinstance(running, RunHandle) and running.kind == "job" and running.id == running.job_id
        deadline = time.monotonic() + 10
        while running.status != "running" and time.monotonic() < deadline:
            time.sleep(0.01)
        _, queued = rt.post(flow, "hold", "input", "a")  # queued behind it
        rt.post(flow, "hold", "input", "b", job_id=queued.job_id)
        _, other = rt.post(flow, "hold", "input", "c")
        p = queued.progress
        assert (p["status"], p["work_left"]) == ("pending", 2)
        assert queued.cancel() is True and queued.status == "cancelled"  # nothing of it ran: at once
        assert queued.progress["work_left"] == 0 and queued.cancel() is False
        assert running.cancel() is True and running.status == "running"  # its activation still runs
        gate.set()
        assert running.wait(10) and running.status == "cancelled"
        assert rt.wait_until_all_jobs_finished(10)
        assert other.status == "completed" and other.cancel() is False
        assert rt.job_counts() == {"pending": 0, "running": 0, "completed": 1, "failed": 0, "cancelled": 2}
    # the running activation finished its own work; what it emitted (the sink's work) was dropped
    assert (running.job_id, "hold") in ran and (running.job_id, "sink") not in ran
    assert not any(j == queued.job_id for j, _ in ran)
    assert (other.job_id, "c") in ran and (other.job_id, "sink") in ran
    d = running.to_dict()
    assert d["kind"] == "job" and d["status"] == "cancelled" and d["started_at"] is not None


def test_a_network_flow_job_is_cancelled_while_it_waits_but_not_once_it_runs() -> None:
    from streamkit.runtime import NetworkFlow

    gate = threading.Event()
    flow = NetworkFlow(slow(gate, every=1), "gated", max_records=10, linger=0)
    with Runtime() as rt:
        _, first = rt.post(flow, [{"x": 0}])  # runs, held at the gate
        deadline = time.monotonic() + 10
        while first.status != "running" and time.monotonic() < deadline:
            time.sleep(0.01)
        _, second = rt.post(flow, [{"x": 1}, {"x": 2}])
        assert second.progress["records"] == 2
        assert first.cancel() is False  # its records already run
        assert second.cancel() is True and second.status == "cancelled"
        gate.set()
        assert rt.wait_until_all_jobs_finished(10)
    assert first.status == "completed" and first.result.total_records == 1
    assert second.result is None and rt.job_counts()["cancelled"] == 1


def test_shutdown_without_waiting_while_an_activation_runs_drops_what_it_emits() -> None:
    flow, gate, ran = hold_flow("hold-shutdown")
    rt = Runtime()
    _, job = rt.post(flow, "hold", "input", "hold")
    deadline = time.monotonic() + 10
    while job.status != "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    stopper = threading.Thread(target=rt.shutdown, kwargs={"wait": False})
    stopper.start()
    time.sleep(0.05)
    gate.set()  # the activation returns and emits after its job was dropped
    stopper.join(10)
    assert not stopper.is_alive() and job.status == "cancelled"
    assert ran == [(job.job_id, "hold")] and rt.job_counts()["cancelled"] == 1
    assert all(w.status == "stopped" for w in rt.workers())


def test_cancelling_gives_up_a_slow_chunk_in_hand_within_a_few_records() -> None:
    """A chunk of per-record Python that would take many seconds stops within a few records of the cancel:
    the stream ends at once, and no thread goes on running the chunk."""
    calls = [0]

    def crawl(state: Any) -> dict[str, Any]:
        calls[0] += 1
        time.sleep(0.001)
        return state.data

    fsm = SimpleFSM(a_to_b("crawl"), functions={"crawl": crawl})
    h = fsm.start_stream(pa.table({"x": np.arange(100_000)}), chunk_size=50_000, parallelism=2)
    deadline = time.monotonic() + 10
    while calls[0] < 100 and time.monotonic() < deadline:
        time.sleep(0.01)
    t0 = time.perf_counter()
    assert h.cancel()
    assert h.wait(10) and h.status == "cancelled"
    assert time.perf_counter() - t0 < 3  # not the ~25 s the chunks in hand would take
    ran = calls[0]
    time.sleep(0.3)
    assert calls[0] == ran < 10_000  # nothing still runs them


def test_wait_async_is_woken_by_the_end_for_jobs_and_streams() -> None:
    """Awaiting a job or a stream returns when it ends, not at a poll: a 30 s timeout is never reached."""
    flow, gate, _ = hold_flow("wake")

    async def main(rt: Runtime) -> tuple[bool, bool, float]:
        _, job = rt.post(flow, "hold", "input", "hold")
        stream = slow(gate, every=100).start_stream(pa.table({"x": np.arange(1000)}), chunk_size=100)
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, gate.set)
        t0 = time.perf_counter()
        done = await asyncio.gather(job.wait_async(30), stream.wait_async(30))
        return done[0], done[1], time.perf_counter() - t0

    with Runtime() as rt:
        job_done, stream_done, took = asyncio.run(main(rt))
    assert job_done and stream_done and took < 10
