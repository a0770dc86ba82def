"""The runtime (seed 001, SEED-APIS.md § 001): workers, jobs that finish by themselves, isolation, state,
backpressure without loss, policies, retention, shutdown."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from streamkit.runtime import (
    Flow,
    FlowRegistry,
    QueueFullError,
    Routine,
    Runtime,
    RuntimeClosedError,
    WorkerState,
    all_slots_ready_policy,
    batch_size_policy,
    get_current_job,
    time_interval_policy,
)


class Collect(Routine):
    """Keeps every activation's data and job id in the worker state (under ``seen``)."""

    def __init__(self, policy: Any = None, slots: tuple[str, ...] = ("input",), max_queue_length: int = 1000) -> None:
        super().__init__()
        for s in slots:
            self.add_slot(s, max_queue_length=max_queue_length)
        self.add_event("output")

        def logic(slot_data, message, worker_state):
            job = get_current_job()
            worker_state.update("seen", lambda old: [*(old or []), (job.job_id, dict(slot_data), message)])
            self.emit("output", n=sum(len(v) for v in slot_data.values()))

        self.set_logic(logic)
        if policy is not None:
            self.set_activation_policy(policy)


def one_routine(name: str, routine: Routine) -> Flow:
    flow = Flow(name)
    flow.add_routine(routine, "r")
    return flow


def test_jobs_finish_by_themselves_and_are_counted() -> None:
    flow = one_routine("count", Collect())
    with Runtime() as rt:
        _, job = rt.post(flow, "r", "input", {"k": 1}, metadata={"user": 7})
        assert rt.wait_until_all_jobs_finished(10)
        assert job.status == "completed" and job.error is None
        assert job.completed_at is not None and job.completed_at.tzinfo is not None
        assert job.created_at <= job.completed_at
        assert rt.job_counts() == {"pending": 0, "running": 0, "completed": 1, "failed": 0, "cancelled": 0}
        assert rt.get_job(job.job_id) is job and job.metadata == {"user": 7}
        assert [j.job_id for j in rt.list_jobs("completed")] == [job.job_id]


