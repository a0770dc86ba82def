"""The benchmark suite: run the reports, write a dated results directory, compare with an earlier run.

Usage (``make bench`` runs it with the defaults; ``streamkit bench`` calls :func:`main`)::

    python -m benchmarks.suite [--quick] [--only core,stream,...] [--repeat N] [--out DIR]
                               [--compare OLD.json] [--threshold 0.10] [--strict]

Options:

- ``--quick``: small sizes, one repeat each (the CI-sized run, a few minutes at most);
- ``--only NAMES``: the reports to run, comma-separated, from :data:`REPORTS`
  (default: all of them, in that order);
- ``--repeat N``: timed repeats per figure for every report (default: each
  report's own; ``--quick`` makes it 1);
- ``--out DIR``: the results directory (default:
  ``benchmarks/results/<YYYY-MM-DD>-<HHMMSS>/``);
- ``--compare OLD``: an earlier run's ``figures.json`` (or its directory):
  every figure in both runs is judged against the noise
  (``benchmarks/compare.py``), the table printed and written into the report;
- ``--threshold X``: the smallest relative change judged (0.10);
- ``--strict``: exit 1 when ``--compare`` flags a regression.

It writes into the results directory:

- ``report.md``: machine, versions, load before and after, then per report
  its figures (median, min–max, IQR, repeats), streamkit's ratios against its
  baselines measured in the same run (polars at its best, pyarrow, the
  per-record Python loop), its targets with PASS/FAIL and its printed tables;
  the comparison when asked; the charts;
- ``figures.json``: every raw figure (all repeats), in the layout ``--compare`` reads;
- the charts (``benchmarks/charts.py``; left out, and said so, without matplotlib).

Exit status: 1 when a report failed (a run crashed, or results disagree),
or with ``--strict`` when a regression was flagged; else 0.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import polars  # noqa: F401 - before streamkit: polars keeps its default thread pool (the rival at its best)

from benchmarks.figures import SCHEMA_VERSION, ReportFigures, load_averages, machine_info, version_info

__all__ = ("REPORTS", "RESULTS_DIR", "main", "parse_args", "run_suite")

#: Where the results directories go by default.
RESULTS_DIR = Path(__file__).resolve().parent / "results"

#: The reports, in the order they run: name → what it measures.
REPORTS = {
    "core": "in memory: seed job, flights ETL, text building (benchmarks/report.py)",
    "scaling": "records/s against input size, in memory (benchmarks/scaling_report.py)",
    "states": "ns per record per state of the seed network (benchmarks/states_report.py)",
    "stream": "file to file, each run in its own process, peak RSS (benchmarks/stream_report.py)",
    "status": "the status index (benchmarks/status_report.py)",
    "events": "events, seed 003 (benchmarks/events_report.py)",
    "runtime": "the runtime, seed 001 (benchmarks/runtime_report.py)",
    "executor": "the executor, seed 000 (benchmarks/executor_report.py)",
    "submit": "submissions, seed 004 (benchmarks/submit_report.py)",
}


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""

    def only(text: str) -> list[str]:
        names = [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in REPORTS]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"reports must be among {', '.join(REPORTS)}; got {text!r}")
        return [n for n in REPORTS if n in names]

    def positive(text: str) -> int:
        value = int(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {value}")
        return value

    parser = argparse.ArgumentParser(prog="streamkit bench", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat (the CI-sized run)")
    parser.add_argument("--only", type=only, default=list(REPORTS), help=f"reports to run: {','.join(REPORTS)}")
    parser.add_argument("--repeat", type=positive, default=None, help="timed repeats per figure (each report's own)")
    parser.add_argument("--out", type=Path, default=None, help="results directory (benchmarks/results/<date>-<time>)")
    parser.add_argument("--compare", type=Path, default=None, metavar="OLD.json", help="an earlier figures.json")
    parser.add_argument("--threshold", type=float, default=None, help="smallest relative change judged (0.10)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when --compare flags a regression")
    return parser.parse_args(list(argv))


@contextlib.contextmanager
def _env(**values: str | None) -> Iterator[None]:
    """Environment variables set (or, for ``None``, removed) for the block."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _repeat(args: argparse.Namespace) -> list[str]:
    """``--repeat N`` for a report, when the suite sets one."""
    n = 1 if args.quick and args.repeat is None else args.repeat
    return ["--repeat", str(n)] if n else []


