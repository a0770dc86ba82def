"""examples/seed000_executor.py: seed 000's notebook, after the import rewrite, does what the seed says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def printed() -> str:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "seed000_executor.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # this checkout's streamkit, not an installed one
    )
    assert not out.stderr
    return out.stdout


def _section(printed: str, start: str, end: str) -> str:
    return printed[printed.index(start) : printed.index(end, printed.index(start))]


def test_flow_basics_and_the_status_enum(printed: str) -> None:
    assert "  items: <class 'streamkit.executor.flow.Items'> (stores events)" in printed
    assert "  Items in pile: 3\n  Progressions: 0\n" in printed
    values = _section(printed, "EventStatus values:", "New event status")
    assert values.split()[2:] == ["pending", "processing", "completed", "failed", "skipped", "cancelled", "aborted"]
    assert "New event status: pending (pending)\nAfter invoke: completed (completed)\n" in printed


def test_one_progression_per_status(printed: str) -> None:
    for status in ("pending", "processing", "completed", "failed", "skipped", "cancelled", "aborted"):
        assert f"  {status}: 0 events\n" in printed
    assert "EventStatus count: 7\nProgression count: 7\n1:1 mapping: True\nNames match: True\n" in printed


def test_progressions_follow_the_events(printed: str) -> None:
    assert "  Event status: pending\n  Pending progression: 2 events\n  Event in pending: True\n" in printed
    assert (
        "  Event status: completed\n  Completed progression: 2 events\n"
        "  Event in completed: True\n  Event in pending: False\n"
    ) in printed
    assert "Event in 1 progression(s) (should be 1)" in printed
    assert "  ✓ high_priority\n  ✓ api_calls\n  ✓ team_a\n" in printed


def test_querying_patterns(printed: str) -> None:
    # 10 events, queue_capacity 5: one forward() runs 5 of them
    assert "Pattern 1 - All completed: 5 events" in printed
    assert (
        "Pattern 2 - Status counts: {'pending': 5, 'processing': 0, 'completed': 5, 'failed': 0,"
        " 'skipped': 0, 'cancelled': 0, 'aborted': 0}"
    ) in printed
    assert "Pattern 3 - Pending events: 5" in printed
    assert "Pattern 4 - Fast completed: 5 events" in printed
    assert "Pattern 5 - Event in completed: True" in printed


def test_the_status_index_beats_the_scan(printed: str) -> None:
    assert "Status: {'pending': 900, 'processing': 0, 'completed': 100," in printed
    speedup = float(re.search(r"Speedup: ([\d.]+)x faster", printed).group(1))  # type: ignore[union-attr]
    assert speedup > 1  # "O(1) ... faster" than the O(n) scan; the measured figure is the benchmark's


def test_serialization(printed: str) -> None:
    assert "Executor state: SimpleExecutor(name='audit_exec', total=8, pending=3, completed=5)" in printed
    assert "  Flow name: audit_exec\n  Items: 8 events\n  Progressions: 7\n" in printed
    assert "    pending: 3 events\n    completed: 5 events\n" in printed


def test_the_transition_log_sees_the_final_transition(printed: str) -> None:
    log = _section(printed, "Pattern 1 - Transition log:", "Pattern 2")
    assert log.count("pending → processing") == 3
    assert log.count("processing → completed") == 3


def test_cleanup_and_routing(printed: str) -> None:
    assert "Before cleanup: SimpleExecutor(name='executor_states', total=10, pending=5, completed=5)" in printed
    assert "Cleaned up 5 completed events" in printed
    assert "After cleanup: SimpleExecutor(name='executor_states', total=5, pending=5)" in printed
    assert "Routed to 2 destinations" in printed


def test_the_restore_keeps_the_failed_event(printed: str) -> None:
    restore = printed[printed.index("Restore:") :]
    assert "  Restored flow: flaky, 6 events" in restore
    assert "    completed: 4 events, statuses ['completed']" in restore
    assert "    failed: 1 events, statuses ['failed']" in restore
    failed = "  Failed event: flaky_3, status <EventStatus.FAILED: 'failed'>, error RuntimeError('flaky_3 failed')"
    assert failed in restore
    assert "  Round trip keeps every event and status: True" in restore
