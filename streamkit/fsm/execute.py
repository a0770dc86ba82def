"""Run one Arrow batch through a compiled network.

Records move between states as groups: row positions plus a frame of columns
(views, see :mod:`streamkit.fsm.columns`). Each group runs its state's plan
once (:mod:`streamkit.fsm.plans`: a fused kernel, or Python); its exits are
routed on, until every record has ended in an end state or failed. Then each
end state's table, the failed records' table and the status column are built.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from kernels.gather import add_offset, fill_range
from streamkit._arrow.build import empty_table, from_numpy, strings
from streamkit._arrow.tables import ROW_FIELD
from streamkit._arrow.unify import unify_arrays
from streamkit._memory import SLABS
from streamkit._owner import WORK, check_abandoned
from streamkit.fsm.columns import ArrowCol, Col, from_arrow
from streamkit.fsm.compile import CompiledNetwork
from streamkit.fsm.interpret import step_limit_message
from streamkit.fsm.plans.base import BatchContext, Exits, Failure, Frame, Group, Move, StopSignal, rows_at
from streamkit.status.codes import EventStatus

__all__ = ("BatchResult", "run_batch")

COMPLETED = int(EventStatus.COMPLETED)


@dataclass
class BatchResult:
    """What one batch became: a table per end state, failed records, a status per record."""

    n: int
    outputs: dict[str, pa.Table]
    errors: pa.Table
    status: np.ndarray  # uint8 per input record
    end_state: np.ndarray  # int16 per input record: index of its end state, -1 if failed
    end_state_counts: dict[str, int] = field(default_factory=dict)
    #: retries event states made, by state name
    retries: dict[str, int] = field(default_factory=dict)


@dataclass
class _Run:
    net: CompiledNetwork
    ctx: BatchContext
    n: int
    steps: np.ndarray
    work: deque[Group] = field(default_factory=deque)
    done: dict[int, list[tuple[np.ndarray | None, Frame]]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

    def route(self, exits: Exits) -> None:
        """Records that ended go to their end state's pieces, the others on to their next state."""
        self.failures += exits.failures
        for mv in exits.moves:
            n = self.n if mv.rows is None else len(mv.rows)
            if mv.end:
                self.done.setdefault(mv.target, []).append((mv.rows, mv.frame))
            elif n:
                self.work.append(Group(mv.target, mv.rows, mv.frame, n))


def run_batch(
    net: CompiledNetwork,
    batch: pa.RecordBatch | pa.Table,
    *,
    row_offset: int = 0,
    row_ids: np.ndarray | None = None,
    range_ids: np.ndarray | None = None,
    stop: StopSignal | None = None,
) -> BatchResult:
    """Run every record of ``batch`` to an end state or to failure.

    ``row_offset`` is the position of the batch's first record in the stream; it
    is added to the ``_row`` column of every output. ``row_ids`` (int64, one per
    record) gives the positions explicitly instead. ``range_ids``, when given,
    holds ``row_offset, row_offset + 1, ...`` (int64, one per record, never
    written): the ``_row`` of an end state every record reached is that array
    rather than a new one. ``stop`` is the run's stop signal, which event states
    with stop flags raise. ``_row`` is the position
    only: an input field of that name is not part of the record, and a
    transform's ``_row`` key is replaced by the position in the outputs.
    """
    n = batch.num_rows
    ctx = BatchContext(
        net.index,
        net.state_names,
        lambda: net.py,
        {},
        n,
        stop=stop,
        row_offset=row_offset,
        row_ids=row_ids,
        schema_fields=tuple(k for k in batch.schema.names if k != ROW_FIELD),
    )
    run = _Run(net, ctx, n, np.zeros(n if net.counts_steps else 0, np.int32))
    frame: Frame = {}
    for name, col in zip(batch.schema.names, batch.columns):
        if name == ROW_FIELD:
            continue
        c = from_arrow(col)
        if c.kind != "null":
            frame[name] = c
    if n:
        run.work.append(Group(net.start, None, frame, n))
    outer = getattr(WORK, "stop", None)
    WORK.stop = stop  # record loops that run Python give up when the run is cancelled
    try:
        while run.work:
            _visit(run, run.work.popleft())
    finally:
        WORK.stop = outer
    if range_ids is not None and (row_ids is not None or len(range_ids) != n):
        range_ids = None
    return _assemble(run, batch, row_offset, row_ids, range_ids)


def _visit(run: _Run, group: Group) -> None:
    net = run.net
    if net.counts_steps:
        group = _count_step(run, group)
        if group.n == 0:
            return
    if run.ctx.stop is not None and run.ctx.stop.abandoned:
        check_abandoned()
    info = net.states[group.state]
    if info.routing_only and len(info.region) == 1:  # every record takes the first arc, or ends here
        target = group.state if info.is_end else net.index[info.targets[0]]
        run.route(Exits([Move(target, info.is_end, group.rows, group.frame)]))
        return
    plan = net.plan(group.state, tuple((k, c.kind) for k, c in group.frame.items()))
    run.route(plan.run(group, run.ctx))


