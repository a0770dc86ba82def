"""A compute-heavy variant of the seed network, to measure what a second worker buys.

The seed 002 network does a handful of integer operations per record: it is
bound by memory and IO, so two workers give it little (DESIGN.md §10: 1.0-1.5×).
:func:`create_compute_heavy_config` keeps the seed's shape (``input`` →
``validate`` → ``enrich`` → ``categorize`` → ``output``, invalid records →
``error``) but its ``enrich`` transform evaluates a long loop-free float
expression per record: a rational function of two Horner polynomials in
``x = value / 100000`` plus the square root of its magnitude, well over a
hundred floating-point operations (:data:`N_FLOAT_OPS`), all compiled into the
state's numba kernel. That is the kind of work threads parallelise (the kernels
release the GIL), so its ``parallelism=2`` run should approach 2×.

:func:`run_compute_job` streams an in-memory ``pyarrow.Table`` through it with
``process_stream`` and drops the outputs in callback sinks, so only the engine
and the kernels are timed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

__all__ = (
    "N_FLOAT_OPS",
    "POLY_DEGREE",
    "ComputeRun",
    "create_compute_heavy_config",
    "score_expression",
    "run_compute_job",
    "python_score",
)

#: Degree of each of the two Horner polynomials in the ``score`` expression.
POLY_DEGREE = 40

_X = "(state.data['value'] / 100000.0)"


def _coefficients(offset: int) -> list[float]:
    """Deterministic, well-scaled coefficients ``(-1)^k / (k + offset)`` (no overflow, no NaN)."""
    return [(-1.0) ** k / (k + offset) for k in range(POLY_DEGREE + 1)]


def _horner(coeffs: list[float], x: str) -> str:
    """``coeffs`` as a Horner polynomial in the expression ``x`` (2 operations per degree)."""
    expr = repr(coeffs[0])
    for c in coeffs[1:]:
        expr = f"({expr}) * {x} + {c!r}"
    return expr


def score_expression(x: str = _X) -> str:
    """The ``score`` expression: ``P(x) / (1 + Q(x)²) + abs(P(x)) ** 0.5``, as Python source.

    ``P`` and ``Q`` are degree-:data:`POLY_DEGREE` polynomials, so the
    denominator is at least 1 and the power's base is never negative: every
    valid record gets a finite float.
    """
    p = _horner(_coefficients(1), x)
    q = _horner(_coefficients(2), x)
    return f"({p}) / (1.0 + ({q}) * ({q})) + abs({p}) ** 0.5"


#: Floating-point operations per valid record in ``score`` as written: each of the
#: four polynomial evaluations (``P`` and ``Q`` twice each) is ``POLY_DEGREE``
#: multiply-adds plus one ``value / 100000`` per use of ``x``; then six more.
N_FLOAT_OPS = 4 * 3 * POLY_DEGREE + 6


def python_score(value: int) -> float:
    """``score`` for one valid record, evaluated by Python (the reference for tests)."""
    x = value / 100000.0
    return float(eval(score_expression("x"), {}, {"x": x}))


def create_compute_heavy_config() -> dict[str, Any]:
    """A seed-shaped network whose ``enrich`` state does heavy float arithmetic per record.

    Same states, arcs and validation as ``create_streaming_fsm_config()``; end
    states ``output`` (``id, value, category, score, status='processed',
    score_tier``) and ``error`` (input fields plus ``valid=False``).
    """
    enrich = (
        "lambda state: {\n"
        "    'id': state.data['id'],\n"
        "    'value': state.data['value'],\n"
        "    'category': state.data['category'],\n"
        f"    'score': {score_expression()},\n"
        "    'status': 'enriched'\n"
        "}"
    )
    categorize = (
        "lambda state: {**state.data, 'status': 'processed',"
        " 'score_tier': 'high' if state.data['score'] > 0.135 else 'low'}"
    )
    validate = (
        "lambda state: {**state.data, 'valid': state.data.get('value') is not None and state.data.get('value') >= 0}"
    )

    def inline(code: str) -> dict[str, str]:
        return {"type": "inline", "code": code}

    return {
        "name": "ComputeHeavyProcessor",
        "main_network": "main",
        "networks": [
            {
                "name": "main",
                "states": [
                    {"name": "input", "is_start": True},
                    {"name": "validate", "functions": {"transform": inline(validate)}},
                    {"name": "enrich", "functions": {"transform": inline(enrich)}},
                    {"name": "categorize", "functions": {"transform": inline(categorize)}},
                    {"name": "output", "is_end": True},
                    {"name": "error", "is_end": True},
                ],
                "arcs": [
                    {"from": "input", "to": "validate"},
                    {
                        "from": "validate",
                        "to": "enrich",
                        "condition": inline("lambda state: state.data.get('valid', True)"),
                    },
                    {
                        "from": "validate",
                        "to": "error",
                        "condition": inline("lambda state: not state.data.get('valid', True)"),
                    },
                    {"from": "enrich", "to": "categorize"},
                    {"from": "categorize", "to": "output"},
                ],
            }
        ],
    }


@dataclass(frozen=True)
class ComputeRun:
    """One timed stream of the compute-heavy network."""

    parallelism: int
    records_in: int
    counts: dict[str, int]
    seconds: float

    @property
    def records_per_s(self) -> float:
        """Records per second over the whole stream."""
        return self.records_in / self.seconds


def run_compute_job(
    table: pa.Table,
    *,
    parallelism: int,
    chunk_size: int = 65_536,
    memory_limit_mb: float = 512,
    fsm: Any = None,
) -> ComputeRun:
    """Stream ``table`` through the compute-heavy network with ``parallelism`` workers.

    ``fsm`` (a ``SimpleFSM`` of :func:`create_compute_heavy_config`) may be built
    by the caller so compilation stays out of the timing; outputs go to callback
    sinks that drop them. Returns the per-end-state counts (plus ``failed``) and
    the seconds ``process_stream`` took.
    """
    from streamkit import SimpleFSM

    if fsm is None:
        fsm = SimpleFSM(create_compute_heavy_config())

    def drop(batch: Any) -> None:
        """A sink that keeps nothing."""

    start = time.perf_counter()
    result = fsm.process_stream(
        table,
        sinks={"output": drop, "error": drop},
        chunk_size=chunk_size,
        parallelism=parallelism,
        memory_limit_mb=memory_limit_mb,
    )
    seconds = time.perf_counter() - start
    counts = {k: int(v) for k, v in result.end_state_counts.items()}
    counts["failed"] = int(result.failed)
    return ComputeRun(parallelism, int(result.total_records), counts, seconds)
