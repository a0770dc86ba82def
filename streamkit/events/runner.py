"""Running a state's events over a group of records: attempts, retries with backoff, executors.

:func:`run_events` gives one :class:`Outcome` per record. Each record's
attempts follow the event's :class:`~streamkit.events.RetryPolicy`; a record
waiting for its backoff is held in a queue by due time, never by a sleeping
thread, so the other records' attempts go on meanwhile (the caller's thread
sleeps only when nothing but waiting retries is left). Inline events run in
the caller's thread; a thread pool runs up to its ``max_workers`` attempts at
once. A parallel group runs every event on every record and merges the
results in list order; its :class:`~streamkit.events.EventExecutionEvaluationState`
decides each record's outcome.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from streamkit._owner import check_abandoned
from streamkit.events.base import Binding, EventBase, Goto
from streamkit.events.policy import EventExecutionEvaluationState

__all__ = ("Outcome", "run_events", "merge_result", "NO_GOTO", "ProcessPool")


class _NoGoto:
    """The one value of ``goto`` for a record that did not call ``goto`` (the same after pickling)."""

    def __reduce__(self) -> str:
        return "NO_GOTO"

    def __repr__(self) -> str:
        return "NO_GOTO"


#: ``Outcome.goto`` of a record that did not call ``goto``.
NO_GOTO: Any = _NoGoto()


class ProcessPool:
    """A process pool an event runs in, made again when a worker process dies (``make`` builds one).

    Records go to it in sub-batches, a few per worker: one pickle of the event and
    the records there, one of the results back, never a round trip per record.
    """

    def __init__(self, make: Callable[[], Any], workers: int) -> None:
        self._make = make
        self.workers = workers
        self.pool = make()

    def renew(self) -> None:
        """Replace a broken pool with a new one."""
        old, self.pool = self.pool, self._make()
        old.shutdown(wait=False, cancel_futures=True)

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop the pool's processes."""
        self.pool.shutdown(wait=wait)


@dataclass(slots=True)
class Outcome:
    """What a state's events did to one record.

    Attributes
    ----------
    ok:
        Whether the record succeeded (for a group: as its evaluation state says).
    data:
        The record with the results merged (``None`` when it is to fail).
    error_type, message:
        Why it did not succeed: ``"EventFailed"`` and ``str(result)`` for ``(False, result)``,
        or the last exception's type name and message.
    attempts:
        Calls of ``process`` made for the record (over the group's events: the most any one made).
    retries:
        Calls beyond each event's first.
    goto:
        The descriptor passed to ``goto`` (:data:`NO_GOTO` when none was).
    """

    ok: bool
    data: dict[str, Any]
    error_type: str | None = None
    message: str | None = None
    attempts: int = 0
    retries: int = 0
    goto: Any = NO_GOTO
    raised: bool = False


def merge_result(record: Mapping[str, Any], result: Any, result_field: str) -> dict[str, Any]:
    """The record after an event: a mapping result merged in (``{**record, **result}``), any other kept in
    ``result_field`` (``None``: the field is left out, as a null field is)."""
    if type(result) is dict:
        out = {**record, **result}
        return {k: v for k, v in out.items() if v is not None} if None in result.values() else out
    out = dict(record)
    if isinstance(result, Mapping):
        out.update(result)
        return {k: v for k, v in out.items() if v is not None}
    if result is None:
        out.pop(result_field, None)
    else:
        out[result_field] = result
    return out


@dataclass(slots=True)
class _One:
    """One event's result for one record."""

    ok: bool
    result: Any
    error_type: str | None = None
    message: str | None = None
    goto: Any = NO_GOTO
    raised: bool = False


def _attempt(
    ev: EventBase, binding: Binding, record: dict[str, Any], state: str | None, row: int | None, *, bypass: bool
) -> _One:
    """One call of the event on one record; an exception that may be retried propagates."""
    EventBase._contexts.current = (record, state, row)
    try:
        if bypass:
            skip, data = ev.can_bypass_current_event()
            if skip:
                return _One(ok=True, result=data)
        if binding.missing is not None:
            msg = f"{type(ev).__name__}.process() missing required argument {binding.missing!r} (no field of that name)"
            raise TypeError(msg)
        only = binding.only_fields
        if only is not None:
            out = ev.process(*[record.get(name) for name in only])
        else:
            out = ev.process(*binding.args(record), **binding.kwargs(record))
    except Goto as g:
        ok = g.result_status
        return _One(ok=ok, result=g.result, error_type=None if ok else "EventFailed", goto=g.descriptor)
    finally:
        EventBase._contexts.current = None
    if type(out) is not tuple or len(out) != 2:
        msg = f"{type(ev).__name__}.process() must return (ok, result), got {type(out).__name__}"
        return _One(ok=False, result=None, error_type="TypeError", message=msg, raised=True)
    ok, result = out
    if ok:
        return _One(ok=True, result=result)
    return _One(ok=False, result=result, error_type="EventFailed", message=str(result))


