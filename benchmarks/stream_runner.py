"""Run one streaming benchmark job in this process and print its result as one JSON line.

``benchmarks/stream_report.py`` starts this module in a fresh interpreter for
every measured run, so each run's peak RSS is its own::

    python -m benchmarks.stream_runner file --job streamkit --src IN.jsonl --out DIR \\
        [--workload seed|flights] [--chunk-size N] [--parallelism N] [--memory-limit-mb MB]
    python -m benchmarks.stream_runner compute [--n 5000000] [--repeat 3] [--chunk-size 65536]

``file`` runs one job of :data:`benchmarks.stream_jobs.JOBS` and prints its
:class:`~benchmarks.stream_jobs.JobRun`; streamkit gets only the options
given (its own defaults otherwise). ``compute`` builds an in-memory table
and the compute-heavy network once, then streams the table with one and with
two workers, alternating, ``repeat`` times each after one untimed warm-up run of
each, and prints every timing. The result is the last line of stdout, after
:data:`RESULT_MARKER`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ("RESULT_MARKER", "main", "peak_rss_mb", "run_compute", "run_file_job")

#: Prefix of the stdout line that carries the JSON result.
RESULT_MARKER = "STREAMKIT_BENCH_RESULT "


def run_file_job(args: argparse.Namespace) -> dict[str, Any]:
    """Run the file-to-file job ``args.job`` and return its ``JobRun`` as a dict.

    Each job's process imports only what the job uses, as a script doing only that
    job would: streamkit for the streamkit job (polars only if streamkit loads it),
    polars for the polars jobs, before the timing starts.
    """
    if args.job == "streamkit":
        import streamkit  # noqa: F401
    elif args.job.startswith("polars"):
        import polars  # noqa: F401 - imported before the timing starts
    from benchmarks.stream_jobs import JOBS

    job = JOBS[args.job]
    src, out = Path(args.src), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.job == "streamkit":
        run = job(
            src,
            out,
            workload=args.workload,
            chunk_size=args.chunk_size,
            parallelism=args.parallelism,
            memory_limit_mb=args.memory_limit_mb,
        )
    elif args.job in ("polars sinks", "polars read-once"):
        run = job(src, out, workload=args.workload)
    else:
        if args.workload != "seed":
            msg = f"job {args.job!r} runs the seed workload only, got {args.workload!r}"
            raise ValueError(msg)
        run = job(src, out, chunk_size=args.chunk_size or 65_536)
    return run.as_dict()


def run_compute(args: argparse.Namespace) -> dict[str, Any]:
    """Time the compute-heavy network on an in-memory table with 1 and 2 workers."""
    from benchmarks.stream_compute import N_FLOAT_OPS, create_compute_heavy_config, run_compute_job
    from examples.seed_network import generate_records
    from streamkit import SimpleFSM

    table = generate_records(args.n)
    start = time.perf_counter()
    fsm = SimpleFSM(create_compute_heavy_config())
    compile_s = time.perf_counter() - start
    levels = (1, 2)
    seconds: dict[str, list[float]] = {str(p): [] for p in levels}
    counts: dict[str, Any] = {}
    for round_ in range(args.repeat + 1):
        for p in levels:
            run = run_compute_job(table, parallelism=p, chunk_size=args.chunk_size, fsm=fsm)
            if run.records_in != table.num_rows:
                msg = f"parallelism={p}: {run.records_in} records in, want {table.num_rows}"
                raise RuntimeError(msg)
            counts[str(p)] = run.counts
            if round_ > 0:  # round 0 warms up (first-chunk costs, thread pools)
                seconds[str(p)].append(run.seconds)
    return {
        "n": args.n,
        "chunk_size": args.chunk_size,
        "compile_s": compile_s,
        "float_ops_per_record": N_FLOAT_OPS,
        "seconds": seconds,
        "counts": counts,
    }


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    file_ = sub.add_parser("file", help="one file-to-file job")
    file_.add_argument("--job", required=True)
    file_.add_argument("--src", required=True)
    file_.add_argument("--out", required=True)
    file_.add_argument("--workload", default="seed", choices=("seed", "flights"))
    file_.add_argument("--chunk-size", type=int, default=None)
    file_.add_argument("--parallelism", type=int, default=None)
    file_.add_argument("--memory-limit-mb", type=float, default=None)
    compute = sub.add_parser("compute", help="the compute-heavy network, 1 vs 2 workers")
    compute.add_argument("--n", type=int, default=5_000_000)
    compute.add_argument("--repeat", type=int, default=3)
    compute.add_argument("--chunk-size", type=int, default=65_536)
    return parser.parse_args(argv)


def peak_rss_mb() -> float | None:
    """This process's own peak resident memory (``VmHWM``) in MB, or ``None`` where unknown.

    Not ``ru_maxrss``: on Linux a process started by ``fork`` and ``exec`` counts
    in it the memory its parent had when it forked.
    """
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the requested mode and print its result line (with the peak RSS, ``peak_rss_mb``)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = run_file_job(args) if args.mode == "file" else run_compute(args)
    result["peak_rss_mb"] = peak_rss_mb()
    print(RESULT_MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
