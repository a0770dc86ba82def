"""Benchmark the Ray engine: files as Ray tasks against local threads, and a Ray Data stage against polars.

Usage (``make bench-ray``; Ray installed: ``pip install 'streamkit[ray]'``)::

    python benchmarks/ray_report.py [--n 10000000] [--data-n 3000000] [--repeat 3] [--num-cpus 2] [--strict]

- ``files``: the seed JSONL → JSONL job (``benchmarks/stream_jobs.py``: ``ensure_input``,
  every end state to its file, failed records beside them) at ``--n`` records, by
  ``process_stream`` with the local engine (threads, the default) and with
  ``engine="ray"`` (Ray tasks over byte ranges, each writing its own parts, joined
  at the end). Ray is started once, before the runs (``ray.init`` is reported
  apart); the first Ray run also starts the workers and loads the kernels in them,
  so it is reported apart too and the median is of the runs after it.
- ``Ray Data``: ``read_parquet`` of the seed Parquet input (``--data-n`` records)
  → the seed logic → every destination counted, by a streamkit stage
  (``process_stream(dataset, engine="ray")``, then ``count()`` of each output
  and of the failed records) and by the same logic as a ``map_batches`` polars
  function (``examples/reference.py``'s ``seed_polars`` over each batch, the
  destinations tagged and materialized, then counted). Both are checked to
  give the same counts.

Each timing is the median of ``--repeat`` runs. Exit status 1 with ``--strict`` when a target fails.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.figures import ReportFigures, make_figure
from benchmarks.tables import Target, load_average, plain_table, target_table

ROOT = Path(__file__).resolve().parent.parent


def _start_ray(num_cpus: int) -> float:
    """Start Ray on this machine (``num_cpus`` cores); the seconds ``ray.init`` took."""
    import ray

    t0 = time.perf_counter()
    # the workers import the repository's modules (examples/) as the driver does
    ray.init(
        num_cpus=num_cpus,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
    )
    return time.perf_counter() - t0


def files_job(src: Path, *, engine: str) -> tuple[float, dict[str, int]]:
    """The seed JSONL → JSONL job with ``engine``: seconds and records per destination."""
    from benchmarks.stream_jobs import run_streamkit

    out = Path(tempfile.mkdtemp(prefix=f"sk-ray-{engine}-"))
    try:
        run = run_streamkit(src, out, engine=engine)
        return run.seconds, run.counts
    finally:
        shutil.rmtree(out, ignore_errors=True)


def data_streamkit(path: Path) -> tuple[float, dict[str, int]]:
    """Ray Data: read Parquet → a streamkit stage → every destination counted."""
    import ray.data

    from examples.reference import REFERENCES
    from streamkit import SimpleFSM

    t0 = time.perf_counter()
    fsm = SimpleFSM(REFERENCES["seed"].config())
    result = fsm.process_stream(ray.data.read_parquet(str(path)), engine="ray")
    counts = {s: result.output(s).count() for s in result.end_states}
    counts["failed"] = result.errors().count()
    return time.perf_counter() - t0, counts


def _polars_batch(batch: Any) -> Any:
    """The seed logic as polars over one Arrow batch: every destination's rows, tagged ``_dest``."""
    import polars as pl

    from examples.reference import seed_polars

    frames = pl.collect_all(list(seed_polars(pl.from_arrow(batch).lazy()).values()))  # type: ignore[union-attr]
    names = ["output", "error", "failed"]
    tagged = [f.with_columns(_dest=pl.lit(k)) for k, f in zip(names, frames)]
    return pl.concat(tagged, how="diagonal_relaxed").to_arrow()


