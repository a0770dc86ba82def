"""Events run over records (seed 003, SEED-APIS.md § 003): binding, results, failures, retries, executors."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from streamkit.events import EventBase, EventExecutionEvaluationState, event
from streamkit.events.runner import NO_GOTO, merge_result, run_events


class _Clock:
    """A clock that moves only when slept on: waits are exact and tests take no time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(round(s, 9))
        self.now += s


def _run(ev: EventBase, records: list[dict[str, Any]], **kw: Any) -> list[Any]:
    fields = sorted({k for r in records for k in r})
    return run_events([ev], records, fields, **kw)


# --------------------------------------------------------------------------- binding and results


def test_parameters_bind_by_field_name_then_the_whole_record_then_kwargs() -> None:
    seen: list[tuple] = []

    class E(EventBase):
        def process(self, amount, record, currency="EUR", **rest):
            seen.append((amount, record, currency, rest))
            return True, None

    _run(E(), [{"amount": 5, "user": "ada", "note": None}])
    # note is null: the record holds only non-null fields, and **rest gets the fields no parameter named
    assert seen == [(5, {"amount": 5, "user": "ada"}, "EUR", {"user": "ada"})]


def test_a_field_that_is_null_is_passed_as_none() -> None:
    class E(EventBase):
        def process(self, amount):
            return True, {"was_none": amount is None}

    (o,) = run_events([E()], [{}], ["amount"])
    assert o.ok and o.data == {"was_none": True}


def test_a_required_parameter_that_names_no_field_fails_the_record_naming_it() -> None:
    class E(EventBase):
        def process(self, record, customer_id):
            return True, None

    (o,) = _run(E(), [{"x": 1}])
    assert not o.ok and o.error_type == "TypeError" and "'customer_id'" in o.message


def test_results_merge_into_the_record_or_go_to_the_result_field() -> None:
    assert merge_result({"a": 1, "b": 2}, {"b": 3, "c": None}, "result") == {"a": 1, "b": 3}
    assert merge_result({"a": 1}, "done", "result") == {"a": 1, "result": "done"}
    assert merge_result({"a": 1, "result": 0}, None, "result") == {"a": 1}

    class E(EventBase):
        result_field = "status"

        def process(self, x):
            return True, f"saw {x}"

    (o,) = _run(E(), [{"x": 1}])
    assert o.ok and o.data == {"x": 1, "status": "saw 1"}


def test_false_fails_with_event_failed_and_the_message() -> None:
    class E(EventBase):
        def process(self, x):
            return False, "Email is required"

    (o,) = _run(E(), [{"x": 1}])
    assert (o.ok, o.error_type, o.message, o.attempts, o.retries) == (False, "EventFailed", "Email is required", 1, 0)
    assert o.data == {"x": 1, "result": "Email is required"}  # what a failure arc receives


def test_a_result_that_is_not_a_pair_is_a_type_error() -> None:
    class E(EventBase):
        def process(self, x):
            return "oops"

    (o,) = _run(E(), [{"x": 1}])
    assert not o.ok and o.error_type == "TypeError" and "must return (ok, result)" in o.message


def test_bypass_skips_process_and_merges_its_data() -> None:
    calls = []

    class E(EventBase):
        def can_bypass_current_event(self):
            if self._execution_context.role == "admin":
                return True, {"bypass_reason": "admin"}
            return False, None

        def process(self, role):
            calls.append(role)
            return True, {"validated": True}

    out = _run(E(), [{"role": "admin"}, {"role": "user"}])
    assert [o.data for o in out] == [{"role": "admin", "bypass_reason": "admin"}, {"role": "user", "validated": True}]
    assert calls == ["user"] and all(o.ok for o in out)


