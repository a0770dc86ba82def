"""Parquet, Arrow IPC and CSV sinks: one schema per file, whatever the tables written.

Like every file sink they write hidden temporary files next to the target and
move the result into place on ``close`` (see :mod:`streamkit.io.filesinks`).

Parquet, Arrow IPC and CSV files have one schema, but the tables written to one
sink may differ (per-chunk type inference; different end states in one sink).
Each table goes into the first open *part* (a temporary file) whose schema it
fits without losing anything (see :mod:`streamkit.io._types`: null columns take
any type, missing columns become nulls, ints widen, ints become floats only when
exact); a table that fits none starts a new part. On ``close`` a single part is
the file (the common case writes once); several parts are rewritten, one batch
at a time, into one file whose schema unifies theirs (permissive promotion, and
text where types have nothing in common, e.g. an int field that later held
strings). Rows keep their order within a part; parts follow each other in the
order they were opened (sort by ``_row`` to restore stream order). For CSV only
the column names matter; a changed set of columns gives a file whose header is
the union of all.

Parquet is written as row groups encoded apart and joined (see
:mod:`streamkit.io._pqjoin`): the streaming engine has :meth:`ParquetSink.encode`
turn each large table into Parquet pages in its worker threads, in parallel, so
that writing only appends the pages in order. Smaller tables are merged into a
row group in the sink, as for IPC.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from streamkit._arrow.build import empty_table
from streamkit.io._files import commit, compress_file, compression_of
from streamkit.io._pqjoin import JoinedFile, ParquetBlock, encode_block
from streamkit.io._types import _safe_cast, cast_to, conform, to_text, unify_schemas
from streamkit.io.base import Encoded, as_table
from streamkit.io.delimited import infer_column
from streamkit.io.filesinks import FileSink

__all__ = ("ParquetSink", "IpcSink", "CsvSink", "ROW_GROUP_ROWS", "ENCODE_ROWS", "MAX_OPEN_PARTS")

#: Rows gathered before a Parquet row group / IPC batch is written (small tables are merged).
ROW_GROUP_ROWS = 65_536
#: Tables of at least this many rows are encoded as Parquet row groups of their own in the
#: engine's worker threads (:meth:`ParquetSink.encode`); smaller ones are merged in the sink.
ENCODE_ROWS = ROW_GROUP_ROWS // 4
#: Parts kept open at once; the least recently used is finished when another is needed.
MAX_OPEN_PARTS = 8


class _Part:
    """One temporary file of a parted sink and the schema its tables share."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self.writer: Any = None
        self.file: Any = None
        self.pending: list[pa.Table] = []
        self.pending_rows = 0
        self.size = 0


