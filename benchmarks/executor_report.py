"""Benchmark the executor (seed 000): events per second appended, started and drained, and "which are
completed" against the list comprehension the seed says it beats; print the targets.

Usage (``make bench-executor``)::

    python benchmarks/executor_report.py [--repeat 5] [--big 1000000] [--strict]

- ``throughput``: 10,000 and 100,000 trivial events (made beforehand) appended to an ``Executor`` at
  its default config, ``start()``, then ``forward()`` until nothing is left: events per second from
  the first append to the last completed, and the per-event cost at 100k over that at 10k; the same
  with the events' creation counted, for information;
- ``query``: ``get_events_by_status(COMPLETED)`` against
  ``[e for e in events if e.status == EventStatus.COMPLETED]`` over the executor's events, at 10,000
  and ``--big`` events, with k = 1,000 of them completed and with all completed: each query's median
  over 20 calls (over 3 at the big size), and the cost of k = 1,000 among ``--big`` over k = 1,000
  among 10,000 (O(k): it should not grow with n).

Each timing is the median of ``--repeat`` runs, the two sizes taking turns (the big executor is built
once). Exit status 1 with
``--strict`` when a target fails.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.figures import ReportFigures, make_figure, print_report
from benchmarks.tables import Target, fmt_rate, fmt_ratio, fmt_time, plain_table, target_table
from streamkit.executor import Event, EventStatus, Executor


class Trivial(Event):
    """The trivial event: returns its number."""

    n: int = 0

    async def _invoke(self) -> int:
        return self.n


async def _drain(executor: Executor, events: list[Trivial]) -> None:
    for event in events:
        await executor.append(event)
    await executor.start()
    while await executor.forward():
        pass


def throughput(n: int, *, count_creation: bool = False) -> float:
    """Events per second: append ``n`` trivial events, start, forward until drained (default config)."""
    gc.collect()
    t0 = time.perf_counter()
    events = [Trivial(n=i) for i in range(n)]
    if not count_creation:
        t0 = time.perf_counter()
    executor = Executor()
    asyncio.run(_drain(executor, events))
    elapsed = time.perf_counter() - t0
    assert executor.status_counts()["completed"] == n
    return n / elapsed


def build(n: int, k: int) -> Executor:
    """An executor of ``n`` trivial events of which the first ``k`` completed (the rest pending)."""

    async def run() -> Executor:
        executor = Executor(processor_config={"queue_capacity": max(k, 1)})
        for i in range(n):
            await executor.append(Trivial(n=i))
        await executor.start()
        if k:
            await executor.forward()
        return executor

    executor = asyncio.run(run())
    assert executor.status_counts()["completed"] == k
    return executor


def finish(executor: Executor) -> None:
    """Run the executor's remaining events."""

    async def run() -> None:
        while await executor.forward():
            pass

    asyncio.run(run())


def per_call(fn: Callable[[], Any], calls: int) -> float:
    """Median seconds of one call of ``fn`` over ``calls`` calls."""
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def query_times(executor: Executor, calls: int) -> tuple[float, float]:
    """Seconds per ``get_events_by_status(COMPLETED)`` and per list comprehension over all events."""
    events = list(executor.states.items)
    completed = EventStatus.COMPLETED
    ours = per_call(lambda: executor.get_events_by_status(completed), calls)
    naive = per_call(lambda: [e for e in events if e.status == completed], calls)
    assert executor.get_events_by_status(completed) == [e for e in events if e.status == completed]
    return ours, naive


