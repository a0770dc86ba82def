"""examples/seed003_events.py: seed 003's own code, after the import rewrite, does what the seed says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def printed() -> str:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "seed003_events.py")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=ROOT,
    )
    return out.stdout


def test_quick_start_registers_users_with_an_email(printed: str) -> None:
    assert "quick start: {'done': 1, 'failed': 1}" in printed
    assert "done: email='ada@example.com', user_id='u983', status='registered'" in printed
    assert "failed: email=None, user_id=None, status=None, result='Email is required'" in printed


def test_every_executor_processes_every_record(printed: str) -> None:
    for line in (
        "SimpleEvent (DefaultExecutor): {'done': 3, 'failed': 0}",
        "ConcurrentEvent (ThreadPoolExecutor): {'done': 3, 'failed': 0}",
        "CPUIntensiveEvent (ProcessPoolExecutor): {'done': 3, 'failed': 0}",
        "ConfiguredEvent (ThreadPoolExecutor): {'done': 3, 'failed': 0}",
        "done: data=2, result='Processed: 2'",
    ):
        assert line in printed


def test_retries_goto_bypass_stop_and_groups(printed: str) -> None:
    assert "retries: {'event': 2}, GET calls 3" in printed  # 3 attempts: 2 retries
    assert "parallel group (evaluation from the first event): {'done': 1, 'failed': 0}" in printed
    assert "stopped_by={'state': 'event', 'row': 3, 'reason': 'stop_on_error: Something went wrong'}" in printed
    assert "cancelled=4" in printed
    assert "goto: {'done': 1, 'failed': 0, 'premium': 1}" in printed
    assert "done: user_role='admin', bypass_reason='Admin users skip validation'" in printed
    assert "done: user_role=None, bypass_reason='Maintenance mode active'" in printed


def test_the_e_commerce_pipeline(printed: str) -> None:
    assert "e-commerce: {'done': 2, 'rejected': 1}" in printed
    assert "done: order_id=3, payment_result='paid 13.00', result='Confirmation sent'" in printed
    assert "rejected: order_id=2, payment_result=None, result='Order has no items'" in printed
    assert "e-commerce: retries {'pay': 1}, confirmations [('a@shop.test', 1), ('c@shop.test', 3)]" in printed
