"""The seed 002 job, four ways: streamkit, hand-written polars, two per-record Python loops.

The two Python baselines are a hand-written straight-line loop
(:func:`run_python_loop`, the fastest plain Python can do this job) and the
config itself run record by record through the reference interpreter
``streamkit.fsm.interpret.PyNetwork`` (:func:`run_python_fsm_loop`, what a
per-record FSM engine does: the "per-record Python" of the issue's 200× target).

The job is the network of ``examples/seed_network.py``
(``create_streaming_fsm_config()``): per record

- ``validate``: ``valid = value is not None and value >= 0`` (the ``and``
  short-circuits, so a null value gives ``valid=False`` and no error);
- ``valid`` false → end state ``error`` with the input fields plus ``valid``;
- otherwise ``enrich`` (``id, original_value, doubled_value, squared_value,
  category, status='enriched'``; a result outside int64 fails the record with
  OverflowError, as DESIGN.md §3 says) → ``categorize`` (``value_tier``,
  ``status='processed'``, ``risk_score = min(100, squared_value / 100)``) → end
  state ``output``.

Python's ``min(100, x)`` gives the int ``100`` or the float ``x``; every
implementation here produces a float64 column (``100.0``), as a columnar engine
must.

Each runner returns a :class:`JobResult`: the record count per end state (plus
``failed``) and, when asked to ``collect``, the outputs themselves. Runners
always *build* their outputs (a chunk's outputs are materialized, then dropped
unless collected), so no implementation is timed for less work than another.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:  # polars is imported where it is used: a streamkit-only job does not load it
    import polars as pl

__all__ = (
    "DEFAULT_CHUNK_SIZE",
    "END_STATES",
    "INT64_MAX",
    "JobResult",
    "load_seed_network",
    "run_polars",
    "build_py_network",
    "run_python_fsm_loop",
    "run_python_loop",
    "run_streamkit",
)

#: Rows per chunk for the chunked runners (64 Ki rows; DESIGN.md §10 sweet spot).
DEFAULT_CHUNK_SIZE = 65_536

#: The end states of the seed network.
END_STATES = ("output", "error")

#: Largest int64; Python ints beyond it fail the record with OverflowError.
INT64_MAX = 2**63 - 1

# Largest value whose square still fits in int64 (isqrt(2**63 - 1)). Valid values
# are >= 0, and if ``v * v`` fits then ``v * 2`` fits too.
_MAX_SQUARABLE = 3_037_000_499

_REPO_ROOT = Path(__file__).resolve().parent.parent


def load_seed_network() -> ModuleType:
    """Import ``examples/seed_network.py`` (not a package) once and return the module."""
    name = "seed_network"
    module = sys.modules.get(name)
    if module is not None:
        return module
    path = _REPO_ROOT / "examples" / "seed_network.py"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - the file is in the repo
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class JobResult:
    """What one run of the seed job produced.

    ``counts`` maps each end state that received records (``output``, ``error``)
    and ``failed`` (records that raised) to a record count; states with no
    records are left out, so results from different runners compare with ``==``.
    ``outputs`` holds the concatenated output tables by the same keys, and only
    when the runner was asked to ``collect``.
    """

    counts: dict[str, int]
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Records accounted for: every end state plus failed (conservation check)."""
        return sum(self.counts.values())


def _nonzero(counts: Mapping[str, int]) -> dict[str, int]:
    """``counts`` without zero entries, keys sorted."""
    return {k: int(v) for k, v in sorted(counts.items()) if v}


# --------------------------------------------------------------------------- streamkit


def run_streamkit(
    fsm: Any,
    table: pa.Table,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    materialize: bool = True,
    collect: bool = False,
) -> JobResult:
    """Run ``table`` through a compiled ``streamkit.SimpleFSM``, one ``process`` call per chunk.

    ``fsm`` is built by the caller (``SimpleFSM(create_streaming_fsm_config())``)
    so compilation stays out of the timed region. Per chunk the result's
    ``end_state_counts`` and ``failed`` are summed. With ``materialize`` (the
    default, what the comparison with polars uses) each end state's
    ``output(end_state)`` table and the ``errors()`` table are also built, then
    dropped unless ``collect`` is set. ``materialize=False`` measures the engine
    with outputs left as the result holds them.
    """
    counts: dict[str, int] = {}
    failed = 0
    parts: dict[str, list[pa.Table]] = {}
    for batch in table.to_batches(max_chunksize=chunk_size):
        result = fsm.process(batch)
        failed += result.failed
        for end_state, n in result.end_state_counts.items():
            counts[end_state] = counts.get(end_state, 0) + n
        if materialize or collect:
            for end_state in result.end_state_counts:
                out = result.output(end_state)
                if collect:
                    parts.setdefault(end_state, []).append(out)
            errors = result.errors()
            if collect:
                parts.setdefault("failed", []).append(errors)
    counts["failed"] = failed
    outputs = {k: _concat_chunks(v) for k, v in parts.items()} if collect else {}
    return JobResult(_nonzero(counts), outputs)


def _concat_chunks(tables: list[pa.Table]) -> pa.Table:
    """Concatenate per-chunk outputs whose column types may differ between chunks.

    Dictionary columns are decoded and numeric columns promoted (``int64`` with
    ``double`` gives ``double``), so chunks typed independently still stack.
    """
    plain = [
        t.cast(pa.schema([f.with_type(f.type.value_type) if pa.types.is_dictionary(f.type) else f
                          for f in t.schema]))
        for t in tables
    ]
    return pa.concat_tables(plain, promote_options="permissive")


# --------------------------------------------------------------------------- polars