def test_goto_leaves_process_with_its_descriptor_and_result() -> None:
    class E(EventBase):
        def process(self, data):
            if data.get("type") == "premium":
                self.goto(descriptor=101, result_status=True, result={"tier": "p"}, reason="premium")
            return True, {"tier": "regular"}

    premium, regular = _run(E(), [{"type": "premium"}, {"type": "basic"}])
    assert premium.goto == 101 and premium.ok and premium.data == {"type": "premium", "tier": "p"}
    assert regular.goto is NO_GOTO and regular.data["tier"] == "regular"


def test_the_execution_context_shows_the_record_state_and_row() -> None:
    seen = []

    class E(EventBase):
        def process(self, record):
            c = self.execution_context
            seen.append((c.state, c.row, c.x, c.missing, self._execution_context["x"]))
            return True, None

    run_events([E()], [{"x": 7}, {"x": 8}], ["x"], state="enrich", rows=[10, 11])
    assert seen == [("enrich", 10, 7, None, 7), ("enrich", 11, 8, None, 8)]


def test_event_decorator_and_the_seeds_stop_on_error_pattern() -> None:
    @event()
    def my_event(input_data, *args, **kwargs):
        return True, {"n": len(input_data)}

    (o,) = _run(my_event(), [{"a": 1, "b": 2}])
    assert o.data == {"a": 1, "b": 2, "n": 2}

    class MyCustomEvent(EventBase):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, stop_on_error=True, **kwargs)

        def process(self, *args, **kwargs):
            if kwargs.get("fail", False):
                return False, "Something went wrong"
            return True, "Event processed successfully"

    ev = MyCustomEvent()
    assert ev.stop_on_error and not ev.stop_on_success
    ok, bad = _run(ev, [{"fail": False}, {"fail": True}])  # fields become keyword arguments
    assert ok.ok and not bad.ok and bad.message == "Something went wrong"


# --------------------------------------------------------------------------- retries


def test_retries_wait_1_2_4_and_not_after_the_last_attempt() -> None:
    clock = _Clock()

    class Flaky(EventBase):
        retry_policy = {"max_attempts": 4, "backoff_factor": 1.0, "max_backoff": 10.0}

        def process(self, x):
            raise ConnectionError("down")

    (o,) = _run(Flaky(), [{"x": 1}], clock=clock, sleep=clock.sleep)
    assert clock.slept == [1.0, 2.0, 4.0]
    assert (o.ok, o.error_type, o.message, o.attempts, o.retries) == (False, "ConnectionError", "down", 4, 3)


class _NetError(Exception):
    pass


class _Timeout(_NetError):
    pass


def test_subclasses_are_retried_and_other_exceptions_are_not() -> None:
    tries: dict[int, int] = {}

    class E(EventBase):
        retry_policy = {"max_attempts": 3, "backoff_factor": 0.0, "retry_on_exceptions": [_NetError]}

        def process(self, k):
            tries[k] = tries.get(k, 0) + 1
            if k == 0:
                raise _Timeout("slow")  # a subclass: retried
            raise KeyError("k")  # not listed: fails at once

    out = _run(E(), [{"k": 0}, {"k": 1}])
    assert tries == {0: 3, 1: 1}
    assert [o.error_type for o in out] == ["_Timeout", "KeyError"]


def test_a_record_that_recovers_succeeds_with_its_attempts_counted() -> None:
    tries: dict[int, int] = {}

    class E(EventBase):
        retry_policy = {"max_attempts": 3, "backoff_factor": 0.0}

        def process(self, k):
            tries[k] = tries.get(k, 0) + 1
            if tries[k] < 3:
                raise OSError("again")
            return True, {"done": tries[k]}

    (o,) = _run(E(), [{"k": 0}])
    assert o.ok and o.data == {"k": 0, "done": 3} and o.attempts == 3 and o.retries == 2


def test_a_failed_result_is_never_retried() -> None:
    calls = []

    class E(EventBase):
        retry_policy = {"max_attempts": 5, "backoff_factor": 0.0}

        def process(self, x):
            calls.append(x)
            return False, "no"

    (o,) = _run(E(), [{"x": 1}])
    assert calls == [1] and o.attempts == 1 and o.error_type == "EventFailed"


