"""Shared fixtures for the benchmark suite: sizes, the seed table, the reference counts.

Sizes come from the environment so the same suite is a quick test and a real
measurement:

- ``STREAMKIT_BENCH_N`` — records per run (default 1 000 000; ``make bench`` /
  ``benchmarks/report.py`` use 10 000 000; underscores allowed);
- ``STREAMKIT_BENCH_CHUNK`` — rows per chunk (default 65 536);
- ``STREAMKIT_BENCH_PY_N`` — records for the two per-record Python baselines
  (the hand-written loop and the ``PyNetwork`` FSM loop; default
  ``min(N, 1 000 000)``; their time is reported per record, so it scales);
- ``STREAMKIT_BENCH_CLEAN`` — ``1`` generates seed-like data: no null and no
  negative values (``null_fraction=0, negative_fraction=0``), as the seed's own
  generator never produces invalid records, so every record goes to ``output``.
  Unset or ``0``: about 1 % null and 1 % negative values (the ``error`` route).

Import order matters: polars is imported here, before streamkit, so the polars
baseline keeps its default thread pool (the competitor at its best) even if
streamkit limits polars threads for its own workers (DESIGN.md §10). streamkit
itself is imported once per process, here, and only the compile benchmarks
start fresh interpreters.
"""

from __future__ import annotations

import os
from typing import Any

import polars as pl  # noqa: F401  -- imported before streamkit on purpose (see above)
import pyarrow as pa
import pytest

from benchmarks.seed_job import (
    DEFAULT_CHUNK_SIZE,
    JobResult,
    build_py_network,
    load_seed_network,
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

#: Default cap on records for the plain Python loop.
DEFAULT_PY_N = 1_000_000


def _env_int(name: str, default: int) -> int:
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
    raw = os.environ.get("STREAMKIT_BENCH_CLEAN", "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise pytest.UsageError(f"STREAMKIT_BENCH_CLEAN must be 0 or 1, got {raw!r}")


@pytest.fixture(scope="session")
def bench_n() -> int:
    """Records per benchmark run (``STREAMKIT_BENCH_N``)."""
    return _env_int("STREAMKIT_BENCH_N", DEFAULT_N)


@pytest.fixture(scope="session")
def chunk_size() -> int:
    """Rows per chunk for streamkit and polars (``STREAMKIT_BENCH_CHUNK``)."""
    return _env_int("STREAMKIT_BENCH_CHUNK", DEFAULT_CHUNK_SIZE)


@pytest.fixture(scope="session")
def python_n(bench_n: int) -> int:
    """Records for the Python baselines: ``min(N, STREAMKIT_BENCH_PY_N or 1M)``."""
    return min(bench_n, _env_int("STREAMKIT_BENCH_PY_N", DEFAULT_PY_N))


@pytest.fixture(scope="session")
def seed_config() -> dict[str, Any]:
    """A fresh copy of the seed 002 network config."""
    return load_seed_network().create_streaming_fsm_config()


@pytest.fixture(scope="session")
def seed_table(bench_n: int) -> pa.Table:
    """``bench_n`` generated seed records (built once per session).

    With ``STREAMKIT_BENCH_CLEAN=1`` no value is null or negative (seed-like data).
    """
    if clean_data():
        return load_seed_network().generate_records(bench_n, null_fraction=0.0, negative_fraction=0.0)
    return load_seed_network().generate_records(bench_n)


@pytest.fixture(scope="session")
def polars_reference(seed_table: pa.Table, chunk_size: int) -> JobResult:
    """Counts of the polars job over the whole table: what every runner must match."""
    return run_polars(seed_table, chunk_size)


@pytest.fixture(scope="session")
def python_records(seed_table: pa.Table, python_n: int) -> list[dict[str, Any]]:
    """The first ``python_n`` records as dicts (built outside any timed region)."""
    return seed_table.slice(0, python_n).to_pylist()


@pytest.fixture(scope="session")
def seed_py_network() -> Any:
    """The seed network as a per-record ``streamkit.fsm.interpret.PyNetwork`` (built untimed)."""
    return build_py_network(load_seed_network().create_streaming_fsm_config())


@pytest.fixture(scope="session")
def python_reference(seed_table: pa.Table, python_n: int, chunk_size: int) -> JobResult:
    """Counts of the polars job over the Python baselines' subset."""
    return run_polars(seed_table.slice(0, python_n), chunk_size)


@pytest.fixture(scope="session")
def simple_fsm_cls() -> Any:
    """``streamkit.SimpleFSM``, or skip while the public API does not exist yet."""
    if SimpleFSM is None:
        pytest.skip(_SIMPLE_FSM_MISSING)
    return SimpleFSM


@pytest.fixture(scope="session")
def seed_fsm(simple_fsm_cls: Any, seed_config: dict[str, Any]) -> Any:
    """The seed network compiled once for the session (compile time is benchmarked apart)."""
    return simple_fsm_cls(seed_config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the throughput benchmarks ``slow`` when run above the default size."""
    if _env_int("STREAMKIT_BENCH_N", DEFAULT_N) <= DEFAULT_N:
        return
    for item in items:
        if item.name.startswith("test_seed_"):
            item.add_marker(pytest.mark.slow)
