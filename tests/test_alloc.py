"""Allocator settings a stream makes (streamkit/_alloc.py): values and their undoing."""

from __future__ import annotations

from unittest import mock

import pyarrow as pa

import streamkit._alloc as alloc
from streamkit import SimpleFSM


def test_stream_thresholds_follow_the_budget_and_the_chunk_size() -> None:
    calls: list[list[tuple[int, int]]] = []
    with mock.patch.object(alloc, "_mallopt", side_effect=lambda s: calls.append(s) or True):
        alloc.stream_thresholds(256 << 20, 65_536)
        alloc.stream_thresholds(16 << 30, 4_000_000)
        alloc.stream_thresholds(1 << 20, 10)
    mmap, trim = alloc._M_MMAP_THRESHOLD, alloc._M_TRIM_THRESHOLD
    assert [dict(c) for c in calls] == [
        {mmap: 4 << 20, trim: 16 << 20},  # 1/16 of 256 MB; a 64k chunk's columns fit under 4 MiB
        {mmap: 32 << 20, trim: 64 << 20},  # both at their ceilings
        {mmap: 4 << 20, trim: 8 << 20},  # and floors
    ]


def test_a_stream_sets_them_and_puts_the_defaults_back() -> None:
    fsm = SimpleFSM({"networks": [{"name": "m", "states": [
        {"name": "a", "is_start": True}, {"name": "b", "is_end": True}], "arcs": [{"from": "a", "to": "b"}]}]})
    seen: list[str] = []
    with mock.patch("streamkit.engine.runner.stream_thresholds", side_effect=lambda b, c: seen.append(f"set {b} {c}") or True), \
            mock.patch("streamkit.engine.runner.default_thresholds", side_effect=lambda: seen.append("reset") or True):
        r = fsm.process_stream(pa.table({"x": [1, 2, 3]}), memory_limit_mb=64, chunk_size=2)
    assert r.total_records == 3
    assert seen == [f"set {64 << 20} 2", "reset"]
