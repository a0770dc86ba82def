"""The input of a Ray run over files, cut into *slices*: runs of whole chunks that one task reads.

A local stream cuts each file into chunks of ``chunk_size`` records (a file's
last chunk may be short; chunks never span files). Slices are runs of those
very chunks, so every chunk a task runs holds the records it holds in a local
run, is numbered the same, and is written the same way: the outputs of a Ray
run are byte for byte those of a local one, and a checkpoint can be written by
one engine and resumed by the other.

Cutting (:func:`plan_slices`, on the driver, with counts made in tasks):

- an uncompressed JSON Lines file larger than :data:`SLICE_BYTES` is cut at line
  ends into byte ranges; a task counts each range's records and lines
  (:func:`count_range`); each slice then starts at the first chunk boundary at
  or after its range's start: the task reading it skips the few records before
  that boundary (fewer than ``chunk_size``) and reads on past its range's end
  to the next boundary;
- a Parquet file is cut at row-group ends every :data:`SLICE_BYTES` of data,
  rounded up to a chunk boundary (counts from the footer, no task);
- any other file (CSV, Arrow IPC, compressed JSON Lines) is one slice, counted
  by a task (:func:`count_file`).
"""

from __future__ import annotations

import itertools
import mmap
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from kernels.lines import count_lines
from streamkit.errors import CheckpointError
from streamkit.io._buffers import BufferPool
from streamkit.io._files import is_compressed
from streamkit.io._lines import iter_line_blocks
from streamkit.io.arrowsources import ParquetSource, rechunk
from streamkit.io.base import Source
from streamkit.io.chunk import RawChunk, SourceChunk
from streamkit.io.formats import format_of
from streamkit.io.jsonl import JsonlSource

__all__ = (
    "MIN_SLICE_BYTES",
    "SLICES_PER_CPU",
    "SLICE_BYTES",
    "FileSpan",
    "Slice",
    "SliceSource",
    "count_file",
    "count_range",
    "counted",
    "plan_slices",
    "slice_bytes_for",
    "split_files",
)

#: Bytes of input a slice holds at most (JSON Lines byte ranges, Parquet row groups): ~1.3M seed
#: records, 1-2 s of one core; larger slices cost less per task, smaller ones balance the cluster better.
SLICE_BYTES = 128 << 20
#: ... and at least, unless the input is smaller (a task costs ~1 ms of Ray, a few chunks of glue).
MIN_SLICE_BYTES = 16 << 20
#: Slices a run aims to give each CPU of the cluster: with fewer, the last ones leave CPUs idle
#: while they finish (10M seed records on 2 CPUs: 5 slices 5.5 s, 17 slices 3.7 s; see docs/ray.md).
SLICES_PER_CPU = 8


def slice_bytes_for(total_bytes: int, cpus: int) -> int:
    """The slice size for ``total_bytes`` of input on ``cpus`` CPUs: :data:`SLICES_PER_CPU` each, within bounds.

    Examples
    --------
    >>> [slice_bytes_for(n << 20, 2) >> 20 for n in (100, 668, 10_000)]
    [16, 41, 128]
    """
    share = total_bytes // max(1, SLICES_PER_CPU * cpus)
    return min(SLICE_BYTES, max(MIN_SLICE_BYTES, share))


_BOM = b"\xef\xbb\xbf"
#: The buffers JSON Lines slices are read and parsed into, kept in a worker process from task to
#: task (a worker runs one task at a time): made afresh, each task would fault them in afresh.
_POOLS = (BufferPool(keep=2), BufferPool(keep=2))


@dataclass(frozen=True)
class FileSpan:
    """A file of the input as the driver plans it: how it is cut for counting, then its counts.

    ``ranges``: byte cuts at line ends of a JSON Lines file cut for counting (else
    ``()``); ``range_counts``: each range's ``(records, lines)``; ``groups``: the
    rows of each Parquet row group and its bytes.
    """

    index: int
    path: str
    format: str
    ranges: tuple[int, ...] = ()
    groups: tuple[tuple[int, int], ...] = ()
    records: int = -1
    chunks: int = -1
    range_counts: tuple[tuple[int, int], ...] = ()

    @property
    def is_split(self) -> bool:
        """Whether the file is cut into byte ranges."""
        return len(self.ranges) > 2


