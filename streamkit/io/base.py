"""The two interfaces the streaming engine sees: :class:`Source` and :class:`Sink`."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pyarrow as pa

from streamkit.io.chunk import RawChunk, SourceChunk

__all__ = ("Source", "Sink", "Encoded", "as_table")


class Source:
    """A stream of :class:`~streamkit.io.SourceChunk` read from somewhere; made by :func:`~streamkit.io.open_source`.

    A source is read once. Sync sources (files, in-memory data, Python iterables)
    are read with :meth:`chunks`, which blocks, so the engine calls ``next()`` on
    it from a worker thread; async sources (async iterables) with
    :meth:`achunks`. Each kind offers the other too, for convenience: ``achunks``
    of a sync source reads in a worker thread, and ``chunks`` of an async source
    runs it on a private asyncio event loop.

    Attributes
    ----------
    name:
        What the source reads, for messages: a path, ``"iterable"``, ``"pyarrow.Table"``.
    is_async:
        Whether :meth:`achunks` is the native way to read it.
    cheap_chunks:
        Whether each chunk of a sync source comes at once (slices of data already in
        memory): the engine then reads it in the event loop instead of handing
        ``next()`` to a thread (~150 µs a hand-off).

    Examples
    --------
    >>> from streamkit.io import open_source
    >>> with open_source([{"x": 1}, {"x": 2}, {"x": 3}], chunk_size=2) as src:
    ...     [(c.start, c.count) for c in src.chunks()]
    [(0, 2), (2, 1)]
    """

    is_async: bool = False
    cheap_chunks: bool = False

    def __init__(self, name: str) -> None:
        self.name = name
        self._closed = False
        self._started = False
        self._gen: Any = None

    # -- what subclasses provide -------------------------------------------------
    def _generate(self) -> Generator[SourceChunk, None, None]:
        """The chunks, for a sync source."""
        raise NotImplementedError

    def _agenerate(self) -> AsyncGenerator[SourceChunk, None]:
        """The chunks, for an async source."""
        raise NotImplementedError

    def _generate_raw(self) -> Generator[SourceChunk | RawChunk, None, None]:
        """The chunks, some perhaps not parsed yet (by default all are parsed)."""
        return self._generate()

    # -- reading -------------------------------------------------------------------
    def _start(self) -> None:
        if self._closed:
            msg = f"source {self.name!r} is closed"
            raise RuntimeError(msg)
        if self._started:
            msg = f"source {self.name!r} is already being read; a source is read once"
            raise RuntimeError(msg)
        self._started = True

    def chunks(self) -> Iterator[SourceChunk]:
        """Iterate over the chunks (blocking).

        Returns
        -------
        Iterator[SourceChunk]
            Chunks in stream order; their positions are contiguous from 0.
        """
        self._start()
        self._gen = self._agen_as_sync() if self.is_async else self._generate()
        return self._gen

    def raw_chunks(self) -> Iterator[SourceChunk | RawChunk]:
        """Iterate over the chunks (blocking), leaving parsing to the caller where it costs most.

        A chunk comes as a :class:`~streamkit.io.chunk.RawChunk` when the source
        would spend more time parsing it than reading it (JSON Lines): its
        ``decode()`` returns the :class:`SourceChunk` that :meth:`chunks` would
        have given, and may run in another thread. The streaming engine reads this
        way, so that its workers parse several chunks at once.

        Returns
        -------
        Iterator[SourceChunk | RawChunk]
            Chunks in stream order; their positions are contiguous from 0.

        Examples
        --------
        >>> from streamkit.io import open_source
        >>> with open_source([{"x": 1}, {"x": 2}, {"x": 3}], chunk_size=2) as src:
        ...     [(c.start, c.count) for c in src.raw_chunks()]
        [(0, 2), (2, 1)]
        """
        self._start()
        self._gen = self._agen_as_sync() if self.is_async else self._generate_raw()
        return self._gen

    def achunks(self) -> AsyncIterator[SourceChunk]:
        """Iterate over the chunks asynchronously (a sync source is read in a worker thread).

        Returns
        -------
        AsyncIterator[SourceChunk]
            Chunks in stream order; their positions are contiguous from 0.
        """
        self._start()
        self._gen = self._agenerate() if self.is_async else self._sync_as_agen()
        return self._gen

    async def _sync_as_agen(self) -> AsyncGenerator[SourceChunk, None]:
        it = self._generate()
        try:
            while True:
                chunk = await anyio.to_thread.run_sync(next, it, None)
                if chunk is None:
                    return
                yield chunk
        finally:
            it.close()

    def _agen_as_sync(self) -> Generator[SourceChunk, None, None]:
        loop = asyncio.new_event_loop()
        agen = self._agenerate()
        try:
            while True:
                try:
                    yield loop.run_until_complete(agen.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            loop.run_until_complete(agen.aclose())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    # -- closing -------------------------------------------------------------------
    def close(self) -> None:
        """Release files and iterators (idempotent). Async sources prefer :meth:`aclose`."""
        if self._closed:
            return
        self._closed = True
        gen, self._gen = self._gen, None
        if gen is not None and hasattr(gen, "close"):
            with contextlib.suppress(ValueError):  # running in another thread: it ends when that thread lets go
                gen.close()
        self._release()

    async def aclose(self) -> None:
        """Release the source, letting an async iterable run its cleanup (idempotent)."""
        if self._closed:
            return
        gen, self._gen = self._gen, None
        if gen is not None and hasattr(gen, "aclose"):
            await gen.aclose()
        self.close()

    def _release(self) -> None:
        """Drop what the source holds (files are closed by their generators)."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Source:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def as_table(data: pa.Table | pa.RecordBatch) -> pa.Table:
    """``data`` as a table (a batch is wrapped without copying).

    Examples
    --------
    >>> as_table(pa.record_batch({"x": [1]})).num_rows
    1
    """
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    msg = f"a sink writes a pyarrow.Table or RecordBatch, got {type(data).__name__}"
    raise TypeError(msg)


