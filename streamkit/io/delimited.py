"""CSV (and TSV) files as a stream of chunks of exactly ``chunk_size`` rows.

Parsing is Arrow's streaming CSV reader (quoting, values spanning lines), with
every column read as text; each chunk's column types are then inferred on their
own — ``int64``, else ``double``, else ``bool``, else text; empty fields are null
— so a column may be numbers in one chunk and text in a later one, as with JSONL.
Rows with the wrong number of fields become malformed rows (``ParseError``) with
their line; text that is not UTF-8 makes its row malformed (``UnicodeDecodeError``).
Blank lines are not records.

Line numbers are 1-based lines of the file (the header counts); a row whose
quoted values span several lines counts as one line for the rows after it, as
Arrow counts rows.
"""

from __future__ import annotations

import csv
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pc

from streamkit.io._files import open_input
from streamkit.io.base import Source
from streamkit.io.chunk import Malformed, SourceChunk, malformed_table
from streamkit.io.records import apply_schema

__all__ = ("CsvSource", "infer_column", "unique_names")

_BLOCK = 1 << 20
_INFER = (pa.int64(), pa.float64(), pa.bool_())


def infer_column(arr: pa.Array) -> pa.Array:
    """A text column as the narrowest of ``int64``, ``double``, ``bool`` that holds every value, else text.

    Examples
    --------
    >>> [infer_column(pa.array(v)).type for v in (["1", None], ["1", "2.5"], ["true", "0"], ["1", "x"], [None])]
    [DataType(int64), DataType(double), DataType(bool), DataType(string), DataType(null)]
    """
    if arr.null_count == len(arr):
        return pa.nulls(len(arr))
    # a failed cast costs ~25 ms per 64k values, so a type is tried on a sample first
    sample = arr.slice(0, 256).drop_null()
    for t in _INFER:
        try:
            sample.cast(t)
            return arr.cast(t)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return arr


class _Tap:
    """A binary stream that notes which lines are empty as the CSV reader reads it."""

    def __init__(self, raw: Any, prefix: bytes) -> None:
        self.raw = raw
        self.prefix = prefix
        self.closed = False
        self.blank: list[np.ndarray] = []  # 1-based line numbers (from the first data line) of empty lines
        self._known = np.empty(0, np.int64)  # the empty lines not yet passed, as one array
        self._passed = 0  # empty lines before the first of _known
        self._lines = 0  # lines ended so far
        self._line_len = 0  # bytes in the current (unfinished) line, without "\r"
        self._last = 0

    def read(self, n: int = -1) -> bytes:
        if self.prefix:
            data, self.prefix = (
                (self.prefix, b"") if n < 0 or n >= len(self.prefix) else (self.prefix[:n], self.prefix[n:])
            )
        else:
            data = self.raw.read(n)
        if data:
            self._scan(data)
        return data

    def _scan(self, data: bytes) -> None:
        arr = np.frombuffer(data, np.uint8)
        nl = np.flatnonzero(arr == 10)
        if len(nl):
            starts = np.concatenate([[-1], nl[:-1]]) + 1
            lengths = nl - starts
            lengths[0] += self._line_len
            cr = np.concatenate([[self._last], arr[:-1]])[nl] == 13 if len(arr) else np.zeros(0, np.bool_)
            lengths -= cr
            empty = np.flatnonzero(lengths == 0)
            if len(empty):
                self.blank.append(empty + self._lines + 1)
            self._lines += len(nl)
            self._line_len = len(arr) - int(nl[-1]) - 1
        else:
            self._line_len += len(arr)
        self._last = int(arr[-1])

    def line_of(self, row: int) -> int:
        """The line (1-based, from the first data line) of the ``row``-th non-empty line.

        Rows are asked in ascending order: empty lines before the answer are forgotten.
        """
        if self.blank:
            self._known = np.concatenate([self._known, *self.blank])
            self.blank = []
        line = row
        while True:
            k = self._passed + int(np.searchsorted(self._known, line, side="right"))
            if row + k == line:
                break
            line = row + k
        j = int(np.searchsorted(self._known, line, side="right"))
        self._known = self._known[j:]
        self._passed += j
        return line

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


