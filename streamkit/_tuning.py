"""Process settings a run makes, as one owned, reference-counted context: :func:`process_tuning`.

Importing streamkit changes nothing in the process. While at least one run is
active (a stream, a ``process()`` call, a long-lived runtime that holds the
context for its whole life), the process is tuned for chunked work; when the
last one ends, exactly what was changed is put back. Runs that overlap in one
process share one tuning (the first one's), so no run undoes another's.

What is changed, and why (measured on this machine):

- **glibc malloc thresholds.** Kernels write each chunk's outputs into fresh
  arrays. With glibc's defaults (128 KiB), arrays above that are mapped fresh and
  unmapped when freed, and the heap top is trimmed, so the next chunk's arrays
  page-fault in again: that doubles a kernel's time (2.5x on the fused seed
  kernel). The mmap threshold becomes 16 bytes per chunk row (4-32 MiB) and the
  trim threshold 1/16 of the run's byte budget (8-64 MiB): peak RSS 380 MB
  instead of 405 MB on the 10M-record JSONL job at ``memory_limit_mb=256``, same
  speed. malloc is also held to two arenas: one heap per worker thread would each
  keep its own freed chunks (~100-150 MB more at 10M records). mallopt has no
  getter: on release the thresholds go back to glibc's defaults, or to the
  ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` / ``MALLOC_ARENA_MAX``
  values the process was started with.
- **Arrow's default memory pool** becomes jemalloc (unless
  ``ARROW_DEFAULT_MEMORY_POOL`` names one): returning freed pages after every few
  chunks made mimalloc fault them in again as zeroed huge pages (1.1 s of a 1M
  record JSONL stream in the kernel, 0.6 s with jemalloc). The previous pool is
  put back; buffers keep the pool they came from.
- **numpy's huge-page advice** is off: numpy asks for 2 MiB pages for every
  array of 4 MiB or more, and a chunk's failure and escape positions are such
  arrays written in a few places; each write then zeroes a whole huge page (the
  seed kernel's first run on 500k-record chunks took 54 ms a chunk instead of 4;
  a 2M-record ``process()`` in a fresh process 0.14 s instead of 0.12).
  ``STREAMKIT_NUMPY_HUGEPAGE=1`` leaves numpy's setting alone.
- **The cyclic garbage collector** skips the objects alive when the run started
  (imports, numba's typing tables: ~10^5 objects, ``gc.freeze``); they are
  unfrozen on release. A process that froze objects itself is left to manage
  its own freezing. The youngest generation is collected after 50,000
  allocations instead of 700 (the thresholds are put back on release): events
  and Python states make a few objects per record, and with the default a
  300k-record event state spent half its time in the collector (11.3 against
  4.2 µs a record over calling the event in a loop).

``STREAMKIT_NO_TUNING=1`` in the environment (read when a run starts) turns all
of it off; ``STREAMKIT_NO_MALLOPT=1`` leaves only the two allocators alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ("process_tuning", "refreeze", "thresholds_for", "is_tuned")

#: Allocations between collections of the youngest generation while a run holds the tuning.
_GC_YOUNG = 50_000

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
#: glibc's defaults (``mallopt(3)``).
_DEFAULT_THRESHOLD = 128 * 1024
_DEFAULT_ARENA_MAX = 0  # 0: glibc sizes the arena count from the number of cores


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return default


@functools.cache
def _libc() -> Any:
    """The C library, once (finding it runs ``ldconfig``: milliseconds)."""
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def _mallopt(settings: list[tuple[int, int]]) -> bool:
    """Apply glibc ``mallopt`` settings; whether every one was taken (never on other platforms)."""
    libc = _libc()
    if libc is None:
        return False
    try:
        return all([libc.mallopt(param, value) == 1 for param, value in settings])  # noqa: C419 - set every one
    except AttributeError:
        return False


def thresholds_for(memory_limit_bytes: int, chunk_size: int) -> tuple[int, int]:
    """``(mmap, trim)`` thresholds for a run: what malloc keeps scales with its byte budget and chunk size.

    Examples
    --------
    >>> [v >> 20 for v in thresholds_for(256 << 20, 65_536)]
    [4, 16]
    >>> [v >> 20 for v in thresholds_for(16 << 30, 4_000_000)], [v >> 20 for v in thresholds_for(1 << 20, 10)]
    ([32, 64], [4, 8])
    """
    trim = min(max(memory_limit_bytes // 16, 8 << 20), 64 << 20)
    mmap = min(max(16 * chunk_size, 4 << 20), 32 << 20)
    return mmap, trim


class _Tuning:
    """The process's one tuning: how many runs hold it, and what to put back when the last one lets go."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.mallopt = False  # thresholds and arenas were set: put glibc's values back
        self.pool: Any = None  # Arrow's pool before ours, to put back
        self.frozen = False
        self.gc_thresholds: tuple[int, int, int] | None = None  # the collector's thresholds before ours
        self.numpy_huge: bool | None = None  # numpy's huge-page advice before ours, to put back
        self.active = False

    def acquire(self, memory_limit_bytes: int, chunk_size: int) -> bool:
        with self.lock:
            self.holders += 1
            if self.holders > 1:
                return self.active
            if os.environ.get("STREAMKIT_NO_TUNING"):
                return False
            if not os.environ.get("STREAMKIT_NO_MALLOPT"):
                mmap, trim = thresholds_for(memory_limit_bytes, chunk_size)
                self.mallopt = _mallopt([(_M_ARENA_MAX, 2), (_M_MMAP_THRESHOLD, mmap), (_M_TRIM_THRESHOLD, trim)])
                self.pool = _jemalloc_pool()
            if gc.get_freeze_count() == 0:  # frozen by someone else: theirs to manage
                gc.freeze()
                self.frozen = True
            before = gc.get_threshold()
            if before[0] and before[0] < _GC_YOUNG:  # 0: collection turned off by the process, left so
                self.gc_thresholds = before
                gc.set_threshold(_GC_YOUNG, before[1], before[2])
            if not os.environ.get("STREAMKIT_NUMPY_HUGEPAGE"):
                self.numpy_huge = _numpy_hugepage(enabled=False)
            self.active = True
            return True

    def release(self) -> None:
        with self.lock:
            self.holders -= 1
            if self.holders:
                return
            if self.mallopt:
                _mallopt(
                    [
                        (_M_MMAP_THRESHOLD, _env_int("MALLOC_MMAP_THRESHOLD_", _DEFAULT_THRESHOLD)),
                        (_M_TRIM_THRESHOLD, _env_int("MALLOC_TRIM_THRESHOLD_", _DEFAULT_THRESHOLD)),
                        (_M_ARENA_MAX, _env_int("MALLOC_ARENA_MAX", _DEFAULT_ARENA_MAX)),
                    ]
                )
                self.mallopt = False
            if self.pool is not None:
                import pyarrow as pa

                pa.set_memory_pool(self.pool)
                self.pool = None
            if self.frozen:
                gc.unfreeze()
                self.frozen = False
            if self.gc_thresholds is not None:
                gc.set_threshold(*self.gc_thresholds)
                self.gc_thresholds = None
            if self.numpy_huge is not None:
                _numpy_hugepage(enabled=self.numpy_huge)
                self.numpy_huge = None
            self.active = False


