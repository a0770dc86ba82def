"""Submitting runs and waiting for them (seed 004, SEED-APIS.md § 004): states by type, signalled waits,
timeouts that drop nothing, bounded concurrency, idempotency, and every kind of target."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from typing import Any

import pytest

from streamkit import RunHandle, RunResult
from streamkit.submit import (
    FlowRun,
    State,
    StateType,
    flow_submitter,
    get_deployment,
    get_run,
    register_deployment,
    run_deployment,
)


def name(prefix: str) -> str:
    """A deployment name of its own for each test (the registry is the process's)."""
    return f"{prefix}/{uuid.uuid4().hex[:8]}"


def test_state_types_decide_finality_and_success_not_names() -> None:
    cached = State(type=StateType.COMPLETED, name="Cached")
    assert cached.is_final() and cached.is_completed() and cached.name == "Cached"
    assert State(StateType.CRASHED).is_final() and not State(StateType.CRASHED).is_completed()
    assert not State(StateType.RUNNING).is_final() and State(StateType.PENDING).name == "Pending"
    assert State("failed").type is StateType.FAILED
    with pytest.raises(ValueError, match="unknown state type 'done'"):
        State("done")


def test_submit_returns_at_once_and_wait_reports_every_run_by_type(caplog: pytest.LogCaptureFixture) -> None:
    gate = threading.Event()

    def target(table: int) -> Any:
        gate.wait(10)
        if table == 1:
            raise ValueError("bad table")
        if table == 2:
            return State(type=StateType.COMPLETED, name="Cached")
        return table * 10

    dep = name("etl")
    register_deployment(dep, target)

    async def main() -> tuple[list[str], dict[str, str], list[str]]:
        etl = flow_submitter(dep)
        ids = await asyncio.gather(*[etl.submit(table=i) for i in range(4)])
        states_before = [get_run(i).state.type for i in ids]  # nothing ran: the gate is shut
        gate.set()
        return ids, await etl.wait(poll_interval=0.01), [s.value for s in states_before]

    with caplog.at_level(logging.INFO, logger="streamkit.submit"):
        ids, results, before = asyncio.run(main())
    assert all(b in ("SCHEDULED", "PENDING", "RUNNING") for b in before)
    assert results == {ids[0]: "Completed", ids[1]: "Failed", ids[2]: "Cached", ids[3]: "Completed"}
    assert list(results) == ids
    lines = [r.getMessage() for r in caplog.records if r.name == "streamkit.submit"]
    assert f"❌ [{dep}] Run {ids[1][:8]} finished with state: Failed" in lines
    assert f"✅ [{dep}] Run {ids[2][:8]} finished with state: Cached" in lines
    assert lines[-1] == "Summary → 3/4 succeeded, 1 failed"  # the Cached run is a success
    r0, r1 = get_run(ids[0]), get_run(ids[1])
    assert r0.result == 0 and r0.parameters == {"table": 0} and r0.error is None
    assert r0.state.is_completed() and r0.started_at <= r0.completed_at and r0.created_at.tzinfo is not None
    assert r1.error == "ValueError: bad table" and r1.status == "failed" and r1.state.message == "ValueError: bad table"
    assert isinstance(r0, RunHandle) and r0.kind == "submission" and r0.progress["status"] == "completed"
    assert get_deployment(dep).counts() == {
        "pending": 0,
        "running": 0,
        "completed": 3,
        "failed": 1,
        "cancelled": 0,
        "crashed": 0,
    }


def test_a_timeout_returns_with_unfinished_runs_reported_never_dropped(caplog: pytest.LogCaptureFixture) -> None:
    gate = threading.Event()
    dep = name("slow")
    register_deployment(dep, lambda n: gate.wait(10) and n)

    async def main() -> tuple[Any, Any, float]:
        sub = flow_submitter(dep)
        ids = [await sub.submit(n=n) for n in range(3)]
        t0 = time.perf_counter()
        first = await sub.wait(poll_interval=60, timeout=0.2)
        took = time.perf_counter() - t0
        gate.set()
        return ids, (first, await sub.wait(poll_interval=60)), took

    with caplog.at_level(logging.INFO, logger="streamkit.submit"):
        ids, (first, second), took = asyncio.run(main())
    assert took < 5  # the timeout, not the poll interval
    assert set(first) == set(ids) and set(first.values()) <= {"Running", "Pending"}
    assert second == dict.fromkeys(ids, "Completed")
    msgs = [r.getMessage() for r in caplog.records if r.name == "streamkit.submit"]
    assert "Summary → 0/3 succeeded, 0 failed, 3 still running" in msgs
    assert any(r.levelno == logging.WARNING and "not finished" in r.getMessage() for r in caplog.records)
    assert msgs[-1] == "Summary → 3/3 succeeded, 0 failed"


def test_wait_is_signalled_not_polled() -> None:
    dep = name("quick")
    register_deployment(dep, lambda: time.sleep(0.05))

    async def main() -> float:
        sub = flow_submitter(dep)
        await sub.submit()
        t0 = time.perf_counter()
        await sub.wait(poll_interval=30, show_summary=False)
        return time.perf_counter() - t0

    assert asyncio.run(main()) < 10  # woken by the run's end, not after a 30 s poll


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_max_concurrency_is_never_exceeded(kind: str) -> None:
    lock = threading.Lock()
    running = [0]
    peak = [0]

    def enter() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])

    def leave() -> None:
        with lock:
            running[0] -= 1

    def sync_target(i: int) -> int:
        enter()
        time.sleep(0.001)
        leave()
        return i

    async def async_target(i: int) -> int:
        enter()
        await asyncio.sleep(0.001)
        leave()
        return i

    dep = name("bounded")
    register_deployment(dep, sync_target if kind == "sync" else async_target, max_concurrency=4)

    async def main() -> dict[str, str]:
        sub = flow_submitter(dep)
        await asyncio.gather(*[sub.submit(i=i) for i in range(200)])
        return await sub.wait(show_summary=False)

    results = asyncio.run(main())
    assert len(results) == 200 and set(results.values()) == {"Completed"}
    assert peak[0] == 4  # reached, never passed