def _read_header(raw: Any, delimiter: str) -> tuple[list[str] | None, int, bytes]:
    """Column names from the first non-empty line, that line's number, and the bytes read after it."""
    buf = b""
    line_no = 0
    first = True
    while True:
        nl = buf.find(b"\n")
        if nl < 0:
            more = raw.read(_BLOCK)
            if more:
                if first and more.startswith(b"\xef\xbb\xbf"):
                    more = more[3:]
                first = False
                buf += more
                continue
            if not buf:
                return None, line_no, b""
            nl = len(buf)
        line, buf = buf[:nl], buf[nl + 1 :]
        line_no += 1
        if line.strip():
            text = line.decode("utf-8", errors="replace").rstrip("\r")
            return unique_names(next(csv.reader([text], delimiter=delimiter))), line_no, buf


def unique_names(names: list[str]) -> list[str]:
    """Header names made unique the way polars does: a repeated name gets ``_duplicated_<k>``.

    Examples
    --------
    >>> unique_names(["a", "b", "a", "a"])
    ['a', 'b', 'a_duplicated_0', 'a_duplicated_1']
    """
    seen: set[str] = set()
    counts: dict[str, int] = {}
    out = []
    for name in names:
        new = name
        while new in seen:
            k = counts.get(name, 0)
            counts[name] = k + 1
            new = f"{name}_duplicated_{k}"
        seen.add(new)
        out.append(new)
    return out


class CsvSource(Source):
    """Read a CSV file (header in the first non-empty line) in chunks of ``chunk_size`` rows.

    Parameters
    ----------
    path:
        The file (``.tsv`` files are tab separated; compressed files are read too).
    chunk_size:
        Rows per chunk (well-formed and malformed together).
    schema:
        Fixed column types: values that do not convert make their row malformed
        (``SchemaError`` naming the column); columns outside the schema are ignored.
    offset:
        Stream position of the file's first row.
    delimiter:
        Field separator (default: tab for ``.tsv``, else comma).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "in.csv"
    >>> _ = p.write_text("id,name\\n1,a\\n2\\n\\n3,c\\n")
    >>> with CsvSource(p, chunk_size=2) as src:
    ...     chunks = list(src.chunks())
    >>> [(c.start, c.count, [b.to_pylist() for b, _ in c.parts]) for c in chunks]
    [(0, 2, [[{'id': 1, 'name': 'a'}]]), (2, 1, [[{'id': 3, 'name': 'c'}]])]
    >>> chunks[0].malformed.select(["_row", "line", "error_message"]).to_pylist()
    [{'_row': 1, 'line': 3, 'error_message': 'expected 2 fields, got 1'}]
    """

    def __init__(
        self,
        path: str | Path,
        chunk_size: int,
        *,
        schema: pa.Schema | None = None,
        offset: int = 0,
        delimiter: str | None = None,
    ) -> None:
        super().__init__(str(path))
        self.path = Path(path)
        self.chunk_size = chunk_size
        self.schema = schema
        self.offset = offset
        suffixes = [s.lower() for s in self.path.suffixes]
        self.delimiter = delimiter or ("\t" if ".tsv" in suffixes else ",")

    def _generate(self) -> Generator[SourceChunk, None, None]:
        with open_input(self.path) as raw:
            names, header_line, rest = _read_header(raw, self.delimiter)
            if names is None:
                return
            yield from _Rows(self, names, header_line, _Tap(raw, rest)).chunks()


