"""One chunk on its way through the stages of a stream (pure functions, run in worker threads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from streamkit._arrow.build import to_numpy
from streamkit._arrow.tables import concat_by_row
from streamkit.fsm.compile import CompiledNetwork
from streamkit.fsm.execute import run_batch
from streamkit.fsm.plans.base import StopSignal
from streamkit.io.base import Encoded
from streamkit.io.chunk import RawChunk, SourceChunk
from streamkit.status import EventStatus

__all__ = ("Stage", "Chunk", "run_stage", "prepare_writes", "cancel_chunk", "stopped")

Part = tuple[pa.RecordBatch | pa.Table, np.ndarray]

#: Statuses a failed record may end in besides ``failed`` (it goes with the failed records).
_ENDED = (int(EventStatus.SKIPPED), int(EventStatus.CANCELLED))


@dataclass(eq=False)
class Stage:
    """A compiled network in a stream, with its own number of workers (``None``: the stream's)."""

    network: CompiledNetwork
    name: str
    parallelism: int | None = None
    #: raised by an event's stop flag; the run then starts no more chunks (see :func:`cancel_chunk`)
    stop: StopSignal = field(default_factory=StopSignal)

    @property
    def end_states(self) -> list[str]:
        """Names of the network's end states."""
        return [s.name for s in self.network.states if s.is_end]

    def for_run(self) -> Stage:
        """This stage with a stop signal of its own, for one run (a pipeline's stages serve many runs)."""
        return Stage(self.network, self.name, self.parallelism)


@dataclass(eq=False)
class Chunk:
    """A chunk between stages: records still to run, and what has already come of the others."""

    seq: int
    start: int
    count: int
    parts: list[Part]  # records for the next stage: (batch, row ids)
    errors: list[pa.Table] = field(default_factory=list)  # failed so far (malformed, earlier stages)
    outputs: dict[str, list[pa.Table]] = field(default_factory=dict)  # after the last stage
    writes: list[tuple[Any, Any]] = field(default_factory=list)  # (sink, encoded payload), in sink order
    error_table: pa.Table | None = None
    malformed: int = 0
    held_bytes: int = 0  # budget share held by this chunk
    held_records: int = 0
    input_bytes: int = 0
    pending: RawChunk | None = None  # read but not parsed yet: the first stage's worker parses it
    ids: dict[str, np.ndarray] = field(default_factory=dict)  # row ids per end state, once written out
    #: row ids of the failed records that ended skipped or cancelled, by status code
    ended: dict[int, np.ndarray] = field(default_factory=dict)
    peak_bytes: int = -1  # output bytes at their largest (before encoded tables were let go)
    retries: dict[str, int] = field(default_factory=dict)  # retries event states made, by state
    resume: dict[str, int] | None = None  # where the source stands after the chunk (for a checkpoint)

    def take(self, sc: SourceChunk) -> None:
        """Hold what a source read: its parsed records, and the records that failed to read."""
        self.parts = list(sc.parts)
        if sc.malformed is not None and sc.malformed.num_rows:
            self.errors.append(sc.malformed)
            self.malformed = sc.malformed.num_rows

    def decode(self, *, threads: bool) -> None:
        """Parse a chunk read raw (see :class:`~streamkit.io.chunk.RawChunk`) into its parts and malformed rows."""
        if self.pending is not None:
            sc, self.pending = self.pending.decode(threads), None
            self.take(sc)

    def output_bytes(self) -> int:
        """Bytes held by the chunk's outputs, failed records and their encoded form (at their largest)."""
        if self.peak_bytes >= 0:
            return self.peak_bytes
        encoded = sum(len(p.data) for _, p in self.writes if isinstance(p, Encoded))
        return sum(t.nbytes for ts in self.outputs.values() for t in ts) + sum(t.nbytes for t in self.errors) + encoded

    def end_state_ids(self) -> dict[str, np.ndarray]:
        """Row ids of the records that completed, per end state (after the last stage)."""
        if self.ids or not self.outputs:
            return self.ids
        return {state: _row_ids(tables) for state, tables in self.outputs.items()}


def run_stage(chunk: Chunk, stage: Stage, *, last: bool, label_errors: bool) -> Chunk:
    """Run the chunk's records through ``stage``.

    Completed records become the next stage's parts (one per end state, with
    their row ids), or the chunk's outputs after the last stage. Failed records
    join ``chunk.errors``; with ``label_errors`` their ``error_state`` is
    prefixed by the stage name (``"cleaner.clean"``), so a pipeline's failures
    say where they happened.
    """
    outputs: dict[str, list[pa.Table]] = {}
    for batch, ids in chunk.parts:
        contiguous = ids.size == 0 or int(ids[-1]) - int(ids[0]) == ids.size - 1
        if contiguous:
            r = run_batch(
                stage.network, batch, row_offset=int(ids[0]) if ids.size else 0, range_ids=ids, stop=stage.stop
            )
        else:
            r = run_batch(stage.network, batch, row_ids=ids, stop=stage.stop)
        for state, table in r.outputs.items():
            if table.num_rows:
                outputs.setdefault(state, []).append(table)
        for state, k in r.retries.items():
            key = f"{stage.name}.{state}" if label_errors else state
            chunk.retries[key] = chunk.retries.get(key, 0) + k
        if r.errors.num_rows:
            chunk.errors.append(_label(r.errors, stage.name) if label_errors else r.errors)
            for code in _ENDED:
                at = np.flatnonzero(r.status == code)
                if at.size:
                    got = ids[at]
                    have = chunk.ended.get(code)
                    chunk.ended[code] = got if have is None else np.concatenate([have, got])
    if last:
        chunk.parts = []
        chunk.outputs = outputs
    else:
        chunk.parts = [(t.drop_columns(["_row"]), to_numpy(t.column("_row"))) for ts in outputs.values() for t in ts]
    return chunk


def prepare_writes(
    chunk: Chunk, groups: list[tuple[Any, list[str]]], error_sink: Any, *, measure: bool = True
) -> Chunk:
    """Merge and encode what each sink receives of the chunk, in the worker thread.

    A sink receiving several end states gets them as one table in row order;
    file sinks encode it (JSON text, ...) here, in parallel across workers, so
    the sink stage only appends bytes in order. ``measure``: note the bytes the
    outputs held (what a stream's byte budget learns from).
    """
    writes = []
    for sink, states in groups:
        tables = [t for s in states for t in chunk.outputs.get(s, [])]
        if tables:
            writes.append((sink, sink.encode(concat_by_row(tables) if len(tables) > 1 else tables[0])))
    if chunk.errors:
        chunk.error_table = concat_by_row(chunk.errors)
        writes.append((error_sink, error_sink.encode(chunk.error_table)))
    chunk.writes = writes
    # What is left to do with the outputs is counting them: keep their row ids and let the
    # tables go (the payloads of sinks that take tables keep those alive until written).
    if measure:
        chunk.peak_bytes = chunk.output_bytes()
    chunk.ids = chunk.end_state_ids()
    chunk.outputs = {}
    return chunk


def _row_ids(tables: list[pa.Table]) -> np.ndarray:
    rows = [to_numpy(t.column("_row")) for t in tables]
    return rows[0] if len(rows) == 1 else np.concatenate(rows)


def stopped(stages: list[Stage]) -> dict[str, Any] | None:
    """Why the run stopped early (``{"state", "row", "reason"}``), or ``None``."""
    return next((dict(s.stop.info) for s in stages if s.stop.info is not None), None)


def cancel_chunk(chunk: Chunk, why: dict[str, Any], *, threads: bool = False) -> Chunk:
    """Mark every record still to run in ``chunk`` cancelled: the run stopped before it ran them.

    They are written with the failed records (``error_type`` ``"Cancelled"``), with
    their input fields, so nothing is lost.
    """
    if chunk.pending is not None:
        chunk.decode(threads=threads)
    message = f"the run stopped before this record ran ({why['reason']}, state {why['state']!r}, row {why['row']})"
    cancelled: list[np.ndarray] = []
    for batch, ids in chunk.parts:
        n = len(ids)
        if not n:
            continue
        data: dict[str, Any] = {
            "_row": pa.array(ids, pa.int64()),
            "error_state": pa.array([_STOPPED] * n, pa.string()),
            "error_type": pa.array(["Cancelled"] * n, pa.string()),
            "error_message": pa.array([message] * n, pa.string()),
        }
        for name, col in zip(batch.schema.names, batch.columns, strict=True):
            if name not in data:
                data[name] = col
        chunk.errors.append(pa.table(data))
        cancelled.append(np.asarray(ids, np.int64))
    if cancelled:
        code = int(EventStatus.CANCELLED)
        have = chunk.ended.get(code)
        got = np.concatenate(cancelled)
        chunk.ended[code] = got if have is None else np.concatenate([have, got])
    chunk.parts = []
    chunk.outputs = {}
    return chunk


#: ``error_state`` of a record a stopped run never ran.
_STOPPED = "<stopped>"


def _label(errors: pa.Table, stage: str) -> pa.Table:
    i = errors.column_names.index("error_state")
    col = errors.column(i).cast(pa.string())
    labelled = pc.binary_join_element_wise(pa.scalar(stage), col, ".")
    labelled = pc.if_else(pc.is_null(col), pa.scalar(stage), labelled)
    return errors.set_column(i, "error_state", labelled)
