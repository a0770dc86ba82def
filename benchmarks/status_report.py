"""Benchmark the status index against a numpy scan and the seed 000 list pattern; print the table.

Usage::

    python benchmarks/status_report.py [--sizes 10_000,1_000_000,100_000_000] [--repeat 7]
                                       [--py-limit 1_000_000] [--json PATH] [--strict]

Three ways to answer "how many / which records are failed", per stream size:

- ``StatusIndex``: built from a uint8 status column, chunk by chunk
  (``add_chunk(range(...), column)``), with the default ``keep_ids`` (every
  status but ``completed``);
- ``numpy scan``: the status column alone (``np.count_nonzero(col == s)``,
  ``np.flatnonzero(col == s)``, ``col[ids]``, ``col[ids] = s``);
- ``seed lists``: seed 000's pattern, a Python list of ids per status
  (``len``, a copy of the list, ``id in list`` per status, ``list.remove`` +
  ``append`` per transition). Above ``--py-limit`` items it is not run: its
  times are extrapolated from the largest size run (linearly in the items it
  touches) and marked ``~``; its membership and transition times come from a
  sample of ids for the same reason.

The columns are ``completed`` everywhere but a random 1 % (or 0.1 %)
``failed``. Each time is the median of ``--repeat`` runs (cheap operations
are timed over many calls each). The transition batch is min(1M, n/10)
sorted random ids (as the engine produces them) moved ``processing`` ->
``completed``; rows for unsorted ids, for a kept target status and for a
build that keeps every status's ids (``keep_ids='all'``, 8 more bytes per id)
are shown for information, and so is ``ids("completed")``, which the default
does not keep: a scan of the status column. Jobs and events change one id at
a time: ``add(1 id)`` and ``transition(1 id)`` time 100k calls per run with an
``int`` each, for dense ids (new row or job numbers) and sparse ones (job ids,
in the hash table). The process exits 1 with ``--strict`` when a target fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.figures import ReportFigures, Timing, make_figure
from benchmarks.tables import Target
from streamkit.status import StatusIndex
from streamkit.status.codes import STATUS_NAMES

PROCESSING, COMPLETED, FAILED = 1, 2, 3
#: Rows per ``add_chunk`` when building (a large stream chunk).
CHUNK = 1 << 20
#: Ids whose status membership is asked.
N_MEMBERSHIP = 1_000
#: Calls per run of the one-id operations.
N_ONE = 100_000
DEFAULT_SIZES = (10_000, 1_000_000, 100_000_000)


def make_column(n: int, failed_fraction: float, seed: int = 0) -> np.ndarray:
    """A uint8 status column: ``completed`` but ``failed_fraction`` of rows ``failed``, at random."""
    rng = np.random.default_rng(seed)
    column = np.full(n, COMPLETED, np.uint8)
    column[rng.integers(0, n, int(n * failed_fraction))] = FAILED
    return column


def build_index(column: np.ndarray, chunk: int = CHUNK, **kwargs: object) -> StatusIndex:
    """A StatusIndex over row ids ``0..n-1`` with ``column``'s statuses, added chunk by chunk."""
    index = StatusIndex(**kwargs)
    for start in range(0, column.shape[0], chunk):
        stop = min(start + chunk, column.shape[0])
        index.add_chunk(range(start, stop), column[start:stop])
    return index


