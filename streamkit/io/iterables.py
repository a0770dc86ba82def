"""Python iterables and async iterables of records (dicts) or Arrow batches, as chunks.

Records are gathered ``chunk_size`` at a time and stored with
:func:`streamkit._arrow.records.records_to_tables` (records whose field types conflict
go to separate parts). An item that is not a mapping becomes a malformed row
(``TypeError``, naming its type). Batches, tables and polars frames among the
items are passed on as zero-copy slices of at most ``chunk_size`` rows, after the
records gathered before them.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Generator, Iterable, Iterator
from typing import Any

import anyio
import pyarrow as pa

from streamkit.io.arrowsources import arrow_batches, batch_chunk, slices
from streamkit.io.base import Source
from streamkit.io.chunk import SourceChunk, malformed_table
from streamkit.io.records import records_to_parts

__all__ = ("IterableSource", "AsyncIterableSource", "records_chunk")

#: Records above which an async source converts them in a worker thread (keeps the event loop free).
_THREAD_ABOVE = 2048


def records_chunk(records: list[Any], start: int, schema: pa.Schema | None = None) -> SourceChunk:
    """A chunk of Python records at positions ``start ..``.

    Examples
    --------
    >>> c = records_chunk([{"x": 1}, "oops", {"x": "a"}], start=5)
    >>> [b.to_pylist() for b, _ in c.parts], c.malformed.column("error_message").to_pylist()
    ([[{'x': 1}], [{'x': 'a'}]], ['expected a mapping (dict), got str'])
    """
    parts, bad = records_to_parts(records, range(start, start + len(records)), schema=schema)
    return SourceChunk(parts, start, len(records), malformed_table(bad))


def _is_batch_like(item: Any) -> bool:
    return isinstance(item, (pa.RecordBatch, pa.Table)) or type(item).__module__.startswith("polars")


class IterableSource(Source):
    """A Python iterable of dicts (or Arrow batches / tables / polars frames), read in chunks.

    Examples
    --------
    >>> with IterableSource(({"i": i} for i in range(5)), chunk_size=2) as src:
    ...     [c.count for c in src.chunks()]
    [2, 2, 1]
    """

    def __init__(
        self, items: Iterable[Any], chunk_size: int, *, schema: pa.Schema | None = None, name: str = "iterable"
    ) -> None:
        super().__init__(name)
        self._items: Iterable[Any] | None = items
        self.chunk_size = chunk_size
        self.schema = schema

    def _generate(self) -> Generator[SourceChunk, None, None]:
        items, n, pos = self._items, self.chunk_size, 0
        if items is None:
            return
        buf: list[Any] = []
        for item in items:
            if _is_batch_like(item):
                if buf:
                    yield records_chunk(buf, pos, self.schema)
                    pos, buf = pos + len(buf), []
                for c in _item_chunks(item, n, pos, self.schema):
                    pos += c.count
                    yield c
                continue
            buf.append(item)
            if len(buf) >= n:
                yield records_chunk(buf, pos, self.schema)
                pos, buf = pos + len(buf), []
        if buf:
            yield records_chunk(buf, pos, self.schema)

    def _release(self) -> None:
        close = getattr(self._items, "close", None)
        self._items = None
        if callable(close):
            close()


def _item_chunks(item: Any, n: int, pos: int, schema: pa.Schema | None) -> Iterator[SourceChunk]:
    found = arrow_batches(item, n)
    batches = found[1]() if found is not None else []
    for b in slices(batches, n):
        c = batch_chunk(b, pos, schema)
        pos += c.count
        yield c


class AsyncIterableSource(Source):
    """An async iterable of dicts (or Arrow batches), read in chunks of ``chunk_size`` records.

    Records are gathered as they arrive; a chunk is handed on when it is full or
    the iterable ends (so a slow producer fills chunks slowly: choose
    ``chunk_size`` for the latency you want). Large chunks are converted to Arrow
    in a worker thread.

    Examples
    --------
    >>> import anyio
    >>> async def gen():
    ...     for i in range(5):
    ...         yield {"id": i}
    >>> async def main():
    ...     async with AsyncIterableSource(gen(), chunk_size=2) as src:
    ...         return [c.count async for c in src.achunks()]
    >>> anyio.run(main)
    [2, 2, 1]
    """

    is_async = True

    def __init__(
        self,
        items: AsyncIterable[Any],
        chunk_size: int,
        *,
        schema: pa.Schema | None = None,
        name: str = "async iterable",
    ) -> None:
        super().__init__(name)
        self._items: AsyncIterable[Any] | None = items
        self.chunk_size = chunk_size
        self.schema = schema

    async def _convert(self, buf: list[Any], pos: int) -> SourceChunk:
        if len(buf) > _THREAD_ABOVE:
            return await anyio.to_thread.run_sync(records_chunk, buf, pos, self.schema)
        return records_chunk(buf, pos, self.schema)

    async def _agenerate(self) -> Any:
        items, n, pos = self._items, self.chunk_size, 0
        if items is None:
            return
        buf: list[Any] = []
        try:
            async for item in items:
                if _is_batch_like(item):
                    if buf:
                        yield await self._convert(buf, pos)
                        pos, buf = pos + len(buf), []
                    for c in _item_chunks(item, n, pos, self.schema):
                        pos += c.count
                        yield c
                    continue
                buf.append(item)
                if len(buf) >= n:
                    yield await self._convert(buf, pos)
                    pos, buf = pos + len(buf), []
            if buf:
                yield await self._convert(buf, pos)
        finally:
            aclose = getattr(items, "aclose", None)
            if callable(aclose):
                await aclose()
