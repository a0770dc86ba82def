"""Keep freed chunk buffers in the heap instead of returning them to the OS after every chunk.

Kernels write each chunk's outputs into fresh arrays. With glibc's default
thresholds, arrays above 128 KiB are mapped fresh and unmapped when freed, and
the top of the heap is trimmed, so the next chunk's arrays page-fault in again:
measured here, that doubles a kernel's time (2.5x on a fused seed kernel). Raising
the mmap threshold (32 MiB) and the trim threshold (64 MiB) keeps that memory for
reuse while a long stream still gives back what it no longer needs. A stream
also limits malloc to two arenas (:func:`limit_arenas`): one heap per worker
thread would each keep its own freed chunks (~100-150 MB more at 10M records);
while it runs, the thresholds follow its byte budget and chunk size
(:func:`stream_thresholds`).
Not done at import: next to polars' threads in one process it slows kernels.
Set ``STREAMKIT_NO_MALLOPT=1`` to leave the allocator alone.

Arrow's own buffers come from its default memory pool, mimalloc in the pyarrow
wheels. Returning its freed pages after every few chunks (to keep a stream's
memory flat) makes it fault them in again as zeroed huge pages: 15% of the CPU
samples of a 1M-record JSONL stream here, which spent ~1.1 s in the kernel with
mimalloc and ~0.6 s with jemalloc (whole process). A stream therefore switches
Arrow's default pool to jemalloc (:func:`arrow_pool`) unless
``ARROW_DEFAULT_MEMORY_POOL`` names one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

__all__ = ("tune_allocator", "limit_arenas", "arrow_pool", "stream_thresholds", "default_thresholds")

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_done = False


def _mallopt(settings: list[tuple[int, int]]) -> bool:
    """Apply glibc ``mallopt`` settings; whether every one was taken (never on other platforms)."""
    if os.environ.get("STREAMKIT_NO_MALLOPT") or not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        return all([libc.mallopt(param, value) == 1 for param, value in settings])
    except (OSError, AttributeError):
        return False


def tune_allocator() -> bool:
    """Set glibc's mmap and trim thresholds once per process; return whether it was done."""
    global _done  # noqa: PLW0603 - a once-per-process switch
    if not _done:
        _done = _mallopt([(_M_MMAP_THRESHOLD, 32 * 1024 * 1024), (_M_TRIM_THRESHOLD, 64 * 1024 * 1024)])
    return _done


def stream_thresholds(memory_limit_bytes: int, chunk_size: int) -> bool:
    """Thresholds for a stream: what malloc keeps free scales with the stream's byte budget.

    The trim threshold (free memory kept at the top of a heap) becomes 1/16 of the
    budget, between 8 and 64 MiB; the mmap threshold is 16 bytes per row of a chunk
    (two 8-byte columns), between 4 and 32 MiB, so a chunk's arrays are reused from
    the heap while larger buffers (JSON text, whole tables) are mapped and given
    back when freed. Measured on the 10M-record JSONL job with ``memory_limit_mb=256``:
    peak RSS 405 MB with the import-time thresholds (32 / 64 MiB), 380 MB with these
    (16 / 4 MiB), at the same speed. Returns whether they were set.
    """
    trim = min(max(memory_limit_bytes // 16, 8 << 20), 64 << 20)
    mmap = min(max(16 * chunk_size, 4 << 20), 32 << 20)
    return _mallopt([(_M_MMAP_THRESHOLD, mmap), (_M_TRIM_THRESHOLD, trim)])


def default_thresholds() -> bool:
    """Put back the thresholds :func:`tune_allocator` sets (after a stream)."""
    return _done and _mallopt([(_M_MMAP_THRESHOLD, 32 * 1024 * 1024), (_M_TRIM_THRESHOLD, 64 * 1024 * 1024)])


_arenas_limited = False


def limit_arenas(n: int = 2) -> bool:
    """Let malloc use at most ``n`` arenas from now on (once per process); return whether it is so."""
    global _arenas_limited  # noqa: PLW0603 - a once-per-process switch
    if not _arenas_limited:
        _arenas_limited = _mallopt([(_M_ARENA_MAX, n)])
    return _arenas_limited


_pool_chosen = False


def arrow_pool() -> str:
    """Make jemalloc Arrow's default memory pool (once per process, when available and not chosen by the user).

    Returns the name of the default pool's backend afterwards.
    """
    global _pool_chosen  # noqa: PLW0603 - a once-per-process switch
    import pyarrow as pa

    if not _pool_chosen:
        _pool_chosen = True
        if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL") and not os.environ.get("STREAMKIT_NO_MALLOPT"):
            try:
                pa.set_memory_pool(pa.jemalloc_memory_pool())
            except (NotImplementedError, pa.ArrowException):  # a pyarrow built without jemalloc
                pass
    return pa.default_memory_pool().backend_name