def _run_core(args: argparse.Namespace) -> ReportFigures:
    from benchmarks import report

    argv = ["--n", "100_000", "--py-n", "20_000", "--etl-n", "2_000", "--data", "seed"] if args.quick else []
    rounds = 1 if args.quick and args.repeat is None else args.repeat
    with _env(STREAMKIT_BENCH_ROUNDS=str(rounds) if rounds else None):
        return report.measure(report.parse_args(argv), quick=args.quick)


def _run_scaling(args: argparse.Namespace) -> ReportFigures:
    from benchmarks import scaling_report

    argv = ["--sizes", "10_000,30_000,100_000", "--py-limit", "30_000"] if args.quick else []
    return scaling_report.measure(scaling_report.parse_args(argv + _repeat(args)))


def _run_states(args: argparse.Namespace) -> ReportFigures:
    from benchmarks import states_report

    return states_report.measure(states_report.parse_args((["--n", "50_000"] if args.quick else []) + _repeat(args)))


def _run_stream(args: argparse.Namespace) -> ReportFigures:
    from benchmarks import stream_report

    argv = []
    if args.quick:
        argv = ["--n", "20_000", "50_000", "--formats", "jsonl", "--flights-n", "2_000", "--no-compute"]
    return stream_report.measure(stream_report.parse_args(argv + _repeat(args)))


def _run_status(args: argparse.Namespace) -> ReportFigures:
    from benchmarks import status_report

    argv = ["--sizes", "10_000,100_000"] if args.quick else []
    return status_report.measure(status_report.parse_args(argv + _repeat(args)))


def _run_events(args: argparse.Namespace) -> ReportFigures:
    from benchmarks import events_report

    return events_report.measure(events_report.parse_args(_repeat(args)))


def _run_runtime(args: argparse.Namespace) -> ReportFigures:
    from benchmarks import runtime_report

    argv = ["--jobs-rss", "20_000"] if args.quick else []
    return runtime_report.measure(runtime_report.parse_args(argv + _repeat(args)))


def _run_executor(args: argparse.Namespace) -> ReportFigures:
    from benchmarks import executor_report

    argv = ["--big", "100_000"] if args.quick else []
    return executor_report.measure(executor_report.parse_args(argv + _repeat(args)))


def _run_submit(args: argparse.Namespace) -> ReportFigures:
    from benchmarks import submit_report

    argv = ["--runs", "200", "--first-repeat", "1"] if args.quick else []
    return submit_report.measure(submit_report.parse_args(argv + _repeat(args)))


_RUNNERS: dict[str, Callable[[argparse.Namespace], ReportFigures]] = {
    "core": _run_core,
    "scaling": _run_scaling,
    "states": _run_states,
    "stream": _run_stream,
    "status": _run_status,
    "events": _run_events,
    "runtime": _run_runtime,
    "executor": _run_executor,
    "submit": _run_submit,
}