def test_an_idempotency_key_makes_one_run_of_repeated_submits() -> None:
    calls = []
    dep = name("once")
    register_deployment(dep, lambda x: calls.append(x))

    async def main() -> tuple[str, str, str, dict[str, str]]:
        sub = flow_submitter(dep)
        a = await sub.submit(idempotency_key="k", x=1)
        b = await sub.submit(idempotency_key="k", x=1)
        c = await sub.submit(idempotency_key="other", x=2)
        return a, b, c, await sub.wait(show_summary=False)

    a, b, c, results = asyncio.run(main())
    assert a == b != c and len(results) == 2 and sorted(calls) == [1, 2]
    again = asyncio.run(run_deployment(dep, {"x": 1}, idempotency_key="k"))
    assert again.id == a and sorted(calls) == [1, 2]


def test_run_deployment_timeouts_and_the_seeds_keywords() -> None:
    gate = threading.Event()
    dep = name("rd")
    register_deployment(dep, lambda: gate.wait(10))

    async def main() -> tuple[FlowRun, bool, FlowRun]:
        run = await run_deployment(name=dep, parameters={}, timeout=0, schedule=True)
        at_once = run.finished
        gate.set()
        done = await run_deployment(dep, timeout=None)
        await run.wait_async(10)
        return run, at_once, done

    run, at_once, done = asyncio.run(main())
    assert not at_once and run.state.is_completed() and done.state.is_completed()
    with pytest.raises(KeyError, match="no deployment"):
        asyncio.run(run_deployment(dep + "x"))
    with pytest.raises(KeyError, match="no run 'nope'"):
        get_run("nope")


def test_cancel_a_waiting_run_and_a_running_async_run() -> None:
    started = threading.Event()

    async def forever() -> None:
        started.set()
        await asyncio.sleep(60)

    dep = name("cancel")
    register_deployment(dep, forever, max_concurrency=1)
    sub = flow_submitter(dep)
    first = get_run(sub.submit_sync())
    second = get_run(sub.submit_sync())  # waits for the one slot
    assert started.wait(10)
    assert second.cancel() is True and second.state.type is StateType.CANCELLED
    assert first.cancel() is True and first.wait(10) and first.state.type is StateType.CANCELLED
    assert first.cancel() is False
    assert get_deployment(dep).counts()["cancelled"] == 2


def test_a_sync_run_cannot_be_stopped_and_says_so() -> None:
    gate = threading.Event()
    dep = name("uncancellable")
    register_deployment(dep, lambda: gate.wait(10))
    run = get_run(flow_submitter(dep).submit_sync())
    deadline = time.monotonic() + 10
    while run.status != "running" and time.monotonic() < deadline:
        time.sleep(0.005)
    assert run.cancel() is False
    gate.set()
    assert run.wait(10) and run.state.is_completed()


def test_a_target_that_raises_something_not_an_exception_crashes_its_run() -> None:
    class Boom(BaseException):
        pass

    def target() -> None:
        raise Boom("down")

    dep = name("crash")
    register_deployment(dep, target)
    sub = flow_submitter(dep)
    sub.submit_sync()
    results = sub.wait_sync(show_summary=False)
    (run_id,) = results
    assert results[run_id] == "Crashed" and get_run(run_id).error == "Boom: down"
    assert get_deployment(dep).counts()["crashed"] == 1
    ok = name("after-crash")
    register_deployment(ok, lambda: 1)
    assert asyncio.run(run_deployment(ok)).result == 1  # the runs' loop goes on


def test_a_network_config_deployment_runs_process_stream_with_the_parameters(tmp_path: Any) -> None:
    from examples.seed_network import create_streaming_fsm_config

    dep = name("network")
    register_deployment(dep, create_streaming_fsm_config())
    records = [{"id": i, "value": i % 50 - 5, "category": "ab"[i % 2]} for i in range(1000)]
    sub = flow_submitter(dep)
    good = sub.submit_sync(source=records)
    to_file = sub.submit_sync(source=records, sink=str(tmp_path / "out.jsonl"))
    bad = sub.submit_sync(source=records, chunk_sise=10)
    results = sub.wait_sync(show_summary=False)
    assert results == {good: "Completed", to_file: "Completed", bad: "Failed"}
    r = get_run(good).result
    assert isinstance(r, RunResult) and r.total_records == 1000 and r.successful + r.failed == 1000
    assert (tmp_path / "out.jsonl").exists()
    assert "chunk_sise" in (get_run(bad).error or "")