class _PartedSink(FileSink):
    """A file sink with one schema per file: tables that do not fit go to new parts, unified on close."""

    suffix = ""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self._check_compression()
        self._parts: list[_Part] = []
        self._open: list[_Part] = []  # most recently used last
        self._empty_schema: pa.Schema | None = None

    # -- per format --------------------------------------------------------------
    def _check_compression(self) -> None:
        """Refuse a compression suffix the format cannot honour (Parquet and IPC compress inside the file)."""
        if compression_of(self.path) is not None:
            fmt = type(self).__name__.removesuffix("Sink")
            hint = (
                "ParquetSink(path, compression='zstd') chooses the codec of its pages"
                if fmt == "Parquet"
                else "an IPC file is read memory-mapped, uncompressed"
            )
            msg = (
                f"cannot write {str(self.path)!r}: {fmt} files are not compressed by a suffix; "
                f"write {str(self.path.with_suffix(''))!r}\n\nHint: {hint}"
            )
            raise ValueError(msg)

    def _commit_file(self, tmp: Path) -> None:
        """Move a finished temporary file into place."""
        commit(tmp, self.path)

    def _prepare(self, table: pa.Table) -> pa.Table:
        return table

    def _fit(self, table: pa.Table, schema: pa.Schema) -> pa.Table | None:
        return conform(table, schema)

    def _start(self, part: _Part) -> None:
        raise NotImplementedError

    def _append(self, part: _Part, table: pa.Table) -> None:
        raise NotImplementedError

    def _append_block(self, part: _Part, block: ParquetBlock) -> bool:
        """Append an encoded table as it is, if the part takes it (``False``: it is written as a table)."""
        return False

    def _append_all(self, part: _Part, tables: list[pa.Table]) -> None:
        """Append tables of the part's schema, as one (a row group of a Parquet part)."""
        self._append(part, pa.concat_tables(tables) if len(tables) > 1 else tables[0])

    def _finish(self, part: _Part) -> None:
        part.writer.close()

    def _abandon(self, part: _Part) -> None:
        """Close a part's files without finishing it (it is removed next)."""
        part.writer.close()

    def _read(self, path: Path, columns: list[str] | None = None) -> Iterator[pa.Table]:
        """The tables of a finished part (only ``columns`` when given)."""
        raise NotImplementedError

    def _unified(self, schemas: list[pa.Schema]) -> pa.Schema:
        final = unify_schemas(schemas)
        risky = {f.name for f in final if any(f.name in s.names and s.field(f.name).type != f.type for s in schemas)}
        if not risky:
            return final
        text: set[str] = set()
        for part in self._parts:  # a cast that would change a value makes that column text
            for t in self._read(part.path, columns=[n for n in part.schema.names if n in risky]):
                for name in risky - text:
                    if name in t.column_names and _safe_cast(t.column(name), final.field(name).type) is None:
                        text.add(name)
        return pa.schema([f.with_type(pa.string()) if f.name in text else f for f in final])

    # -- writing -----------------------------------------------------------------
    def _write_encoded(self, data: Encoded) -> None:
        if not isinstance(data, ParquetBlock) or data.table is None:
            super()._write_encoded(data)
            return
        self._write(data.table, data)

    def _write(self, table: pa.Table, block: ParquetBlock | None = None) -> None:
        table = self._prepare(table)
        if not table.num_rows:
            if self._empty_schema is None:
                self._empty_schema = table.schema
            return
        for part in reversed(self._open):
            fitted = self._fit(table, part.schema)
            if fitted is not None:
                self._open.remove(part)
                self._open.append(part)
                self._add(part, fitted, block if fitted is table else None)
                return
        if len(self._open) >= MAX_OPEN_PARTS:
            self._flush(self._open.pop(0), finish=True)
        part = _Part(self._new_temp(f".part{len(self._parts)}"), table.schema)
        self._parts.append(part)
        self._open.append(part)
        self._start(part)
        self._add(part, table, block)

    def _add(self, part: _Part, table: pa.Table, block: ParquetBlock | None = None) -> None:
        if block is not None:
            self._flush(part)  # what came before goes first
            if self._append_block(part, block):
                self._flush(part)
                return
        part.pending.append(table)
        part.pending_rows += table.num_rows
        if part.pending_rows >= ROW_GROUP_ROWS:
            self._flush(part)

    def _flush(self, part: _Part, *, finish: bool = False) -> None:
        if part.pending:
            self._append_all(part, part.pending)
            part.pending, part.pending_rows = [], 0
        if part.file is not None:
            part.size = part.file.tell()
        if finish:
            self._finish(part)
            part.writer = part.file = None
        self.bytes_written = sum(p.size for p in self._parts)

    def _commit(self) -> None:
        for part in self._open:
            self._flush(part, finish=True)
        self._open = []
        if not self._parts:
            self._write_empty()
        elif len(self._parts) == 1:
            self._commit_file(self._parts[0].path)
        else:
            self._combine()
        self._remove_temps()
        self.bytes_written = self.path.stat().st_size

    def _write_empty(self) -> None:
        """A file without rows, with the columns of the empty tables written, if any."""
        part = _Part(self._new_temp(), self._empty_schema or pa.schema([]))
        if part.schema.names or not isinstance(self, CsvSink):
            self._start(part)
            self._append(part, empty_table(part.schema))
            self._finish(part)
        else:
            part.path.write_bytes(b"")
        self._commit_file(part.path)

    def _combine(self) -> None:
        final = _Part(self._new_temp(), self._unified([p.schema for p in self._parts]))
        self._start(final)
        for part in self._parts:
            for t in self._read(part.path):
                self._append(final, cast_to(t, final.schema))
            part.path.unlink()
        self._finish(final)
        self._commit_file(final.path)

    def _close_files(self) -> None:
        for part in self._open:
            if part.writer is not None:
                with contextlib.suppress(Exception):  # the file is removed next
                    self._abandon(part)
        self._open = []


