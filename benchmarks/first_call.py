"""Time the first call of one in-memory job in a fresh interpreter and print it as one JSON line.

``benchmarks/test_bench_core.py`` and ``test_bench_etl.py`` start this module
for their first-call benchmarks, so the call timed is the first one of that
library in the process::

    python -m benchmarks.first_call --job seed --impl streamkit --n 2000000 [--clean]

Before the timing: the library is imported (streamkit, or polars) and the
input is built (an Arrow table; for polars a DataFrame made from it). Timed:

- ``streamkit``: ``SimpleFSM(config)`` (validates and plans the network, and
  loads its kernels from the kernel cache) and ``process(table)`` with every
  output built; ``construct_s`` says how much of it was ``SimpleFSM()``;
- ``polars``: the reference query's first ``collect_all`` (plans optimised and
  run, the thread pool started).

The result is the last line of stdout, after :data:`RESULT_MARKER`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `examples` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

__all__ = ("IMPLS", "RESULT_MARKER", "first_call", "main")

#: Prefix of the stdout line that carries the JSON result.
RESULT_MARKER = "STREAMKIT_FIRST_CALL "

#: The implementations whose first call is timed.
IMPLS = ("streamkit", "polars")


def first_call(job: str, impl: str, n: int, *, clean: bool = False) -> dict[str, Any]:
    """Build the input of ``job`` (untimed), then time ``impl``'s first call on it."""
    if impl == "streamkit":
        from streamkit import SimpleFSM
    elif impl == "polars":
        import polars  # noqa: F401 - imported before the timing starts
    else:
        msg = f"`impl` must be one of {IMPLS}, got {impl!r}"
        raise ValueError(msg)
    from benchmarks.memory_jobs import job_config, job_input, polars_frame, run_polars, run_streamkit

    table = job_input(job, n, clean=clean)
    construct_s = 0.0
    if impl == "streamkit":
        config = job_config(job)
        start = time.perf_counter()
        fsm = SimpleFSM(config)
        construct_s = time.perf_counter() - start
        result = run_streamkit(fsm, table)
    else:
        df = polars_frame(table)
        start = time.perf_counter()
        result = run_polars(job, df)
    seconds = time.perf_counter() - start
    return {
        "job": job,
        "impl": impl,
        "n_records": table.num_rows,
        "first_s": seconds,
        "construct_s": construct_s,
        "counts": result.counts,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, time the first call, print the result line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--job", required=True)
    parser.add_argument("--impl", required=True, choices=IMPLS)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--clean", action="store_true", help="seed job: no null or negative value")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    result = first_call(args.job, args.impl, args.n, clean=args.clean)
    print(RESULT_MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
