"""Benchmarks of the status index: StatusIndex vs a numpy scan vs seed 000's Python lists.

Sizes come from ``STREAMKIT_STATUS_BENCH_SIZES`` (comma-separated, underscores
allowed; default ``10_000`` so the quick test run stays fast); sizes of 10M
and more are marked ``slow``. Every benchmark checks its answer against
numpy's, so the suite is also a correctness test. The table with the targets
is printed by ``benchmarks/status_report.py``, which uses the same workloads.

Run as tests (one round each)::

    STREAMKIT_STATUS_BENCH_SIZES=10_000,1_000_000 .venv/bin/python -m pytest benchmarks/test_bench_status.py -q

or measured::

    .venv/bin/python -m pytest benchmarks/test_bench_status.py --benchmark-enable -q
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import numpy as np
import pytest

from benchmarks.status_report import (
    COMPLETED,
    FAILED,
    PROCESSING,
    SeedLists,
    build_index,
    make_column,
    sample_ids,
    sparse_id,
)
from streamkit.status import EventStatus, StatusIndex
from streamkit.status.codes import STATUS_NAMES

#: Largest size the seed-list pattern runs at (``list.remove`` is O(n) per id).
SEED_LISTS_MAX = 1_000_000
#: Largest transition batch the seed-list pattern runs.
SEED_LISTS_MAX_BATCH = 10_000
IMPLS = ("index", "numpy", "seed_lists")


def _sizes() -> list[int]:
    raw = os.environ.get("STREAMKIT_STATUS_BENCH_SIZES", "").strip() or "10_000"
    try:
        sizes = [int(v.replace("_", "")) for v in raw.split(",") if v.strip()]
    except ValueError:
        raise pytest.UsageError(f"STREAMKIT_STATUS_BENCH_SIZES must be integers, got {raw!r}") from None
    if not sizes or min(sizes) < 100:
        raise pytest.UsageError(f"STREAMKIT_STATUS_BENCH_SIZES must be integers >= 100, got {raw!r}")
    return sizes


SIZES = [pytest.param(n, id=f"n={n}", marks=[pytest.mark.slow] if n >= 10_000_000 else []) for n in _sizes()]


@pytest.fixture(scope="module", params=SIZES)
def column(request: pytest.FixtureRequest) -> np.ndarray:
    """A status column of the size: completed, 1 % failed."""
    return make_column(request.param, 0.01)


@pytest.fixture(scope="module")
def index(column: np.ndarray) -> StatusIndex:
    """The column's StatusIndex (default keep_ids)."""
    return build_index(column)


def _seed_lists(column: np.ndarray) -> SeedLists:
    if column.shape[0] > SEED_LISTS_MAX:
        pytest.skip(f"seed lists run up to {SEED_LISTS_MAX:,} items (status_report.py extrapolates)")
    return SeedLists(column)


@pytest.mark.parametrize("impl", IMPLS)
def test_build(benchmark: Any, column: np.ndarray, impl: str) -> None:
    if impl == "index":
        built = benchmark(build_index, column)
        assert list(built.counts().values()) == np.bincount(column, minlength=7).tolist()
    elif impl == "numpy":
        built = benchmark(column.copy)
        assert np.array_equal(built, column)
    else:
        if column.shape[0] > SEED_LISTS_MAX:
            pytest.skip(f"seed lists run up to {SEED_LISTS_MAX:,} items (status_report.py extrapolates)")
        built = benchmark(SeedLists, column)
        assert built.count("failed") == np.count_nonzero(column == FAILED)


@pytest.mark.parametrize("impl", IMPLS)
def test_count(benchmark: Any, column: np.ndarray, index: StatusIndex, impl: str) -> None:
    expected = int(np.count_nonzero(column == FAILED))
    if impl == "index":
        assert benchmark(index.count, "failed") == expected
    elif impl == "numpy":
        assert benchmark(lambda: np.count_nonzero(column == FAILED)) == expected
    else:
        assert benchmark(_seed_lists(column).count, "failed") == expected


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("failed_fraction", [0.01, 0.001], ids=["1%", "0.1%"])
def test_ids_failed(benchmark: Any, column: np.ndarray, impl: str, failed_fraction: float) -> None:
    col = make_column(column.shape[0], failed_fraction, seed=2)
    expected = np.flatnonzero(col == FAILED)
    if impl == "index":
        ix = build_index(col)
        got = benchmark(ix.ids, "failed")
    elif impl == "numpy":
        got = benchmark(lambda: np.flatnonzero(col == FAILED))
    else:
        got = np.array(benchmark(_seed_lists(col).ids, "failed"))
    assert np.array_equal(np.sort(got), expected)


