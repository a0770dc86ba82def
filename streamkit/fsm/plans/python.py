"""The Python plan: a state run record by record through the reference interpreter's step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from streamkit._arrow.records import add_to_type_group
from streamkit._owner import by_row
from streamkit.fsm.columns import from_arrow
from streamkit.fsm.interpret import normalize_result
from streamkit.fsm.plans.base import BatchContext, Exits, Failure, Frame, Group, Move

__all__ = ("PythonPlan", "exits_of", "uniform_frame")

_PLAIN = frozenset({int, float, bool, str, type(None)})
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclass(eq=False)
class PythonPlan:
    """A state that runs as per-record Python, and why.

    Each record is given to the state's transform and conditions as ``state.data``
    (a mapping of its non-null fields), exactly as
    :meth:`~streamkit.fsm.interpret.PyNetwork.step` defines the semantics. The
    records that move on are turned back into columns, one group per target state
    and, where a field holds values of several Python types, per typing of their
    fields (one Arrow column holds one type, and later states must see each value's
    own type: ``1`` is not ``1.0``). Results are checked a column at a time; a record
    whose result breaks a rule (a key that is not a str, a value Arrow cannot hold,
    an int outside int64) fails with the error the interpreter gives it.
    """

    reason: str
    backend: str = "python"
    #: records run through this plan so far (what ``explain()`` reports)
    records: int = 0

    def run(self, group: Group, ctx: BatchContext) -> Exits:
        """Run every record of the group through the state in Python."""
        self.records += group.n  # (threads may lose an update: a count for people, not for accounting)
        inputs = group.records()
        rows = None
        if by_row():  # records of many owners (a network flow's jobs): keep each record's row for the loop
            positions = range(group.n) if group.rows is None else group.rows.tolist()
            rows = [ctx.row_of(p) for p in positions]
        moved, failed, raw = ctx.py.step_many(ctx.state_names[group.state], inputs, rows=rows)
        return exits_of(group, ctx, moved, failed, inputs, raw=raw)


def exits_of(
    group: Group,
    ctx: BatchContext,
    moved: list[tuple[int, Any, str | None]],
    failed: list[tuple[int, str, str]],
    inputs: list[dict[str, Any]],
    *,
    raw: bool,
    attempts: list[int] | None = None,
) -> Exits:
    """The exits of records a state ran in Python: ``moved`` ``(record number, data, next state or None at an
    end state)`` as columns, one group per target (and per typing of its fields), and ``failed`` ``(record
    number, error type, message)``. ``raw``: results not yet checked (see ``PyNetwork.step_many``);
    ``attempts``: per record, the calls an event state made (kept with the failed ones)."""
    rows = np.arange(group.n) if group.rows is None else group.rows
    by_target: dict[str | None, list[tuple[int, Any, str | None]]] = {}
    for item in moved:
        by_target.setdefault(item[2], []).append(item)
    exits = Exits()
    for target, items in by_target.items():
        k = group.state if target is None else ctx.index[target]
        ts = [t for t, _, _ in items]
        records = [d for _, d, _ in items]
        frame = uniform_frame(records)  # the usual case: every result has the same fields, plainly typed
        if frame is not None:
            exits.moves.append(Move(k, target is None, rows[np.array(ts, np.int64)], frame))
            continue
        if raw and not _plain(records):  # some result breaks a rule: find them, record by record
            ts, records = _checked(ts, records, inputs, failed)
        for g_ts, g_frame in _frames(ts, records):
            exits.moves.append(Move(k, target is None, rows[np.array(g_ts, np.int64)], g_frame))
    if failed:
        failed.sort()
        at = np.array([t for t, _, _ in failed], np.int64)
        tries = None if attempts is None else [attempts[t] for t, _, _ in failed]
        exits.failures.append(
            Failure(rows[at], group.state, [e for _, e, _ in failed], [m for _, _, m in failed], attempts=tries)
        )
    return exits


def uniform_frame(records: list[dict[str, Any]]) -> Frame | None:
    """Columns of results that all have the same fields in the same order, each of one plain type and
    within int64 (what a dict literal returns); ``None`` for anything else (checked the long way)."""
    if not records:
        return None
    names = tuple(records[0])
    if set(map(type, names)) - {str} or len(set(map(tuple, records))) != 1:
        return None
    frame: Frame = {}
    for name in names:
        values = [r[name] for r in records]
        kinds = set(map(type, values))
        kinds.discard(type(None))
        if len(kinds) > 1 or not kinds <= _PLAIN:
            return None
        if int in kinds:
            ints = [v for v in values if v is not None]
            if min(ints) < _INT64_MIN or max(ints) > _INT64_MAX:
                return None
        col = from_arrow(pa.array(values))
        if col.kind != "null":
            frame[name] = col
    return frame


def _plain(records: list[dict[str, Any]]) -> bool:
    """Whether every result holds only str keys and None, bool, int64, float and str values."""
    keys: dict[Any, None] = {}
    kinds: set[type] = set()
    for r in records:
        keys.update(dict.fromkeys(r))
        kinds.update(map(type, r.values()))
    if set(map(type, keys)) - {str} or kinds - _PLAIN:
        return False
    if int in kinds:
        ints = [v for r in records for v in r.values() if type(v) is int]
        return min(ints) >= _INT64_MIN and max(ints) <= _INT64_MAX
    return True


def _checked(
    ts: list[int], records: list[Any], inputs: list[Any], failed: list[tuple[int, str, str]]
) -> tuple[list[int], list[Any]]:
    """The results that pass the interpreter's checks; the others join ``failed`` with its error."""
    ok_ts, ok = [], []
    for t, r in zip(ts, records):
        try:
            r = normalize_result(r, inputs[t])
        except Exception as exc:  # noqa: BLE001 - the record's failure, as the interpreter reports it
            failed.append((t, type(exc).__name__, str(exc)))
            continue
        ok_ts.append(t)
        ok.append(r)
    return ok_ts, ok


def _frames(ts: list[int], records: list[dict[str, Any]]) -> list[tuple[list[int], Frame]]:
    """Records as columns: one frame when every field holds one Python type, else one per typing."""
    keys: dict[str, None] = {}
    for r in records:
        keys.update(dict.fromkeys(r))
    frame: Frame = {}
    for f in keys:
        values = [r.get(f) for r in records]
        kinds = set(map(type, values))
        kinds.discard(type(None))
        if len(kinds) > 1:
            return _typed_frames(ts, records)
        try:
            col = from_arrow(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return _typed_frames(ts, records)  # nested values whose shapes differ
        if col.kind != "null":
            frame[f] = col
    return [(ts, frame)]


def _typed_frames(ts: list[int], records: list[dict[str, Any]]) -> list[tuple[list[int], Frame]]:
    groups: list[tuple[dict[str, type], list[int], list[Any]]] = []
    for t, r in zip(ts, records):
        add_to_type_group(groups, t, {k: v for k, v in r.items() if v is not None})
    out = []
    for _, g_ts, g_records in groups:
        keys: dict[str, None] = {}
        for r in g_records:
            keys.update(dict.fromkeys(r))
        frame: Frame = {f: from_arrow(pa.array([r.get(f) for r in g_records])) for f in keys}
        out.append((g_ts, {f: c for f, c in frame.items() if c.kind != "null"}))
    return out
