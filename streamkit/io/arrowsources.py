"""Arrow data as chunks: Parquet and Arrow IPC files, tables, batch readers, polars frames.

Row ids are the stream positions, ``start .. start + n - 1`` per chunk. Files are
cut into chunks of exactly ``chunk_size`` rows (a chunk inside one stored batch
is a zero-copy slice; one that spans batches is concatenated). In-memory data is
sliced to at most ``chunk_size`` rows, zero-copy, and never merged.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from streamkit.errors import SourceError
from streamkit.io.base import Source
from streamkit.io.chunk import RawChunk, SourceChunk, malformed_table, range_ids
from streamkit.io.records import apply_schema

__all__ = (
    "ArrowSource",
    "ParquetSource",
    "IpcSource",
    "rechunk",
    "regroup",
    "joined",
    "slices",
    "arrow_batches",
    "batch_chunk",
)

#: Rows asked of a file reader at a time when chunks are huge (``chunk_size`` of the whole input).
_READ_ROWS = 1 << 20


def rechunk(batches: Iterable[pa.RecordBatch], n: int) -> Iterator[pa.RecordBatch]:
    """Batches of exactly ``n`` rows (the last may be shorter) from batches of one schema.

    Examples
    --------
    >>> bs = [pa.record_batch({"x": list(range(k))}) for k in (3, 1, 4)]
    >>> [b.num_rows for b in rechunk(bs, 3)]
    [3, 3, 2]
    """
    return (joined(g) for g in regroup(batches, n))


def regroup(batches: Iterable[pa.RecordBatch], n: int) -> Iterator[list[pa.RecordBatch]]:
    """Zero-copy slices of ``batches`` in groups of exactly ``n`` rows (the last may be shorter).

    Examples
    --------
    >>> bs = [pa.record_batch({"x": list(range(k))}) for k in (3, 1, 4)]
    >>> [[b.num_rows for b in g] for g in regroup(bs, 3)]
    [[3], [1, 2], [2]]
    """
    pending: list[pa.RecordBatch] = []
    have = 0
    for b in batches:
        off = 0
        while off < b.num_rows:
            if not pending and b.num_rows - off >= n:
                yield [b.slice(off, n)]
                off += n
                continue
            take = min(n - have, b.num_rows - off)
            pending.append(b.slice(off, take))
            have += take
            off += take
            if have == n:
                yield pending
                pending, have = [], 0
    if pending:
        yield pending


def joined(group: pa.RecordBatch | list[pa.RecordBatch]) -> pa.RecordBatch:
    """One batch of a group of batches (copied into one unless there is one)."""
    if isinstance(group, pa.RecordBatch):
        return group
    return pa.concat_batches(group) if len(group) > 1 else group[0]


def slices(batches: Iterable[pa.RecordBatch], n: int) -> Iterator[pa.RecordBatch]:
    """Each batch cut into zero-copy slices of at most ``n`` rows (empty batches are dropped).

    Examples
    --------
    >>> [b.num_rows for b in slices([pa.record_batch({"x": [1, 2, 3]}), pa.record_batch({"x": [4]})], 2)]
    [2, 1, 1]
    """
    for b in batches:
        for off in range(0, b.num_rows, n):
            yield b.slice(off, min(n, b.num_rows - off))


def _polars_type(obj: Any) -> str | None:
    mod = type(obj).__module__
    if not mod.startswith("polars"):
        return None
    import polars as pl

    if isinstance(obj, pl.LazyFrame):
        return "LazyFrame"
    if isinstance(obj, pl.DataFrame):
        return "DataFrame"
    return None


def arrow_batches(obj: Any, n: int) -> tuple[str, Callable[[], Iterable[pa.RecordBatch]]] | None:
    """A name and a batch factory for Arrow-like ``obj`` (``None`` if it is not Arrow-like).

    Examples
    --------
    >>> name, batches = arrow_batches(pa.table({"x": [1, 2, 3]}), 2)
    >>> name, [b.num_rows for b in batches()]
    ('pyarrow.Table', [2, 1])
    >>> arrow_batches([{"x": 1}], 2) is None
    True
    """
    kind = _polars_type(obj)
    if kind == "LazyFrame":
        return "polars.LazyFrame", lambda: (
            b for df in obj.collect_batches(chunk_size=n) for b in df.rechunk().to_arrow().to_batches()
        )
    if kind == "DataFrame":
        return "polars.DataFrame", lambda: obj.to_arrow().to_batches(max_chunksize=n)
    if isinstance(obj, pa.Table):
        return "pyarrow.Table", lambda: obj.to_batches(max_chunksize=n)
    if isinstance(obj, pa.RecordBatch):
        return "pyarrow.RecordBatch", lambda: [obj]
    if isinstance(obj, pa.RecordBatchReader):
        return "pyarrow.RecordBatchReader", lambda: obj
    if hasattr(obj, "__arrow_c_stream__"):
        return type(obj).__name__, lambda: pa.RecordBatchReader.from_stream(obj)
    return None


class _BatchSource(Source):
    """Chunks from Arrow batches: one part each, positions in order.

    ``_batches`` yields batches, or groups of batches that make one chunk: a
    group is joined into one batch by whoever decodes the chunk (a worker), so
    the copy is not made in the thread that hands chunks out.
    """

    def __init__(self, name: str, chunk_size: int, *, schema: pa.Schema | None = None, offset: int = 0) -> None:
        super().__init__(name)
        self.chunk_size = chunk_size
        self.schema = schema
        self.offset = offset

    def _batches(self) -> Iterable[pa.RecordBatch | list[pa.RecordBatch]]:
        raise NotImplementedError

    def _generate(self) -> Generator[SourceChunk, None, None]:
        pos = self.offset
        for group in self._batches():
            batch = joined(group)
            n = batch.num_rows
            yield batch_chunk(batch, pos, self.schema)
            pos += n

    def _generate_raw(self) -> Generator[RawChunk, None, None]:
        """The batches as they come; row ids (and the schema's casts) are made by whoever decodes them.

        Slices of in-memory data come at once in the engine's event loop: their
        size is estimated from the first batch's bytes per row (measuring each
        slice costs ~50 µs there).
        """
        pos = self.offset
        per_row = -1.0
        for group in self._batches():
            parts = [group] if isinstance(group, pa.RecordBatch) else group
            n = sum(b.num_rows for b in parts)
            if not self.cheap_chunks:
                nbytes = sum(b.nbytes for b in parts)
            else:
                if per_row < 0:
                    per_row = parts[0].nbytes / parts[0].num_rows if parts[0].num_rows else -1.0
                nbytes = int(max(per_row, 0.0) * n)
            yield RawChunk(pos, n, nbytes + 8 * n, partial(_decode, group, pos, self.schema))
            pos += n


def _decode(
    group: pa.RecordBatch | list[pa.RecordBatch],
    start: int,
    schema: pa.Schema | None,
    threads: bool,  # noqa: FBT001
) -> SourceChunk:
    return batch_chunk(joined(group), start, schema)


def batch_chunk(
    batch: pa.RecordBatch, start: int, schema: pa.Schema | None = None, source: str | None = None
) -> SourceChunk:
    """A chunk of one batch at positions ``start ..`` (cast to ``schema`` when given)."""
    n = batch.num_rows
    ids = range_ids(start, n)
    if schema is None:
        return SourceChunk([(batch, ids)], start, n)
    batch, ids, bad = apply_schema(batch, ids, schema)
    parts = [(batch, ids)] if batch.num_rows or not bad else []
    return SourceChunk(parts, start, n, malformed_table(bad, source))


class ArrowSource(_BatchSource):
    """In-memory Arrow data (a table, batch, batch reader, polars frame, ``__arrow_c_stream__``) in slices.

    Examples
    --------
    >>> t = pa.table({"x": list(range(5))})
    >>> with ArrowSource(t, chunk_size=2) as src:
    ...     [(c.start, c.count, c.parts[0][1].tolist()) for c in src.chunks()]
    [(0, 2, [0, 1]), (2, 2, [2, 3]), (4, 1, [4])]
    """

    def __init__(self, data: Any, chunk_size: int, *, schema: pa.Schema | None = None, offset: int = 0) -> None:
        found = arrow_batches(data, chunk_size)
        if found is None:
            msg = f"expected Arrow data (a table, record batch, reader or polars frame), got {type(data).__name__}"
            raise TypeError(msg)
        name, self._factory = found
        super().__init__(name, chunk_size, schema=schema, offset=offset)
        self._data = data
        # slices of a table or batch: nothing to compute, read or convert
        self.cheap_chunks = schema is None and isinstance(data, (pa.Table, pa.RecordBatch))

    def _batches(self) -> Iterable[pa.RecordBatch | list[pa.RecordBatch]]:
        data = self._data
        if (
            isinstance(data, pa.Table)
            and data.num_rows
            and len(data.to_batches()) * self.chunk_size > 4 * data.num_rows
        ):
            # many small batches (a table built piece by piece): merged into chunks, as a chunk costs
            # ~0.5 ms whatever its size (the flights table, 30 batches of ~11k rows: 1.3x faster as
            # 4); each chunk's batches are joined by the worker that decodes it
            return regroup(self._factory(), self.chunk_size)
        return slices(self._factory(), self.chunk_size)

    def _release(self) -> None:
        self._data = None


class ParquetSource(_BatchSource):
    """A Parquet file in chunks of exactly ``chunk_size`` rows (``pyarrow.parquet``, memory-mapped).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
    >>> pq.write_table(pa.table({"x": list(range(5))}), p, row_group_size=2)
    >>> with ParquetSource(p, chunk_size=3) as src:
    ...     [(c.start, c.count) for c in src.chunks()]
    [(0, 3), (3, 2)]
    """

    def __init__(self, path: str | Path, chunk_size: int, *, schema: pa.Schema | None = None, offset: int = 0) -> None:
        super().__init__(str(path), chunk_size, schema=schema, offset=offset)
        self.path = Path(path)

    def _batches(self) -> Iterator[pa.RecordBatch]:
        with _reading(self.path, "Parquet"):
            f = pq.ParquetFile(self.path, memory_map=True)
            try:
                rows = min(self.chunk_size, _READ_ROWS)
                yield from rechunk(f.iter_batches(batch_size=rows), self.chunk_size)
            finally:
                f.close()


class IpcSource(_BatchSource):
    """An Arrow IPC file (file or stream format, e.g. ``.arrow`` / ``.feather``), memory-mapped.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.arrow"
    >>> with pa.ipc.new_file(p, pa.schema([("x", pa.int64())])) as w:
    ...     w.write_table(pa.table({"x": list(range(5))}))
    >>> with IpcSource(p, chunk_size=2) as src:
    ...     [c.count for c in src.chunks()]
    [2, 2, 1]
    """

    def __init__(self, path: str | Path, chunk_size: int, *, schema: pa.Schema | None = None, offset: int = 0) -> None:
        super().__init__(str(path), chunk_size, schema=schema, offset=offset)
        self.path = Path(path)

    def _batches(self) -> Iterator[pa.RecordBatch]:
        with open(self.path, "rb") as f:
            is_file = f.read(6) == b"ARROW1"
        with _reading(self.path, "Arrow IPC"), pa.memory_map(str(self.path)) as mm:
            if is_file:
                reader = pa.ipc.open_file(mm)
                batches: Iterable[pa.RecordBatch] = (reader.get_batch(i) for i in range(reader.num_record_batches))
            else:
                batches = pa.ipc.open_stream(mm)
            yield from rechunk(batches, self.chunk_size)


@contextmanager
def _reading(path: Path, fmt: str) -> Iterator[None]:
    """Arrow's errors while reading ``path`` as a :class:`SourceError` that names the file and format."""
    try:
        yield
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowIOError) as exc:
        msg = f"cannot read {str(path)!r} as {fmt}: {exc}"
        raise SourceError(msg) from exc
