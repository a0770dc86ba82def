"""Cut a byte stream into blocks of whole lines, a fixed number of non-blank lines each.

The stream is read in large blocks and scanned once by a numba kernel
(:func:`kernels.lines.scan_lines`), so memory holds one block of lines plus one
read, whatever the size of the file. Line numbers are
1-based and count every line (blank ones too), so messages point at the file as an
editor shows it. ``\\r\\n`` endings are handled; a last line without a newline is a
line; a UTF-8 byte order mark at the start of the stream is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from kernels.lines import scan_lines

__all__ = ("LineBlock", "iter_line_blocks", "READ_SIZE")

#: Bytes read from the stream at a time.
READ_SIZE = 1 << 23

_BOM = b"\xef\xbb\xbf"
#: Line spans held at first; more are made room for as a block's lines are found.
_FIRST_CAPACITY = 1 << 16


@dataclass(eq=False)
class LineBlock:
    """Whole lines of a stream: ``data`` and, per non-blank line, its span and line number.

    ``starts`` / ``ends`` are offsets into ``data`` (``ends`` exclude ``\\n`` and ``\\r``);
    ``lines`` are 1-based line numbers. Blank (whitespace-only) lines are in ``data``
    but have no entry.
    """

    data: bytes
    starts: np.ndarray
    ends: np.ndarray
    lines: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)

    def line(self, k: int) -> bytes:
        """The text of the ``k``-th non-blank line."""
        return self.data[self.starts[k]:self.ends[k]]

    @property
    def max_line_length(self) -> int:
        """Bytes in the longest line."""
        return int((self.ends - self.starts).max()) if len(self.starts) else 0


def iter_line_blocks(stream: Any, n: int, *, read_size: int = READ_SIZE) -> Iterator[LineBlock]:
    """Blocks of exactly ``n`` non-blank lines (the last one may hold fewer; none if the stream has none).

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
    buf = bytearray()
    cap = min(n, _FIRST_CAPACITY)  # span arrays grow as lines are found (``n`` may be "all of them")
    starts = np.empty(cap, np.int64)
    ends = np.empty(cap, np.int64)
    lines = np.empty(cap, np.int64)
    found = pos = lineno = 0  # scan state: lines found, bytes scanned, lines consumed (blank ones too)
    first = True
    eof = False
    while True:
        if not first:  # nothing is scanned before a byte order mark is known to be there or not
            arr = np.frombuffer(buf, np.uint8)
            found, pos, lineno = scan_lines(arr, pos, eof, starts, ends, lines, found, lineno)
            del arr  # a bytearray with a live export cannot be resized
            if found == len(starts) < n:  # full: grow the span arrays and scan on
                cap = min(n, 2 * len(starts))
                starts, ends, lines = (np.concatenate([a, np.empty(cap - len(a), np.int64)])
                                       for a in (starts, ends, lines))
                continue
        if found == n or (eof and found):
            with memoryview(buf) as view:
                data = bytes(view[:pos])
            yield LineBlock(data, starts[:found].copy(), ends[:found].copy(), lines[:found].copy())
            del buf[:pos]
            found = pos = 0
            continue
        if eof:
            return
        data = stream.read(read_size)
        if data:
            buf += data
        else:
            eof = True
        if first and (len(buf) >= len(_BOM) or eof):  # the mark may come in more than one read
            first = False
            if buf.startswith(_BOM):
                del buf[:len(_BOM)]
