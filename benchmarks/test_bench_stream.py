"""Benchmarks of jobs from file to file: streamkit vs polars vs a per-record Python loop.

Each job of :data:`benchmarks.stream_jobs.JOBS` reads a generated input file
(JSONL or Parquet) of ``STREAMKIT_BENCH_N`` seed records (default 100 000 here;
inputs cached in ``STREAMKIT_BENCH_DATA``) and writes the two end states to two
files. Every benchmark checks its counts (records in, per sink) against the
seed job run in memory; :func:`test_stream_outputs_agree` checks that every
job's files hold the same records as the Python loop's, sorted by id.

The flights ETL runs JSONL → Parquet (streamkit, polars sinks, polars
read-once) over the first ``etl_n("flights")`` flights (every flight at full
size, ``N // 5`` in the quick tests); :func:`test_flights_outputs_agree`
checks streamkit's files against polars read-once's.

Run as tests (one round each)::

    .venv/bin/python -m pytest benchmarks/test_bench_stream.py -q --benchmark-disable

The full measurement, each job in its own process with peak RSS and the
targets, is ``benchmarks/stream_report.py``. Results go to
``extra_info['stream_job']`` (not ``'job'``), so ``benchmarks/report.py``'s
table of the in-memory core is unaffected when it runs the whole directory.
"""

from __future__ import annotations

import math
import os
import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import polars.testing
import pytest

from benchmarks.conftest import etl_n
from benchmarks.memory_jobs import polars_frame, run_polars
from benchmarks.stream_compute import create_compute_heavy_config, python_score, run_compute_job
from benchmarks.stream_jobs import (
    FLIGHTS_JOBS,
    FORMATS,
    JOBS,
    SINK_KEYS,
    JobRun,
    count_records,
    ensure_input,
    output_files,
)
from examples.seed_network import generate_records

#: Records per run when STREAMKIT_BENCH_N is not set (fast enough for `make test`).
DEFAULT_STREAM_N = 100_000

#: The row-id column streamkit writes with every output (DESIGN.md §2); the
#: generated ids are the input positions, so it must equal ``id``.
ROW_ID = "_row"

#: Above this many records the benchmarks run one round each and are marked slow.
LARGE_N = 1_000_000


def _stream_n() -> int:
    raw = os.environ.get("STREAMKIT_BENCH_N", "").strip().replace("_", "")
    if not raw:
        return DEFAULT_STREAM_N
    try:
        value = int(raw)
    except ValueError:
        raise pytest.UsageError(f"STREAMKIT_BENCH_N must be an integer, got {raw!r}") from None
    if value <= 0:
        raise pytest.UsageError(f"STREAMKIT_BENCH_N must be positive, got {value}")
    return value


N = _stream_n()

pytestmark = [pytest.mark.slow] if N > LARGE_N else []


def _streamkit_missing() -> str:
    """Why streamkit's file streaming cannot run yet ('' when it can).

    While ``streamkit.io`` and ``streamkit.engine`` are being written, importing
    them fails on a name inside streamkit: that skips the streamkit jobs (the
    reason is shown with ``-ra``). Any other import error surfaces.
    """
    try:
        import streamkit.engine.stream  # noqa: F401 - imports streamkit.io's sources and sinks
        from streamkit import SimpleFSM
    except ImportError as exc:
        if (exc.name or "").startswith("streamkit"):
            return f"streamkit's streaming engine is not importable yet: {exc}"
        raise
    if not hasattr(SimpleFSM, "process_stream"):
        return "streamkit.SimpleFSM has no process_stream yet"
    return ""


def _job_or_skip(name: str) -> Any:
    if name == "streamkit":
        reason = _streamkit_missing()
        if reason:
            pytest.skip(reason)
    return JOBS[name]


@pytest.fixture(scope="module")
def inputs() -> dict[str, Path]:
    """The input file of N records per format (generated once, then cached)."""
    return {fmt: ensure_input(N, fmt) for fmt in FORMATS}


@pytest.fixture(scope="module")
def reference_counts() -> dict[str, int]:
    """Records per sink of the seed job on the same records, run in memory with polars."""
    counts = run_polars("seed", polars_frame(generate_records(N))).counts
    return {key: counts.get(key, 0) for key in SINK_KEYS}


