"""Cut a byte stream into blocks of whole lines, a fixed number of non-blank lines each.

The stream is read straight into the block's own buffer (``readinto``) and
scanned once by a numba kernel (:func:`kernels.lines.scan_lines`), so memory
holds the blocks not yet parsed plus one read, whatever the size of the file.
Block buffers come from a :class:`~streamkit.io._buffers.BufferPool`: a block
given back (:meth:`LineBlock.release`, once parsed) is read into again, so a long
stream neither page-faults fresh memory for every block nor copies it twice.
Line numbers are 1-based and count every line (blank ones too), so messages
point at the file as an editor shows it. ``\\r\\n`` endings are handled; a last
line without a newline is a line; a UTF-8 byte order mark at the start of the
stream is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from kernels.lines import scan_lines
from streamkit.io._buffers import BufferPool

__all__ = ("LineBlock", "iter_line_blocks", "READ_SIZE")

#: Bytes read from the stream at a time.
READ_SIZE = 1 << 18

_BOM = np.frombuffer(b"\xef\xbb\xbf", np.uint8)
#: Line spans held at first; more are made room for as a block's lines are found.
_FIRST_CAPACITY = 1 << 16
#: A block of fewer lines than this is given the room its first lines say it needs
#: (doubling from 512 KiB to a 17 MB block of 64k flights copied 16 MB and faulted in 32).
_ESTIMATE_LINES = 1 << 24
#: ... but no more than this at once.
_MAX_ESTIMATE = 256 << 20


@dataclass(eq=False)
class LineBlock:
    """Whole lines of a stream: ``data`` and, per non-blank line, its span and line number.

    ``data`` is a uint8 array (any buffer works); ``starts`` / ``ends`` are offsets
    into it (``ends`` exclude ``\\n`` and ``\\r``); ``lines`` are 1-based line
    numbers. Blank (whitespace-only) lines are in ``data`` but have no entry.
    """

    data: Any
    starts: np.ndarray
    ends: np.ndarray
    lines: np.ndarray
    pool: BufferPool | None = None

    def __len__(self) -> int:
        return len(self.starts)

    def line(self, k: int) -> bytes:
        """The text of the ``k``-th non-blank line."""
        return bytes(self.data[self.starts[k] : self.ends[k]])

    @property
    def max_line_length(self) -> int:
        """Bytes in the longest line."""
        return int((self.ends - self.starts).max()) if len(self.starts) else 0

    def release(self) -> None:
        """Give the buffer back to be read into again; the block is empty afterwards.

        Call it once nothing refers to ``data`` any more (parsers copy what they keep).
        """
        data, self.data = self.data, np.zeros(0, np.uint8)
        self.starts = self.ends = self.lines = np.zeros(0, np.int64)
        if self.pool is not None and isinstance(data, np.ndarray):
            self.pool.give(data)


def iter_line_blocks(
    stream: Any,
    n: int,
    *,
    read_size: int = READ_SIZE,
    pool: BufferPool | None = None,
    first_line: int = 0,
    at_start: bool = True,
) -> Iterator[LineBlock]:
    """Blocks of exactly ``n`` non-blank lines (the last one may hold fewer; none if the stream has none).

    ``pool``: where block buffers come from and go back to (when blocks are
    released); a private one otherwise. A stream that starts part-way through a
    file (a resumed stream) gives ``first_line``, the lines before it, and
    ``at_start=False`` (no byte order mark is looked for). A block's ``data``
    ends just after its last line's newline, so the bytes of the blocks add up
    to the bytes read, and its last line number is the lines read.

    Examples
    --------
    >>> import io
    >>> blocks = list(iter_line_blocks(io.BytesIO(b'a\\n\\n b\\r\\nc\\n  \\nd'), 2, read_size=3))
    >>> [[b.line(k) for k in range(len(b))] for b in blocks], [b.lines.tolist() for b in blocks]
    ([[b'a', b' b'], [b'c', b'd']], [[1, 3], [4, 6]])
    """
    if n < 1:
        msg = f"`n` must be at least 1, got {n}"
        raise ValueError(msg)
    if read_size < 1:
        msg = f"`read_size` must be at least 1, got {read_size}"
        raise ValueError(msg)
    pool = pool if pool is not None else BufferPool()
    cap = min(n, _FIRST_CAPACITY)  # span arrays grow as lines are found (``n`` may be "all of them")
    starts = np.empty(cap, np.int64)
    ends = np.empty(cap, np.int64)
    lines = np.empty(cap, np.int64)
    buf = pool.take(2 * read_size)
    fill = 0  # bytes of ``buf`` holding data
    found = pos = 0  # scan state: lines found, bytes scanned, lines consumed (blank ones too)
    lineno = first_line
    first = at_start
    eof = False
    readinto = getattr(stream, "readinto", None)
    while True:
        if not first:  # nothing is scanned before a byte order mark is known to be there or not
            found, pos, lineno = scan_lines(buf[:fill], pos, eof, starts, ends, lines, found, lineno)
            if found == len(starts) < n:  # full: grow the span arrays and scan on
                cap = min(n, 2 * len(starts))
                starts, ends, lines = (
                    np.concatenate([a, np.empty(cap - len(a), np.int64)]) for a in (starts, ends, lines)
                )
                continue
        if found == n or (eof and found):
            rest = fill - pos
            nxt = pool.take(pos + rest + read_size)  # the next block is likely about as long
            nxt[:rest] = buf[pos:fill]
            yield LineBlock(buf[:pos], starts[:found].copy(), ends[:found].copy(), lines[:found].copy(), pool)
            buf, fill = nxt, rest
            found = pos = 0
            continue
        if eof:
            return
        if fill + read_size > len(buf):  # a long block: move it to a larger buffer
            size = 2 * len(buf)
            if found and n < _ESTIMATE_LINES:  # as large as the lines so far say the block will be
                size = max(size, min(int(pos / found * n * 1.125) + 2 * read_size, _MAX_ESTIMATE))
            bigger = pool.take(size)
            bigger[:fill] = buf[:fill]
            pool.give(buf)
            buf = bigger
        got = _read_into(stream, readinto, buf[fill : fill + read_size])
        if got:
            fill += got
        else:
            eof = True
        if first and (fill >= len(_BOM) or eof):  # the mark may come in more than one read
            first = False
            if fill >= len(_BOM) and (buf[: len(_BOM)] == _BOM).all():
                buf[: fill - len(_BOM)] = buf[len(_BOM) : fill].copy()
                fill -= len(_BOM)


def _read_into(stream: Any, readinto: Any, view: np.ndarray) -> int:
    """Read up to ``len(view)`` bytes of ``stream`` into ``view``; 0 at the end."""
    if readinto is not None:
        got = readinto(view.data)
        return got or 0
    data = stream.read(len(view))
    view[: len(data)] = np.frombuffer(data, np.uint8)
    return len(data)