def run_suite(args: argparse.Namespace) -> dict[str, Any]:
    """Run the chosen reports one after the other; return the whole ``figures.json`` content."""
    started = time.perf_counter()
    data: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "created": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": getattr(args, "command", ""),
        "options": {
            "quick": args.quick,
            "only": args.only,
            "repeat": args.repeat,
        },
        "machine": machine_info(),
        "versions": version_info(),
        "load": {"before": load_averages()},
        "reports": {},
    }
    for name in args.only:
        print(f"\n=== {name}: {REPORTS[name]}", flush=True)
        load = load_averages()
        try:
            result = _RUNNERS[name](args)
        except Exception:  # a report that crashes is reported, and the others still run
            text = traceback.format_exc()
            print(text, file=sys.stderr, flush=True)
            result = ReportFigures(name, REPORTS[name], text=text, ok=False, exit_code=1)
        entry = result.as_dict()
        entry["load"] = {"before": load, "after": load_averages()}
        data["reports"][name] = entry
        print(result.text, flush=True)
        print(f"=== {name}: {result.seconds:.1f} s, {'ok' if result.ok else 'FAILED'}", flush=True)
    data["load"]["after"] = load_averages()
    data["seconds"] = time.perf_counter() - started
    return data


def default_out_dir(now: dt.datetime | None = None) -> Path:
    """``benchmarks/results/<YYYY-MM-DD>-<HHMMSS>``."""
    now = now or dt.datetime.now()
    return RESULTS_DIR / now.strftime("%Y-%m-%d-%H%M%S")


# --------------------------------------------------------------------------- markdown


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.4g}"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _loads(values: Sequence[float] | None) -> str:
    return " / ".join(f"{v:.2f}" for v in values) if values else "?"


def _ratio_cell(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:,.0f}×" if x >= 100 else f"{x:.2f}×"


def render_markdown(data: Mapping[str, Any], charts: Sequence[str], chart_notes: Sequence[str], comparison: str) -> str:
    """``report.md``: machine, versions, load, ratios, per report its figures and targets, comparison, charts."""
    m, v = data["machine"], data["versions"]
    lines = [
        f"# streamkit benchmarks — {data['created']}",
        "",
        f"Command: `{data['command']}`; {data.get('seconds', 0):.0f} s in all."
        + (" Quick run: small sizes, one repeat (the CI-sized run)." if data["options"]["quick"] else ""),
        "",
        "## Machine",
        "",
        _md_table(
            ["cores", "RAM", "CPU", "OS"],
            [[f"{m['cores']} ({m['cores_usable']} usable)", f"{m['ram_gib']} GiB", m["cpu"], m["os"]]],
        ),
        "",
        "## Versions",
        "",
        _md_table(list(v), [list(v.values())]),
        "",
        "## Load",
        "",
        "Load averages (1 / 5 / 15 min) on a machine with "
        f"{m['cores']} cores: {_loads(data['load']['before'])} before, {_loads(data['load'].get('after'))} after."
        " Each report's own before/after is in its section. Figures measured under load are slower and"
        " more spread: read the medians with their spread.",
        "",
    ]
    ratio_rows = []
    rivals: list[str] = []
    for report in data["reports"].values():
        for r in report["ratios"]:
            rivals += [k for k in r["vs"] if k not in rivals]
    for name, report in data["reports"].items():
        for r in report["ratios"]:
            cells = [_ratio_cell(r["vs"].get(k)) for k in rivals]
            ratio_rows.append([name, r["job"], r["call"], f"{r['records']:,}", *cells])
    if ratio_rows:
        lines += [
            "## Ratios: streamkit against its baselines, measured in the same run",
            "",
            "Each ratio is the baseline's median time ÷ streamkit's (higher: streamkit is faster). polars"
            " runs as one query over the whole input (its fastest form, default thread pool), pyarrow as"
            " `pyarrow.compute` over the whole table, the Python loop record by record over dicts.",
            "",
            _md_table(["report", "job", "call", "records", *(f"vs {k}" for k in rivals)], ratio_rows),
            "",
        ]
    all_targets = []
    for name, report in data["reports"].items():
        all_targets += [[name, t["name"], t["goal"], t["measured"], _verdict(t)] for t in report["targets"]]
    if all_targets:
        lines += ["## Targets", "", _md_table(["report", "target", "goal", "measured", "result"], all_targets), ""]
    if comparison:
        lines += ["## Comparison with an earlier run", "", comparison, ""]
    lines += ["## Charts", ""]
    lines += [f"![{c}]({c})" for c in charts]
    lines += [f"- {n}" for n in chart_notes]
    if "states" in data["reports"]:
        lines += ["", "ns per record per state: " + " ".join(data["reports"]["states"]["notes"])]
    lines.append("")
    for name, report in data["reports"].items():
        lines += _report_section(name, report)
    return "\n".join(lines)


