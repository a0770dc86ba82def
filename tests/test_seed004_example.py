"""examples/seed004_submit.py: seed 004's patterns, after the import rewrite, log and print what the seed says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_seeds_patterns_run_as_printed() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "seed004_submit.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
    ).stdout.splitlines()
    line = re.compile(r"^(✅|❌) \[([\w/-]+)\] Run [0-9a-f]{8} finished with state: (\w+)$")
    finished = [m.groups() for m in map(line.match, out) if m]
    by_dep: dict[str, list[str]] = {}
    for icon, dep, state in finished:
        by_dep.setdefault(dep, []).append(state)
        assert (icon == "✅") == (state in ("Completed", "Cached"))
    assert by_dep["process-table-etl/deployment"] == ["Completed"] * 20
    assert sorted(by_dep["data-import/deployment"]) == ["Completed", "Completed", "Failed"]
    assert sorted(by_dep["extract/deployment"]) == ["Cached", "Completed", "Completed"]
    assert by_dep["etl/deployment"] == ["Completed"] * 20  # each run reported once over two waits
    assert "transform/deployment" not in by_dep  # the seed's check by name skips the transform
    summaries = [s for s in out if s.startswith("Summary → ")]
    assert summaries == [
        "Summary → 20/20 succeeded, 0 failed",
        "Summary → 2/3 succeeded, 1 failed",
        "Summary → 3/3 succeeded, 0 failed",  # Cached is a success: by type, not by name
        "Summary → 20/20 succeeded, 0 failed",
        "Summary → 4/4 succeeded, 0 failed",
    ]
    assert "Retrying 1 failed imports..." in out
    assert "Extraction failed, skipping transform" in out
    assert "pattern 1: 20 runs, states ['Completed']" in out
    assert "pattern 2: failed ['mongodb'], error 'ConnectionError: mongodb unreachable'" in out
    assert "pattern 3: all succeeded by type: True" in out
    assert "pattern 4: 10 + 10 runs, 20 results" in out
    assert "pattern 5: critical run Completed, result {'table': 'users', 'rows': 100}" in out
    assert any(re.match(r"^Critical run started: [0-9a-f-]{36}$", s) for s in out)
    last = out[-1]
    assert last.startswith("run_deployment(timeout=0): state ") and last.endswith("finished later: True")
    assert "Completed" not in last.split(" at once")[0]  # returned before the run ended
