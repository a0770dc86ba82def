"""Benchmark events (seed 003) in networks against the same work without the engine; print the targets.

Usage (``make bench-events``)::

    python benchmarks/events_report.py [--repeat 5] [--json PATH] [--strict]

Each row is the median of ``--repeat`` runs in one process, after one warm-up:

- ``trivial inline``: 300k records through a state whose event returns ``(True, {'y': x + 1})``,
  ``SimpleFSM(..., parallelism=1).process(table)``, against calling ``process`` in a plain loop
  over the same records as dicts (listed beforehand): the overhead per record and the rate;
- ``per-batch``: 1M rows through a ``process_batch`` event at the default settings, against calling
  the same function on the same polars chunks directly: an enrichment as ETL jobs write it (a code
  built as text, a tier, a score; graded), and a trivial one (a derived column and a flag, ~2 ms
  per 1M rows, for information: what is left there is the engine's own share, the output table
  with ``_row`` and every record's status);
- ``thread pool``: 320 records, 20 ms of sleep each, ``max_workers=32``;
- ``process pool``: 400 records of CPU-bound Python (20k rounds each), a pool of 2 processes,
  against the same event inline;
- ``retries``: 200 records, every tenth fails twice then succeeds, ``backoff_factor=0.2``, 8 threads.

Networks without events are measured by ``benchmarks/report.py`` (``make bench-core``).
The process exits 1 with ``--strict`` when a target fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import polars as pl
import pyarrow as pa

from benchmarks.event_jobs import (
    Burn,
    BurnInline,
    Enrich,
    Flaky,
    Scale,
    Sleepy,
    Trivial,
    enrich_frame,
    one_state,
    scale_frame,
)
from benchmarks.figures import ReportFigures, Timing, make_figure, print_report
from benchmarks.tables import Target, plain_table, target_table
from streamkit import SimpleFSM
from streamkit.engine.local import chunk_size_for


def median_time(fn: Callable[[], Any], repeat: int, *, warm: bool = True) -> Timing:
    """Median seconds of ``fn()`` over ``repeat`` calls (after one untimed call when ``warm``), with every run."""
    if warm:
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return Timing(times)


def measure_seconds(repeat: int) -> dict[str, float]:
    """Every timing of the report in seconds (medians carrying their runs), and ``trivial_n``."""
    out: dict[str, float] = {}

    n = 300_000
    table = pa.table({"x": pa.array(range(n), pa.int64())})
    fsm = SimpleFSM(one_state(Trivial), parallelism=1)
    out["trivial_s"] = median_time(lambda: fsm.process(table), repeat)
    records = table.to_pylist()
    ev = Trivial()

    def loop() -> None:
        for r in records:
            ev.process(r["x"])

    out["trivial_loop_s"] = median_time(loop, repeat)
    out["trivial_n"] = n

    n = 1_000_000
    table = pa.table({"x": pa.array(range(n), pa.int64())})
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    for key, ev, fn in (("batch", Enrich, enrich_frame), ("batch_trivial", Scale, scale_frame)):
        fsm = SimpleFSM(one_state(ev))
        out[f"{key}_s"] = median_time(lambda fsm=fsm: fsm.process(table), repeat)
        size = chunk_size_for(table, fsm.parallelism)  # the chunks process() cuts the table into
        chunks = [frame.slice(a, size) for a in range(0, n, size)]
        out[f"{key}_direct_s"] = median_time(lambda chunks=chunks, fn=fn: [fn(c) for c in chunks], repeat)

    fsm = SimpleFSM(one_state(Sleepy))
    sleepy = [{"k": k} for k in range(320)]
    out["threads_s"] = median_time(lambda: fsm.process(sleepy), repeat)
    fsm.network.event_pools.shutdown()

    work = [{"n": 20_000} for _ in range(400)]
    fsm_p = SimpleFSM(one_state(Burn))
    fsm_i = SimpleFSM(one_state(BurnInline))
    out["process_s"] = median_time(lambda: fsm_p.process(work), repeat)
    out["process_inline_s"] = median_time(lambda: fsm_i.process(work), repeat)
    fsm_p.network.event_pools.shutdown()

    fsm = SimpleFSM(one_state(Flaky))

    def flaky() -> None:
        Flaky.calls.clear()
        r = fsm.process([{"k": k} for k in range(200)])
        assert r.successful == 200 and r.retries == {"event": 40}, (r, r.retries)

    out["retries_s"] = median_time(flaky, repeat)
    fsm.network.event_pools.shutdown()
    return out


def targets(m: dict[str, float]) -> list[Target]:
    """The report's targets, graded."""
    per = (m["trivial_s"] - m["trivial_loop_s"]) / m["trivial_n"] * 1e6
    rate = m["trivial_n"] / m["trivial_s"]
    batch = m["batch_s"] / m["batch_direct_s"]
    speedup = m["process_inline_s"] / m["process_s"]
    return [
        Target("trivial inline event: overhead over a plain loop", "≤ 2 µs/record", f"{per:.2f} µs/record", per <= 2.0),
        Target("trivial inline event: rate on one core", "≥ 300k rec/s", f"{rate / 1e3:,.0f}k rec/s", rate >= 300_000),
        Target("per-batch event ÷ the function on the same chunks", "≤ 1.2×", f"{batch:.2f}×", batch <= 1.2),
        Target(
            "per-batch, a trivial function (the engine's share)",
            "",
            f"{m['batch_trivial_s'] / m['batch_trivial_direct_s']:.2f}×",
            None,
            informational=True,
        ),
        Target("thread pool: 320 × 20 ms, 32 workers", "≤ 0.5 s", f"{m['threads_s']:.3f} s", m["threads_s"] <= 0.5),
        Target("process pool ÷ inline, CPU-bound, 2 cores", "≥ 1.6×", f"{speedup:.2f}×", speedup >= 1.6),
        Target(
            "200 records, 20 fail twice, factor 0.2, 8 threads",
            "< 2 s",
            f"{m['retries_s']:.3f} s",
            m["retries_s"] < 2.0,
        ),
    ]