def _numpy_hugepage(*, enabled: bool) -> bool | None:
    """Set whether numpy advises huge pages for its large arrays; the setting before (``None``: not settable)."""
    import numpy as np

    core = getattr(np, "_core", None) or getattr(np, "core", None)  # numpy 2, numpy 1
    setter = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if setter is None:
        return None
    return bool(setter(enabled))


def _jemalloc_pool() -> Any:
    """Make jemalloc Arrow's default pool; return the pool it replaced (``None`` if nothing changed)."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return None
    import pyarrow as pa

    before = pa.default_memory_pool()
    try:
        pool = pa.jemalloc_memory_pool()
    except (NotImplementedError, pa.ArrowException):  # a pyarrow built without jemalloc
        return None
    if before.backend_name == pool.backend_name:
        return None
    pa.set_memory_pool(pool)
    return before


_TUNING = _Tuning()


@contextmanager
def process_tuning(memory_limit_bytes: int = 512 << 20, chunk_size: int = 65_536) -> Iterator[bool]:
    """Hold the process's tuning for chunked work while the block runs (see the module).

    Nested and concurrent holders share one tuning; the last to leave puts back
    what the first changed. Yields whether the process is tuned (``False`` with
    ``STREAMKIT_NO_TUNING=1``).

    Examples
    --------
    >>> import gc
    >>> before = gc.get_freeze_count()
    >>> with process_tuning() as tuned:
    ...     is_tuned() == tuned
    True
    >>> is_tuned(), gc.get_freeze_count() == before
    (False, True)
    """
    tuned = _TUNING.acquire(memory_limit_bytes, chunk_size)
    try:
        yield tuned
    finally:
        _TUNING.release()


def is_tuned() -> bool:
    """Whether a run holds the process's tuning now."""
    return _TUNING.active


def refreeze() -> None:
    """Freeze what is alive now out of the cyclic collector too (kernels a run just loaded), if tuned."""
    with _TUNING.lock:
        if _TUNING.frozen:
            gc.freeze()
