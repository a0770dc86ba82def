"""The kernel plan: a state (and the states fused into it) run by one generated numba kernel.

The kernel makes one pass over the group's rows and writes, compactly per
outcome, the positions of the rows that left at each exit and the values it
computed for them, the rows that failed (with the error site), and the rows it
escaped: those whose exact answer needs Python (a float result of an integer
operation beyond 2**53, a case mapping beyond ASCII, ...), which the state's
Python plan then runs (transforms are pure, so this is exact).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from streamkit._arrow.build import strings
from streamkit._memory import ALIGN, SLABS, Slab
from streamkit.expr.layout import Absent, Computed, ExitOutput, InputField, RecordEntry, RestOfInput, StateKernelSource
from streamkit.fsm.columns import Col, ConstCol, NumCol, TextCol, ValuesCol
from streamkit.fsm.plans.base import BatchContext, Exits, Failure, Frame, Group, Move, rows_at, take
from streamkit.fsm.plans.python import PythonPlan

__all__ = ("KernelPlan", "SCRATCH_BYTES", "TEXT_BYTES_PER_ROW")

_DTYPE = {"bool": np.bool_, "int": np.int64, "float": np.float64, "str": np.int32}

#: Scratch space for the text one row builds (a row needing more runs as Python).
SCRATCH_BYTES = 1 << 16

#: Bytes per row a text output starts with, before the kernel has shown what it needs.
TEXT_BYTES_PER_ROW = 16


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
    #: records run through this kernel so far, and how many of them it escaped to Python (``explain()``)
    records: int = 0
    escaped: int = 0
    #: the kernel's string literals as an Arrow array: their bytes are the kernel's ``lb``
    literals: pa.Array = field(init=False)
    #: bytes per row each text output needed so far (its buffer starts that large)
    text_bytes: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.literals = strings(list(self.source.lits))
        self.text_bytes = [float(TEXT_BYTES_PER_ROW)] * self.source.n_text
        bufs = self.literals.buffers()
        self._lit_offsets = np.frombuffer(bufs[1], np.int32, count=len(self.literals) + 1)
        self._lit_bytes = np.empty(0, np.uint8) if bufs[2] is None else np.frombuffer(bufs[2], np.uint8)
        # per exit its positions, then its outputs' arrays (a text output's extra offset fits in the padding)
        parts = [(1, np.int64)] * len(self.source.exits)
        parts += [p for ex in self.source.exits for out in ex.outputs for p in _output_parts(out)]
        self._row_bytes = sum(k * np.dtype(dt).itemsize for k, dt in parts)
        self._n_arrays = len(parts) + 1

    def run(self, group: Group, ctx: BatchContext) -> Exits:
        """Run the kernel over the group's rows; escaped rows go to the Python fallback."""
        src = self.source
        m = group.n
        frame = group.frame
        # failed, escaped, records per exit, then per exit whether those are the first rows
        cnt = np.zeros(2 * len(src.exits) + 2, np.int64)
        fpos, ferr, ferra, epos = (np.empty(m, np.int64) for _ in range(4))
        tc = np.zeros(max(src.n_text, 1), np.int64)
        sf = np.full(max(src.n_settled, 1), -1, np.int64)
        head = [m, cnt, fpos, ferr, ferra, epos, self._lit_bytes, np.empty(SCRATCH_BYTES, np.uint8), tc, sf]
        for name, kind in src.fields:
            if kind != "null":
                head += frame[name].kernel_args(ctx.views)
        # what the kernel writes, carved from one slab (memory a dead result left, when there is some)
        slab = SLABS.take(m * self._row_bytes + ALIGN * self._n_arrays)
        exit_pos = [slab.carve(m, np.int64) for _ in src.exits]
        exit_arrays = [[_output_arrays(out, m, slab) for out in ex.outputs] for ex in src.exits]
        slab.done()
        texts: list[list[Any]] = [
            col for ex, cols in zip(src.exits, exit_arrays) for out, col in zip(ex.outputs, cols) if out.text
        ]
        for j, col in enumerate(texts):  # room for the text, as much as earlier chunks needed
            col[2] = np.empty(int(m * self.text_bytes[j]) + 1024, np.uint8)
        while True:
            args = list(head)
            for at, cols in zip(exit_pos, exit_arrays):
                args.append(at)
                for col in cols:
                    args += [a for a in col if a is not None]
            if self.fn(*args) == 0:
                break
            # a text output ran out of room: each gets twice as much, and the kernel runs again
            cnt[:] = 0
            tc[:] = 0
            for col in texts:
                col[2] = np.empty(2 * len(col[2]), np.uint8)
        for j in range(len(texts)):
            self.text_bytes[j] = max(self.text_bytes[j], 1.25 * int(tc[j]) / max(m, 1))

        exits = Exits()
        n_failed, n_escaped = int(cnt[0]), int(cnt[1])
        floats_from = iter(sf.tolist())  # per settled output in exit order: where its floats began
        self.records += m  # (threads may lose an update: counts for people, not for accounting)
        self.escaped += n_escaped
        if n_escaped:
            exits.extend(self.fallback.run(group.subset(epos[:n_escaped].copy()), ctx))
        if n_failed:
            exits.failures.append(_failure(src, rows_at(group.rows, fpos[:n_failed].copy()), ferr[:n_failed]))
        for k, ex in enumerate(src.exits):
            c = int(cnt[k + 2])
            settled = [next(floats_from) >= 0 for out in ex.outputs if out.settled]
            if c == 0:
                continue
            # few records left here: copy what they need, so as not to keep whole-chunk buffers alive
            compact = 4 * c < m
            floats = iter(settled)
            computed = [
                self._computed(out, col, c, copy=compact, floats=next(floats) if out.settled else False)
                for out, col in zip(ex.outputs, exit_arrays[k])
            ]
            if c == m:
                pos = None
            elif cnt[len(src.exits) + 2 + k]:  # the first c rows: positions never written
                pos = np.arange(c, dtype=np.int64)
            else:
                pos = exit_pos[k][:c].copy() if compact else exit_pos[k][:c]
            taken = take(frame, pos)
            if pos is not None:  # fresh views: mark the fields the kernel proved not null here
                for f in ex.nonnull:
                    proved = taken.get(f)
                    if proved is not None:
                        proved.no_nulls = True
            sub = _exit_frame(ex.record, taken, computed, c)
            sub_rows = group.rows if pos is None else rows_at(group.rows, pos)
            if ex.kind == "end":
                exits.moves.append(Move(ctx.index[ex.state], end=True, rows=sub_rows, frame=sub))
            else:
                assert ex.target is not None
                exits.moves.append(Move(ctx.index[ex.target], end=False, rows=sub_rows, frame=sub))
        return exits

    def _computed(
        self, out: ExitOutput, arrs: list[np.ndarray | None], m: int, *, copy: bool, floats: bool = False
    ) -> Col:
        """A column the kernel wrote for ``m`` records: ``arrs`` is its validity (or ``None``), then its arrays.

        ``floats``: a settled output whose values the kernel wrote as floats.
        """

        def cut(a: np.ndarray | None, n: int) -> np.ndarray:
            assert a is not None
            return a[:n].copy() if copy else a[:n]

        valid = arrs[0]
        if valid is not None:
            valid = None if valid[:m].all() else cut(valid, m)
        if out.settled:
            if floats:
                return ValuesCol("float", None, m, values=cut(arrs[2], m), valid=valid)
            return ValuesCol("int", None, m, values=cut(arrs[1], m), valid=valid)
        if out.rep == "num":
            return NumCol(
                "num", None, m, isf=cut(arrs[1], m), ints=cut(arrs[2], m), floats=cut(arrs[3], m), valid=valid
            )
        if out.text:
            offsets = cut(arrs[1], m + 1)
            return TextCol("str", None, m, offsets=offsets, data=cut(arrs[2], int(offsets[m])), valid=valid)
        if out.rep == "str":  # literal numbers: read through the literals' bytes, written as a dictionary
            return TextCol(
                "str",
                None,
                m,
                offsets=self._lit_offsets,
                data=self._lit_bytes,
                valid=valid,
                codes=cut(arrs[1], m),
                dictionary=self.literals,
            )
        return ValuesCol(out.rep, None, m, values=cut(arrs[1], m), valid=valid)