#: The figures of the report: key of :func:`measure_seconds`, what it times, and the baseline's key.
FIGURES = (
    ("trivial_s", "trivial inline event, 300k records", "trivial_loop_s"),
    ("batch_s", "per-batch enrichment, 1M rows", "batch_direct_s"),
    ("batch_trivial_s", "per-batch trivial function, 1M rows", "batch_trivial_direct_s"),
    ("threads_s", "thread pool, 320 × 20 ms", None),
    ("process_s", "process pool, 400 × 20k rounds", "process_inline_s"),
    ("retries_s", "retries, 200 records", None),
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--strict", action="store_true")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> ReportFigures:
    """Run the measurements; return the figures, the targets and the printed tables."""
    started = time.perf_counter()
    m = measure_seconds(args.repeat)
    rows = [
        ("trivial inline, 300k", f"{m['trivial_s']:.3f} s", f"plain loop {m['trivial_loop_s']:.3f} s"),
        ("per-batch enrichment, 1M", f"{m['batch_s']:.3f} s", f"function on the chunks {m['batch_direct_s']:.3f} s"),
        (
            "per-batch trivial, 1M",
            f"{m['batch_trivial_s']:.3f} s",
            f"function on the chunks {m['batch_trivial_direct_s']:.3f} s",
        ),
        ("thread pool, 320 × 20 ms", f"{m['threads_s']:.3f} s", "one at a time: 6.4 s"),
        ("process pool, 400 × 20k rounds", f"{m['process_s']:.3f} s", f"inline {m['process_inline_s']:.3f} s"),
        ("retries, 200 records", f"{m['retries_s']:.3f} s", "waits 0.2 + 0.4 s"),
    ]
    rows_t = targets(m)
    figures: dict[str, Any] = {}
    for key, label, base in FIGURES:
        for k, impl in ((key, "streamkit"), (base, "without the engine")):
            if k is not None:
                figures[f"{label}/{impl}"] = make_figure(getattr(m[k], "runs", (m[k],)), unit="s", job=label, impl=impl)
    if args.json:
        args.json.write_text(json.dumps(m, indent=2))
    return ReportFigures(
        "events",
        "events (seed 003)",
        figures=figures,
        targets=rows_t,
        text=plain_table(["job", "median", "baseline"], rows) + "\n\n" + target_table(rows_t),
        seconds=time.perf_counter() - started,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measurements, print the tables; exit 1 with ``--strict`` if a target fails."""
    return print_report(measure, parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
