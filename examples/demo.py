"""streamkit in one screen: the seed 002 network over a million in-memory records.

What ``make demo`` runs::

    python examples/demo.py [n_records]

It builds the seed 002 ``StreamingProcessor`` network
(``examples/seed_network.py``, the config exactly as the seed prints it),
generates ``n_records`` seed-shaped records (default 1 000 000; about 1 % have a
null and 1 % a negative ``value``, which the network routes to its ``error``
state), runs them through ``SimpleFSM(config).process(table)`` and prints the
counts, the throughput, the head of each end state's output, the first failed
records and ``fsm.explain()``. Then it streams the same records file to file:
they are written as JSONL (plus two broken lines), and
``fsm.process_stream(path, sinks=...)`` runs them through the network with two
workers in a 256 MB budget into one JSONL file per end state, the failed
records (the broken lines, with their line numbers) into ``<stem>.errors.jsonl``.

The first ``process`` call compiles the network's kernels (or loads them from
the kernel cache, ``$STREAMKIT_CACHE_DIR`` or ``~/.cache/streamkit/kernels``), so
the demo times a small warm-up batch apart from the full run.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

# Make ``examples`` importable however this file is started (``python
# examples/demo.py`` from any directory, runpy, an IDE): put the repository root
# first on the path.
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import polars as pl  # noqa: E402
import pyarrow as pa  # noqa: E402

from examples.seed_network import create_streaming_fsm_config, generate_records  # noqa: E402
from streamkit import Progress, SimpleFSM  # noqa: E402

#: Records the demo generates unless a count is given on the command line.
DEFAULT_N = 1_000_000

#: Rows of the warm-up batch that triggers compilation before the timed run.
WARMUP_ROWS = 1_000

#: Failed records the demo shows.
N_FAILED_SHOWN = 5


def _section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def main(argv: list[str] | None = None) -> int:
    """Run the demo; ``argv`` may hold the number of records (underscores allowed)."""
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0].replace("_", "")) if args else DEFAULT_N
    pl.Config.set_tbl_cols(12)
    pl.Config.set_tbl_width_chars(140)

    t0 = time.perf_counter()
    config = create_streaming_fsm_config()
    fsm = SimpleFSM(config)
    t1 = time.perf_counter()
    # A failing record on purpose: 2**62 squared is outside int64, so `enrich` fails
    # it with OverflowError (Python would have made a big integer).
    table = (
        pa.concat_tables(
            [
                generate_records(n - 1, seed=0),
                pa.table(
                    {
                        "id": pa.array([n - 1], pa.int64()),
                        "value": pa.array([2**62], pa.int64()),
                        "category": pa.array(["cat_4"]),
                        "status": pa.array(["pending"]),
                    }
                ),
            ]
        )
        if n > 0
        else generate_records(0)
    )
    t2 = time.perf_counter()
    fsm.process(table.slice(0, WARMUP_ROWS))  # compiles (or loads) the kernels
    t3 = time.perf_counter()
    result = fsm.process(table)
    t4 = time.perf_counter()

    _section(f"seed 002 network {fsm.config.name!r}")
    print(f"validated + planned in {t1 - t0:.3f} s; generated {table.num_rows:,} records in {t2 - t1:.3f} s")
    print(f"first batch ({min(WARMUP_ROWS, table.num_rows):,} rows, compiles or loads the kernels): {t3 - t2:.3f} s")

    _section("counts")
    print(f"total records : {result.total_records:>12,}")
    print(f"successful    : {result.successful:>12,}")
    print(f"failed        : {result.failed:>12,}")
    for end_state, count in result.end_state_counts.items():
        print(f"  end state {end_state!r:<10}: {count:>10,}")
    assert result.total_records == result.successful + result.failed == table.num_rows

    _section("throughput")
    seconds = t4 - t3
    rate = result.total_records / seconds if seconds > 0 else float("inf")
    print(
        f"{result.total_records:,} records in {seconds:.3f} s = {rate / 1e6:,.1f} M records/s "
        f"({result.chunks_processed} chunks on {fsm.parallelism} worker thread(s), default settings)"
    )

    for end_state in fsm.end_states:
        _section(f"end state {end_state!r}: result.to_polars({end_state!r}).head()")
        print(result.to_polars(end_state).head())

    _section(f"failed records: result.errors() (first {N_FAILED_SHOWN})")
    print(pl.from_arrow(result.errors().slice(0, N_FAILED_SHOWN)))

    _section("fsm.explain()")
    print(fsm.explain())

    stream_files(fsm, table)
    return 0


def stream_files(fsm: SimpleFSM, table: pa.Table) -> None:
    """Stream the records file to file: JSONL in, one JSONL file per end state out."""
    with tempfile.TemporaryDirectory(prefix="streamkit-demo-") as tmp:
        src = Path(tmp) / "records.jsonl"
        pl.from_arrow(table).write_ndjson(src)
        with src.open("a") as f:  # two broken lines: they fail with their line numbers, the stream goes on
            f.write('{"id": -1, "value": 12,\n')
            f.write("not json at all\n")
        sinks = {"output": Path(tmp) / "processed.jsonl", "error": Path(tmp) / "invalid.jsonl"}
        _section(f"fsm.process_stream({src.name!r}, sinks=...)  JSONL -> JSONL, 2 workers, 256 MB budget")

        def on_progress(p: Progress) -> None:
            if p.chunks_processed % 4 == 0:
                print(
                    f"  {p.records_processed:>11,} records  {p.records_per_second / 1e6:5.2f} M/s  "
                    f"{len(p.errors):,} failed  {p.bytes_in_flight / 2**20:6.1f} MB in flight"
                )

        r = fsm.process_stream(
            str(src),
            sinks={k: str(v) for k, v in sinks.items()},
            parallelism=2,
            memory_limit_mb=256,
            on_progress=on_progress,
        )
        print(
            f"{r.total_records:,} records in {r.duration:.2f} s = {r.records_per_second / 1e6:.2f} M records/s; "
            f"end states {r.end_state_counts}; failed {r.failed:,} ({r.malformed} malformed lines); "
            f"peak in flight {r.peak_bytes_in_flight / 2**20:.1f} MB"
        )
        print(f"status counts (from the run's status index): {r.status_counts()}")
        for name, path in r.paths.items():
            size = Path(path).stat().st_size
            print(f"  {name:<7} -> {Path(path).name:<22} {size / 2**20:8.1f} MB")
        errors = Path(r.paths["errors"]).read_text().splitlines()
        print("last failed records:")
        for line in errors[-3:]:
            print("  " + line[:160])


if __name__ == "__main__":
    sys.exit(main())
