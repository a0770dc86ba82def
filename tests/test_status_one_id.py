"""One id at a time: add(int), transition(int), status_of(int) and `in` take a path without arrays or kernels.

That path must behave exactly as the batch path does for the same id in a
one-element array: same state afterwards, same errors and messages, same log.
The stateful model (tests/test_status_model.py) mixes both paths at random;
these tests pin the edges.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamkit.status import (
    DuplicateIdError,
    EventStatus,
    StatusIndex,
    StatusMismatchError,
    UnknownIdError,
)

DENSE, FAR = 5, 2**62


def _index() -> StatusIndex:
    index = StatusIndex(log_transitions=True)
    index.add([DENSE, 7])  # the status column
    index.add(FAR, "failed")  # the hash table
    return index


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    # what a call gave, comparable between the paths: one status or one bool as a one-element list
    try:
        got = call()
    except Exception as exc:  # compared, not handled
        return type(exc).__name__, str(exc)
    if isinstance(got, np.ndarray):
        return "ok", got.tolist()
    return "ok", None if got is None else [int(got) if isinstance(got, EventStatus) else got]


def _state(index: StatusIndex) -> tuple[Any, ...]:
    log = index.transition_log().select(["id", "from", "to"]).to_pylist()
    return index.to_dict(), len(index), log


ONE_AND_BATCH = {  # the call with one id, and the same for a one-element array
    "add": (lambda ix, k: ix.add(k, "skipped"), None),
    "transition": (lambda ix, k: ix.transition(k, "processing"), None),
    "transition_from": (lambda ix, k: ix.transition(k, "completed", from_status="failed"), None),
    "transition_same": (lambda ix, k: ix.transition(k, "pending", from_status="pending"), None),
    "status_of": (lambda ix, k: ix.status_of(k), None),
    "in": (lambda ix, k: k in ix, lambda ix, ids: bool(ix.contains(ids)[0])),
}


@pytest.mark.parametrize("key", [DENSE, FAR, 6, 2**40, 0, 2**63 - 1, np.int64(DENSE), np.uint8(DENSE), np.int32(6)])
@pytest.mark.parametrize("name", sorted(ONE_AND_BATCH))
def test_one_id_is_the_batch_path_for_one_element(key: Any, name: str) -> None:
    one_call, batch_call = ONE_AND_BATCH[name]
    one, batch = _index(), _index()
    got = _outcome(lambda: one_call(one, key))
    expected = _outcome(lambda: (batch_call or one_call)(batch, np.array([key], np.int64)))
    assert got == expected
    assert _state(one) == _state(batch)


@pytest.mark.parametrize(
    ("call", "exc", "msg"),
    [
        (
            lambda ix: ix.add(DENSE),
            DuplicateIdError,
            r"^ids already in the index: 5; change their status with `transition`$",
        ),
        (lambda ix: ix.add(FAR), DuplicateIdError, rf"^ids already in the index: {FAR}; "),
        (lambda ix: ix.add(-1), ValueError, r"^ids must be non-negative, got -1 at position 0$"),
        (lambda ix: ix.add(True), ValueError, r"^`ids` must be one-dimensional, got shape \(\)$"),
        (lambda ix: ix.transition(6, "failed"), UnknownIdError, r"^ids not in the index: 6$"),
        (lambda ix: ix.transition(2**40, "failed"), UnknownIdError, r"^ids not in the index: 1099511627776$"),
        (
            lambda ix: ix.transition(-1, "failed"),
            UnknownIdError,
            r"^ids not in the index: -1\n\nids are non-negative integers$",
        ),
        (
            lambda ix: ix.transition(DENSE, "failed", from_status="processing"),
            StatusMismatchError,
            r"^ids not in status 'processing': 5 \(in 'pending'\)$",
        ),
        (
            lambda ix: ix.transition(FAR, "failed", from_status="pending"),
            StatusMismatchError,
            rf"^ids not in status 'pending': {FAR} \(in 'failed'\)$",
        ),
        (lambda ix: ix.transition(DENSE, "done"), ValueError, r"^`to_status` must be one of 'pending'"),
        (lambda ix: ix.status_of(6), UnknownIdError, r"^ids not in the index: 6$"),
        (lambda ix: ix.add(2**63), OverflowError, r"int too large"),
    ],
)
def test_odd_scalars_are_refused_as_before(call: Callable[[StatusIndex], Any], exc: type, msg: str) -> None:
    index = _index()
    before = _state(index)
    with pytest.raises(exc, match=msg) as info:
        call(index)
    if isinstance(info.value, (DuplicateIdError, UnknownIdError, StatusMismatchError)):
        assert info.value.ids.dtype == np.int64 and info.value.ids.shape == (1,)
    assert _state(index) == before  # nothing changed


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "move", "move_from"]), st.one_of(st.integers(0, 300),
       st.integers(2**40, 2**40 + 30)), st.integers(0, 6), st.booleans()), max_size=60))  # fmt: skip
def test_one_id_sequences_match_a_dict_and_the_batch_path(ops: list[tuple[str, int, int, bool]]) -> None:
    one, batch = StatusIndex(log_transitions=True), StatusIndex(log_transitions=True)
    model: dict[int, int] = {}
    for kind, key, code, as_numpy in ops:
        k = np.int64(key) if as_numpy else key
        frm = model.get(key, 0) if kind == "move_from" else None
        call = {
            "add": lambda ix, ids, code=code: ix.add(ids, code),
            "move": lambda ix, ids, code=code: ix.transition(ids, code),
            "move_from": lambda ix, ids, code=code, frm=frm: ix.transition(ids, code, from_status=frm),
        }[kind]
        got = _outcome(lambda call=call, k=k: call(one, k))
        expected = _outcome(lambda call=call, key=key: call(batch, np.array([key])))  # fmt: skip
        assert got == expected
        if got[0] == "ok":
            model[key] = code
    assert one.to_dict() == batch.to_dict()
    assert (
        one.counts()
        == batch.counts()
        == {name: sum(1 for c in model.values() if c == i) for i, name in enumerate(one.counts())}
    )
    assert _state(one) == _state(batch)


def test_one_id_changes_from_threads_lose_nothing() -> None:
    n, n_threads = 20_000, 4
    index = StatusIndex(keep_ids="all")
    jobs = np.unique(np.random.default_rng(8).integers(2**40, 2**62, n)).tolist()  # sparse: the hash table
    barrier = threading.Barrier(n_threads)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            mine = jobs[k::n_threads] + list(range(k, n, n_threads))  # and dense
            barrier.wait()
            for i in mine:
                index.add(i)
            for i in mine:
                index.transition(i, "processing", from_status="pending")
                index.transition(i, "failed" if i % 3 == 0 else "completed")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    every = sorted([*jobs, *range(n)])
    assert len(index) == len(every)
    assert sorted([*index.ids("failed").tolist(), *index.ids("completed").tolist()]) == every
    assert index.count("failed") == sum(1 for i in every if i % 3 == 0)
    assert index.count("pending") == index.count("processing") == 0
    assert index.ids("pending").shape == (0,)
