"""Events as states of a network (seed 003 in streamkit, SEED-APIS.md § 003): routing, failures, retries,
goto, bypass, groups, executors, config errors, streams, and agreement with the reference interpreter."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamkit import ConfigError, SimpleFSM, interpret
from streamkit.events import EventBase

pytestmark = pytest.mark.usefixtures("kernel_cache_dir")


def net(states: list[dict[str, Any]], arcs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": "t", "networks": [{"name": "main", "states": states, "arcs": arcs}]}


def charge_net(ev: Any, **state_keys: Any) -> dict[str, Any]:
    """start -> charge (event) -> ok on success, declined on failure."""
    return net(
        [
            {"name": "start", "is_start": True},
            {"name": "charge", "event": ev, **state_keys},
            {"name": "ok", "is_end": True},
            {"name": "declined", "is_end": True},
        ],
        [
            {"from": "start", "to": "charge"},
            {"from": "charge", "to": "ok", "on": "success"},
            {"from": "charge", "to": "declined", "on": "failure"},
        ],
    )


class Charge(EventBase):
    retry_policy = {"max_attempts": 3, "backoff_factor": 0.0, "retry_on_exceptions": [ConnectionError]}

    def process(self, amount, record):
        if amount is None:
            raise ValueError("no amount")
        if amount > 100:
            return False, "over limit"
        if record.get("flaky") and self.execution_context.row is not None:
            raise ConnectionError("gateway down")
        return True, {"charged": amount * 2}


def test_success_and_failure_arcs() -> None:
    r = SimpleFSM(charge_net(Charge)).process([{"id": 1, "amount": 5}, {"id": 2, "amount": 500}, {"id": 3}])
    assert r.end_state_counts == {"ok": 1, "declined": 2}
    assert r.output("ok").to_pylist() == [{"_row": 0, "id": 1, "amount": 5, "charged": 10}]
    declined = r.output("declined").to_pylist()
    assert [(d["id"], d["result"]) for d in declined] == [(2, "over limit"), (3, "no amount")]


def test_without_a_failure_arc_the_record_fails_with_attempts_and_retries_counted() -> None:
    cfg = net(
        [{"name": "start", "is_start": True, "event": Charge}, {"name": "ok", "is_end": True}],
        [{"from": "start", "to": "ok"}],
    )
    records = [{"amount": 5}, {"amount": 500}, {"amount": 7, "flaky": True}, {}]
    r = SimpleFSM(cfg).process(records)
    assert (r.successful, r.failed) == (1, 3)
    errors = {e["_row"]: e for e in r.errors().to_pylist()}
    assert (errors[1]["error_state"], errors[1]["error_type"], errors[1]["error_message"]) == (
        "start",
        "EventFailed",
        "over limit",
    )
    assert (errors[2]["error_type"], errors[2]["error_message"], errors[2]["attempts"]) == (
        "ConnectionError",
        "gateway down",
        3,
    )
    assert (errors[3]["error_type"], errors[3]["attempts"]) == ("ValueError", 1)  # not retried
    assert r.retries == {"start": 2}
    assert r.index.counts()["failed"] == 3


def test_conditions_still_choose_among_the_arcs_an_outcome_allows() -> None:
    cfg = net(
        [
            {"name": "start", "is_start": True, "event": Charge},
            {"name": "big", "is_end": True},
            {"name": "small", "is_end": True},
            {"name": "declined", "is_end": True},
        ],
        [
            {"from": "start", "to": "declined", "on": "failure"},
            {"from": "start", "to": "big", "condition": "lambda state: state.data['charged'] > 50"},
            {"from": "start", "to": "small"},
        ],
    )
    r = SimpleFSM(cfg).process([{"amount": 40}, {"amount": 10}, {"amount": 400}])
    assert r.end_state_counts == {"big": 1, "small": 1, "declined": 1}


class Router(EventBase):
    def process(self, data):
        if data.get("type") == "premium":
            self.goto(descriptor=101, result_status=True, result={"tier": "premium"}, reason="premium user")
        if data.get("type") == "lost":
            self.goto(descriptor=7, result_status=True, result=None)
        return True, {"tier": "regular"}


def test_goto_takes_the_arc_with_its_descriptor_and_an_unknown_one_fails() -> None:
    cfg = net(
        [
            {"name": "start", "is_start": True, "event": Router},
            {"name": "premium", "is_end": True},
            {"name": "regular", "is_end": True},
        ],
        [{"from": "start", "to": "premium", "on": 101}, {"from": "start", "to": "regular"}],
    )
    r = SimpleFSM(cfg).process([{"type": "premium"}, {"type": "basic"}, {"type": "lost"}])
    assert r.output("premium").column("tier").to_pylist() == ["premium"]
    assert r.output("regular").column("tier").to_pylist() == ["regular"]
    (err,) = r.errors().to_pylist()
    assert err["error_type"] == "GotoError" and "7" in err["error_message"]


def test_bypass_needs_no_flag() -> None:
    class Validate(EventBase):
        def can_bypass_current_event(self):
            if self._execution_context.user_role == "admin":
                return True, {"bypass_reason": "Admin users skip validation"}
            return False, None

        def process(self, user_data):
            return bool(user_data.get("email")), {"validated": True}

    r = SimpleFSM(charge_net(Validate)).process([{"user_role": "admin"}, {"email": "a@b"}, {"user_role": "x"}])
    assert r.output("ok").to_pylist() == [
        {
            "_row": 0,
            "user_role": "admin",
            "email": None,
            "bypass_reason": "Admin users skip validation",
            "validated": None,
        },
        {"_row": 1, "user_role": None, "email": "a@b", "bypass_reason": None, "validated": True},
    ]
    assert r.end_state_counts["declined"] == 1


class _A(EventBase):
    def process(self, x):
        return x >= 1, {"a": x}


class _B(EventBase):
    def process(self, x):
        return x >= 2, {"b": x}


@pytest.mark.parametrize(
    ("evaluation", "ok_rows"),
    [(None, [0]), ("SUCCESS_FOR_PARTIAL_SUCCESS", [0, 1]), ("FAILURE_FOR_ALL_EVENTS_FAILURE", [0, 1])],
)
def test_a_parallel_group_and_its_evaluation_state(evaluation: str | None, ok_rows: list[int]) -> None:
    keys = {} if evaluation is None else {"evaluation": evaluation}
    r = SimpleFSM(charge_net([_A, _B], **keys)).process([{"x": 2}, {"x": 1}, {"x": 0}])
    assert r.output("ok").column("_row").to_pylist() == ok_rows
    assert r.output("ok").to_pylist()[0] == {"_row": 0, "x": 2, "a": 2, "b": 2}


def test_a_thread_pool_event_runs_records_at_once_in_one_pool_for_the_whole_run() -> None:
    seen: set[int] = set()
    lock = threading.Lock()

    class Lookup(EventBase):
        executor = ThreadPoolExecutor
        executor_config = {"max_workers": 8, "thread_name_prefix": "lookup_"}

        def process(self, k):
            import time

            time.sleep(0.005)
            with lock:
                seen.add(threading.get_ident())
            return True, {"thread": threading.current_thread().name}

    fsm = SimpleFSM(charge_net(Lookup), chunk_size=50)
    r = fsm.process([{"k": k} for k in range(400)])
    out = r.output("ok")
    assert out.num_rows == 400 and out.column("k").to_pylist() == list(range(400))
    assert all(name.startswith("lookup_") for name in out.column("thread").to_pylist())
    assert 1 < len(seen) <= 8  # one pool of 8 threads served all 8 chunks
    fsm.network.event_pools.shutdown()


def test_events_named_module_colon_name_as_yaml_writes_them(tmp_path: Path) -> None:
    cfg = net(
        [
            {"name": "start", "is_start": True, "event": "tests.events_fixtures:Double"},
            {"name": "tagged", "event": "tests.events_fixtures:tag", "result_field": "note"},
            {"name": "done", "is_end": True},
        ],
        [{"from": "start", "to": "tagged"}, {"from": "tagged", "to": "done"}],
    )
    r = SimpleFSM(cfg).process([{"x": 2}])
    assert r.output("done").to_pylist() == [{"_row": 0, "x": 4, "tag": "seen"}]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"event": "tests.events_fixtures:Dubble"}, "has no 'Dubble' (did you mean 'Double'?)"),
        ({"event": "no_such_module_x:Thing"}, "cannot import module 'no_such_module_x'"),
        ({"event": "tests.events_fixtures:not_an_event"}, "decorate the function with @event"),
        ({"event": []}, "expected at least one event"),
        ({"event": Charge, "transform": "lambda state: state.data"}, "an event or a transform, not both"),
        ({"event": Charge, "evaluation": "SUCCESS_FOR_PARTIAL_SUCESS"}, "did you mean 'SUCCESS_FOR_PARTIAL_SUCCESS'"),
    ],
)
def test_bad_event_states_are_config_errors_with_a_path(change: dict[str, Any], message: str) -> None:
    state = {"name": "charge", **change}
    cfg = net(
        [{"name": "start", "is_start": True}, state, {"name": "ok", "is_end": True}],
        [{"from": "start", "to": "charge"}, {"from": "charge", "to": "ok"}],
    )
    with pytest.raises(ConfigError) as err:
        SimpleFSM(cfg)
    assert "networks[0].states[1] 'charge'" in str(err.value)
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("arcs", "message"),
    [
        ([{"from": "charge", "to": "ok", "on": "sucess"}], "(did you mean 'success'?)"),
        ([{"from": "charge", "to": "ok", "on": True}], "expected 'success', 'failure' or an int descriptor"),
        (
            [{"from": "charge", "to": "ok", "on": 3}, {"from": "charge", "to": "ok", "on": 3}],
            "duplicate goto descriptor 3",
        ),
        ([{"from": "start", "to": "charge", "on": "success"}, {"from": "charge", "to": "ok"}], "runs no event"),
    ],
)
def test_bad_on_values_are_config_errors(arcs: list[dict[str, Any]], message: str) -> None:
    if not any(a["from"] == "start" for a in arcs):
        arcs = [{"from": "start", "to": "charge"}, *arcs]
    cfg = net(
        [{"name": "start", "is_start": True}, {"name": "charge", "event": Charge}, {"name": "ok", "is_end": True}],
        arcs,
    )
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        SimpleFSM(cfg)


def test_a_stream_runs_events_and_counts_their_retries(tmp_path: Path) -> None:
    calls: dict[int, int] = {}
    lock = threading.Lock()

    class Flaky(EventBase):
        retry_policy = {"max_attempts": 3, "backoff_factor": 0.001}

        def process(self, k):
            with lock:
                calls[k] = calls.get(k, 0) + 1
                n = calls[k]
            if k % 10 == 0 and n < 3:
                raise OSError("flaky")
            return True, {"k2": k * k}

    src = tmp_path / "in.jsonl"
    src.write_text("".join(f'{{"k": {k}}}\n' for k in range(200)))
    out = tmp_path / "out.jsonl"
    r = SimpleFSM(charge_net(Flaky)).process_stream(src, sinks={"ok": str(out), "declined": str(tmp_path / "d.jsonl")})
    assert r.end_state_counts == {"ok": 200, "declined": 0}
    assert r.retries == {"charge": 40}


# --------------------------------------------------------------------------- against the reference interpreter


class Classify(EventBase):
    retry_policy = {"max_attempts": 2, "backoff_factor": 0.0}

    def process(self, v, label=None):
        if v is None:
            raise KeyError("v")
        if v % 5 == 0:
            return False, f"multiple of five: {v}"
        if v % 7 == 0:
            self.goto(7, True, {"seven": True})
        return True, {"half": v / 2} if v % 2 else "even"


_CLASSIFY = net(
    [
        {"name": "start", "is_start": True, "event": Classify},
        {"name": "odd", "is_end": True},
        {"name": "even", "is_end": True},
        {"name": "sevens", "is_end": True},
        {"name": "bad", "is_end": True},
    ],
    [
        {"from": "start", "to": "sevens", "on": 7},
        {
            "from": "start",
            "to": "bad",
            "on": "failure",
            "condition": "lambda state: 'multiple' in state.data['result']",
        },
        {"from": "start", "to": "odd", "condition": "lambda state: state.data.get('half') is not None"},
        {"from": "start", "to": "even"},
    ],
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-50, 50)), max_size=40), st.sampled_from([1, 3, 16]))
def test_the_engine_agrees_with_the_interpreter(values: list[int | None], chunk: int) -> None:
    records = [{"v": v, "label": "x"} if v is not None else {"label": "y"} for v in values]
    expected = interpret(_CLASSIFY, records)
    r = SimpleFSM(_CLASSIFY, chunk_size=chunk).process(records)
    got: dict[int, tuple] = {}
    for state in r.end_states:
        for row in r.output(state).to_pylist():
            at = row.pop("_row")
            got[at] = ("completed", state, {k: v for k, v in row.items() if v is not None})
    for row in r.errors().to_pylist():
        got[row["_row"]] = ("failed", row["error_state"], row["error_type"])
    assert len(got) == len(records)
    for i, o in enumerate(expected):
        if o.status == "completed":
            assert got[i] == ("completed", o.end_state, o.data), i
        else:
            assert got[i] == ("failed", o.error_state, o.error_type), i


def test_events_run_outside_networks() -> None:
    import anyio

    class Check(EventBase):
        def process(self, amount):
            return amount > 0, {"ok_amount": amount}

    r = Check().run([{"amount": 5}, {"amount": -1}])
    assert (r.successful, r.failed) == (1, 1)
    assert r.output("Check").column("ok_amount").to_pylist() == [5]
    (err,) = r.errors().to_pylist()
    assert (err["error_state"], err["error_type"], err["attempts"]) == ("Check", "EventFailed", 1)

    async def main() -> Any:
        return await Check().run_async([{"amount": 1}, {"amount": 2}], chunk_size=1)

    assert anyio.run(main).successful == 2


# --------------------------------------------------------------------------- per-batch events


class Score(EventBase):
    def process_batch(self, batch):
        import polars as pl

        return batch.with_columns(score=pl.col("x") * 10, _ok=pl.col("x") >= 0)


def test_a_batch_event_gets_the_chunk_as_a_frame_and_marks_failures_with_ok() -> None:
    records = [{"x": 1}, {"x": -2}, {"x": 3}, {"x": None}]
    r = SimpleFSM(charge_net(Score), chunk_size=2).process(records)
    assert r.output("ok").to_pylist() == [
        {"_row": 0, "x": 1, "score": 10},
        {"_row": 2, "x": 3, "score": 30},
        {"_row": 3, "x": None, "score": None},  # a null _ok counts as success
    ]  # -2 takes the failure arc
    assert r.output("declined").to_pylist() == [{"_row": 1, "x": -2, "score": -20}]
    cfg = net(
        [{"name": "s", "is_start": True, "event": Score}, {"name": "ok", "is_end": True}], [{"from": "s", "to": "ok"}]
    )
    r = SimpleFSM(cfg).process(records)
    (err,) = r.errors().to_pylist()
    assert (err["_row"], err["error_type"], err["error_state"]) == (1, "EventFailed", "s")
    assert r.output("ok").num_rows == 3


def test_a_batch_event_with_conditions_on_its_arcs_routes_record_by_record() -> None:
    cfg = net(
        [
            {"name": "s", "is_start": True, "event": Score},
            {"name": "big", "is_end": True},
            {"name": "small", "is_end": True},
            {"name": "neg", "is_end": True},
        ],
        [
            {"from": "s", "to": "neg", "on": "failure"},
            {"from": "s", "to": "big", "condition": "lambda state: state.data['score'] >= 30"},
            {"from": "s", "to": "small"},
        ],
    )
    r = SimpleFSM(cfg).process([{"x": 1}, {"x": -2}, {"x": 3}])
    assert r.end_state_counts == {"big": 1, "small": 1, "neg": 1}


def test_a_batch_event_that_raises_is_retried_then_fails_every_record_of_the_chunk() -> None:
    calls = []

    class Down(EventBase):
        retry_policy = {"max_attempts": 3, "backoff_factor": 0.0}

        def process_batch(self, batch):
            calls.append(batch.height)
            raise ConnectionError("warehouse down")

    cfg = net(
        [{"name": "s", "is_start": True, "event": Down}, {"name": "ok", "is_end": True}], [{"from": "s", "to": "ok"}]
    )
    r = SimpleFSM(cfg, chunk_size=2).process([{"x": k} for k in range(3)])
    assert calls == [2, 2, 2, 1, 1, 1]
    assert r.failed == 3 and r.retries == {"s": 4}
    assert {e["error_type"] for e in r.errors().to_pylist()} == {"ConnectionError"}
    assert {e["attempts"] for e in r.errors().to_pylist()} == {3}


def test_a_batch_event_must_keep_the_height() -> None:
    class Shrink(EventBase):
        def process_batch(self, batch):
            return batch.head(1)

    cfg = net(
        [{"name": "s", "is_start": True, "event": Shrink}, {"name": "ok", "is_end": True}], [{"from": "s", "to": "ok"}]
    )
    r = SimpleFSM(cfg).process([{"x": 1}, {"x": 2}])
    assert r.failed == 2
    assert "must return a DataFrame of 2 rows, got 1 rows" in r.errors().column("error_message")[0].as_py()


# --------------------------------------------------------------------------- stop flags


class StopOnError(EventBase):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, stop_on_error=True, **kwargs)  # the seed's own pattern

    def process(self, *args, **kwargs):
        if kwargs.get("fail", False):
            return False, "Something went wrong"
        return True, "Event processed successfully"


def _stop_net(ev: Any) -> dict[str, Any]:
    return net(
        [{"name": "s", "is_start": True, "event": ev}, {"name": "ok", "is_end": True}], [{"from": "s", "to": "ok"}]
    )


def test_a_stop_flag_stops_the_run_and_every_record_is_accounted_for() -> None:
    records = [{"id": i, "fail": i == 25} for i in range(100)]
    r = SimpleFSM(_stop_net(StopOnError), chunk_size=10, parallelism=1).process(records)
    assert r.stopped_by == {"state": "s", "row": 25, "reason": "stop_on_error: Something went wrong"}
    # the chunk in flight finishes; the chunks after it are cancelled, written with the failed records
    assert (r.successful, r.failed, r.cancelled) == (29, 1, 70)
    assert r.successful + r.failed + r.cancelled == len(records)
    errors = r.errors().to_pylist()
    assert [e["_row"] for e in errors] == [25, *range(30, 100)]
    assert {e["error_type"] for e in errors[1:]} == {"Cancelled"} and errors[1]["id"] == 30
    assert sorted(r.ids("cancelled").tolist()) == list(range(30, 100))


def test_stop_flags_as_class_attributes_and_no_stop_without_one() -> None:
    class StopOnSuccess(EventBase):
        stop_on_success = True

        def process(self, x):
            return x > 5, None

    r = SimpleFSM(charge_net(StopOnSuccess), chunk_size=4, parallelism=1).process([{"x": k} for k in range(20)])
    assert r.stopped_by is not None and r.stopped_by["row"] == 6 and r.stopped_by["reason"] == "stop_on_success"
    assert r.cancelled == 12
    r = SimpleFSM(charge_net(Charge)).process([{"amount": 500}])
    assert r.stopped_by is None and r.cancelled == 0


def test_a_stream_stops_reading_when_an_event_stops_it(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    n = 5000
    src.write_text("".join(f'{{"id": {k}, "fail": {str(k == 120).lower()}}}\n' for k in range(n)))
    r = SimpleFSM(_stop_net(StopOnError)).process_stream(src, chunk_size=100, parallelism=1)
    assert r.stopped_by is not None and r.stopped_by["row"] == 120
    assert r.total_records < n  # it stopped reading
    assert r.successful + r.failed + r.cancelled == r.total_records
    assert r.failed == 1


# --------------------------------------------------------------------------- process pools


def test_a_process_pool_event_runs_sub_batches_in_worker_processes() -> None:
    from tests.events_fixtures import Spin

    fsm = SimpleFSM(charge_net(Spin))
    try:
        r = fsm.process([{"n": k} for k in range(200)])
        expected = [sum(j * j % 7 for j in range(k)) for k in range(200)]
        assert r.output("ok").column("total").to_pylist() == expected
    finally:
        fsm.network.event_pools.shutdown()


def test_a_worker_process_that_dies_fails_its_sub_batch_and_nothing_is_lost() -> None:
    from tests.events_fixtures import DieOn13

    fsm = SimpleFSM(_stop_net(DieOn13))
    try:
        r = fsm.process([{"x": k} for k in range(40)])
        assert r.successful + r.failed == 40
        failed = r.errors().to_pylist()
        assert 13 in [e["x"] for e in failed]
        assert {e["error_type"] for e in failed} == {"BrokenProcessPool"}
        r2 = fsm.process([{"x": k} for k in range(20, 30)])  # the pool was made again
        assert r2.successful == 10
    finally:
        fsm.network.event_pools.shutdown()


def test_an_event_a_process_pool_cannot_pickle_is_a_config_error() -> None:
    from concurrent.futures import ProcessPoolExecutor

    class Local(EventBase):  # defined in a function: pickle cannot find it
        executor = ProcessPoolExecutor

        def process(self, x):
            return True, None

    with pytest.raises(ConfigError, match=r"states\[0\] 's'.*must pickle"):
        SimpleFSM(_stop_net(Local))


class Mixed(EventBase):
    """No retry policy, arguments that are fields, unconditional arcs: the plan's plain loop runs it."""

    def process(self, v):
        if v is None:
            raise KeyError("v")
        if v % 11 == 0:
            return "not a pair"
        if v % 5 == 0:
            return False, f"multiple of five: {v}"
        if v % 7 == 0:
            self.goto(7, True, {"seven": True})
        if v % 3 == 0:
            return True, {"v": None, "third": v // 3}  # a null drops the field
        if v % 2 == 0:
            return True, "even"  # not a mapping: the result field
        return True, {"half": v / 2}


_MIXED = net(
    [
        {"name": "start", "is_start": True, "event": Mixed},
        {"name": "done", "is_end": True},
        {"name": "sevens", "is_end": True},
        {"name": "bad", "is_end": True},
    ],
    [
        {"from": "start", "to": "sevens", "on": 7},
        {"from": "start", "to": "bad", "on": "failure"},
        {"from": "start", "to": "done"},
    ],
)


def _outcomes(cfg: dict[str, Any], records: list[dict[str, Any]], chunk: int) -> tuple[dict, list]:
    expected = interpret(cfg, records)
    r = SimpleFSM(cfg, chunk_size=chunk).process(records)
    got: dict[int, tuple] = {}
    for state in r.end_states:
        for row in r.output(state).to_pylist():
            at = row.pop("_row")
            got[at] = ("completed", state, {k: v for k, v in row.items() if v is not None})
    for row in r.errors().to_pylist():
        got[row["_row"]] = ("failed", row["error_state"], row["error_type"])
    want = [
        ("completed", o.end_state, o.data) if o.status == "completed" else ("failed", o.error_state, o.error_type)
        for o in expected
    ]
    return got, want


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-60, 60)), max_size=40), st.sampled_from([1, 4, 64]))
def test_the_plain_loop_agrees_with_the_interpreter(values: list[int | None], chunk: int) -> None:
    # every record has the field `v` (null or not): binding follows the chunk's schema, and a chunk of
    # records without the key at all would have no `v` to bind (the whole record goes to the parameter)
    records = [{"v": v, "label": "x" if v is not None else "y"} for v in values]
    got, want = _outcomes(_MIXED, records, chunk)
    assert [got[i] for i in range(len(records))] == want


