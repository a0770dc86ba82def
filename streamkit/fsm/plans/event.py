"""The event plan: a state that runs events (seed 003) over its group of records.

The group's records go to :meth:`PyNetwork.run_events
<streamkit.fsm.interpret.PyNetwork.run_events>` as dicts of their non-null
fields, each event binding its arguments by the names of the group's fields;
where each record then goes (its arcs by ``on`` and condition) is the reference
interpreter's rule, so the engine and the interpreter cannot disagree. The
records that move on become columns again as the Python plan's do.

Executors live with the plan's network for as long as it does: a thread pool
is made the first time an event needs it, not per chunk.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamkit._owner import check_abandoned
from streamkit.config.model import EventSpec
from streamkit.events.base import Binding, DefaultExecutor, EventBase, Goto
from streamkit.events.runner import Outcome, ProcessPool, merge_result
from streamkit.fsm.columns import from_arrow
from streamkit.fsm.plans.base import BatchContext, Exits, Failure, Frame, Group, Move, rows_at, take
from streamkit.fsm.plans.python import exits_of, uniform_frame

__all__ = ("EventPlan", "EventPools", "batch_event")


def _make_pool(executor: type, config: Any, state: str) -> Any:
    """A thread pool, or a process pool (forkserver processes, made again if one dies) for ``executor``."""
    kwargs = config.pool_kwargs(executor)
    if issubclass(executor, ProcessPoolExecutor):
        context = multiprocessing.get_context("forkserver")
        return ProcessPool(lambda: executor(mp_context=context, **kwargs), kwargs["max_workers"])
    if "thread_name_prefix" not in kwargs:
        kwargs["thread_name_prefix"] = f"streamkit-{state}"
    return executor(**kwargs)


class EventPools:
    """The executors of a network's event states, made at first use and kept (thread-safe)."""

    def __init__(self) -> None:
        self._pools: dict[tuple[str, int], Any] = {}
        self._lock = threading.Lock()

    def for_state(self, state: str, spec: EventSpec) -> dict[int, Any]:
        """Event index → executor, for the events of ``state`` that do not run inline."""
        out: dict[int, Any] = {}
        for j, ev in enumerate(spec.events):
            cls = type(ev)
            if cls.executor is None or cls.executor is DefaultExecutor:
                continue
            key = (state, j)
            pool = self._pools.get(key)
            if pool is None:
                with self._lock:
                    pool = self._pools.get(key)
                    if pool is None:
                        pool = _make_pool(cls.executor, cls.pool_config(), state)
                        self._pools[key] = pool
            out[j] = pool
        return out

    def shutdown(self) -> None:
        """Stop every executor (their threads finish what they hold)."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.shutdown(wait=True)


@dataclass(eq=False)
class EventPlan:
    """A state's events over a group of records (see the module docstring)."""

    spec: EventSpec
    pools: EventPools
    backend: str = "events"
    reason: str | None = None
    #: records run through this plan so far (what ``explain()`` reports)
    records: int = 0
    #: calls of ``process`` beyond each record's first, so far
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def run(self, group: Group, ctx: BatchContext) -> Exits:
        """Run the state's events on every record of the group; route each by its outcome."""
        if batch_event(self.spec) is not None:
            return self._run_batch(group, ctx)
        name = ctx.state_names[group.state]
        inputs = group.records()
        fields = list(dict.fromkeys([*ctx.schema_fields, *group.frame]))
        fast = self._fast_path(name, fields, ctx)
        if fast is not None:
            return self._run_fast(group, ctx, name, inputs, *fast)
        rows = np.arange(group.n) if group.rows is None else group.rows
        stream_rows = [ctx.row_of(p) for p in rows.tolist()]  # what the execution context shows as .row
        results = ctx.py.run_events(
            name, inputs, fields=fields, rows=stream_rows, pools=self.pools.for_state(name, self.spec)
        )
        moved: list[tuple[int, Any, str | None]] = []
        failed: list[tuple[int, str, str]] = []
        attempts: list[int] = []
        retries = 0
        stops = _stop_flags(self.spec)
        for t, (outcome, step) in enumerate(results):
            attempts.append(outcome.attempts)
            retries += outcome.retries
            if stops and ctx.stop is not None and not ctx.stop.fired:
                why = _stop_reason(stops, ok=outcome.ok, raised=outcome.raised, message=outcome.message)
                if why is not None:
                    ctx.stop.fire(name, stream_rows[t], why)
            if step.data is None:
                failed.append((t, step.error_type or "EventFailed", step.error_message or ""))
            else:
                moved.append((t, step.data, step.next_state))
        with self._lock:
            self.records += group.n
            self.retries += retries
        if retries:
            ctx.retries[name] = ctx.retries.get(name, 0) + retries
        return exits_of(group, ctx, moved, failed, inputs, raw=True, attempts=attempts)

    def _fast_path(
        self, name: str, fields: list[str], ctx: BatchContext
    ) -> tuple[Any, tuple[str, ...], str | None] | None:
        """``(event, fields it takes, where successes go)`` when the state can run its records in one plain loop:
        one inline event, no retry policy, no bypass, no stop flag, arguments that are fields, and successes
        that leave by an arc without a condition (or end here). ``None`` otherwise."""
        if len(self.spec.events) != 1:
            return None
        ev = self.spec.events[0]
        cls = type(ev)
        if cls.executor not in (None, DefaultExecutor) or cls.bypasses() or _stop_flags(self.spec):
            return None
        if cls.policy().max_attempts != 1:
            return None
        binding = Binding.of(ev.process, fields)
        if binding.only_fields is None:
            return None
        py = ctx.py
        if py.is_end[name]:
            return ev, binding.only_fields, None
        routes = py.routes_by_outcome_only(name)
        if routes is None or routes[0] is None:
            return None
        return ev, binding.only_fields, routes[0]

    def _run_fast(
        self,
        group: Group,
        ctx: BatchContext,
        name: str,
        inputs: list[dict[str, Any]],
        ev: Any,
        only: tuple[str, ...],
        target: str | None,
    ) -> Exits:
        """The plain loop of :meth:`_fast_path`: successes move on at once; any other outcome takes the general
        route (one attempt each: there is no retry policy)."""
        field = self.spec.result_field or ev.result_field
        current = EventBase._contexts
        process = ev.process
        positions = range(group.n) if group.rows is None else group.rows.tolist()
        if ctx.row_ids is None:  # the stream row of each record, as the execution context shows it
            stream_rows: Any = range(ctx.row_offset, ctx.row_offset + ctx.n)
        else:
            stream_rows = ctx.row_ids.tolist()
        succ: list[tuple[int, Any]] = []  # successes: (record number, result)
        plain = True  # every success's result a dict without a null: merged column by column
        others: list[tuple[int, Outcome]] = []
        stop = ctx.stop  # checked at every record: a slow event must not hold a cancelled run
        for t, rec in enumerate(inputs):
            if stop is not None and stop.abandoned:
                check_abandoned()
            current.current = (rec, name, stream_rows[positions[t]])
            try:
                out = process(*[rec.get(f) for f in only])
            except Goto as g:
                ok_g = g.result_status
                o = Outcome(
                    ok=ok_g,
                    data=merge_result(rec, g.result, field),
                    attempts=1,
                    goto=g.descriptor,
                    error_type=None if ok_g else "EventFailed",
                )
                others.append((t, o))
                continue
            except Exception as exc:  # noqa: BLE001 - the record's failure, as the interpreter gives it
                o = Outcome(
                    ok=False, data=rec, error_type=type(exc).__name__, message=str(exc), attempts=1, raised=True
                )
                others.append((t, o))
                continue
            if type(out) is tuple and len(out) == 2 and out[0] is True:
                result = out[1]
                if plain and (type(result) is not dict or None in result.values()):
                    plain = False
                succ.append((t, result))
                continue
            if type(out) is not tuple or len(out) != 2:
                msg = f"{type(ev).__name__}.process() must return (ok, result), got {type(out).__name__}"
                o = Outcome(ok=False, data=rec, error_type="TypeError", message=msg, attempts=1, raised=True)
                others.append((t, o))
                continue
            ok, result = out
            data = merge_result(rec, result, field)
            err = None if ok else "EventFailed"
            others.append(
                (t, Outcome(ok=bool(ok), data=data, error_type=err, message=None if ok else str(result), attempts=1))
            )
        current.current = None
        with self._lock:
            self.records += group.n
        if plain and not others and succ:  # all succeeded with dict results: the input columns, and the results'
            results = uniform_frame([r for _, r in succ])
            if results is not None:
                k = group.state if target is None else ctx.index[target]
                return Exits(moves=[Move(k, target is None, group.rows, {**group.frame, **results})])
        moved: list[tuple[int, Any, str | None]] = []
        for t, result in succ:
            rec = inputs[t]
            merged = {**rec, **result} if type(result) is dict and None not in result.values() else None
            moved.append((t, merged if merged is not None else merge_result(rec, result, field), target))
        failed: list[tuple[int, str, str]] = []
        for t, o in others:
            step = ctx.py.route(name, o, field)
            if step.data is None:
                failed.append((t, step.error_type or "EventFailed", step.error_message or ""))
            else:
                moved.append((t, step.data, step.next_state))
        if others:
            moved.sort(key=lambda m: m[0])
        return exits_of(group, ctx, moved, failed, inputs, raw=True, attempts=[1] * group.n)

    def _run_batch(self, group: Group, ctx: BatchContext) -> Exits:
        """A ``process_batch`` event: the group as one polars DataFrame in, one of the same height out."""
        import polars as pl

        name = ctx.state_names[group.state]
        ev = self.spec.events[0]
        policy = type(ev).policy()
        frame = pl.from_arrow(group.table())
        assert isinstance(frame, pl.DataFrame)
        attempt = 0
        out: Any = None
        error: tuple[str, str] | None = None
        while True:
            attempt += 1
            try:
                out = ev.process_batch(frame)
            except Exception as exc:  # noqa: BLE001 - the batch's failure or retry, as the policy says
                wait = policy.retry_after(exc, attempt)
                if wait is None:
                    error = (type(exc).__name__, str(exc))
                    break
                time.sleep(wait)
                continue
            break
        with self._lock:
            self.records += group.n
            self.retries += attempt - 1
        if attempt > 1:
            ctx.retries[name] = ctx.retries.get(name, 0) + attempt - 1
        if error is None and not (isinstance(out, pl.DataFrame) and out.height == group.n):
            got = f"{out.height} rows" if isinstance(out, pl.DataFrame) else type(out).__name__
            error = (
                "TypeError",
                f"{type(ev).__name__}.process_batch() must return a DataFrame of {group.n} rows, got {got}",
            )
        stops = _stop_flags(self.spec)
        if stops and ctx.stop is not None and not ctx.stop.fired:
            if error is not None:
                why = _stop_reason(stops, ok=False, raised=True, message=error[1])
                if why is not None:
                    ctx.stop.fire(name, ctx.row_of(_pos(group, 0)), why)
            elif isinstance(out, pl.DataFrame) and "_ok" in out.columns:
                flags = out.get_column("_ok").fill_null(value=True).to_list()
                for t, k in enumerate(flags):
                    why = _stop_reason(stops, ok=bool(k), raised=False, message="marked failed by process_batch")
                    if why is not None:
                        ctx.stop.fire(name, ctx.row_of(_pos(group, t)), why)
                        break
            elif "success" in stops and group.n:
                ctx.stop.fire(name, ctx.row_of(_pos(group, 0)), "stop_on_success")
        if error is not None:  # every record of the batch: the failure arc, or failed
            outcomes = [
                Outcome(ok=False, data=r, error_type=error[0], message=error[1], attempts=attempt, raised=True)
                for r in group.records()
            ]
        else:
            ok = np.ones(group.n, np.bool_)
            if "_ok" in out.columns:
                flags = out.get_column("_ok")
                ok = flags.fill_null(value=True).cast(pl.Boolean).to_numpy().astype(np.bool_, copy=False)
                out = out.drop("_ok")
            merged = {**group.frame, **{c: from_arrow(out.get_column(c).to_arrow()) for c in out.columns}}
            merged = {k: c for k, c in merged.items() if c.kind != "null"}
            simple = ctx.py.routes_by_outcome_only(name)
            if simple is not None:
                return _columnar_exits(group, ctx, merged, ok, simple, attempt, name)
            records = Group(group.state, group.rows, merged, group.n).records()
            outcomes = [
                Outcome(
                    bool(k), r, None if k else "EventFailed", None if k else "marked failed by process_batch", attempt
                )
                for k, r in zip(ok.tolist(), records, strict=True)
            ]
        field = self.spec.result_field or ev.result_field
        moved: list[tuple[int, Any, str | None]] = []
        failed: list[tuple[int, str, str]] = []
        for t, o in enumerate(outcomes):
            step = ctx.py.route(name, o, field)
            if step.data is None:
                failed.append((t, step.error_type or "EventFailed", step.error_message or ""))
            else:
                moved.append((t, step.data, step.next_state))
        inputs = [o.data for o in outcomes]
        return exits_of(group, ctx, moved, failed, inputs, raw=True, attempts=[attempt] * group.n)