def run_events(
    events: Sequence[EventBase],
    records: Sequence[dict[str, Any]],
    fields: Sequence[str],
    *,
    state: str | None = None,
    rows: Sequence[int] | None = None,
    pools: Mapping[int, Any] | None = None,
    evaluation: EventExecutionEvaluationState | None = None,
    result_field: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Run ``events`` (one, or a parallel group) on every record; one :class:`Outcome` per record, in order.

    ``fields`` are the names of the records' schema (they decide how ``process``
    takes its arguments); ``pools`` maps an event's index to the executor that
    runs it (absent: inline). ``rows`` are the records' positions, shown in the
    execution context. ``result_field`` (the state's) overrides each event's own.
    """
    n = len(records)
    if not events:
        msg = "a state runs at least one event"
        raise ValueError(msg)

    def one(j: int) -> tuple[list[_One], list[int]]:
        ev = events[j]
        binding = Binding.of(ev.process, fields)
        pool = None if pools is None else pools.get(j)
        if isinstance(pool, ProcessPool):
            return _in_processes(ev, binding, records, state, rows, pool)
        return _run_one(ev, binding, records, state, rows, pool, clock, sleep)

    if len(events) > 1 and pools:  # a group's events in pools run at the same time, each under its own
        with ThreadPoolExecutor(len(events), thread_name_prefix="streamkit-group") as group:
            done = list(group.map(one, range(len(events))))
    else:
        done = [one(j) for j in range(len(events))]
    per_event = [d[0] for d in done]
    attempts_per_event = [d[1] for d in done]
    if len(events) == 1:
        res = per_event[0]
        field = result_field or events[0].result_field
        out = []
        for i, r in enumerate(res):
            data = records[i] if r.raised else merge_result(records[i], r.result, field)
            a = attempts_per_event[0][i]
            out.append(Outcome(r.ok, data, r.error_type, r.message, a, max(a - 1, 0), r.goto, r.raised))
        return out
    how = evaluation or events[0].evaluation()
    out = []
    for i in range(n):
        data = dict(records[i])
        oks = []
        failures = []
        goto = NO_GOTO
        for j, ev in enumerate(events):
            r = per_event[j][i]
            oks.append(r.ok)
            if not r.raised:
                data = merge_result(data, r.result, result_field or ev.result_field)
            if not r.ok:
                failures.append(r)
            if r.goto is not NO_GOTO and goto is NO_GOTO:
                goto = r.goto
        ok = how.succeeds(oks)
        most = max(a[i] for a in attempts_per_event)
        retries = sum(max(a[i] - 1, 0) for a in attempts_per_event)
        first = failures[0] if failures else None
        error_type = None if ok or first is None else first.error_type
        message = None if ok or first is None else "; ".join(f.message or "" for f in failures)
        out.append(Outcome(ok, data, error_type, message, most, retries, goto, bool(first and first.raised)))
    return out


def _sub_batch(
    ev: EventBase, binding: Binding, records: list[dict[str, Any]], state: str | None, rows: list[int] | None
) -> tuple[list[_One], list[int]]:
    """In a worker process: one event over a sub-batch of records, with its retries."""
    return _run_one(ev, binding, records, state, rows, None, time.monotonic, time.sleep)


def _in_processes(
    ev: EventBase,
    binding: Binding,
    records: Sequence[dict[str, Any]],
    state: str | None,
    rows: Sequence[int] | None,
    pool: ProcessPool,
) -> tuple[list[_One], list[int]]:
    """One event over records in a process pool, a few sub-batches per worker.

    A sub-batch whose worker process died is run again in a new pool while the
    event's retry policy allows (the death counts as an attempt of each of its
    records), else its records fail with ``BrokenProcessPool``.
    """
    n = len(records)
    policy = type(ev).policy()
    size = max(1, -(-n // (pool.workers * 4)))
    pieces = [(a, min(a + size, n)) for a in range(0, n, size)]
    results: list[_One | None] = [None] * n
    attempts = [0] * n
    tries = dict.fromkeys(range(len(pieces)), 0)
    todo = list(range(len(pieces)))
    while todo:
        futures: dict[Future[tuple[list[_One], list[int]]], int] = {}
        for k in todo:
            a, b = pieces[k]
            tries[k] += 1
            sub_rows = None if rows is None else [int(r) for r in rows[a:b]]
            futures[pool.pool.submit(_sub_batch, ev, binding, list(records[a:b]), state, sub_rows)] = k
        todo = []
        broken = False
        for fut in list(futures):
            k = futures[fut]
            a, b = pieces[k]
            try:
                got, tried = fut.result()
            except BrokenProcessPool as exc:
                broken = True
                if policy.retry_after(exc, tries[k]) is not None:
                    todo.append(k)
                    continue
                msg = f"a worker process died: {exc}"
                got = [_One(ok=False, result=None, error_type="BrokenProcessPool", message=msg, raised=True)] * (b - a)
                tried = [1] * (b - a)
            results[a:b] = got
            for t in range(b - a):
                attempts[a + t] = tried[t] + tries[k] - 1
        if broken:
            pool.renew()
        if todo:  # the backoff before the next attempt of the sub-batches that died
            time.sleep(min(policy.wait(tries[k]) for k in todo))
    return [
        r if r is not None else _One(ok=False, result=None, error_type="RuntimeError", message="not run")
        for r in results
    ], attempts


def _run_one(
    ev: EventBase,
    binding: Binding,
    records: Sequence[dict[str, Any]],
    state: str | None,
    rows: Sequence[int] | None,
    pool: Any,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> tuple[list[_One], list[int]]:
    """One event on every record, retrying as its policy says; results and attempts per record."""
    policy = type(ev).policy()
    n = len(records)
    results: list[_One | None] = [None] * n
    attempts = [0] * n
    ready: deque[int] = deque(range(n))
    waiting: list[tuple[float, int, int]] = []  # (due, sequence, record): retries by due time
    seq = itertools.count()

    bypass = type(ev).bypasses()

    def call(i: int) -> _One:
        return _attempt(ev, binding, records[i], state, None if rows is None else rows[i], bypass=bypass)

    def settle(i: int, got: _One | BaseException) -> None:
        if isinstance(got, _One):
            results[i] = got
            return
        if not isinstance(got, Exception):
            raise got
        wait_s = policy.retry_after(got, attempts[i])
        if wait_s is None:
            results[i] = _One(ok=False, result=None, error_type=type(got).__name__, message=str(got), raised=True)
        else:
            heapq.heappush(waiting, (clock() + wait_s, next(seq), i))

    def due() -> None:
        now = clock()
        while waiting and waiting[0][0] <= now:
            ready.append(heapq.heappop(waiting)[2])

    if pool is None:
        ready.clear()  # first attempts in one pass; retries come back through the queue
        for i in range(n):
            check_abandoned()
            attempts[i] = 1
            try:
                results[i] = call(i)
            except Exception as exc:  # noqa: BLE001 - the record's failure or retry, as the policy says
                settle(i, exc)
            if waiting and waiting[0][0] <= clock():
                due()
                while ready:
                    j = ready.popleft()
                    attempts[j] += 1
                    try:
                        got: _One | BaseException = call(j)
                    except Exception as exc:  # noqa: BLE001 - as above
                        got = exc
                    settle(j, got)
        while ready or waiting:
            if not ready:
                sleep(max(0.0, waiting[0][0] - clock()))
                due()
                continue
            check_abandoned()
            i = ready.popleft()
            attempts[i] += 1
            try:
                got = call(i)
            except Exception as exc:  # noqa: BLE001 - the record's failure or retry, as the policy says
                got = exc
            settle(i, got)
            due()
    else:
        limit = max(1, int(getattr(pool, "_max_workers", 1) or 1)) * 2
        in_flight: dict[Future[_One], int] = {}
        while ready or waiting or in_flight:
            check_abandoned()
            due()
            while ready and len(in_flight) < limit:
                i = ready.popleft()
                attempts[i] += 1
                # the caller's context variables go with the attempt (the runtime's current job among them)
                in_flight[pool.submit(contextvars.copy_context().run, call, i)] = i
            timeout = max(0.0, waiting[0][0] - clock()) if waiting else None
            if not in_flight:
                sleep(timeout or 0.0)
                continue
            done, _ = wait(in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
            for fut in done:
                i = in_flight.pop(fut)
                err = fut.exception()
                settle(i, err if err is not None else fut.result())
    return [
        r if r is not None else _One(ok=False, result=None, error_type="RuntimeError", message="not run")
        for r in results
    ], attempts