def data_polars(path: Path) -> tuple[float, dict[str, int]]:
    """Ray Data: read Parquet → the seed logic as a ``map_batches`` polars function → every destination counted."""
    import ray.data
    from ray.data.expressions import col

    t0 = time.perf_counter()
    mapped = ray.data.read_parquet(str(path)).map_batches(_polars_batch, batch_format="pyarrow").materialize()
    counts = {k: mapped.filter(expr=col("_dest") == k).count() for k in ("output", "error", "failed")}
    return time.perf_counter() - t0, counts


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="records of the JSONL → JSONL job")
    parser.add_argument("--data-n", type=int, default=3_000_000, help="records of the Ray Data pipeline")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--num-cpus", type=int, default=2)
    parser.add_argument("--strict", action="store_true")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> ReportFigures:
    """Measure; return the figures, the targets and the printed tables."""
    import ray

    from benchmarks.stream_jobs import ensure_input

    started = time.perf_counter()
    src = ensure_input(args.n, "jsonl")
    pq_src = ensure_input(args.data_n, "parquet")
    local = [files_job(src, engine="local") for _ in range(args.repeat)]
    init_s = _start_ray(args.num_cpus)
    try:
        first_ray = files_job(src, engine="ray")
        on_ray = [files_job(src, engine="ray") for _ in range(args.repeat)]
        data_polars(pq_src)  # the workers import polars once, before the timed runs
        sk = [data_streamkit(pq_src) for _ in range(args.repeat)]
        pl_runs = [data_polars(pq_src) for _ in range(args.repeat)]
    finally:
        ray.shutdown()
    same_files = all(c == local[0][1] for _, c in [*local, first_ray, *on_ray])
    same_data = all(c == pl_runs[0][1] for _, c in [*sk, *pl_runs])
    t_local = statistics.median(s for s, _ in local)
    t_ray = statistics.median(s for s, _ in on_ray)
    t_sk = statistics.median(s for s, _ in sk)
    t_pl = statistics.median(s for s, _ in pl_runs)
    files_ratio = t_local / t_ray
    data_ratio = t_pl / t_sk
    table = plain_table(
        ["measure", "seconds", "records/s"],
        [
            (f"ray.init (num_cpus={args.num_cpus})", f"{init_s:.2f}", ""),
            (f"JSONL → JSONL, {args.n:,}: local threads", f"{t_local:.2f}", f"{args.n / t_local / 1e6:.2f}M"),
            (f"JSONL → JSONL, {args.n:,}: Ray tasks, first run", f"{first_ray[0]:.2f}", ""),
            (f"JSONL → JSONL, {args.n:,}: Ray tasks", f"{t_ray:.2f}", f"{args.n / t_ray / 1e6:.2f}M"),
            (f"Ray Data, {args.data_n:,}: streamkit stage", f"{t_sk:.2f}", f"{args.data_n / t_sk / 1e6:.2f}M"),
            (f"Ray Data, {args.data_n:,}: polars map_batches", f"{t_pl:.2f}", f"{args.data_n / t_pl / 1e6:.2f}M"),
            ("same counts (files / Ray Data)", f"{same_files} / {same_data}", ""),
        ],
    )
    rows = [
        Target("JSONL → JSONL on Ray vs local threads", "≥ 0.7×", f"{files_ratio:.2f}×", files_ratio >= 0.7),
        Target("Ray Data: streamkit stage vs polars map_batches", "≥ 1×", f"{data_ratio:.2f}×", data_ratio >= 1.0),
    ]
    figures = {
        "JSONL → JSONL, local threads": make_figure([s for s, _ in local], unit="s", records=args.n),
        "JSONL → JSONL, Ray tasks": make_figure([s for s, _ in on_ray], unit="s", records=args.n),
        "Ray Data, streamkit stage": make_figure([s for s, _ in sk], unit="s", records=args.data_n),
        "Ray Data, polars map_batches": make_figure([s for s, _ in pl_runs], unit="s", records=args.data_n),
    }
    return ReportFigures(
        "ray",
        "the Ray engine",
        figures=figures,
        targets=rows,
        text=table + "\n\n" + target_table(rows),
        ok=same_files and same_data,
        seconds=time.perf_counter() - started,
    )


def main(argv: list[str] | None = None) -> int:
    """Measure, print the tables; exit 1 with ``--strict`` when a target fails."""
    args = parse_args(argv)
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"machine: {os.cpu_count()} cores; load {load_average()} before")
    result = measure(args)
    print()
    print(result.text)
    print(f"\nload {load_average()} after")
    return 1 if args.strict and not all(t.ok for t in result.targets) else 0


if __name__ == "__main__":
    raise SystemExit(main())
