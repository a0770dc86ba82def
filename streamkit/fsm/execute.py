"""Run one Arrow batch through a compiled network.

Records move between states as groups: row positions plus a frame of columns
(views, see :mod:`streamkit.fsm.columns`). Each group runs its state's kernel
once; the kernel writes the positions of the records leaving at each exit.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from kernels.gather import add_offset, fill_range
from streamkit._arrow.tables import ROW_FIELD
from streamkit._arrow.unify import unify_arrays
from streamkit.expr.layout import Absent, Computed, InputField, RecordEntry, RestOfInput, StateKernelSource
from streamkit.expr.values import StrOpFailure
from streamkit.fsm.columns import Col, from_arrow, py_column
from streamkit.fsm.compile import CompiledNetwork, KernelPlan
from streamkit.fsm.interpret import step_limit_message
from streamkit.fsm.strings import StringPool
from streamkit._arrow.records import add_to_type_group
from streamkit.status.codes import EventStatus

__all__ = ("BatchResult", "run_batch")

COMPLETED = int(EventStatus.COMPLETED)
FAILED = int(EventStatus.FAILED)

Frame = dict[str, Col]


@dataclass
class BatchResult:
    """What one batch became: a table per end state, failed records, a status per record."""

    n: int
    outputs: dict[str, pa.Table]
    errors: pa.Table
    status: np.ndarray  # uint8 per input record
    end_state: np.ndarray  # int16 per input record: index of its end state, -1 if failed
    end_state_counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Run:
    net: CompiledNetwork
    n: int
    pool: StringPool
    steps: np.ndarray
    work: deque = field(default_factory=deque)
    done: dict[int, list[tuple[np.ndarray | None, Frame]]] = field(default_factory=dict)
    fail_rows: list[np.ndarray] = field(default_factory=list)
    fail_info: list[tuple[int | list[str], list[str], list[str]]] = field(default_factory=list)

    def fail(self, rows: np.ndarray, state: int | list[str], types: list[str], messages: list[str]) -> None:
        """Record failed rows: the state (an index, or a name per row), error types and messages."""
        self.fail_rows.append(rows)
        self.fail_info.append((state, types, messages))


def _rows_at(rows: np.ndarray | None, pos: np.ndarray) -> np.ndarray:
    return pos if rows is None else rows[pos]


def _take(frame: Frame, pos: np.ndarray | None) -> Frame:
    if pos is None:
        return frame
    return {k: c.take(pos) for k, c in frame.items()}


def run_batch(net: CompiledNetwork, batch: pa.RecordBatch | pa.Table, *, row_offset: int = 0,
              row_ids: np.ndarray | None = None) -> BatchResult:
    """Run every record of ``batch`` to an end state or to failure.

    ``row_offset`` is the position of the batch's first record in the stream; it
    is added to the ``_row`` column of every output. ``row_ids`` (int64, one per
    record) gives the positions explicitly instead. ``_row`` is the position
    only: an input field of that name is not part of the record, and a
    transform's ``_row`` key is replaced by the position in the outputs.
    """
    n = batch.num_rows
    run = _Run(net, n, StringPool(), np.zeros(n if net.counts_steps else 0, np.int32))
    frame: Frame = {}
    for name, col in zip(batch.schema.names, batch.columns):
        if name == ROW_FIELD:
            continue
        c = from_arrow(col)
        if c.kind != "null":
            frame[name] = c
    if n:
        run.work.append((net.start, None, frame))
    while run.work:
        state, rows, frame = run.work.popleft()
        _visit(run, state, rows, frame)
    return _assemble(run, batch, row_offset, row_ids)


def _visit(run: _Run, state: int, rows: np.ndarray | None, frame: Frame) -> None:
    net = run.net
    m = run.n if rows is None else len(rows)
    if m == 0:
        return
    if net.counts_steps:
        rows, frame, m = _count_step(run, state, rows, frame)
        if m == 0:
            return
    info = net.states[state]
    if info.routing_only and len(info.region) == 1:
        target = None if info.is_end else net.index[info.targets[0]]
        if target is None:
            run.done.setdefault(state, []).append((rows, frame))
        else:
            run.work.append((target, rows, frame))
        return
    kinds = tuple((k, c.kind) for k, c in frame.items())
    plan = net.plan(state, kinds)
    if isinstance(plan, KernelPlan):
        _run_kernel(run, plan, state, rows, frame, m)
    else:
        _run_python(run, state, rows, frame, None)


def _count_step(run: _Run, state: int, rows: np.ndarray | None, frame: Frame) -> tuple[Any, Frame, int]:
    """Count a state visit for each record; fail those over the step limit."""
    net = run.net
    idx = slice(None) if rows is None else rows
    run.steps[idx] += 1
    m = run.n if rows is None else len(rows)
    if run.steps[idx].max() <= net.max_steps:
        return rows, frame, m
    over = run.steps[idx] > net.max_steps
    bad = np.flatnonzero(over)
    k = len(bad)
    run.fail(_rows_at(rows, bad), state, ["StepLimitExceeded"] * k, [step_limit_message(net.max_steps)] * k)
    keep = np.flatnonzero(~over)
    return _rows_at(rows, keep), _take(frame, keep), len(keep)


def _run_kernel(run: _Run, plan: KernelPlan, state: int, rows: np.ndarray | None, frame: Frame, m: int) -> None:
    src = plan.source
    pool = run.pool
    n_exits = len(src.exits)
    cnt = np.zeros(n_exits + 2, np.int64)  # failed, escaped, then records per exit
    fpos, ferr, ferra, epos = (np.empty(m, np.int64) for _ in range(4))
    args: list[Any] = [m, cnt, fpos, ferr, ferra, epos, pool.literal_codes(src.lits)]
    for name, kind in src.fields:
        if kind != "null":
            args += frame[name].kernel_args(pool)
    exit_arrays: list[list[list[np.ndarray | None]]] = []
    exit_pos: list[np.ndarray] = []
    for ex in src.exits:
        cols: list[list[np.ndarray | None]] = []
        exit_pos.append(np.empty(m, np.int64))
        args.append(exit_pos[-1])
        for _, rep, nullable in ex.outputs:
            valid = np.empty(m, np.bool_) if nullable else None
            if valid is not None:
                args.append(valid)
            if rep == "num":  # flags, then one buffer seen as ints and as floats (see expr/kernel.py)
                slot = np.empty(m, np.int64)
                arrs = [np.empty(m, np.bool_), slot, slot.view(np.float64)]
            else:
                arrs = [np.empty(m, _DTYPE[rep])]
            args += arrs
            cols.append([valid, *arrs])
        exit_arrays.append(cols)
    tables = [pool.table(op) for op in src.str_ops]
    args += [t[0] for t in tables]
    args += [t[1] for t in tables]
    plan.fn(*args)

    n_failed, n_escaped = int(cnt[0]), int(cnt[1])
    if n_escaped:  # Python from the kernel's first state (transforms are pure, so this is exact)
        _run_python(run, state, rows, frame, epos[:n_escaped].copy())
    if n_failed:
        _fail_sites(run, src, _rows_at(rows, fpos[:n_failed].copy()), ferr[:n_failed], ferra[:n_failed])
    index = run.net.index
    for k, ex in enumerate(src.exits):
        c = int(cnt[k + 2])
        if c == 0:
            continue
        cols = exit_arrays[k]
        if 4 * c < m:  # few records left here: do not keep whole-chunk buffers alive for them
            cols = [[None if a is None else a[:c].copy() for a in col] for col in cols]
        pos = None if c == m else exit_pos[k][:c].copy() if 4 * c < m else exit_pos[k][:c]
        sub_rows = rows if pos is None else _rows_at(rows, pos)
        taken = _take(frame, pos)
        if pos is not None:  # fresh views: mark the fields the kernel proved not null here
            for f in ex.nonnull:
                col = taken.get(f)
                if col is not None:
                    col.no_nulls = True
        sub = _exit_frame(ex.record, taken, cols, c, pool)
        if ex.kind == "end":
            run.done.setdefault(index[ex.state], []).append((sub_rows, sub))
        else:
            run.work.append((index[ex.target], sub_rows, sub))


_DTYPE = {"bool": np.bool_, "int": np.int64, "float": np.float64, "str": np.int32}


def _exit_frame(record: tuple[RecordEntry, ...], frame: Frame, cols: list, m: int, pool: StringPool) -> Frame:
    """The columns of the ``m`` records that left at an exit (see :class:`~streamkit.expr.layout.Exit`).

    ``frame`` holds their input columns; ``cols`` the arrays the kernel wrote for them.
    """
    if len(record) == 1 and isinstance(record[0], RestOfInput):
        return frame
    new: Frame = {}
    for entry in record:
        if isinstance(entry, RestOfInput):
            for k, c in frame.items():
                if k not in new:
                    new[k] = c
            continue
        name, src = entry
        if isinstance(src, Absent):
            new.pop(name, None)
        elif isinstance(src, Computed):
            rep = src.rep
            arrs = [None if a is None else a[:m] for a in cols[src.index]]
            valid = arrs[0]
            if valid is not None and valid.all():
                valid = None
            if rep == "num":
                new[name] = Col("num", "num", (arrs[1], arrs[2], arrs[3], valid), None, m)
            elif rep == "str":
                new[name] = Col("str", "codes", (arrs[1], valid, pool), None, m)
            else:
                new[name] = Col(rep, "np", (arrs[1], valid), None, m)
        elif isinstance(src, InputField):
            col = frame.get(src.name)
            if col is not None:
                new[name] = col
            else:
                new.pop(name, None)
        else:  # Constant
            value = src.value
            kind = "bool" if isinstance(value, bool) else type(value).__name__
            new[name] = Col(kind, "const", value, None, m)
    return new


def _fail_sites(run: _Run, src: StateKernelSource, rows: np.ndarray, err: np.ndarray, erra: np.ndarray) -> None:
    from streamkit.fsm.strops import apply_str_op

    states: list[str] = []
    types: list[str] = []
    messages: list[str] = []
    for e, a in zip(err.tolist(), erra.tolist()):
        site = src.sites[e]
        states.append(site.state)
        if not isinstance(site.message, StrOpFailure):
            types.append(site.error_type)
            messages.append(site.message)
        else:  # a string operation failed: ask Python what it raises for this string
            op = src.str_ops[site.message.index]
            try:
                apply_str_op(op, run.pool.string(a))
                types.append("RuntimeError")
                messages.append("string operation failed")
            except Exception as exc:  # whatever Python raises is the answer
                types.append(type(exc).__name__)
                messages.append(str(exc))
    run.fail(rows, states, types, messages)


def _run_python(run: _Run, state: int, rows: np.ndarray | None, frame: Frame, pos: np.ndarray | None) -> None:
    """Run one state as per-row Python for the records at ``pos`` of the group."""
    net = run.net
    name = net.state_names[state]
    info = net.states[state]
    cols = _take(frame, pos)
    sub_rows = rows if pos is None else _rows_at(rows, pos)
    lists = {k: c.to_pylist() for k, c in cols.items()}
    m = run.n if sub_rows is None else len(sub_rows)
    bad: list[int] = []
    bad_types: list[str] = []
    bad_msgs: list[str] = []
    groups: dict[str, list[tuple[dict[str, type], list[int], list[dict[str, Any]]]]] = {}
    for t in range(m):
        data = {k: v[t] for k, v in lists.items() if v[t] is not None}
        out = net.py.step(name, data)
        if out.data is None:
            bad.append(t)
            bad_types.append(out.error_type or "Error")
            bad_msgs.append(out.error_message or "")
            continue
        target = name if out.next_state is None else out.next_state
        add_to_type_group(groups.setdefault(target, []), t, out.data)
    all_rows = np.arange(m) if sub_rows is None else sub_rows
    if bad:
        run.fail(all_rows[np.array(bad, np.int64)], state, bad_types, bad_msgs)
    for target, glist in groups.items():
        for _, ts, records in glist:
            g_rows = all_rows[np.array(ts, np.int64)]
            keys: dict[str, None] = {}
            for r in records:
                keys.update(dict.fromkeys(r))
            new = {k: py_column([r.get(k) for r in records]) for k in keys}
            new = {k: c for k, c in new.items() if c.kind != "null"}
            if info.is_end:
                run.done.setdefault(state, []).append((g_rows, new))
            else:
                run.work.append((net.index[target], g_rows, new))


def _assemble(run: _Run, batch: pa.RecordBatch | pa.Table, row_offset: int,
              row_ids: np.ndarray | None) -> BatchResult:
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
            built[s] = _end_table(pieces, n, row_offset, row_ids)
            continue
        # records reached this end state through one exit: already in order
        rows, fr = pieces[0]
        data: dict[str, Any] = {ROW_FIELD: _row_array(rows, n, row_offset, row_ids)}
        data.update(dict.fromkeys(k for k in fr if k != ROW_FIELD))
        built[s] = data
        jobs += [(c.src is None and c.store != "arrow", id(c.base), s, k, c)
                 for k, c in fr.items() if k != ROW_FIELD]
    # kernel-written columns first (still in cache from the kernel), then the input columns,
    # each input array's selections one after another (its rows still in cache for the sparse
    # ones: halves the seed's error-table gathers)
    jobs.sort(key=lambda j: (not j[0], j[1]))
    runs: dict = {}
    for _, _, s, k, c in jobs:
        built[s][k] = c.to_arrow(runs)
    outputs: dict[str, pa.Table] = {}
    counts: dict[str, int] = {}
    for s, t in built.items():
        table = pa.Table.from_arrays(list(t.values()), names=list(t)) if isinstance(t, dict) else t
        name = net.states[s].name
        outputs[name] = table
        counts[name] = table.num_rows
    if big_state >= 0:
        for rows in run.fail_rows:
            end_state[rows] = -1
    errors = _error_table(run, batch, row_offset, status, row_ids)
    return BatchResult(n, outputs, errors, status, end_state, counts)


def _row_array(rows: np.ndarray | None, n: int, row_offset: int, row_ids: np.ndarray | None) -> pa.Array:
    """The ``_row`` column of records at positions ``rows`` of the batch (all if ``None``)."""
    if row_ids is not None:
        ids = np.ascontiguousarray(row_ids if rows is None else row_ids[rows], dtype=np.int64)
    elif rows is None:
        ids = np.empty(n, np.int64)
        fill_range(ids, row_offset)
    elif row_offset == 0 and rows.dtype == np.int64 and rows.flags.c_contiguous:
        ids = rows  # positions are never written after routing: shared, not copied
    else:
        ids = np.empty(len(rows), np.int64)
        add_offset(rows, row_offset, ids)
    return pa.Array.from_buffers(pa.int64(), len(ids), [None, pa.py_buffer(ids)], 0)


#: The table of an end state no record reached (immutable, so shared).
_EMPTY_END = pa.table({"_row": pa.array([], pa.int64())})


def _end_table(pieces: list[tuple[np.ndarray | None, Frame]], n: int, row_offset: int,
               row_ids: np.ndarray | None) -> pa.Table:
    if not pieces:
        return _EMPTY_END
    names: dict[str, None] = {}
    for _, fr in pieces:
        names.update(dict.fromkeys(fr))
    names.pop(ROW_FIELD, None)
    if len(pieces) == 1 and pieces[0][0] is None:  # every record ended here, in order
        row_arrays = [None]
    else:
        row_arrays = [np.arange(n, dtype=np.int64) if r is None else r for r, _ in pieces]
    columns: dict[str, list[pa.Array]] = {k: [] for k in names}
    for (rows, fr), ra in zip(pieces, row_arrays):
        for k in names:
            c = fr.get(k)
            columns[k].append(c.to_arrow() if c is not None else pa.nulls(n if ra is None else len(ra)))
    if row_arrays[0] is None:
        all_rows = np.arange(row_offset, row_offset + n, dtype=np.int64) if row_ids is None else row_ids
    else:
        all_rows = np.concatenate(row_arrays)
        all_rows = all_rows + row_offset if row_ids is None else row_ids[all_rows]
    data = {"_row": pa.array(all_rows)}
    for k, arrs in columns.items():
        arrs = unify_arrays(arrs)
        data[k] = arrs[0] if len(arrs) == 1 else pa.concat_arrays(arrs)
    table = pa.table(data)
    if len(pieces) > 1:
        table = table.take(pa.array(np.argsort(all_rows, kind="stable")))
    return table


def _empty_errors(net: CompiledNetwork, schema: pa.Schema) -> pa.Table:
    """The (immutable, so shared) empty error table for batches of this schema."""
    cache = net.empty_errors
    t = cache.get(schema)
    if t is None:
        fields = [pa.field("_row", pa.int64()), pa.field("error_state", pa.string()),
                  pa.field("error_type", pa.string()), pa.field("error_message", pa.string())]
        names = {f.name for f in fields}
        fields += [f for f in schema if f.name not in names]
        t = pa.schema(fields).empty_table()
        if len(cache) > 64:
            cache.clear()
        cache[schema] = t
    return t


def _error_table(run: _Run, batch: pa.RecordBatch | pa.Table, row_offset: int, status: np.ndarray,
                 row_ids: np.ndarray | None) -> pa.Table:
    if not run.fail_rows:
        return _empty_errors(run.net, batch.schema)
    names = list(batch.schema.names)
    rows = np.concatenate(run.fail_rows)
    states: list[str] = []
    types: list[str] = []
    msgs: list[str] = []
    for r, (s, ts, ms) in zip(run.fail_rows, run.fail_info):
        states += s if isinstance(s, list) else [run.net.state_names[s]] * len(r)
        types += ts
        msgs += ms
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    status[rows] = FAILED
    sel = order.tolist()
    taken = batch.take(pa.array(rows))
    data: dict[str, Any] = {
        "_row": pa.array(rows + row_offset if row_ids is None else row_ids[rows]),
        "error_state": pa.array([states[i] for i in sel], pa.string()),
        "error_type": pa.array([types[i] for i in sel], pa.string()),
        "error_message": pa.array([msgs[i] for i in sel], pa.string()),
    }
    for k in names:
        if k not in data:
            data[k] = taken.column(k)
    return pa.table(data)