def _count_step(run: _Run, group: Group) -> Group:
    """Count a state visit for each record; fail those over the step limit."""
    net = run.net
    rows = group.rows
    idx = slice(None) if rows is None else rows
    run.steps[idx] += 1
    if run.steps[idx].max() <= net.max_steps:
        return group
    over = run.steps[idx] > net.max_steps
    bad = np.flatnonzero(over)
    k = len(bad)
    run.failures.append(
        Failure(rows_at(rows, bad), group.state, ["StepLimitExceeded"] * k, [step_limit_message(net.max_steps)] * k)
    )
    return group.subset(np.flatnonzero(~over))


def _assemble(
    run: _Run,
    batch: pa.RecordBatch | pa.Table,
    row_offset: int,
    row_ids: np.ndarray | None,
    range_ids: np.ndarray | None,
) -> BatchResult:
    net = run.net
    n = run.n
    status = np.full(n, COMPLETED, np.uint8)
    # the end state per record: filled with the largest group's, the others written over it
    big: Any = None
    big_state, big_n = -1, 0
    for s, pieces in run.done.items():
        for rows, _ in pieces:
            k = n if rows is None else len(rows)
            if k > big_n:
                big, big_state, big_n = rows, s, k
    end_state = np.full(n, big_state, np.int16)
    built: dict[int, pa.Table | dict[str, Any]] = {}
    jobs: list[tuple[bool, int, int, str, Col]] = []
    for s, info in enumerate(net.states):
        if not info.is_end:
            continue
        pieces = run.done.get(s, [])
        for rows, _ in pieces:
            if rows is not big:
                end_state[slice(None) if rows is None else rows] = s
        if len(pieces) != 1:
            built[s] = _end_table(pieces, n, row_offset, row_ids if range_ids is None else range_ids)
            continue
        # records reached this end state through one exit: already in order
        rows, fr = pieces[0]
        data: dict[str, Any] = {ROW_FIELD: _row_array(rows, n, row_offset, row_ids, range_ids)}
        data.update(dict.fromkeys(k for k in fr if k != ROW_FIELD))
        built[s] = data
        jobs += [(c.written, id(c.base), s, k, c) for k, c in fr.items() if k != ROW_FIELD]
    # kernel-written columns first (still in cache from the kernel), then the input columns,
    # each input array's selections one after another (its rows still in cache for the sparse
    # ones: halves the seed's error-table gathers)
    jobs.sort(key=lambda j: (not j[0], j[1]))
    runs: dict = {}
    for _, _, at, name, c in _take_sparse_together(jobs, built):
        built[at][name] = c.to_arrow(runs)
    outputs: dict[str, pa.Table] = {}
    counts: dict[str, int] = {}
    for s, t in built.items():
        table = pa.Table.from_arrays(list(t.values()), names=list(t)) if isinstance(t, dict) else t
        name = net.states[s].name
        outputs[name] = table
        counts[name] = table.num_rows
    if big_state >= 0:
        for f in run.failures:
            end_state[f.rows] = -1
    errors = _error_table(run, batch, row_offset, status, row_ids)
    return BatchResult(n, outputs, errors, status, end_state, counts, dict(run.ctx.retries))


#: An end state that keeps at most this share of a batch's rows gathers its input columns in one
#: Arrow ``take`` (one call for every column: a column's own gather costs ~15 µs of Python).
SPARSE_SHARE = 1 / 8


def _take_sparse_together(
    jobs: list[tuple[bool, int, int, str, Col]], built: dict[int, Any]
) -> list[tuple[bool, int, int, str, Col]]:
    """Gather the input columns of each sparse end state in one ``take``; the jobs left to do."""
    sparse: dict[tuple[int, int], list[tuple[str, ArrowCol]]] = {}
    rest = []
    for job in jobs:
        _, _, at, name, c = job
        if isinstance(c, ArrowCol) and c.ix is not None and len(c.ix) <= SPARSE_SHARE * len(c.arr):
            sparse.setdefault((at, id(c.ix)), []).append((name, c))
        else:
            rest.append(job)
    for (at, _), cols in sparse.items():
        n_src = len(cols[0][1].arr)
        if len(cols) < 3 or any(len(c.arr) != n_src for _, c in cols):
            rest += [(False, id(c.base), at, name, c) for name, c in cols]
            continue
        ix = cols[0][1].ix
        assert ix is not None
        batch = pa.RecordBatch.from_arrays([c.arr for _, c in cols], names=[str(k) for k in range(len(cols))])
        taken = batch.take(from_numpy(ix))
        for (name, _), arr in zip(cols, taken.columns, strict=True):
            built[at][name] = arr
    return rest


