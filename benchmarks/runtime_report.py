"""Benchmark the runtime (seed 001): jobs per second, a network flow's records per second, isolation,
atomic updates, the status index one id at a time, and memory over a million jobs; print the targets.

Usage (``make bench-runtime``)::

    python benchmarks/runtime_report.py [--repeat 3] [--jobs-rss 1000000] [--strict]

- ``jobs``: 20,000 one-item jobs posted into a no-op routine, from the first post to all completed;
- ``network flow``: 1,000 jobs × 100 seed records posted as Arrow tables from 4 threads into a
  ``NetworkFlow`` of the seed 002 network, until all completed; every job's result is checked
  against ``process()`` of its records alone on a sample of 50 jobs;
- ``isolation``: 3,000 jobs from 4 threads, each activation checking that its data belong to
  ``get_current_job()``; ``atomic``: 10 threads × 500 ``WorkerState.update`` calls;
- ``status index``: ``add`` and ``transition`` of one id at a time (100k calls each);
- ``memory``: peak RSS of a process that runs ``--jobs-rss`` jobs, against one that runs a tenth
  of them (each in a fresh interpreter).

Each timing is the median of ``--repeat`` runs. Exit status 1 with ``--strict`` when a target fails.
"""

from __future__ import annotations

import argparse
import resource
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


