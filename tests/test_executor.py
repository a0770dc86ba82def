"""streamkit.executor: events, the executor's batches and statuses, against a plain-Python model.

The differential test drives an executor and a naive model (a dict of
statuses, a list per status, a queue as a list) with the same random
appends, starts, batches, failures, removals and cleanups, and compares every
count, every status list (in order) and every event's status after each step.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamkit.executor import Event, EventStatus, Executor, ExecutorError, Processor, QueueFullError

STATUSES = list(EventStatus)


class Job(Event):
    """Returns its number, or raises when told to."""

    n: int = 0
    fail: bool = False

    async def _invoke(self) -> int:
        if self.fail:
            msg = f"job {self.n} failed"
            raise RuntimeError(msg)
        return self.n


class Gate(Event):
    """Waits on a shared gate; counts how many run at once and which tasks ran it."""

    gate: Any = None
    box: dict[str, Any] = {}

    async def _invoke(self) -> str:
        box = self.box
        box["running"] = box.get("running", 0) + 1
        box["peak"] = max(box.get("peak", 0), box["running"])
        box.setdefault("tasks", set()).add(asyncio.current_task())
        started = box.get("started")
        if started is not None and box["running"] >= box.get("want", 1):
            started.set()
        try:
            await self.gate.wait()
        finally:
            box["running"] -= 1
        return "opened"


class JobProcessor(Processor):
    event_type: ClassVar[type[Event]] = Job


class JobExecutor(Executor):
    processor_type: ClassVar[type[Processor]] = JobProcessor


# --------------------------------------------------------------------------- the differential test


class Model:
    """The executor as the seed describes it, naively: a status per event, a list per status, a queue."""

    def __init__(self, capacity: int, max_queue: int | None) -> None:
        self.capacity, self.max_queue = capacity, max_queue
        self.status: dict[int, EventStatus] = {}
        self.lists: dict[EventStatus, list[int]] = {s: [] for s in EventStatus}
        self.fail: dict[int, bool] = {}
        self.queue: list[tuple[tuple[int, float, int], int]] = []  # (sort key, id)
        self.started = False
        self.seq = 0

    def move(self, i: int, to: EventStatus) -> None:
        self.lists[self.status[i]].remove(i)
        self.status[i] = to
        self.lists[to].append(i)

    def append(self, i: int, *, fail: bool, priority: float | None) -> bool:
        if self.max_queue is not None and len(self.lists[EventStatus.PENDING]) >= self.max_queue:
            return False
        self.status[i], self.fail[i] = EventStatus.PENDING, fail
        self.lists[EventStatus.PENDING].append(i)
        self.seq += 1
        key = (1, 0.0, self.seq) if priority is None else (0, priority, self.seq)
        self.queue.append((key, i))
        return True

    def forward(self) -> None:
        live = sorted(q for q in self.queue if self.status.get(q[1]) is EventStatus.PENDING)
        batch = [i for _, i in live[: self.capacity]]
        self.queue = live[self.capacity :]
        for i in batch:
            self.move(i, EventStatus.PROCESSING)
        for i in batch:
            self.move(i, EventStatus.FAILED if self.fail[i] else EventStatus.COMPLETED)

    def remove(self, i: int) -> None:
        self.lists[self.status.pop(i)].remove(i)

    def cleanup(self, statuses: list[EventStatus]) -> int:
        gone = [i for s in statuses for i in self.lists[s]]
        for i in gone:
            self.remove(i)
        return len(gone)


OPS = st.one_of(
    st.tuples(
        st.just("append"),
        st.lists(st.tuples(st.booleans(), st.none() | st.integers(0, 3)), min_size=1, max_size=8),
    ),
    st.tuples(st.just("start"), st.none()),
    st.tuples(st.just("forward"), st.none()),
    st.tuples(st.just("remove"), st.integers(0, 1000)),
    st.tuples(st.just("cleanup"), st.lists(st.sampled_from(STATUSES), min_size=1, max_size=3, unique=True)),
)


def _compare(executor: Executor, model: Model, events: dict[int, Job]) -> None:
    assert executor.status_counts() == {s.value: len(model.lists[s]) for s in EventStatus}
    for s in EventStatus:
        assert [e.n for e in executor.get_events_by_status(s)] == model.lists[s], s
        assert len(executor.states.get_progression(s.value)) == len(model.lists[s])
    for i, e in events.items():
        if i in model.status:
            assert e.status is model.status[i] and e in executor
            assert e.id in executor.states.get_progression(model.status[i].value)
        else:
            assert e not in executor and e.id not in executor.states.items
    assert len(executor) == len(model.status)


@settings(max_examples=150)
@given(
    ops=st.lists(OPS, max_size=25),
    capacity=st.integers(1, 6),
    max_queue=st.none() | st.integers(1, 12),
)
def test_counts_and_lists_agree_with_a_naive_model(
    ops: list[tuple[str, Any]], capacity: int, max_queue: int | None
) -> None:
    async def run() -> None:
        config = {"queue_capacity": capacity, "max_queue_size": max_queue}
        executor, model = JobExecutor(processor_config=config), Model(capacity, max_queue)
        events: dict[int, Job] = {}
        for op, arg in ops:
            if op == "append":
                for fail, priority in arg:
                    i = len(events)
                    events[i] = event = Job(n=i, fail=fail)
                    if model.append(i, fail=fail, priority=priority):
                        await executor.append(event, priority=priority)
                    else:
                        with pytest.raises(QueueFullError):
                            await executor.append(event, priority=priority)
            elif op == "start":
                await executor.start()
                model.started = True
            elif op == "forward":
                if model.started:
                    await executor.forward()
                    model.forward()
                else:
                    with pytest.raises(ExecutorError, match="is not started"):
                        await executor.forward()
            elif op == "remove" and model.status:
                i = sorted(model.status)[arg % len(model.status)]
                assert executor.states.remove_item(events[i].id) is events[i]
                model.remove(i)
            elif op == "cleanup":
                assert await executor.cleanup_events(arg) == model.cleanup(arg)
            _compare(executor, model, events)

    asyncio.run(run())


# --------------------------------------------------------------------------- events


def test_invoke_runs_once_for_concurrent_callers() -> None:
    calls = []

    class Once(Event):
        async def _invoke(self) -> str:
            calls.append(1)
            await gate.wait()
            return "result"

    gate: asyncio.Event

    async def run() -> tuple[list[Any], int]:
        nonlocal gate
        gate = asyncio.Event()
        event = Once()
        tasks = [asyncio.create_task(event.invoke()) for _ in range(10)]
        waiting = []

        async def release() -> None:
            waiting.append(len(event._waiters or []))
            gate.set()

        await asyncio.create_task(release())  # scheduled after the ten: each has reached its first await
        return await asyncio.gather(*tasks), waiting[0]

    results, waiting = asyncio.run(run())
    assert results == ["result"] * 10 and calls == [1] and waiting == 9


def test_invoke_records_failure_and_returns_the_recorded_outcome_later() -> None:
    event = Job(n=1, fail=True)
    assert asyncio.run(event.invoke()) is None
    ex = event.execution
    assert event.status is EventStatus.FAILED and ex.status is EventStatus.FAILED
    assert isinstance(ex.error, RuntimeError) and str(ex.error) == "job 1 failed"
    assert ex.retryable is True and ex.duration is not None and ex.duration >= 0
    assert asyncio.run(event.invoke()) is None  # not run again
    ok = Job(n=7)
    assert asyncio.run(ok.invoke()) == 7 and ok.execution.retryable is False and ok.response == 7


def test_timeout_cancels_the_event() -> None:
    class Slow(Event):
        async def _invoke(self) -> None:
            await asyncio.Event().wait()  # never set

    event = Slow(timeout=0.05)
    assert asyncio.run(event.invoke()) is None
    assert event.status is EventStatus.CANCELLED
    assert isinstance(event.execution.error, TimeoutError) and event.execution.retryable is True
    assert str(event.execution.error) == "`Slow` ran past its timeout of 0.05 s"


def test_a_timed_out_event_in_an_executor_ends_cancelled() -> None:
    class Slow(Event):
        async def _invoke(self) -> None:
            await asyncio.Event().wait()

    async def run() -> Executor:
        executor = Executor()
        await executor.append(Slow(timeout=0.05))
        await executor.append(Job(n=1))
        await executor.start()
        await executor.forward()
        return executor

    executor = asyncio.run(run())
    assert executor.status_counts()["cancelled"] == 1 and executor.status_counts()["completed"] == 1


def test_fields_are_keywords_checked_and_copied() -> None:
    class Fields(Event):
        name: str = "event"
        tags: list[str] = []
        kind: ClassVar[str] = "not a field"
        required: int

    a, b = Fields(required=1), Fields(required=2, name="b")
    a.tags.append("x")
    assert b.tags == [] and a.fields() == {"timeout": None, "name": "event", "tags": ["x"], "required": 1}
    with pytest.raises(TypeError, match=r"^`Fields` has no field 'nme' \(did you mean 'name'\?\): its fields are "):
        Fields(required=1, nme="x")
    with pytest.raises(TypeError, match=r"^`Fields` needs the field 'required' \(a keyword argument\)$"):
        Fields()
    with pytest.raises(TypeError, match=r"^`Fields` takes its fields as keywords"):
        Fields("x")  # type: ignore[misc]
    with pytest.raises(ValueError, match=r"^`Job.timeout` must be a positive, finite number of seconds, got 0$"):
        Job(timeout=0)
    with pytest.raises(TypeError, match=r"^`Bad` declares a field 'status', a name Event uses itself"):

        class Bad(Event):
            status: str = "x"  # type: ignore[assignment]


def test_every_status_is_truthy_and_named() -> None:
    assert all(EventStatus) and EventStatus.COMPLETED.value == "completed"
    assert [s.value for s in EventStatus][:4] == ["pending", "processing", "completed", "failed"]


# --------------------------------------------------------------------------- the executor


def test_update_progression_sees_every_transition_with_the_old_status() -> None:
    class Logging(Executor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.log: list[tuple[int, str, str]] = []

        async def _update_progression(self, event: Event, force_status: EventStatus | None = None) -> None:
            old = event.status
            await super()._update_progression(event, force_status)
            new = force_status if force_status else event.execution.status
            assert event.status is new
            if old != new:
                self.log.append((event.n, old.value, new.value))  # type: ignore[attr-defined]

    async def run() -> Logging:
        executor = Logging(processor_config={"queue_capacity": 5})
        for n in range(3):
            await executor.append(Job(n=n, fail=n == 1))
        await executor.start()
        await executor.forward()
        return executor

    log = asyncio.run(run()).log
    assert sorted(log) == [
        (0, "pending", "processing"),
        (0, "processing", "completed"),
        (1, "pending", "processing"),
        (1, "processing", "failed"),
        (2, "pending", "processing"),
        (2, "processing", "completed"),
    ]


def test_queue_full_leaves_nothing_half_added() -> None:
    async def run() -> None:
        executor = JobExecutor(processor_config={"max_queue_size": 3})
        for n in range(3):
            await executor.append(Job(n=n))
        extra = Job(n=3)
        full = r"^executor 'executor_states' has 3 events waiting \(max_queue_size=3\)"
        with pytest.raises(QueueFullError, match=full):
            await executor.append(extra)
        assert executor.status_counts()["pending"] == 3 and len(executor) == 3 and len(executor.states.items) == 3
        assert extra not in executor and extra.id not in executor.states.get_progression("pending")
        assert extra._tracker is None and extra.status is EventStatus.PENDING
        other = JobExecutor()
        await other.append(extra)  # free to go elsewhere
        await executor.start()
        await executor.forward()
        await executor.append(Job(n=4))  # room again once processed
        assert executor.status_counts()["completed"] == 3 and executor.status_counts()["pending"] == 1

    asyncio.run(run())


def test_ten_thousand_events_with_the_default_config() -> None:
    async def run() -> tuple[Executor, int]:
        executor = Executor()
        for n in range(10_000):
            await executor.append(Job(n=n, fail=n % 1000 == 0))
        await executor.start()
        batches = 0
        while await executor.forward():
            batches += 1
        return executor, batches

    executor, batches = asyncio.run(run())
    assert batches == 10  # queue_capacity 1000
    assert executor.status_counts()["completed"] == 9_990 and len(executor.failed_events) == 10
    assert [e.n for e in executor.failed_events] == list(range(0, 10_000, 1000))


def test_execute_runs_until_stop_and_wakes_for_new_events() -> None:
    async def run() -> Executor:
        done = asyncio.Event()
        seen = []

        class Counted(Event):
            async def _invoke(self) -> None:
                seen.append(1)
                if len(seen) == 2_500:
                    done.set()

        executor = Executor()
        task = asyncio.create_task(executor.execute())
        for _ in range(2_500):
            await executor.append(Counted())
        await done.wait()
        await executor.stop()
        await task
        return executor

    executor = asyncio.run(run())
    assert executor.status_counts()["completed"] == 2_500


def test_trivial_events_need_no_task_and_slow_ones_get_up_to_the_limit() -> None:
    async def run(limit: int, *, gate_open: bool) -> dict[str, Any]:
        box: dict[str, Any] = {}
        gate = asyncio.Event()
        if gate_open:
            gate.set()
        executor = Executor(processor_config={"concurrency_limit": limit})
        for _ in range(10):
            await executor.append(Gate(gate=gate, box=box))
        await executor.start()
        box["started"], box["want"] = asyncio.Event(), limit
        forward = asyncio.create_task(executor.forward())
        if not gate_open:
            await box["started"].wait()
            gate.set()
        assert await forward == 10
        assert executor.status_counts()["completed"] == 10
        return box

    open_box = asyncio.run(run(4, gate_open=True))
    assert len(open_box["tasks"]) == 1 and open_box["peak"] == 1  # all in the caller's task
    slow_box = asyncio.run(run(3, gate_open=False))
    assert slow_box["peak"] == 3 and len(slow_box["tasks"]) == 3


def test_a_cancelled_batch_puts_unstarted_events_back() -> None:
    async def run() -> None:
        box: dict[str, Any] = {}
        gate = asyncio.Event()
        executor = Executor(processor_config={"concurrency_limit": 2})
        events = [Gate(gate=gate, box=box) for _ in range(5)]
        for e in events:
            await executor.append(e)
        await executor.start()
        box["started"], box["want"] = asyncio.Event(), 2
        forward = asyncio.create_task(executor.forward())
        await box["started"].wait()
        forward.cancel()
        with pytest.raises(asyncio.CancelledError):
            await forward
        counts = executor.status_counts()
        assert counts["cancelled"] == 2 and counts["pending"] == 3 and counts["processing"] == 0
        assert [e.status for e in events[:2]] == [EventStatus.CANCELLED] * 2
        gate.set()
        assert await executor.forward() == 3
        assert executor.get_events_by_status("completed") == events[2:]

    asyncio.run(run())


def test_priorities_go_first_then_append_order() -> None:
    async def run() -> list[int]:
        executor = JobExecutor(processor_config={"queue_capacity": 100})
        await executor.append(Job(n=0))
        await executor.append(Job(n=1), priority=5)
        await executor.start()
        await executor.append(Job(n=2))
        await executor.append(Job(n=3), priority=1)
        await executor.append(Job(n=4), priority=5)
        await executor.forward()
        return [e.n for e in executor.completed_events]

    assert asyncio.run(run()) == [3, 1, 4, 0, 2]


def test_cleanup_and_membership() -> None:
    async def run() -> None:
        executor = JobExecutor(processor_config={"queue_capacity": 4}, name="jobs")
        events = [Job(n=n, fail=n == 2) for n in range(6)]
        for e in events:
            await executor.append(e)
        await executor.start()
        await executor.forward()
        assert repr(executor) == "JobExecutor(name='jobs', total=6, pending=2, completed=3, failed=1)"
        assert await executor.cleanup_events() == 4  # completed, failed, aborted
        assert repr(executor) == "JobExecutor(name='jobs', total=2, pending=2)"
        assert events[0] not in executor and events[4] in executor and events[4].id in executor
        await executor.append(events[0])  # a removed event may come back (it keeps its status)
        assert executor.completed_events == [events[0]]
        assert executor.states._index.cleaned_counts()["completed"] == 3

    asyncio.run(run())


def test_wrong_use_is_a_clear_error() -> None:
    async def run() -> None:
        executor = JobExecutor()
        with pytest.raises(TypeError, match=r"^flow 'executor_states' holds `Job` items, got Event\("):
            await executor.append(Event())
        job = Job()
        await executor.append(job)
        with pytest.raises(ValueError, match=r"is in flow 'executor_states' already$"):
            await executor.append(job)
        with pytest.raises(ValueError, match=r"is tracked by 'other' already: an event is in one executor at a time$"):
            other = JobExecutor(name="other")
            await other.append(moved := Job())
            await executor.append(moved)
        with pytest.raises(ValueError, match=r"it changes through that executor"):
            job.status = EventStatus.COMPLETED
        with pytest.raises(ValueError, match=r"^`priority` must be finite, got inf$"):
            await executor.append(Job(), priority=float("inf"))

    asyncio.run(run())
    typo = r"^`processor_config` of Executor has no key 'queue_capcity' \(did you mean 'queue_capacity'\?\)"
    with pytest.raises(TypeError, match=typo):
        Executor(processor_config={"queue_capcity": 5})
    with pytest.raises(ValueError, match=r"^`processor_config\['concurrency_limit'\]` of Executor must be at least 1"):
        Executor(processor_config={"concurrency_limit": 0})


def test_a_failing_hook_leaves_the_batch_queued() -> None:
    class Broken(Executor):
        broken = True

        async def _update_progression(self, event: Event, force_status: EventStatus | None = None) -> None:
            if self.broken and force_status is EventStatus.PROCESSING and event.n == 1:  # type: ignore[attr-defined]
                msg = "hook failed"
                raise RuntimeError(msg)
            await super()._update_progression(event, force_status)

    async def run() -> None:
        executor = Broken()
        for n in range(3):
            await executor.append(Job(n=n))
        await executor.start()
        with pytest.raises(RuntimeError, match=r"^hook failed$"):
            await executor.forward()
        assert executor.status_counts()["pending"] == 3 and executor.status_counts()["processing"] == 0
        executor.broken = False
        assert await executor.forward() == 3
        assert [e.n for e in executor.completed_events] == [0, 1, 2]

    asyncio.run(run())


def test_a_running_event_is_not_appended() -> None:
    async def run() -> None:
        gate = asyncio.Event()
        event = Gate(gate=gate, box={})
        task = asyncio.create_task(event.invoke())
        await asyncio.sleep(0)  # a turn of the loop: the event starts and waits on the gate
        with pytest.raises(ValueError, match=r"is running: append it before it runs or once it has finished$"):
            await Executor().append(event)
        gate.set()
        assert await task == "opened"
        executor = Executor()
        await executor.append(event)
        assert executor.completed_events == [event]

    asyncio.run(run())
