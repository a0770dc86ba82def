"""The benchmark suite (``benchmarks/suite.py``): one quick run, its files, and ``--compare``.

One quick-sized run of the in-memory, scaling, per-state, streaming and status
reports into a temporary directory (module fixture), then checks of what it
wrote. No timing is asserted: only that the figures exist, are well formed,
and that the comparison flags a synthetic regression and not a run compared
with itself.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import suite
from benchmarks.compare import compare, load_figures
from benchmarks.figures import make_figure

pytestmark = pytest.mark.slow

#: The reports of the quick run (the others run the same way; these cover every chart and ratio).
ONLY = "core,scaling,states,stream,status"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quick suite run's results directory."""
    out = tmp_path_factory.mktemp("bench") / "run"
    assert suite.main(["--quick", "--only", ONLY, "--out", str(out)]) == 0
    return out


def test_files_written(run_dir: Path) -> None:
    """The report, the raw figures and the three charts are there (matplotlib is in the dev extra)."""
    names = {p.name for p in run_dir.iterdir()}
    assert {"report.md", "figures.json"} <= names
    assert {"records_per_s_vs_size.png", "rss_over_time.png", "ns_per_record_per_state.png"} <= names
    for chart in ("records_per_s_vs_size.png", "rss_over_time.png", "ns_per_record_per_state.png"):
        assert (run_dir / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_json_structure(run_dir: Path) -> None:
    """Machine, versions, load, and per report figures with every repeat and their statistics."""
    data = json.loads((run_dir / "figures.json").read_text())
    assert data["schema"] == 1
    assert data["machine"]["cores"] >= 1
    assert {"python", "streamkit_commit", "pyarrow", "polars", "numba", "numpy"} <= set(data["versions"])
    assert set(data["load"]) == {"before", "after"}
    assert list(data["reports"]) == ONLY.split(",")
    for name, report in data["reports"].items():
        assert report["ok"], f"{name} failed:\n{report['text']}"
        assert report["figures"], name
        for key, fig in report["figures"].items():
            assert fig["n_repeats"] == len(fig["repeats"]) >= 1, key
            assert fig["min"] <= fig["median"] <= fig["max"], key
            assert fig["better"] in ("lower", "higher"), key
            assert fig["unit"], key
    core = data["reports"]["core"]["figures"]
    for impl in ("streamkit", "polars", "pyarrow", "python loop"):
        assert f"seed/{impl}/steady" in core
    assert "seed/streamkit/first" in core
    seed = next(r for r in data["reports"]["core"]["ratios"] if r["job"] == "seed" and r["call"] == "steady")
    assert {"polars", "pyarrow", "python loop"} <= set(seed["vs"])
    assert data["reports"]["core"]["targets"]
    timelines = data["reports"]["stream"]["series"]["rss_timelines"]
    assert timelines and all(len(t["t_s"]) == len(t["rss_mb"]) > 0 for t in timelines)
    assert {f["impl"] for f in data["reports"]["states"]["figures"].values()} >= {"validate", "enrich", "categorize"}


def test_markdown_sections(run_dir: Path) -> None:
    """The report has the machine, versions, load, ratios, targets and charts sections, and every report."""
    text = (run_dir / "report.md").read_text()
    for heading in ("## Machine", "## Versions", "## Load", "## Ratios", "## Targets", "## Charts"):
        assert f"\n{heading}" in text, heading
    assert "vs polars" in text and "vs pyarrow" in text and "vs python loop" in text
    assert "![records_per_s_vs_size.png](records_per_s_vs_size.png)" in text
    for name in ONLY.split(","):
        assert f"\n## {name}: " in text, name


def _scaled(data: dict[str, Any], factor: float) -> dict[str, Any]:
    """``data`` with every figure's values multiplied by ``factor`` for lower-is-better, divided for higher."""
    out = copy.deepcopy(data)
    for report in out["reports"].values():
        for key, fig in report["figures"].items():
            k = factor if fig["better"] == "lower" else 1 / factor
            context = {c: v for c, v in fig.items() if c not in ("median", "min", "max", "q1", "q3", "repeats")}
            context.pop("n_repeats")
            report["figures"][key] = make_figure([v * k for v in fig["repeats"]], **context)
    return out


def test_compare_flags_a_regression(run_dir: Path, tmp_path: Path) -> None:
    """Against a run whose medians were 2× better, figures are flagged; against itself, none is."""
    data = load_figures(run_dir)
    assert not [c for c in compare(data, data) if c.verdict != "within noise" and c.verdict != "not compared"]
    better = _scaled(data, 0.5)
    found = compare(better, data)
    assert found and any(c.is_regression for c in found)
    # a figure measured once has no spread: its noise is the threshold, so 2× is flagged (a noisy figure
    # measured several times may spread over more than 2× and stay within its noise)
    once = [c for c in found if c.verdict != "not compared" and c.repeats == (1, 1)]
    assert once and all(c.is_regression for c in once), [c for c in once if not c.is_regression]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(better))
    out = tmp_path / "again"
    argv = ["--quick", "--only", "scaling", "--out", str(out), "--compare", str(old), "--strict"]
    assert suite.main(argv) == 1
    assert "## Comparison with an earlier run" in (out / "report.md").read_text()
    assert json.loads((out / "figures.json").read_text())["comparison"]["regressions"] >= 1


def test_compare_same_run_not_strict_failure(run_dir: Path, tmp_path: Path) -> None:
    """A run compared with its own figures flags nothing, so ``--strict`` exits 0 when nothing regressed."""
    data = load_figures(run_dir / "figures.json")
    assert not any(c.is_regression for c in compare(data, data))
    assert suite.parse_args(["--only", "core,stream"]).only == ["core", "stream"]
    with pytest.raises(SystemExit):
        suite.parse_args(["--only", "nope"])
