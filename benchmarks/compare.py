"""Compare two suite runs' ``figures.json``: which figures got worse beyond the noise.

A figure present in both runs (same report, same key, same unit, same records)
is judged on its median. Its *noise* is the largest of ``threshold`` (10 % by
default) and each run's relative spread, ``(max - min) / median`` over its
repeats, so a figure measured once is judged against the threshold alone, and
a noisy one needs a larger change. The change is worse when the median moved
the wrong way (up for ``better: lower``, down for ``better: higher``):

- ``regression``: worse by more than the noise;
- ``improvement``: better by more than the noise;
- ``within noise``: otherwise;
- ``not compared``: informational figures, or a different number of records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.tables import plain_table

__all__ = ("DEFAULT_THRESHOLD", "Comparison", "compare", "comparison_markdown", "comparison_table", "load_figures")

#: The smallest relative change judged a regression or an improvement.
DEFAULT_THRESHOLD = 0.10


@dataclass(frozen=True)
class Comparison:
    """One figure in both runs: old and new medians, the change, the noise, and the verdict."""

    report: str
    key: str
    unit: str
    old: float
    new: float
    change: float  # relative, signed so that > 0 is worse
    noise: float
    verdict: str
    repeats: tuple[int, int]

    @property
    def is_regression(self) -> bool:
        """Worse beyond the noise."""
        return self.verdict == "regression"


def load_figures(path: Path) -> dict[str, Any]:
    """A ``figures.json`` (or the directory holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "figures.json"
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or "reports" not in data:
        msg = f"{path} is not a suite figures.json: no 'reports'"
        raise ValueError(msg)
    return data


def _spread(fig: Mapping[str, Any]) -> float:
    median = float(fig["median"])
    return (float(fig["max"]) - float(fig["min"])) / abs(median) if median else 0.0


def compare(
    old: Mapping[str, Any], new: Mapping[str, Any], *, threshold: float = DEFAULT_THRESHOLD
) -> list[Comparison]:
    """Every figure present in both runs, judged (see the module docstring)."""
    out = []
    for report, new_report in new.get("reports", {}).items():
        old_figures = old.get("reports", {}).get(report, {}).get("figures", {})
        for key, fig in new_report.get("figures", {}).items():
            was = old_figures.get(key)
            if was is None or was.get("unit") != fig.get("unit"):
                continue
            o, n = float(was["median"]), float(fig["median"])
            change = (n - o) / abs(o) if o else 0.0
            if fig.get("better", "lower") == "higher":
                change = -change
            noise = max(threshold, _spread(was), _spread(fig))
            if fig.get("info") or was.get("info") or was.get("records") != fig.get("records"):
                verdict = "not compared"
            elif change > noise:
                verdict = "regression"
            elif change < -noise:
                verdict = "improvement"
            else:
                verdict = "within noise"
            repeats = (int(was.get("n_repeats", 1)), int(fig.get("n_repeats", 1)))
            out.append(Comparison(report, key, str(fig["unit"]), o, n, change, noise, verdict, repeats))
    return out


def _row(c: Comparison) -> list[str]:
    return [
        f"{c.report}: {c.key}",
        c.unit,
        f"{c.old:.4g}",
        f"{c.new:.4g}",
        f"{c.change:+.1%} worse" if c.change > 0 else f"{-c.change:.1%} better",
        f"±{c.noise:.0%}",
        f"{c.repeats[0]} / {c.repeats[1]}",
        c.verdict,
    ]


_HEADER = ["figure", "unit", "old median", "new median", "change", "noise", "repeats old / new", "verdict"]


def comparison_table(comparisons: Sequence[Comparison], *, all_rows: bool = False) -> str:
    """A plain-text table: regressions and improvements (every figure with ``all_rows``)."""
    rows = [_row(c) for c in comparisons if all_rows or c.verdict in ("regression", "improvement")]
    return plain_table(_HEADER, rows) if rows else "(no figure changed beyond the noise)"


def comparison_markdown(comparisons: Sequence[Comparison]) -> str:
    """A markdown table of every compared figure, regressions first."""
    order = {"regression": 0, "improvement": 1, "within noise": 2, "not compared": 3}
    rows = [_row(c) for c in sorted(comparisons, key=lambda c: order[c.verdict])]
    lines = ["| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)
