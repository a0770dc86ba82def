"""The user-facing API: :class:`SimpleFSM` and the result of a run."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from streamkit.fsm.compile import CompiledNetwork
from streamkit.fsm.execute import FAILED, ROW_FIELD, ROW_FIELD_WARNING, BatchResult, run_batch
from streamkit.fsm.interpret import DEFAULT_MAX_STEPS
from streamkit.errors import SchemaError
from streamkit.inputs import arrow_input, records_to_tables, to_batches
from streamkit.result_status import ResultViews
from streamkit.status import StatusIndex
from streamkit.tables import concat_by_row

if TYPE_CHECKING:
    from streamkit.engine.chunks import Stage
    from streamkit.engine.pipeline import Pipeline
    from streamkit.engine.result import StreamResult

__all__ = ("SimpleFSM", "FSMResult")

DEFAULT_CHUNK_SIZE = 65_536


class FSMResult(ResultViews):
    """The outcome of :meth:`SimpleFSM.process`.

    Every input record is in exactly one place: the output of the end state it
    reached (``output(name)``) or the failed records (``errors()``). Seed-style
    dict access works too: ``result["total_records"]``, ``result.get("failed")``.
    """

    def __init__(self, parts: list[BatchResult], end_states: list[str], duration: float,
                 warnings: list[str] | None = None, part_rows: list[np.ndarray | int] | None = None) -> None:
        self._parts = parts
        #: Per part, its row ids (an array) or the row id of its first record (an int).
        self._part_rows = part_rows if part_rows is not None else _offsets(parts)
        self._index: StatusIndex | None = None
        self.end_states = end_states
        self.duration = duration
        #: Things worth knowing about the run, e.g. fields the config reads that the input lacks.
        self.warnings: list[str] = list(warnings or [])
        self.total_records = sum(p.n for p in parts)
        self.end_state_counts: dict[str, int] = {s: 0 for s in end_states}
        for p in parts:
            for s, c in p.end_state_counts.items():
                self.end_state_counts[s] += c
        self.successful = sum(self.end_state_counts.values())
        self.failed = sum(p.errors.num_rows for p in parts)
        self._outputs: dict[str, pa.Table] = {}
        self._errors: pa.Table | None = None

    @property
    def records_per_second(self) -> float:
        """Records processed per second of wall time."""
        return self.total_records / self.duration if self.duration > 0 else float("inf")

    def output(self, end_state: str) -> pa.Table:
        """Records that completed in ``end_state``, in input order, with their ``_row``."""
        if end_state not in self.end_states:
            msg = f"{end_state!r} is not an end state (end states: {', '.join(map(repr, self.end_states))})"
            raise KeyError(msg)
        t = self._outputs.get(end_state)
        if t is None:
            t = concat_by_row([p.outputs[end_state] for p in self._parts])
            self._outputs[end_state] = t
        return t

    def outputs(self) -> dict[str, pa.Table]:
        """Every end state's output table."""
        return {s: self.output(s) for s in self.end_states}

    def errors(self) -> pa.Table:
        """Failed records: ``_row``, ``error_state``, ``error_type``, ``error_message`` and their input fields."""
        if self._errors is None:
            self._errors = concat_by_row([p.errors for p in self._parts])
        return self._errors

    @property
    def index(self) -> StatusIndex:
        """The run's status index: every record's status, counts per status, ids per status."""
        if self._index is None:
            index = StatusIndex(keep_ids="all")
            for p, rows in zip(self._parts, self._part_rows):
                ids = range(rows, rows + p.n) if isinstance(rows, int) else rows
                index.add_chunk(ids, p.status)
            self._index = index
        return self._index

    @property
    def status(self) -> np.ndarray:
        """Status code per input record, in input order (uint8: ``EventStatus.COMPLETED`` / ``FAILED``)."""
        out = np.empty(self.total_records, np.uint8)
        for p, rows in zip(self._parts, self._part_rows):
            if isinstance(rows, int):
                out[rows:rows + p.n] = p.status
            else:
                out[rows] = p.status
        return out

    _KEYS = ("total_records", "successful", "failed", "end_state_counts", "duration", "records_per_second")

    def __repr__(self) -> str:
        return (f"FSMResult(total_records={self.total_records}, successful={self.successful}, "
                f"failed={self.failed}, end_state_counts={self.end_state_counts})")


def _offsets(parts: list[BatchResult]) -> list[int]:
    offs, at = [], 0
    for p in parts:
        offs.append(at)
        at += p.n
    return offs


