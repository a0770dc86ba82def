"""Benchmarks of the compiled core on the seed 002 job: streamkit vs polars vs per-record Python.

The job runs over one table of ``STREAMKIT_BENCH_N`` generated records (default
1 M; ``benchmarks/report.py`` uses 2 M), each way written as its users write it
(``benchmarks/memory_jobs.py``):

- ``streamkit``: ``SimpleFSM(config).process(table)``, default settings, every
  output table built (``counts only``: the result's counts alone);
- ``polars``: the reference query (``examples/reference.py``) over the whole
  frame, one ``pl.collect_all``, polars' default thread pool;
- ``python loop``: the reference's per-record function over dicts;
- ``python FSM loop``: the seed config run record by record through the
  reference interpreter ``PyNetwork`` (the issue's 200× target is against it).

Steady state: medians over rounds in this process, after a warm-up round.
First call (streamkit and polars): the library's first call in a fresh
interpreter (``benchmarks/first_call.py``), medians of three. Every benchmark
checks its counts against the polars query's (correctness first); the compile
benchmarks time ``SimpleFSM(config)`` in fresh interpreters against an empty and
then a primed kernel cache (``STREAMKIT_CACHE_DIR``).

Run as tests (one round each)::

    STREAMKIT_BENCH_N=100_000 .venv/bin/python -m pytest benchmarks -q --benchmark-disable
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

from benchmarks.harness import (
    REPO_ROOT,
    as_rows,
    assert_rows_equal,
    bench_first_call,
    bench_steady,
    rounds_for,
    rounds_override,
)
from benchmarks.memory_jobs import (
    JobResult,
    build_py_network,
    polars_frame,
    run_polars,
    run_pyarrow,
    run_python_fsm_loop,
    run_python_loop,
    run_streamkit,
)
from examples.seed_network import generate_records

#: Seconds a compile subprocess may take before the test fails.
COMPILE_TIMEOUT_S = 300

#: Rows in the tiny batch the compile subprocess processes after construction.
FIRST_CHUNK_ROWS = 1_000


# --------------------------------------------------------------------------- throughput


@pytest.mark.parametrize("materialize", [True, False], ids=["streamkit", "streamkit-counts-only"])
def test_seed_streamkit(
    benchmark: Any, seed_fsm: Any, seed_table: pa.Table, polars_reference: JobResult, materialize: bool
) -> None:
    """streamkit, steady state: one ``SimpleFSM.process`` over the table; outputs built unless counts-only."""
    result = bench_steady(
        benchmark,
        lambda: run_streamkit(seed_fsm, seed_table, materialize=materialize),
        job="seed",
        impl="streamkit" if materialize else "streamkit (counts only)",
        n_records=seed_table.num_rows,
        rounds=rounds_for(seed_table.num_rows),
    )
    assert result.counts == polars_reference.counts
    assert result.total == seed_table.num_rows


def test_seed_polars(benchmark: Any, seed_frame: pl.DataFrame, polars_reference: JobResult) -> None:
    """Polars, steady state: the reference query over the whole frame, one ``collect_all``."""
    result = bench_steady(
        benchmark,
        lambda: run_polars("seed", seed_frame),
        job="seed",
        impl="polars",
        n_records=seed_frame.height,
        rounds=rounds_for(seed_frame.height),
        polars_threads=pl.thread_pool_size(),
    )
    assert result.counts == polars_reference.counts


def test_seed_pyarrow(benchmark: Any, seed_table: pa.Table, polars_reference: JobResult) -> None:
    """pyarrow, steady state: ``pyarrow.compute`` over the whole table, one filter per destination."""
    result = bench_steady(
        benchmark,
        lambda: run_pyarrow("seed", seed_table),
        job="seed",
        impl="pyarrow",
        n_records=seed_table.num_rows,
        rounds=rounds_for(seed_table.num_rows),
    )
    assert result.counts == polars_reference.counts


@pytest.mark.parametrize("impl", ["streamkit", "polars"])
def test_seed_first_call(
    benchmark: Any, impl: str, bench_n: int, clean: bool, polars_reference: JobResult, request: pytest.FixtureRequest
) -> None:
    """The first call in a fresh interpreter (streamkit: ``SimpleFSM()`` + ``process``; polars: the query)."""
    if impl == "streamkit":
        request.getfixturevalue("seed_fsm")  # kernels compiled and cached before the subprocess starts
    bench_first_call(benchmark, job="seed", impl=impl, n=bench_n, want_counts=polars_reference.counts, clean=clean)


def test_seed_python_loop(
    benchmark: Any, python_records: list[dict[str, Any]], python_reference: JobResult, bench_n: int
) -> None:
    """The reference's per-record function over dicts (records listed outside the timed region).

    It runs on the first ``python_n`` records (default at most 1 M); per-record
    time is what the report compares, labelled with the subset size.
    """
    _bench_python(
        benchmark,
        lambda: run_python_loop("seed", python_records),
        "python loop",
        python_records,
        python_reference,
        bench_n,
    )


def test_seed_python_fsm_loop(
    benchmark: Any,
    seed_py_network: Any,
    python_records: list[dict[str, Any]],
    python_reference: JobResult,
    bench_n: int,
) -> None:
    """The seed config run record by record: ``PyNetwork(config.main).run(record)`` each."""
    _bench_python(
        benchmark,
        lambda: run_python_fsm_loop(seed_py_network, python_records),
        "python FSM loop",
        python_records,
        python_reference,
        bench_n,
    )


def _bench_python(
    benchmark: Any, run: Any, impl: str, python_records: list[dict[str, Any]], python_reference: JobResult, bench_n: int
) -> None:
    """Time a per-record Python baseline on the record subset; its counts must match polars'."""
    n = len(python_records)
    result = bench_steady(
        benchmark,
        run,
        job="seed",
        impl=impl,
        n_records=n,
        rounds=rounds_for(n, budget=3_000_000, high=5),
        warmup_rounds=0,
        subset_of=bench_n,
    )
    assert result.counts == python_reference.counts
    assert result.total == n


