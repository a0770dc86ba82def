"""The per-record reference interpreter: the FSM semantics, one record at a time.

This is the definition the compiled engine must agree with (DESIGN.md §3):

1. the record enters the start state;
2. in a state with a transform, ``data = transform(state)``; the result is the
   record from then on;
3. in an end state the record stops: completed;
4. otherwise the outgoing arcs are tried by priority (higher first), then in
   declaration order; the first arc without condition or with a truthy one is taken;
5. a transform or condition that raises, no matching arc, or more than
   ``max_steps`` state visits fail the record with the state, error type and message.

It also runs states that the compiler hands to Python, and states that run
events (seed 003): the events run first (:func:`~streamkit.events.runner.run_events`),
then the arcs their outcome allows are tried as in 4 (:meth:`PyNetwork.route`):

- after ``goto(d)``: the arcs whose ``on`` is ``d`` (none: ``GotoError``);
- after a success: the arcs without ``on`` or with ``on: success``;
- after a failure: the arcs with ``on: failure``; when there are none the record
  fails with the event's error (``EventFailed`` and the result, or the exception);
- an end state completes a record its events succeeded on, and fails the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from streamkit._owner import RECORD, check_abandoned
from streamkit.config import FSMConfig, NetworkConfig, load_config
from streamkit.events.runner import NO_GOTO, Outcome, merge_result, run_events
from streamkit.expr.ints import INT64_MAX, INT64_MIN, OVERFLOW_MESSAGE
from streamkit.fsm.pyfunc import make_callable
from streamkit.record import RecordData, State

__all__ = (
    "RecordOutcome",
    "StateStep",
    "PyNetwork",
    "interpret",
    "normalize_result",
    "step_limit_message",
    "DEFAULT_MAX_STEPS",
)

#: How many state visits a record may make before it fails with StepLimitExceeded.
DEFAULT_MAX_STEPS = 1000


@dataclass
class RecordOutcome:
    """What became of one record."""

    status: str  # "completed" | "failed"
    data: dict[str, Any] = field(default_factory=dict)
    end_state: str | None = None
    error_state: str | None = None
    error_type: str | None = None
    error_message: str | None = None


@dataclass
class StateStep:
    """The outcome of running one state on one record.

    ``next_state`` is the target of the arc taken (``None`` when the state is an
    end state or the record failed).
    """

    data: dict[str, Any] | None
    next_state: str | None = None
    error_type: str | None = None
    error_message: str | None = None


def normalize_result(result: Any, inputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A transform's result as the record's new fields (null values dropped).

    Raises ``TypeError`` when the result is not a mapping or a key is not a str, and
    ``OverflowError`` for an int outside int64 that the transform computed (an input
    value passed through unchanged, e.g. from a uint64 column, is not a result).
    """
    if type(result) is RecordData:
        return result.to_dict()
    if type(result) is dict:  # the usual case, checked a whole record at a time; anything unusual: below
        kinds = set(map(type, result.values()))
        if (
            set(map(type, result)) <= _STR
            and kinds <= _PLAIN
            and (int not in kinds or all(INT64_MIN <= v <= INT64_MAX for v in result.values() if type(v) is int))
        ):
            return {k: v for k, v in result.items() if v is not None} if type(None) in kinds else result
    elif not isinstance(result, Mapping):
        msg = f"transform must return a mapping, got {type(result).__name__}"
        raise TypeError(msg)
    out: dict[str, Any] = {}
    for k, v in result.items():
        if type(k) is not str and not isinstance(k, str):
            msg = f"field names must be str, got {type(k).__name__} {k!r}"
            raise TypeError(msg)
        if v is not None:
            t = type(v)
            if t is int and not (INT64_MIN <= v <= INT64_MAX):
                if inputs is None or not any(v is x for x in inputs.values()):
                    raise OverflowError(OVERFLOW_MESSAGE)
            elif t not in _STORABLE and not _storable(t, v):
                msg = f"cannot store a {t.__name__} value in field {k!r} (Arrow has no such type)"
                raise TypeError(msg)
            out[k] = v
    return out