def _polars_chunk(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The seed job on one polars DataFrame: ``(output, error, failed)`` frames.

    One filter per destination, each selecting only the columns it keeps: this
    measured a little faster than a ``valid`` column computed for every row and
    than a lazy plan with ``collect_all`` at 64 Ki rows. Polars rewrites
    ``x / 100`` as ``x * 0.01``, so ``risk_score`` may differ from Python's in
    the last bit (within the 1e-9 relative tolerance of DESIGN.md §3).
    """
    import polars as pl

    value = pl.col("value")
    # Kleene logic: null & x is null, so close the null case explicitly.
    valid = (value.is_not_null() & (value >= 0)).fill_null(False)
    overflows = value > _MAX_SQUARABLE
    error = df.filter(~valid).with_columns(valid=pl.lit(False))
    failed = df.filter(valid & overflows).with_columns(
        error_state=pl.lit("enrich"), error_type=pl.lit("OverflowError")
    )
    squared = value * value
    output = df.filter(valid & ~overflows).select(
        "id",
        original_value=value,
        doubled_value=value * 2,
        squared_value=squared,
        category=pl.col("category"),
        status=pl.lit("processed"),
        value_tier=pl.when(value > 5000)
        .then(pl.lit("high"))
        .when(value > 1000)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low")),
        risk_score=(squared / 100).clip(upper_bound=100.0),
    )
    return output, error, failed


def run_polars(
    table: pa.Table,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    collect: bool = False,
) -> JobResult:
    """The seed job hand-written in polars expressions, one ``pl.from_arrow`` per chunk.

    Polars runs with its default thread pool (the competitor at its best). Output
    frames are built for every chunk and dropped unless ``collect`` is set, in
    which case they are concatenated and returned as pyarrow Tables.
    """
    import polars as pl

    counts = {"output": 0, "error": 0, "failed": 0}
    parts: dict[str, list[pl.DataFrame]] = {k: [] for k in counts}
    for batch in table.to_batches(max_chunksize=chunk_size):
        df = pl.from_arrow(batch)
        assert isinstance(df, pl.DataFrame)
        frames = dict(zip(("output", "error", "failed"), _polars_chunk(df)))
        for key, frame in frames.items():
            counts[key] += frame.height
            if collect:
                parts[key].append(frame)
    outputs: dict[str, Any] = {}
    if collect:
        outputs = {k: pl.concat(v).to_arrow() for k, v in parts.items() if v}
    return JobResult(_nonzero(counts), outputs)


# --------------------------------------------------------------------------- Python loop


def run_python_loop(records: Iterable[Mapping[str, Any]]) -> JobResult:
    """The seed job as a fair hand-written per-record loop over dicts (no FSM framework).

    ``records`` is e.g. ``table.to_pylist()``, built by the caller outside any
    timed region. Outputs are lists of dicts, always collected (appending is what
    such a loop naturally does); ``outputs`` maps each key to its list.
    """
    output: list[dict[str, Any]] = []
    error: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    append_output = output.append
    for rec in records:
        v = rec.get("value")
        if v is None or v < 0:
            error.append({**rec, "valid": False})
            continue
        squared = v * v
        if squared > INT64_MAX:
            failed.append(
                {**rec, "error_state": "enrich", "error_type": "OverflowError"},
            )
            continue
        append_output(
            {
                "id": rec["id"],
                "original_value": v,
                "doubled_value": v * 2,
                "squared_value": squared,
                "category": rec["category"],
                "status": "processed",
                "value_tier": "high" if v > 5000 else "medium" if v > 1000 else "low",
                "risk_score": min(100.0, squared / 100),
            }
        )
    counts = {"output": len(output), "error": len(error), "failed": len(failed)}
    outputs = {"output": output, "error": error, "failed": failed}
    return JobResult(_nonzero(counts), {k: v for k, v in outputs.items() if v})


# --------------------------------------------------------------------------- Python FSM loop


def build_py_network(config: Mapping[str, Any] | None = None) -> Any:
    """The seed network (or ``config``'s main network) as a per-record ``PyNetwork``.

    Built by the caller outside the timed region, like the compiled ``SimpleFSM``.
    streamkit is imported here, not at module level, so importing this module
    (as the compile benchmarks' subprocess does) does not import streamkit.
    """
    from streamkit.config import load_config
    from streamkit.fsm.interpret import PyNetwork

    if config is None:
        config = load_seed_network().create_streaming_fsm_config()
    return PyNetwork(load_config(config).main)


def run_python_fsm_loop(network: Any, records: Iterable[Mapping[str, Any]]) -> JobResult:
    """The seed *config* run record by record in plain Python: ``network.run(record)`` each.

    ``network`` is a ``streamkit.fsm.interpret.PyNetwork`` (:func:`build_py_network`),
    ``records`` e.g. ``table.to_pylist()``, both built outside any timed region.
    This is what a per-record FSM engine does: every state's inline lambda called
    on a ``State``, every arc condition evaluated, int64 overflow checked. Outputs
    are collected per end state as lists of the completed records' data (the
    interpreter drops null fields, so an ``error`` record with a null ``value``
    has no ``value`` key); failed records are collected like
    :func:`run_python_loop`'s (input fields plus ``error_state``, ``error_type``).
    """
    parts: dict[str, list[dict[str, Any]]] = {}
    failed: list[dict[str, Any]] = []
    run = network.run
    for rec in records:
        outcome = run(rec)
        if outcome.status == "completed":
            bucket = parts.get(outcome.end_state)
            if bucket is None:
                bucket = parts[outcome.end_state] = []
            bucket.append(outcome.data)
        else:
            failed.append(
                {**rec, "error_state": outcome.error_state, "error_type": outcome.error_type}
            )
    if failed:
        parts["failed"] = failed
    counts = {k: len(v) for k, v in parts.items()}
    return JobResult(_nonzero(counts), parts)
