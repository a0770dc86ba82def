"""The events the events report runs (a module of their own: process pools import them by name)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

import polars as pl

from streamkit.events import DefaultExecutor, EventBase

__all__ = (
    "Trivial",
    "Scale",
    "Enrich",
    "Sleepy",
    "Burn",
    "BurnInline",
    "Flaky",
    "one_state",
    "scale_frame",
    "enrich_frame",
    "burn",
)


class Trivial(EventBase):
    """The least an event can do: one field in, one out."""

    def process(self, x):
        return True, {"y": x + 1}


def scale_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """A trivial per-batch job: a derived column and a flag (~2 ms per 1M rows: the engine's share shows)."""
    return frame.with_columns(y=pl.col("x") * 2 + 1, big=pl.col("x") > 500_000)


def enrich_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """A per-batch enrichment as ETL jobs write them: a code built as text, a tier, a score."""
    x = pl.col("x")
    return frame.with_columns(
        code=pl.format("C-{}-{}", x % 97, x),
        tier=pl.when(x > 500_000).then(pl.lit("high")).when(x > 100_000).then(pl.lit("mid")).otherwise(pl.lit("low")),
        score=(x.cast(pl.Float64).sqrt() * 1.5).round(2),
    )


class Scale(EventBase):
    """A per-batch event: :func:`scale_frame` on each chunk."""

    def process_batch(self, batch):
        return scale_frame(batch)


class Enrich(EventBase):
    """A per-batch event: :func:`enrich_frame` on each chunk."""

    def process_batch(self, batch):
        return enrich_frame(batch)


class Sleepy(EventBase):
    """I/O-bound: 20 ms of waiting per record, in a pool of 32 threads."""

    executor = ThreadPoolExecutor
    executor_config = {"max_workers": 32}  # noqa: RUF012 - seed 003 declares settings this way

    def process(self, k):
        time.sleep(0.02)
        return True, None


def burn(n: int) -> int:
    """CPU-bound Python: ``n`` rounds of integer arithmetic."""
    total = 0
    for k in range(n):
        total += k * k % 7
    return total


class Burn(EventBase):
    """CPU-bound, in a process pool of 2."""

    executor = ProcessPoolExecutor
    executor_config = {"max_workers": 2}  # noqa: RUF012

    def process(self, n):
        return True, {"total": burn(n)}


class BurnInline(Burn):
    """The same work inline."""

    executor = DefaultExecutor


class Flaky(EventBase):
    """Every tenth record raises twice, then succeeds; retries after 0.2 and 0.4 s; 8 threads."""

    executor = ThreadPoolExecutor
    executor_config = {"max_workers": 8}  # noqa: RUF012
    retry_policy = {"max_attempts": 3, "backoff_factor": 0.2}  # noqa: RUF012
    calls: dict[int, int] = {}  # noqa: RUF012
    lock = threading.Lock()

    def process(self, k):
        with Flaky.lock:
            n = Flaky.calls[k] = Flaky.calls.get(k, 0) + 1
        if k % 10 == 0 and n < 3:
            raise ConnectionError("flaky")
        return True, None


def one_state(ev: Any) -> dict[str, Any]:
    """A network of one state that runs ``ev`` and ends in ``done``."""
    return {
        "name": "bench",
        "networks": [
            {
                "name": "main",
                "states": [{"name": "event", "is_start": True, "event": ev}, {"name": "done", "is_end": True}],
                "arcs": [{"from": "event", "to": "done"}],
            }
        ],
    }
