"""``process_stream(path, ..., engine="ray")``: files run as plain Ray tasks, each writing its own parts.

The driver cuts the input into *slices* — a file, a run of a Parquet file's row
groups, or a byte range of an uncompressed JSONL file cut at line ends — counts
each slice's records (so every record keeps its stream position, ``_row``), and
runs each slice in a Ray task, at most ``max_in_flight`` at once. A task runs
the slice through the very stream engine a local run uses (one worker thread)
into part files of its own, each committed atomically, and returns a summary:
its records' statuses, counts per end state, the first failed records. The
driver merges the summaries in slice order into the run's
:class:`~streamkit.engine.tally.Tally`, then joins each sink's parts, in order,
into the sink's file (a rename for one part, a byte copy for JSONL, a rewrite
through the sink for the other formats).

No slice is dropped: a task that raises or whose worker dies is retried by Ray
(``max_retries``); if it still fails, another task reads the slice and writes
each of its records to the failed records (``error_state`` ``"<ray>"``, the
error's type and message), so the counts add up.
"""

from __future__ import annotations

import itertools
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from streamkit.engine.chunks import Stage
from streamkit.engine.config import StreamConfig
from streamkit.engine.progress import Progress
from streamkit.engine.ray_common import NetworkSpec, ensure_ray, specs_of, stage_of
from streamkit.engine.result import RunResult
from streamkit.engine.routing import Routes, error_path_for
from streamkit.engine.tally import Tally
from streamkit.io import Collector, Source, open_sink, open_source
from streamkit.io._files import check_output_path, commit, is_compressed
from streamkit.io._lines import iter_line_blocks
from streamkit.io.arrowsources import ParquetSource
from streamkit.io.formats import format_of, resolve_paths
from streamkit.io.jsonl import JsonlSource
from streamkit.status import EventStatus

__all__ = ("Slice", "plan_slices", "run_files", "RAY_ERROR_STATE")

#: ``error_state`` of the records of a slice whose task failed for good.
RAY_ERROR_STATE = "<ray>"
#: Bytes of input a task reads at most (JSONL ranges, Parquet row groups); smaller slices balance better.
SLICE_BYTES = 128 << 20
#: Times Ray runs a slice's task again after it raised or its worker died, before its records fail.
MAX_RETRIES = 2
_FAILED = int(EventStatus.FAILED)


@dataclass(frozen=True)
class Slice:
    """A part of the input one task reads: a whole file, a byte range of a JSONL file, or row groups."""

    path: str
    format: str
    start: int = 0
    end: int = -1  # JSONL byte range [start, end); -1: to the end of the file
    groups: tuple[int, ...] = ()  # Parquet row groups; (): all of them
    records: int = -1  # known ahead (Parquet metadata), else counted by a task


