"""``process_stream(dataset, engine="ray")``: a ``ray.data.Dataset`` through the network with ``map_batches``.

Each Arrow batch the Dataset hands to a worker runs through the stages as an
in-memory run (:func:`~streamkit.engine.local.run_local`, one thread: Ray runs
the batches in parallel). What comes of a batch leaves the worker as a few
*envelope* rows — one per end state and one for its failed records, each
holding that table in Arrow IPC form, and one with the statuses of the
batch's records — so that one ``map_batches`` carries tables of any schema.

The returned :class:`DatasetResult` is a :class:`~streamkit.engine.result.RunResult`
whose ``output(end_state)`` and ``errors()`` are Datasets. The stage runs
once, the first time the result is used (an output, the failed records or a
count): its envelopes are materialized in Ray's object store, the counts and
the status index are merged on the driver from the status rows, and each
output Dataset reads its envelopes back, with ``_row`` numbered in the order of
the materialized batches (the input order when the Dataset preserves order,
``DataContext.get_current().execution_options.preserve_order = True``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from streamkit.engine.chunks import Stage
from streamkit.engine.config import StreamConfig
from streamkit.engine.ray_common import NetworkSpec, ensure_ray, failed_rows, specs_of, stage_of
from streamkit.engine.result import RunResult
from streamkit.engine.tally import Tally
from streamkit.status import EventStatus

__all__ = ("DatasetResult", "run_dataset", "run_envelopes", "ERRORS_KIND", "BATCH_KIND")

#: ``kind`` of the envelope holding a batch's failed records.
ERRORS_KIND = "<errors>"
#: ``kind`` of the envelope holding the statuses of a batch's records (``codes``, one byte each).
BATCH_KIND = "<batch>"
_FAILED = int(EventStatus.FAILED)

ENVELOPE = pa.schema(
    [
        ("kind", pa.string()),
        ("batch", pa.string()),
        ("rows", pa.int64()),
        ("data", pa.large_binary()),
        ("codes", pa.large_binary()),
        ("malformed", pa.int64()),
        ("retries", pa.string()),
    ]
)


def _kind() -> Any:
    """The envelopes' ``kind`` column, as a Ray Data expression."""
    from ray.data.expressions import col

    return col("kind")


def _ipc_column(tables: list[pa.Table | None]) -> pa.Array:
    """The tables as Arrow IPC streams, one a row of a ``large_binary`` column (``None``: an empty row).

    Written one after another into one buffer, which the column then uses as is:
    the tables are copied once.
    """
    offsets = [0]
    for t in tables:  # sizes first (no bytes are copied), so the buffer is allocated once, at its size
        size = 0
        if t is not None:
            mock = pa.MockOutputStream()
            with pa.ipc.new_stream(mock, t.schema) as w:
                w.write_table(t)
            size = mock.size()
        offsets.append(offsets[-1] + size)
    data = pa.allocate_buffer(offsets[-1])
    out = pa.FixedSizeBufferWriter(data)
    for t in tables:
        if t is not None:
            with pa.ipc.new_stream(out, t.schema) as w:
                w.write_table(t)
    bounds = pa.py_buffer(np.asarray(offsets, np.int64).tobytes())
    return pa.Array.from_buffers(pa.large_binary(), len(tables), [None, bounds, data])


def _from_ipc(data: pa.Buffer) -> pa.Table:
    return pa.ipc.open_stream(data).read_all()


def run_envelopes(batch: pa.Table, specs: list[NetworkSpec], chunk_size: int | None) -> pa.Table:
    """Run one Arrow batch through the stages (a ``map_batches`` function); its envelope rows.

    A batch whose run raises (not a record's error: those are failed records
    already) gives every one of its records as a failed record, ``error_state``
    ``"<ray>"``, so none is lost.
    """
    import json

    from streamkit.engine.local import run_local

    bid = uuid.uuid4().hex
    n = batch.num_rows
    kinds: list[str] = []
    rows: list[int] = []
    data: list[pa.Table | None] = []
    malformed = 0
    retries = "{}"
    try:
        stages = [stage_of(s) for s in specs]
        result = run_local(stages, batch, chunk_size=chunk_size, parallelism=1)
        for state in result.end_states:
            t = result.output(state)
            if t.num_rows:
                kinds.append(state)
                rows.append(t.num_rows)
                data.append(t)
        errors = result.errors()
        codes = np.asarray(result.status, np.uint8)
        malformed = result.malformed
        retries = json.dumps(result.retries)
    except Exception as exc:  # noqa: BLE001 - the batch's records fail with the reason, one by one
        kinds, rows, data = [], [], []
        text = str(exc).strip().splitlines()
        errors = failed_rows(batch, np.arange(n), type(exc).__name__, text[-1] if text else "")
        codes = np.full(n, _FAILED, np.uint8)
    if errors.num_rows:
        kinds.append(ERRORS_KIND)
        rows.append(errors.num_rows)
        data.append(errors)
    kinds.append(BATCH_KIND)
    rows.append(n)
    data.append(None)
    k = len(kinds)
    return pa.table(
        {
            "kind": kinds,
            "batch": [bid] * k,
            "rows": rows,
            "data": _ipc_column(data),
            "codes": pa.array([b""] * (k - 1) + [codes.tobytes()], pa.large_binary()),
            "malformed": [malformed if kind == BATCH_KIND else 0 for kind in kinds],
            "retries": [retries if kind == BATCH_KIND else "{}" for kind in kinds],
        },
        schema=ENVELOPE,
    )


