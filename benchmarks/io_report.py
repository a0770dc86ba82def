"""Measure streamkit.io readers and writers against polars reading / writing the whole file at once.

Usage::

    python benchmarks/io_report.py [--n 1_000_000] [--chunk 65536] [--repeat 3] [--dir DIR]

Seed-002-like records (``id``, ``value``, ``category``, ``status``, from
``examples/seed_network.generate_records``) are written once per format with
polars / pyarrow; then each job runs ``--repeat`` times and the best time is
shown as records per second. streamkit jobs read every chunk of
``open_source(path, chunk_size)`` or write ``chunk``-row batches to
``open_sink(path)`` and close it (commit included). The block-wise JSONL
candidates (``pyarrow.json`` vs polars ``read_ndjson`` on 64k-line blocks of
bytes) are the measurement behind the choice of the JSONL fast path. The
command line and the polars thread-pool size are printed with the table.
"""

from __future__ import annotations

import argparse
import itertools
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.json as pj  # noqa: E402

from examples.seed_network import generate_records  # noqa: E402
from streamkit.io import open_sink, open_source  # noqa: E402


def best(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` runs of ``fn``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def read_all(path: Path, chunk: int) -> int:
    n = 0
    with open_source(path, chunk_size=chunk) as src:
        for c in src.chunks():
            n += c.count
    return n


def write_all(path: Path, table: pa.Table, chunk: int) -> None:
    with open_sink(path) as sink:
        for b in table.to_batches(max_chunksize=chunk):
            sink.write(b)


def jsonl_blocks(path: Path, chunk: int) -> list[bytes]:
    data = path.read_bytes()
    nl = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    cuts = [0] + [int(nl[i]) + 1 for i in range(chunk - 1, len(nl), chunk)]
    if cuts[-1] != len(data):
        cuts.append(len(data))
    return [data[a:b] for a, b in itertools.pairwise(cuts)]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    ap.add_argument("--chunk", type=int, default=65_536)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None, help="where to put the files (default: a temp dir)")
    args = ap.parse_args(argv)
    print("command:", shlex.join([Path(sys.executable).name, *sys.argv]))
    print(
        f"records: {args.n:,}  chunk_size: {args.chunk:,}  polars threads: {pl.thread_pool_size()}  "
        f"pyarrow cpu count: {pa.cpu_count()}"
    )

    table = generate_records(args.n)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        d = Path(tmp)
        files = {"jsonl": d / "in.jsonl", "parquet": d / "in.parquet", "ipc": d / "in.arrow", "csv": d / "in.csv"}
        df = pl.from_arrow(table)
        df.write_ndjson(files["jsonl"])
        df.write_parquet(files["parquet"])
        df.write_ipc(files["ipc"], compression="uncompressed")
        df.write_csv(files["csv"])
        blocks = jsonl_blocks(files["jsonl"], args.chunk)

        jobs: list[tuple[str, str, Callable[[], object]]] = [
            ("JSONL read", "streamkit open_source", lambda: read_all(files["jsonl"], args.chunk)),
            ("JSONL read", "polars read_ndjson (whole file)", lambda: pl.read_ndjson(files["jsonl"])),
            ("JSONL read", "blocks: pyarrow.json (chosen)", lambda: [pj.read_json(pa.BufferReader(b)) for b in blocks]),
            (
                "JSONL read",
                "blocks: polars, infer all rows",
                lambda: [pl.read_ndjson(b, infer_schema_length=None) for b in blocks],
            ),
            ("JSONL read", "blocks: polars, infer 100 rows (*)", lambda: [pl.read_ndjson(b) for b in blocks]),
            ("JSONL write", "streamkit open_sink", lambda: write_all(d / "o.jsonl", table, args.chunk)),
            ("JSONL write", "polars write_ndjson (whole)", lambda: df.write_ndjson(d / "p.jsonl")),
            ("Parquet read", "streamkit open_source", lambda: read_all(files["parquet"], args.chunk)),
            ("Parquet read", "polars read_parquet (whole)", lambda: pl.read_parquet(files["parquet"])),
            ("Parquet write", "streamkit open_sink", lambda: write_all(d / "o.parquet", table, args.chunk)),
            ("Parquet write", "polars write_parquet (whole)", lambda: df.write_parquet(d / "p.parquet")),
            ("IPC read", "streamkit open_source", lambda: read_all(files["ipc"], args.chunk)),
            ("IPC read", "polars read_ipc (whole)", lambda: pl.read_ipc(files["ipc"])),
            ("IPC write", "streamkit open_sink", lambda: write_all(d / "o.arrow", table, args.chunk)),
            ("IPC write", "polars write_ipc (whole)", lambda: df.write_ipc(d / "p.arrow")),
            ("CSV read", "streamkit open_source", lambda: read_all(files["csv"], args.chunk)),
            ("CSV read", "polars read_csv (whole)", lambda: pl.read_csv(files["csv"])),
            ("CSV write", "streamkit open_sink", lambda: write_all(d / "o.csv", table, args.chunk)),
            ("CSV write", "polars write_csv (whole)", lambda: df.write_csv(d / "p.csv")),
        ]
        assert read_all(files["jsonl"], args.chunk) == args.n
        print(f"\n{'what':14s} {'job':34s} {'seconds':>8s} {'M rec/s':>8s}")
        for what, job, fn in jobs:
            t = best(fn, args.repeat)
            print(f"{what:14s} {job:34s} {t:8.3f} {args.n / t / 1e6:8.2f}")
        print(
            "\n(*) unsafe for streaming: drops fields first seen after row 100 and reads numbers in a"
            " text field as text, silently"
        )


if __name__ == "__main__":
    main()