def plan_slices(source: Any, fmt: str | None, *, slice_bytes: int | None = None) -> list[Slice]:
    """Cut the files ``source`` names into slices of about ``slice_bytes`` each (default :data:`SLICE_BYTES`)."""
    if slice_bytes is None:
        slice_bytes = SLICE_BYTES
    paths = [p for x in (source if isinstance(source, (list, tuple)) else [source]) for p in resolve_paths(x)]
    out: list[Slice] = []
    for p in paths:
        name = format_of(p, fmt).name
        size = p.stat().st_size
        if name == "jsonl" and not is_compressed(p) and size > slice_bytes:
            cuts = _line_cuts(p, size, -(-size // slice_bytes))
            out += [Slice(str(p), name, a, b) for a, b in itertools.pairwise(cuts) if b > a]
        elif name == "parquet":
            meta = pq.ParquetFile(p).metadata
            group: list[int] = []
            rows = nbytes = 0
            for i in range(meta.num_row_groups):
                rg = meta.row_group(i)
                group.append(i)
                rows += rg.num_rows
                nbytes += rg.total_byte_size
                if nbytes >= slice_bytes:
                    out.append(Slice(str(p), name, groups=tuple(group), records=rows))
                    group, rows, nbytes = [], 0, 0
            if group or not out or out[-1].path != str(p):
                out.append(Slice(str(p), name, groups=tuple(group), records=rows))
        else:
            out.append(Slice(str(p), name))
    return out


def _line_cuts(path: Path, size: int, n: int) -> list[int]:
    """``n + 1`` byte positions from 0 to ``size``, each just after a line end."""
    cuts = [0]
    with open(path, "rb") as f:
        for k in range(1, n):
            f.seek(max(size * k // n, cuts[-1]))
            pos = f.tell()
            while True:
                block = f.read(1 << 16)
                if not block:
                    pos = size
                    break
                at = block.find(b"\n")
                if at >= 0:
                    pos += at + 1
                    break
                pos += len(block)
            cuts.append(pos)
    cuts.append(size)
    return cuts


class _Range:
    """A file object reading bytes ``[start, end)`` of a file (what :func:`iter_line_blocks` reads)."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self._f = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._f.seek(start)
        self._left = end - start

    def readinto(self, view: Any) -> int:
        if self._left <= 0:
            return 0
        mv = memoryview(view)[: self._left]
        got = self._f.readinto(mv) or 0
        self._left -= got
        return got

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> _Range:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _JsonlRange(JsonlSource):
    """A byte range of a JSONL file, its records numbered from ``offset``."""

    def __init__(self, sl: Slice, chunk_size: int, *, schema: pa.Schema | None, offset: int) -> None:
        super().__init__(sl.path, chunk_size, schema=schema, offset=offset)
        self.slice = sl

    def _generate_raw(self) -> Any:
        from streamkit.io.chunk import RawChunk

        pos = self.offset
        with _Range(self.slice.path, self.slice.start, self.slice.end) as f:
            for block in iter_line_blocks(f, self.chunk_size, pool=self._buffers):
                n = len(block)
                yield RawChunk(pos, n, len(block.data), partial(self._parse_and_release, block, pos))
                pos += n


class _ParquetGroups(ParquetSource):
    """Row groups of a Parquet file, their records numbered from ``offset``."""

    def __init__(self, sl: Slice, chunk_size: int, *, schema: pa.Schema | None, offset: int) -> None:
        super().__init__(sl.path, chunk_size, schema=schema, offset=offset)
        self.groups = list(sl.groups)

    def _batches(self) -> Any:
        from streamkit.io.arrowsources import rechunk

        f = pq.ParquetFile(self.path, memory_map=True)
        try:
            yield from rechunk(f.iter_batches(batch_size=self.chunk_size, row_groups=self.groups), self.chunk_size)
        finally:
            f.close()


def _open_slice(sl: Slice, chunk_size: int, schema: Any, offset: int) -> Source:
    from streamkit.io.records import to_arrow_schema

    arrow_schema = to_arrow_schema(schema) if schema is not None else None
    if sl.format == "jsonl" and sl.end >= 0:
        return _JsonlRange(sl, chunk_size, schema=arrow_schema, offset=offset)
    if sl.format == "parquet" and sl.groups:
        return _ParquetGroups(sl, chunk_size, schema=arrow_schema, offset=offset)
    return format_of(sl.path, sl.format).source(sl.path, chunk_size, schema=arrow_schema, offset=offset)


def count_slice(sl: Slice, chunk_size: int, schema: Any) -> int:
    """Records in a slice (non-blank lines of JSONL, rows of the other formats)."""
    if sl.records >= 0:
        return sl.records
    if sl.format == "jsonl" and not is_compressed(Path(sl.path)):
        end = sl.end if sl.end >= 0 else os.path.getsize(sl.path)
        with _Range(sl.path, sl.start, end) as f:
            return sum(len(b) for b in iter_line_blocks(f, 1 << 20))
    with _open_slice(sl, chunk_size, schema, 0) as src:
        return sum(c.count for c in src.raw_chunks())


# -- the tasks -------------------------------------------------------------------------------------
def run_slice(
    specs: list[NetworkSpec], sl: Slice, offset: int, n: int, targets: dict[str, Any], options: dict[str, Any]
) -> dict[str, Any]:
    """Run one slice through the stages into its part files (a task); its summary."""
    import anyio

    from streamkit.engine.runner import StreamRun

    stages = [stage_of(s) for s in specs]
    cfg: StreamConfig = options["config"]
    routes = Routes(
        stages[-1].end_states,
        sink=targets["sink"],
        sinks=targets["sinks"],
        error_sink=targets["errors"],
        sink_format=options["sink_format"],
    )
    src = _open_slice(sl, cfg.chunk_size, options.get("schema"), offset)
    run = StreamRun(stages, cfg, routes)
    result = anyio.run(run.run, src)  # a task's thread runs no event loop
    return _summary(result, run.tally, offset, n)


def fail_slice(
    sl: Slice, offset: int, n: int, error_part: str | None, why: tuple[str, str], options: dict[str, Any]
) -> dict[str, Any]:
    """Write every record of a slice whose task failed for good to the failed records (a task)."""
    etype, message = why
    tables: list[pa.Table] = []
    with _open_slice(sl, options["config"].chunk_size, options.get("schema"), offset) as src:
        for c in src.chunks():
            if c.malformed is not None and c.malformed.num_rows:
                tables.append(c.malformed)
            for batch, ids in c.parts:
                tables.append(_failed_rows(batch, ids, etype, message))
    errors = pa.concat_tables(tables, promote_options="permissive") if tables else None
    if errors is not None:
        errors = errors.sort_by("_row")
    if error_part is not None:
        sink = open_sink(error_part, "jsonl" if error_part.endswith(".jsonl") else None)
        if errors is not None:
            sink.write(errors)
        sink.close()
    got = 0 if errors is None else errors.num_rows
    if got != n:
        msg = f"slice {sl} holds {got} records now, {n} when counted"
        raise RuntimeError(msg)
    log = [] if errors is None else _error_sample(errors)
    return {
        "count": n,
        "codes": np.full(n, _FAILED, np.uint8),
        "end_state_counts": {},
        "errors": log,
        "n_errors": n,
        "malformed": 0,
        "retries": {},
        "warnings": [],
        "chunks": 1,
        "stopped_by": None,
        "outputs": {},
        "error_table": errors if error_part is None else None,
    }


def _failed_rows(batch: pa.RecordBatch | pa.Table, ids: np.ndarray, etype: str, message: str) -> pa.Table:
    k = len(ids)
    data: dict[str, Any] = {
        "_row": pa.array(ids, pa.int64()),
        "error_state": pa.array([RAY_ERROR_STATE] * k, pa.string()),
        "error_type": pa.array([etype] * k, pa.string()),
        "error_message": pa.array([message] * k, pa.string()),
    }
    for name, col in zip(batch.schema.names, batch.columns):
        if name not in data:
            data[name] = col
    return pa.table(data)


def _error_sample(errors: pa.Table, keep: int = 100) -> list[tuple[int, Any, str, str]]:
    head = errors.slice(0, keep).select(["_row", "error_state", "error_type", "error_message"])
    return list(zip(*(c.to_pylist() for c in head.columns)))


def _summary(result: RunResult, tally: Tally, offset: int, n: int) -> dict[str, Any]:
    if result.total_records != n:
        msg = f"a slice counted {n} records ran {result.total_records}: the input changed during the run"
        raise RuntimeError(msg)
    codes = result.index.status_of(np.arange(offset, offset + n, dtype=np.int64)) if n else np.empty(0, np.uint8)
    collected = {s: c.table() for s, c in result._collected.items()}
    errors = result._collected_errors.table() if result._collected_errors is not None else None
    return {
        "count": n,
        "codes": np.asarray(codes, np.uint8),
        "end_state_counts": dict(result.end_state_counts),
        "errors": [(e["row"], e["state"], e["error_type"], e["error_message"]) for e in tally.errors],
        "n_errors": len(tally.errors),
        "malformed": result.malformed,
        "retries": dict(result.retries),
        "warnings": list(result.warnings),
        "chunks": result.chunks_processed,
        "stopped_by": result.stopped_by,
        "outputs": collected,
        "error_table": errors,
    }


# -- the driver ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Targets:
    """Where a run's records go: a file per end state (``None``: into memory), and the failed records' file."""

    shared: str | None
    by_state: dict[str, str | None]
    errors: str | None

    def for_slice(self, run_id: str, k: int) -> dict[str, Any]:
        """The part files of slice ``k``: hidden, beside their sink's file, with its suffix (its format)."""
        shared = _part(self.shared, run_id, k)
        return {
            "sink": shared,
            "sinks": {s: _part(p, run_id, k) for s, p in self.by_state.items() if p is not None and p != self.shared},
            "errors": _part(self.errors, run_id, k),
        }

    def finals(self) -> list[str]:
        """Every file the run writes."""
        files = {p for p in self.by_state.values() if p is not None}
        if self.errors is not None:
            files.add(self.errors)
        return sorted(files)


def _part(path: str | None, run_id: str, k: int) -> str | None:
    if path is None:
        return None
    p = Path(path)
    return str(p.with_name(f".{run_id}-{k:05d}.{p.name}"))


def _targets(end_states: list[str], sink: Any, sinks: Mapping[str, Any] | None, error_sink: Any) -> _Targets:
    def as_path(x: Any, what: str) -> str | None:
        if x is None:
            return None
        if isinstance(x, (str, os.PathLike)):
            return os.path.abspath(os.fspath(x))
        msg = (
            f"engine='ray' writes {what} to files or keeps them in memory, got a {type(x).__name__}"
            "\n\nHint: pass a path, or run with the local engine"
        )
        raise TypeError(msg)

    sinks = dict(sinks or {})
    unknown = [k for k in sinks if k not in end_states]
    if unknown:
        names = ", ".join(map(repr, unknown))
        msg = f"`sinks` names {names}, not an end state (end states: {', '.join(map(repr, end_states))})"
        raise ValueError(msg)
    shared = as_path(sink, "`sink`")
    by_state = {s: as_path(sinks[s], f"end state {s!r}") if s in sinks else shared for s in end_states}
    errors = as_path(error_sink, "`error_sink`")
    if errors is None:
        first = next((p for p in [shared, *by_state.values()] if p is not None), None)
        errors = str(error_path_for(Path(first))) if first is not None else None
    targets = _Targets(shared, by_state, errors)
    for final in targets.finals():  # a missing directory fails here, not in every task
        check_output_path(final)
    return targets


_remote: dict[str, Any] = {}


def _task(ray: Any, fn: Callable[..., Any], **opts: Any) -> Any:
    key = f"{fn.__name__}:{sorted(opts.items())}"
    if key not in _remote:
        _remote[key] = ray.remote(**opts)(fn)
    return _remote[key]


async def run_files(
    stages: list[Stage],
    source: Any,
    sink: Any,
    options: Mapping[str, Any],
    config: StreamConfig,
    on_progress: Callable[[Progress], Any] | None,
) -> RunResult:
    """Run the files ``source`` names through ``stages`` on Ray (see the module's description)."""
    import anyio

    ray = ensure_ray()
    t0 = time.perf_counter()
    end_states = stages[-1].end_states
    targets = _targets(end_states, sink, options.get("sinks"), options.get("error_sink"))
    schema = options.get("schema")
    slices = plan_slices(source, options.get("format"))
    task_opts = {"config": config, "sink_format": options.get("sink_format"), "schema": schema}
    retries = MAX_RETRIES
    counter = _task(ray, count_slice, num_cpus=1, max_retries=retries)
    runner = _task(ray, run_slice, num_cpus=1, max_retries=retries, retry_exceptions=True)
    failer = _task(ray, fail_slice, num_cpus=1, max_retries=retries)

    refs = [None if sl.records >= 0 else counter.remote(sl, config.chunk_size, schema) for sl in slices]
    wanted = [r for r in refs if r is not None]
    got = iter(await anyio.to_thread.run_sync(ray.get, wanted) if wanted else [])
    counts = [sl.records if r is None else int(next(got)) for sl, r in zip(slices, refs)]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    specs = ray.put(specs_of(stages))
    run_id = f"sk-{uuid.uuid4().hex[:12]}"
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    limit = 2 * cpus  # one task running per core and one waiting, whose inputs Ray may fetch meanwhile
    tally = Tally(end_states)
    summaries: dict[int, dict[str, Any]] = {}
    pending: dict[Any, tuple[int, bool]] = {}  # ref -> (slice, is it the failing of a slice)
    todo = list(range(len(slices)))
    warnings: list[str] = []
    stopped_by: dict[str, Any] | None = None  # an event's stop flag stops the slice it fired in
    try:
        while todo or pending:
            while todo and len(pending) < limit:
                k = todo.pop(0)
                ref = runner.remote(
                    specs, slices[k], int(offsets[k]), counts[k], targets.for_slice(run_id, k), task_opts
                )
                pending[ref] = (k, False)
            ready, _ = await anyio.to_thread.run_sync(partial(ray.wait, list(pending), num_returns=1))
            for ref in ready:
                k, failing = pending.pop(ref)
                try:
                    summary = await anyio.to_thread.run_sync(ray.get, ref)
                except Exception as exc:
                    if failing:
                        raise
                    cause = getattr(exc, "cause", None) or exc
                    why = (type(cause).__name__, _first_line(cause))
                    err = targets.for_slice(run_id, k)["errors"]
                    again = failer.remote(slices[k], int(offsets[k]), counts[k], err, why, task_opts)
                    pending[again] = (k, True)
                    continue
                summaries[k] = summary
                _merge(tally, summary, int(offsets[k]))
                if stopped_by is None and summary["stopped_by"] is not None:
                    stopped_by = {**summary["stopped_by"], "slice": k}
                for w in summary["warnings"]:
                    if w not in warnings:
                        warnings.append(w)
                if on_progress is not None:
                    out = on_progress(_progress(tally, time.perf_counter() - t0, sum(counts) - tally.records))
                    if hasattr(out, "__await__"):
                        await out
        collected, collected_errors = _collect(end_states, targets, summaries, len(slices))
        await anyio.to_thread.run_sync(_join_all, targets, run_id, len(slices))
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=False)
        _remove_parts(targets, run_id, len(slices))
        raise
    paths = {s: p for s, p in targets.by_state.items() if p is not None}
    if targets.errors is not None:
        paths["errors"] = targets.errors
    return RunResult(
        tally,
        duration=time.perf_counter() - t0,
        collected=collected,
        collected_errors=collected_errors,
        paths=paths,
        warnings=warnings,
        stopped_by=stopped_by,
        stages=stages,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _merge(tally: Tally, summary: dict[str, Any], offset: int) -> None:
    """Add a slice's summary to the run's tally (any order: slices cover their own positions)."""
    n = summary["count"]
    if n:
        tally.index.add_chunk(range(offset, offset + n), summary["codes"])
    for s, k in summary["end_state_counts"].items():
        tally.end_state_counts[s] = tally.end_state_counts.get(s, 0) + k
    tally.errors.add(summary["errors"])
    tally.errors.total += summary["n_errors"] - len(summary["errors"])
    tally.malformed += summary["malformed"]
    tally.chunks += summary["chunks"]
    tally.records += n
    for s, k in summary["retries"].items():
        tally.retries[s] = tally.retries.get(s, 0) + k


def _progress(tally: Tally, elapsed: float, left: int) -> Progress:
    counts = tally.index.counts()
    return Progress(
        chunks_processed=tally.chunks,
        records_processed=tally.records,
        records_per_second=tally.records / elapsed if elapsed > 0 else 0.0,
        errors=tally.errors,
        bytes_in_flight=0,
        records_in_flight=left,
        elapsed=elapsed,
        successful=counts["completed"],
        failed=counts["failed"],
        malformed=tally.malformed,
        status_counts=counts,
        end_state_counts=dict(tally.end_state_counts),
    )


def _collect(
    end_states: list[str], targets: _Targets, summaries: dict[int, dict[str, Any]], n: int
) -> tuple[dict[str, Collector], Collector | None]:
    """The records kept in memory (end states without a file, failed records without one), in slice order."""
    collected = {s: Collector() for s in end_states if targets.by_state[s] is None}
    errors = Collector() if targets.errors is None else None
    for k in range(n):
        summary = summaries[k]
        for s, c in collected.items():
            t = summary["outputs"].get(s)
            if t is not None and t.num_rows:
                c.write(t)
        t = summary["error_table"]
        if errors is not None and t is not None and t.num_rows:
            errors.write(t)
    return collected, errors


def _join_all(targets: _Targets, run_id: str, n: int) -> None:
    for final in targets.finals():
        parts = [Path(p) for k in range(n) if (p := _part(final, run_id, k)) is not None]
        _join(parts, Path(final))


def _join(parts: list[Path], final: Path) -> None:
    """Join a sink's parts, in order, into its file (atomically); the parts are removed."""
    parts = [p for p in parts if p.exists()]
    if not parts:
        open_sink(str(final)).close()  # an empty file, as a local run leaves
        return
    if len(parts) == 1:
        commit(parts[0], final)
        return
    tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        if format_of(final).name == "jsonl":  # lines (and gzip/zstd members) join by concatenation
            with open(tmp, "wb") as out:
                for p in parts:
                    with open(p, "rb") as f:
                        shutil.copyfileobj(f, out, 16 << 20)
            commit(tmp, final)
        else:  # one schema per file: rewritten through the sink, which unifies the parts' schemas
            sink = open_sink(str(final))
            try:
                for p in parts:
                    with open_source(str(p)) as src:
                        for c in src.chunks():
                            for batch, _ in c.parts:
                                sink.write(batch)
            except BaseException:
                sink.abort()
                raise
            sink.close()
    finally:
        tmp.unlink(missing_ok=True)
        for p in parts:
            p.unlink(missing_ok=True)


def _remove_parts(targets: _Targets, run_id: str, n: int) -> None:
    for final in targets.finals():
        for k in range(n):
            p = _part(final, run_id, k)
            if p is not None:
                Path(p).unlink(missing_ok=True)
