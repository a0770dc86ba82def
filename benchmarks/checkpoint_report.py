"""Checkpoint and resume under ``kill -9``: every output byte-identical to an uninterrupted run.

The seed 002 streaming network runs over ``n`` seed records in JSON Lines (with
a few malformed lines and a few values of the wrong type, so the error file has
both kinds of failed records) into a JSON Lines or Parquet file, in a child
process: ``process_stream(src, out, checkpoint=ckpt)``. Each trial kills the
child with ``SIGKILL`` after a random delay (anywhere from the start to the
end of a run, the final join included), then makes the same call again to
completion, and compares every output file with ``cmp`` against an
uninterrupted run without a checkpoint, and the resumed run's counts against
its counts. It then times ``checkpoint=`` against no checkpoint in one process.

Run it::

    python benchmarks/checkpoint_report.py                       # 3M records, 10 kills, JSONL -> JSONL
    python benchmarks/checkpoint_report.py --n 3000000 --kills 10 --sink-format parquet
    python benchmarks/checkpoint_report.py --overhead 1000000 --kills 0
    python benchmarks/checkpoint_report.py --engine ray --kills 5   # drivers on Ray, against a local run
    python benchmarks/checkpoint_report.py --engine ray --parts      # a directory of parts the tasks write

It prints one line per trial and ``PASS`` or ``FAIL``.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: What the child process runs: the same call every time (``{…}`` filled in by :func:`call_code`).
CALL = """
import json, sys
sys.path.insert(0, {root!r})
import streamkit
from examples.seed_network import create_streaming_fsm_config
fsm = streamkit.SimpleFSM(create_streaming_fsm_config())
r = fsm.process_stream(
    {src!r}, {out!r}, checkpoint={ckpt!r}, chunk_size={chunk_size!r}, parallelism=2, engine={engine!r}
)
print(json.dumps({{k: r[k] for k in {keys!r}}}))
"""

#: The counts of a run's result that a resumed run must give exactly as an uninterrupted one.
COUNT_KEYS = ("total_records", "successful", "failed", "end_state_counts", "malformed", "chunks_processed")

#: Places in the input with one malformed line and one record whose value is text.
BAD_PLACES = 6


def write_input(path: Path, n: int, *, seed: int = 0, block: int = 500_000, bad: bool = True) -> Path:
    """``n`` seed records as JSON Lines at ``path`` (kept if it exists), with a few bad lines if ``bad``.

    At :data:`BAD_PLACES` places, evenly spread, one line is not JSON (a malformed
    record) and one record's ``value`` is text (it fails in ``validate`` with ``TypeError``).
    A chunk holding them is parsed line by line (the careful path), so timings
    use an input without them.
    """
    if path.exists():
        return path
    sys.path.insert(0, str(ROOT))
    import polars as pl

    from examples.seed_network import generate_records

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        for lo in range(0, n, block):
            table = generate_records(min(block, n - lo), seed=seed + lo)
            df = pl.from_arrow(table)
            assert isinstance(df, pl.DataFrame)
            df = df.with_columns(pl.col("id") + lo)
            lines = df.write_ndjson().encode().splitlines(keepends=True)
            every = max(n // BAD_PLACES, 100)
            for k in range(every // 2, len(lines) if bad else 0, every):
                rid = lo + k
                lines[k] = f'{{"id":{rid},"value":"n/a","category":"cat_0","status":"pending"}}\n'.encode()
                lines[k - 7] = lines[k - 7] + b'{"id": 1, "value": \n'
            f.writelines(lines)
    os.replace(tmp, path)
    return path


def call_code(src: Path, out: Path | str, ckpt: Path | None, chunk_size: int | None, engine: str = "local") -> str:
    """The Python source of the call the child makes (``engine="ray"`` joins the cluster ``RAY_ADDRESS`` names)."""
    return CALL.format(
        engine=engine,
        root=str(ROOT),
        src=str(src),
        out=str(out),
        ckpt=None if ckpt is None else str(ckpt),
        chunk_size=chunk_size,
        keys=COUNT_KEYS,
    )


def run_child(code: str, *, kill_after: float | None = None) -> tuple[dict[str, Any] | None, float, bool]:
    """Run the call in a child; kill it with SIGKILL after ``kill_after`` seconds if it still runs.

    Returns the counts it printed (``None`` when killed), the seconds it ran, and whether it was killed.
    """
    t0 = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-c", code], cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        try:
            out, err = proc.communicate(timeout=kill_after)  # drains both pipes while it waits
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.communicate()
            return None, time.perf_counter() - t0, True
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        msg = f"the child failed ({proc.returncode}):\n{err.decode(errors='replace')[-3000:]}"
        raise RuntimeError(msg)
    return json.loads(out.decode().strip().splitlines()[-1]), elapsed, False


def output_names(out: Path) -> list[str]:
    """The files a run writing ``out`` produces: ``out`` and its error file."""
    return [out.name, f"{out.stem}.errors.jsonl"]


def _clear(directory: Path) -> None:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)


def _committed(ckpt: Path) -> str:
    try:
        state = json.loads(ckpt.read_text())
    except (OSError, ValueError):
        return "no checkpoint"
    return f"{state['chunks']} chunks / {state['position']:,} records committed"


def kill_test(
    src: Path,
    work: Path,
    *,
    sink_format: str = "jsonl",
    kills: int = 10,
    chunk_size: int | None = None,
    seed: int = 0,
    log: Any = print,
    engine: str = "local",
    parts: bool = False,
) -> bool:
    """Uninterrupted run, then ``kills`` trials of kill -9 + resume; whether every output matched.

    The reference is a local run without a checkpoint; the checkpointed runs use ``engine``. With
    ``parts``, they write a directory of parts (``out/``), whose parts joined must be the reference file
    (JSON Lines) or hold its table (Parquet).
    """
    rng = random.Random(seed)
    ref_dir, run_dir = work / "reference", work / "run"
    _clear(ref_dir)
    ref_out = ref_dir / f"out.{sink_format}"
    ref_counts, t_ref, _ = run_child(call_code(src, ref_out, None, chunk_size))
    log(f"uninterrupted run without checkpoint: {t_ref:.2f} s (child process), {ref_counts}")
    out: Path | str = run_dir / f"out.{sink_format}"
    if parts:
        out = f"{run_dir / f'out.{sink_format}'}/"  # the directory's suffix names the parts' format
    ckpt = work / "run.ckpt"
    _clear(run_dir)
    counts, t_full, _ = run_child(call_code(src, out, ckpt, chunk_size, engine))
    same = _compare(ref_dir, run_dir, out, ref_counts, counts, ckpt)
    log(f"uninterrupted run with checkpoint:    {t_full:.2f} s, identical: {same}")
    ok = same
    for trial in range(kills):
        _clear(run_dir)
        delay = rng.uniform(0.2, t_full * 1.05)
        _, took, killed = run_child(call_code(src, out, ckpt, chunk_size, engine), kill_after=delay)
        while not killed:  # it finished first (runs vary in time): start afresh, kill it sooner
            _clear(run_dir)
            delay = rng.uniform(0.2, took * 0.95)
            _, took, killed = run_child(call_code(src, out, ckpt, chunk_size, engine), kill_after=delay)
        at = _committed(ckpt)
        again = ""
        if killed and trial % 2 == 1:  # kill the resumed run too, once
            delay2 = rng.uniform(0.2, t_full * 0.8)
            _, _, killed2 = run_child(call_code(src, out, ckpt, chunk_size, engine), kill_after=delay2)
            again = f", resumed run killed at {delay2:.2f} s ({_committed(ckpt)})" if killed2 else ""
        counts, t_resume, _ = run_child(call_code(src, out, ckpt, chunk_size, engine))
        same = _compare(ref_dir, run_dir, out, ref_counts, counts, ckpt)
        ok = ok and same
        log(
            f"trial {trial + 1:2d}: kill -9 at {delay:5.2f} s ({at}){again}; resumed in {t_resume:.2f} s; "
            f"outputs and counts identical: {same}"
        )
    return ok


def _compare(ref_dir: Path, run_dir: Path, out: Path | str, ref_counts: Any, counts: Any, ckpt: Path) -> bool:
    if isinstance(out, str):  # a directory of parts against the reference file
        files_same = _parts_same(ref_dir, Path(out))
        names = [Path(out).name, f"{Path(out).stem}.errors.jsonl"]
        files_same = files_same and filecmp.cmp(ref_dir / "out.errors.jsonl", run_dir / names[1], shallow=False)
    else:
        names = output_names(out)
        files_same = all(filecmp.cmp(ref_dir / name, run_dir / name, shallow=False) for name in names)
    clean = not ckpt.exists() and not ckpt.with_name(f"{ckpt.name}.parts").exists()
    stray = [p.name for p in run_dir.iterdir() if p.name not in names]
    return files_same and counts == ref_counts and clean and not stray


def _parts_same(ref_dir: Path, parts: Path) -> bool:
    """Whether a directory's parts hold the reference output: JSON Lines joined byte for byte, Parquet's table."""
    files = sorted(parts.iterdir())
    if any(p.name.startswith(".") for p in files):  # a hidden file left behind
        return False
    if files and files[0].suffix == ".parquet":
        import pyarrow.parquet as pq

        return bool(pq.read_table(parts).equals(pq.read_table(ref_dir / "out.parquet")))
    ref = ref_dir / "out.jsonl"
    if sum(p.stat().st_size for p in files) != ref.stat().st_size:
        return False
    with open(ref, "rb") as f:
        return all(p.read_bytes() == f.read(p.stat().st_size) for p in files)


def overhead(src: Path, work: Path, *, sink_format: str = "jsonl", rounds: int = 2, log: Any = print) -> None:
    """Time ``process_stream`` with and without ``checkpoint=`` in this process (best of ``rounds``)."""
    sys.path.insert(0, str(ROOT))
    import streamkit
    from examples.seed_network import create_streaming_fsm_config

    fsm = streamkit.SimpleFSM(create_streaming_fsm_config())
    _clear(work / "overhead")
    out = work / "overhead" / f"out.{sink_format}"
    fsm.process_stream(str(src), str(out), parallelism=2)  # warm: kernels loaded, pages cached
    best: dict[str, float] = {}
    for _ in range(rounds):
        for label, ckpt in (("none", None), ("checkpoint", str(work / "overhead.ckpt"))):
            t0 = time.perf_counter()
            fsm.process_stream(str(src), str(out), parallelism=2, checkpoint=ckpt)
            best[label] = min(best.get(label, float("inf")), time.perf_counter() - t0)
    ratio = best["checkpoint"] / best["none"]
    log(
        f"overhead, {sink_format}: without checkpoint {best['none']:.2f} s, with checkpoint "
        f"{best['checkpoint']:.2f} s ({ratio:.2f}x, best of {rounds})"
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: see the module's docstring."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=3_000_000, help="records in the input")
    p.add_argument("--kills", type=int, default=10, help="kill -9 trials")
    p.add_argument("--sink-format", default="jsonl", choices=("jsonl", "parquet"))
    p.add_argument(
        "--engine", default="local", choices=("local", "ray"), help="ray: drivers join a Ray instance started here"
    )
    p.add_argument("--parts", action="store_true", help="checkpointed runs write a directory of parts (out/)")
    p.add_argument("--chunk-size", type=int, default=None)
    p.add_argument("--seed", type=int, default=0, help="seed of the kill delays")
    p.add_argument("--overhead", type=int, default=0, help="records for the overhead timing (0: skip)")
    p.add_argument("--work", type=Path, default=None, help="working directory (default: a temporary one)")
    args = p.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="streamkit-ckpt-"))
    work.mkdir(parents=True, exist_ok=True)
    ok = True
    if args.engine == "ray":  # one Ray instance for every child driver (each kill -9 leaves it up)
        import ray

        context = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        os.environ["RAY_ADDRESS"] = context.address_info["gcs_address"]
    try:
        if args.kills:
            src = write_input(work / f"seed-{args.n}.jsonl", args.n)
            what = "a directory of parts" if args.parts else "a file"
            print(
                f"input: {args.n:,} records, {src.stat().st_size / 2**20:.0f} MB, {args.sink_format} output to {what}"
            )
            ok = kill_test(
                src,
                work,
                sink_format=args.sink_format,
                kills=args.kills,
                chunk_size=args.chunk_size,
                seed=args.seed,
                engine=args.engine,
                parts=args.parts,
            )
        if args.overhead:
            src = write_input(work / f"clean-{args.overhead}.jsonl", args.overhead, bad=False)
            overhead(src, work, sink_format=args.sink_format)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
        if args.engine == "ray":
            import ray

            ray.shutdown()
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