def test_a_record_waiting_for_its_backoff_does_not_hold_up_the_others() -> None:
    clock = _Clock()
    order: list[tuple[int, float]] = []

    class E(EventBase):
        retry_policy = {"max_attempts": 2, "backoff_factor": 5.0}

        def process(self, k):
            order.append((k, clock.now))
            if k == 0 and clock.now == 0.0:
                raise OSError("first try fails")
            return True, None

    _run(E(), [{"k": k} for k in range(4)], clock=clock, sleep=clock.sleep)
    # records 1-3 run before record 0's retry, which waits its 5 s once, not per record
    assert order == [(0, 0.0), (1, 0.0), (2, 0.0), (3, 0.0), (0, 5.0)]
    assert clock.slept == [5.0]


# --------------------------------------------------------------------------- executors and groups


def test_a_thread_pool_runs_records_at_once() -> None:
    class Slow(EventBase):
        def process(self, x):
            time.sleep(0.02)
            return True, {"thread": threading.current_thread().name}

    records = [{"x": i} for i in range(320)]
    with ThreadPoolExecutor(max_workers=32, thread_name_prefix="ev_") as pool:
        t0 = time.perf_counter()
        out = run_events([Slow()], records, ["x"], pools={0: pool})
        took = time.perf_counter() - t0
    assert took < 1.5  # 6.4 s one at a time; ~0.2 s with 32 threads (generous for a busy machine)
    assert all(o.ok and o.data["thread"].startswith("ev_") for o in out)
    assert [o.data["x"] for o in out] == list(range(320))


def test_retries_in_a_thread_pool_do_not_sleep_in_its_threads() -> None:
    tries: dict[int, int] = {}
    lock = threading.Lock()

    class E(EventBase):
        retry_policy = {"max_attempts": 3, "backoff_factor": 0.2}

        def process(self, k):
            with lock:
                tries[k] = tries.get(k, 0) + 1
                n = tries[k]
            if k % 10 == 0 and n < 3:
                raise OSError("flaky")
            return True, None

    records = [{"k": k} for k in range(200)]  # 20 fail twice, then succeed
    with ThreadPoolExecutor(max_workers=8) as pool:
        t0 = time.perf_counter()
        out = run_events([E()], records, ["k"], pools={0: pool})
        took = time.perf_counter() - t0
    assert all(o.ok for o in out)
    assert sum(o.retries for o in out) == 40
    assert took < 2.0  # the waits (0.2 + 0.4 s) overlap: ~0.6 s


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (EventExecutionEvaluationState.SUCCESS_ON_ALL_EVENTS_SUCCESS, [True, False, False]),
        (EventExecutionEvaluationState.SUCCESS_FOR_PARTIAL_SUCCESS, [True, True, False]),
    ],
)
def test_a_parallel_group_merges_in_order_and_decides_by_its_state(
    state: EventExecutionEvaluationState, expected: list[bool]
) -> None:
    class A(EventBase):
        def process(self, x):
            return x >= 1, {"a": x, "who": "a"}

    class B(EventBase):
        def process(self, x):
            return x >= 2, {"b": x, "who": "b"}

    out = run_events([A(), B()], [{"x": 2}, {"x": 1}, {"x": 0}], ["x"], evaluation=state)
    assert [o.ok for o in out] == expected
    assert out[0].data == {"x": 2, "a": 2, "b": 2, "who": "b"}  # later events' fields win


def test_a_thread_pool_attempt_sees_the_callers_context_variables() -> None:
    import contextvars

    var: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")

    class Who(EventBase):
        def process(self, x):
            return True, {"who": var.get()}

    token = var.set("job-7")
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            out = run_events([Who()], [{"x": k} for k in range(20)], ["x"], pools={0: pool})
    finally:
        var.reset(token)
    assert {o.data["who"] for o in out} == {"job-7"}
