"""What the in-memory benchmark files share: timing into ``extra_info``, first calls, row comparisons.

Every throughput benchmark stores in ``benchmark.extra_info`` the keys the
report reads: ``job`` (``seed``, ``flights``, ``text``), ``impl`` (``streamkit``,
``polars``, ``python loop``, ...), ``call`` (``first`` or ``steady``),
``n_records`` and the median seconds. Steady state is timed in this process by
pytest-benchmark after a warm-up round; first calls are timed in fresh
interpreters (``benchmarks/first_call.py``), so each is really the library's
first call in its process.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pytest

from benchmarks.first_call import RESULT_MARKER

__all__ = (
    "REPO_ROOT",
    "as_rows",
    "assert_rows_equal",
    "bench_first_call",
    "bench_steady",
    "rounds_for",
    "rounds_override",
    "spawn_first_call",
)

T = TypeVar("T")
"""The result type of a benchmarked callable."""

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Seconds a first-call subprocess may take before the test fails.
FIRST_CALL_TIMEOUT_S = 900


#: Environment variable that sets every benchmark's round count (the suite's ``--repeat`` and ``--quick``).
ROUNDS_ENV = "STREAMKIT_BENCH_ROUNDS"


def rounds_override() -> int | None:
    """The round count set by ``STREAMKIT_BENCH_ROUNDS`` (``None`` when unset)."""
    raw = os.environ.get(ROUNDS_ENV, "").strip()
    if not raw:
        return None
    value = int(raw)
    if value <= 0:
        msg = f"{ROUNDS_ENV} must be positive, got {value}"
        raise ValueError(msg)
    return value


def rounds_for(n: int, *, budget: int = 100_000_000, low: int = 3, high: int = 20) -> int:
    """Rounds for a run over ``n`` records: about ``budget`` records in all, within [low, high].

    ``STREAMKIT_BENCH_ROUNDS``, when set, is the answer instead.
    """
    return rounds_override() or max(low, min(high, budget // max(n, 1)))


def bench_steady(
    benchmark: Any,
    fn: Callable[[], T],
    *,
    job: str,
    impl: str,
    n_records: int,
    rounds: int,
    warmup_rounds: int = 1,
    **info: Any,
) -> T:
    """Run ``fn`` under ``benchmark.pedantic`` and record its median (steady state) in ``extra_info``.

    The calls are also timed here with ``perf_counter`` so the median is recorded
    even under ``--benchmark-disable`` (one call, no warm-up).
    """
    timings: list[float] = []

    def timed() -> T:
        start = time.perf_counter()
        result = fn()
        timings.append(time.perf_counter() - start)
        return result

    result = benchmark.pedantic(timed, rounds=rounds, warmup_rounds=warmup_rounds, iterations=1)
    measured = timings[-rounds:]  # disabled mode makes exactly one call, no warm-up
    _record(benchmark, job=job, impl=impl, call="steady", n_records=n_records, seconds=measured, **info)
    return result


def spawn_first_call(job: str, impl: str, n: int, *, clean: bool = False) -> dict[str, Any]:
    """Run ``python -m benchmarks.first_call`` in a fresh interpreter and return its result."""
    cmd = [sys.executable, "-m", "benchmarks.first_call", "--job", job, "--impl", impl, "--n", str(n)]
    if clean:
        cmd.append("--clean")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(
        cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=FIRST_CALL_TIMEOUT_S, check=False
    )
    if proc.returncode != 0:
        pytest.fail(f"first-call subprocess failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    line = next(x for x in reversed(proc.stdout.splitlines()) if x.startswith(RESULT_MARKER))
    return json.loads(line[len(RESULT_MARKER) :])


def bench_first_call(
    benchmark: Any, *, job: str, impl: str, n: int, want_counts: dict[str, int], clean: bool = False
) -> None:
    """Time ``impl``'s first call on ``job`` in fresh interpreters; record the median in ``extra_info``.

    Three interpreters when measuring, one under ``--benchmark-disable``. Each
    run's counts must equal ``want_counts``.
    """
    runs: list[dict[str, Any]] = []
    rounds = 1 if benchmark.disabled else rounds_override() or 3
    benchmark.pedantic(lambda: runs.append(spawn_first_call(job, impl, n, clean=clean)), rounds=rounds, iterations=1)
    for run in runs:
        assert run["counts"] == want_counts, f"{impl} first call on {job}: {run['counts']} != {want_counts}"
    seconds = [r["first_s"] for r in runs]
    construct_s = statistics.median(r["construct_s"] for r in runs)
    _record(benchmark, job=job, impl=impl, call="first", n_records=n, seconds=seconds, construct_s=construct_s)


def _record(
    benchmark: Any, *, job: str, impl: str, call: str, n_records: int, seconds: list[float], **info: Any
) -> None:
    """Put a job's timings in the benchmark's ``extra_info``: median, best, per record, rounds."""
    median = statistics.median(seconds)
    benchmark.extra_info.update(
        job=job,
        impl=impl,
        call=call,
        n_records=n_records,
        median_s=median,
        min_s=min(seconds),
        ns_per_record=median / n_records * 1e9,
        records_per_s=n_records / median,
        rounds=len(seconds),
        repeats_s=list(seconds),
        **info,
    )


# --------------------------------------------------------------------------- comparing outputs


def as_rows(rows: Any, columns: Sequence[str] | None = None, *, key: str | None = "id") -> list[dict[str, Any]]:
    """Rows (an Arrow table, a polars frame or a list of dicts) as dicts, optionally projected.

    Sorted by ``key`` when given (``None`` keeps the order).
    """
    if hasattr(rows, "to_arrow") and not isinstance(rows, pa.Table):
        rows = rows.to_arrow()
    if isinstance(rows, pa.Table):
        if columns is not None:
            missing = [c for c in columns if c not in rows.column_names]
            assert not missing, f"output lacks columns {missing}; has {rows.column_names}"
            rows = rows.select(list(columns))
        rows = rows.to_pylist()
    elif columns is not None:
        rows = [{c: r.get(c) for c in columns} for r in rows]
    return sorted(rows, key=lambda r: r[key]) if key is not None else list(rows)


def _is_number(value: Any) -> bool:
    """An int or a float, not a bool."""
    return type(value) in (int, float)


def assert_rows_equal(got: list[dict[str, Any]], want: list[dict[str, Any]], what: str) -> None:
    """Equal row by row, same columns; floats within 1e-9 relative (DESIGN.md §3)."""
    assert len(got) == len(want), f"{what}: {len(got)} rows, want {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.keys() == w.keys(), f"{what}: columns {list(g)} != {list(w)}"
        for key, wv in w.items():
            gv = g[key]
            if _is_number(wv) and _is_number(gv) and float in (type(wv), type(gv)):
                ok = math.isclose(gv, wv, rel_tol=1e-9)
            else:
                ok = gv == wv and type(gv) is type(wv)
            assert ok, f"{what}: row {i}: {key}={gv!r}, want {wv!r}\n got {g}\nwant {w}"
