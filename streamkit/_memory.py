"""Memory for the arrays a run keeps, reused once they die: :class:`Slabs`.

Writing into a page the process has not touched yet costs a page fault and the
kernel zeroing the page: ~0.4-0.5 ns a byte on this machine, several times what a
kernel's own writes cost (the seed network's kernel runs at 3.6 ns a row into
memory it wrote before, 28 ns into fresh memory; DESIGN.md §10). The outputs a
result keeps cannot be reused while it lives, but once it is gone their memory
comes back here instead of to the allocator, and the next run writes its
outputs into pages that are already there.

A :class:`Slab` is one allocation handed out as views (:meth:`Slab.carve`); it
comes back when its last view, and every Arrow buffer over one, has died. At
most ``limit`` bytes of idle slabs are kept (``STREAMKIT_SLAB_MB``, default 512);
beyond that, and after a minute unused, the oldest go back to the allocator.
:func:`release_memory` gives them all back at once; ``STREAMKIT_NO_SLABS=1``
keeps none (every slab is fresh memory).
"""

from __future__ import annotations

import collections
import os
import threading
import time
from typing import Any

import numpy as np

__all__ = ("Slab", "Slabs", "SLABS", "release_memory")

#: Views are carved at multiples of this many bytes (a cache line).
ALIGN = 64
#: Slabs are sized in multiples of this, so that sizes that differ a little reuse each other.
GRANULE = 64 * 1024
#: Idle slabs unused for this long go back to the allocator at the next take.
IDLE_SECONDS = 60.0


def _env_limit() -> int:
    if os.environ.get("STREAMKIT_NO_SLABS"):
        return 0
    try:
        return int(float(os.environ.get("STREAMKIT_SLAB_MB", "512")) * (1 << 20))
    except ValueError:
        return 512 << 20


class Slab:
    """One allocation, handed out as aligned views; its memory goes back to its pool when all of them die.

    Examples
    --------
    >>> pool = Slabs(limit=1 << 20)
    >>> s = pool.take(1000)
    >>> a, b = s.carve(10, np.int64), s.carve(3, np.bool_)
    >>> a.nbytes, b.nbytes, pool.idle_bytes
    (80, 3, 0)
    >>> s.done()
    >>> del s, a, b  # the last view gone: the memory is idle in the pool
    >>> pool.idle_bytes
    65536
    """

    __slots__ = ("__array_interface__", "_buf", "_pool", "_used", "_view")

    def __init__(self, buf: np.ndarray, pool: Slabs) -> None:
        self._buf = buf
        self._pool = pool
        self._used = 0
        self.__array_interface__ = {
            "data": (buf.ctypes.data, False),
            "shape": (len(buf),),
            "typestr": "|u1",
            "version": 3,
        }
        # a view whose base is this object: every carved array keeps it alive
        self._view: np.ndarray | None = np.asarray(self)

    @property
    def nbytes(self) -> int:
        """Bytes in the slab."""
        return len(self._buf)

    def carve(self, n: int, dtype: Any) -> np.ndarray:
        """An uninitialised array of ``n`` items of ``dtype`` from the slab (a fresh allocation when it is full)."""
        dt = np.dtype(dtype)
        size = n * dt.itemsize
        start = self._used
        if self._view is None or start + size > len(self._buf):
            return np.empty(n, dt)
        self._used = start + -(-size // ALIGN) * ALIGN
        return self._view[start : start + size].view(dt)

    def done(self) -> None:
        """No more carving: the slab's own reference to its memory goes, so only the views keep it."""
        self._view = None

    def __del__(self) -> None:
        pool = self._pool
        if pool is not None:
            pool._given.append(self._buf)


class Slabs:
    """A pool of memory for arrays that outlive a chunk (see the module docstring); thread-safe."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = _env_limit() if limit is None else limit
        self._idle: list[tuple[float, np.ndarray]] = []
        self._given: collections.deque[np.ndarray] = collections.deque()  # appended from __del__, any thread
        self._lock = threading.Lock()

    @property
    def idle_bytes(self) -> int:
        """Bytes kept for reuse now."""
        with self._lock:
            self._drain()
            return sum(len(b) for _, b in self._idle)

    def take(self, nbytes: int) -> Slab:
        """A slab of at least ``nbytes`` bytes: idle memory of about that size if there is some, else new."""
        size = max(-(-nbytes // GRANULE) * GRANULE, GRANULE)
        buf = None
        with self._lock:
            self._drain()
            now = time.monotonic()
            self._idle = [(t, b) for t, b in self._idle if now - t < IDLE_SECONDS]
            best = -1
            for k, (_, b) in enumerate(self._idle):
                if size <= len(b) <= size + (size >> 2) and (best < 0 or len(b) < len(self._idle[best][1])):
                    best = k
            if best >= 0:
                buf = self._idle.pop(best)[1]
        if buf is None:
            buf = np.empty(size, np.uint8)
        return Slab(buf, self)

    def release(self) -> int:
        """Give every idle slab back to the allocator; the bytes given back."""
        with self._lock:
            self._drain()
            freed = sum(len(b) for _, b in self._idle)
            self._idle = []
        return freed

    def _drain(self) -> None:
        """Move slabs given back (by ``Slab.__del__``) to the idle list, keeping at most ``limit`` bytes."""
        now = time.monotonic()
        while self._given:
            self._idle.append((now, self._given.popleft()))
        total = sum(len(b) for _, b in self._idle)
        while self._idle and total > self.limit:
            total -= len(self._idle.pop(0)[1])  # the oldest first


#: The process's pool (an object like any other: nothing is set up at import).
SLABS = Slabs()


def release_memory() -> int:
    """Give the memory streamkit keeps for reuse back to the allocator; the bytes given back.

    Examples
    --------
    >>> release_memory() >= 0
    True
    """
    return SLABS.release()