def test_runtime_flows_as_deployments() -> None:
    from examples.seed_network import create_streaming_fsm_config
    from streamkit.runtime import Flow, FlowRegistry, NetworkFlow, Routine

    class Double(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input")

            def logic(slot_data: Any, message: Any, worker_state: Any) -> None:
                from streamkit.runtime import get_current_job

                get_current_job().set_data("out", [x * 2 for x in slot_data["input"]])

            self.set_logic(logic)

    flow = Flow(name("routine-flow"))
    flow.add_routine(Double(), "double")
    FlowRegistry.get_instance().register_by_name(flow.name, flow)
    dep_a, dep_b = name("flow"), name("netflow")
    register_deployment(dep_a, flow.name)  # by its registered name
    register_deployment(dep_b, NetworkFlow(create_streaming_fsm_config(), name("seed-flow")))
    sa, sb = flow_submitter(dep_a), flow_submitter(dep_b)
    ok = sa.submit_sync(routine_id="double", slot="input", data=21)
    missing = sa.submit_sync(routine_id="double")
    net = sb.submit_sync(records=[{"id": 1, "value": 5, "category": "a"}, {"id": 2, "value": -1, "category": "b"}])
    assert sa.wait_sync(show_summary=False) == {ok: "Completed", missing: "Failed"}
    assert get_run(ok).result.get_data("out") == [42]
    assert "missing: slot, data" in (get_run(missing).error or "")
    assert sb.wait_sync(show_summary=False) == {net: "Completed"}
    assert get_run(net).result.end_state_counts == {"output": 1, "error": 1}


def test_bad_deployments_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="max_concurrency must be >= 1"):
        register_deployment(name("x"), lambda: 1, max_concurrency=0)
    with pytest.raises(ValueError, match="no flow registered as 'nothing-here'"):
        register_deployment(name("x"), "nothing-here")
    with pytest.raises(TypeError, match="a deployment runs a Python callable"):
        register_deployment(name("x"), 42)
    with pytest.raises(KeyError, match="no deployment"):
        flow_submitter("never/registered")


def test_every_run_is_counted_once_whatever_happens_to_it() -> None:
    """Many runs of mixed outcomes, some cancelled while they wait: the deployment's counts, the wait's
    results and each run's state agree, and they add up to the runs submitted."""
    import random

    rng = random.Random(7)
    gate = threading.Event()

    def target(kind: str) -> Any:
        gate.wait(10)
        if kind == "fail":
            raise RuntimeError("no")
        if kind == "cached":
            return State(StateType.COMPLETED, name="Cached")
        if kind == "own-failure":
            return State(StateType.FAILED, name="Rejected", message="rejected")
        return kind

    dep = name("mixed")
    register_deployment(dep, target, max_concurrency=3)
    sub = flow_submitter(dep)
    kinds = [rng.choice(["ok", "fail", "cached", "own-failure"]) for _ in range(300)]
    ids = [sub.submit_sync(kind=k) for k in kinds]
    cancelled = {i for i in ids[10:] if rng.random() < 0.2 and get_run(i).cancel()}
    gate.set()
    results = sub.wait_sync(show_summary=False)
    assert list(results) == ids
    want = {"ok": "Completed", "fail": "Failed", "cached": "Cached", "own-failure": "Rejected"}
    for run_id, kind in zip(ids, kinds):
        assert results[run_id] == ("Cancelled" if run_id in cancelled else want[kind])
    counts = get_deployment(dep).counts()
    by_type = {t: sum(get_run(i).state.type is t for i in ids) for t in StateType}
    assert counts["cancelled"] == len(cancelled) == by_type[StateType.CANCELLED]
    assert counts["completed"] == by_type[StateType.COMPLETED]
    assert counts["failed"] == by_type[StateType.FAILED]
    assert sum(counts.values()) == 300 and counts["pending"] == counts["running"] == 0
    assert get_run(ids[kinds.index("own-failure")]).error == "rejected"


def test_a_deployments_threads_end_when_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamkit.submit.deployments as deployments

    monkeypatch.setattr(deployments, "IDLE_THREAD_SECONDS", 0.05)
    dep = name("idle")
    d = register_deployment(dep, lambda: time.sleep(0.01), max_concurrency=4)
    sub = flow_submitter(dep)
    for _ in range(8):
        sub.submit_sync()
    assert set(sub.wait_sync(show_summary=False).values()) == {"Completed"}
    assert 1 <= len(d._threads) <= 4
    deadline = time.monotonic() + 10
    while d._threads and time.monotonic() < deadline:
        time.sleep(0.02)
    assert d._threads == []
    sub.submit_sync()  # a new run starts a thread again
    assert set(sub.wait_sync(show_summary=False).values()) == {"Completed"}
