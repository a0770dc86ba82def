"""Byte buffers kept for reuse between chunks (:class:`BufferPool`).

Writing into memory the process already touched is ~2x faster than into fresh
pages (each first touch is a page fault; DESIGN.md §10), and reusing a few
buffers keeps a long stream's memory flat instead of leaving holes in the heap.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ("BufferPool",)


class BufferPool:
    """uint8 buffers kept for reuse; thread-safe.

    At most ``keep`` idle buffers are kept; a buffer given back beyond that is
    dropped (the smallest goes). Buffers in use are not counted: a stream with
    more chunks in flight takes new ones, and keeps ``keep`` of them when it
    slows down.

    Examples
    --------
    >>> pool = BufferPool(keep=1)
    >>> a = pool.take(100)
    >>> pool.give(a[:10])  # a view gives back the whole buffer
    >>> pool.take(50) is a
    True
    """

    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self._free: list[np.ndarray] = []
        self._lock = threading.Lock()

    def take(self, size: int) -> np.ndarray:
        """A uint8 buffer of at least ``size`` bytes (the smallest kept one that fits, or a new one)."""
        with self._lock:
            fits = [k for k, b in enumerate(self._free) if len(b) >= size]
            if fits:
                return self._free.pop(min(fits, key=lambda k: len(self._free[k])))
        return np.empty(size + (size >> 3), np.uint8)  # room to grow a little

    def give(self, arr: np.ndarray) -> None:
        """Give back a buffer (or a view of one) returned by :meth:`take`."""
        buf = arr if arr.base is None else arr.base
        if not isinstance(buf, np.ndarray):
            return
        with self._lock:
            if any(b is buf for b in self._free):
                return
            self._free.append(buf)
            if len(self._free) > self.keep:
                self._free.pop(min(range(len(self._free)), key=lambda k: len(self._free[k])))
