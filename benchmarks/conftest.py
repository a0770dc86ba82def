"""Shared fixtures for the benchmark suite: sizes, the seed table, the reference counts.

Sizes come from the environment so the same suite is a quick test and a real
measurement:

- ``STREAMKIT_BENCH_N`` — records of the seed job (default 1 000 000;
  ``make bench`` / ``benchmarks/report.py`` use 2 000 000; underscores allowed);
- ``STREAMKIT_BENCH_PY_N`` — records for the two per-record Python baselines of
  the seed job (default ``min(N, 1 000 000)``; their time is reported per
  record, so it scales);
- ``STREAMKIT_BENCH_ETL_N`` — records of the flights and text jobs. Default:
  their full size (every one of the 336,776 flights; 1M rows of text) when
  ``STREAMKIT_BENCH_N`` is at least 1M, else ``N // 5`` (the quick tests: their
  networks run per-record Python in streamkit today, which is slow);
- ``STREAMKIT_BENCH_CLEAN`` — ``1`` generates seed-like data: no null and no
  negative values, as the seed's own generator never produces invalid records,
  so every record goes to ``output``. Unset or ``0``: about 1 % null and 1 %
  negative values (the ``error`` route).

Import order matters: polars is imported here, before streamkit, so the polars
baseline keeps its default thread pool (the competitor at its best) even if
streamkit limits polars threads for its own workers (DESIGN.md §10).
"""

from __future__ import annotations

import os
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

from benchmarks.memory_jobs import (
    FULL_N,
    JobResult,
    build_py_network,
    env_flag,
    job_config,
    job_input,
    polars_frame,
    run_polars,
)

try:
    from streamkit import SimpleFSM
except ImportError as exc:  # the public API may not be there yet while it is being written
    # Only "cannot import name 'SimpleFSM' from 'streamkit'" means "not written yet";
    # any other import error is a real failure and must surface.
    if exc.name != "streamkit" or "SimpleFSM" not in str(exc):
        raise
    SimpleFSM = None  # type: ignore[assignment,misc]
    _SIMPLE_FSM_MISSING = f"streamkit.SimpleFSM is not importable yet: {exc}"
else:
    _SIMPLE_FSM_MISSING = ""

#: Default records per benchmark run when STREAMKIT_BENCH_N is not set.
DEFAULT_N = 1_000_000

#: Default cap on records for the plain Python loops of the seed job.
DEFAULT_PY_N = 1_000_000


def env_int(name: str, default: int) -> int:
    """Read a positive integer (``10_000_000`` style allowed) from the environment."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise pytest.UsageError(f"{name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise pytest.UsageError(f"{name} must be positive, got {value}")
    return value


def clean_data() -> bool:
    """Whether ``STREAMKIT_BENCH_CLEAN`` asks for seed-like data (no null / negative values)."""
    try:
        return env_flag("STREAMKIT_BENCH_CLEAN")
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def etl_n(job: str) -> int:
    """Records of the flights or text job (see ``STREAMKIT_BENCH_ETL_N`` above)."""
    n = env_int("STREAMKIT_BENCH_N", DEFAULT_N)
    value = env_int("STREAMKIT_BENCH_ETL_N", FULL_N[job] if n >= DEFAULT_N else max(1_000, n // 5))
    return min(value, FULL_N["flights"]) if job == "flights" else value


@pytest.fixture(scope="session")
def bench_n() -> int:
    """Records per seed-job run (``STREAMKIT_BENCH_N``)."""
    return env_int("STREAMKIT_BENCH_N", DEFAULT_N)


@pytest.fixture(scope="session")
def python_n(bench_n: int) -> int:
    """Records for the seed job's Python baselines: ``min(N, STREAMKIT_BENCH_PY_N or 1M)``."""
    return min(bench_n, env_int("STREAMKIT_BENCH_PY_N", DEFAULT_PY_N))


@pytest.fixture(scope="session")
def clean() -> bool:
    """Seed-like data (``STREAMKIT_BENCH_CLEAN=1``)."""
    return clean_data()


@pytest.fixture(scope="session")
def seed_config() -> dict[str, Any]:
    """A fresh copy of the seed 002 network config."""
    return job_config("seed")


@pytest.fixture(scope="session")
def seed_table(bench_n: int) -> pa.Table:
    """``bench_n`` generated seed records (built once per session)."""
    return job_input("seed", bench_n, clean=clean_data())


@pytest.fixture(scope="session")
def seed_frame(seed_table: pa.Table) -> pl.DataFrame:
    """The seed table as a polars DataFrame (a polars user has their data in polars already)."""
    return polars_frame(seed_table)


@pytest.fixture(scope="session")
def polars_reference(seed_frame: pl.DataFrame) -> JobResult:
    """Counts of the polars query over the whole table: what every runner must match."""
    return run_polars("seed", seed_frame)


@pytest.fixture(scope="session")
def python_records(seed_table: pa.Table, python_n: int) -> list[dict[str, Any]]:
    """The first ``python_n`` records as dicts (built outside any timed region)."""
    return seed_table.slice(0, python_n).to_pylist()


@pytest.fixture(scope="session")
def seed_py_network() -> Any:
    """The seed network as a per-record ``streamkit.fsm.interpret.PyNetwork`` (built untimed)."""
    return build_py_network(job_config("seed"))


@pytest.fixture(scope="session")
def python_reference(seed_frame: pl.DataFrame, python_n: int) -> JobResult:
    """Counts of the polars query over the Python baselines' subset."""
    return run_polars("seed", seed_frame.slice(0, python_n))


@pytest.fixture(scope="session")
def simple_fsm_cls() -> Any:
    """``streamkit.SimpleFSM``, or skip while the public API does not exist yet."""
    if SimpleFSM is None:
        pytest.skip(_SIMPLE_FSM_MISSING)
    return SimpleFSM


@pytest.fixture(scope="session")
def seed_fsm(simple_fsm_cls: Any, seed_config: dict[str, Any], seed_table: pa.Table) -> Any:
    """The seed network compiled once for the session, its kernels in the kernel cache.

    One small batch runs through it, so a first-call subprocess finds every
    kernel cached (cold compiles are benchmarked apart).
    """
    fsm = simple_fsm_cls(seed_config)
    fsm.process(seed_table.slice(0, 1_000))
    return fsm


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the throughput benchmarks ``slow`` when run above the default size."""
    if env_int("STREAMKIT_BENCH_N", DEFAULT_N) <= DEFAULT_N:
        return
    for item in items:
        if item.name.startswith(("test_seed_", "test_flights_", "test_text_")):
            item.add_marker(pytest.mark.slow)
