"""The seed job from file to file as a plain per-record Python loop (the ``python loop`` job).

JSONL: per line ``orjson.loads``, the reference's per-record function
(``seed_record`` of ``examples/reference.py``), ``orjson.dumps`` to the
destination's file. Parquet: the same per record over ``pyarrow`` batches
turned into dicts with ``to_pylist()``, written back with
``Table.from_pylist`` and a ``ParquetWriter``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.stream_jobs import SINK_KEYS, JobRun, ParquetAppender, file_format, output_files
from examples.reference import seed_record

__all__ = ("run_python_loop",)

#: Arrow schemas of the two end states, as the loop writes them to Parquet
#: (a batch whose error records all have a null ``value`` must keep ``int64``).
_ARROW_SCHEMAS = {
    "output": pa.schema(
        [
            ("id", pa.int64()),
            ("original_value", pa.int64()),
            ("doubled_value", pa.int64()),
            ("squared_value", pa.int64()),
            ("category", pa.string()),
            ("status", pa.string()),
            ("value_tier", pa.string()),
            ("risk_score", pa.float64()),
        ]
    ),
    "error": pa.schema(
        [
            ("id", pa.int64()),
            ("value", pa.int64()),
            ("category", pa.string()),
            ("status", pa.string()),
            ("valid", pa.bool_()),
        ]
    ),
}


def _python_jsonl(src: Path, files: dict[str, Path]) -> tuple[int, dict[str, int]]:
    """The JSONL loop: ``orjson.loads`` per line, ``seed_record``, ``orjson.dumps`` out."""
    loads, dumps, newline = orjson.loads, orjson.dumps, orjson.OPT_APPEND_NEWLINE
    counts = dict.fromkeys(SINK_KEYS, 0)
    n_in = 0
    buffering = 1 << 20
    with (
        open(src, "rb", buffering=buffering) as f,
        open(files["output"], "wb", buffering=buffering) as out,
        open(files["error"], "wb", buffering=buffering) as err,
        open(files["failed"], "wb") as failed,
    ):
        writes = {"output": out.write, "error": err.write, "failed": failed.write}
        for line in f:
            n_in += 1
            key, rec = seed_record(loads(line))
            writes[key](dumps(rec, option=newline))
            counts[key] += 1
    return n_in, counts


def _python_parquet(src: Path, files: dict[str, Path], chunk_size: int) -> tuple[int, dict[str, int]]:
    """The Parquet loop: per batch ``to_pylist()``, ``seed_record`` per dict, ``from_pylist`` out."""
    n_in = 0
    counts = dict.fromkeys(SINK_KEYS, 0)
    writers = {key: ParquetAppender(files[key]) for key in ("output", "error")}
    try:
        with open(files["failed"], "wb") as failed_file:
            for batch in pq.ParquetFile(src).iter_batches(batch_size=chunk_size):
                rows: dict[str, list[dict[str, Any]]] = {key: [] for key in SINK_KEYS}
                for rec in batch.to_pylist():
                    key, out = seed_record(rec)
                    rows[key].append(out)
                n_in += batch.num_rows
                for key, recs in rows.items():
                    counts[key] += len(recs)
                    if key != "failed" and recs:
                        writers[key].write(pa.Table.from_pylist(recs, schema=_ARROW_SCHEMAS[key]))
                for rec in rows["failed"]:
                    failed_file.write(orjson.dumps(rec, option=orjson.OPT_APPEND_NEWLINE))
    finally:
        for w in writers.values():
            w.close()
    return n_in, counts


def run_python_loop(src: Path, out_dir: Path, *, chunk_size: int = 65_536) -> JobRun:
    """The seed job as a plain per-record Python loop (orjson for JSONL, ``to_pylist`` for Parquet)."""
    fmt = file_format(src)
    files = output_files(out_dir, fmt)
    start = time.perf_counter()
    if fmt == "jsonl":
        n_in, counts = _python_jsonl(src, files)
    else:
        n_in, counts = _python_parquet(src, files, chunk_size)
    seconds = time.perf_counter() - start
    return JobRun("python loop", fmt, n_in, counts, seconds)