@dataclass(frozen=True)
class Slice:
    """Chunks ``first .. first + n_chunks - 1`` of one file (counted within the file), read by one task.

    ``chunk`` and ``offset`` are the stream's number of its first chunk and the
    position of its first record; ``hint`` is, for a JSON Lines file, a place at or
    before its first record, ``(byte, lines before it, records before it)``.
    """

    file: int
    path: str
    format: str
    first: int
    n_chunks: int
    records: int
    chunk: int
    offset: int
    hint: tuple[int, int, int] = (0, 0, 0)


def split_files(paths: Sequence[Path], formats: Sequence[str], *, slice_bytes: int | None = None) -> list[FileSpan]:
    """Each file with the cuts its counting needs (read on the driver: a line end per cut, Parquet footers)."""
    if slice_bytes is None:
        slice_bytes = SLICE_BYTES
    out = []
    for k, (p, name) in enumerate(zip(paths, formats)):
        size = p.stat().st_size
        if name == "jsonl" and not is_compressed(p):
            cuts = _line_cuts(p, size, max(1, -(-size // slice_bytes)))
            cuts = [c for i, c in enumerate(cuts) if i == 0 or c > cuts[i - 1]]
            out.append(FileSpan(k, str(p), name, ranges=tuple(cuts)))
        elif name == "parquet":
            meta = pq.ParquetFile(p).metadata
            groups = tuple(
                (meta.row_group(i).num_rows, meta.row_group(i).total_byte_size) for i in range(meta.num_row_groups)
            )
            out.append(FileSpan(k, str(p), name, groups=groups, records=sum(r for r, _ in groups)))
        else:
            out.append(FileSpan(k, str(p), name))
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


# -- counting (in tasks) --------------------------------------------------------------------------
def count_range(path: str, start: int, end: int) -> tuple[int, int]:
    """Records (non-blank lines) and lines in bytes ``[start, end)`` of a JSON Lines file (one pass, mapped).

    ``end`` is just after a line end, or the end of the file.
    """
    if end <= start:
        return 0, 0
    with open(path, "rb") as f:
        base = start - start % mmap.ALLOCATIONGRANULARITY
        with mmap.mmap(f.fileno(), end - base, offset=base, access=mmap.ACCESS_READ) as mm:
            data = np.frombuffer(mm, np.uint8)[start - base :]
            if start == 0 and bytes(data[: len(_BOM)]) == _BOM:
                data = data[len(_BOM) :]
            lines, records = count_lines(data)
            del data  # the map closes only once no array refers to it
    return int(records), int(lines)


def count_file(path: str, fmt: str, chunk_size: int, schema: pa.Schema | None) -> tuple[int, int]:
    """Records and chunks of a whole file, as a local run reads it."""
    records = chunks = 0
    with format_of(path, fmt).source(path, chunk_size, schema=schema) as src:
        for c in src.raw_chunks():
            records += c.count
            chunks += 1
    return records, chunks


class _Range:
    """A file object reading bytes ``[start, end)`` of a file."""

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


# -- planning (on the driver) ---------------------------------------------------------------------
def plan_slices(
    files: Sequence[FileSpan],
    chunk_size: int,
    *,
    slice_bytes: int | None = None,
    after: int = 0,
    position: int = 0,
    source_at: dict[str, int] | None = None,
) -> tuple[list[Slice], int, int]:
    """The slices of counted files, from stream chunk ``after`` on (the chunks a checkpoint holds are skipped).

    Returns the slices, the chunks and the records of the whole input.

    Raises
    ------
    CheckpointError
        ``after`` chunks do not end at stream position ``position`` (the input changed).
    """
    if slice_bytes is None:
        slice_bytes = SLICE_BYTES
    out: list[Slice] = []
    chunk = offset = 0
    for f in files:
        for first, end, hint in _cuts(f, chunk_size, slice_bytes):
            records = min(end * chunk_size, f.records) - first * chunk_size
            start = offset + first * chunk_size
            out.append(Slice(f.index, f.path, f.format, first, end - first, records, chunk + first, start, hint))
        chunk += f.chunks
        offset += f.records
    total_chunks, total_records = chunk, offset
    if after > total_chunks:
        msg = f"the checkpoint holds {after} chunks; the source has {total_chunks}"
        raise CheckpointError(msg)
    kept: list[Slice] = []
    for s in out:
        if s.chunk + s.n_chunks <= after:
            continue
        if s.chunk < after:  # part-way through: starts at the first chunk not committed
            skip = after - s.chunk
            hint = s.hint
            if source_at is not None and source_at.get("file") == s.file and "byte" in source_at:
                hint = (source_at["byte"], source_at["line"], (s.first + skip) * chunk_size)
            s = replace(
                s,
                first=s.first + skip,
                n_chunks=s.n_chunks - skip,
                records=s.records - skip * chunk_size,
                chunk=after,
                offset=s.offset + skip * chunk_size,
                hint=hint,
            )
            if s.offset != position:
                msg = f"the source's first {after} chunks hold {s.offset} records; the checkpoint says {position}"
                raise CheckpointError(msg)
        kept.append(s)
    if after and not kept and total_records != position:
        msg = f"the source's {after} chunks hold {total_records} records; the checkpoint says {position}"
        raise CheckpointError(msg)
    return kept, total_chunks, total_records


def _cuts(f: FileSpan, chunk_size: int, slice_bytes: int) -> Iterator[tuple[int, int, tuple[int, int, int]]]:
    """``(first chunk, end chunk, hint)`` of each slice of a counted file."""
    if f.chunks <= 0:
        return
    if f.is_split:
        starts: list[tuple[int, int, int]] = []
        lines = records = 0
        for b, (n, nl) in zip(f.ranges, f.range_counts):
            starts.append((b, lines, records))
            lines += nl
            records += n
        bounds = [-(-r // chunk_size) for _, _, r in starts] + [f.chunks]
        for k, hint in enumerate(starts):
            if bounds[k + 1] > bounds[k]:
                yield bounds[k], bounds[k + 1], hint
        return
    if f.format == "parquet" and f.groups:
        first = rows = nbytes = 0
        for n, b in f.groups:
            rows += n
            nbytes += b
            end = min(-(-rows // chunk_size), f.chunks)
            if nbytes >= slice_bytes and end > first:
                yield first, end, (0, 0, 0)
                first, nbytes = end, 0
        if f.chunks > first:
            yield first, f.chunks, (0, 0, 0)
        return
    yield 0, f.chunks, (0, 0, 0)


def counted(files: Sequence[FileSpan], counts: Callable[[int], Any], chunk_size: int) -> list[FileSpan]:
    """The files with their counts.

    ``counts(k)`` gives file ``k``'s ranges' ``(records, lines)``, or ``[(records, chunks)]`` for a whole file.
    """
    out = []
    for f in files:
        if f.format == "parquet":
            out.append(replace(f, chunks=-(-f.records // chunk_size)))
        elif f.ranges:
            per_range = tuple((int(n), int(nl)) for n, nl in counts(f.index))
            records = sum(n for n, _ in per_range)
            out.append(replace(f, range_counts=per_range, records=records, chunks=-(-records // chunk_size)))
        else:
            ((records, chunks),) = counts(f.index)
            out.append(replace(f, records=int(records), chunks=int(chunks)))
    return out


# -- reading a slice (in a task) ------------------------------------------------------------------
class SliceSource(Source):
    """The chunks of one slice, numbered and cut as a local run's, each telling where the source stands after it."""

    def __init__(self, sl: Slice, chunk_size: int, schema: pa.Schema | None) -> None:
        super().__init__(f"{sl.path} (chunks {sl.first}..{sl.first + sl.n_chunks - 1})")
        self.slice = sl
        self.chunk_size = chunk_size
        self.schema = schema
        #: Where the source stands after the last chunk read (``{"file", "byte", "line"}`` or ``{"file"}``).
        self.last_resume: dict[str, int] | None = None

    def _generate_raw(self) -> Generator[SourceChunk | RawChunk, None, None]:
        sl, cs = self.slice, self.chunk_size
        file_offset = sl.offset - sl.first * cs  # the stream position of the file's first record
        skip = 0
        src: Source
        if sl.format == "jsonl" and not is_compressed(Path(sl.path)):
            start = _jsonl_start(sl, cs)
            src = JsonlSource(sl.path, cs, schema=self.schema, offset=sl.offset, start=start)
            src._buffers, src._cells = _POOLS
        elif sl.format == "parquet":
            src = _ParquetRows(sl.path, cs, schema=self.schema, offset=sl.offset, first_row=sl.first * cs)
        else:
            src = format_of(sl.path, sl.format).source(sl.path, cs, schema=self.schema, offset=file_offset)
            skip = sl.first
        gen = src._generate_raw()
        try:
            for _ in range(skip):  # chunks a checkpoint holds already (unparsed where the format allows)
                next(gen)
            for chunk in itertools.islice(gen, sl.n_chunks):
                chunk.resume = self.last_resume = {"file": sl.file, **(chunk.resume or {})}
                yield chunk
        finally:
            gen.close()
            src.close()

    def _generate(self) -> Generator[SourceChunk, None, None]:
        for c in self._generate_raw():
            if isinstance(c, RawChunk):
                resume = c.resume
                c = c.decode(threads=True)
                c.resume = resume
            yield c


def _jsonl_start(sl: Slice, chunk_size: int) -> tuple[int, int] | None:
    """``(byte, lines before)`` of a JSON Lines slice's first record, from its hint; ``None``: the file's start."""
    byte, lines, records = sl.hint
    skip = sl.first * chunk_size - records
    if skip == 0:
        return None if byte == 0 else (byte, lines)
    with open(sl.path, "rb") as f:
        if byte == 0 and f.read(len(_BOM)) == _BOM:
            byte = len(_BOM)
        f.seek(byte)
        block = next(iter_line_blocks(f, skip, first_line=lines, at_start=False), None)
        if block is None or len(block) != skip:
            msg = f"{sl.path!r} holds fewer records than when it was counted: the input changed during the run"
            raise RuntimeError(msg)
        return byte + len(block.data), int(block.lines[-1])


class _ParquetRows(ParquetSource):
    """A Parquet file from row ``first_row`` on, in chunks of ``chunk_size`` rows (its row groups from there)."""

    def __init__(self, path: str, chunk_size: int, *, schema: pa.Schema | None, offset: int, first_row: int) -> None:
        super().__init__(path, chunk_size, schema=schema, offset=offset)
        self.first_row = first_row

    def _batches(self) -> Any:
        f = pq.ParquetFile(self.path, memory_map=True)
        try:
            meta = f.metadata
            groups: list[int] = []
            skip = row = 0
            for i in range(meta.num_row_groups):
                n = meta.row_group(i).num_rows
                if row + n > self.first_row:
                    if not groups:
                        skip = self.first_row - row
                    groups.append(i)
                row += n
            yield from rechunk(
                _drop(f.iter_batches(batch_size=self.chunk_size, row_groups=groups), skip), self.chunk_size
            )
        finally:
            f.close()


def _drop(batches: Iterator[pa.RecordBatch], n: int) -> Iterator[pa.RecordBatch]:
    """``batches`` without their first ``n`` rows."""
    for b in batches:
        if n >= b.num_rows:
            n -= b.num_rows
            continue
        yield b.slice(n) if n else b
        n = 0
