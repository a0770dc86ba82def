"""Runs that keep everything in memory (``SimpleFSM.process``): the stream's chunk work, without the stream.

Data already in memory needs no backpressure, no byte budget and no event
loop: its chunks are read from the same sources as a stream's, run by the same
chunk functions (:func:`~streamkit.engine.chunks.run_stage`,
:func:`~streamkit.engine.chunks.prepare_writes`) on ``parallelism`` worker
threads, kept by the same in-memory sinks and counted by the same
:class:`~streamkit.engine.tally.Tally`, so the result is the very
:class:`~streamkit.engine.result.RunResult` a stream into memory gives.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from streamkit._tuning import process_tuning
from streamkit.engine.chunks import Chunk, Stage, cancel_chunk, prepare_writes, run_stage, stopped
from streamkit.engine.progressbar import progress_reporter
from streamkit.engine.result import RunResult
from streamkit.engine.routing import Routes
from streamkit.engine.tally import Tally
from streamkit.io import Source, open_source
from streamkit.io.chunk import DEFAULT_CHUNK_SIZE, RawChunk

__all__ = ("run_local", "chunk_size_for")

#: Inputs with fewer records run in the calling thread: starting worker threads costs more.
THREAD_MIN_RECORDS = 100_000
#: The largest chunk a table in memory is cut into (beyond it, outputs leave the cache).
MAX_TABLE_CHUNK = 524_288


def run_local(
    stages: list[Stage],
    data: Any,
    *,
    chunk_size: int | None = None,
    parallelism: int = 1,
    format: str | None = None,  # noqa: A002 - the name process_stream uses
    schema: Any = None,
    progress: bool | str = False,
) -> RunResult:
    """Run ``data`` through ``stages`` to the end and keep every record in the result.

    Parameters
    ----------
    stages:
        The networks, in order (completed records of one feed the next).
    data:
        Anything :func:`~streamkit.io.open_source` reads: records, tables, frames, files.
    chunk_size:
        Records per chunk; by default :func:`chunk_size_for` the input.
    parallelism:
        Worker threads running chunks (compiled kernels release the GIL).
    progress:
        ``True`` shows a progress bar (``tqdm.auto``), ``"lines"`` plain lines (see ``process_stream``).
    """
    t0 = time.perf_counter()
    stages = [s.for_run() for s in stages]
    if chunk_size is None:
        chunk_size = chunk_size_for(data, parallelism)
    source = open_source(data, chunk_size=chunk_size, format=format, schema=schema)
    end_states = stages[-1].end_states
    routes = Routes(end_states)
    tally = Tally(end_states)
    groups = routes.groups()
    label = len(stages) > 1

    def step(c: Chunk) -> Chunk:
        c.decode(threads=False)
        tally.saw(c)
        for k, stage in enumerate(stages):
            why = stopped(stages)
            if why is not None:  # an event stopped the run: what has not run is cancelled
                cancel_chunk(c, why)
                break
            run_stage(c, stage, last=k == len(stages) - 1, label_errors=label)
        return prepare_writes(c, groups, routes.errors, measure=False)

    reporter: Any = None
    done = [0, 0]  # chunks, records

    def commit(c: Chunk) -> None:
        for sink, payload in c.writes:
            sink.write(payload)
        c.writes = []
        tally.account(c)
        if reporter is not None:
            done[0] += 1
            done[1] += c.count
            reporter(tally.progress(done[0], done[1], time.perf_counter() - t0))  # nothing in flight: in memory

    with process_tuning(chunk_size=chunk_size), source:
        chunks = list(_chunks(source))
        n = sum(c.count for c in chunks)
        tally.index.reserve(0, n)  # the status column in one piece, not grown chunk by chunk
        reporter = progress_reporter(progress, total=n)
        try:
            if parallelism > 1 and len(chunks) > 1 and n >= THREAD_MIN_RECORDS:
                # each chunk runs in the caller's context (a runtime's job, say): one copy per chunk
                contexts = [contextvars.copy_context() for _ in chunks]
                with ThreadPoolExecutor(min(parallelism, len(chunks)), thread_name_prefix="streamkit") as pool:
                    for c in pool.map(lambda cx, ch: cx.run(step, ch), contexts, chunks):
                        commit(c)
            else:
                for c in chunks:
                    commit(step(c))
        finally:
            if reporter is not None:
                reporter.close()
    routes.close()
    return RunResult(
        tally,
        duration=time.perf_counter() - t0,
        collected=dict(routes.collected),
        collected_errors=routes.collected_errors,
        paths={},
        warnings=tally.warnings(stages[0].network),
        stopped_by=stopped(stages),
        stages=stages,
    )


def chunk_size_for(data: Any, parallelism: int) -> int:
    """Records per chunk for ``data``: 64k, more for a large table in memory.

    A chunk costs ~0.5 ms of Python glue whatever its size, so a table already in
    memory is cut into about four chunks per worker, between 64k and 512k records
    (the seed job on 2M records: 15 ns a record at 64k, 8.5 at 256k).

    Examples
    --------
    >>> import pyarrow as pa
    >>> chunk_size_for(pa.table({"x": range(10)}), 2), chunk_size_for(pa.table({"x": range(2_000_000)}), 2)
    (65536, 250000)
    """
    n = getattr(data, "num_rows", None)
    if n is None and type(data).__module__.startswith("polars") and hasattr(data, "height"):
        n = data.height
    if not isinstance(n, int):
        return DEFAULT_CHUNK_SIZE
    return min(max(-(-n // (4 * max(parallelism, 1))), DEFAULT_CHUNK_SIZE), MAX_TABLE_CHUNK)


def _chunks(source: Source) -> Iterator[Chunk]:
    for seq, sc in enumerate(source.raw_chunks()):
        chunk = Chunk(seq=seq, start=sc.start, count=sc.count, parts=[])
        if isinstance(sc, RawChunk):
            chunk.pending = sc
        else:
            chunk.take(sc)
        yield chunk
