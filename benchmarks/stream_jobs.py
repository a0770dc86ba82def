"""The seed 002 job from file to file, written three ways: streamkit, polars, a per-record loop.

Every runner reads one input file (JSONL or Parquet, :func:`ensure_input`) and
writes the seed network's two end states to two files of the same format in
``out_dir`` (:func:`output_files`: ``output.<fmt>`` and ``error.<fmt>``), and
records that fail (an int64 overflow in ``enrich``; the generated values never
overflow, so this file stays empty) to ``output.errors.jsonl``, the place
streamkit puts them beside its first file sink. Each returns a :class:`JobRun`:
records in, records per sink, and the seconds the job took.

The runners (:data:`JOBS`):

- ``streamkit`` — ``SimpleFSM(create_streaming_fsm_config()).process_stream(src,
  sinks={"output": ..., "error": ...}, chunk_size=..., parallelism=...,
  memory_limit_mb=...)``; the timing includes building the ``SimpleFSM`` (a
  few ms with a warm kernel cache).
- ``polars sinks`` — the idiomatic lazy pipeline: one ``scan_ndjson(schema=...)``
  / ``scan_parquet`` plan per destination, each ending in ``sink_ndjson`` /
  ``sink_parquet(lazy=True)``, all run by one ``pl.collect_all(...,
  engine="streaming")``. polars 2.1 does not share the scan between the sinks
  (predicate pushdown gives each plan its own filtered scan; with pushdown off,
  or with ``.cache()``, the plans still scan separately), so the input is read
  once per sink.
- ``polars batches`` — one streaming scan (``collect_batches``), the seed
  expressions on each batch (``_polars_chunk`` of ``benchmarks/seed_job.py``),
  each destination appended to its open file with ``write_ndjson``, or to a
  ``pyarrow.parquet.ParquetWriter`` (polars cannot append to a Parquet file).
  The input is read once; on JSONL this is the faster polars version.
- ``python loop`` — JSONL: per line ``orjson.loads``, the seed logic in plain
  Python, ``orjson.dumps`` to the destination file. Parquet: the same loop over
  ``pyarrow`` batches turned into dicts with ``to_pylist()``, written back with
  ``Table.from_pylist`` and a ``ParquetWriter``.

polars runs with its default thread pool, the competitor at its best. The
polars and Python runners write Parquet with :data:`PARQUET_COMPRESSION`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.seed_job import INT64_MAX, _polars_chunk, load_seed_network

if TYPE_CHECKING:  # imported by the polars jobs only: the streamkit job's process does not load it
    import polars as pl

__all__ = (
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MEMORY_LIMIT_MB",
    "FORMATS",
    "INPUT_SCHEMA",
    "JOBS",
    "PARQUET_COMPRESSION",
    "SINK_KEYS",
    "JobRun",
    "bench_data_dir",
    "count_records",
    "ensure_input",
    "output_files",
    "run_polars_batches",
    "run_polars_sinks",
    "run_python_loop",
    "run_streamkit",
)

#: Input and output file formats (their suffixes).
FORMATS = ("jsonl", "parquet")

#: The files a job writes, by key: the two end states and the failed records.
SINK_KEYS = ("output", "error", "failed")

#: Rows per chunk (DESIGN.md §10: 64k-256k rows per chunk).
DEFAULT_CHUNK_SIZE = 65_536

#: streamkit's default byte budget for chunks in flight.
DEFAULT_MEMORY_LIMIT_MB = 512.0

#: Compression of the Parquet files every runner writes (streamkit's default, pyarrow's own).
PARQUET_COMPRESSION = "snappy"

#: The columns of the generated input (``generate_records``), for readers that take a schema
#: (polars type names).
INPUT_SCHEMA = {"id": "Int64", "value": "Int64", "category": "String", "status": "String"}


def _polars_schema() -> dict[str, Any]:
    """:data:`INPUT_SCHEMA` as polars types."""
    import polars as pl

    return {name: getattr(pl, t) for name, t in INPUT_SCHEMA.items()}


#: Arrow schemas of the two end states, as the Python loop writes them to Parquet
#: (a batch whose error records all have a null ``value`` must keep ``int64``).
_ARROW_SCHEMAS = {
    "output": pa.schema([("id", pa.int64()), ("original_value", pa.int64()),
                         ("doubled_value", pa.int64()), ("squared_value", pa.int64()),
                         ("category", pa.string()), ("status", pa.string()),
                         ("value_tier", pa.string()), ("risk_score", pa.float64())]),
    "error": pa.schema([("id", pa.int64()), ("value", pa.int64()), ("category", pa.string()),
                        ("status", pa.string()), ("valid", pa.bool_())]),
}

_READ_BLOCK = 1 << 24


# --------------------------------------------------------------------------- data


def bench_data_dir() -> Path:
    """Where generated inputs are cached: ``$STREAMKIT_BENCH_DATA`` or ``/tmp/streamkit-bench``."""
    raw = os.environ.get("STREAMKIT_BENCH_DATA", "").strip()
    return Path(raw) if raw else Path("/tmp/streamkit-bench")


def ensure_input(n: int, fmt: str, *, seed: int = 0, data_dir: Path | None = None) -> Path:
    """The input file of ``n`` generated seed records in format ``fmt``, written on first use.

    Records come from ``examples/seed_network.py``'s ``generate_records(n,
    seed=seed)`` (~1 % null and ~1 % negative values); JSONL is written with
    polars ``write_ndjson``, Parquet with ``write_parquet``. The file is named by
    ``n`` and ``seed`` in ``data_dir`` (default :func:`bench_data_dir`) and
    written under a temporary name then renamed, so a cached file is always
    complete and 10M-record inputs are generated once.
    """
    if fmt not in FORMATS:
        msg = f"`fmt` must be one of {FORMATS}, got {fmt!r}"
        raise ValueError(msg)
    directory = data_dir if data_dir is not None else bench_data_dir()
    path = directory / f"seed-{n}-s{seed}.{fmt}"
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    import polars as pl

    df = pl.from_arrow(load_seed_network().generate_records(n, seed=seed))
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


def output_files(out_dir: Path, fmt: str) -> dict[str, Path]:
    """The files a job writes in ``out_dir``, by :data:`SINK_KEYS`."""
    return {
        "output": out_dir / f"output.{fmt}",
        "error": out_dir / f"error.{fmt}",
        "failed": out_dir / "output.errors.jsonl",
    }


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


def _file_format(path: Path) -> str:
    """``jsonl`` or ``parquet`` from the suffix."""
    fmt = path.suffix.lstrip(".")
    if fmt not in FORMATS:
        msg = f"input must be a .jsonl or .parquet file, got {str(path)!r}"
        raise ValueError(msg)
    return fmt


@dataclass
class JobRun:
    """What one run of a job did: records in, records written per sink, seconds.

    ``counts`` maps each of :data:`SINK_KEYS` to a record count; ``seconds`` is
    the job alone (for the polars runners, counting the written files afterwards
    is not timed); ``info`` holds runner-specific figures.
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
        return {"job": self.job, "fmt": self.fmt, "records_in": self.records_in,
                "counts": self.counts, "seconds": self.seconds, "info": self.info}