@pytest.mark.parametrize("impl", IMPLS)
def test_status_of(benchmark: Any, column: np.ndarray, index: StatusIndex, impl: str) -> None:
    probe = np.random.default_rng(3).integers(0, column.shape[0], 1_000)
    if impl == "index":
        got = benchmark(index.status_of, probe)
    elif impl == "numpy":
        got = benchmark(lambda: column[probe])
    else:
        lists = _seed_lists(column)
        probe = probe[:20]  # `id in list` per status: O(n) per id
        names = benchmark(lists.status_of, probe.tolist())
        got = np.array([STATUS_NAMES.index(s) for s in names])
    assert np.array_equal(got, column[probe])


@pytest.mark.parametrize("impl", IMPLS)
def test_transition(benchmark: Any, column: np.ndarray, impl: str) -> None:
    n = column.shape[0]
    batch = sample_ids(n, min(1_000_000, n // 10))
    if impl == "index":
        ix = build_index(column)
        benchmark.pedantic(ix.transition, args=(batch, "completed"), rounds=5,
                           setup=lambda: ix.transition(batch, "processing"))  # fmt: skip
        assert ix.count("processing") == 0 and (ix.status_of(batch) == COMPLETED).all()
        assert ix.count("failed") == np.count_nonzero(np.delete(column, batch) == FAILED)
    elif impl == "numpy":
        col = column.copy()
        benchmark.pedantic(col.__setitem__, args=(batch, COMPLETED), rounds=5,
                           setup=lambda: col.__setitem__(batch, PROCESSING))  # fmt: skip
        assert (col[batch] == COMPLETED).all()
    else:
        lists = _seed_lists(column)
        if batch.shape[0] > SEED_LISTS_MAX_BATCH:
            pytest.skip(f"seed lists move up to {SEED_LISTS_MAX_BATCH:,} ids per batch (list.remove is O(n))")
        ids = batch.tolist()

        def setup() -> None:
            lists.lists["processing"] = list(ids)
            lists.lists["completed"] = []

        benchmark.pedantic(lists.transition, args=(ids, "processing", "completed"), rounds=3, setup=setup)
        assert lists.count("processing") == 0 and lists.count("completed") == len(ids)


# --------------------------------------------------------------------------- one id at a time (jobs, events)


@pytest.mark.parametrize("ids", ["dense", "sparse"])
@pytest.mark.parametrize("impl", ["index", "dict"])
def test_add_one(benchmark: Any, column: np.ndarray, impl: str, ids: str) -> None:
    """``add(i)`` of one new id per call, into an index already holding the column (steady state)."""
    n = column.shape[0]
    counter = itertools.count(n)
    new_id = (lambda: next(counter)) if ids == "dense" else (lambda: sparse_id(next(counter)))
    if impl == "index":
        ix = build_index(column)
        benchmark(lambda: ix.add(new_id()))
        added = next(counter) - n
        assert len(ix) == n + added and ix.count("pending") == added
        assert ix.status_of(n if ids == "dense" else sparse_id(n)) is EventStatus.PENDING
    else:
        model: dict[int, int] = dict.fromkeys(range(n), COMPLETED)

        def add() -> None:
            i = new_id()
            if i in model:
                raise KeyError(i)
            model[i] = 0

        benchmark(add)
        assert len(model) == next(counter)


@pytest.mark.parametrize("ids", ["dense", "sparse"])
@pytest.mark.parametrize("impl", ["index", "dict"])
def test_transition_one(benchmark: Any, column: np.ndarray, impl: str, ids: str) -> None:
    """``transition(i, to)`` of one id per call: each pass over the ids moves every one of them once."""
    n = column.shape[0]
    perm = np.random.default_rng(5).permutation(n)
    order = perm.tolist() if ids == "dense" else [sparse_id(p) for p in perm.tolist()]
    targets = ("processing", "failed", "completed")
    counter = itertools.count()

    def next_move() -> tuple[int, str]:
        k = next(counter)
        return order[k % n], targets[(k // n) % 3]

    if impl == "index":
        ix = StatusIndex()
        ix.add_chunk(np.array(order, np.int64), column[perm])
        benchmark(lambda: ix.transition(*next_move()))
        moved = next(counter)
        assert len(ix) == n and sum(ix.counts().values()) == n
        last = targets[((moved - 1) // n) % 3]
        assert ix.status_of(order[(moved - 1) % n]) is EventStatus(last)
    else:
        model = dict(zip(order, column[perm].tolist()))
        codes = {name: STATUS_NAMES.index(name) for name in targets}

        def move() -> None:
            i, to = next_move()
            if i not in model:
                raise KeyError(i)
            model[i] = codes[to]

        benchmark(move)
        assert len(model) == n


@pytest.mark.parametrize("impl", ["index", "numpy"])
def test_ids_not_kept(benchmark: Any, column: np.ndarray, index: StatusIndex, impl: str) -> None:
    """``ids("completed")``, not kept by default: a scan of the status column, O(n)."""
    expected = np.flatnonzero(column == COMPLETED)
    if impl == "index":
        got = benchmark(index.ids, "completed")
    else:
        got = benchmark(lambda: np.flatnonzero(column == COMPLETED))
    assert np.array_equal(got, expected)