@pytest.fixture
def out_dirs(tmp_path: Path) -> Iterator[Any]:
    """A factory of fresh output directories under ``tmp_path`` (removed at teardown)."""
    made: list[Path] = []

    def fresh() -> Path:
        path = tmp_path / f"out{len(made)}"
        path.mkdir()
        made.append(path)
        return path

    yield fresh
    for path in made:
        shutil.rmtree(path, ignore_errors=True)


def _run(name: str, src: Path, out_dir: Path) -> JobRun:
    """Run job ``name``: streamkit with its defaults, the chunked seed-only jobs with 64k-row batches."""
    job = JOBS[name]
    return job(src, out_dir, chunk_size=65_536) if name in ("polars batches", "python loop") else job(src, out_dir)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(JOBS))
def test_stream_job(
    benchmark: Any, name: str, fmt: str, inputs: dict[str, Path], reference_counts: dict[str, int], out_dirs: Any
) -> None:
    """One whole job, file to file; its counts and written files match the seed job's."""
    _job_or_skip(name)
    src = inputs[fmt]
    runs: list[JobRun] = []
    dirs: list[Path] = []

    def setup() -> tuple[tuple[Path], dict[str, Any]]:
        dirs.append(out_dirs())
        return (dirs[-1],), {}

    def target(out_dir: Path) -> JobRun:
        start = time.perf_counter()
        run = _run(name, src, out_dir)
        run.info["wall_s"] = time.perf_counter() - start
        runs.append(run)
        return run

    rounds = 1 if N > LARGE_N else 3
    benchmark.pedantic(target, setup=setup, rounds=rounds, iterations=1)
    seconds = statistics.median(r.seconds for r in runs)
    benchmark.extra_info.update(stream_job=name, fmt=fmt, n_records=N, median_s=seconds, records_per_s=N / seconds)
    for run, out_dir in zip(runs, dirs):
        assert run.records_in == N
        assert run.counts == reference_counts
        files = output_files(out_dir, fmt)
        assert {key: count_records(path) for key, path in files.items()} == reference_counts


# --------------------------------------------------------------------------- correctness


def _read(path: Path) -> pl.DataFrame:
    """A written file as a DataFrame sorted by id (categoricals as strings); empty if missing."""
    if not path.exists() or path.stat().st_size == 0:
        return pl.DataFrame()
    if path.suffix == ".parquet":
        df = pl.read_parquet(path)
    else:
        df = pl.read_ndjson(path, infer_schema_length=None)
    df = df.with_columns(pl.col(pl.Categorical, pl.Enum).cast(pl.String))
    return df.sort("id")


@pytest.mark.parametrize("fmt", FORMATS)
def test_stream_outputs_agree(fmt: str, inputs: dict[str, Path], out_dirs: Any) -> None:
    """Every job's files hold the Python loop's records: same columns and values, by id.

    streamkit also writes each record's position in the stream (``_row``,
    DESIGN.md §2): it must equal the generated ``id`` and is then left out.
    Floats agree within 1e-9 relative (polars computes ``x / 100`` as ``x * 0.01``).
    """
    src = inputs[fmt]
    reference_dir = out_dirs()
    _run("python loop", src, reference_dir)
    want = {key: _read(path) for key, path in output_files(reference_dir, fmt).items()}
    assert want["output"].height + want["error"].height + want["failed"].height == N
    names = [n for n in JOBS if n != "python loop" and not (n == "streamkit" and _streamkit_missing())]
    for name in names:
        out_dir = out_dirs()
        _run(name, src, out_dir)
        for key, path in output_files(out_dir, fmt).items():
            got = _read(path)
            if ROW_ID in got.columns:  # DESIGN.md §2: every output carries the record's position
                assert (got[ROW_ID] == got["id"]).all(), f"{name}: {path.name} `_row` != position"
                got = got.drop(ROW_ID)
            if want[key].height == 0:
                assert got.height == 0, f"{name} wrote {got.height} {key} records, want none"
                continue
            try:
                polars.testing.assert_frame_equal(got, want[key], check_column_order=False, rel_tol=1e-9, abs_tol=0.0)
            except AssertionError as exc:
                msg = (
                    f"{name}: {path.name} differs from the Python loop's\n"
                    f"got columns {got.columns}, want {want[key].columns}\n{exc}"
                )
                raise AssertionError(msg) from None
    if _streamkit_missing():
        pytest.skip(_streamkit_missing())