# --------------------------------------------------------------------------- streamkit


def run_streamkit(
    src: Path,
    out_dir: Path,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    parallelism: int = 1,
    memory_limit_mb: float = DEFAULT_MEMORY_LIMIT_MB,
) -> JobRun:
    """The job with ``SimpleFSM(seed config).process_stream``: both end states to files.

    Failed records go where streamkit puts them (``output.errors.jsonl`` beside
    the first file sink). streamkit is imported here so that importing this
    module does not.
    """
    from streamkit import SimpleFSM

    fmt = _file_format(src)
    files = output_files(out_dir, fmt)
    config = load_seed_network().create_streaming_fsm_config()
    start = time.perf_counter()
    fsm = SimpleFSM(config)
    compiled = time.perf_counter()
    result = fsm.process_stream(
        str(src),
        sinks={"output": str(files["output"]), "error": str(files["error"])},
        chunk_size=chunk_size,
        parallelism=parallelism,
        memory_limit_mb=memory_limit_mb,
    )
    seconds = time.perf_counter() - start
    by_state = {k: int(v) for k, v in result.end_state_counts.items()}
    counts = {"output": by_state.pop("output", 0), "error": by_state.pop("error", 0),
              "failed": int(result.failed)}
    info: dict[str, Any] = {
        "compile_s": compiled - start,
        "successful": int(result.successful),
        "malformed": int(result.malformed),
        "peak_bytes_in_flight": int(result.peak_bytes_in_flight),
        "reported_records_per_second": float(result.records_per_second),
        "reported_duration": float(result.duration),
        "chunk_size": chunk_size,
        "parallelism": parallelism,
        "memory_limit_mb": memory_limit_mb,
    }
    if by_state:
        info["other_end_states"] = by_state
    return JobRun("streamkit", fmt, int(result.total_records), counts, seconds, info)


