"""Benchmarks of the compiled core on the seed 002 job: streamkit vs polars vs per-record Python.

Two per-record Python baselines: the hand-written straight-line loop ("python
loop") and the seed config run record by record through the reference
interpreter ``PyNetwork`` ("python FSM loop", what per-record FSM engines do;
the issue's 200× target is measured against it).

Each throughput benchmark runs the whole seed job over ``STREAMKIT_BENCH_N``
generated records (default 1 M; ``benchmarks/report.py`` uses 10 M), checks
that its counts equal the polars job's (correctness first), and stores
``ns_per_record`` (median over rounds) in ``benchmark.extra_info`` for the
report. The compile benchmarks time ``SimpleFSM(config)`` in fresh interpreters
against an empty and then a primed kernel cache (``STREAMKIT_CACHE_DIR``).

Run as tests (one round each)::

    STREAMKIT_BENCH_N=200_000 .venv/bin/python -m pytest benchmarks -q --benchmark-disable
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import pyarrow as pa
import pytest

from benchmarks.seed_job import (
    JobResult,
    build_py_network,
    load_seed_network,
    run_polars,
    run_python_fsm_loop,
    run_python_loop,
    run_streamkit,
)

T = TypeVar("T")
"""The result type of a benchmarked callable."""

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Seconds a compile subprocess may take before the test fails.
COMPILE_TIMEOUT_S = 300

#: Rows in the tiny batch the compile subprocess processes after construction.
FIRST_CHUNK_ROWS = 1_000


def _rounds(n: int, *, budget: int = 100_000_000, low: int = 3, high: int = 20) -> int:
    """Rounds for a run over ``n`` records: about ``budget`` records in all, within [low, high]."""
    return max(low, min(high, budget // max(n, 1)))


def _bench(
    benchmark: Any,
    fn: Callable[[], T],
    *,
    job: str,
    n_records: int,
    rounds: int,
    warmup_rounds: int = 1,
    **info: Any,
) -> T:
    """Run ``fn`` under ``benchmark.pedantic`` and record its per-record time.

    The calls are also timed here with ``perf_counter`` so ``ns_per_record`` is
    recorded even under ``--benchmark-disable`` (one untimed-by-the-plugin call).
    """
    timings: list[float] = []

    def timed() -> T:
        start = time.perf_counter()
        result = fn()
        timings.append(time.perf_counter() - start)
        return result

    result = benchmark.pedantic(timed, rounds=rounds, warmup_rounds=warmup_rounds, iterations=1)
    measured = timings[-rounds:]  # disabled mode makes exactly one call, no warm-up
    median = statistics.median(measured)
    benchmark.extra_info.update(
        job=job,
        n_records=n_records,
        median_s=median,
        ns_per_record=median / n_records * 1e9,
        records_per_s=n_records / median,
        **info,
    )
    return result


# --------------------------------------------------------------------------- throughput


@pytest.mark.parametrize(
    "materialize", [True, False], ids=["streamkit", "streamkit-counts-only"]
)
def test_seed_streamkit(
    benchmark: Any,
    seed_fsm: Any,
    seed_table: pa.Table,
    chunk_size: int,
    polars_reference: JobResult,
    materialize: bool,
) -> None:
    """streamkit: one ``SimpleFSM.process`` per chunk; outputs built unless counts-only."""
    result = _bench(
        benchmark,
        lambda: run_streamkit(seed_fsm, seed_table, chunk_size, materialize=materialize),
        job="streamkit" if materialize else "streamkit (counts only)",
        n_records=seed_table.num_rows,
        rounds=_rounds(seed_table.num_rows),
        chunk_size=chunk_size,
        materialize=materialize,
    )
    assert result.counts == polars_reference.counts
    assert result.total == seed_table.num_rows


def test_seed_polars(
    benchmark: Any,
    seed_table: pa.Table,
    chunk_size: int,
    polars_reference: JobResult,
) -> None:
    """Polars: the same job hand-written in expressions, one ``pl.from_arrow`` per chunk."""
    result = _bench(
        benchmark,
        lambda: run_polars(seed_table, chunk_size),
        job="polars",
        n_records=seed_table.num_rows,
        rounds=_rounds(seed_table.num_rows),
        chunk_size=chunk_size,
        polars_threads=pl.thread_pool_size(),
    )
    assert result.counts == polars_reference.counts
    assert result.total == seed_table.num_rows


def test_seed_python_loop(
    benchmark: Any,
    python_records: list[dict[str, Any]],
    python_reference: JobResult,
    bench_n: int,
) -> None:
    """A plain per-record Python loop over dicts (records listed outside the timed region).

    It runs on the first ``python_n`` records (default at most 1 M); per-record
    time is what the report compares, labelled with the subset size.
    """
    _bench_python(benchmark, lambda: run_python_loop(python_records), "python loop",
                  python_records, python_reference, bench_n)


def test_seed_python_fsm_loop(
    benchmark: Any,
    seed_py_network: Any,
    python_records: list[dict[str, Any]],
    python_reference: JobResult,
    bench_n: int,
) -> None:
    """The seed config run record by record: ``PyNetwork(config.main).run(record)`` each.

    Same records and subset as the hand-written loop (listed, and the network
    built, outside the timed region); outputs collected per end state.
    """
    _bench_python(benchmark, lambda: run_python_fsm_loop(seed_py_network, python_records), "python FSM loop",
                  python_records, python_reference, bench_n)


def _bench_python(benchmark: Any, run: Any, job: str, python_records: list[dict[str, Any]],
                  python_reference: JobResult, bench_n: int) -> None:
    """Time a per-record Python baseline on the record subset; its counts must match polars'."""
    n = len(python_records)
    result = _bench(
        benchmark,
        run,
        job=job,
        n_records=n,
        rounds=_rounds(n, budget=3_000_000, high=5),
        warmup_rounds=0,
        subset_of=bench_n,
    )
    assert result.counts == python_reference.counts
    assert result.total == n


