"""Benchmark submissions (seed 004): runs submitted and waited for, the first batch and steady state, and
the concurrency bound; print the targets.

Usage (``make bench-submit``)::

    python benchmarks/submit_report.py [--repeat 5] [--runs 1000] [--strict]

- ``1,000 no-op runs``: ``asyncio.gather`` of ``submit`` for ``--runs`` runs of a no-op Python
  function, then ``wait()``, timed from the first submit to ``wait`` returning — the first batch in
  a fresh interpreter (the runs' loop and thread pool start there), and the median of
  ``--repeat`` later batches; also for an ``async`` no-op target;
- ``concurrency``: 200 runs of a deployment with ``max_concurrency=4`` whose target records how
  many runs of it are running; the peak must be 4.

Exit status 1 with ``--strict`` when a target fails.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.figures import ReportFigures, make_figure, print_report
from benchmarks.tables import Target, plain_table, target_table

ROOT = Path(__file__).resolve().parent.parent


def batch_seconds(deployment: str, runs: int) -> float:
    """Seconds from the first submit of ``runs`` runs (``asyncio.gather``) to ``wait()`` returning."""
    from streamkit.submit import flow_submitter

    async def main() -> float:
        sub = flow_submitter(deployment)
        t0 = time.perf_counter()
        await asyncio.gather(*[sub.submit(i=i) for i in range(runs)])
        results = await sub.wait(show_summary=False)
        took = time.perf_counter() - t0
        assert len(results) == runs and set(results.values()) == {"Completed"}, results
        return took

    return asyncio.run(main())


def register(kind: str) -> str:
    """A no-op deployment of ``kind`` (``sync`` or ``async``); its name."""
    from streamkit.submit import register_deployment

    async def anoop(i: int) -> int:
        return i

    name = f"bench/{kind}-noop"
    register_deployment(name, (lambda i: i) if kind == "sync" else anoop)
    return name


def first_batch(kind: str, runs: int) -> float:
    """:func:`batch_seconds` of the first batch, in a fresh interpreter (streamkit imported before the clock)."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "import streamkit.submit\n"
        "from benchmarks.submit_report import batch_seconds, register\n"
        f"print(batch_seconds(register({kind!r}), {runs}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600)
    return float(out.stdout.strip().splitlines()[-1])


def peak_concurrency(runs: int = 200, limit: int = 4) -> int:
    """The most runs of a ``max_concurrency=limit`` deployment seen running at once over ``runs`` runs."""
    from streamkit.submit import flow_submitter, register_deployment

    lock = threading.Lock()
    now, peak = [0], [0]

    def target(i: int) -> int:
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.001)
        with lock:
            now[0] -= 1
        return i

    register_deployment("bench/bounded", target, max_concurrency=limit)
    sub = flow_submitter("bench/bounded")

    async def main() -> None:
        await asyncio.gather(*[sub.submit(i=i) for i in range(runs)])
        await sub.wait(show_summary=False)

    asyncio.run(main())
    return peak[0]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--first-repeat", type=int, default=3, help="fresh interpreters for the first batch (3)")
    parser.add_argument("--strict", action="store_true")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> ReportFigures:
    """Measure; return the figures, the targets and the printed tables."""
    started = time.perf_counter()
    n = args.runs
    measured: dict[str, tuple[list[float], list[float]]] = {}
    for kind in ("sync", "async"):
        firsts = [first_batch(kind, n) for _ in range(args.first_repeat)]
        name = register(kind)
        batch_seconds(name, n)  # the runs' loop and pool exist from here on
        steady = [batch_seconds(name, n) for _ in range(args.repeat)]
        measured[kind] = (firsts, steady)
    peak = peak_concurrency()
    rows = []
    figures: dict[str, Any] = {}
    targets = []
    for kind, (firsts, steady) in measured.items():
        first_s, steady_s = statistics.median(firsts), statistics.median(steady)
        rows.append((f"{n:,} {kind} no-op runs, first batch (fresh process)", f"{first_s:.3f} s"))
        rows.append(
            (
                f"{n:,} {kind} no-op runs, steady (median of {len(steady)})",
                f"{steady_s:.3f} s  ({n / steady_s:,.0f} runs/s)",
            )
        )
        for call, values in (("first", firsts), ("steady", steady)):
            figures[f"{n} {kind} no-op runs/{call}"] = make_figure(values, unit="s", records=n, call=call)
        worst = max(first_s, steady_s)
        targets.append(Target(f"{n:,} {kind} no-op runs submitted and waited", "≤ 1 s", f"{worst:.3f} s", worst <= 1.0))
    rows.append(("peak concurrency of 200 runs, max_concurrency=4", str(peak)))
    targets.append(Target("max_concurrency=4 over 200 runs", "never > 4", str(peak), peak <= 4))
    return ReportFigures(
        "submit",
        "submissions (seed 004)",
        figures=figures,
        targets=targets,
        text=plain_table(["measure", "value"], rows) + "\n\n" + target_table(targets),
        ok=peak <= 4,
        seconds=time.perf_counter() - started,
    )


def main(argv: list[str] | None = None) -> int:
    """Measure, print the tables; exit 1 with ``--strict`` when a target fails."""
    return print_report(measure, parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