class SimpleFSM:
    """Validate and compile a seed 002 config; run records through it.

    Parameters
    ----------
    config:
        The config dict (seed 002 format), a path to a YAML/JSON file, or an ``FSMConfig``.
    allow_python:
        Let inline code outside the compiled subset run as per-row Python. With
        ``False`` such a config is rejected with a :class:`~streamkit.ConfigError`
        naming the state and the construct.
    max_steps:
        State visits a record may make before it fails with ``StepLimitExceeded``
        (cycles are allowed).
    chunk_size:
        Records per batch; 64k-256k keeps per-batch overhead low and outputs in cache.
    functions:
        Named Python functions that the config may refer to by name.

    Examples
    --------
    >>> fsm = SimpleFSM({"networks": [{"name": "main",
    ...     "states": [{"name": "in", "is_start": True,
    ...                 "functions": {"transform": "lambda state: {'y': state.data['x'] * 2}"}},
    ...                {"name": "out", "is_end": True}],
    ...     "arcs": [{"from": "in", "to": "out"}]}]})
    >>> r = fsm.process([{"x": 1}, {"x": None}])
    >>> r["successful"], r["failed"], r.output("out").column("y").to_pylist()
    (1, 1, [2])
    """

    def __init__(
        self,
        config: Any,
        allow_python: bool = True,  # noqa: FBT001, FBT002 - positional in the seed API
        *,
        max_steps: int = DEFAULT_MAX_STEPS,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        custom_functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        fns = dict(custom_functions or {})
        fns.update(functions or {})
        self.network = CompiledNetwork(config, allow_python=allow_python, max_steps=max_steps, functions=fns)
        self.config = self.network.config
        self.chunk_size = int(chunk_size)
        self.end_states = [s.name for s in self.network.states if s.is_end]

    def process(self, data: Any) -> FSMResult:
        """Run records through the network and return where each one went.

        ``data`` may be a list of dicts, a ``pyarrow.Table`` or ``RecordBatch``, a
        ``polars.DataFrame``, or anything exposing ``__arrow_c_stream__``.
        """
        t0 = time.perf_counter()
        parts: list[BatchResult] = []
        part_rows: list[np.ndarray | int] = []
        seen: set[str] = set()
        table = arrow_input(data)
        if table is not None:
            chunks = to_batches(table, self.chunk_size)
            unreadable = None
        else:
            chunks, unreadable = self._record_chunks(list(data))
        for b, off, ids in chunks:
            seen.update(b.schema.names)
            parts.append(run_batch(self.network, b, row_offset=off, row_ids=ids))
            part_rows.append(off if ids is None else ids)
        if unreadable is not None:
            parts.append(unreadable)
            part_rows.append(unreadable.errors.column(ROW_FIELD).to_numpy())
        warnings = [f"field {f!r} is read in state {s!r} but never appears in the input"
                    for f, s in self.network.fields_read().items() if f not in seen]
        if ROW_FIELD in seen:
            warnings.append(ROW_FIELD_WARNING)
        return FSMResult(parts, self.end_states, time.perf_counter() - t0, warnings, part_rows)

    def _record_chunks(self, records: list[Any]) -> tuple[list[tuple[Any, int, np.ndarray]], BatchResult | None]:
        """Records as batches of at most ``chunk_size`` rows, and those Arrow cannot hold as failed records."""
        from streamkit.io._records import records_to_parts
        from streamkit.io.chunk import malformed_table

        try:  # the usual case: every record is a dict Arrow can hold
            good, bad = records_to_tables(records), []
        except SchemaError:
            good, bad = records_to_parts(records, np.arange(len(records), dtype=np.int64))
        chunks = [(chunk, 0, ids[off:off + chunk.num_rows])
                  for batch, ids in good for chunk, off, _ in to_batches(batch, self.chunk_size)]
        if not bad:
            return chunks, None
        errors = malformed_table(bad).drop_columns(["line", "source"])  # neither means anything in memory
        empty = pa.table({ROW_FIELD: pa.array([], pa.int64())})
        n = len(bad)
        unreadable = BatchResult(n, dict.fromkeys(self.end_states, empty), errors, np.full(n, FAILED, np.uint8),
                                 np.full(n, -1, np.int16))
        return chunks, unreadable

    def process_batch(self, batch: pa.RecordBatch, *, row_offset: int = 0) -> BatchResult:
        """Run one batch: the engine's building block (one table per end state, failed records, statuses)."""
        return run_batch(self.network, batch, row_offset=row_offset)

    def process_stream(self, source: Any = None, sink: Any = None, **options: Any) -> StreamResult:
        """Stream ``source`` through the network into ``sink`` in bounded memory (blocking).

        The same as :meth:`AsyncSimpleFSM.process_stream <streamkit.AsyncSimpleFSM.process_stream>`,
        which documents every option; inside a running event loop (a notebook) it
        runs the stream on a helper thread.
        """
        from streamkit.engine.stream import run_blocking, stream_stages

        return run_blocking(lambda: stream_stages([self.stage()], source, sink, **options))

    def stage(self, parallelism: int | None = None) -> Stage:
        """This network as a pipeline stage, optionally with its own number of workers."""
        from streamkit.engine.chunks import Stage

        return Stage(self.network, self.config.name or "main", parallelism)

    def __or__(self, other: Any) -> Pipeline:
        from streamkit.engine.pipeline import Pipeline

        return Pipeline([self, other])

    def explain(self) -> str:
        """Per state, the backend that runs it (numba / arrow / python) and, for python, why."""
        return self.network.explain()

    def __repr__(self) -> str:
        return f"SimpleFSM({self.config.name!r}, states={len(self.network.states)})"
