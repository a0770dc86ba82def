"""What a Ray task does with a slice of the input: run it and hand back what each sink is to write.

A task runs its slice (:class:`~streamkit.engine.ray_slices.SliceSource`)
through the very stream engine a local run uses, one worker thread, with each
of the run's file and in-memory sinks replaced by a :class:`Capture`: what the
engine would write to it — JSON Lines text already encoded (the costly part,
done here, in parallel across the cluster), or a table for the other sinks — is
kept, write by write, and returned with the slice's summary: its records'
statuses (one byte each), counts, the first failed records, where the source
stands after the slice. The driver then makes the very writes a local run
makes, in order, to the run's own sinks. A directory sink's part is written by
the task itself, under a hidden name (:func:`~streamkit.io.dirsink.pending_name`),
and the summary names it for the driver to rename into place.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from streamkit._tuning import process_tuning
from streamkit.engine.config import StreamConfig
from streamkit.engine.ray_common import NetworkSpec, failed_rows, stage_of
from streamkit.engine.ray_slices import Slice, SliceSource
from streamkit.engine.routing import Routes
from streamkit.io.base import Encoded, Sink
from streamkit.io.dirsink import pending_name
from streamkit.io.filesinks import JsonlEncoder
from streamkit.io.formats import get_format
from streamkit.status import EventStatus

__all__ = ("BATCH", "Capture", "Layout", "fail_slice", "run_slice", "TASK_THREADS")

#: Worker threads of the stream engine inside a task: a task holds one of Ray's CPUs.
TASK_THREADS = 1
#: Writes to one sink stored as one object of Ray's object store (each object costs the raylet
#: ~0.2-0.5 ms; the encoder keeps this many buffers to reuse).
BATCH = 8
_FAILED = int(EventStatus.FAILED)
_lock = threading.Lock()
_held = contextlib.ExitStack()

#: Where a run's records go, as tasks see it: ``{"groups": [[end state, ...], ...], "kinds":
#: [(kind, options), ...]}`` — the end states each of the driver's sinks receives (one
#: write a chunk for all of them), and how each sink, the failed records' last, takes writes:
#: ``("jsonl", codec or None)`` encoded text, ``("table", None)`` tables, ``("dir", {"dir",
#: "format", "token"})`` a part the task writes itself.
Layout = dict[str, Any]


class Capture(Sink):
    """Stands for one of the driver's sinks in a task: keeps each write, encoded as that sink encodes it.

    Writes are handed over :data:`BATCH` at a time: ``put`` stores a list of them
    where the driver reads them (``ray.put``: one copy into Ray's object store, out
    of the encoder's buffers, which are then reused) and gives what to hand over.
    """

    blocks = False

    def __init__(self, kind: str, compression: str | None, put: Callable[[Any], Any], *, slot: int = 0) -> None:
        super().__init__()
        self._encoder = _encoder(slot, compression) if kind == "jsonl" else None
        self._put = put
        self._held: list[tuple[Any, int, Callable[[], None] | None]] = []
        #: The writes, in order, by batch: ``(what put gave for a list of payloads, their rows)``;
        #: a payload is text (a uint8 array) or a table.
        self.writes: list[tuple[Any, list[int]]] = []

    def encode(self, table: pa.Table | pa.RecordBatch) -> pa.Table | Encoded:
        """JSON Lines text (as the driver's JSON Lines sink encodes it), or the table."""
        return self._encoder.encode(table) if self._encoder is not None else super().encode(table)

    def _write_encoded(self, data: Encoded) -> None:
        self._hold(np.frombuffer(data.data, np.uint8), data.num_rows, data.release)

    def _write(self, table: pa.Table) -> None:
        self._hold(table, table.num_rows, None)

    def _hold(self, payload: Any, rows: int, release: Callable[[], None] | None) -> None:
        self._held.append((payload, rows, release))
        if len(self._held) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        held, self._held = self._held, []
        if not held:
            return
        self.writes.append((self._put([p for p, _, _ in held]), [n for _, n, _ in held]))
        for _, _, release in held:  # copied by ``put``: the encoder reads into these buffers again
            if release is not None:
                release()

    def _commit(self) -> None:
        self._flush()


_encoders: dict[tuple[int, str | None], JsonlEncoder] = {}


def _encoder(slot: int, compression: str | None) -> JsonlEncoder:
    """The JSON Lines encoder of a sink's place in this worker process: its buffers serve task after task.

    (Buffers made afresh for every task are memory faulted in afresh: ~90 MB a task.)
    """
    with _lock:
        enc = _encoders.get((slot, compression))
        if enc is None:
            enc = _encoders[(slot, compression)] = JsonlEncoder(compression, keep=BATCH + 1)
        return enc


def _copy(payloads: list[Any]) -> list[Any]:
    """What ``put`` does without Ray: copies of the arrays (tables are kept as they are)."""
    return [x.copy() if isinstance(x, np.ndarray) else x for x in payloads]


def _routes(end_states: list[str], layout: Layout, put: Callable[[Any], Any], key: int) -> tuple[Routes, list[Sink]]:
    sinks: list[Sink] = [
        _part_sink(opts, key) if kind == "dir" else Capture(kind, opts, put, slot=k)
        for k, (kind, opts) in enumerate(layout["kinds"])
    ]
    by_state = {s: sinks[g] for g, states in enumerate(layout["groups"]) for s in states}
    return Routes(end_states, sinks=by_state, error_sink=sinks[-1]), sinks


def _part_sink(opts: dict[str, Any], key: int) -> Sink:
    """The file a task writes a directory sink's part to: hidden, named by the slice, renamed by the driver."""
    fmt = get_format(opts["format"])
    return fmt.sink(Path(opts["dir"]) / pending_name(opts["token"], key, fmt))


def _part(sink: Sink, key: int) -> tuple[int, int] | None:
    """A closed part sink's ``(key, rows)`` for the driver; a part without records is deleted."""
    if not sink.records_written:
        if sink.path is not None:
            sink.path.unlink(missing_ok=True)
        return None
    return key, sink.records_written


def _put() -> Callable[[Any], Any]:
    """``ray.put`` in a Ray worker, else a copy (a task run in-process, by tests)."""
    import ray

    return ray.put if ray.is_initialized() else _copy


def _hold_tuning(cfg: StreamConfig) -> None:
    """Keep the process tuned for chunked work (:func:`~streamkit._tuning.process_tuning`) from now on.

    A Ray worker runs task after task; a run that tuned the process and put it back
    at every task's end would have each task fault its memory in afresh (on the
    10M-record JSON Lines job: 530k page faults and 1.9 s of kernel time in the
    workers against 200k and 0.75 s). So the first task a worker runs takes the
    tuning for the worker's life (``STREAMKIT_NO_TUNING=1`` turns it off).
    """
    with _lock:
        if not _held._exit_callbacks:  # type: ignore[attr-defined]
            _held.enter_context(process_tuning(cfg.memory_limit_bytes, cfg.chunk_size))


def run_slice(specs: list[NetworkSpec], sl: Slice, layout: Layout, options: dict[str, Any]) -> dict[str, Any]:
    """Run one slice through the stages (a Ray task); its summary and its writes."""
    import anyio

    from streamkit.engine.runner import StreamRun

    stages = [dataclasses.replace(stage_of(s), parallelism=None) for s in specs]
    cfg: StreamConfig = dataclasses.replace(options["config"], parallelism=TASK_THREADS)
    _hold_tuning(cfg)
    routes, sinks = _routes(stages[-1].end_states, layout, _put(), sl.offset)
    src = SliceSource(sl, cfg.chunk_size, options["schema"])
    run = StreamRun(stages, cfg, routes)
    result = anyio.run(run.run, src)  # a task's thread runs no event loop
    if result.total_records != sl.records or result.chunks_processed != sl.n_chunks:
        msg = (
            f"slice {src.name!r} counted {sl.records} records in {sl.n_chunks} chunks, ran {result.total_records} "
            f"in {result.chunks_processed}: the input changed during the run"
        )
        raise RuntimeError(msg)
    codes = result.index.status_of(np.arange(sl.offset, sl.offset + sl.records, dtype=np.int64))
    field_warnings = set(run.tally.warnings(stages[0].network))
    return {
        "count": sl.records,
        "chunks": result.chunks_processed,
        "codes": np.asarray(codes, np.uint8),
        "end_state_counts": dict(result.end_state_counts),
        "errors": [(e["row"], e["state"], e["error_type"], e["error_message"]) for e in run.tally.errors],
        "n_errors": len(run.tally.errors),
        "malformed": result.malformed,
        "retries": dict(result.retries),
        "columns_seen": sorted(run.tally.columns_seen),
        "warnings": [w for w in result.warnings if w not in field_warnings],
        "stopped_by": result.stopped_by,
        "resume": src.last_resume,
        "writes": [c.writes if isinstance(c, Capture) else [] for c in sinks],
        "parts": [None if isinstance(c, Capture) else _part(c, sl.offset) for c in sinks],
    }


def fail_slice(sl: Slice, layout: Layout, why: tuple[str, str], options: dict[str, Any]) -> dict[str, Any]:
    """Every record of a slice whose task failed for good, as failed records (a Ray task).

    Malformed lines stay malformed records (their line and reason); the others fail
    with the task's error (``error_state`` ``"<ray>"``). One write a chunk, in order.
    """
    etype, message = why
    # (an end state's slot gets no write: the slice's records all go to the failed records' slot, last)
    captures = [
        Capture(kind, opts if kind == "jsonl" else None, _put(), slot=k)
        for k, (kind, opts) in enumerate(layout["kinds"])
    ]
    errors = captures[-1]
    n = malformed = chunks = 0
    log: list[tuple[int, Any, str, str]] = []
    src = SliceSource(sl, options["config"].chunk_size, options["schema"])
    with src:
        for c in src.chunks():
            tables = [failed_rows(batch, ids, etype, message) for batch, ids in c.parts if len(ids)]
            if c.malformed is not None and c.malformed.num_rows:
                tables.append(c.malformed)
                malformed += c.malformed.num_rows
            if tables:
                t = pa.concat_tables(tables, promote_options="permissive").sort_by("_row")
                errors.write(errors.encode(t))
                if len(log) < 100:
                    head = t.slice(0, 100 - len(log)).select(["_row", "error_state", "error_type", "error_message"])
                    log += list(zip(*(col.to_pylist() for col in head.columns)))
            n += c.count
            chunks += 1
    errors.close()
    if n != sl.records or chunks != sl.n_chunks:
        msg = f"slice {src.name!r} holds {n} records in {chunks} chunks now, {sl.records} in {sl.n_chunks} when counted"
        raise RuntimeError(msg)
    return {
        "count": n,
        "chunks": chunks,
        "codes": np.full(n, _FAILED, np.uint8),
        "end_state_counts": {},
        "errors": log,
        "n_errors": n,
        "malformed": malformed,
        "retries": {},
        "columns_seen": [],
        "warnings": [],
        "stopped_by": None,
        "resume": src.last_resume,
        "writes": [c.writes for c in captures],
        "parts": [None for _ in captures],
    }