def _verdict(t: Mapping[str, Any]) -> str:
    if t["informational"]:
        return "info"
    return {True: "PASS", False: "FAIL", None: "n/a"}[t["ok"]]


def _report_section(name: str, report: Mapping[str, Any]) -> list[str]:
    status = "" if report["ok"] else " — FAILED"
    lines = [
        f"## {name}: {report['title']}{status}",
        "",
        f"{report['seconds']:.1f} s; load {_loads(report['load']['before'])} before,"
        f" {_loads(report['load']['after'])} after.",
        "",
    ]
    rows = []
    for key, f in report["figures"].items():
        rows.append(
            [
                key + (" (info)" if f.get("info") else ""),
                f["unit"],
                _fmt(f["median"]),
                f"{_fmt(f['min'])} – {_fmt(f['max'])}",
                f"{_fmt(f['q1'])} – {_fmt(f['q3'])}",
                str(f["n_repeats"]),
                f"{f['records']:,}" if "records" in f else "",
            ]
        )
    if rows:
        lines += [_md_table(["figure", "unit", "median", "min – max", "IQR", "repeats", "records"], rows), ""]
    lines += [f"- {n}" for n in report.get("notes", [])]
    lines += ["", "<details><summary>printed report</summary>", "", "```text", report["text"], "```", "</details>", ""]
    return lines


# --------------------------------------------------------------------------- entry point


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite with ``argv`` (see the module docstring); return the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    args.command = shlex.join(["python -m benchmarks.suite", *(sys.argv[1:] if argv is None else argv)])
    from benchmarks.charts import draw_charts
    from benchmarks.compare import DEFAULT_THRESHOLD, compare, comparison_markdown, comparison_table, load_figures

    old = load_figures(args.compare) if args.compare else None  # a bad file fails before hours of measuring
    out = args.out or default_out_dir()
    out.mkdir(parents=True, exist_ok=True)
    data = run_suite(args)
    comparison_md = ""
    regressions = 0
    if old is not None:
        found = compare(old, data, threshold=args.threshold if args.threshold is not None else DEFAULT_THRESHOLD)
        regressions = sum(c.is_regression for c in found)
        print(f"\ncompared with {args.compare}: {regressions} regression(s)")
        print(comparison_table(found))
        comparison_md = (
            f"Against `{args.compare}` (created {old.get('created', '?')}): {regressions} regression(s) among"
            f" {len(found)} figures in both runs. Noise = the largest of the threshold and each run's"
            " (max − min) / median; a change beyond it is a regression or an improvement.\n\n"
            + comparison_markdown(found)
        )
        data["comparison"] = {
            "against": str(args.compare),
            "regressions": regressions,
            "figures": [c.__dict__ for c in found],
        }
    charts, chart_notes = draw_charts(data["reports"], out)
    data["charts"] = charts
    data["chart_notes"] = chart_notes
    (out / "figures.json").write_text(json.dumps(data, indent=1, default=str))
    (out / "report.md").write_text(render_markdown(data, charts, chart_notes, comparison_md))
    print(f"\nresults: {out}/ (report.md, figures.json{''.join(', ' + c for c in charts)})")
    failed = [n for n, r in data["reports"].items() if not r["ok"]]
    if failed:
        print(f"failed reports: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 1 if args.strict and regressions else 0


if __name__ == "__main__":
    raise SystemExit(main())
