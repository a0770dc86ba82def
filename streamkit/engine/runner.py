"""The streaming engine: source → bounded channel → workers per stage → reorder buffer → sinks.

Every stage runs in the event loop as anyio tasks; compiled chunks run in
worker threads (numba kernels release the GIL). Chunks a source reads unparsed
(JSON text) are parsed by the first stage's workers, several at once, so the
one reading thread only cuts the input into blocks. The source acquires a byte
and record budget before it reads a chunk; it is released once the chunk is
written, so a slow sink pauses the source and memory stays flat.

Unless a sink is async, the last stage's workers write too, in order: a worker
whose chunk is next writes it, and every chunk after it that is already done;
one that finishes early leaves its chunk for the worker before it (the reorder
buffer is a dict under a lock). The event loop then only hands chunks to the
workers and releases their budget (each hop through it costs ~150 µs of the
loop's thread, and the workers wait for the GIL it holds). With an async sink,
a sink task in the event loop writes the chunks in order instead.
"""

from __future__ import annotations

import inspect
import logging
import math
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
import pyarrow as pa
from anyio.abc import ObjectReceiveStream, ObjectSendStream

from streamkit._tuning import process_tuning, refreeze
from streamkit.engine.budget import Budget, FootprintEstimate
from streamkit.engine.checkpoint import Checkpoint
from streamkit.engine.chunks import Chunk, Stage, cancel_chunk, prepare_writes, run_stage, stopped
from streamkit.engine.config import StreamConfig
from streamkit.engine.progress import Progress
from streamkit.engine.result import RunResult
from streamkit.engine.routing import Routes
from streamkit.engine.tally import Tally
from streamkit.errors import CheckpointError
from streamkit.io import Source
from streamkit.io.chunk import RawChunk
from streamkit.io.sources import FilesSource

if sys.version_info < (3, 11):  # pragma: no cover - anyio brings the backport there
    from exceptiongroup import BaseExceptionGroup

__all__ = ("StreamRun",)

#: Chunks with fewer records run in the event loop: a thread hand-off costs ~150 µs.
INLINE_RECORDS = 4096

T = TypeVar("T")
"""What a call in a worker thread returns."""