def _columnar_exits(
    group: Group,
    ctx: BatchContext,
    frame: Frame,
    ok: np.ndarray,
    routes: tuple[str | None, str | None, bool],
    attempts: int,
    name: str,
) -> Exits:
    """Exits of a batch event whose outcome alone picks the arc (no condition): moves cut from the columns."""
    success, failure, is_end = routes
    exits = Exits()
    n_ok = int(np.count_nonzero(ok))
    for good, target in ((True, success), (False, failure)):
        count = n_ok if good else group.n - n_ok
        if not count:
            continue
        whole = count == group.n  # every record of the group: its rows and columns as they are
        pos = None if whole else np.flatnonzero(ok if good else ~ok)
        at = group.rows if pos is None else rows_at(group.rows, pos)
        if target is None and (not good or not is_end):
            reason = "marked failed by process_batch" if not good else f"no arc from state {name!r} matched"
            kind = "EventFailed" if not good else "NoArcMatched"
            failed_rows = np.arange(group.n) if at is None else at
            exits.failures.append(
                Failure(failed_rows, group.state, [kind] * count, [reason] * count, attempts=[attempts] * count)
            )
            continue
        k = group.state if target is None else ctx.index[target]
        exits.moves.append(Move(k, target is None, at, take(frame, pos)))
    return exits


def _stop_flags(spec: EventSpec) -> frozenset[str]:
    """Which outcomes stop the run: ``"exception"``, ``"success"``, ``"error"`` (any event of the state's)."""
    out = set()
    for ev in spec.events:
        if ev.stop_on_exception:
            out.add("exception")
        if ev.stop_on_success:
            out.add("success")
        if ev.stop_on_error:
            out.add("error")
    return frozenset(out)


def _stop_reason(stops: frozenset[str], *, ok: bool, raised: bool, message: str | None) -> str | None:
    """The reason a record with this outcome stops the run, or ``None``."""
    if raised and "exception" in stops:
        return f"stop_on_exception: {message}"
    if not ok and "error" in stops:
        return f"stop_on_error: {message}"
    if ok and "success" in stops:
        return "stop_on_success"
    return None


def _pos(group: Group, t: int) -> int:
    """The batch position of the group's ``t``-th record."""
    return t if group.rows is None else int(group.rows[t])


def batch_event(spec: EventSpec) -> Any:
    """The state's event when it is one event that defines ``process_batch`` (``None`` otherwise)."""
    if len(spec.events) != 1:
        return None
    ev = spec.events[0]
    return ev if callable(getattr(ev, "process_batch", None)) else None
