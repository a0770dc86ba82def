"""``open_source``: anything a user may stream from, as a :class:`~streamkit.io.Source`."""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from streamkit.io.arrowsources import ArrowSource, arrow_batches
from streamkit.io.base import Source
from streamkit.io.chunk import DEFAULT_CHUNK_SIZE, RawChunk, SourceChunk
from streamkit.io.formats import format_of, resolve_paths
from streamkit.io.iterables import AsyncIterableSource, IterableSource
from streamkit.io.jsonl import JsonlSource
from streamkit.io.records import to_arrow_schema

__all__ = ("open_source", "FilesSource")


class FilesSource(Source):
    """Files read one after another; stream positions continue from one file to the next.

    Each file's format comes from its suffix unless ``format`` is given. Chunks do
    not span files, so a file's last chunk may be short.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.jsonl").write_text('{"x": 1}\\n{"x": 2}\\n{"x": 3}\\n')
    >>> _ = (d / "b.csv").write_text("x\\n4\\n5\\n")
    >>> with open_source(str(d / "*"), chunk_size=2) as src:
    ...     [(c.start, c.count, c.parts[0][0].column("x").to_pylist()) for c in src.chunks()]
    [(0, 2, [1, 2]), (2, 1, [3]), (3, 2, [4, 5])]
    """

    def __init__(
        self,
        name: str,
        paths: list[Path],
        chunk_size: int,
        *,
        format: str | None = None,  # noqa: A002
        schema: pa.Schema | None = None,
    ) -> None:
        super().__init__(name)
        self.paths = paths
        self.formats = [format_of(p, format) for p in paths]  # unknown suffixes fail here, at open time
        self.chunk_size = chunk_size
        self.schema = schema
        self._resume: tuple[dict[str, int], int] | None = None

    def can_seek(self, at: dict[str, int] | None) -> bool:
        """Whether :meth:`seek` can start at ``at`` (a chunk's ``resume``): a JSON Lines file read from a byte."""
        return at is not None and "byte" in at and 0 <= at.get("file", -1) < len(self.paths)

    def seek(self, at: dict[str, int], position: int) -> None:
        """Start reading where a chunk's ``resume`` says the source stood after it, at stream ``position``.

        Call it before reading. The files before ``at["file"]`` are not read; that
        file is read from byte ``at["byte"]``, after line ``at["line"]``.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.jsonl"
        >>> _ = p.write_text('{"x": 1}\\n\\n{"x": 2}\\nnot json\\n')
        >>> with open_source(str(p), chunk_size=1) as src:
        ...     first = next(iter(src.raw_chunks()))
        >>> first.resume
        {'file': 0, 'byte': 9, 'line': 1}
        >>> with open_source(str(p), chunk_size=1) as src:
        ...     src.seek(first.resume, 1)
        ...     chunks = list(src.chunks())
        >>> [(c.start, c.n_records, c.malformed is not None and c.malformed.column("line").to_pylist()) for c in chunks]
        [(1, 1, False), (2, 0, [4])]
        """
        if not self.can_seek(at):
            msg = f"cannot seek in {self.name!r} to {at!r}"
            raise ValueError(msg)
        self._resume = (dict(at), position)

    def _generate(self) -> Generator[SourceChunk, None, None]:
        return self._files(raw=False)  # type: ignore[return-value]

    def _generate_raw(self) -> Generator[SourceChunk | RawChunk, None, None]:
        return self._files(raw=True)

    def _files(self, *, raw: bool) -> Generator[SourceChunk | RawChunk, None, None]:
        pos = 0
        first = 0
        start: tuple[int, int] | None = None
        if self._resume is not None:
            at, pos = self._resume
            first, start = at["file"], (at["byte"], at["line"])
        for k in range(first, len(self.paths)):
            path, fmt = self.paths[k], self.formats[k]
            if k == first and start is not None:
                src: Source = JsonlSource(path, self.chunk_size, schema=self.schema, offset=pos, start=start)
            else:
                src = fmt.source(path, self.chunk_size, schema=self.schema, offset=pos)
            gen = src._generate_raw() if raw else src._generate()
            try:
                for chunk in gen:
                    pos = chunk.start + chunk.count
                    chunk.resume = {"file": k, **(chunk.resume or {})}
                    yield chunk
            finally:
                gen.close()


