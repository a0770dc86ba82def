"""Cut a byte stream into blocks of whole lines, a fixed number of non-blank lines each.

The stream is read in large blocks; newlines are found with numpy, so memory holds
one block of lines plus one read, whatever the size of the file. Line numbers are
1-based and count every line (blank ones too), so messages point at the file as an
editor shows it. ``\\r\\n`` endings are handled; a last line without a newline is a
line; a UTF-8 byte order mark at the start of the stream is dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ("LineBlock", "iter_line_blocks", "READ_SIZE")

#: Bytes read from the stream at a time.
READ_SIZE = 1 << 23

_WS = np.zeros(256, np.bool_)
_WS[[9, 10, 11, 12, 13, 32]] = True
_BOM = b"\xef\xbb\xbf"


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
    buf = bytearray()
    nl = np.empty(0, np.int64)  # positions of b"\n" in buf
    line0 = 1  # line number of the first line in buf
    first = True
    eof = False
    while True:
        if len(nl) >= n or eof:
            tail = eof and len(buf) > (int(nl[-1]) + 1 if len(nl) else 0)
            ends_nl = np.append(nl, len(buf)) if tail else nl
            block = _cut(buf, ends_nl, n, line0, final=eof)
            if block is not None:
                k = len(block.data)
                yield block
                used = int(np.searchsorted(ends_nl, k - 1, side="right")) if k else 0
                del buf[:k]
                nl = nl[used:] - k
                line0 += used
                continue
            if eof:
                return
        data = stream.read(read_size)
        if first and data:
            first = False
            data = data[3:] if data.startswith(_BOM) else data
        if not data:
            eof = True
            continue
        found = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
        nl = np.concatenate([nl, found + len(buf)])
        buf += data


def _cut(buf: bytearray, ends_nl: np.ndarray, n: int, line0: int, *, final: bool) -> LineBlock | None:
    """The block of the first ``n`` non-blank lines (fewer only when ``final``), or ``None`` if there are not enough."""
    m = min(len(ends_nl), n)
    while True:
        starts, ends, nonblank = _spans(buf, ends_nl[:m])
        idx = np.flatnonzero(nonblank)
        if len(idx) >= n or (m == len(ends_nl) and final and len(idx)):
            take = idx[:n]
            k = int(take[-1])
            cut = min(int(ends_nl[k]) + 1, len(buf))
            with memoryview(buf) as view:
                data = bytes(view[:cut])
            return LineBlock(data, starts[take], ends[take], take + line0)
        if m == len(ends_nl):
            return None
        m = min(len(ends_nl), m + 2 * (n - len(idx)) + 64)


def _spans(buf: bytearray, ends_nl: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end (without ``\\r``) and non-blankness of each line ending at ``ends_nl``."""
    arr = np.frombuffer(buf, np.uint8)
    try:
        starts = np.empty(len(ends_nl), np.int64)
        starts[:1] = 0
        starts[1:] = ends_nl[:-1] + 1
        ends = ends_nl.copy()
        has = ends > starts
        last = np.minimum(np.maximum(ends - 1, 0), max(len(arr) - 1, 0))
        if len(arr):
            ends -= has & (arr[last] == 13)
        length = ends - starts
        head = arr[np.minimum(starts, max(len(arr) - 1, 0))] if len(arr) else np.zeros(len(starts), np.uint8)
        nonblank = (length > 0) & ~_WS[head]
        for j in np.flatnonzero((length > 0) & _WS[head]):  # leading whitespace: look at the whole line
            nonblank[j] = bool(bytes(buf[starts[j]:ends[j]]).strip())
        return starts, ends, nonblank
    finally:
        del arr
