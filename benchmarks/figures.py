"""The structured figures every benchmark report returns, and the machine they were measured on.

A report's measuring function returns a :class:`ReportFigures`; its printed
table is made from the same figures, and ``benchmarks/suite.py`` writes them
all to ``figures.json`` (the file ``--compare`` reads) and ``report.md``.

One figure (:func:`make_figure`) is a dict::

    {"unit": "ns/record", "better": "lower", "median": 4.1, "min": 3.9, "max": 4.6,
     "q1": 4.0, "q3": 4.3, "repeats": [4.1, 3.9, 4.6, ...], "n_repeats": 7,
     "records": 2000000, "job": "seed", "impl": "streamkit", "call": "steady"}

``unit`` and ``better`` (``lower`` or ``higher``) say how to read it,
``repeats`` holds every measured value (all rounds), ``median``, ``min``,
``max`` and the quartiles ``q1`` / ``q3`` are computed from them; any other
key is context (``records``, ``job``, ``impl``, ``call``, ``info`` for a
figure that is shown but never judged as a regression).
"""

from __future__ import annotations

import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.tables import Target, load_average

__all__ = (
    "SCHEMA_VERSION",
    "ReportFigures",
    "Timing",
    "load_averages",
    "machine_info",
    "make_figure",
    "print_report",
    "ratio",
    "target_dict",
    "time_calls",
    "version_info",
)

#: Version of the ``figures.json`` layout (bumped when a reader must change).
SCHEMA_VERSION = 1

REPO_ROOT = Path(__file__).resolve().parent.parent


class Timing(float):
    """A median in seconds that also carries every run it is the median of (``runs``).

    The reports that print medians keep returning floats; the suite reads
    ``runs`` for the spread and the raw figures.
    """

    runs: tuple[float, ...]

    def __new__(cls, runs: Iterable[float]) -> Timing:
        """The median of ``runs`` (at least one)."""
        values = tuple(float(v) for v in runs)
        obj = super().__new__(cls, statistics.median(values))
        obj.runs = values
        return obj


def time_calls(fn: Callable[[], object], *, repeat: int, warmup: int = 1) -> Timing:
    """Seconds of ``fn()``: ``warmup`` untimed calls, then ``repeat`` timed ones (the median, with every run)."""
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return Timing(runs)


def _quartiles(values: Sequence[float]) -> tuple[float, float]:
    """First and third quartiles (both the value itself for one value)."""
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def make_figure(values: Iterable[float], *, unit: str, better: str = "lower", **context: Any) -> dict[str, Any]:
    """A figure from every measured value: median, min, max, quartiles, the values, and ``context``.

    ``better`` is ``lower`` (times, memory) or ``higher`` (rates).
    """
    if better not in ("lower", "higher"):
        msg = f"`better` must be 'lower' or 'higher', got {better!r}"
        raise ValueError(msg)
    repeats = [float(v) for v in values]
    if not repeats:
        msg = "a figure needs at least one value"
        raise ValueError(msg)
    q1, q3 = _quartiles(repeats)
    return {
        "unit": unit,
        "better": better,
        "median": statistics.median(repeats),
        "min": min(repeats),
        "max": max(repeats),
        "q1": q1,
        "q3": q3,
        "repeats": repeats,
        "n_repeats": len(repeats),
        **context,
    }


def ratio(rival: Mapping[str, Any] | None, mine: Mapping[str, Any] | None) -> float | None:
    """How many times faster ``mine`` is than ``rival`` (medians of the same lower-is-better unit)."""
    if not rival or not mine or not mine["median"]:
        return None
    return float(rival["median"]) / float(mine["median"])


def target_dict(target: Target) -> dict[str, Any]:
    """A target as JSON: name, goal, measured, ``ok`` (``None``: not measured) and ``informational``."""
    return {
        "name": target.name,
        "goal": target.goal,
        "measured": target.measured,
        "ok": target.ok,
        "informational": target.informational,
    }


@dataclass
class ReportFigures:
    """What one report measured: figures by key, ratios, targets, its printed text, and chart series.

    ``ratios`` rows are ``{"job", "call", "records", "vs": {rival: ratio}}``, a
    ratio being the rival's median ÷ streamkit's (higher is faster);
    ``series`` holds data for charts (e.g. an RSS timeline); ``ok`` is false when
    a run failed or its results disagree.
    """

    name: str
    title: str
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    ratios: list[dict[str, Any]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    text: str = ""
    notes: list[str] = field(default_factory=list)
    series: dict[str, Any] = field(default_factory=dict)
    ok: bool = True
    seconds: float = 0.0
    exit_code: int = 0  # a report's own non-zero status (e.g. pytest's), 0 otherwise

    def as_dict(self) -> dict[str, Any]:
        """The JSON form written into ``figures.json``."""
        return {
            "title": self.title,
            "ok": self.ok,
            "exit_code": self.exit_code,
            "seconds": self.seconds,
            "figures": self.figures,
            "ratios": self.ratios,
            "targets": [target_dict(t) for t in self.targets],
            "notes": self.notes,
            "series": self.series,
            "text": self.text,
        }


# --------------------------------------------------------------------------- machine and versions


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine_info() -> dict[str, Any]:
    """Cores, RAM, CPU model and OS of this machine (what can be known without privileges)."""
    cpuinfo = _read("/proc/cpuinfo").splitlines()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
        platform.processor() or platform.machine(),
    )
    mem_kb = next(
        (int(line.split()[1]) for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal:")), 0
    )
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "cores": os.cpu_count(),
        "cores_usable": usable,
        "ram_gib": round(mem_kb / 1024**2, 1) if mem_kb else None,
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "platform": platform.platform(),
        "hostname": platform.node(),
    }


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty", "--abbrev=12"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def version_info() -> dict[str, str]:
    """Versions of python, streamkit (and its git commit), pyarrow, polars, numba, numpy, matplotlib."""
    import numba
    import numpy
    import polars
    import pyarrow

    import streamkit

    versions = {
        "python": platform.python_version(),
        "streamkit": getattr(streamkit, "__version__", "?"),
        "streamkit_commit": _git_commit(),
        "pyarrow": pyarrow.__version__,
        "polars": polars.__version__,
        "numba": numba.__version__,
        "numpy": numpy.__version__,
    }
    try:
        import matplotlib
    except ImportError:
        versions["matplotlib"] = "not installed"
    else:
        versions["matplotlib"] = matplotlib.__version__
    return versions


def load_averages() -> list[float] | None:
    """The 1, 5 and 15-minute load averages, or ``None`` where the platform has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def print_report(measure: Callable[[Any], ReportFigures], args: Any) -> int:
    """A report's command line: print the command, the machine and its load, then what ``measure(args)``
    printed; the exit status is 1 when ``args.strict`` and a target (not an informational one) failed."""
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"machine: {os.cpu_count()} cores; load {load_average()} before")
    result = measure(args)
    print()
    print(result.text)
    print(f"\nload {load_average()} after")
    return 1 if args.strict and not all(t.ok for t in result.targets if not t.informational) else 0