class ParquetSink(_PartedSink):
    """Write a Parquet file (``pyarrow.parquet``; ``compression`` as there, default ``snappy``, pyarrow's own).

    Columns of mixed types (Arrow unions, which Parquet lacks) are written as text.
    Each row group carries min/max statistics for its number, boolean and
    temporal columns; text columns get them with ``text_statistics=True``
    (they cost about a quarter of the encoding time: ~45 of 173 ns per row on
    the seed job's output).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.parquet"
    >>> with ParquetSink(p) as sink:
    ...     sink.write(pa.table({"v": [None, None]}))   # all-null: type null
    ...     sink.write(pa.table({"v": [1, 2]}))         # int: a second part
    ...     sink.write(pa.table({"v": ["x"]}))          # text: a third
    >>> pq.read_table(p).column("v").to_pylist()
    [None, None, '1', '2', 'x']
    """

    def __init__(self, path: str | Path, *, compression: str = "snappy", text_statistics: bool = False) -> None:
        super().__init__(path)
        self.compression = compression
        self.text_statistics = text_statistics

    def _prepare(self, table: pa.Table) -> pa.Table:
        if all(_parquet_holds(f.type) for f in table.schema):
            return table
        # Parquet has no union type (values of mixed types) and no struct without fields: kept as text
        cols = [c if _parquet_holds(c.type) else to_text(c) for c in table.columns]
        return pa.Table.from_arrays(cols, names=table.column_names)

    def encode(self, table: pa.Table | pa.RecordBatch) -> pa.Table | Encoded:
        """A table of at least :data:`ENCODE_ROWS` rows encoded as one Parquet row group (else the table).

        The streaming engine calls this in its worker threads, so the pages of
        several chunks are encoded in parallel; writing then only appends them.
        """
        table = as_table(table)
        if table.num_rows < ENCODE_ROWS or not table.num_columns:
            return table
        table = self._prepare(table)
        return encode_block(table, keep=True, **self._options(table.schema))

    def _options(self, schema: pa.Schema) -> dict[str, Any]:
        # dictionary pages only for text columns: tried on unique ints they are built and dropped
        # (8.4 vs 5.0 M rec/s on seed-like batches, and a file half the size)
        text = [
            f.name
            for f in schema
            if pa.types.is_string(f.type)
            or pa.types.is_large_string(f.type)
            or pa.types.is_binary(f.type)
            or pa.types.is_dictionary(f.type)
        ]
        # integers as deltas (DELTA_BINARY_PACKED, then snappy): on the seed job's output 1.5-1.8x less
        # CPU than plain + snappy and 2.4x smaller; random ints in a range or sorted ones half the size
        # or less, read 2-4x faster; only full-range random values gain nothing (same size, writing
        # 0.015 s per million values slower)
        ints = {f.name: "DELTA_BINARY_PACKED" for f in schema if pa.types.is_integer(f.type)}
        stats: bool | list[str] = True
        if text and not self.text_statistics and not any(pa.types.is_nested(f.type) for f in schema):
            stats = [f.name for f in schema if f.name not in text] or False
        return {
            "compression": self.compression,
            "use_dictionary": text or False,
            "column_encoding": ints or None,
            "write_statistics": stats,
        }

    def _start(self, part: _Part) -> None:
        part.writer = JoinedFile(part.path)
        part.file = part.writer.file

    def _append(self, part: _Part, table: pa.Table) -> None:
        part.writer.append(encode_block(table, **self._options(part.schema)))

    def _append_block(self, part: _Part, block: ParquetBlock) -> bool:
        if not part.writer.accepts(block):
            return False
        part.writer.append(block)
        return True

    def _append_all(self, part: _Part, tables: list[pa.Table]) -> None:
        """Append tables of the part's schema, as one (a row group of a Parquet part)."""
        self._append(part, pa.concat_tables(tables) if len(tables) > 1 else tables[0])

    def _finish(self, part: _Part) -> None:
        part.writer.close()

    def _abandon(self, part: _Part) -> None:
        part.writer.discard()

    def _read(self, path: Path, columns: list[str] | None = None) -> Iterator[pa.Table]:
        f = pq.ParquetFile(path)
        try:
            for i in range(f.num_row_groups):
                yield f.read_row_group(i, columns=columns)
        finally:
            f.close()


def _parquet_holds(t: pa.DataType) -> bool:
    """Whether Parquet can store the type: no union and no struct without fields, at any depth.

    Examples
    --------
    >>> _parquet_holds(pa.list_(pa.struct([("x", pa.int64())]))), _parquet_holds(pa.list_(pa.struct([])))
    (True, False)
    """
    if pa.types.is_union(t) or (pa.types.is_struct(t) and t.num_fields == 0):
        return False
    return all(_parquet_holds(t.field(i).type) for i in range(t.num_fields))


