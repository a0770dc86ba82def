"""Parquet row groups encoded on their own, then joined into one file.

Encoding a table into Parquet pages (statistics, dictionaries, compression) is
the expensive part of writing Parquet; appending the pages to a file is not. So
:func:`encode_block` writes a table as a complete, standalone Parquet file in
memory (in a worker thread, in parallel with others), and :class:`JoinedFile`
appends the pages of such blocks, one after another, to one file and writes
its footer on ``close``.

A block's footer (Thrift compact protocol) gives every page position from the
start of the block; in the joined file they move by where the block's pages
land. The footer is walked once per block, in the thread that encoded it,
splitting its row groups into byte segments around the positions to move (the
``file_offset`` of a row group and of a column chunk; the data, index,
dictionary page and bloom filter offsets of a column) and the row group's
ordinal. Appending a block then only joins segments with the moved values.
Only what the encoder here writes is expected: no page index, no encryption.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from streamkit.io.base import Encoded

__all__ = ("ParquetBlock", "encode_block", "JoinedFile")

MAGIC = b"PAR1"

# Thrift compact protocol types
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(13)

# What moves, by Thrift field id: "off" a file position, "ord" the row group's ordinal,
# a dict a struct whose own fields move, a 1-tuple a list of such structs.
_COLUMN_META = {9: "off", 10: "off", 11: "off", 14: "off"}  # data, index, dictionary page; bloom filter
_COLUMN_CHUNK = {2: "off", 3: _COLUMN_META}  # file_offset; meta_data
_ROW_GROUP = {1: (_COLUMN_CHUNK,), 5: "off", 7: "ord"}  # columns; file_offset; ordinal


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


class _Walker:
    """Reads a Thrift compact struct, cutting it into segments around the values that move."""

    __slots__ = ("buf", "mark", "pos", "segments", "slots")

    def __init__(self, buf: bytes, pos: int = 0) -> None:
        self.buf = buf
        self.pos = pos
        self.mark = pos
        self.segments: list[bytes] = []
        self.slots: list[tuple[str, int]] = []

    def varint(self) -> int:
        buf, pos = self.buf, self.pos
        shift = result = 0
        while True:
            b = buf[pos]
            pos += 1
            result |= (b & 0x7F) << shift
            if b < 0x80:
                self.pos = pos
                return result
            shift += 7

    def signed(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def list_header(self) -> tuple[int, int]:
        b = self.buf[self.pos]
        self.pos += 1
        size = b >> 4
        return (self.varint() if size == 15 else size), b & 0x0F

    def skip(self, ttype: int) -> None:
        if ttype in (_TRUE, _FALSE):
            return
        if ttype in (_I16, _I32, _I64):
            self.varint()
        elif ttype == _BYTE:
            self.pos += 1
        elif ttype == _DOUBLE:
            self.pos += 8
        elif ttype == _BINARY:
            n = self.varint()
            self.pos += n
        elif ttype == _STRUCT:
            self.struct(None)
        elif ttype in (_LIST, _SET):
            n, elem = self.list_header()
            if elem in (_TRUE, _FALSE):  # booleans in a list take a byte each
                self.pos += n
            else:
                for _ in range(n):
                    self.skip(elem)
        elif ttype == _MAP:
            n = self.varint()
            if n:
                kinds = self.buf[self.pos]
                self.pos += 1
                for _ in range(n):
                    self.skip(kinds >> 4)
                    self.skip(kinds & 0x0F)
        else:
            msg = f"unexpected Thrift type {ttype} in a Parquet footer"
            raise ValueError(msg)

    def struct(self, spec: dict[int, Any] | None) -> None:
        """Read a struct to its end, cutting at the fields ``spec`` names."""
        buf = self.buf
        fid = 0
        while True:
            b = buf[self.pos]
            self.pos += 1
            if b == _STOP:
                return
            ttype, delta = b & 0x0F, b >> 4
            fid = fid + delta if delta else self.signed()
            what = spec.get(fid) if spec is not None else None
            if what is None:
                self.skip(ttype)
            elif isinstance(what, str):
                self.segments.append(buf[self.mark : self.pos])
                self.slots.append((what, self.signed()))
                self.mark = self.pos
            elif isinstance(what, dict):
                self.struct(what)
            else:
                n, _ = self.list_header()
                for _ in range(n):
                    self.struct(what[0])

    def cut(self) -> tuple[list[bytes], list[tuple[str, int]]]:
        """The segments and slots since the last cut (the bytes after the last slot included)."""
        self.segments.append(self.buf[self.mark : self.pos])
        self.mark = self.pos
        out = self.segments, self.slots
        self.segments, self.slots = [], []
        return out


@dataclass(frozen=True)
class _RowGroup:
    segments: list[bytes]
    slots: list[tuple[str, int]]

    def render(self, shift: int, ordinal: int) -> bytes:
        """The row group's bytes with its pages ``shift`` bytes further on, as row group ``ordinal``."""
        out = [self.segments[0]]
        for (what, value), seg in zip(self.slots, self.segments[1:]):
            if what != "ord":
                out.append(_zigzag(value + shift if value else 0))  # 0: not set
            elif ordinal <= 0x7FFF:
                out.append(_zigzag(ordinal))
            else:  # the (optional, i16) ordinal does not fit: left out, its one-byte field header too
                out[-1] = out[-1][:-1]
            out.append(seg)
        return b"".join(out)


