"""Nanoseconds per record per state of the seed network, measured on one-state sub-networks.

Usage::

    python benchmarks/states_report.py [--n 2_000_000] [--repeat 7]

The engine fuses the seed network's states into one kernel (``explain()``
says so), so the time of one state inside a run cannot be read off it. Each
state is measured alone instead: a **one-state sub-network** whose start state
is that state (its transform) and whose end states are the targets of its
outgoing arcs (its conditions), run with ``SimpleFSM(...).process`` at default
settings, every output built, on exactly the records that reach that state in
the whole network (the outputs of the sub-networks before it, ``_row``
dropped). A state's figure is its median time ÷ the records it received. The
``input`` state has no transform: its sub-network is routing only, i.e. the
engine's fixed cost per record (chunking, the status column, building the
outputs). The whole network over the same input is measured too: a fused run
costs less than the sum of its states, as each sub-network pays that fixed
cost again.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyarrow as pa

from benchmarks.figures import ReportFigures, make_figure, time_calls
from benchmarks.memory_jobs import job_config, job_input, run_streamkit
from benchmarks.tables import plain_table

__all__ = ("main", "measure", "parse_args", "state_order", "sub_network")

#: The column of stream positions streamkit adds to every output.
ROW_ID = "_row"

#: How the per-state cost is measured (written into the suite's report).
METHOD = (
    "one-state sub-networks: each state run alone (its transform and the conditions of its outgoing"
    " arcs, its targets as end states) with SimpleFSM.process at default settings on the records that"
    " reach it; ns/record = median time ÷ records in. The engine fuses the states into one kernel, so"
    " the whole network costs less than the sum (each sub-network pays the per-run fixed cost again)."
)


def _main_network(config: Mapping[str, Any]) -> dict[str, Any]:
    return next(n for n in config["networks"] if n["name"] == config["main_network"])


def state_order(config: Mapping[str, Any]) -> list[str]:
    """The main network's non-end states reachable from the start, parents before children (DAGs only)."""
    net = _main_network(config)
    states = {s["name"]: s for s in net["states"]}
    start = next(s["name"] for s in net["states"] if s.get("is_start"))
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for arc in net["arcs"]:
            if arc["from"] == name:
                visit(arc["to"])
        order.append(name)

    visit(start)
    return [s for s in reversed(order) if not states[s].get("is_end")]


def sub_network(config: Mapping[str, Any], state: str) -> dict[str, Any]:
    """A network of ``state`` alone: it is the start state, its arcs' targets are end states."""
    net = _main_network(config)
    spec = copy.deepcopy(next(s for s in net["states"] if s["name"] == state))
    spec["is_start"] = True
    spec.pop("is_end", None)
    arcs = [copy.deepcopy(a) for a in net["arcs"] if a["from"] == state]
    targets = list(dict.fromkeys(a["to"] for a in arcs))
    if state in targets:
        msg = f"state {state!r} has an arc to itself: a one-state sub-network cannot measure it"
        raise ValueError(msg)
    return {
        "name": f"{config['name']}.{state}",
        "main_network": "main",
        "networks": [{"name": "main", "states": [spec, *({"name": t, "is_end": True} for t in targets)], "arcs": arcs}],
    }


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=lambda t: int(t.replace("_", "")), default=2_000_000, help="records in (2M)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per state (7)")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> ReportFigures:
    """Time every state of the seed network on its own input, and the whole network; figures and table."""
    from streamkit import SimpleFSM

    started = time.perf_counter()
    config = job_config("seed")
    table = job_input("seed", args.n)  # ~1 % null and ~1 % negative values: every route is taken
    inputs: dict[str, list[pa.Table]] = {state_order(config)[0]: [table]}
    figures: dict[str, Any] = {}
    rows = []
    total = 0.0
    for state in state_order(config):
        parts = inputs.get(state, [])
        if not parts:
            continue
        data = pa.concat_tables(parts, promote_options="default") if len(parts) > 1 else parts[0]
        fsm = SimpleFSM(sub_network(config, state))
        timing = time_calls(lambda fsm=fsm, data=data: run_streamkit(fsm, data), repeat=args.repeat)
        n = data.num_rows
        figures[f"seed state {state}"] = make_figure(
            [s / n * 1e9 for s in timing.runs], unit="ns/record", records=n, job="seed per state", impl=state
        )
        total += timing / n * 1e9
        backend = fsm.explain().splitlines()[1].split(":", 1)[1].split(" - ")[0].strip()
        rows.append([state, backend, f"{n:,}", f"{timing / n * 1e9:,.2f}", f"{min(timing.runs) / n * 1e9:,.2f}"])
        result = fsm.process(data)
        for target in result.end_state_counts:
            out = result.output(target)
            if out.num_rows:
                inputs.setdefault(target, []).append(out.drop_columns([ROW_ID]) if ROW_ID in out.column_names else out)
    whole = SimpleFSM(config)
    timing = time_calls(lambda: run_streamkit(whole, table), repeat=args.repeat)
    n = table.num_rows
    figures["seed whole network (fused)"] = make_figure(
        [s / n * 1e9 for s in timing.runs], unit="ns/record", records=n, job="seed per state", impl="whole network"
    )
    rows.append(["whole network", "fused", f"{n:,}", f"{timing / n * 1e9:,.2f}", f"{min(timing.runs) / n * 1e9:,.2f}"])
    text = "\n".join(
        [
            plain_table(["state", "backend", "records in", "ns/record", "(best)"], rows),
            "",
            f"sum of the states: {total:,.2f} ns/record; whole network: {timing / n * 1e9:,.2f} ns/record",
            "",
            whole.explain(),
        ]
    )
    return ReportFigures(
        "states",
        "ns per record per state (seed network)",
        figures=figures,
        text=text,
        notes=[METHOD],
        seconds=time.perf_counter() - started,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print the table."""
    result = measure(parse_args(sys.argv[1:] if argv is None else argv))
    print(result.text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
