"""The streaming report measures each job's own peak memory, not its parent's."""

from __future__ import annotations

import sys

from benchmarks.stream_report import run_one
from benchmarks.stream_runner import RESULT_MARKER, peak_rss_mb

CHILD = (
    "import json\n"
    "from benchmarks.stream_runner import RESULT_MARKER, peak_rss_mb\n"
    "block = bytearray(64 << 20)\n"
    "block[::4096] = b'x' * len(block[::4096])\n"
    "print(RESULT_MARKER + json.dumps({'peak_rss_mb': peak_rss_mb()}))\n"
)


def test_peak_rss_is_the_process_own_high_water_mark() -> None:
    before = peak_rss_mb()
    assert before is not None
    block = bytearray(32 << 20)
    block[::4096] = b"x" * len(block[::4096])
    after = peak_rss_mb()
    assert after is not None
    assert after >= before
    assert after >= 32


def test_a_child_run_does_not_count_the_parent_memory() -> None:
    held = bytearray(400 << 20)  # resident in this process while the child is forked
    held[::4096] = b"x" * len(held[::4096])
    rc, rss_mb, _, _, result, stderr = run_one([sys.executable, "-c", CHILD], timeout=120)
    assert rc == 0, stderr
    assert RESULT_MARKER not in stderr
    assert result["peak_rss_mb"] == rss_mb
    assert 64 <= rss_mb < 300, rss_mb  # ~64 MB block + interpreter; ru_maxrss would say >= 400
    del held