@dataclass(frozen=True, eq=False)
class ParquetBlock(Encoded):
    """A table encoded as Parquet pages, ready to be appended to a :class:`JoinedFile`.

    ``data`` is the standalone Parquet file the pages come from, ``body`` its
    pages; ``schema`` the Arrow schema written, ``table`` the table itself when
    asked to keep it. ``head`` holds the footer's version and Parquet schema
    (blocks with equal heads have pages of the same layout), ``tail`` what
    follows the row groups (key-value metadata with the Arrow schema, creator,
    column orders).
    """

    schema: pa.Schema = None
    table: pa.Table | None = None
    head: bytes = b""
    tail: bytes = b""
    body: Any = None
    row_groups: tuple[_RowGroup, ...] = ()


def encode_block(table: pa.Table, *, keep: bool = False, **options: Any) -> ParquetBlock:
    """``table`` as Parquet pages in one row group (``options`` go to ``pyarrow.parquet.write_table``).

    With ``keep`` the block holds on to the table (for a writer that may need it after all).
    """
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=max(table.num_rows, 1), **options)
    data = sink.getvalue()
    n = data.size
    footer_len = int.from_bytes(data[n - 8 : n - 4].to_pybytes(), "little")
    start = n - 8 - footer_len
    footer = data[start : n - 8].to_pybytes()
    head, tail, row_groups = _split_footer(footer)
    return ParquetBlock(
        data=data,
        num_rows=table.num_rows,
        schema=table.schema,
        table=table if keep else None,
        head=head,
        tail=tail,
        body=data[4:start],
        row_groups=tuple(row_groups),
    )


def _split_footer(footer: bytes) -> tuple[bytes, bytes, list[_RowGroup]]:
    """The FileMetaData's version and schema, what follows its row groups, and the row groups cut for moving.

    The fields are expected in the order pyarrow writes them: version, schema,
    num_rows, row_groups, then the others.
    """
    w = _Walker(footer)
    head_end = tail_start = -1
    row_groups: list[_RowGroup] = []
    for fid in (1, 2, 3, 4):
        start = w.pos
        b = footer[w.pos]
        w.pos += 1
        if b >> 4 != 1 or (fid == 4 and b & 0x0F != _LIST):
            msg = "unexpected field order in a Parquet footer"
            raise ValueError(msg)
        if fid == 3:
            head_end = start
        if fid == 4:
            n, _ = w.list_header()
            for _ in range(n):
                w.mark = w.pos
                w.struct(_ROW_GROUP)
                row_groups.append(_RowGroup(*w.cut()))
            tail_start = w.pos
        else:
            w.skip(b & 0x0F)
    return footer[:head_end], footer[tail_start:], row_groups


class JoinedFile:
    """A Parquet file written from :class:`ParquetBlock` s of one layout, appended in order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "j.parquet"
    >>> f = JoinedFile(p)
    >>> f.append(encode_block(pa.table({"x": [1, 2]})))
    >>> f.append(encode_block(pa.table({"x": [3]})))
    >>> f.close()
    >>> pq.read_table(p).column("x").to_pylist(), pq.ParquetFile(p).metadata.num_row_groups
    ([1, 2, 3], 2)
    """

    def __init__(self, path: str | Path) -> None:
        self.file: Any = open(path, "wb")  # noqa: SIM115 - closed by close / discard
        self.file.write(MAGIC)
        self.size = len(MAGIC)
        self.head: bytes | None = None
        self.tail = b""
        self.num_rows = 0
        self._row_groups: list[bytes] = []

    def accepts(self, block: ParquetBlock) -> bool:
        """Whether ``block``'s pages have this file's layout (any block does, before the first)."""
        return self.head is None or block.head == self.head

    def append(self, block: ParquetBlock) -> None:
        """Append ``block``'s pages and remember its row groups, moved to where they now are."""
        if self.head is None:
            self.head, self.tail = block.head, block.tail
        elif block.head != self.head:
            msg = "a Parquet block of another schema cannot join this file"
            raise ValueError(msg)
        shift = self.size - len(MAGIC)
        self.file.write(block.body)
        self.size += block.body.size
        for rg in block.row_groups:
            self._row_groups.append(rg.render(shift, len(self._row_groups)))
        self.num_rows += block.num_rows

    def close(self) -> None:
        """Write the footer and close the file."""
        if self.head is None:
            self.file.close()
            msg = "a Parquet file needs its schema: append a block (possibly empty) first"
            raise ValueError(msg)
        n = len(self._row_groups)
        count = bytes([(n << 4) | _STRUCT]) if n < 15 else bytes([0xF0 | _STRUCT]) + _varint(n)
        footer = b"".join(
            [
                self.head,
                bytes([0x10 | _I64]),
                _zigzag(self.num_rows),
                bytes([0x10 | _LIST]),
                count,
                *self._row_groups,
                self.tail,
            ]
        )
        self.file.write(footer)
        self.file.write(len(footer).to_bytes(4, "little"))
        self.file.write(MAGIC)
        self.size += len(footer) + 8
        self.file.close()

    def discard(self) -> None:
        """Close the file without a footer (it is about to be removed)."""
        self.file.close()