# --------------------------------------------------------------------------- compile time

_COMPILE_SCRIPT = """
import json, sys, time
sys.path.insert(0, {root!r})
from examples.seed_network import create_streaming_fsm_config, generate_records  # not timed
config = create_streaming_fsm_config()
batch = generate_records({rows}).to_batches()[0]
t0 = time.perf_counter()
from streamkit import SimpleFSM
t1 = time.perf_counter()
fsm = SimpleFSM(config)
t2 = time.perf_counter()
result = fsm.process(batch)
t3 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "construct_s": t2 - t1, "first_chunk_s": t3 - t2,
                   "total_records": result.total_records}}))
"""


def _compile_once(cache_dir: Path, numba_cache_dir: Path | None = None) -> dict[str, float]:
    """Time ``SimpleFSM(seed config)`` (and a first 1k-row chunk) in a fresh interpreter.

    ``STREAMKIT_CACHE_DIR`` points at ``cache_dir``; with ``numba_cache_dir`` numba's
    own cache (the precompiled helpers in ``kernels/``) is redirected too. Returns
    the seconds the subprocess measured: ``import_s``, ``construct_s``,
    ``first_chunk_s`` and ``compile_s`` (= construct + first chunk, so lazy
    compilation cannot hide).
    """
    env = dict(os.environ, STREAMKIT_CACHE_DIR=str(cache_dir))
    if numba_cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = str(numba_cache_dir)
    proc = subprocess.run(
        [sys.executable, "-c", _COMPILE_SCRIPT.format(root=str(REPO_ROOT), rows=FIRST_CHUNK_ROWS)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMPILE_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"compile subprocess failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["total_records"] == FIRST_CHUNK_ROWS
    out["compile_s"] = out["construct_s"] + out["first_chunk_s"]
    return out


def _record_compile(benchmark: Any, runs: Sequence[Mapping[str, float]], job: str) -> None:
    """Store the medians of the in-process timings of ``runs`` in ``extra_info``."""
    benchmark.extra_info["job"] = job
    for key in ("import_s", "construct_s", "first_chunk_s", "compile_s"):
        benchmark.extra_info[key] = statistics.median(r[key] for r in runs)
    benchmark.extra_info["repeats_compile_s"] = [r["compile_s"] for r in runs]
    benchmark.extra_info["runs"] = len(runs)


def _fresh_dir(tmp_path: Path, prefix: str) -> Path:
    """A new empty directory under ``tmp_path``."""
    for k in range(1_000_000):
        path = tmp_path / f"{prefix}{k}"
        if not path.exists():
            path.mkdir()
            return path
    raise RuntimeError("no free directory name")  # pragma: no cover


@pytest.mark.usefixtures("simple_fsm_cls")
def test_compile_cold(benchmark: Any, tmp_path: Path) -> None:
    """Cold compile: each round a fresh interpreter with an empty ``STREAMKIT_CACHE_DIR``."""
    runs: list[dict[str, float]] = []
    dirs: list[Path] = []

    def setup() -> tuple[tuple[Path], dict[str, Any]]:
        dirs.append(_fresh_dir(tmp_path, "cache"))
        return (dirs[-1],), {}

    def target(cache_dir: Path) -> None:
        runs.append(_compile_once(cache_dir))

    benchmark.pedantic(target, setup=setup, rounds=rounds_override() or 3, iterations=1)
    _record_compile(benchmark, runs, "compile cold")
    assert any(dirs[-1].iterdir()), "streamkit wrote no kernel cache into STREAMKIT_CACHE_DIR"


@pytest.mark.usefixtures("simple_fsm_cls")
def test_compile_warm(benchmark: Any, tmp_path: Path) -> None:
    """Warm compile: fresh interpreters reusing a kernel cache primed by one earlier run."""
    cache_dir = _fresh_dir(tmp_path, "cache")
    _compile_once(cache_dir)  # prime
    runs: list[dict[str, float]] = []
    benchmark.pedantic(lambda: runs.append(_compile_once(cache_dir)), rounds=rounds_override() or 3, iterations=1)
    _record_compile(benchmark, runs, "compile warm")


@pytest.mark.usefixtures("simple_fsm_cls")
def test_compile_cold_all_caches(benchmark: Any, tmp_path: Path) -> None:
    """Fresh-install compile: empty ``STREAMKIT_CACHE_DIR`` *and* ``NUMBA_CACHE_DIR``.

    Informational (no target): also recompiles numba's cached helpers in ``kernels/``.
    """
    runs: list[dict[str, float]] = []

    def setup() -> tuple[tuple[Path, Path], dict[str, Any]]:
        return (_fresh_dir(tmp_path, "cache"), _fresh_dir(tmp_path, "numba")), {}

    def target(cache_dir: Path, numba_dir: Path) -> None:
        runs.append(_compile_once(cache_dir, numba_dir))

    benchmark.pedantic(target, setup=setup, rounds=1, iterations=1)
    _record_compile(benchmark, runs, "compile cold (all caches empty)")


# --------------------------------------------------------------------------- correctness


def _edge_table() -> pa.Table:
    """Seed records at every boundary of the job (tiers, null, negative, int64 overflow)."""
    values = [0, 1, 999, 1000, 1001, 4999, 5000, 5001, 100_000, -1, None,
              3_037_000_499, 3_037_000_500, 2**62, 2**63 - 1, -(2**63)]  # fmt: skip
    n = len(values)
    edges = pa.table(
        {
            "id": pa.array(range(10**9, 10**9 + n), pa.int64()),
            "value": pa.array(values, pa.int64()),
            "category": pa.array([f"cat_{i % 5}" for i in range(n)], pa.string()),
            "status": pa.array(["pending"] * n, pa.string()),
        }
    )
    return pa.concat_tables([edges, generate_records(5_000, seed=1)])


def test_baselines_agree() -> None:
    """The polars query, the pyarrow code and the Python loop produce the same rows for every destination."""
    table = _edge_table()
    loop = run_python_loop("seed", table.to_pylist())
    polars = run_polars("seed", polars_frame(table), collect=True)
    arrow = run_pyarrow("seed", table, collect=True)
    assert polars.counts == loop.counts == arrow.counts
    assert loop.counts["failed"] == 3  # 3_037_000_500, 2**62, 2**63 - 1 overflow int64
    assert loop.counts["error"] >= 3
    for key, rows in loop.outputs.items():
        assert_rows_equal(as_rows(polars.outputs[key]), as_rows(rows), f"polars {key}")
        assert_rows_equal(as_rows(arrow.outputs[key]), as_rows(rows), f"pyarrow {key}")


def test_python_fsm_loop_matches_python_loop() -> None:
    """The PyNetwork run of the seed config produces the hand-written loop's rows.

    The interpreter drops null fields, so an ``error`` row with a null ``value``
    lacks the key: compared as ``None``.
    """
    records = _edge_table().to_pylist()
    loop = run_python_loop("seed", records)
    fsm = run_python_fsm_loop(build_py_network(), records)
    assert fsm.counts == loop.counts
    assert fsm.outputs.keys() == loop.outputs.keys()
    for key, rows in loop.outputs.items():
        want = as_rows(rows)
        # fill the keys the interpreter dropped (null fields); extra keys still show
        got = as_rows([{**dict.fromkeys(want[0]), **r} for r in fsm.outputs[key]])
        assert_rows_equal(got, want, f"python FSM loop {key}")


@pytest.mark.parametrize("chunk_size", [1_024, None], ids=["chunks-of-1024", "default"])
def test_streamkit_matches_python_loop(
    simple_fsm_cls: Any, seed_config: dict[str, Any], chunk_size: int | None
) -> None:
    """streamkit's outputs equal the Python loop's, field by field (in small chunks, and by default).

    Output tables may carry extra columns (the row id); the loop's columns must
    all be there with equal values. Failed records are matched by id.
    """
    table = _edge_table()
    loop = run_python_loop("seed", table.to_pylist())
    fsm = simple_fsm_cls(seed_config) if chunk_size is None else simple_fsm_cls(seed_config, chunk_size=chunk_size)
    result = run_streamkit(fsm, table, collect=True)
    assert result.counts == loop.counts
    for key in ("output", "error"):
        want = as_rows(loop.outputs[key])
        assert_rows_equal(as_rows(result.outputs[key], list(want[0])), want, f"streamkit {key}")
    errors = result.outputs["failed"]
    assert errors.num_rows == loop.counts["failed"]
    assert sorted(errors.column("id").to_pylist()) == sorted(r["id"] for r in loop.outputs["failed"])