class _Rows:
    """Rows of one CSV file, numbered and cut into chunks."""

    def __init__(self, src: CsvSource, names: list[str], header_line: int, tap: _Tap) -> None:
        self.src = src
        self.names = names
        self.header_line = header_line
        self.tap = tap
        self.invalid: list[tuple[int, str, int, int]] = []  # (row number, text, expected, actual)
        self.next_row = 1  # next row number (among non-empty lines after the header) to place
        self.next_pos = src.offset
        self.good: list[tuple[pa.RecordBatch, np.ndarray]] = []
        self.bad: list[Malformed] = []

    def _on_invalid(self, row: Any) -> str:
        self.invalid.append((row.number, row.text, row.expected_columns, row.actual_columns))
        return "skip"

    def _open(self) -> pc.CSVStreamingReader:
        return pc.open_csv(
            self.tap,
            read_options=pc.ReadOptions(use_threads=False, column_names=self.names, block_size=_BLOCK),
            parse_options=pc.ParseOptions(
                delimiter=self.src.delimiter, newlines_in_values=True, invalid_row_handler=self._on_invalid
            ),
            convert_options=pc.ConvertOptions(
                column_types=dict.fromkeys(self.names, pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                null_values=[""],
                check_utf8=False,
            ),
        )

    def chunks(self) -> Iterator[SourceChunk]:
        try:
            reader = self._open()
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):  # a header and nothing else
                return
            raise
        start = self.src.offset
        n = self.src.chunk_size
        for batch in reader:
            self._place(batch)
            while self.next_pos - start >= n:
                yield self._cut(start, n)
                start += n
        self._place(None)
        while self.next_pos > start:
            c = self._cut(start, min(n, self.next_pos - start))
            start += c.count
            yield c

    def _place(self, batch: pa.RecordBatch | None) -> None:
        """Give positions to the rows of ``batch`` and the malformed rows read before and among them."""
        m = 0 if batch is None else batch.num_rows
        inv_rows = np.array([r[0] for r in self.invalid], np.int64)
        if m:
            nums = np.arange(self.next_row, self.next_row + m + len(inv_rows), dtype=np.int64)
            valid = nums[~np.isin(nums, inv_rows)][:m]
            last = int(valid[-1])
        else:
            valid = np.empty(0, np.int64)
            last = int(inv_rows[-1]) if len(inv_rows) else self.next_row - 1
        take = [r for r in self.invalid if r[0] <= last and r[1].strip()]
        self.invalid = [r for r in self.invalid if r[0] > last]
        order = np.argsort(np.concatenate([valid, np.array([r[0] for r in take], np.int64)]), kind="stable")
        pos = np.empty(len(order), np.int64)
        pos[order] = np.arange(self.next_pos, self.next_pos + len(order))
        if m:
            self.good.append((batch, pos[:m]))
        for (number, text, expected, actual), p in zip(take, pos[m:].tolist()):
            line = self.header_line + self.tap.line_of(number)
            self.bad.append(Malformed(p, "ParseError", f"expected {expected} fields, got {actual}", line, text))
        self.next_pos += len(order)
        self.next_row = last + 1
        if last > 0:
            self.tap.line_of(last)  # forget the empty lines passed

    def _cut(self, start: int, n: int) -> SourceChunk:
        end = start + n
        good, rest = [], []
        for batch, pos in self.good:
            k = int(np.searchsorted(pos, end))
            if k:
                good.append((batch.slice(0, k), pos[:k]))
            if k < len(pos):
                rest.append((batch.slice(k), pos[k:]))
        self.good = rest
        bad = [m for m in self.bad if m.position < end]
        self.bad = [m for m in self.bad if m.position >= end]
        parts = []
        if good:
            batch = pa.concat_batches([b for b, _ in good]) if len(good) > 1 else good[0][0]
            ids = np.concatenate([p for _, p in good])
            batch, ids, more_bad = self._typed(batch, ids)
            bad = sorted(bad + more_bad, key=lambda m: m.position)
            if batch.num_rows or not bad:
                parts.append((batch, ids))
        return SourceChunk(parts, start, n, malformed_table(bad, self.src.name))

    def _typed(self, batch: pa.RecordBatch, ids: np.ndarray) -> tuple[pa.RecordBatch, np.ndarray, list[Malformed]]:
        """Text columns to typed columns; rows with bad UTF-8 or values outside ``schema`` become malformed."""
        keep = np.ones(batch.num_rows, np.bool_)
        bad: list[Malformed] = []
        for j, col in enumerate(batch.columns):
            try:
                col.validate(full=True)
            except pa.ArrowInvalid:
                for i, v in enumerate(col.cast(pa.binary()).to_pylist()):
                    if keep[i] and v is not None and not _is_utf8(v):
                        keep[i] = False
                        bad.append(
                            Malformed(
                                int(ids[i]),
                                "UnicodeDecodeError",
                                f"column `{batch.schema.names[j]}`: text is not valid UTF-8",
                                None,
                                v,
                            )
                        )
        if not keep.all():
            batch = batch.filter(pa.array(keep))
            ids = ids[keep]
        if self.src.schema is not None:
            batch, ids, wrong = apply_schema(batch, ids, self.src.schema)
            return batch, ids, bad + wrong
        cols = [infer_column(c) for c in batch.columns]
        return pa.RecordBatch.from_arrays(cols, names=batch.schema.names), ids, bad


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
