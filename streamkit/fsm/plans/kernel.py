"""The kernel plan: a state (and the states fused into it) run by one generated numba kernel.

The kernel makes one pass over the group's rows and writes, compactly per
outcome, the positions of the rows that left at each exit and the values it
computed for them, the rows that failed (with the error site), and the rows it
escaped: those whose exact answer needs Python (a float result of an integer
operation beyond 2**53, ...), which the state's Python plan then runs
(transforms are pure, so this is exact).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from streamkit.expr.layout import Absent, Computed, InputField, RecordEntry, RestOfInput, StateKernelSource
from streamkit.expr.values import StrOpFailure
from streamkit.fsm.columns import CodesCol, Col, ConstCol, NumCol, ValuesCol
from streamkit.fsm.plans.base import BatchContext, Exits, Failure, Frame, Group, Move, rows_at, take
from streamkit.fsm.plans.python import PythonPlan
from streamkit.fsm.strings import StringPool
from streamkit.fsm.strops import apply_str_op

__all__ = ("KernelPlan",)

_DTYPE = {"bool": np.bool_, "int": np.int64, "float": np.float64, "str": np.int32}


@dataclass(eq=False)
class KernelPlan:
    """A state compiled to a numba kernel for one typing of its input.

    Attributes
    ----------
    source:
        The generated kernel: its source, argument layout, exits and error sites.
    fn:
        The compiled kernel.
    fallback:
        Runs the rows the kernel escapes (the state as Python).
    """

    source: StateKernelSource
    fn: Callable[..., Any]
    fallback: PythonPlan
    backend: str = "numba"
    reason: str | None = None

    def run(self, group: Group, ctx: BatchContext) -> Exits:
        """Run the kernel over the group's rows; escaped rows go to the Python fallback."""
        src = self.source
        pool = ctx.pool
        m = group.n
        frame = group.frame
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
        self.fn(*args)

        exits = Exits()
        n_failed, n_escaped = int(cnt[0]), int(cnt[1])
        if n_escaped:
            exits.extend(self.fallback.run(group.subset(epos[:n_escaped].copy()), ctx))
        if n_failed:
            exits.failures.append(_failure(src, pool, rows_at(group.rows, fpos[:n_failed].copy()),
                                           ferr[:n_failed], ferra[:n_failed]))
        for k, ex in enumerate(src.exits):
            c = int(cnt[k + 2])
            if c == 0:
                continue
            cols = exit_arrays[k]
            if 4 * c < m:  # few records left here: do not keep whole-chunk buffers alive for them
                cols = [[None if a is None else a[:c].copy() for a in col] for col in cols]
            pos = None if c == m else exit_pos[k][:c].copy() if 4 * c < m else exit_pos[k][:c]
            taken = take(frame, pos)
            if pos is not None:  # fresh views: mark the fields the kernel proved not null here
                for f in ex.nonnull:
                    col = taken.get(f)
                    if col is not None:
                        col.no_nulls = True
            sub = _exit_frame(ex.record, taken, cols, c, pool)
            sub_rows = group.rows if pos is None else rows_at(group.rows, pos)
            if ex.kind == "end":
                exits.moves.append(Move(ctx.index[ex.state], True, sub_rows, sub))
            else:
                assert ex.target is not None
                exits.moves.append(Move(ctx.index[ex.target], False, sub_rows, sub))
        return exits


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
            new[name] = _computed(src.rep, [None if a is None else a[:m] for a in cols[src.index]], m, pool)
        elif isinstance(src, InputField):
            col = frame.get(src.name)
            if col is not None:
                new[name] = col
            else:
                new.pop(name, None)
        else:  # Constant
            value = src.value
            kind = "bool" if isinstance(value, bool) else type(value).__name__
            new[name] = ConstCol(kind, None, m, value=value)
    return new


def _computed(rep: str, arrs: list[np.ndarray | None], m: int, pool: StringPool) -> Col:
    """A column the kernel wrote: ``arrs`` is its validity (or ``None``), then its value arrays."""
    valid = arrs[0]
    if valid is not None and valid.all():
        valid = None
    if rep == "num":
        return NumCol("num", None, m, isf=arrs[1], ints=arrs[2], floats=arrs[3], valid=valid)
    if rep == "str":
        return CodesCol("str", None, m, codes=arrs[1], valid=valid, pool=pool)
    return ValuesCol(rep, None, m, values=arrs[1], valid=valid)


def _failure(src: StateKernelSource, pool: StringPool, rows: np.ndarray, err: np.ndarray,
             erra: np.ndarray) -> Failure:
    """The failed rows with the state, error type and message of the site each failed at."""
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
                apply_str_op(op, pool.string(a))
                types.append("RuntimeError")
                messages.append("string operation failed")
            except Exception as exc:  # whatever Python raises is the answer
                types.append(type(exc).__name__)
                messages.append(str(exc))
    return Failure(rows, states, types, messages)