# --------------------------------------------------------------------------- compile time

_COMPILE_SCRIPT = """
import json, sys, time
sys.path.insert(0, {root!r})
from benchmarks.seed_job import load_seed_network  # polars, pyarrow: not timed
seed = load_seed_network()
config = seed.create_streaming_fsm_config()
batch = seed.generate_records({rows}).to_batches()[0]
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

    benchmark.pedantic(target, setup=setup, rounds=3, iterations=1)
    _record_compile(benchmark, runs, "compile cold")
    assert any(dirs[-1].iterdir()), "streamkit wrote no kernel cache into STREAMKIT_CACHE_DIR"


@pytest.mark.usefixtures("simple_fsm_cls")
def test_compile_warm(benchmark: Any, tmp_path: Path) -> None:
    """Warm compile: fresh interpreters reusing a kernel cache primed by one earlier run."""
    cache_dir = _fresh_dir(tmp_path, "cache")
    _compile_once(cache_dir)  # prime
    runs: list[dict[str, float]] = []
    benchmark.pedantic(lambda: runs.append(_compile_once(cache_dir)), rounds=3, iterations=1)
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
    return pa.concat_tables([edges, load_seed_network().generate_records(5_000, seed=1)])


def _as_rows(rows: Any, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Rows (a pyarrow Table or a list of dicts) as dicts sorted by id, optionally projected."""
    if isinstance(rows, pa.Table):
        if columns is not None:
            missing = [c for c in columns if c not in rows.column_names]
            assert not missing, f"output lacks columns {missing}; has {rows.column_names}"
            rows = rows.select(list(columns))
        rows = rows.to_pylist()
    elif columns is not None:
        rows = [{c: r.get(c) for c in columns} for r in rows]
    return sorted(rows, key=lambda r: r["id"])


def _is_number(value: Any) -> bool:
    """An int or a float, not a bool."""
    return type(value) in (int, float)


def _assert_rows_equal(got: list[dict[str, Any]], want: list[dict[str, Any]], what: str) -> None:
    """Equal row by row; floats within 1e-9 relative (DESIGN.md §3)."""
    assert len(got) == len(want), f"{what}: {len(got)} rows, want {len(want)}"
    for g, w in zip(got, want):
        assert g.keys() == w.keys(), f"{what}: columns {list(g)} != {list(w)}"
        for key, wv in w.items():
            gv = g[key]
            if _is_number(wv) and _is_number(gv) and float in (type(wv), type(gv)):
                # Python's min(100, x) is the int 100 or the float x: compare as numbers
                ok = math.isclose(gv, wv, rel_tol=1e-9)
            else:
                ok = gv == wv and type(gv) is type(wv)
            assert ok, f"{what}: id {w['id']}: {key}={gv!r}, want {wv!r}\n got {g}\nwant {w}"


def test_baselines_agree() -> None:
    """The polars job and the Python loop produce the same rows for every end state."""
    table = _edge_table()
    loop = run_python_loop(table.to_pylist())
    polars = run_polars(table, 1_024, collect=True)
    assert polars.counts == loop.counts
    assert loop.counts["failed"] == 3  # 3_037_000_500, 2**62, 2**63 - 1 overflow int64
    assert loop.counts["error"] >= 3
    assert polars.outputs.keys() == loop.outputs.keys()
    for key, rows in loop.outputs.items():
        _assert_rows_equal(_as_rows(polars.outputs[key]), _as_rows(rows), f"polars {key}")


def test_python_fsm_loop_matches_python_loop() -> None:
    """The PyNetwork run of the seed config produces the hand-written loop's rows.

    The interpreter drops null fields, so an ``error`` row with a null ``value``
    lacks the key: compared as ``None``.
    """
    table = _edge_table()
    records = table.to_pylist()
    loop = run_python_loop(records)
    fsm = run_python_fsm_loop(build_py_network(), records)
    assert fsm.counts == loop.counts
    assert fsm.outputs.keys() == loop.outputs.keys()
    for key, rows in loop.outputs.items():
        want = _as_rows(rows)
        # fill the keys the interpreter dropped (null fields); extra keys still show
        got = _as_rows([{**dict.fromkeys(want[0]), **r} for r in fsm.outputs[key]])
        _assert_rows_equal(got, want, f"python FSM loop {key}")


def test_streamkit_matches_python_loop(simple_fsm_cls: Any, seed_config: dict[str, Any]) -> None:
    """streamkit's outputs equal the Python loop's, field by field, in small chunks.

    Output tables may carry extra columns (e.g. a row id); the loop's columns must
    all be there with equal values. Failed records are matched by id.
    """
    table = _edge_table()
    loop = run_python_loop(table.to_pylist())
    result = run_streamkit(simple_fsm_cls(seed_config), table, 1_024, collect=True)
    assert result.counts == loop.counts
    for key in ("output", "error"):
        want = _as_rows(loop.outputs[key])
        _assert_rows_equal(_as_rows(result.outputs[key], list(want[0])), want, f"streamkit {key}")
    errors = result.outputs["failed"]
    assert errors.num_rows == loop.counts["failed"]
    if "id" in errors.column_names:
        assert sorted(errors.column("id").to_pylist()) == sorted(r["id"] for r in loop.outputs["failed"])