def test_a_job_that_raises_fails_with_its_error_after_its_other_work_drains() -> None:
    class Boom(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input")
            self.set_logic(lambda d, m, s: 1 / d["input"][0])

    flow = one_routine("boom", Boom())
    with Runtime() as rt:
        _, bad = rt.post(flow, "r", "input", 0)
        _, good = rt.post(flow, "r", "input", 2)
        assert rt.wait_until_all_jobs_finished(10)
    assert bad.status == "failed" and bad.error == "ZeroDivisionError: division by zero"
    assert good.status == "completed"


def test_work_a_job_causes_downstream_belongs_to_it() -> None:
    flow = Flow("chain")
    flow.add_routine(Collect(), "a")
    flow.add_routine(Collect(), "b")
    flow.connect("a", "output", "b", "input")
    with Runtime() as rt:
        ws = rt.exec(flow)
        jobs = [rt.post(flow, "a", "input", {"k": k})[1] for k in range(20)]
        assert rt.wait_until_all_jobs_finished(10)
    seen = ws.get_routine_state("seen")
    assert len(seen) == 40  # each job ran in a and then in b
    per_job: dict[str, int] = {}
    for job_id, _, _ in seen:
        per_job[job_id] = per_job.get(job_id, 0) + 1
    assert per_job == {j.job_id: 2 for j in jobs}
    assert all(j.status == "completed" for j in jobs)


def test_isolation_from_four_threads_and_atomic_updates_from_ten() -> None:
    class Check(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input", max_queue_length=100_000)

            def logic(slot_data, message, ws):
                job = get_current_job()
                for d in slot_data["input"]:
                    if d["tag"] != job.metadata["tag"]:
                        ws.update("mismatch", lambda o: (o or 0) + 1)

            self.set_logic(logic)

    flow = one_routine("iso", Check())
    with Runtime() as rt:
        ws = rt.exec(flow)

        def poster(t: int) -> None:
            for k in range(750):
                tag = f"{t}-{k}"
                rt.post(flow, "r", "input", {"tag": tag}, metadata={"tag": tag})

        threads = [threading.Thread(target=poster, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert rt.wait_until_all_jobs_finished(30)
        assert rt.job_counts()["completed"] == 3000
    assert ws.get_routine_state("mismatch") is None

    state = WorkerState("w", "f")

    def bump() -> None:
        for _ in range(500):
            state.update("n", lambda old: (old or 0) + 1)

    threads = [threading.Thread(target=bump) for _ in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert state.get_routine_state("n") == 5000


def test_one_worker_per_flow_unless_asked_and_posts_reuse_it() -> None:
    flow = one_routine("reuse", Collect())
    before = threading.active_count()
    with Runtime() as rt:
        first = rt.exec(flow)
        assert rt.exec(flow) is first
        for k in range(50):
            ws, _ = rt.post(flow, "r", "input", k)
            assert ws is first
        extra = rt.exec(flow, new_worker=True)
        assert extra is not first and len(rt.workers(flow)) == 2
        ws, _ = rt.post(flow, "r", "input", 1, worker_id=extra.worker_id)
        assert ws is extra
        assert rt.wait_until_all_jobs_finished(10)
        assert threading.active_count() - before <= 4  # two workers, no thread per post


def test_a_full_slot_makes_post_wait_or_raise_with_nothing_enqueued() -> None:
    release = threading.Event()

    class Slow(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input", max_queue_length=2)
            self.set_logic(lambda d, m, s: release.wait(10))

    flow = one_routine("full", Slow())
    with Runtime() as rt:
        rt.post(flow, "r", "input", 0)  # taken by the worker, which then waits
        time.sleep(0.2)
        rt.post(flow, "r", "input", 1)
        rt.post(flow, "r", "input", 2)  # the slot is full now
        before = rt.job_counts()
        with pytest.raises(QueueFullError, match="nothing was enqueued"):
            rt.post(flow, "r", "input", 3, timeout=0.2)
        assert rt.job_counts() == before  # the refused job was never registered
        done = threading.Event()

        def blocked() -> None:
            rt.post(flow, "r", "input", 4)  # waits for room
            done.set()

        threading.Thread(target=blocked).start()
        assert not done.wait(0.3)
        release.set()
        assert done.wait(10)
        assert rt.wait_until_all_jobs_finished(10)
        assert rt.job_counts()["completed"] == 4


def test_batch_size_policy_runs_leftovers_so_every_job_completes() -> None:
    routine = Collect(batch_size_policy(3))
    flow = one_routine("batch", routine)
    with Runtime() as rt:
        ws = rt.exec(flow)
        job = None
        for k in range(7):
            _, job = rt.post(flow, "r", "input", k, job_id="J")  # one job, seven items
        assert rt.wait_until_all_jobs_finished(10)
        assert job is not None and job.status == "completed"
    sizes = sorted(len(d["input"]) for _, d, _ in ws.get_routine_state("seen"))
    assert sum(sizes) == 7 and max(sizes) <= 3


def test_all_slots_ready_and_time_interval_policies() -> None:
    flow = one_routine("ready", Collect(all_slots_ready_policy(), slots=("a", "b")))
    with Runtime() as rt:
        ws = rt.exec(flow)
        rt.post(flow, "r", "a", 1, job_id="J")
        rt.post(flow, "r", "b", 2, job_id="J")
        assert rt.wait_until_all_jobs_finished(10)
    assert [d for _, d, _ in ws.get_routine_state("seen")] == [{"a": [1], "b": [2]}]

    flow = one_routine("timed", Collect(time_interval_policy(0.2)))
    with Runtime() as rt:
        ws = rt.exec(flow)
        t0 = time.monotonic()
        rt.post(flow, "r", "input", 1)
        assert rt.wait_until_all_jobs_finished(10)
        assert time.monotonic() - t0 >= 0.1  # it waited for the interval


def test_a_custom_policy_sees_job_and_data_pairs() -> None:
    def pairs(slots, worker_state):
        items = slots["input"]
        if len(items) >= 2 and items[0][0] == items[1][0]:
            return True, {"input": [items[0][1], items[1][1]]}, "pair"
        return False, {}, None

    flow = one_routine("pairs", Collect(pairs))
    with Runtime() as rt:
        ws = rt.exec(flow)
        for k in range(4):
            rt.post(flow, "r", "input", k, job_id="P")
        assert rt.wait_until_all_jobs_finished(10)
    assert [(d["input"], m) for _, d, m in ws.get_routine_state("seen")] == [([0, 1], "pair"), ([2, 3], "pair")]


def test_retention_keeps_counts_and_drops_old_jobs() -> None:
    flow = one_routine("retain", Collect())
    with Runtime(keep_finished=5) as rt:
        jobs = [rt.post(flow, "r", "input", k)[1] for k in range(50)]
        assert rt.wait_until_all_jobs_finished(10)
        assert rt.job_counts()["completed"] == 50
        assert len(rt.list_jobs()) == 5
        assert rt.get_job(jobs[0].job_id) is None and rt.get_job(jobs[-1].job_id) is jobs[-1]


def test_shutdown_drains_or_cancels_and_then_refuses_posts() -> None:
    gate = threading.Event()

    class Gate(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input")
            self.set_logic(lambda d, m, s: gate.wait(10))

    flow = one_routine("gate", Gate())
    rt = Runtime()
    jobs = [rt.post(flow, "r", "input", k)[1] for k in range(5)]
    time.sleep(0.1)
    gate.set()
    rt.shutdown(wait=True)
    assert all(j.status == "completed" for j in jobs)
    with pytest.raises(RuntimeClosedError):
        rt.post(flow, "r", "input", 1)

    gate.clear()
    rt = Runtime()
    jobs = [rt.post(flow, "r", "input", k)[1] for k in range(5)]
    time.sleep(0.1)
    threading.Timer(0.3, gate.set).start()
    rt.shutdown(wait=False)
    statuses = [j.status for j in jobs]
    assert statuses.count("cancelled") >= 3  # the first may have been running
    assert rt.job_counts()["cancelled"] == statuses.count("cancelled")


def test_flows_by_name_and_clear_errors() -> None:
    flow = one_routine("named", Collect())
    FlowRegistry.get_instance().register_by_name("named", flow)
    with Runtime() as rt:
        ws = rt.exec("named")
        assert ws.flow_id == "named" and ws.status == "running"
        with pytest.raises(KeyError, match="did you mean 'named'"):
            rt.exec("nmaed")
        with pytest.raises(KeyError, match="has no routine 'x'"):
            rt.post("named", "x", "input", 1)
        with pytest.raises(KeyError, match="has no slot 'inptu'"):
            rt.post("named", "r", "inptu", 1)
    with pytest.raises(ValueError, match="has no event 'nope'"):
        flow.connect("r", "nope", "r", "input")


# --------------------------------------------------------------------------- network flows


def test_a_network_flow_runs_many_jobs_together_and_splits_results_exactly() -> None:
    import pyarrow as pa

    from examples.seed_network import create_streaming_fsm_config
    from streamkit import SimpleFSM
    from streamkit.runtime import NetworkFlow

    flow = NetworkFlow(create_streaming_fsm_config(), "seed-jobs")
    alone = SimpleFSM(create_streaming_fsm_config())
    posted: list[tuple[Any, Any]] = []
    lock = threading.Lock()

    def records(t: int, k: int) -> list[dict[str, Any]]:
        base = t * 10_000 + k * 50
        return [
            {"id": base + i, "value": None if i % 13 == 0 else (base + i) % 40 - 3, "category": "ab"[i % 2]}
            for i in range(1 + (k % 50))
        ]

    with Runtime() as rt:

        def poster(t: int) -> None:
            for k in range(60):
                recs = records(t, k)
                data = pa.Table.from_pylist(recs) if k % 2 else recs  # tables and lists of dicts alike
                _, job = rt.post(flow, data, metadata={"t": t})
                with lock:
                    posted.append((job, recs))

        threads = [threading.Thread(target=poster, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert rt.wait_until_all_jobs_finished(60)
        # a job whose records are not one table (mixed types in a field) runs alone, as process() reads it
        _, messy = rt.post(flow, [{"id": 1, "value": 5, "category": "a"}, {"id": 2, "value": "x", "category": 3}])
        assert rt.wait_until_all_jobs_finished(60)
        assert rt.job_counts()["completed"] == 241

    def rows(table: Any) -> list[dict[str, Any]]:  # null == missing (the record model): a null column is no field
        return [{k: v for k, v in r.items() if v is not None} for r in table.to_pylist()]

    for job, recs in posted:
        want = alone.process(recs)
        got = job.result
        assert job.status == "completed"
        for state in want.end_states:
            assert rows(got.output(state)) == rows(want.output(state))
        assert rows(got.errors()) == rows(want.errors())
        assert got.status_counts() == want.status_counts() and got.total_records == len(recs)
    assert messy.result.total_records == 2 and messy.result.failed >= 1


def test_a_network_flow_post_takes_records_only() -> None:
    from examples.seed_network import create_streaming_fsm_config
    from streamkit.runtime import NetworkFlow

    flow = NetworkFlow(create_streaming_fsm_config(), "seed-args")
    with Runtime() as rt, pytest.raises(TypeError, match="a network flow takes records"):
        rt.post(flow, "r", "input", {"x": 1})


def test_a_job_stays_on_its_worker() -> None:
    gate = threading.Event()

    class Gate(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input")
            self.set_logic(lambda d, m, s: gate.wait(10))

    flow = one_routine("stay", Gate())
    with Runtime() as rt:
        first = rt.exec(flow)
        other = rt.exec(flow, new_worker=True)
        ws, job = rt.post(flow, "r", "input", 1, worker_id=other.worker_id, job_id="J")
        assert ws is other and not job.finished  # held at the gate
        ws, same = rt.post(flow, "r", "input", 2, job_id="J")  # joins J where J runs, not the flow's first worker
        assert ws is other and same is job and first is not other
        with pytest.raises(ValueError, match="runs on worker"):
            rt.post(flow, "r", "input", 3, worker_id=first.worker_id, job_id="J")
        gate.set()
        assert rt.wait_until_all_jobs_finished(10)
        assert job.status == "completed" and rt.job_counts()["completed"] == 1


def test_counts_add_up_under_posts_from_many_threads() -> None:
    flow = one_routine("many", Collect())
    with Runtime() as rt:
        rt.exec(flow)
        seen: list[int] = []

        def poster() -> None:
            for k in range(500):
                rt.post(flow, "r", "input", k)
                if k % 100 == 0:
                    c = rt.job_counts()
                    seen.append(sum(c.values()))

        threads = [threading.Thread(target=poster) for _ in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert rt.wait_until_all_jobs_finished(30)
        assert rt.job_counts() == {"pending": 0, "running": 0, "completed": 4000, "failed": 0, "cancelled": 0}
        assert all(0 < s <= 4000 for s in seen)


def test_retention_by_age() -> None:
    flow = one_routine("aged", Collect())
    with Runtime(keep_finished=1000, keep_for=0.2) as rt:
        first = [rt.post(flow, "r", "input", k)[1] for k in range(5)]
        assert rt.wait_until_all_jobs_finished(10)
        assert rt.get_job(first[0].job_id) is first[0]
        time.sleep(0.3)
        later = rt.post(flow, "r", "input", 9)[1]
        assert rt.wait_until_all_jobs_finished(10)
        assert rt.get_job(first[0].job_id) is None and rt.get_job(later.job_id) is later
        assert [j.job_id for j in rt.list_jobs()] == [later.job_id]
        assert rt.job_counts()["completed"] == 6
    with pytest.raises(ValueError, match="keep_for must be"):
        Runtime(keep_for=-1)


def test_get_current_job_per_record_inside_a_network_flow_run_of_many_jobs() -> None:
    """Records of many jobs run as one batch; Python transforms and events (inline and in a thread pool)
    each see the job of the record they run on, and so does the event's execution context."""
    from concurrent.futures import ThreadPoolExecutor

    from streamkit.events import EventBase
    from streamkit.runtime import NetworkFlow

    def tag(state: Any) -> dict[str, Any]:
        job = get_current_job()
        return {**state.data, "py_job": None if job is None else job.job_id}

    class Inline(EventBase):
        def process(self, id: int) -> tuple[bool, Any]:
            job = get_current_job()
            ctx_job = self.execution_context.job
            return True, {"ev_job": job.job_id, "ctx_job": ctx_job.job_id}

    class Pooled(EventBase):
        executor = ThreadPoolExecutor
        executor_config = {"max_workers": 3}

        def process(self, id: int) -> tuple[bool, Any]:
            return True, {"pool_job": get_current_job().job_id}

    cfg = {
        "name": "whose",
        "networks": [
            {
                "name": "main",
                "states": [
                    {"name": "start", "is_start": True, "functions": {"transform": tag}},
                    {"name": "inline", "event": Inline},
                    {"name": "pooled", "event": Pooled},
                    {"name": "done", "is_end": True},
                ],
                "arcs": [
                    {"from": "start", "to": "inline"},
                    {"from": "inline", "to": "pooled"},
                    {"from": "pooled", "to": "done"},
                ],
            }
        ],
    }
    flow = NetworkFlow(cfg, "whose", linger=0.05)
    posted = []
    with Runtime() as rt:
        for k in range(40):
            _, job = rt.post(flow, [{"id": k * 100 + i} for i in range(1 + k % 7)])
            posted.append(job)
        assert rt.wait_until_all_jobs_finished(60)
    batched = 0
    for job in posted:
        out = job.result.output("done").to_pylist()
        assert len(out) == job.result.total_records and job.result.failed == 0
        for r in out:
            assert r["py_job"] == r["ev_job"] == r["ctx_job"] == r["pool_job"] == job.job_id, r
        batched += len(out)
    assert batched == sum(1 + k % 7 for k in range(40))
    assert get_current_job() is None
