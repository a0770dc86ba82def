"""How events are run (seed 003, SEED-APIS.md § 003): retry policies, executor settings, parallel-group outcomes."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamkit.events import EventExecutionEvaluationState, ExecutorInitializerConfig, RetryPolicy

E = EventExecutionEvaluationState


# --------------------------------------------------------------------------- RetryPolicy


def test_the_seeds_example_waits_1_2_4_seconds() -> None:
    p = RetryPolicy.of({"max_attempts": 4, "backoff_factor": 1.0, "max_backoff": 10.0})
    assert p.waits() == (1.0, 2.0, 4.0)  # the first retry waits too; none after the last attempt


@given(
    attempts=st.integers(1, 12),
    factor=st.floats(0, 100, allow_nan=False),
    cap=st.floats(0, 1000, allow_nan=False),
)
def test_waits_follow_the_formula(attempts: int, factor: float, cap: float) -> None:
    p = RetryPolicy(max_attempts=attempts, backoff_factor=factor, max_backoff=cap)
    assert p.waits() == tuple(min(cap, factor * 2.0 ** (k - 1)) for k in range(1, attempts))
    assert len(p.waits()) == attempts - 1


def test_a_dict_takes_the_documented_defaults_for_what_it_leaves_out() -> None:
    assert RetryPolicy.of({}) == RetryPolicy(max_attempts=1, backoff_factor=0.1, max_backoff=10.0)
    assert RetryPolicy.of({"max_attempts": 3}).waits() == (0.1, 0.2)
    assert RetryPolicy.of(None).waits() == ()


class _Base(Exception):
    pass


class _Sub(_Base):
    pass


def test_retry_on_exceptions_matches_subclasses_and_empty_means_every_exception() -> None:
    p = RetryPolicy(max_attempts=3, retry_on_exceptions=[_Base])
    assert p.retries_on(_Sub()) and p.retries_on(_Base())
    assert not p.retries_on(ValueError())
    anything = RetryPolicy(max_attempts=3)
    assert anything.retries_on(ValueError()) and anything.retries_on(_Sub())
    assert not anything.retries_on(KeyboardInterrupt())  # not an Exception: never retried unasked
    assert RetryPolicy(retry_on_exceptions=OSError).retry_on_exceptions == (OSError,)


def test_retry_after_gives_up_after_the_last_attempt_or_on_other_exceptions() -> None:
    p = RetryPolicy(max_attempts=3, backoff_factor=0.5, retry_on_exceptions=[OSError])
    assert p.retry_after(ConnectionError(), 1) == 0.5
    assert p.retry_after(ConnectionError(), 2) == 1.0
    assert p.retry_after(ConnectionError(), 3) is None  # no attempt left: no wait
    assert p.retry_after(KeyError(), 1) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be an integer >= 1"),
        ({"max_attempts": True}, "max_attempts must be an integer >= 1"),
        ({"backoff_factor": -1}, "backoff_factor must be a number of seconds >= 0"),
        ({"max_backoff": float("nan")}, "max_backoff must be a number of seconds >= 0"),
        ({"retry_on_exceptions": ["ValueError"]}, "must list exception classes"),
        ({"max_atempts": 3}, "unknown option 'max_atempts' (did you mean 'max_attempts'?)"),
    ],
)
def test_bad_policies_say_what_is_wrong(value: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        RetryPolicy.of(value)


def test_a_policy_is_an_instance_or_a_dict() -> None:
    with pytest.raises(TypeError, match="RetryPolicy or a dict, got list"):
        RetryPolicy.of([3])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- executor settings


def test_each_pool_gets_the_options_it_takes() -> None:
    c = ExecutorInitializerConfig(max_workers=3, max_tasks_per_child=5, thread_name_prefix="ev_")
    with ThreadPoolExecutor(**c.pool_kwargs(ThreadPoolExecutor)) as pool:
        name = pool.submit(lambda: __import__("threading").current_thread().name).result()
    assert name.startswith("ev_")
    assert c.pool_kwargs(ThreadPoolExecutor) == {"max_workers": 3, "thread_name_prefix": "ev_"}
    assert c.pool_kwargs(ProcessPoolExecutor) == {"max_workers": 3, "max_tasks_per_child": 5}
    ProcessPoolExecutor(**c.pool_kwargs(ProcessPoolExecutor)).shutdown()  # accepted as given


def test_max_workers_defaults_to_the_usable_cores() -> None:
    import os

    assert ExecutorInitializerConfig().workers == len(os.sched_getaffinity(0))
    assert ExecutorInitializerConfig.of({"max_workers": 7}).workers == 7


def test_bad_executor_settings_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="max_workers must be a positive integer, got 0"):
        ExecutorInitializerConfig(max_workers=0)
    with pytest.raises(ValueError, match="unknown option 'max_worker' \\(did you mean 'max_workers'\\?\\)"):
        ExecutorInitializerConfig.of({"max_worker": 2})
    with pytest.raises(ValueError, match="initializer must be callable"):
        ExecutorInitializerConfig(initializer=3)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- parallel groups


def test_the_truth_table() -> None:
    table = {
        E.SUCCESS_ON_ALL_EVENTS_SUCCESS: (True, False, False),
        E.FAILURE_FOR_PARTIAL_ERROR: (True, False, False),
        E.SUCCESS_FOR_PARTIAL_SUCCESS: (True, True, False),
        E.FAILURE_FOR_ALL_EVENTS_FAILURE: (True, True, False),
    }
    for state, (all_ok, some_ok, none_ok) in table.items():
        assert state.succeeds([True, True]) is all_ok
        assert state.succeeds([True, False]) is some_ok
        assert state.succeeds([False, False]) is none_ok
    assert E.default() is E.SUCCESS_ON_ALL_EVENTS_SUCCESS


@given(st.sampled_from(list(E)), st.lists(st.lists(st.booleans(), min_size=1, max_size=6), min_size=1, max_size=20))
def test_per_record_outcomes_match_one_record_at_a_time(state: E, records: list[list[bool]]) -> None:
    width = len(records[0])
    records = [(r * width)[:width] for r in records]  # one outcome per event for every record
    ok = np.array(records, dtype=bool).T  # (events, records)
    assert state.succeeds_each(ok).tolist() == [state.succeeds(r) for r in records]


def test_states_by_name_and_errors() -> None:
    assert E.of("SUCCESS_FOR_PARTIAL_SUCCESS") is E.SUCCESS_FOR_PARTIAL_SUCCESS
    assert E.of(None) is E.default()
    with pytest.raises(ValueError, match="did you mean 'SUCCESS_FOR_PARTIAL_SUCCESS'"):
        E.of("SUCCESS_FOR_PARTIAL_SUCESS")
    with pytest.raises(ValueError, match="at least one event"):
        E.default().succeeds([])