def _measure(repeat: int, big: int) -> dict[str, Any]:
    """Every figure of the report."""
    m: dict[str, Any] = {}
    throughput(10_000)  # warm-up
    runs: dict[str, list[float]] = {}
    for _ in range(repeat):  # the sizes interleaved: a change of the machine's load hits both alike
        for n in (10_000, 100_000):
            runs.setdefault(f"rate_{n}", []).append(throughput(n))
            runs.setdefault(f"rate_{n}_created", []).append(throughput(n, count_creation=True))
    m.update({key: statistics.median(values) for key, values in runs.items()})
    m["runs"] = runs
    m["queries"] = []
    for n, calls in ((10_000, 20), (big, 3)):
        executor = build(n, 1_000)
        ours, naive = zip(*(query_times(executor, calls) for _ in range(repeat)))
        m["queries"].append((n, 1_000, statistics.median(ours), statistics.median(naive)))
        finish(executor)
        ours, naive = zip(*(query_times(executor, calls) for _ in range(repeat)))
        m["queries"].append((n, n, statistics.median(ours), statistics.median(naive)))
        del executor
        gc.collect()
    return m


def targets(m: dict[str, Any], big: int) -> list[Target]:
    """The graded targets."""
    r10, r100 = m["rate_10000"], m["rate_100000"]
    growth = r10 / r100  # per-event cost at 100k over that at 10k
    q = {(n, k): (ours, naive) for n, k, ours, naive in m["queries"]}
    ok_k = q[(big, 1_000)][0] / q[(10_000, 1_000)][0]
    rows = [
        Target("10k trivial events appended, started, drained", "≥ 50k ev/s", f"{fmt_rate(r10)}/s", r10 >= 50_000),
        Target("100k trivial events appended, started, drained", "≥ 50k ev/s", f"{fmt_rate(r100)}/s", r100 >= 50_000),
        Target("per-event cost, 100k over 10k", "≤ 1.25×", fmt_ratio(growth), growth <= 1.25),
    ]
    for (n, k), (ours, naive) in q.items():
        rows.append(
            Target(
                f"get_events_by_status(COMPLETED), k={k:,} of {n:,}",
                "< list comp.",
                f"{fmt_ratio(naive / ours)} faster",
                ours < naive,
            )
        )
    rows.append(Target(f"O(k): k=1,000 of {big:,} over k=1,000 of 10,000", "≤ 2×", fmt_ratio(ok_k), ok_k <= 2))
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--big", type=int, default=1_000_000, help="events in the large query test")
    parser.add_argument("--strict", action="store_true")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> ReportFigures:
    """Measure; return the figures, the targets and the printed tables."""
    started = time.perf_counter()
    m = _measure(args.repeat, args.big)
    rates = plain_table(
        ["trivial events, default config", "appended → drained", "per event", "created too", "per event"],
        [
            (
                f"{n:,}",
                f"{fmt_rate(m[f'rate_{n}'])}/s",
                fmt_time(1 / m[f"rate_{n}"]),
                f"{fmt_rate(m[f'rate_{n}_created'])}/s",
                fmt_time(1 / m[f"rate_{n}_created"]),
            )
            for n in (10_000, 100_000)
        ],
    )
    queries = plain_table(
        ["events", "completed (k)", "get_events_by_status", "list comprehension", "speedup"],
        [
            (f"{n:,}", f"{k:,}", fmt_time(ours), fmt_time(naive), fmt_ratio(naive / ours))
            for n, k, ours, naive in m["queries"]
        ],
    )
    rows = targets(m, args.big)
    figures = {
        f"{n:,} trivial events appended, started, drained": make_figure(
            m["runs"][f"rate_{n}"], unit="events/s", better="higher", events=n
        )
        for n in (10_000, 100_000)
    }
    for n, k, ours, naive in m["queries"]:
        figures[f"get_events_by_status(COMPLETED), k={k:,} of {n:,}"] = make_figure([ours * 1e6], unit="µs", events=n)
        figures[f"list comprehension, k={k:,} of {n:,}"] = make_figure([naive * 1e6], unit="µs", events=n)
    return ReportFigures(
        "executor",
        "executor (seed 000)",
        figures=figures,
        targets=rows,
        text=rates + "\n\n" + queries + "\n\n" + target_table(rows),
        ok=True,
        seconds=time.perf_counter() - started,
    )


def main(argv: list[str] | None = None) -> int:
    """Measure, print the tables; exit 1 with ``--strict`` when a target fails."""
    return print_report(measure, parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
