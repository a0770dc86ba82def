"""Compile kernels ahead of the first run: ``python -m streamkit warm [CONFIG [--sample DATA]] ...``.

numba compiles a kernel the first time it runs with a new signature (about
130 ms each; a first stream used to spend ~1.8 s on it) and keeps the machine
code in a cache: ``kernels/__pycache__`` for streamkit's own kernels, and
``$STREAMKIT_CACHE_DIR`` (default ``~/.cache/streamkit/kernels``) for the kernels
generated per network. :func:`warm` runs a small workload that reaches
streamkit's own kernels — the fused-kernel runtime (gathers, constant and
dictionary outputs), the JSON Lines line splitter and writer, the status index,
Parquet and CSV sinks — so every later process loads them (~3 ms each) instead
of compiling. A network's kernels depend on its input's field types: give a
config with a sample of its data to compile those too. ``make`` runs this once
after installing, so a fresh clone's first run is as fast as its second.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from streamkit.api import SimpleFSM
from streamkit.status import StatusIndex

__all__ = ("warm", "WarmReport")

#: A network that reaches the runtime's kernels: arithmetic, comparisons, nulls, strings, constants,
#: several end states (gathers of input and computed columns), failures.
_NETWORK: dict[str, Any] = {
    "name": "warm",
    "networks": [
        {
            "name": "main",
            "states": [
                {
                    "name": "in",
                    "is_start": True,
                    "functions": {
                        "transform": (
                            "lambda state: {**state.data, 'y': state.data['i'] * 2, 'z': state.data['f'] / 2,"
                            " 'tier': 'high' if state.data['i'] > 50 else 'low', 'n': len(state.data['s']),"
                            " 'u': state.data['s'].upper(), 'k': 1, 'ok': state.data['b'] and state.data['i'] >= 0}"
                        )
                    },
                },
                {"name": "big", "is_end": True},
                {"name": "small", "is_end": True},
            ],
            "arcs": [
                {"from": "in", "to": "big", "condition": "lambda state: state.data['y'] > 60"},
                {"from": "in", "to": "small"},
            ],
        }
    ],
}


@dataclass(frozen=True)
class WarmReport:
    """What :func:`warm` compiled: the networks it ran and how long it took."""

    networks: tuple[str, ...]
    seconds: float

    def __str__(self) -> str:
        return f"warmed streamkit's kernels and {len(self.networks)} network(s) in {self.seconds:.1f} s"


def _sample_table(n: int = 2_000) -> pa.Table:
    rng = np.random.default_rng(0)
    i = rng.integers(-5, 100, n)
    return pa.table(
        {
            "i": pa.array(i, mask=rng.random(n) < 0.05),
            "f": pa.array(rng.random(n) * 10, mask=rng.random(n) < 0.05),
            "b": pa.array(rng.random(n) < 0.5),
            "s": pa.array([f"s{v % 7}" for v in i], mask=rng.random(n) < 0.05),
        }
    )


def _warm_runtime() -> None:
    fsm = SimpleFSM(_NETWORK)
    table = _sample_table()
    fsm.process(table)
    fsm.process(table.to_pylist()[:50])
    with tempfile.TemporaryDirectory(prefix="streamkit-warm-") as tmp:
        d = Path(tmp)
        for name in ("a.jsonl", "a.jsonl.gz", "a.parquet", "a.csv"):
            fsm.process_stream(table, sink=str(d / name), chunk_size=500)
        for name in ("a.jsonl", "a.csv", "a.parquet"):
            SimpleFSM(_NETWORK).process_stream(str(d / name), sinks={"big": str(d / f"b-{name}")}, chunk_size=500)
    index = StatusIndex()
    index.add_chunk(range(1000), np.full(1000, 2, np.uint8))
    index.transition(np.arange(0, 1000, 7), "failed")
    index.ids("completed")
    index.ids("failed")


def warm(configs: Sequence[Any] = (), samples: Sequence[Any | None] = ()) -> WarmReport:
    """Compile streamkit's own kernels, and each config's kernels for its sample data, into the caches.

    Parameters
    ----------
    configs:
        Network configs (dicts or paths) to compile too.
    samples:
        For each config, data to run through it (anything ``process()`` reads: a
        file path, records, a table), whose field types decide the kernels; a
        config without a sample is only validated.

    Examples
    --------
    >>> str(warm()).startswith("warmed streamkit's kernels")
    True
    """
    t0 = time.perf_counter()
    _warm_runtime()
    names = []
    for k, config in enumerate(configs):
        fsm = SimpleFSM(config)
        sample = samples[k] if k < len(samples) else None
        if sample is not None:
            fsm.process(sample)
        names.append(fsm.config.name or str(config))
    return WarmReport(tuple(names), time.perf_counter() - t0)
