"""Slabs: the memory of dead results is reused, within bounds, and never while a view lives."""

from __future__ import annotations

import gc

import numpy as np
import pyarrow as pa

from streamkit._memory import ALIGN, IDLE_SECONDS, Slabs


def test_memory_comes_back_only_when_every_view_and_arrow_buffer_is_gone() -> None:
    pool = Slabs(limit=1 << 30)
    slab = pool.take(1 << 20)
    size = slab.nbytes
    a = slab.carve(1000, np.int64)
    b = slab.carve(10, np.float64)
    slab.done()
    del slab
    a[:] = np.arange(1000)
    arrow = pa.Array.from_buffers(pa.int64(), 1000, [None, pa.py_buffer(a)])
    del a
    gc.collect()
    assert pool.idle_bytes == 0  # b and the Arrow array still hold it
    del b
    gc.collect()
    assert pool.idle_bytes == 0
    assert arrow.to_pylist()[:3] == [0, 1, 2]
    del arrow
    gc.collect()
    assert pool.idle_bytes == size


def test_views_are_aligned_and_disjoint() -> None:
    pool = Slabs(limit=1 << 30)
    slab = pool.take(10_000)
    views = [slab.carve(n, np.int64) for n in (1, 3, 7, 100)]
    slab.done()
    for v in views:
        assert v.ctypes.data % ALIGN == 0
        v[:] = len(v)
    assert [int(v[0]) for v in views] == [1, 3, 7, 100]
    over = Slabs(limit=1 << 30).take(64)
    assert over.carve(1000, np.int64).shape == (1000,)  # more than the slab holds: fresh memory


def test_a_freed_slab_is_reused_for_a_similar_size() -> None:
    pool = Slabs(limit=1 << 30)
    s = pool.take(1 << 20)
    address = np.asarray(s).ctypes.data
    arr = s.carve(100, np.uint8)
    s.done()
    del s, arr
    gc.collect()
    again = pool.take((1 << 20) - 50_000)  # within a quarter: the same memory
    assert np.asarray(again).ctypes.data == address
    assert pool.idle_bytes == 0


def test_the_limit_and_release_give_memory_back() -> None:
    pool = Slabs(limit=3 << 20)
    slabs = [pool.take(900_000) for _ in range(5)]
    size = slabs[0].nbytes
    for s in slabs:
        s.done()
    del slabs, s
    gc.collect()
    assert pool.idle_bytes == 3 * size  # the two oldest went back
    assert pool.release() == 3 * size
    assert pool.idle_bytes == 0


def test_memory_freed_long_after_the_last_run_is_not_kept() -> None:
    pool = Slabs(limit=1 << 30)
    s = pool.take(1 << 20)
    s.done()
    pool.last_take -= 2 * IDLE_SECONDS
    del s
    gc.collect()
    assert pool.idle_bytes == 0


def test_no_pool_when_the_limit_is_zero() -> None:
    pool = Slabs(limit=0)
    a = pool.empty(1 << 20, np.uint8)
    assert a.base is None or not hasattr(a.base, "carve")