def _is_path(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike))


def open_source(
    source: Any,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    format: str | None = None,  # noqa: A002
    schema: Any = None,
) -> Source:
    """Open anything streamkit reads as a :class:`~streamkit.io.Source` of chunks.

    Parameters
    ----------
    source:
        A path (``str`` / ``Path``): a file, a glob such as ``"data/*.jsonl"``
        (sorted), or a directory (its data files, sorted); a list of paths;
        a Python iterable or async iterable of dicts (or of Arrow batches/tables);
        a ``pyarrow.Table`` / ``RecordBatch`` / ``RecordBatchReader``; a polars
        ``DataFrame`` or ``LazyFrame`` (streamed with ``collect_batches``);
        anything with ``__arrow_c_stream__``; or a ``Source`` (returned as is).
    chunk_size:
        Records per chunk: exact for files and iterables of dicts (the last
        chunk of each file may be short), at most for in-memory Arrow data
        (sliced, never copied).
    format:
        ``"jsonl"``, ``"csv"``, ``"parquet"`` or ``"ipc"`` for paths whose suffix
        does not say (known suffixes: ``.jsonl .ndjson .csv .tsv .parquet .pq
        .arrow .ipc .feather``, optionally compressed ``.gz``/``.zst``/...).
    schema:
        Field types to read with (a ``pyarrow.Schema`` or a dict of name to
        pyarrow/polars type). Records whose values do not fit become malformed
        rows naming the field, and fields outside the schema are ignored. Without
        it, each chunk's types are inferred on their own, so types may differ
        between chunks.

    Returns
    -------
    Source
        Read it with ``chunks()`` (or ``achunks()`` when ``is_async``), then ``close()``.

    Raises
    ------
    FileNotFoundError
        A path does not exist, or a glob matches nothing.
    ValueError
        A file's suffix names no known format (and ``format`` is not given).
    TypeError
        ``source`` is none of the above.

    Examples
    --------
    >>> with open_source([{"id": 1, "v": 2.5}, {"id": 2}, 3], chunk_size=2) as src:
    ...     chunks = list(src.chunks())
    >>> [(c.start, c.count, c.n_records, c.n_malformed) for c in chunks]
    [(0, 2, 2, 0), (2, 1, 0, 1)]
    >>> open_source("no/such/file.jsonl")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no such file: 'no/such/file.jsonl'
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        msg = f"`chunk_size` must be a positive integer, got {chunk_size!r}"
        raise ValueError(msg)
    if isinstance(source, Source):
        return source
    arrow_schema = to_arrow_schema(schema) if schema is not None else None
    if _is_path(source):
        return FilesSource(os.fspath(source), resolve_paths(source), chunk_size, format=format, schema=arrow_schema)
    if isinstance(source, (list, tuple)) and source and all(_is_path(x) for x in source):
        paths = [p for x in source for p in resolve_paths(x)]
        name = os.fspath(source[0]) + (f" (+{len(source) - 1} more)" if len(source) > 1 else "")
        return FilesSource(name, paths, chunk_size, format=format, schema=arrow_schema)
    if arrow_batches(source, chunk_size) is not None:
        return ArrowSource(source, chunk_size, schema=arrow_schema)
    if isinstance(source, (Mapping, str, bytes)):
        msg = (
            f"expected a stream of records, got a {type(source).__name__}"
            "\n\nHint: wrap a single record in a list: `[record]`"
        )
        raise TypeError(msg)
    if hasattr(source, "__aiter__"):
        return AsyncIterableSource(source, chunk_size, schema=arrow_schema)
    if hasattr(source, "__iter__"):
        return IterableSource(source, chunk_size, schema=arrow_schema)
    msg = (
        f"cannot read from a {type(source).__name__}; expected a path, a glob, a list of paths, an (async) "
        "iterable of dicts, a pyarrow Table/RecordBatch/RecordBatchReader, a polars DataFrame/LazyFrame "
        "or an object with `__arrow_c_stream__`"
    )
    raise TypeError(msg)