def sample_ids(n: int, k: int, seed: int = 1) -> np.ndarray:
    """``min(k, n)`` distinct random ids below ``n``, sorted."""
    rng = np.random.default_rng(seed)
    k = min(k, n)
    if 4 * k >= n:
        return np.sort(rng.choice(n, k, replace=False))
    ids = np.unique(rng.integers(0, n, k + k // 8 + 16))
    while ids.shape[0] < k:
        ids = np.unique(np.concatenate([ids, rng.integers(0, n, k)]))
    return np.sort(rng.choice(ids, k, replace=False))


class SeedLists:
    """Seed 000's pattern: one Python list of ids per status, ``list.remove`` on a transition."""

    def __init__(self, column: np.ndarray) -> None:
        self.lists: dict[str, list[int]] = {name: [] for name in STATUS_NAMES}
        lists = [self.lists[name] for name in STATUS_NAMES]
        for i, code in enumerate(column.tolist()):
            lists[code].append(i)

    def count(self, name: str) -> int:
        """``len`` of the status's list."""
        return len(self.lists[name])

    def ids(self, name: str) -> list[int]:
        """A copy of the status's list (the index returns a new array too)."""
        return list(self.lists[name])

    def status_of(self, ids: Sequence[int]) -> list[str]:
        """The status of each id: ``id in list`` over the statuses."""
        return [next(name for name, lst in self.lists.items() if i in lst) for i in ids]

    def transition(self, ids: Sequence[int], frm: str, to: str) -> None:
        """Move ids: ``remove`` from one list, ``append`` to the other."""
        src, dst = self.lists[frm], self.lists[to]
        for i in ids:
            src.remove(i)
            dst.append(i)


def median_time(fn: Callable[[], object], *, repeat: int, number: int = 1,
                setup: Callable[[], object] | None = None) -> Timing:  # fmt: skip
    """Median seconds per call of ``fn`` over ``repeat`` runs of ``number`` calls (``setup`` untimed).

    The result is a float that also carries every run (:class:`benchmarks.figures.Timing`).
    """
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return Timing(times)


@dataclass
class Row:
    """One operation at one size: seconds per call for each implementation (None: not run)."""

    op: str
    n: int
    index: float
    numpy: float | None
    lists: float | None
    lists_extrapolated: bool = False
    note: str = ""


def measure_size(n: int, *, repeat: int, py_limit: int, py_ref: dict[str, tuple[int, float]]) -> list[Row]:
    """Every operation at ``n`` items (``py_ref`` carries seed-list timings for extrapolation)."""
    rows: list[Row] = []
    col1, col01 = make_column(n, 0.01, seed=0), make_column(n, 0.001, seed=2)
    big_repeat = max(3, min(repeat, 5)) if n >= 10_000_000 else repeat
    build = median_time(lambda: build_index(col1), repeat=big_repeat)
    copy = median_time(col1.copy, repeat=big_repeat)
    index, index01 = build_index(col1), build_index(col01)
    run_py = n <= py_limit
    py_build = median_time(lambda: SeedLists(col1), repeat=3) if run_py else None
    py = SeedLists(col1) if run_py else None
    py01 = SeedLists(col01) if run_py else None
    rows.append(Row("build (add_chunk of a status column)", n, build, copy,
                    *_py("build", n, py_build, py_ref, scale=n),
                    note=f"{index.nbytes / n:.2f} bytes/id"))  # fmt: skip
    build_all = median_time(lambda: build_index(col1, keep_ids="all"), repeat=big_repeat)
    bytes_all = build_index(col1, keep_ids="all").nbytes / n
    rows.append(Row("build, keep_ids='all'", n, build_all, None, None, note=f"(info) {bytes_all:.2f} bytes/id"))

    number = 100_000 if n <= 1_000_000 else 20_000
    rows.append(Row("count(failed)", n, median_time(lambda: index.count("failed"), repeat=repeat, number=number),
                    median_time(lambda: np.count_nonzero(col1 == FAILED), repeat=repeat),
                    *_py("count", n, median_time(lambda: py.count("failed"), repeat=repeat, number=number)
                         if py else None, py_ref, scale=1)))  # fmt: skip
    for label, ix, col, lists, _frac in (("1%", index, col1, py, 0.01), ("0.1%", index01, col01, py01, 0.001)):
        k = ix.count("failed")
        assert np.array_equal(np.sort(ix.ids("failed")), np.flatnonzero(col == FAILED))
        rows.append(Row(f"ids(failed), {label} failed", n,
                        median_time(lambda ix=ix: ix.ids("failed"), repeat=repeat, number=_number(k)),
                        median_time(lambda col=col: np.flatnonzero(col == FAILED), repeat=repeat),
                        *_py(f"ids {label}", n, median_time(lambda lists=lists: lists.ids("failed"), repeat=repeat,
                             number=_number(k)) if lists else None, py_ref, scale=k),
                        note=f"k = {k:,}"))  # fmt: skip
    probe = np.random.default_rng(3).integers(0, n, N_MEMBERSHIP)
    assert np.array_equal(index.status_of(probe), col1[probe])
    py_probe = probe[:20].tolist()
    rows.append(Row(f"status_of({N_MEMBERSHIP:,} ids)", n,
                    median_time(lambda: index.status_of(probe), repeat=repeat, number=200),
                    median_time(lambda: col1[probe], repeat=repeat, number=200),
                    *_py("membership", n, median_time(lambda: py.status_of(py_probe), repeat=3) * N_MEMBERSHIP
                         / len(py_probe) if py else None, py_ref, scale=n),
                    note="seed lists: 20 ids, scaled"))  # fmt: skip
    k = index.count("completed")
    assert np.array_equal(index.ids("completed"), np.flatnonzero(col1 == COMPLETED))
    rows.append(Row("ids(completed), not kept: a scan", n,
                    median_time(lambda: index.ids("completed"), repeat=big_repeat),
                    median_time(lambda: np.flatnonzero(col1 == COMPLETED), repeat=big_repeat),
                    *_py("ids completed", n, median_time(lambda: py.ids("completed"), repeat=repeat)
                         if py else None, py_ref, scale=k),
                    note=f"(info) k = {k:,}, ascending"))  # fmt: skip
    rows.extend(_transition_rows(n, index, col1, py, repeat=repeat, py_ref=py_ref))
    rows.extend(_one_id_rows(n, col1, py, repeat=repeat, py_ref=py_ref))
    return rows


def sparse_id(k: int) -> int:
    """The ``k``-th sparse id (a job id): distinct for every ``k``, all far apart, at ``2**62`` and above."""
    return ((k * 0x9E3779B97F4A7C15) & (2**62 - 1)) | 2**62


def _one_id_rows(n: int, col: np.ndarray, py: SeedLists | None, *, repeat: int,
                 py_ref: dict[str, tuple[int, float]]) -> list[Row]:  # fmt: skip
    # add and transition of one id per call (an int), into an index of the column (steady state): dense
    # ids (new rows, or job numbers) and sparse ones (job ids, in the hash table); N_ONE calls per run
    index = build_index(col)
    spare = np.zeros(n + N_ONE * repeat + 1, np.uint8)
    rows = []
    for label, make in (("", lambda k: n + k), (", sparse ids", sparse_id)):
        new = iter([make(k) for k in range(N_ONE * repeat)])
        t = median_time(lambda new=new: index.add(next(new)), repeat=repeat, number=N_ONE)
        t_np = t_py = None
        if not label:
            new_np = iter(range(n, n + N_ONE * repeat))
            t_np = median_time(lambda new_np=new_np: spare.__setitem__(next(new_np), 0), repeat=repeat, number=N_ONE)
        if py is not None:
            lst: list[int] = []
            t_py = median_time(lambda lst=lst: lst.append(n), repeat=repeat, number=N_ONE)
        rows.append(Row(f"add(1 id){label}", n, t, t_np, *_py(f"add one{label}", n, t_py, py_ref, scale=1),
                        note=f"{N_ONE:,} calls per run; numpy: col[i] = s, seed lists: append"))  # fmt: skip
    moving = np.random.default_rng(6).permutation(sample_ids(n, min(n, N_ONE))).tolist()
    sparse = [sparse_id(k) for k in range(N_ONE)]  # added above
    for label, ids in (("", moving), (", sparse ids", sparse)):
        state = {"k": 0}
        targets = ("processing", "failed", "completed")

        def move(ids: list[int] = ids, state: dict[str, int] = state, targets: tuple[str, ...] = targets) -> None:
            k = state["k"]
            state["k"] = k + 1
            index.transition(ids[k % len(ids)], targets[(k // len(ids)) % 3])

        t = median_time(move, repeat=repeat, number=N_ONE)
        t_np = t_py = None
        if not label:
            one = ids[7 % len(ids)]
            t_np = median_time(lambda one=one: col.__setitem__(one, COMPLETED), repeat=repeat, number=N_ONE)
        if not label and py is not None:  # list.remove is O(n): a few ids, scaled
            few = moving[:20]
            py.lists["processing"] = list(range(n))
            t_py = median_time(lambda few=few: py.transition(few, "processing", "completed"), repeat=1) / len(few)
        rows.append(Row(f"transition(1 id){label}", n, t, t_np, *_py(f"transition one{label}", n, t_py, py_ref,
                        scale=n), note="seed lists: remove + append, 20 ids" if not label else "(info)"))  # fmt: skip
    assert sum(index.counts().values()) == len(index)
    return rows


def _transition_rows(n: int, index: StatusIndex, col: np.ndarray, py: SeedLists | None, *, repeat: int,
                     py_ref: dict[str, tuple[int, float]]) -> list[Row]:  # fmt: skip
    batch = sample_ids(n, min(1_000_000, n // 10))
    b = batch.shape[0]
    unsorted = np.random.default_rng(4).permutation(batch)
    rows = []
    for label, ids, to in (("", batch, "completed"), (", unsorted ids", unsorted, "completed"),
                           (" -> failed (kept list)", batch, "failed")):  # fmt: skip
        t = median_time(lambda ids=ids, to=to: index.transition(ids, to), repeat=repeat,
                        setup=lambda ids=ids: index.transition(ids, "processing"))  # fmt: skip
        t_np = median_time(lambda ids=ids: col.__setitem__(ids, COMPLETED), repeat=repeat,
                           setup=lambda ids=ids: col.__setitem__(ids, PROCESSING))  # fmt: skip
        if label == "" and py is not None:
            # list.remove searches the list and shifts the rest: time a sample of removes, scale to the batch
            sample = batch[:: max(1, b // 200)].tolist()
            py.lists["processing"] = batch.tolist()
            t_py = median_time(lambda s=sample: py.transition(s, "processing", "completed"), repeat=1) / len(sample) * b
        else:
            t_py = None
        lists = _py("transition", b, t_py, py_ref, scale=b) if label == "" else (None, False)
        rows.append(Row(f"transition {b:,} ids{label}", n, t, t_np, *lists,
                        note="seed lists: 200 ids, scaled" if label == "" else "(info)"))  # fmt: skip
    assert index.count("failed") == np.count_nonzero(index.status_of(np.arange(n)) == FAILED)
    return rows


def _number(k: int) -> int:
    return max(1, min(1000, 2_000_000 // max(k, 1)))


def _py(key: str, scale_n: int, measured: float | None, ref: dict[str, tuple[int, float]],
        *, scale: int) -> tuple[float | None, bool]:  # fmt: skip
    # a measured seed-list time (remembered per unit of `scale`), or one extrapolated from the last measured
    if measured is not None:
        ref[key] = (scale, measured)
        return measured, False
    if key not in ref:
        return None, False
    unit, t = ref[key]
    return t * scale / unit, True


# --------------------------------------------------------------------------- report


def fmt_time(seconds: float | None, approx: bool = False) -> str:
    """Seconds with a readable unit (``~`` when extrapolated, ``-`` when not run)."""
    if seconds is None:
        return "-"
    mark = "~" if approx else ""
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{mark}{seconds / scale:.3g} {unit}"
    return f"{mark}{seconds * 1e9:.3g} ns"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table, the first two columns left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda cells: "  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w)  # noqa: E731
                                  for i, (c, w) in enumerate(zip(cells, widths))).rstrip()  # fmt: skip
    return "\n".join([fmt(header), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)])


def _ratio(base: float | None, t: float) -> str:
    return "-" if base is None else f"{base / t:,.0f}×" if base / t >= 100 else f"{base / t:.3g}×"


def results_table(rows: Sequence[Row]) -> str:
    """The measured table."""
    out = [[r.op, f"{r.n:,}", fmt_time(r.index), fmt_time(r.numpy), fmt_time(r.lists, r.lists_extrapolated),
            _ratio(r.numpy, r.index), _ratio(r.lists, r.index), r.note] for r in rows]  # fmt: skip
    header = ["operation", "items", "StatusIndex", "numpy scan", "seed lists", "vs numpy", "vs lists", "note"]
    return table(header, out)


def _row(rows: Sequence[Row], n: int, prefix: str) -> Row:
    return next(r for r in rows if r.n == n and r.op.startswith(prefix) and not r.note.startswith("(info)"))


def targets(rows: Sequence[Row]) -> list[tuple[str, str, str, bool | None]]:
    """The issue's targets at the largest size measured: (name, goal, measured, ok or None)."""
    top = max(r.n for r in rows)
    out: list[tuple[str, str, str, bool | None]] = []
    count = _row(rows, top, "count(").index
    out.append((f"count at {top:,} items", "< 1 µs", fmt_time(count), count < 1e-6))
    ids1, ids01 = _row(rows, top, "ids(failed), 1%").index, _row(rows, top, "ids(failed), 0.1%").index
    out.append((f"ids(failed), 1% of {top:,} failed", "< 50 ms", fmt_time(ids1), ids1 < 0.05))
    out.append(("ids is O(k): time(1%) / time(0.1%)", "≈ 10 (≥ 4)", f"{ids1 / ids01:.1f}", ids1 / ids01 >= 4))
    rate = top / _row(rows, top, "build").index
    out.append(("build rate (dense ids, status column)", "≥ 200 M items/s", f"{rate / 1e6:,.0f} M/s", rate >= 200e6))
    tr = _row(rows, top, "transition")
    ok = tr.index < 0.02 if tr.op.startswith("transition 1,000,000 ") else None  # n/a below 10M items
    out.append((f"{tr.op} at {top:,}", "< 20 ms for 1M ids", fmt_time(tr.index), ok))
    for op in ("add(1 id)", "transition(1 id)"):
        t = next(r.index for r in rows if r.n == top and r.op == op)
        out.append((f"{op} at {top:,} items", "≤ 2 µs", fmt_time(t), t <= 2e-6))
    big = [r for r in rows if r.op.startswith("ids(") and r.n >= 1_000_000 and not r.note.startswith("(info)")]
    slower = [f"{r.op} at {r.n:,}" for r in big if r.numpy is not None and r.index >= r.numpy]
    out.append(("ids(status) faster than a numpy scan at every size ≥ 1M", "yes",
                ", ".join(slower) or ("yes" if big else "n/a"), (not slower) if big else None))  # fmt: skip
    return out


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse the command line."""

    def sizes(text: str) -> list[int]:
        values = [int(v.replace("_", "")) for v in text.split(",") if v.strip()]
        if not values or min(values) < 100:
            raise argparse.ArgumentTypeError(f"sizes must be integers >= 100, got {text!r}")
        return values

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=sizes, default=list(DEFAULT_SIZES), help="items per run (10k,1M,100M)")
    parser.add_argument("--repeat", type=int, default=7, help="runs per timing; the median is shown (7)")
    parser.add_argument("--py-limit", type=lambda t: int(t.replace("_", "")), default=1_000_000,
                        help="largest size the seed-list pattern is run at; above it, extrapolated (1M)")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    return parser.parse_args(argv)


def _runs(seconds: float) -> tuple[float, ...]:
    """Every run behind a timing (the value alone for an extrapolated or plain float)."""
    return getattr(seconds, "runs", (seconds,))


def status_figures(rows: Sequence[Row]) -> dict[str, dict[str, object]]:
    """Seconds per call of every operation and size, for the index, the numpy scan and the seed lists."""
    out: dict[str, dict[str, object]] = {}
    for r in rows:
        info = r.note.startswith("(info)")
        for impl, seconds in (("StatusIndex", r.index), ("numpy scan", r.numpy), ("seed lists", r.lists)):
            if seconds is None:
                continue
            extrapolated = impl == "seed lists" and r.lists_extrapolated
            out[f"{r.op} at {r.n}/{impl}"] = make_figure(
                _runs(seconds),
                unit="s",
                records=r.n,
                job=f"{r.op} at {r.n:,}",
                impl=impl,
                info=info or extrapolated,
                **({"extrapolated": True} if extrapolated else {}),
            )
    return out


def measure(args: argparse.Namespace) -> ReportFigures:
    """Measure every size of ``args.sizes``; return the figures, the targets and the printed tables."""
    started = time.perf_counter()
    rows: list[Row] = []
    py_ref: dict[str, tuple[int, float]] = {}
    for n in sorted(args.sizes):
        rows.extend(measure_size(n, repeat=args.repeat, py_limit=args.py_limit, py_ref=py_ref))
        print(f"measured {n:,} items", file=sys.stderr, flush=True)
    verdict = {True: "PASS", False: "FAIL", None: "n/a"}
    result = targets(rows)
    text = "\n".join(
        [
            f"# {os.cpu_count()} cpus; medians of {args.repeat} runs; '~' = extrapolated, '-' = not run",
            "",
            results_table(rows),
            "",
            table(["target", "goal", "measured", "result"], [[t[0], t[1], t[2], verdict[t[3]]] for t in result]),
        ]
    )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))
    return ReportFigures(
        "status",
        "status index",
        figures=status_figures(rows),
        targets=[Target(*t) for t in result],
        text=text,
        seconds=time.perf_counter() - started,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the tables, return the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print("$ " + shlex.join([sys.executable, *sys.argv]), flush=True)
    result = measure(args)
    print(result.text)
    return 1 if args.strict and any(t.ok is False for t in result.targets) else 0


if __name__ == "__main__":
    raise SystemExit(main())