class IpcSink(_PartedSink):
    """Write an Arrow IPC file (the random-access file format, readable memory-mapped).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.arrow"
    >>> with IpcSink(p) as sink:
    ...     sink.write(pa.table({"a": [1]}))
    ...     sink.write(pa.table({"b": ["x"]}))
    >>> pa.ipc.open_file(p).read_all().to_pylist()
    [{'a': 1, 'b': None}, {'a': None, 'b': 'x'}]
    """

    def _start(self, part: _Part) -> None:
        part.file = pa.OSFile(str(part.path), "wb")
        part.writer = pa.ipc.new_file(part.file, part.schema)

    def _append(self, part: _Part, table: pa.Table) -> None:
        part.writer.write_table(table, max_chunksize=max(table.num_rows, 1))

    def _finish(self, part: _Part) -> None:
        part.writer.close()
        part.file.close()

    def _read(self, path: Path, columns: list[str] | None = None) -> Iterator[pa.Table]:
        with pa.memory_map(str(path)) as mm:
            reader = pa.ipc.open_file(mm)
            for i in range(reader.num_record_batches):
                t = pa.Table.from_batches([reader.get_batch(i)])
                yield t if columns is None else t.select(columns)


class CsvSink(_PartedSink):
    """Write CSV with a header (Arrow's writer: text quoted, nulls empty; nested values as JSON).

    A path ending in ``.gz``, ``.zst``, ``.bz2`` or ``.lz4`` is written compressed
    (the finished file is compressed as it moves into place).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.csv"
    >>> with CsvSink(p) as sink:
    ...     sink.write(pa.table({"a": [1], "b": ["x"]}))
    ...     sink.write(pa.table({"a": ["y"], "c": [{"k": 1}]}))
    >>> print(p.read_text(), end="")
    "a","b","c"
    1,"x",
    "y",,"{""k"":1}"
    """

    def __init__(self, path: str | Path, *, delimiter: str | None = None) -> None:
        super().__init__(path)
        self.compression = compression_of(self.path)
        plain = self.path.with_suffix("") if self.compression else self.path
        self.delimiter = delimiter or ("\t" if plain.suffix.lower() == ".tsv" else ",")

    def _check_compression(self) -> None:
        """CSV is compressed by its suffix: nothing to refuse."""

    def _commit_file(self, tmp: Path) -> None:
        if self.compression is None:
            commit(tmp, self.path)
            return
        packed = self._new_temp()
        compress_file(tmp, packed, self.compression)
        tmp.unlink()
        commit(packed, self.path)

    def _prepare(self, table: pa.Table) -> pa.Table:
        cols = [to_text(c) if pa.types.is_nested(c.type) or pa.types.is_union(c.type) else c for c in table.columns]
        return pa.Table.from_arrays(cols, names=table.column_names)

    def _fit(self, table: pa.Table, schema: pa.Schema) -> pa.Table | None:
        if table.column_names == schema.names:
            return table
        names = set(schema.names)
        if any(n not in names for n in table.column_names):
            return None
        n = table.num_rows
        return pa.Table.from_arrays(
            [table.column(k) if k in table.column_names else pa.nulls(n) for k in schema.names], names=schema.names
        )

    def _start(self, part: _Part) -> None:
        part.file = pa.OSFile(str(part.path), "wb")
        header = pa.Table.from_arrays([pa.array([], pa.string()) for _ in part.schema.names], names=part.schema.names)
        pcsv.write_csv(header, part.file, write_options=pcsv.WriteOptions(delimiter=self.delimiter))
        part.writer = part.file

    def _append(self, part: _Part, table: pa.Table) -> None:
        pcsv.write_csv(
            table, part.file, write_options=pcsv.WriteOptions(include_header=False, delimiter=self.delimiter)
        )

    def _append_all(self, part: _Part, tables: list[pa.Table]) -> None:
        # a part holds the same columns, not always the same types (1 and "x" are both text here)
        for t in tables:
            self._append(part, t)

    def _finish(self, part: _Part) -> None:
        part.file.close()

    def _unified(self, schemas: list[pa.Schema]) -> pa.Schema:
        names: dict[str, None] = {}
        for s in schemas:
            names.update(dict.fromkeys(s.names))
        return pa.schema([(k, pa.string()) for k in names])

    def _read(self, path: Path, columns: list[str] | None = None) -> Iterator[pa.Table]:
        with open(path, "rb") as f:
            header = f.readline().decode("utf-8").rstrip("\r\n")
        cols = next(csv.reader([header], delimiter=self.delimiter), [])
        reader = pcsv.open_csv(
            str(path),
            read_options=pcsv.ReadOptions(column_names=cols, skip_rows=1),
            parse_options=pcsv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(cols, pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                null_values=[""],
            ),
        )
        for b in reader:
            yield pa.Table.from_arrays([infer_column(c) for c in b.columns], names=b.schema.names)

    def _combine(self) -> None:
        final = _Part(self._new_temp(), self._unified([p.schema for p in self._parts]))
        self._start(final)
        for part in self._parts:
            for t in self._read(part.path):
                fitted = self._fit(t, final.schema)
                assert fitted is not None
                self._append(final, fitted)
            part.path.unlink()
        self._finish(final)
        self._commit_file(final.path)