@dataclass(frozen=True)
class Encoded:
    """Rows already encoded for a file sink (by :meth:`Sink.encode`): the bytes and how many rows.

    ``data`` is anything with the buffer protocol (``bytes``, a uint8 numpy array).
    ``release``, when set, is called once the sink has written ``data``: its buffer
    may then be reused.
    """

    data: Any
    num_rows: int
    release: Callable[[], None] | None = None


class Sink:
    """Where tables go; made by :func:`~streamkit.io.open_sink`.

    ``write`` blocks (the engine calls it from a worker thread); ``awrite`` is the
    async form and the only one for async callbacks. ``close`` commits (a file
    appears at its path only then, complete); ``abort`` throws away what was
    written (no partial file is left). Used as a context manager, a sink commits
    on success and aborts on an exception.

    Attributes
    ----------
    is_async:
        Whether :meth:`awrite` is the native way to write (async callbacks).
    blocks:
        Whether :meth:`write` may block (files, sync callbacks): the engine then
        writes from a worker thread. In-memory sinks and async ones do not.
    path:
        The file written, or ``None`` for in-memory sinks and callbacks.
    records_written:
        Rows written so far.
    bytes_written:
        Bytes written so far, when known (file sinks), else ``None``.

    Examples
    --------
    >>> from streamkit.io import open_sink
    >>> out = []
    >>> with open_sink(out) as sink:
    ...     sink.write(pa.table({"x": [1, 2]}))
    >>> out, sink.records_written
    ([{'x': 1}, {'x': 2}], 2)
    """

    is_async: bool = False
    blocks: bool = True
    path: Path | None = None

    def __init__(self) -> None:
        self.records_written = 0
        self.bytes_written: int | None = None
        self._done = False
        self._lock = threading.Lock()  # writes from several worker threads go one at a time

    def encode(self, table: pa.Table | pa.RecordBatch) -> pa.Table | Encoded:
        """Turn a table into what :meth:`write` stores, without taking the sink's lock.

        The streaming engine calls it in its worker threads, in parallel, so that
        the sink itself only appends (in order). Text formats return
        :class:`Encoded` bytes; the default returns the table unchanged.
        """
        return as_table(table)

    def write(self, table: pa.Table | pa.RecordBatch | Encoded) -> None:
        """Write a table, or what :meth:`encode` made of one (blocking; safe from several threads)."""
        if not isinstance(table, Encoded):
            table = as_table(table)
        with self._lock:
            if self._done:
                msg = f"{self!r} is closed"
                raise RuntimeError(msg)
            if isinstance(table, Encoded):
                self._write_encoded(table)
            else:
                self._write(table)
            self.records_written += table.num_rows

    def _write_encoded(self, data: Encoded) -> None:
        msg = f"{type(self).__name__} does not take encoded data"
        raise TypeError(msg)

    async def awrite(self, table: pa.Table | pa.RecordBatch) -> None:
        """Write a table from async code (a blocking sink writes in a worker thread)."""
        await anyio.to_thread.run_sync(self.write, table)

    def _write(self, table: pa.Table) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Commit what was written (idempotent); if committing fails, nothing is left behind."""
        with self._lock:
            if self._done:
                return
            self._done = True
            try:
                self._commit()
            except BaseException:
                self._discard()
                raise

    def abort(self) -> None:
        """Throw away what was written; leave no partial file (idempotent)."""
        with self._lock:
            if not self._done:
                self._done = True
                self._discard()

    def _commit(self) -> None:
        """Nothing to do by default."""

    def _discard(self) -> None:
        """Nothing to do by default."""

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path) if self.path is not None else ''})"
