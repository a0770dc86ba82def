"""Benchmark the Ray engine: files as Ray tasks against local threads, and a Ray Data stage against polars.

Usage (``make bench-ray``; Ray installed: ``pip install 'streamkit[ray]'``)::

    python benchmarks/ray_report.py [--n 10000000] [--data-n 3000000] [--repeat 3] [--num-cpus 2] [--strict]

- ``files``: the seed JSONL → JSONL job (``benchmarks/stream_jobs.py``: ``ensure_input``,
  every end state to its file, failed records beside them) at ``--n`` records, by
  ``process_stream`` with the local engine (threads, the default) and with
  ``engine="ray"`` (Ray tasks over slices of the file; the driver writes what
  they hand back). Ray is started once, before the runs (``ray.init`` is reported
  apart); the first Ray run also starts the workers and loads the kernels in
  them, so it is reported apart too. The local runs happen while Ray is up and
  idle.
- ``parts``: the same job with each end state written as a directory of parts
  (``sinks={state: "out/<state>/"}``), locally and on Ray, where each task
  writes its slice's parts itself and the driver only renames them into place.
- ``Ray Data``: ``read_parquet`` of the seed Parquet input (``--data-n`` records)
  → the seed logic → every destination counted, by a streamkit stage
  (``process_stream(dataset, engine="ray")``, then ``count()`` of each output
  and of the failed records) and by the same logic as a ``map_batches`` polars
  function (``examples/reference.py``'s ``seed_polars`` over each batch, the
  destinations tagged and materialized, then counted). Both are checked to
  give the same counts.

The two sides of a comparison run in turns (``--repeat`` rounds, the order
swapped every other round, so a machine's changing load falls on both); each
figure is the median of its runs, with the CPU seconds of this process and its
children (Ray's workers). Exit status 1 with ``--strict`` when a target fails.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.figures import ReportFigures, make_figure, print_report
from benchmarks.tables import Target, plain_table, target_table

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


def files_job(src: Path, engine: str) -> tuple[float, dict[str, int]]:
    """The seed JSONL → JSONL job with ``engine``: seconds and records per destination."""
    from benchmarks.stream_jobs import run_streamkit

    out = Path(tempfile.mkdtemp(prefix=f"sk-ray-{engine}-"))
    try:
        run = run_streamkit(src, out, engine=engine)
        return run.seconds, run.counts
    finally:
        shutil.rmtree(out, ignore_errors=True)


def parts_job(src: Path, engine: Any) -> tuple[float, dict[str, int]]:
    """The seed job with each end state written as a directory of parts: seconds and records per destination.

    On Ray each task writes its slice's parts itself (the driver renames them into place).
    """
    from benchmarks.stream_jobs import REFERENCES, WORKLOADS
    from streamkit import SimpleFSM

    out = Path(tempfile.mkdtemp(prefix=f"sk-ray-parts-{engine}-"))
    try:
        start = time.perf_counter()
        ends = WORKLOADS["seed"].end_states
        result = SimpleFSM(REFERENCES["seed"].config()).process_stream(
            str(src),
            sinks={key: f"{out / key}/" for key in ends},
            error_sink=str(out / "failed.jsonl"),
            engine=engine,
        )
        seconds = time.perf_counter() - start
        counts = {key: int(result.end_state_counts.get(key, 0)) for key in ends}
        counts["failed"] = int(result.failed)
        return seconds, counts
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


def _cpu_seconds() -> float:
    """CPU seconds used so far by this process and its children alive now (Ray's workers and daemons)."""
    import psutil  # a dependency of Ray

    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


def _timed(fn: Any, *args: Any) -> tuple[float, dict[str, int], float]:
    """``fn(*args)``'s seconds and counts, and the CPU seconds it took (this process and its children)."""
    c0 = _cpu_seconds()
    seconds, counts = fn(*args)
    return seconds, counts, _cpu_seconds() - c0


def _rounds(pair: tuple[Any, Any], args: tuple[Any, ...], repeat: int) -> tuple[list[Any], list[Any]]:
    """``repeat`` rounds of the two jobs, interleaved, the order swapped every other round (drift cancels)."""
    first: list[Any] = []
    second: list[Any] = []
    for k in range(repeat):
        order = [(pair[0], first), (pair[1], second)]
        for fn, out in order if k % 2 == 0 else order[::-1]:
            out.append(_timed(fn, *args))
    return first, second


def measure(args: argparse.Namespace) -> ReportFigures:
    """Measure; return the figures, the targets and the printed tables."""
    import ray

    from benchmarks.stream_jobs import ensure_input

    started = time.perf_counter()
    src = ensure_input(args.n, "jsonl")
    pq_src = ensure_input(args.data_n, "parquet")
    init_s = _start_ray(args.num_cpus)
    try:
        first_ray = _timed(files_job, src, "ray")
        files_job(src, "local")  # the page cache holds the input for both
        local, on_ray = _rounds(
            (partial(files_job, engine="local"), partial(files_job, engine="ray")), (src,), args.repeat
        )
        local_parts, ray_parts = _rounds(
            (partial(parts_job, engine="local"), partial(parts_job, engine="ray")), (src,), args.repeat
        )
        data_polars(pq_src)  # the workers import polars once, before the timed runs
        data_streamkit(pq_src)
        sk, pl_runs = _rounds((data_streamkit, data_polars), (pq_src,), args.repeat)
    finally:
        ray.shutdown()
    same_files = all(c == local[0][1] for _, c, _ in [*local, first_ray, *on_ray, *local_parts, *ray_parts])
    same_data = all(c == pl_runs[0][1] for _, c, _ in [*sk, *pl_runs])

    def med(runs: list[Any], k: int = 0) -> float:
        return statistics.median(r[k] for r in runs)

    t_local, t_ray, t_sk, t_pl = med(local), med(on_ray), med(sk), med(pl_runs)
    files_ratio = t_local / t_ray
    parts_ratio = med(local_parts) / med(ray_parts)
    per_round_parts = sorted(a[0] / b[0] for a, b in zip(local_parts, ray_parts))
    data_ratio = t_pl / t_sk
    per_round = sorted(a[0] / b[0] for a, b in zip(local, on_ray))
    per_round_data = sorted(b[0] / a[0] for a, b in zip(sk, pl_runs))

    def row(what: str, runs: list[Any], n: int) -> tuple[str, str, str, str]:
        t = med(runs)
        return what, f"{t:.2f}", f"{n / t / 1e6:.2f}M", f"{med(runs, 2):.1f}"

    files, data = f"JSONL → JSONL, {args.n:,}", f"Ray Data, {args.data_n:,}"
    parts = f"JSONL → directories of parts, {args.n:,}"
    table = plain_table(
        ["measure", "seconds (median)", "records/s", "CPU s (median)"],
        [
            (f"ray.init (num_cpus={args.num_cpus})", f"{init_s:.2f}", "", ""),
            (f"{files}: Ray tasks, first run", f"{first_ray[0]:.2f}", "", f"{first_ray[2]:.1f}"),
            row(f"{files}: local threads", local, args.n),
            row(f"{files}: Ray tasks", on_ray, args.n),
            row(f"{parts}: local threads", local_parts, args.n),
            row(f"{parts}: Ray tasks (each writes its parts)", ray_parts, args.n),
            row(f"{data}: streamkit stage", sk, args.data_n),
            row(f"{data}: polars map_batches", pl_runs, args.data_n),
            ("same counts (files / Ray Data)", f"{same_files} / {same_data}", "", ""),
        ],
    )
    rows = [
        Target(
            "JSONL → JSONL on Ray vs local threads",
            "≥ 0.7×",
            f"{files_ratio:.2f}× (rounds {per_round[0]:.2f}-{per_round[-1]:.2f})",
            files_ratio >= 0.7,
        ),
        Target(
            "JSONL → directories of parts on Ray vs local threads",
            "≥ 0.7×",
            f"{parts_ratio:.2f}× (rounds {per_round_parts[0]:.2f}-{per_round_parts[-1]:.2f})",
            parts_ratio >= 0.7,
        ),
        Target(
            "Ray Data: streamkit stage vs polars map_batches",
            "≥ 1×",
            f"{data_ratio:.2f}× (rounds {per_round_data[0]:.2f}-{per_round_data[-1]:.2f})",
            data_ratio >= 1.0,
        ),
    ]
    figures = {
        "JSONL → JSONL, local threads": make_figure([r[0] for r in local], unit="s", records=args.n),
        "JSONL → JSONL, Ray tasks": make_figure([r[0] for r in on_ray], unit="s", records=args.n),
        "JSONL → parts, local threads": make_figure([r[0] for r in local_parts], unit="s", records=args.n),
        "JSONL → parts, Ray tasks": make_figure([r[0] for r in ray_parts], unit="s", records=args.n),
        "Ray Data, streamkit stage": make_figure([r[0] for r in sk], unit="s", records=args.data_n),
        "Ray Data, polars map_batches": make_figure([r[0] for r in pl_runs], unit="s", records=args.data_n),
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
    return print_report(measure, parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
