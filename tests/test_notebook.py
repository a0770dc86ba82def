"""examples/notebook.ipynb runs top to bottom in a real Jupyter kernel and shows what its text says."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "notebook.ipynb"


def _outputs(cell: Any) -> tuple[str, dict[str, str]]:
    text, data = "", {}
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            text += out["text"]
        elif out["output_type"] in ("execute_result", "display_data"):
            for mime, value in out["data"].items():
                data[mime] = data.get(mime, "") + ("".join(value) if isinstance(value, list) else str(value))
        elif out["output_type"] == "error":
            pytest.fail(f"cell raised {out['ename']}: {out['evalue']}")
    return text, data


@pytest.mark.usefixtures("kernel_cache_dir")
def test_the_flights_notebook_runs_and_shows_failures_fix_and_plot() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    t0 = time.perf_counter()
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "examples")}}
    ).execute()
    took = time.perf_counter() - t0
    cells = [_outputs(c) for c in nb.cells if c.cell_type == "code"]
    text = "".join(t for t, _ in cells)
    assert "336,776 flights, 19 columns" in text
    assert "failed: 9,430" in text  # the first network: cancelled and diverted flights fail in enrich
    assert "failed flights with no departure time: 8,255; departed but no air time: 1,175" in text
    assert "failed: 0; per end state: {'cancelled': 8255, 'diverted': 1175, 'delayed': " in text
    assert "most often late: " in text and "first cancelled rows: [" in text
    htmls = [d.get("text/html", "") for _, d in cells]
    assert any("<svg" in h for h in htmls)  # the network's diagram, inline
    assert sum("9,430" in h or "9430" in h for h in htmls) >= 1  # the first run's result view shows its failures
    assert any("image/png" in d for _, d in cells)  # the plot
    assert took < 300
