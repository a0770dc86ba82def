"""Plain-text tables and number formats shared by the benchmark reports."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ("Target", "fmt_rate", "fmt_ratio", "fmt_time", "load_average", "plain_table", "target_table")


def plain_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table, first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def fmt_rate(per_s: float) -> str:
    """Records per second as ``3.52 M`` or ``480.1 k``."""
    return f"{per_s / 1e6:,.2f} M" if per_s >= 1e6 else f"{per_s / 1e3:,.1f} k"


def fmt_ratio(x: float) -> str:
    """A ratio as ``1,234×`` or ``2.31×`` (``0.0412×`` below 0.1)."""
    if x >= 100:
        return f"{x:,.0f}×"
    return f"{x:.2f}×" if x >= 0.1 else f"{x:.3g}×"


def fmt_time(seconds: float) -> str:
    """Seconds with a readable unit."""
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def load_average() -> str:
    """The 1-minute load average, or ``?`` where the platform has none."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "?"


@dataclass(frozen=True)
class Target:
    """A performance target: its goal, what was measured, and whether it passed (``None``: not measured)."""

    name: str
    goal: str
    measured: str
    ok: bool | None
    informational: bool = False  # no target: shown for context only


def target_table(targets: Sequence[Target]) -> str:
    """The targets with PASS / FAIL (``n/a`` when not measured, ``info`` when not graded)."""
    verdict = {True: "PASS", False: "FAIL", None: "n/a"}
    return plain_table(
        ["target", "goal", "measured", "result"],
        [[t.name, t.goal, t.measured, "info" if t.informational else verdict[t.ok]] for t in targets],
    )