_STORABLE = {int, float, bool, str, bytes, list, dict, tuple}
_PLAIN = frozenset({int, float, bool, str, type(None)})
_STR = frozenset({str})
_NOT_STORABLE: set[type] = set()


def _storable(t: type, v: Any) -> bool:
    """Whether Arrow can hold values of this type (learned once per type)."""
    if t in _NOT_STORABLE:
        return False
    import pyarrow as pa

    try:
        pa.array([v])
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        _NOT_STORABLE.add(t)
        return False
    _STORABLE.add(t)
    return True


class PyNetwork:
    """A network whose states run as per-record Python.

    Parameters
    ----------
    network:
        The validated network.
    allow_python:
        When false, inline code sees only safe builtins.
    """

    def __init__(self, network: NetworkConfig, *, allow_python: bool = True) -> None:
        self.network = network
        self.start = network.start.name
        self.is_end = {s.name: s.is_end for s in network.states}
        self.transforms: dict[str, Callable[[State], Any] | None] = {
            s.name: make_callable(s.transform, allow_python=allow_python) if s.transform else None
            for s in network.states
        }
        self.arcs: dict[str, list[tuple[str, Callable[[State], Any] | None]]] = {
            s.name: [
                (a.target, make_callable(a.condition, allow_python=allow_python) if a.condition else None)
                for a in network.arcs_from(s.name)
            ]
            for s in network.states
        }
        #: per state, each arc's ``on`` (in the order the arcs are tried)
        self.arc_on: dict[str, list[str | int | None]] = {
            s.name: [a.on for a in network.arcs_from(s.name)] for s in network.states
        }
        self.events = {s.name: s.event for s in network.states if s.event is not None}
        #: the input's field names (the union of its records' keys, as the engine's schema holds them): an
        #: event parameter named like one gets the field's value, ``None`` where a record lacks it
        self.schema_fields: tuple[str, ...] = ()
        #: per event state, the arcs each outcome may take: "success", "failure" and each goto descriptor
        self._by_outcome: dict[str, dict[Any, list[tuple[str, Callable[[State], Any] | None]]]] = {}
        for name in self.events:
            table: dict[Any, list[tuple[str, Callable[[State], Any] | None]]] = {"success": [], "failure": []}
            for arc, on in zip(self.arcs[name], self.arc_on[name], strict=True):
                table.setdefault("success" if on is None else on, []).append(arc)
            self._by_outcome[name] = table

    def routes_by_outcome_only(self, name: str) -> tuple[str | None, str | None, bool] | None:
        """``(success target, failure target, is end)`` when an event state's outcome alone picks its arc
        (the first arc for each outcome has no condition; ``None``: no arc for it), else ``None``."""
        if self.is_end[name]:  # arcs leaving an end state are never followed
            return None, None, True
        table = self._by_outcome[name]
        picked: list[str | None] = []
        for key in ("success", "failure"):
            arcs = table.get(key) or []
            if arcs and arcs[0][1] is not None:
                return None
            picked.append(arcs[0][0] if arcs else None)
        return picked[0], picked[1], self.is_end[name]

    def route(self, name: str, outcome: Outcome, result_field: str) -> StateStep:
        """Where a record goes after state ``name``'s events gave ``outcome`` (see the module docstring)."""
        data = outcome.data
        if outcome.goto is not NO_GOTO:
            wanted: Any = outcome.goto
        elif outcome.ok:
            wanted = "success"
        else:
            wanted = "failure"
        if self.is_end[name]:
            if outcome.ok and outcome.goto is NO_GOTO:
                return StateStep(data)
            if outcome.goto is not NO_GOTO:
                return StateStep(None, None, "GotoError", f"state {name!r} is an end state: goto {outcome.goto!r}")
            return StateStep(None, None, outcome.error_type, outcome.message)
        arcs = self._by_outcome[name].get(wanted)
        if not arcs:
            if outcome.goto is not NO_GOTO:
                msg = f"no arc from state {name!r} has on: {outcome.goto!r} (goto)"
                return StateStep(None, None, "GotoError", msg)
            if not outcome.ok:
                return StateStep(None, None, outcome.error_type, outcome.message)
            return StateStep(None, None, "NoArcMatched", f"no arc from state {name!r} matched")
        if outcome.raised and wanted == "failure":  # the failure arc sees why
            data = merge_result(data, outcome.message, result_field)
        if arcs[0][1] is None:  # the first arc has no condition: taken
            return StateStep(data, arcs[0][0])
        try:
            st = State(RecordData._wrap(data), name)
            for target, cond in arcs:
                if cond is None or cond(st):
                    return StateStep(data, target)
        except Exception as exc:  # noqa: BLE001 - a record's failure, reported with its type
            return StateStep(None, None, type(exc).__name__, str(exc))
        return StateStep(None, None, "NoArcMatched", f"no arc from state {name!r} matched")

    def run_events(
        self,
        name: str,
        records: list[dict[str, Any]],
        *,
        fields: list[str] | None = None,
        rows: Any = None,
        pools: Any = None,
    ) -> list[tuple[Outcome, StateStep]]:
        """State ``name``'s events on ``records``, and where each record goes after them.

        ``fields``: the names of the records' schema (default: the input's fields and every key the records have).
        """
        spec = self.events[name]
        if fields is None:
            fields = list(dict.fromkeys([*self.schema_fields, *(k for r in records for k in r)]))
        outcomes = run_events(
            list(spec.events),
            records,
            fields,
            state=name,
            rows=rows,
            pools=pools,
            evaluation=spec.evaluation,
            result_field=spec.result_field,
        )
        field = spec.result_field or spec.events[0].result_field
        return [(o, self.route(name, o, field)) for o in outcomes]

    def step(self, name: str, data: dict[str, Any]) -> StateStep:
        """Run state ``name`` on one record: its transform, then (unless an end state) its arcs."""
        if name in self.events:
            return self.run_events(name, [data])[0][1]
        fn = self.transforms[name]
        try:
            if fn is not None:
                data = normalize_result(fn(State(RecordData._wrap(data), name)), data)
            if self.is_end[name]:
                return StateStep(data)
            st = State(RecordData._wrap(data), name)
            for target, cond in self.arcs[name]:
                if cond is None or cond(st):
                    return StateStep(data, target)
        except Exception as exc:  # noqa: BLE001 - a record's failure, reported with its type
            return StateStep(None, None, type(exc).__name__, str(exc))
        return StateStep(None, None, "NoArcMatched", f"no arc from state {name!r} matched")

    def step_many(
        self, name: str, records: list[dict[str, Any]], *, rows: list[int] | None = None
    ) -> tuple[list[tuple[int, Any, str | None]], list[tuple[int, str, str]], bool]:
        """:meth:`step` for many records at once, without an object per record (the Python plan's loop).

        Returns ``(moved, failed, raw)``: ``(record number, data, next state or None when
        the state is an end state)`` and ``(record number, error type, message)``. When no
        condition reads a transform's result (an end state, or a first arc without one),
        plain dict results are not normalized here (``raw``): the caller checks them a
        column at a time and gives :func:`normalize_result`'s error to any that fails.

        With ``rows`` (each record's stream row), the record being run is kept in
        :data:`streamkit._owner.RECORD` meanwhile, so code can ask whose record it is.
        """
        if rows is not None:
            try:
                return self._step_many_tracked(name, records, rows)
            finally:
                RECORD.current = None
        fn = self.transforms[name]
        arcs = self.arcs[name]
        end = self.is_end[name]
        raw = fn is not None and (end or (bool(arcs) and arcs[0][1] is None))
        moved: list[tuple[int, Any, str | None]] = []
        failed: list[tuple[int, str, str]] = []
        no_arc = f"no arc from state {name!r} matched"
        # one State for every call: inline code reads fields with .get, so records are passed as the
        # dicts they are, and nothing keeps the state past its call
        st = State._of({}, name)
        for t, data in enumerate(records):
            if not t & 255:
                check_abandoned()
            try:
                if fn is not None:
                    st.data = data
                    result = fn(st)
                    data = result if raw and type(result) is dict else normalize_result(result, data)
                if end:
                    moved.append((t, data, None))
                    continue
                st.data = data
                for target, cond in arcs:
                    if cond is None or cond(st):
                        moved.append((t, data, target))
                        break
                else:
                    failed.append((t, "NoArcMatched", no_arc))
            except Exception as exc:  # noqa: BLE001 - a record's failure, reported with its type
                failed.append((t, type(exc).__name__, str(exc)))
        return moved, failed, raw

    def _step_many_tracked(
        self, name: str, records: list[dict[str, Any]], rows: list[int]
    ) -> tuple[list[tuple[int, Any, str | None]], list[tuple[int, str, str]], bool]:
        """:meth:`step_many` one record at a time, each kept in :data:`~streamkit._owner.RECORD` while it runs."""
        moved: list[tuple[int, Any, str | None]] = []
        failed: list[tuple[int, str, str]] = []
        raw = False
        for t, data in enumerate(records):
            RECORD.current = (data, name, rows[t])
            m, f, raw = self.step_many(name, [data])
            moved.extend((t, d, target) for _, d, target in m)
            failed.extend((t, e, msg) for _, e, msg in f)
        return moved, failed, raw

    def run(
        self, fields: Mapping[str, Any], *, max_steps: int = DEFAULT_MAX_STEPS, state: str | None = None, steps: int = 0
    ) -> RecordOutcome:
        """Run one record from ``state`` (default: the start state) to its end."""
        name = self.start if state is None else state
        data = {k: v for k, v in fields.items() if v is not None}
        while True:
            steps += 1
            if steps > max_steps:
                return RecordOutcome(
                    "failed",
                    error_state=name,
                    error_type="StepLimitExceeded",
                    error_message=step_limit_message(max_steps),
                )
            out = self.step(name, data)
            if out.data is None:
                return RecordOutcome(
                    "failed", error_state=name, error_type=out.error_type, error_message=out.error_message
                )
            if out.next_state is None:
                return RecordOutcome("completed", data=dict(out.data), end_state=name)
            name, data = out.next_state, out.data


def step_limit_message(max_steps: int) -> str:
    """The message of a StepLimitExceeded failure."""
    return f"record visited more than {max_steps} states (a cycle without exit?)"


def interpret(
    config: FSMConfig | Mapping[str, Any],
    records: Iterable[Mapping[str, Any]],
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> list[RecordOutcome]:
    """Run every record through the main network in plain Python.

    This is the reference the compiled engine is tested against.

    Examples
    --------
    >>> cfg = {"networks": [{"name": "main",
    ...     "states": [{"name": "a", "is_start": True}, {"name": "b", "is_end": True}],
    ...     "arcs": [{"from": "a", "to": "b", "condition": "lambda state: state.data['x'] > 0"}]}]}
    >>> [(o.status, o.end_state, o.error_type) for o in interpret(cfg, [{"x": 1}, {"x": None}])]
    [('completed', 'b', None), ('failed', None, 'TypeError')]
    """
    cfg = load_config(config, functions=functions)
    net = PyNetwork(cfg.main)
    records = list(records)
    net.schema_fields = tuple(dict.fromkeys(k for r in records for k in r))
    return [net.run(r, max_steps=max_steps) for r in records]
