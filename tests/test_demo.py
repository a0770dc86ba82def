"""``make demo`` runs ``examples/demo.py``: it must run to the end and print what it says it prints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_runs_to_the_end() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py"), "20_000"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout
    assert "total records :       20,000" in text
    assert "records/s" in text and "worker thread(s), default settings" in text
    assert "network 'main'" in text  # fsm.explain()
    assert "JSONL -> JSONL" in text and "malformed lines" in text
    assert "status counts (from the run's status index)" in text