def _output_parts(out: ExitOutput) -> list[tuple[int, Any]]:
    """``(items per row, dtype)`` of each array the kernel writes one computed field into."""
    parts: list[tuple[int, Any]] = [(1, np.bool_)] if out.nullable else []
    if out.settled:
        return [*parts, (1, np.int64)]
    if out.rep == "num":
        return [*parts, (1, np.bool_), (1, np.int64)]
    if out.text:
        return [*parts, (1, np.int32)]
    return [*parts, (1, _DTYPE[out.rep])]


def _output_arrays(out: ExitOutput, m: int, slab: Slab) -> list[np.ndarray | None]:
    """The arrays the kernel writes one computed field into: validity (or ``None``), then the values."""
    valid = slab.carve(m, np.bool_) if out.nullable else None
    if out.settled:  # one buffer seen as ints and as floats
        slot = slab.carve(m, np.int64)
        return [valid, slot, slot.view(np.float64)]
    if out.rep == "num":  # flags, then one buffer seen as ints and as floats (see expr/kernel.py)
        slot = slab.carve(m, np.int64)
        return [valid, slab.carve(m, np.bool_), slot, slot.view(np.float64)]
    if out.text:  # offsets (the first is 0), then the bytes (sized by the caller)
        offsets = slab.carve(m + 1, np.int32)
        offsets[0] = 0
        return [valid, offsets, np.empty(0, np.uint8)]
    return [valid, slab.carve(m, _DTYPE[out.rep])]


def _exit_frame(record: tuple[RecordEntry, ...], frame: Frame, computed: list[Col], m: int) -> Frame:
    """The columns of the ``m`` records that left at an exit (see :class:`~streamkit.expr.layout.Exit`).

    ``frame`` holds their input columns; ``computed`` the columns the kernel wrote for them.
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
            new[name] = computed[src.index]
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


def _failure(src: StateKernelSource, rows: np.ndarray, err: np.ndarray) -> Failure:
    """The failed rows with the state, error type and message of the site each failed at."""
    sites = [src.sites[e] for e in err.tolist()]
    return Failure(rows, [s.state for s in sites], [s.error_type for s in sites], [s.message for s in sites])