class StreamRun:
    """One run of a stream (build it, then ``await run.run(source)``)."""

    def __init__(
        self,
        stages: list[Stage],
        config: StreamConfig,
        routes: Routes,
        on_progress: Callable[[Progress], Any] | None = None,
        *,
        keep_end_state_ids: bool = False,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        self.stages = stages
        self.config = config
        self.routes = routes
        self.on_progress = on_progress
        self.budget = Budget(config.memory_limit_bytes, config.backpressure_threshold)
        self.footprint = FootprintEstimate()
        self.tally = Tally(stages[-1].end_states, keep_end_state_ids=keep_end_state_ids)
        # With a checkpoint, the committed chunks are counted already and the source skips them.
        self.checkpoint = checkpoint
        if checkpoint is not None:
            checkpoint.restore(self.tally)
        self._limiter = anyio.CapacityLimiter(sum(s.parallelism or config.parallelism for s in stages))
        self._t0 = 0.0
        # With no async sink, the last stage's workers write (see _submit): no hand-off to a
        # sink task and another thread per chunk, which the event loop would pay for.
        sinks = [s for s, _ in routes.groups()] + [routes.errors]
        self._workers_write = not any(s.is_async for s in sinks)
        self._any_blocking = any(s.blocks for s in sinks)
        self._order_lock = threading.Lock()
        self._ready: dict[int, Chunk] = {}  # processed chunks waiting for the ones before them
        self._next_seq = 0 if checkpoint is None else checkpoint.chunks
        self._writing = False  # a thread is writing (it also writes what becomes ready meanwhile)
        self._broken = False  # a write failed
        self._finished = 0  # chunks whose budget was released (progress counts these: one more a call)
        self._finished_records = 0
        self._read_records = 0
        # Stopping (cancelled, interrupted, failed): worker threads finish the sink call in hand and
        # write nothing more; the run waits for them (see _quiesce) before it aborts the sinks.
        self._stop = threading.Event()
        self._threads = 0  # worker threads in a call (see _in_thread)
        self._idle = threading.Condition()

    async def run(self, source: Source) -> RunResult:
        """Stream every chunk of ``source`` to the sinks; commit them, or abort them on any failure."""
        with process_tuning(self.config.memory_limit_bytes, self.config.chunk_size):
            return await self._run(source)

    async def _run(self, source: Source) -> RunResult:
        self._t0 = time.perf_counter()
        try:
            async with anyio.create_task_group() as tg:
                guard = _Guard(tg.cancel_scope)
                send, recv = anyio.create_memory_object_stream[Chunk](self.config.channel_chunks)
                tg.start_soon(guard(self._read), source, send)
                for k, stage in enumerate(self.stages):
                    # a finished chunk goes straight to the next stage's worker or to the sink stage
                    # (waiting in a channel, its output would only hold memory)
                    out_send, out_recv = anyio.create_memory_object_stream[Chunk](0)
                    for _ in range(stage.parallelism or self.config.parallelism):
                        tg.start_soon(guard(self._work), k, recv.clone(), out_send.clone())
                    recv.close()
                    out_send.close()
                    recv = out_recv
                if self._workers_write:
                    recv.close()
                else:
                    tg.start_soon(guard(self._write), recv)
            if guard.interrupt is None and self._ready:  # every chunk went through _submit: none is left
                msg = f"{len(self._ready)} chunks were processed but never written"
                raise RuntimeError(msg)
            if guard.interrupt is not None:  # the tasks have ended cleanly; now pass the interrupt on
                raise guard.interrupt
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._quiesce)
                await anyio.to_thread.run_sync(self.routes.abort)
                if self.checkpoint is not None:  # what is committed stays: the same call resumes it
                    self.checkpoint.close()
            self._report_stop(exc)
            cause = _first_cause(exc)
            if cause is not exc:  # out of the task group's exception group, keeping its own cause
                raise cause from cause.__cause__
            raise
        finally:
            source.close()
        if self.checkpoint is not None:
            await anyio.to_thread.run_sync(self._close_checkpointed)
        else:
            await anyio.to_thread.run_sync(self.routes.close)
        return self._result()

    def _close_checkpointed(self) -> None:
        """Commit the last chunks, join the parts into the files, then drop the checkpoint."""
        assert self.checkpoint is not None
        try:
            self.checkpoint.commit(self.tally)
            self.routes.close()
        except BaseException:
            self.routes.abort()
            self.checkpoint.close()
            raise
        self.checkpoint.remove()

    # -- the source ---------------------------------------------------------------------------
    async def _read(self, source: Source, send: ObjectSendStream[Chunk]) -> None:
        size = self.config.chunk_size
        async with send:
            ckpt = self.checkpoint
            seek = False
            if ckpt is not None and ckpt.chunks and isinstance(source, FilesSource) and ckpt.source_at is not None:
                seek = source.can_seek(ckpt.source_at)
                if seek:  # read on from the byte after the last committed chunk
                    source.seek(ckpt.source_at, ckpt.position)
            achunks = source.achunks() if source.is_async else None
            chunks = None if source.is_async else iter(source.raw_chunks())
            seq = 0 if ckpt is None else ckpt.chunks
            if ckpt is not None and ckpt.chunks and not seek and chunks is not None:
                await anyio.to_thread.run_sync(self._skip_committed, chunks)
            while True:
                guess = self.footprint.before_read(size)
                await self.budget.acquire(guess, size)
                sc: Any
                if achunks is not None:
                    sc = await anext(achunks, None)
                elif chunks is not None and source.cheap_chunks:
                    sc = next(chunks, None)
                    await anyio.lowlevel.checkpoint()
                elif chunks is not None:
                    sc = await anyio.to_thread.run_sync(partial(next, chunks, None))
                if sc is None:
                    self.budget.release(guess, size)
                    break
                share = self.footprint.after_read(sc.nbytes, sc.count)
                if share > guess:
                    await self.budget.acquire(share - guess, 0, held_bytes=guess, held_records=size)
                else:
                    self.budget.release(guess - share, 0)
                self.budget.release(0, size - sc.count)
                chunk = Chunk(
                    seq=seq,
                    start=sc.start,
                    count=sc.count,
                    parts=[],
                    held_bytes=share,
                    held_records=sc.count,
                    input_bytes=sc.nbytes,
                    resume=sc.resume,
                )
                if isinstance(sc, RawChunk):  # parsed by a worker, in parallel with the others
                    chunk.pending = sc
                else:
                    chunk.take(sc)
                    self.tally.saw(chunk)
                seq += 1
                self._read_records += sc.count
                await send.send(chunk)
                if stopped(self.stages) is not None:  # an event stopped the run: read no more
                    break

    def _skip_committed(self, chunks: Any) -> int:
        """Read past the chunks a checkpoint holds (unparsed where the source allows); the next chunk's number."""
        assert self.checkpoint is not None
        n, position = self.checkpoint.chunks, self.checkpoint.position
        end = 0
        for k in range(n):
            sc = next(chunks, None)
            if sc is None or sc.start != end:
                msg = f"the source ended after {k} chunks; the checkpoint holds {n}"
                raise CheckpointError(msg)
            end = sc.start + sc.count
        if end != position:
            msg = f"the source's first {n} chunks hold {end} records; the checkpoint says {position}"
            raise CheckpointError(msg)
        return n

    # -- the workers ---------------------------------------------------------------------------
    async def _work(self, k: int, recv: ObjectReceiveStream[Chunk], send: ObjectSendStream[Chunk]) -> None:
        """Run the chunks of stage ``k``; the last stage also writes them when no sink is async."""
        stage = self.stages[k]
        last = k == len(self.stages) - 1
        label = len(self.stages) > 1
        groups = self.routes.groups()

        # Arrow's parser pool helps a lone worker; beside other workers it only adds overhead (~45% CPU)
        parse_threads = (stage.parallelism or self.config.parallelism) == 1

        def step(c: Chunk) -> Chunk:
            if c.pending is not None:
                c.decode(threads=parse_threads)
                self.tally.saw(c)
            why = stopped(self.stages)
            if why is not None:  # an event stopped the run: what has not run is cancelled
                c = cancel_chunk(c, why)
            else:
                c = run_stage(c, stage, last=last, label_errors=label)
            return prepare_writes(c, groups, self.routes.errors) if last else c

        writes = last and self._workers_write

        def step_and_write(c: Chunk) -> list[Chunk]:
            return self._submit(step(c))

        async with recv, send:
            async for chunk in recv:
                n = chunk.count if chunk.pending is not None else sum(b.num_rows for b, _ in chunk.parts)
                if not writes:
                    if n < INLINE_RECORDS:
                        chunk = step(chunk)
                    else:
                        stepped = await self._in_thread(step, chunk)
                        if stepped is None:  # stopped before it ran
                            return
                        chunk = stepped
                    await send.send(chunk)
                    continue
                if n >= INLINE_RECORDS:
                    done = await self._in_thread(step_and_write, chunk)
                elif self._any_blocking:  # a small chunk: computed here, written in a thread
                    done = await self._in_thread(self._submit, step(chunk))
                else:
                    done = self._submit(step(chunk))
                for c in done or ():
                    await self._finish(c)

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T | None:
        """``fn(*args)`` in a worker thread. Cancelled, the run goes on at once and the thread is left to
        finish what it does (``_stop`` makes it write nothing more); ``None`` if it never started."""

        def call() -> T | None:
            with self._idle:
                if self._stop.is_set():
                    return None
                self._threads += 1
            try:
                return fn(*args)
            finally:
                with self._idle:
                    self._threads -= 1
                    self._idle.notify_all()

        try:
            return await anyio.to_thread.run_sync(call, limiter=self._limiter, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            self._stop.set()
            raise

    def _quiesce(self, timeout: float = 60.0) -> None:
        """Stop every worker thread's writing and wait until none is left in a call (blocking).

        Chunks still running give up within a few records: the stages' stop
        signals are abandoned, and record loops that run Python check them.
        """
        deadline = time.monotonic() + timeout
        for stage in self.stages:
            stage.stop.abandon()
        with self._idle:
            self._stop.set()
            while self._threads and (left := deadline - time.monotonic()) > 0:
                self._idle.wait(left)

    def _report_stop(self, exc: BaseException) -> None:
        """Say what a stopped stream wrote and what it did not (a note on the error, and a log record)."""
        written = self.tally.records
        text = (
            f"the stream stopped after writing {written:,} records in full; {self._read_records - written:,} "
            "records it had read were not written (file sinks were removed, nothing half-written)"
        )
        if self.checkpoint is not None:
            text += (
                f"; checkpoint {str(self.checkpoint.path)!r} keeps the first {self.checkpoint.committed:,} records:"
                " the same call resumes from there"
            )
        logging.getLogger("streamkit").warning("%s (%s)", text, type(exc).__name__)
        if hasattr(exc, "add_note"):
            exc.add_note(text)

    def _submit(self, chunk: Chunk) -> list[Chunk]:
        """Write ``chunk``, and every chunk after it that is ready, in order, from this thread.

        A chunk whose turn has not come waits in ``_ready``; whichever thread writes
        the chunk before it writes it too. One thread writes at a time: a thread that
        finds another writing leaves its chunk to it. Returns the chunks written here.
        """
        with self._order_lock:
            if self._broken:  # a write failed: the stream is stopping, nothing more is written
                return []
            self._ready[chunk.seq] = chunk
            if self._writing:
                return []
            self._writing = True
        done: list[Chunk] = []
        try:
            while True:
                with self._order_lock:
                    c = None if self._stop.is_set() else self._take_ready()
                    if c is None:
                        self._writing = False
                        return done
                _write_all(c.writes)
                self._account(c)
                c.writes = []
                done.append(c)
        except BaseException:
            with self._order_lock:
                self._writing = False
                self._broken = True
            raise

    def _take_ready(self) -> Chunk | None:
        if not self.config.preserve_order:
            return self._ready.popitem()[1] if self._ready else None
        c = self._ready.pop(self._next_seq, None)
        if c is not None:
            self._next_seq += 1
        return c

    async def _finish(self, chunk: Chunk) -> None:
        """After a chunk was written: learn its size, release its budget, report progress."""
        if self._finished < 4 or self._finished % 8 == 0:  # sizing tables costs: learn from a sample
            self.footprint.observe(chunk.input_bytes, chunk.output_bytes())
        self._finished += 1
        self._finished_records += chunk.count
        self.budget.release(chunk.held_bytes, chunk.held_records)
        if self._finished % 4 == 0:  # Arrow's allocator keeps freed pages per thread: give them back
            pa.default_memory_pool().release_unused()
        if self.on_progress is not None:
            out = self.on_progress(self.progress())
            if inspect.isawaitable(out):
                await out

    # -- reorder buffer and sinks ------------------------------------------------------------
    async def _write(self, recv: ObjectReceiveStream[Chunk]) -> None:
        """The sink task (streams with an async sink): the reorder buffer of :meth:`_submit`, in the loop."""
        async with recv:
            async for chunk in recv:
                with self._order_lock:
                    self._ready[chunk.seq] = chunk
                while (c := self._next_ready()) is not None:
                    await self._emit(c)

    def _next_ready(self) -> Chunk | None:
        with self._order_lock:
            return self._take_ready()

    async def _emit(self, chunk: Chunk) -> None:
        """Write a chunk from the sink task (streams with an async sink)."""
        writes = chunk.writes
        blocking = [w for w in writes if w[0].blocks]
        for sink, table in writes:
            if not sink.blocks:
                await _write_to(sink, table)
        if blocking:  # one hand-off to a thread for all of them (each costs ~150 µs of the loop),
            # which also counts the chunk and fills the status index, off the event loop
            await anyio.to_thread.run_sync(self._write_and_account, blocking, chunk)
        else:
            self._account(chunk)
        chunk.writes = []
        del writes
        await self._finish(chunk)

    def _write_and_account(self, writes: list[tuple[Any, Any]], chunk: Chunk) -> None:
        _write_all(writes)
        self._account(chunk)

    def _account(self, chunk: Chunk) -> None:
        """Count the written chunk and put its records into the status index (and the checkpoint)."""
        codes = self.tally.account(chunk)
        if self.checkpoint is not None:
            self.checkpoint.written(chunk, codes, self.tally)
        if self.tally.chunks == 1:  # the first chunk loaded the kernels: their objects stay too
            refreeze()

    def progress(self) -> Progress:
        """A snapshot of the run now (what ``on_progress`` receives)."""
        return self.tally.progress(
            self._finished,
            self._finished_records,
            time.perf_counter() - self._t0,
            bytes_in_flight=self.budget.bytes,
            records_in_flight=self.budget.records,
        )

    def _result(self) -> RunResult:
        warnings = self.tally.warnings(self.stages[0].network)
        if self.budget.peak_bytes > self.config.memory_limit_bytes:
            warnings.append(
                f"one chunk needed {math.ceil(self.budget.peak_bytes / 2**20)} MB, more than "
                f"memory_limit_mb={self.config.memory_limit_mb}: it ran alone"
            )
        return RunResult(
            self.tally,
            duration=time.perf_counter() - self._t0,
            collected=dict(self.routes.collected),
            collected_errors=self.routes.collected_errors,
            paths=self.routes.file_paths(),
            warnings=warnings,
            peak_bytes=self.budget.peak_bytes,
            peak_records=self.budget.peak_records,
            stopped_by=stopped(self.stages),
            stages=self.stages,
        )


class _Guard:
    """Turn a ``KeyboardInterrupt`` or ``SystemExit`` inside a stage into a clean stop.

    Raised in a task (by a user's callback, source or sink), asyncio would let it
    escape the event loop at once, leaving tasks and worker threads behind;
    instead the stream is cancelled, every stage unwinds, and the run re-raises it.
    """

    def __init__(self, scope: anyio.CancelScope) -> None:
        self.scope = scope
        self.interrupt: BaseException | None = None

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        async def guarded(*args: Any) -> None:
            try:
                await fn(*args)
            except (KeyboardInterrupt, SystemExit) as exc:
                if self.interrupt is None:
                    self.interrupt = exc
                self.scope.cancel()

        return guarded


def _first_cause(exc: BaseException) -> BaseException:
    """The error that stopped the stream, out of the task group's exception group.

    When one stage fails, the others see their channels break or get
    cancelled; those are consequences, not causes.
    """
    if not isinstance(exc, BaseExceptionGroup):
        return exc
    leaves = list(_leaves(exc))
    causes = [
        e
        for e in leaves
        if not isinstance(e, (anyio.BrokenResourceError, anyio.ClosedResourceError))
        and not isinstance(e, anyio.get_cancelled_exc_class())
    ]
    if len(causes) == 1:
        return causes[0]
    return exc


def _leaves(exc: BaseException) -> Any:
    if isinstance(exc, BaseExceptionGroup):
        for e in exc.exceptions:
            yield from _leaves(e)
    else:
        yield exc


def _write_all(writes: list[tuple[Any, Any]]) -> None:
    for sink, table in writes:
        sink.write(table)


async def _write_to(sink: Any, table: pa.Table) -> None:
    """Write to a sink that does not block: async ones awaited, in-memory ones at once."""
    if sink.is_async:
        await sink.awrite(table)
    else:
        sink.write(table)
