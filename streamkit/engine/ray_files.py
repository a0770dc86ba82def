"""``process_stream(path, ..., engine="ray")``: files run as plain Ray tasks, their writes made by the driver.

The driver cuts the input into *slices*, runs of a local run's own chunks
(:mod:`streamkit.engine.ray_slices`: byte ranges of JSON Lines files, row
groups of Parquet files, other files whole), counting in tasks what it must
count so that every record keeps its stream position (``_row``). Each slice
runs in a Ray task (:mod:`streamkit.engine.ray_tasks`) through the local stream
engine, at most :data:`IN_FLIGHT_PER_CPU` per cluster CPU at once; what the
task's chunks would write to each sink comes back through Ray's object store,
JSON Lines already encoded.

The driver opens the run's sinks as a local run does (``Routes``: files,
callbacks, memory; with ``checkpoint=``, the checkpoint's part sinks) and
*commits* the slices in order: it makes each slice's writes, merges its summary
into the run's :class:`~streamkit.engine.tally.Tally` and, with a checkpoint,
commits the checkpoint (:mod:`streamkit.engine.checkpoint`, the local format:
parts, statuses, where the source stands). The files hold the very bytes a
local run writes; a driver killed at any point resumes with the same call, on
Ray or locally, and a local run's checkpoint resumes on Ray.

No slice is dropped: a task that raises or whose worker dies is retried by Ray
(:data:`MAX_RETRIES`); if it still fails, another task reads the slice and
hands back each of its records as a failed record (``error_state`` ``"<ray>"``,
the error's type and message), so the counts add up.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pyarrow as pa

from streamkit.engine.checkpoint import Checkpoint, open_outputs
from streamkit.engine.chunks import Stage
from streamkit.engine.config import StreamConfig
from streamkit.engine.progress import Progress
from streamkit.engine.ray_common import RAY_ERROR_STATE, ensure_ray, specs_of
from streamkit.engine.ray_slices import (
    Slice,
    count_file,
    count_range,
    counted,
    plan_slices,
    slice_bytes_for,
    split_files,
)
from streamkit.engine.ray_tasks import Layout, fail_slice, run_slice
from streamkit.engine.result import RunResult
from streamkit.engine.routing import Routes
from streamkit.engine.tally import Tally
from streamkit.io import open_source
from streamkit.io._files import compression_of
from streamkit.io.base import Encoded, Sink
from streamkit.io.dirsink import DirectorySink
from streamkit.io.filesinks import JsonlSink
from streamkit.io.partfiles import PartSink
from streamkit.io.sources import FilesSource

__all__ = ("run_files", "MAX_RETRIES", "RAY_ERROR_STATE")

#: Times Ray runs a slice's task again after it raised or its worker died, before its records fail.
MAX_RETRIES = 2
#: Tasks in flight per cluster CPU: one running, one queued so the CPU never waits for the driver.
IN_FLIGHT_PER_CPU = 2
#: Slices started past the next one to commit, per cluster CPU: this bounds what waits in Ray's
#: object store for the driver (a slice's output: ~3x its input bytes as JSON text on the seed job).
AHEAD_PER_CPU = 4


# -- where the records go ---------------------------------------------------------------------------
def _layout(routes: Routes) -> tuple[Layout, list[Sink]]:
    """What tasks need to know of the run's sinks, and those sinks in the layout's order (failed records last)."""
    groups = routes.groups()
    targets = [s for s, _ in groups] + [routes.errors]
    return {"groups": [states for _, states in groups], "kinds": [_kind(s) for s in targets]}, targets


def _kind(sink: Sink) -> tuple[str, Any]:
    """How a sink takes writes: JSON Lines text (encoded in the tasks), tables, or parts the tasks write."""
    if isinstance(sink, DirectorySink):
        return "dir", {"dir": str(sink.path), "format": sink.format.name, "token": sink.token}
    if isinstance(sink, JsonlSink):
        return "jsonl", sink.compression
    if isinstance(sink, PartSink) and sink.is_text:
        return "jsonl", compression_of(sink.path)
    return "table", None


_remote: dict[str, Any] = {}


def _task(ray: Any, fn: Callable[..., Any], **opts: Any) -> Any:
    key = f"{fn.__name__}:{sorted(opts.items())}"
    if key not in _remote:
        _remote[key] = ray.remote(**opts)(fn)
    return _remote[key]


# -- the driver ---------------------------------------------------------------------------------------
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
    cs = config.chunk_size
    src = open_source(source, chunk_size=cs, format=options.get("format"), schema=options.get("schema"))
    if not isinstance(src, FilesSource):  # pragma: no cover - the caller passes paths only
        msg = f"engine='ray' reads files, got {src.name!r}"
        raise TypeError(msg)
    src.close()  # only its files and their formats are used here
    routes, ckpt = open_outputs(stages, src, sink, options, read_size=cs, threads=config.parallelism)
    run = _Driver(ray, stages, routes, ckpt, config, on_progress, t0)
    try:
        await run.run(src, schema=src.schema)
        await anyio.to_thread.run_sync(run.finish)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(run.abort)
        raise
    return run.result()


class _Driver:
    """One Ray run over files: counts, slices, tasks in flight, the slices' writes and commits in order."""

    def __init__(
        self,
        ray: Any,
        stages: list[Stage],
        routes: Routes,
        ckpt: Checkpoint | None,
        config: StreamConfig,
        on_progress: Callable[[Progress], Any] | None,
        t0: float,
    ) -> None:
        self.ray = ray
        self.stages = stages
        self.routes = routes
        self.layout, self.targets = _layout(routes)
        self.ckpt = ckpt
        self.config = config
        self.on_progress = on_progress
        self.t0 = t0
        self.tally = Tally(stages[-1].end_states)
        if ckpt is not None:
            ckpt.restore(self.tally)
        self.warnings: list[str] = []
        self.stopped_by: dict[str, Any] | None = None
        self.total = 0
        self.pending: dict[Any, tuple[int, bool]] = {}
        self.cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        # encodes tables for the sinks that take them (Parquet row groups), a few at once, as a local run's workers
        self._pool = ThreadPoolExecutor(max(1, config.parallelism), thread_name_prefix="streamkit-ray-write")

    async def _get(self, refs: list[Any]) -> list[Any]:
        import anyio

        return list(await anyio.to_thread.run_sync(self.ray.get, refs)) if refs else []

    async def _count(self, src: FilesSource) -> list[Slice]:
        """The slices still to run (after the checkpoint's chunks), from counts made in tasks."""
        import anyio

        cs = self.config.chunk_size
        formats = [f.name for f in src.formats]
        size = slice_bytes_for(sum(p.stat().st_size for p in src.paths), self.cpus)
        files = await anyio.to_thread.run_sync(partial(split_files, src.paths, formats, slice_bytes=size))
        by_range = _task(self.ray, count_range, num_cpus=1, max_retries=MAX_RETRIES)
        by_file = _task(self.ray, count_file, num_cpus=1, max_retries=MAX_RETRIES)
        refs: dict[int, list[Any]] = {}
        for f in files:
            if f.format == "parquet":
                continue
            if f.ranges:
                refs[f.index] = [by_range.remote(f.path, a, b) for a, b in itertools.pairwise(f.ranges)]
            else:
                refs[f.index] = [by_file.remote(f.path, f.format, cs, src.schema)]
        flat = [r for v in refs.values() for r in v]
        got = dict(zip(flat, await self._get(flat)))
        files = counted(files, lambda k: [got[r] for r in refs[k]], cs)
        ckpt = self.ckpt
        slices, _, total = plan_slices(
            files,
            cs,
            slice_bytes=size,
            after=0 if ckpt is None else ckpt.chunks,
            position=0 if ckpt is None else ckpt.position,
            source_at=None if ckpt is None else ckpt.source_at,
        )
        self.total = total
        return slices

    async def run(self, src: FilesSource, *, schema: Any) -> None:
        """Count, then run the slices' tasks; write and commit each slice in order once it and those before are done."""
        ray = self.ray
        slices = await self._count(src)
        specs = ray.put(specs_of(self.stages))
        opts = {"config": self.config, "schema": schema}
        runner = _task(ray, run_slice, num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=True)
        failer = _task(ray, fail_slice, num_cpus=1, max_retries=MAX_RETRIES)
        limit, ahead = IN_FLIGHT_PER_CPU * self.cpus, AHEAD_PER_CPU * self.cpus
        done: dict[int, Any] = {}
        lost: dict[int, int] = {}  # slices whose writes were lost, and how often
        whys: dict[int, tuple[str, str]] = {}  # why the slices being failed record by record failed
        nxt = 0  # the next slice to write
        todo = 0  # the next slice to start
        while nxt < len(slices):
            while todo < len(slices) and len(self.pending) < limit and todo < nxt + ahead:
                self.pending[runner.remote(specs, slices[todo], self.layout, opts)] = (todo, False)
                todo += 1
            for ref in await self._wait():
                k, failing = self.pending.pop(ref)
                try:
                    (summary,) = await self._get([ref])
                except Exception as exc:
                    if failing:  # even reading the slice failed: the input cannot be read
                        raise
                    cause = getattr(exc, "cause", None) or exc
                    whys[k] = (type(cause).__name__, _last_line(cause))
                    self.pending[failer.remote(slices[k], self.layout, whys[k], opts)] = (k, True)
                    continue
                try:
                    done[k] = await self._fetch(summary)
                except ray.exceptions.ObjectLostError:  # its worker died after the task: run it again
                    if lost.get(k, 0) >= MAX_RETRIES:
                        raise
                    lost[k] = lost.get(k, 0) + 1
                    if failing:
                        again = failer.remote(slices[k], self.layout, whys[k], opts)
                    else:
                        again = runner.remote(specs, slices[k], self.layout, opts)
                    self.pending[again] = (k, failing)
            while nxt in done:
                await self._commit(nxt, slices[nxt], done.pop(nxt))
                nxt += 1

    async def _fetch(self, summary: dict[str, Any]) -> dict[str, Any]:
        """The summary with its writes read from the object store (text as arrays, tables), mapped, not copied.

        A write lost with the worker that stored it raises here: the slice runs again.
        """
        refs = [ref for writes in summary["writes"] for ref, _ in writes]
        got = iter(await self._get(refs))
        summary["writes"] = [
            [(p, n) for _, rows in writes for p, n in zip(next(got), rows)] for writes in summary["writes"]
        ]
        return summary

    async def _wait(self) -> list[Any]:
        import anyio

        ready, _ = await anyio.to_thread.run_sync(partial(self.ray.wait, list(self.pending), num_returns=1))
        return list(ready)

    async def _commit(self, k: int, sl: Slice, summary: dict[str, Any]) -> None:
        """Make a slice's writes to the run's sinks, count it; with a checkpoint, commit it."""
        import anyio

        for target, writes in zip(self.targets, summary["writes"]):
            if target.is_async:  # (takes tables: an async sink is no file)
                for table, _ in writes:
                    await target.awrite(table)
            elif writes:
                await anyio.to_thread.run_sync(self._write, target, writes)
        for target, part in zip(self.targets, summary["parts"]):
            if part is not None:  # a part the task wrote itself: renamed into place, in order
                assert isinstance(target, DirectorySink)
                await anyio.to_thread.run_sync(target.adopt, target.pending_path(part[0]), part[1])
        summary["writes"] = None  # the slice's outputs may go now
        _merge(self.tally, summary, sl.offset)
        if self.ckpt is not None:
            ckpt = self.ckpt
            ckpt.written_many(summary["chunks"], summary["count"], summary["codes"], summary["resume"])
            await anyio.to_thread.run_sync(ckpt.commit, self.tally)
        if self.stopped_by is None and summary["stopped_by"] is not None:
            self.stopped_by = {**summary["stopped_by"], "slice": k}
        self.warnings += [w for w in summary["warnings"] if w not in self.warnings]
        if self.on_progress is not None:
            out = self.on_progress(self._progress())
            if hasattr(out, "__await__"):
                await out

    def _write(self, target: Sink, writes: list[Any]) -> None:
        """A slice's writes to one sink, in order: text as it is, tables encoded by the sink (a few at once)."""
        payloads = self._pool.map(lambda w: target.encode(w[0]) if isinstance(w[0], pa.Table) else Encoded(*w), writes)
        for p in payloads:
            target.write(p)

    def finish(self) -> None:
        """Every slice is written: close the sinks (a checkpoint's parts are joined), then drop the checkpoint."""
        self._pool.shutdown()
        ckpt = self.ckpt
        try:
            if ckpt is not None:
                ckpt.commit(self.tally)
            self.routes.close()
        except BaseException:
            self.routes.abort()
            if ckpt is not None:
                ckpt.close()
            raise
        if ckpt is not None:
            ckpt.remove()

    def abort(self) -> None:
        """The run failed or was cancelled: stop its tasks, drop the sinks' files; what a checkpoint holds stays."""
        for ref in self.pending:
            self.ray.cancel(ref, force=False)
        self._pool.shutdown(cancel_futures=True)
        self.routes.abort()
        if self.ckpt is not None:
            self.ckpt.close()

    def _progress(self) -> Progress:
        tally = self.tally
        elapsed = time.perf_counter() - self.t0
        return tally.progress(tally.chunks, tally.records, elapsed, records_in_flight=self.total - tally.records)

    def result(self) -> RunResult:
        """The run's result, as a local run gives it."""
        return RunResult(
            self.tally,
            duration=time.perf_counter() - self.t0,
            collected=dict(self.routes.collected),
            collected_errors=self.routes.collected_errors,
            paths=self.routes.file_paths(),
            warnings=self.tally.warnings(self.stages[0].network) + self.warnings,
            stopped_by=self.stopped_by,
            stages=self.stages,
        )


def _last_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _merge(tally: Tally, summary: dict[str, Any], offset: int) -> None:
    """Add a slice's summary to the run's tally."""
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
    tally.columns_seen.update(summary["columns_seen"])
    for s, k in summary["retries"].items():
        tally.retries[s] = tally.retries.get(s, 0) + k