def test_compute_heavy_network() -> None:
    """The compute-heavy network's ``score`` equals Python's, and 1 or 2 workers count the same."""
    reason = _streamkit_missing()
    if reason:
        pytest.skip(reason)
    from streamkit import SimpleFSM

    fsm = SimpleFSM(create_compute_heavy_config())
    table = generate_records(20_000, seed=3)
    out = fsm.process(table).output("output").to_pylist()
    assert out
    for rec in out[:: max(1, len(out) // 500)]:
        assert math.isclose(rec["score"], python_score(rec["value"]), rel_tol=1e-9), rec
    runs = [run_compute_job(table, parallelism=p, chunk_size=4_096, fsm=fsm) for p in (1, 2)]
    valid = sum(1 for v in table.column("value").to_pylist() if v is not None and v >= 0)
    for run in runs:
        assert run.records_in == table.num_rows
        assert run.counts == {"output": valid, "error": table.num_rows - valid, "failed": 0}


# --------------------------------------------------------------------------- flights JSONL → Parquet


@pytest.fixture(scope="module")
def flights_input() -> tuple[Path, dict[str, int]]:
    """The flights JSONL input and its counts per destination (the reference query, in memory)."""
    n = etl_n("flights")
    src = ensure_input(n, "jsonl", workload="flights")
    frame = pl.read_ndjson(src, infer_schema_length=None)
    from benchmarks.memory_jobs import job_input

    counts = run_polars("flights", polars_frame(job_input("flights", n))).counts
    assert frame.height == n
    return src, {**dict.fromkeys(output_files(Path(), "parquet", "flights"), 0), **counts}


@pytest.mark.parametrize("name", FLIGHTS_JOBS)
def test_flights_file_job(benchmark: Any, name: str, flights_input: tuple[Path, dict[str, int]], out_dirs: Any) -> None:
    """The flights ETL from JSONL to Parquet files; counts per file equal the in-memory query's."""
    _job_or_skip(name)
    src, want = flights_input
    runs: list[tuple[JobRun, Path]] = []

    def target() -> None:
        out_dir = out_dirs()
        runs.append((JOBS[name](src, out_dir, workload="flights"), out_dir))

    benchmark.pedantic(target, rounds=1 if benchmark.disabled else 3, iterations=1)
    seconds = statistics.median(r.seconds for r, _ in runs)
    n = sum(want.values())
    benchmark.extra_info.update(
        stream_job=name,
        fmt="jsonl → parquet",
        workload="flights",
        n_records=n,
        median_s=seconds,
        records_per_s=n / seconds,
    )
    for run, out_dir in runs:
        assert run.records_in == n
        assert run.counts == want
        files = output_files(out_dir, "parquet", "flights")
        assert {key: count_records(path) for key, path in files.items()} == want


def test_flights_outputs_agree(flights_input: tuple[Path, dict[str, int]], out_dirs: Any) -> None:
    """streamkit's Parquet files hold polars read-once's records, in input order (``_row`` dropped)."""
    reason = _streamkit_missing()
    if reason:
        pytest.skip(reason)
    src, _ = flights_input
    want_dir, got_dir = out_dirs(), out_dirs()
    JOBS["polars read-once"](src, want_dir, workload="flights")
    JOBS["streamkit"](src, got_dir, workload="flights")
    for key, path in output_files(got_dir, "parquet", "flights").items():
        if key == "failed":
            assert count_records(path) == 0
            continue
        got = pl.read_parquet(path).with_columns(pl.col(pl.Categorical, pl.Enum).cast(pl.String))
        assert got[ROW_ID].is_sorted(), f"{key}: not in input order"
        want = pl.read_parquet(output_files(want_dir, "parquet", "flights")[key])
        polars.testing.assert_frame_equal(
            got.drop(ROW_ID), want, check_column_order=False, check_dtypes=False, rel_tol=1e-9, abs_tol=0.0
        )
