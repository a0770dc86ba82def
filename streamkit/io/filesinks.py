"""File sinks: written to a hidden temporary file next to the target, moved into place on ``close``.

A crash or :meth:`~streamkit.io.Sink.abort` leaves no file at the target path
(only ``.<name>.<random>.tmp`` files, which ``abort`` removes).

JSON Lines is schemaless, so every table is appended as it comes (a numba
writer, :mod:`streamkit.io._jsonwrite`, for numbers, booleans and strings; polars
``write_ndjson`` for temporal, decimal and nested columns; orjson for columns
polars cannot write, such as binary or union columns: bytes are written as base64
text). Parquet, Arrow IPC and CSV are in
:mod:`streamkit.io.partsinks`.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from functools import partial
from pathlib import Path
from typing import Any, cast

import pyarrow as pa

from streamkit.io._direct import DirectFile
from streamkit.io._files import check_output_path, commit, compress, compression_of, temp_path
from streamkit.io._jsontext import dumps
from streamkit.io._jsonwrite import BufferPool, encode_jsonl
from streamkit.io.base import Encoded, Sink, as_table

__all__ = ("JsonlSink", "JsonlEncoder", "FileSink")


class FileSink(Sink):
    """Base of the file sinks: the target path checked at open, temporary files, abort and clean-up.

    A file sink dropped without ``close`` or ``abort`` warns (``ResourceWarning``)
    and removes its temporary files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> sink = JsonlSink(pathlib.Path(tempfile.mkdtemp()) / "x.jsonl")
    >>> isinstance(sink, FileSink), sink.path.name
    (True, 'x.jsonl')
    >>> sink.abort()
    """

    path: Path

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = check_output_path(path)
        self._temps: list[Path] = []
        self.bytes_written = 0

    def _new_temp(self, tag: str = "") -> Path:
        p = temp_path(self.path, tag)
        self._temps.append(p)
        return p

    def _remove_temps(self) -> None:
        for p in self._temps:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        self._temps = []

    def _discard(self) -> None:
        try:
            self._close_files()
        finally:
            self._remove_temps()

    def _close_files(self) -> None:
        """Close open files without committing."""

    def __del__(self) -> None:
        if not getattr(self, "_done", True) and getattr(self, "_temps", None):
            warnings.warn(
                f"{self!r} was neither closed nor aborted; its output is discarded", ResourceWarning, stacklevel=1
            )
            self.abort()


def _polars_can_write(t: pa.DataType) -> bool:
    if (
        pa.types.is_null(t)
        or pa.types.is_boolean(t)
        or pa.types.is_integer(t)
        or pa.types.is_float32(t)
        or pa.types.is_float64(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_string_view(t)
        or pa.types.is_decimal128(t)
        or pa.types.is_date32(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_duration(t)
    ):
        return True
    if pa.types.is_dictionary(t):
        return _polars_can_write(t.value_type)
    if pa.types.is_struct(t):
        return t.num_fields > 0 and all(_polars_can_write(f.type) for f in t)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _polars_can_write(t.value_type)
    return False


class JsonlEncoder:
    """Tables as JSON Lines bytes, compressed with ``compression`` (a codec name) when given.

    What :meth:`JsonlSink.encode` does, without a file: a checkpointed stream
    keeps each chunk's text as a part of its own (:mod:`streamkit.io.partfiles`).

    Examples
    --------
    >>> bytes(JsonlEncoder().encode(pa.table({"a": [1, None]})).data)
    b'{"a":1}\\n{"a":null}\\n'
    """

    def __init__(self, compression: str | None = None, *, keep: int = 2) -> None:
        self.compression = compression
        self._buffers = BufferPool(keep=keep)  # ``keep``: texts its caller may hold at once, reused

    def encode(self, table: pa.Table | pa.RecordBatch) -> Encoded:
        """The table as JSON lines (see :meth:`JsonlSink.encode`)."""
        table = as_table(table)
        if not table.num_rows:
            return Encoded(b"", 0)
        encoded = self._text(table)
        if self.compression is None:
            return encoded
        packed = compress(encoded.data, self.compression)
        if encoded.release is not None:
            encoded.release()
        return Encoded(packed, encoded.num_rows)

    def _text(self, table: pa.Table) -> Encoded:
        text = encode_jsonl(table, self._buffers)
        if text is not None:
            return Encoded(text, table.num_rows, partial(self._buffers.give, text))
        names = table.column_names
        if len(set(names)) == len(names) and all(_polars_can_write(f.type) for f in table.schema) and table.num_columns:
            import polars as pl

            buf = io.BytesIO()
            cast("pl.DataFrame", pl.from_arrow(table)).write_ndjson(buf)
            return Encoded(buf.getvalue(), table.num_rows)
        return Encoded(b"".join(dumps(r) + b"\n" for r in table.to_pylist()), table.num_rows)


class JsonlSink(FileSink):
    """Write JSON Lines, one record per line (nulls written as ``null``).

    A path ending in ``.gz``, ``.zst``, ``.bz2`` or ``.lz4`` is written compressed:
    each chunk's text is compressed where it is encoded (in the streaming engine's
    worker threads), and the compressed chunks follow each other in the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.jsonl"
    >>> with JsonlSink(p) as sink:
    ...     sink.write(pa.table({"a": [1, None]}))
    ...     sink.write(pa.table({"b": [b"\\x00"]}))
    >>> print(p.read_text(), end="")
    {"a":1}
    {"a":null}
    {"b":"AA=="}
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self._tmp = self._new_temp()
        self._f: Any = DirectFile(self._tmp)  # closed by close/abort
        self.compression = compression_of(self.path)
        self._encoder = JsonlEncoder(self.compression)

    def encode(self, table: pa.Table | pa.RecordBatch) -> Encoded:
        """The table as JSON lines, written without the GIL by :func:`~streamkit.io._jsonwrite.encode_jsonl`
        (polars' writer for temporal, decimal and nested columns; orjson for what neither writes)."""
        return self._encoder.encode(table)

    def _write(self, table: pa.Table) -> None:
        self._write_encoded(self.encode(table))

    def _write_encoded(self, data: Encoded) -> None:
        self._f.write(data.data)
        self.bytes_written = self._f.tell()
        if data.release is not None:
            data.release()

    def _commit(self) -> None:
        self._f.close()
        commit(self._tmp, self.path)
        self._temps = []
        self.bytes_written = self.path.stat().st_size

    def _close_files(self) -> None:
        self._f.close()