def _row_array(
    rows: np.ndarray | None, n: int, row_offset: int, row_ids: np.ndarray | None, range_ids: np.ndarray | None
) -> pa.Array:
    """The ``_row`` column of records at positions ``rows`` of the batch (all if ``None``)."""
    if row_ids is not None:
        ids = np.ascontiguousarray(row_ids if rows is None else row_ids[rows], dtype=np.int64)
    elif rows is None and range_ids is not None:
        ids = range_ids
    elif rows is None:
        ids = SLABS.empty(n, np.int64)
        fill_range(ids, row_offset)
    elif row_offset == 0 and rows.dtype == np.int64 and rows.flags.c_contiguous:
        ids = rows  # positions are never written after routing: shared, not copied
    else:
        ids = SLABS.empty(len(rows), np.int64)
        add_offset(rows, row_offset, ids)
    return pa.Array.from_buffers(pa.int64(), len(ids), [None, pa.py_buffer(ids)], 0)


#: The table of an end state no record reached (immutable, so shared).
_EMPTY_END = pa.table({"_row": pa.nulls(0, pa.int64())})


def _end_table(
    pieces: list[tuple[np.ndarray | None, Frame]], n: int, row_offset: int, row_ids: np.ndarray | None
) -> pa.Table:
    if not pieces:
        return _EMPTY_END
    names: dict[str, None] = {}
    for _, fr in pieces:
        names.update(dict.fromkeys(fr))
    names.pop(ROW_FIELD, None)
    row_arrays: list[np.ndarray | None]
    if len(pieces) == 1 and pieces[0][0] is None:  # every record ended here, in order
        row_arrays = [None]
    else:
        row_arrays = [np.arange(n, dtype=np.int64) if r is None else r for r, _ in pieces]
    columns: dict[str, list[pa.Array]] = {k: [] for k in names}
    for (_, fr), ra in zip(pieces, row_arrays, strict=True):
        for k in names:
            c = fr.get(k)
            columns[k].append(c.to_arrow() if c is not None else pa.nulls(n if ra is None else len(ra)))
    if row_arrays[0] is None:
        all_rows = np.arange(row_offset, row_offset + n, dtype=np.int64) if row_ids is None else row_ids
    else:
        all_rows = np.concatenate([r for r in row_arrays if r is not None])
        all_rows = all_rows + row_offset if row_ids is None else row_ids[all_rows]
    data = {"_row": from_numpy(all_rows)}
    for k, arrs in columns.items():
        arrs = unify_arrays(arrs)
        data[k] = arrs[0] if len(arrs) == 1 else pa.concat_arrays(arrs)
    table = pa.table(data)
    if len(pieces) > 1:
        table = table.take(from_numpy(np.argsort(all_rows, kind="stable")))
    return table


def _empty_errors(net: CompiledNetwork, schema: pa.Schema) -> pa.Table:
    """The (immutable, so shared) empty error table for batches of this schema."""
    cache = net.empty_errors
    t = cache.get(schema)
    if t is None:
        fields = [
            pa.field("_row", pa.int64()),
            pa.field("error_state", pa.string()),
            pa.field("error_type", pa.string()),
            pa.field("error_message", pa.string()),
        ]
        names = {f.name for f in fields}
        fields += [f for f in schema if f.name not in names]
        t = empty_table(pa.schema(fields))
        if len(cache) > 64:
            cache.clear()
        cache[schema] = t
    return t


def _error_table(
    run: _Run, batch: pa.RecordBatch | pa.Table, row_offset: int, status: np.ndarray, row_ids: np.ndarray | None
) -> pa.Table:
    """The failed records (and those that ended skipped or cancelled) with their input fields; sets their status."""
    if not run.failures:
        return _empty_errors(run.net, batch.schema)
    names = list(batch.schema.names)
    rows = np.concatenate([f.rows for f in run.failures])
    states: list[str] = []
    types: list[str] = []
    msgs: list[str] = []
    attempts: list[int | None] | None = None
    if any(f.attempts is not None for f in run.failures):
        attempts = []
    for f in run.failures:
        states += f.state if isinstance(f.state, list) else [run.net.state_names[f.state]] * len(f.rows)
        types += f.types
        msgs += f.messages
        if attempts is not None:
            attempts += f.attempts if f.attempts is not None else [None] * len(f.rows)
        status[f.rows] = f.status
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    sel = order.tolist()
    taken = batch.take(from_numpy(rows))
    data: dict[str, Any] = {
        "_row": from_numpy(rows + row_offset if row_ids is None else row_ids[rows]),
        "error_state": strings([states[i] for i in sel]),
        "error_type": strings([types[i] for i in sel]),
        "error_message": strings([msgs[i] for i in sel]),
    }
    if attempts is not None:  # failures of event states: how many calls each record had
        data["attempts"] = pa.array([attempts[i] for i in sel], pa.int64())
    for k in names:
        if k not in data:
            data[k] = taken.column(k)
    return pa.table(data)
