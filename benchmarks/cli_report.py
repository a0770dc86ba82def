"""Benchmark the command line against the same run from Python: the flights ETL, JSONL → Parquet.

Usage::

    python benchmarks/cli_report.py [--repeat 7] [--n 336776]

Each form runs in a fresh process, timed whole (interpreter start, imports,
the run, exit), interleaved round by round:

- ``python``: ``SimpleFSM("examples/flights_etl.yaml").process_stream(src, sinks={...})``;
- ``cli``: ``streamkit run examples/flights_etl.yaml --source src --sinks END=PATH ...`` on a
  terminal (a pseudo-terminal made by ``script``), so the progress bar is drawn;
- ``cli, not a terminal``: the same with its output piped (progress as plain lines).

The target: the command line within 5 % of the Python call. Each round runs the forms one after
the other, so the ratio is taken round by round (the machine's drift cancels within a round) and
the median of those ratios is the figure; their range shows the noise.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.tables import Target, load_average, plain_table, target_table

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "examples" / "flights_etl.yaml"
END_STATES = ("cancelled", "diverted", "delayed", "on_time")


def _sinks(out: Path) -> dict[str, str]:
    return {s: str(out / f"{s}.parquet") for s in END_STATES}


def commands(src: Path, out: Path) -> dict[str, list[str]]:
    """The three forms, as argument lists."""
    python = (
        "from streamkit import SimpleFSM\n"
        f"SimpleFSM({str(CONFIG)!r}).process_stream({str(src)!r}, sinks={_sinks(out)!r})\n"
    )
    exe = str(Path(sys.executable).parent / "streamkit")
    cli = [exe, "run", str(CONFIG), "--source", str(src)]
    for state, path in _sinks(out).items():
        cli += ["--sinks", f"{state}={path}"]
    return {
        "python": [sys.executable, "-c", python],
        "cli": ["script", "-qec", shlex.join(cli), "/dev/null"],
        "cli, not a terminal": cli,
    }


def timed(cmd: list[str], out: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one whole process (its output directory emptied first).

    CPU time counts the work done whatever else the machine runs: on a loaded machine it is the
    steadier of the two figures.
    """
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    took = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        msg = f"{shlex.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}"
        raise RuntimeError(msg)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return took, cpu


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table; exit 1 with ``--strict`` when the target fails."""
    from benchmarks.stream_jobs import ensure_input

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--n", type=int, default=336_776)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args(argv)
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"machine: {os.cpu_count()} cores; load {load_average()} before")
    src = ensure_input(args.n, "jsonl", workload="flights")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        forms = commands(src, out)
        times: dict[str, list[float]] = {name: [] for name in forms}
        cpus: dict[str, list[float]] = {name: [] for name in forms}
        for cmd in forms.values():  # a first round, untimed: the kernel cache is warm for all
            timed(cmd, out)
        for _ in range(args.repeat):
            for name, cmd in forms.items():
                wall, cpu = timed(cmd, out)
                times[name].append(wall)
                cpus[name].append(cpu)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    cpu_med = {name: statistics.median(ts) for name, ts in cpus.items()}
    rows = [
        (name, f"{med[name]:.3f} s", f"{min(ts):.3f}–{max(ts):.3f} s", f"{cpu_med[name]:.3f} s")
        for name, ts in times.items()
    ]
    print()
    print(plain_table([f"flights JSONL → Parquet, {args.n:,} records", "median", "range", "CPU (median)"], rows))

    def paired(name: str, by: dict[str, list[float]]) -> tuple[float, float, float]:
        ratios = [a / b for a, b in zip(by[name], by["python"], strict=True)]
        return statistics.median(ratios), min(ratios), max(ratios)

    ratio, lo, hi = paired("cli", times)
    targets = [
        Target(
            "streamkit run (with its bar) ÷ the Python call",
            "≤ 1.05×",
            f"{ratio:.3f}× ({lo:.2f}–{hi:.2f})",
            ratio <= 1.05,
        )
    ]
    plain, lo, hi = paired("cli, not a terminal", times)
    targets.append(
        Target(
            "streamkit run, piped ÷ the Python call", "", f"{plain:.3f}× ({lo:.2f}–{hi:.2f})", None, informational=True
        )
    )
    cpu_ratio, lo, hi = paired("cli", cpus)
    targets.append(
        Target(
            "CPU time: streamkit run ÷ the Python call",
            "",
            f"{cpu_ratio:.3f}× ({lo:.2f}–{hi:.2f})",
            None,
            informational=True,
        )
    )
    print(f"\nratios are medians of {args.repeat} paired rounds (range in brackets)")
    print()
    print(target_table(targets))
    print(f"\nload {load_average()} after")
    return 1 if args.strict and not all(t.ok for t in targets if not t.informational) else 0


if __name__ == "__main__":
    raise SystemExit(main())
