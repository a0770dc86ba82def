"""Records per second against input size, in memory: the seed job by streamkit and its baselines.

Usage::

    python benchmarks/scaling_report.py [--sizes 10_000,100_000,1_000_000,10_000_000] [--repeat 5]
                                        [--py-limit 1_000_000]

At each size the seed 002 job runs over one table of seed-like records
(``generate_records(n)`` without null or negative values, as the core
report's graded data), each way as its users write it
(``benchmarks/memory_jobs.py``): streamkit ``SimpleFSM(config).process(table)``
with default settings and every output built, the polars query over the whole
frame (one ``collect_all``), ``pyarrow.compute`` over the whole table, and
the per-record Python loop over dicts (up to ``--py-limit`` records: its time
per record does not depend on the size). Steady state: each time is the median
of ``--repeat`` calls after one warm-up call. The suite draws its
"records/s vs input size" chart from these figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import polars as pl  # before streamkit: polars keeps its default thread pool (the rival at its best)

from benchmarks.figures import ReportFigures, make_figure, time_calls
from benchmarks.memory_jobs import (
    JobResult,
    job_config,
    job_input,
    polars_frame,
    run_polars,
    run_pyarrow,
    run_python_loop,
    run_streamkit,
)
from benchmarks.tables import fmt_rate, fmt_ratio, plain_table

__all__ = ("DEFAULT_SIZES", "IMPLS", "main", "measure", "parse_args")

#: Sizes measured by default.
DEFAULT_SIZES = (10_000, 100_000, 1_000_000, 10_000_000)

#: Implementations in display order.
IMPLS = ("streamkit", "polars", "pyarrow", "python loop")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""

    def sizes(text: str) -> list[int]:
        values = [int(v.replace("_", "")) for v in text.split(",") if v.strip()]
        if not values or min(values) < 100:
            raise argparse.ArgumentTypeError(f"sizes must be integers >= 100, got {text!r}")
        return sorted(values)

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=sizes, default=list(DEFAULT_SIZES), help="records per run (10k,100k,1M,10M)")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per size and implementation (5)")
    parser.add_argument(
        "--py-limit",
        type=lambda t: int(t.replace("_", "")),
        default=1_000_000,
        help="largest size the per-record Python loop runs at (1M)",
    )
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> ReportFigures:
    """Time every implementation at every size; return the figures and the printed table."""
    from streamkit import SimpleFSM

    started = time.perf_counter()
    fsm = SimpleFSM(job_config("seed"))
    figures: dict[str, Any] = {}
    ratios: list[dict[str, Any]] = []
    lines: list[list[str]] = []
    for n in args.sizes:
        table = job_input("seed", n, clean=True)
        frame = polars_frame(table)
        runs: dict[str, Callable[[], JobResult]] = {
            "streamkit": lambda table=table: run_streamkit(fsm, table),
            "polars": lambda frame=frame: run_polars("seed", frame),
            "pyarrow": lambda table=table: run_pyarrow("seed", table),
        }
        if n <= args.py_limit:
            records = table.to_pylist()
            runs["python loop"] = lambda records=records: run_python_loop("seed", records)
        want = run_polars("seed", frame).counts
        medians: dict[str, float] = {}
        for impl, run in runs.items():
            got = run().counts
            if got != want:
                msg = f"{impl} at {n:,} records: counts {got} != polars' {want}"
                raise AssertionError(msg)
            timing = time_calls(run, repeat=args.repeat, warmup=0 if impl == "python loop" else 1)
            medians[impl] = timing
            figures[f"seed in memory {n}/{impl}"] = make_figure(
                [s / n * 1e9 for s in timing.runs], unit="ns/record", records=n, job="seed in memory", impl=impl
            )
            lines.append([impl, f"{n:,}", f"{timing / n * 1e9:,.1f}", fmt_rate(n / timing)])
        vs = {impl: medians[impl] / medians["streamkit"] for impl in medians if impl != "streamkit"}
        ratios.append({"job": f"seed in memory {n:,}", "call": "steady", "records": n, "vs": vs})
        print(f"measured {n:,} records", file=sys.stderr, flush=True)
    ratio_rows = [[r["job"], *(fmt_ratio(r["vs"][i]) if i in r["vs"] else "-" for i in IMPLS[1:])] for r in ratios]
    text = "\n\n".join(
        [
            plain_table(["implementation", "records", "ns/record", "records/s"], lines),
            plain_table(["streamkit vs", *IMPLS[1:]], ratio_rows),
        ]
    )
    return ReportFigures(
        "scaling",
        "records/s against input size (seed job, in memory)",
        figures=figures,
        ratios=ratios,
        text=text,
        notes=[f"polars thread pool: {pl.thread_pool_size()} threads; seed-like data (no null, no negative value)"],
        seconds=time.perf_counter() - started,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print the tables."""
    result = measure(parse_args(sys.argv[1:] if argv is None else argv))
    print(result.text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