def _unwrap(envelopes: pa.Table, offsets: Mapping[str, int]) -> pa.Table:
    """The records of some envelopes of one kind, their ``_row`` moved to the batch's place in the run."""
    import pyarrow.compute as pc

    tables = []
    for bid, blob in zip(envelopes.column("batch").to_pylist(), envelopes.column("data")):
        t = _from_ipc(blob.as_buffer())  # a view of the block's bytes, not a copy
        i = t.schema.get_field_index("_row")
        t = t.set_column(i, "_row", pc.add(t.column(i), pa.scalar(offsets[bid], pa.int64())))
        tables.append(t)
    if not tables:
        return pa.table({"_row": pa.array([], pa.int64())})
    return pa.concat_tables(tables, promote_options="permissive")


def run_dataset(
    stages: list[Stage], ds: Any, sink: Any, config: StreamConfig, options: Mapping[str, Any]
) -> DatasetResult:
    """The stages over a Dataset, as a :class:`DatasetResult` (nothing runs until the result is used)."""
    ensure_ray()
    given = {**options, "sink": sink}
    for name in ("sink", "sinks", "error_sink", "checkpoint"):
        if given.get(name) is not None:
            msg = (
                f"engine='ray' with a Dataset source gives Datasets back; `{name}` is not used"
                "\n\nHint: write them with Ray Data, e.g. `result.output('done').write_parquet(path)`"
            )
            raise TypeError(msg)
    # without a chunk_size, each block of the Dataset is one batch, as it is (no re-batching copy)
    chunk_size = options.get("chunk_size")
    envelopes = ds.map_batches(
        run_envelopes,
        batch_format="pyarrow",
        batch_size=chunk_size,
        fn_kwargs={"specs": specs_of(stages), "chunk_size": chunk_size},
        zero_copy_batch=True,
    )
    return DatasetResult(stages, envelopes)


class DatasetResult(RunResult):
    """The result of a run over a ``ray.data.Dataset``: ``output(end_state)`` and ``errors()`` are Datasets.

    The stage runs the first time the result is used; the counts, the status
    index and the other attributes of :class:`~streamkit.RunResult` are then final.
    """

    def __init__(self, stages: list[Stage], envelopes: Any) -> None:
        self._pending: tuple[list[Stage], Any] | None = (stages, envelopes)
        self._run: Any = None
        self._offsets: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        # counts and the status index are set by RunResult.__init__ once the stage ran
        if name.startswith("__") or self.__dict__.get("_pending") is None:
            raise AttributeError(name)
        self._finish()
        return getattr(self, name)

    def _finish(self) -> None:
        if self._pending is None:
            return
        stages, envelopes = self._pending
        t0 = time.perf_counter()
        run = envelopes.materialize()
        summary = run.select_columns(["kind", "batch", "rows", "codes", "malformed", "retries"]).take_all()
        tally = _tally(stages[-1].end_states, summary, self._offsets)
        self._run = run
        self._pending = None
        RunResult.__init__(
            self,
            tally,
            duration=time.perf_counter() - t0,
            collected={},
            collected_errors=None,
            paths={},
            warnings=[],
            stages=stages,
        )

    def dataset(self, kind: str) -> Any:
        """The Dataset of one envelope kind's records (an end state, or ``"<errors>"``)."""
        self._finish()
        offsets = self._offsets
        return self._run.filter(expr=_kind() == kind).map_batches(
            _unwrap, batch_format="pyarrow", fn_kwargs={"offsets": offsets}
        )

    def output(self, end_state: str) -> Any:
        """The records that completed in ``end_state``, as a ``ray.data.Dataset``."""
        self._finish()
        if end_state not in self.end_states:
            msg = f"{end_state!r} is not an end state (end states: {', '.join(map(repr, self.end_states))})"
            raise KeyError(msg)
        return self.dataset(end_state)

    def errors(self) -> Any:
        """The failed records, as a ``ray.data.Dataset``."""
        return self.dataset(ERRORS_KIND)

    def __repr__(self) -> str:
        if self._pending is not None:
            return "DatasetResult(not run yet)"
        return super().__repr__()


def _tally(end_states: list[str], envelopes: list[dict[str, Any]], offsets: dict[str, int]) -> Tally:
    """The run's counts and status index, from the envelopes' small columns, in the materialized order."""
    import json

    tally = Tally(end_states)
    pos = 0
    for row in envelopes:
        n = int(row["rows"])
        kind = row["kind"]
        if kind in tally.end_state_counts:
            tally.end_state_counts[kind] += n
            continue
        if kind != BATCH_KIND:  # failed records
            tally.errors.total += n
            continue
        offsets[row["batch"]] = pos
        if n:
            tally.index.add_chunk(range(pos, pos + n), np.frombuffer(row["codes"], np.uint8))
        tally.malformed += int(row["malformed"])
        for s, k in json.loads(row["retries"]).items():
            tally.retries[s] = tally.retries.get(s, 0) + k
        tally.chunks += 1
        tally.records += n
        pos += n
    return tally