def _noop_flow() -> Any:
    from streamkit.runtime import Flow, Routine

    class Noop(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input", max_queue_length=1_000_000)
            self.set_logic(lambda slot_data, message, worker_state: None)

    flow = Flow("noop")
    flow.add_routine(Noop(), "r")
    return flow


def jobs_per_second(n: int = 20_000) -> float:
    """One-item jobs into a no-op routine: jobs per second from the first post to all completed."""
    from streamkit.runtime import Runtime

    flow = _noop_flow()
    with Runtime() as rt:
        rt.exec(flow)
        t0 = time.perf_counter()
        for k in range(n):
            rt.post(flow, "r", "input", k)
        assert rt.wait_until_all_jobs_finished(120)
        return n / (time.perf_counter() - t0)


def network_records_per_second() -> tuple[float, int]:
    """1,000 jobs × 100 records from 4 threads into a network flow: records/s, and mismatches on a sample."""
    import pyarrow as pa

    from examples.seed_network import create_streaming_fsm_config
    from streamkit import SimpleFSM
    from streamkit.runtime import NetworkFlow, Runtime

    tables = {
        (t, k): pa.Table.from_pylist(
            [
                {
                    "id": t * 100_000 + k * 100 + i,
                    "value": None if i % 17 == 0 else (k * 100 + i) % 50 - 2,
                    "category": "a",
                }
                for i in range(100)
            ]
        )
        for t in range(4)
        for k in range(250)
    }
    flow = NetworkFlow(create_streaming_fsm_config(), "seed")
    jobs: list[tuple[Any, Any]] = []
    lock = threading.Lock()
    with Runtime() as rt:
        rt.exec(flow)

        def poster(t: int) -> None:
            for k in range(250):
                _, job = rt.post(flow, tables[(t, k)])
                with lock:
                    jobs.append((job, tables[(t, k)]))

        t0 = time.perf_counter()
        threads = [threading.Thread(target=poster, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert rt.wait_until_all_jobs_finished(120)
        rate = 100_000 / (time.perf_counter() - t0)
    alone = SimpleFSM(create_streaming_fsm_config())
    bad = 0
    for job, table in jobs[::20]:
        want, got = alone.process(table), job.result
        for s in want.end_states:
            bad += want.output(s).to_pylist() != got.output(s).to_pylist()
        bad += want.errors().to_pylist() != got.errors().to_pylist()
    return rate, bad


def isolation_and_atomic() -> tuple[int, int]:
    """Mismatched activations over 3,000 jobs from 4 threads; the total of 10 × 500 atomic updates."""
    from streamkit.runtime import Flow, Routine, Runtime, WorkerState, get_current_job

    class Check(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input", max_queue_length=100_000)

            def logic(slot_data: Any, message: Any, ws: Any) -> None:
                job = get_current_job()
                for d in slot_data["input"]:
                    if job is None or d != job.metadata["tag"]:
                        ws.update("bad", lambda old: (old or 0) + 1)

            self.set_logic(logic)

    flow = Flow("isolation")
    flow.add_routine(Check(), "r")
    with Runtime() as rt:
        ws = rt.exec(flow)

        def poster(t: int) -> None:
            for k in range(750):
                rt.post(flow, "r", "input", f"{t}-{k}", metadata={"tag": f"{t}-{k}"})

        threads = [threading.Thread(target=poster, args=(t,)) for t in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert rt.wait_until_all_jobs_finished(120)
        bad = ws.get_routine_state("bad") or 0
    state = WorkerState("w", "f")

    def bump() -> None:
        for _ in range(500):
            state.update("n", lambda old: (old or 0) + 1)

    threads = [threading.Thread(target=bump) for _ in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return bad, state.get_routine_state("n")


def one_id_at_a_time(n: int = 100_000) -> tuple[float, float]:
    """Microseconds per ``add`` and per ``transition`` of a single id."""
    from streamkit import EventStatus, StatusIndex

    ix = StatusIndex()
    t0 = time.perf_counter()
    for i in range(n):
        ix.add(i, status=EventStatus.PENDING)
    t1 = time.perf_counter()
    for i in range(n):
        ix.transition(i, EventStatus.PROCESSING)
    t2 = time.perf_counter()
    return (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6


def _rss_child(n: int) -> None:
    """In a fresh interpreter: run ``n`` jobs, print the peak RSS in MB."""
    from streamkit.runtime import Runtime

    flow = _noop_flow()
    with Runtime(keep_finished=10_000) as rt:
        rt.exec(flow)
        for k in range(n):
            rt.post(flow, "r", "input", k)
            if k % 50_000 == 49_999:
                rt.wait_until_all_jobs_finished(120)
        assert rt.wait_until_all_jobs_finished(300)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def peak_rss_mb(n: int) -> float:
    """Peak RSS (MB) of a fresh interpreter that runs ``n`` jobs."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        f"from benchmarks.runtime_report import _rss_child; _rss_child({n})"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=1800)
    return float(out.stdout.strip().splitlines()[-1])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs-rss", type=int, default=1_000_000)
    parser.add_argument("--strict", action="store_true")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> ReportFigures:
    """Measure; return the figures, the targets and the printed tables."""
    started = time.perf_counter()
    jps_runs = [jobs_per_second() for _ in range(args.repeat)]
    jps = statistics.median(jps_runs)
    nets = [network_records_per_second() for _ in range(args.repeat)]
    rps = statistics.median(r for r, _ in nets)
    mismatches = sum(b for _, b in nets)
    bad, total = isolation_and_atomic()
    add_us, tr_us = one_id_at_a_time()
    small, big = peak_rss_mb(args.jobs_rss // 10), peak_rss_mb(args.jobs_rss)
    table = plain_table(
        ["measure", "value"],
        [
            ("one-item jobs, no-op routine", f"{jps:,.0f} jobs/s"),
            ("network flow, 1,000 × 100 records from 4 threads", f"{rps:,.0f} records/s"),
            ("network flow: jobs whose result differs from process() alone", str(mismatches)),
            ("isolation mismatches / atomic total", f"{bad} / {total}"),
            ("status index: add / transition of one id", f"{add_us:.2f} / {tr_us:.2f} µs"),
            (f"peak RSS: {args.jobs_rss // 10:,} / {args.jobs_rss:,} jobs", f"{small:.0f} / {big:.0f} MB"),
        ],
    )
    rows = [
        Target("one-item jobs into a no-op routine", "≥ 50k jobs/s", f"{jps:,.0f}/s", jps >= 50_000),
        Target(
            "network flow, exact per-job results", "≥ 1M rec/s", f"{rps / 1e6:.2f}M/s", rps >= 1e6 and not mismatches
        ),
        Target("isolation, 3,000 jobs from 4 threads", "0 mismatches", str(bad), bad == 0),
        Target("10 threads × 500 atomic updates", "5,000", f"{total:,}", total == 5000),
        Target("status index add(1 id)", "≤ 2 µs", f"{add_us:.2f} µs", add_us <= 2),
        Target("status index transition(1 id)", "≤ 2 µs", f"{tr_us:.2f} µs", tr_us <= 2),
        Target("peak RSS, 10× the jobs", "≤ 1.2×", f"{big / small:.2f}×", big / small <= 1.2),
    ]
    figures = {
        "one-item jobs, no-op routine": make_figure(jps_runs, unit="jobs/s", better="higher"),
        "network flow, 1,000 × 100 records": make_figure(
            [r for r, _ in nets], unit="records/s", better="higher", records=100_000
        ),
        "status index add(1 id)": make_figure([add_us], unit="µs"),
        "status index transition(1 id)": make_figure([tr_us], unit="µs"),
        f"peak RSS, {args.jobs_rss // 10} jobs": make_figure([small], unit="MB"),
        f"peak RSS, {args.jobs_rss} jobs": make_figure([big], unit="MB"),
    }
    return ReportFigures(
        "runtime",
        "runtime (seed 001)",
        figures=figures,
        targets=rows,
        text=table + "\n\n" + target_table(rows),
        ok=not (mismatches or bad) and total == 5000,
        seconds=time.perf_counter() - started,
    )


def main(argv: list[str] | None = None) -> int:
    """Measure, print the tables; exit 1 with ``--strict`` when a target fails."""
    return print_report(measure, parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