def test_the_plain_loop_is_what_runs_a_simple_event() -> None:
    from streamkit.fsm.plans.event import EventPlan

    fsm = SimpleFSM(_MIXED)
    fsm.process([{"v": 1}])
    (plan,) = [p for p in fsm.network._plans.values() if isinstance(p, EventPlan)]
    ctx_py = fsm.network.py
    from streamkit.fsm.plans.base import BatchContext

    ctx = BatchContext(fsm.network.index, fsm.network.state_names, lambda: ctx_py, {}, 1)
    assert plan._fast_path("start", ["v"], ctx) is not None
    assert SimpleFSM(charge_net(Charge)).network is not None  # (Charge retries: the general path)


def test_a_yaml_config_names_events_as_module_colon_name(tmp_path: Path) -> None:
    path = tmp_path / "events.yaml"
    path.write_text(
        """
name: yaml-events
networks:
  - name: main
    states:
      - {name: start, is_start: true, event: "tests.events_fixtures:Double"}
      - {name: group, event: ["tests.events_fixtures:tag", "tests.events_fixtures:Double"],
         evaluation: SUCCESS_FOR_PARTIAL_SUCCESS}
      - {name: done, is_end: true}
      - {name: failed, is_end: true}
    arcs:
      - {from: start, to: group}
      - {from: group, to: done, on: success}
      - {from: group, to: failed, on: failure}
"""
    )
    r = SimpleFSM(str(path)).process([{"x": 1}, {"x": 5}])
    assert r.output("done").to_pylist() == [{"_row": 0, "x": 4, "tag": "seen"}, {"_row": 1, "x": 20, "tag": "seen"}]


@pytest.mark.parametrize("retrying", [False, True])
def test_the_context_row_is_the_records_position_in_the_input(retrying: bool) -> None:
    class Where(EventBase):
        retry_policy = {"max_attempts": 2, "backoff_factor": 0.0} if retrying else None

        def process(self, x):
            return True, {"row_seen": self.execution_context.row, "state_seen": self.execution_context.state}

    r = SimpleFSM(_stop_net(Where), chunk_size=7).process([{"x": k} for k in range(30)])
    out = r.output("ok")
    assert out.column("row_seen").to_pylist() == out.column("_row").to_pylist() == list(range(30))
    assert set(out.column("state_seen").to_pylist()) == {"s"}
