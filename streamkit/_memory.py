"""Memory for the arrays a run keeps, reused once they die: :class:`Slabs`.

Writing into a page the process has not touched yet costs a page fault and the
kernel zeroing the page: ~0.4-0.5 ns a byte on this machine, several times what a
kernel's own writes cost (the seed network's kernel runs at 3.6 ns a row into
memory it wrote before, 28 ns into fresh memory; DESIGN.md §10). The outputs a
result keeps cannot be reused while it lives, but once it is gone their memory
comes back here instead of to the allocator, and the next run writes its
outputs into pages that are already there.

A :class:`Slab` is one allocation handed out as views (:meth:`Slab.carve`); it
comes back when its last view, and every Arrow buffer over one, has died, if a
run took a slab in the last minute (memory freed later goes back to the
allocator at once). At most ``limit`` bytes of idle slabs are kept
(``STREAMKIT_SLAB_MB``, default 512), the oldest going first; idle slabs are
held until the next run takes memory (those idle for a minute are dropped then)
or :func:`release_memory` gives them all back. ``STREAMKIT_NO_SLABS=1`` keeps
none (every slab is fresh memory).

Fresh slabs come from ``np.empty`` (4 KiB pages). Mapping them as huge pages
(``MADV_HUGEPAGE``) was measured and left out: on this machine, a virtual
machine whose host backs guest memory when it is first touched, a first
``process()`` of 2M seed records took 106 ms (median of 8 processes) with huge
pages against 67 ms without, and a chunk's kernel 2-40 ms instead of 5-6.
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
#: Slabs are sized in whole pages.
GRANULE = 4096
#: Arrays smaller than this come from ``np.empty`` (malloc's heap reuses them well enough).
MIN_BYTES = 256 * 1024
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
    4096
    """

    __slots__ = ("__array_interface__", "_buf", "_pool", "_used", "_view")

    def __init__(self, buf: np.ndarray, pool: Slabs) -> None:
        self._buf = buf
        self._pool = pool
        self._used = -buf.ctypes.data % ALIGN  # the first view starts on a cache line
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
        # kept only if a slab was taken lately: memory freed long after the last run goes back at once
        if pool is not None and time.monotonic() - pool.last_take < IDLE_SECONDS:
            pool._given.append(self._buf)


class Slabs:
    """A pool of memory for arrays that outlive a chunk (see the module docstring); thread-safe."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = _env_limit() if limit is None else limit
        self._idle: dict[int, collections.deque[tuple[float, np.ndarray]]] = {}  # by size, oldest first
        self._idle_bytes = 0
        self._given: collections.deque[np.ndarray] = collections.deque()  # appended from __del__, any thread
        self._lock = threading.Lock()
        #: When a slab was last taken (``time.monotonic()``).
        self.last_take = -IDLE_SECONDS

    @property
    def idle_bytes(self) -> int:
        """Bytes kept for reuse now."""
        with self._lock:
            self._drain()
            return self._idle_bytes

    def take(self, nbytes: int) -> Slab:
        """A slab of at least ``nbytes`` bytes: idle memory of about that size if there is some, else new."""
        size = max(-(-(nbytes + ALIGN) // GRANULE) * GRANULE, GRANULE)  # room to align the first view
        self.last_take = time.monotonic()
        buf = None
        if self.limit:
            with self._lock:
                self._drain()
                buf = self._reuse(size)
        if buf is None:
            buf = np.empty(size, np.uint8)
        return Slab(buf, self)

    def empty(self, n: int, dtype: Any) -> np.ndarray:
        """An uninitialised array that a result keeps: from a slab of its own if it is large, else ``np.empty``."""
        dt = np.dtype(dtype)
        if n * dt.itemsize < MIN_BYTES or not self.limit:
            return np.empty(n, dt)
        slab = self.take(n * dt.itemsize)
        out = slab.carve(n, dt)
        slab.done()
        return out

    def release(self) -> int:
        """Give every idle slab back to the allocator; the bytes given back."""
        with self._lock:
            self._drain()
            freed = self._idle_bytes
            self._idle = {}
            self._idle_bytes = 0
        return freed

    def _reuse(self, size: int) -> np.ndarray | None:
        """An idle buffer of ``size`` to ``size * 1.25`` bytes (the smallest), or ``None``."""
        fits = [k for k in self._idle if size <= k <= size + (size >> 2)]
        if not fits:
            return None
        k = min(fits)
        bucket = self._idle[k]
        buf = bucket.pop()[1]  # the most recently used: likeliest still in cache
        if not bucket:
            del self._idle[k]
        self._idle_bytes -= k
        return buf

    def _drain(self) -> None:
        """File slabs given back (by ``Slab.__del__``) as idle; drop the oldest beyond ``limit`` or a minute idle."""
        now = time.monotonic()
        while self._given:
            buf = self._given.popleft()
            self._idle.setdefault(len(buf), collections.deque()).append((now, buf))
            self._idle_bytes += len(buf)
        while self._idle:
            k = min(self._idle, key=lambda size: self._idle[size][0][0])
            t = self._idle[k][0][0]
            if self._idle_bytes <= self.limit and now - t < IDLE_SECONDS:
                break
            self._idle[k].popleft()
            if not self._idle[k]:
                del self._idle[k]
            self._idle_bytes -= k


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
