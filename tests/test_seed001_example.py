"""examples/seed001_runtime.py: seed 001's complete example, after the import rewrite, prints what the seed says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_seeds_complete_example_prints_miss_hit_miss() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "seed001_runtime.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
    ).stdout.splitlines()
    assert out[:3] == [
        "[WorkerState] Cache MISS: test",
        "[WorkerState] Cache HIT: test",
        "[WorkerState] Cache MISS: other",
    ]
    assert out[3] == (
        "jobs: ['completed', 'completed', 'completed'], counts "
        "{'pending': 0, 'running': 0, 'completed': 3, 'failed': 0, 'cancelled': 0}"
    )
    assert out[4] == "job 2 data: {'processed_key': 'test', 'result': 'processed_test'}, trace: ['completed']"
    assert out[5] == "worker state: misses 2"