# --------------------------------------------------------------------------- polars


def _scan(src: Path) -> pl.LazyFrame:
    """A lazy scan of the input, with the known schema for JSONL (polars' fastest path)."""
    import polars as pl

    if src.suffix == ".jsonl":
        return pl.scan_ndjson(src, schema=_polars_schema())
    return pl.scan_parquet(src)


def _seed_plans(lf: pl.LazyFrame) -> dict[str, pl.LazyFrame]:
    """The seed job's three destinations as lazy plans over ``lf``.

    ``_polars_chunk`` only calls methods that DataFrames and LazyFrames share, so
    the same expressions build the lazy plans.
    """
    return dict(zip(("output", "error", "failed"), _polars_chunk(lf)))  # type: ignore[arg-type]


def run_polars_sinks(src: Path, out_dir: Path) -> JobRun:
    """The job as polars lazy sinks, one per destination, run together by ``collect_all``.

    Records in and per sink are counted from the files after the timed run.
    """
    import polars as pl

    fmt = _file_format(src)
    files = output_files(out_dir, fmt)
    start = time.perf_counter()
    plans = _seed_plans(_scan(src))
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


class _ParquetAppender:
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


def run_polars_batches(src: Path, out_dir: Path, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> JobRun:
    """The job as one polars streaming scan, with the seed expressions on each batch.

    Each batch's destinations are appended to their files as they come
    (``write_ndjson`` to the open file; a ``ParquetWriter`` for Parquet), so the
    input is read once and memory stays bounded.
    """
    fmt = _file_format(src)
    files = output_files(out_dir, fmt)
    counts = dict.fromkeys(SINK_KEYS, 0)
    n_in = 0
    start = time.perf_counter()
    batches = _scan(src).collect_batches(chunk_size=chunk_size, engine="streaming")
    failed_file = open(files["failed"], "wb")  # noqa: SIM115 - closed below
    try:
        if fmt == "jsonl":
            with open(files["output"], "wb") as out, open(files["error"], "wb") as err:
                for df in batches:
                    n_in += df.height
                    for key, part, f in zip(SINK_KEYS, _polars_chunk(df), (out, err, failed_file)):
                        if part.height:
                            part.write_ndjson(f)
                            counts[key] += part.height
        else:
            writers = {key: _ParquetAppender(files[key]) for key in ("output", "error")}
            try:
                for df in batches:
                    n_in += df.height
                    output, error, failed = _polars_chunk(df)
                    for key, part in (("output", output), ("error", error)):
                        if part.height:
                            writers[key].write(part.to_arrow())
                            counts[key] += part.height
                    if failed.height:
                        failed.write_ndjson(failed_file)
                        counts["failed"] += failed.height
            finally:
                for w in writers.values():
                    w.close()
    finally:
        failed_file.close()
    seconds = time.perf_counter() - start
    return JobRun("polars batches", fmt, n_in, counts, seconds, {"chunk_size": chunk_size})


# --------------------------------------------------------------------------- Python loop


def _seed_record(rec: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The seed network on one record: ``(destination index in SINK_KEYS, record out)``."""
    v = rec.get("value")
    if v is None or v < 0:
        rec["valid"] = False
        return 1, rec
    squared = v * v
    if squared > INT64_MAX:
        rec["error_state"] = "enrich"
        rec["error_type"] = "OverflowError"
        return 2, rec
    return 0, {
        "id": rec["id"],
        "original_value": v,
        "doubled_value": v * 2,
        "squared_value": squared,
        "category": rec["category"],
        "status": "processed",
        "value_tier": "high" if v > 5000 else "medium" if v > 1000 else "low",
        "risk_score": min(100.0, squared / 100),
    }


def _python_jsonl(src: Path, files: dict[str, Path]) -> tuple[int, dict[str, int]]:
    """The JSONL loop: ``orjson.loads`` per line, the seed logic inline, ``orjson.dumps`` out."""
    loads, dumps, newline = orjson.loads, orjson.dumps, orjson.OPT_APPEND_NEWLINE
    n_in = n_out = n_err = n_fail = 0
    buffering = 1 << 20
    with (open(src, "rb", buffering=buffering) as f,
          open(files["output"], "wb", buffering=buffering) as out,
          open(files["error"], "wb", buffering=buffering) as err,
          open(files["failed"], "wb") as failed):
        write_out, write_err = out.write, err.write
        for line in f:
            n_in += 1
            rec = loads(line)
            v = rec.get("value")
            if v is None or v < 0:
                rec["valid"] = False
                write_err(dumps(rec, option=newline))
                n_err += 1
                continue
            squared = v * v
            if squared > INT64_MAX:
                rec["error_state"] = "enrich"
                rec["error_type"] = "OverflowError"
                failed.write(dumps(rec, option=newline))
                n_fail += 1
                continue
            write_out(dumps({
                "id": rec["id"],
                "original_value": v,
                "doubled_value": v * 2,
                "squared_value": squared,
                "category": rec["category"],
                "status": "processed",
                "value_tier": "high" if v > 5000 else "medium" if v > 1000 else "low",
                "risk_score": min(100.0, squared / 100),
            }, option=newline))
            n_out += 1
    return n_in, {"output": n_out, "error": n_err, "failed": n_fail}


def _batches(src: Path, chunk_size: int) -> Iterator[pa.RecordBatch]:
    """The Parquet input as record batches of ``chunk_size`` rows."""
    yield from pq.ParquetFile(src).iter_batches(batch_size=chunk_size)


def _python_parquet(src: Path, files: dict[str, Path], chunk_size: int) -> tuple[int, dict[str, int]]:
    """The Parquet loop: per batch ``to_pylist()``, the seed logic per dict, ``from_pylist`` out."""
    n_in = 0
    counts = dict.fromkeys(SINK_KEYS, 0)
    writers = {key: _ParquetAppender(files[key]) for key in ("output", "error")}
    try:
        with open(files["failed"], "wb") as failed_file:
            for batch in _batches(src, chunk_size):
                rows: tuple[list[dict[str, Any]], ...] = ([], [], [])
                for rec in batch.to_pylist():
                    dest, out = _seed_record(rec)
                    rows[dest].append(out)
                n_in += batch.num_rows
                for key, recs in zip(SINK_KEYS, rows):
                    counts[key] += len(recs)
                for key in ("output", "error"):
                    recs = rows[SINK_KEYS.index(key)]
                    if recs:
                        writers[key].write(pa.Table.from_pylist(recs, schema=_ARROW_SCHEMAS[key]))
                for rec in rows[2]:
                    failed_file.write(orjson.dumps(rec, option=orjson.OPT_APPEND_NEWLINE))
    finally:
        for w in writers.values():
            w.close()
    return n_in, counts


def run_python_loop(src: Path, out_dir: Path, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> JobRun:
    """The job as a plain per-record Python loop (orjson for JSONL, ``to_pylist`` for Parquet)."""
    fmt = _file_format(src)
    files = output_files(out_dir, fmt)
    start = time.perf_counter()
    if fmt == "jsonl":
        n_in, counts = _python_jsonl(src, files)
    else:
        n_in, counts = _python_parquet(src, files, chunk_size)
    seconds = time.perf_counter() - start
    return JobRun("python loop", fmt, n_in, counts, seconds)


#: The jobs by name: ``job(src, out_dir, **options) -> JobRun``. Only ``streamkit``
#: takes ``parallelism`` and ``memory_limit_mb``; ``polars sinks`` takes no options.
JOBS: dict[str, Callable[..., JobRun]] = {
    "streamkit": run_streamkit,
    "polars sinks": run_polars_sinks,
    "polars batches": run_polars_batches,
    "python loop": run_python_loop,
}
