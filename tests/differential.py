"""Differential checks: the compiled engine against the per-record reference interpreter.

:func:`compare` runs one config over one list of records twice — record by
record through :func:`streamkit.fsm.interpret.interpret`, and as a batch
through ``SimpleFSM(...).process(...)`` — and asserts that they agree on every
record (DESIGN.md §3, "the invariant that tests must hold"):

* status (completed / failed);
* for completed records: the end state, and every output field, where a null
  in the engine's table equals a field absent from the interpreter's dict,
  floats agree to a relative 1e-9 (nan == nan, inf == inf, -0.0 == 0.0) and
  ints and floats compare numerically; bools must be bools;
* for failed records: the state where it failed and the error type (not the
  message), and the input fields carried to ``errors()`` equal the input;
* conservation: ``total_records == successful + failed == len(records)``,
  ``sum(end_state_counts) == successful``, one ``errors()`` row per failed
  record, ``_row`` values unique and in input order in every output.

A mismatch fails with one message that shows the config, the engine's plan
(``explain()``), and for each differing record the record and both outcomes.
"""

from __future__ import annotations

import math
import pprint
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from streamkit.config import load_config
from streamkit.fsm.interpret import DEFAULT_MAX_STEPS, RecordOutcome, interpret

__all__ = (
    "INPUT_KINDS",
    "ERROR_COLUMNS",
    "EngineOutcome",
    "to_input",
    "values_equal",
    "compare",
    "compare_many",
    "check_result",
)

#: How records can be handed to ``SimpleFSM.process``.
INPUT_KINDS = ("list", "table", "batch", "polars")
#: Columns of ``errors()`` that are not input fields.
ERROR_COLUMNS = ("_row", "error_state", "error_type", "error_message")
#: How many differing records a failure message shows in full.
MAX_SHOWN = 5
REL_TOL = 1e-9


# --------------------------------------------------------------------------- inputs


def _infer_schema(records: Sequence[Mapping[str, Any]]) -> Any:
    """An Arrow schema over the union of the records' keys (first-seen order)."""
    import pyarrow as pa

    names: dict[str, None] = {}
    for r in records:
        names.update(dict.fromkeys(r))
    return pa.schema([(k, pa.array([r.get(k) for r in records]).type) for k in names])


def to_input(
    records: Sequence[Mapping[str, Any]], kind: str = "list", arrow_types: Mapping[str, Any] | None = None
) -> Any:
    """``records`` as ``kind`` (one of :data:`INPUT_KINDS`) for ``SimpleFSM.process``.

    ``arrow_types`` (field -> pyarrow type) fixes the columns of a table,
    including fields no record has; by default they are inferred from the
    union of the records' keys.
    """
    if kind == "list":
        return [dict(r) for r in records]
    import pyarrow as pa

    schema = pa.schema(list(arrow_types.items())) if arrow_types is not None else _infer_schema(records)
    table = pa.Table.from_pylist([dict(r) for r in records], schema=schema)
    if kind == "table":
        return table
    if kind == "batch":
        return (
            table.combine_chunks().to_batches()[0] if table.num_rows else pa.RecordBatch.from_pylist([], schema=schema)
        )
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(table)
    msg = f"unknown input kind {kind!r}; expected one of {INPUT_KINDS}"
    raise ValueError(msg)


# --------------------------------------------------------------------------- values


def values_equal(a: Any, b: Any) -> bool:
    """Whether an interpreter value ``a`` and an engine value ``b`` agree.

    Ints and floats compare numerically (floats to a relative 1e-9, nan equal
    to nan, inf to inf, -0.0 to 0.0); a bool only equals a bool; anything else
    must have the same type and compare equal.
    """
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        if math.isinf(fa) or math.isinf(fb):
            return fa == fb
        return math.isclose(fa, fb, rel_tol=REL_TOL, abs_tol=0.0)
    return type(a) is type(b) and a == b


def _non_null(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _field_diffs(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """Differences between two records' non-null fields, one line each."""
    exp, act = _non_null(expected), _non_null(actual)
    out = []
    for k in sorted(set(exp) | set(act)):
        if k not in act:
            out.append(f"field {k!r}: expected {exp[k]!r}, engine has null/absent")
        elif k not in exp:
            out.append(f"field {k!r}: expected null/absent, engine has {act[k]!r}")
        elif not values_equal(exp[k], act[k]):
            out.append(
                f"field {k!r}: expected {exp[k]!r} ({type(exp[k]).__name__}), "
                f"engine has {act[k]!r} ({type(act[k]).__name__})"
            )
    return out


# --------------------------------------------------------------------------- engine outcomes


@dataclass
class EngineOutcome:
    """What the engine's result says about one record (rebuilt from its tables)."""

    status: str  # "completed" | "failed" | "missing"
    end_state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    error_state: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    places: list[str] = field(default_factory=list)  # every table the record appeared in

    def describe(self) -> str:
        """One line for a failure message."""
        where = f" (also in: {', '.join(self.places[1:])})" if len(self.places) > 1 else ""
        if self.status == "completed":
            return f"completed at {self.end_state!r} with {_non_null(self.data)!r}{where}"
        if self.status == "failed":
            return (
                f"failed in {self.error_state!r}: {self.error_type}: {self.error_message} "
                f"(input fields {_non_null(self.data)!r}){where}"
            )
        return "missing from every output and from errors()"


def _describe_expected(o: RecordOutcome) -> str:
    if o.status == "completed":
        return f"completed at {o.end_state!r} with {o.data!r}"
    return f"failed in {o.error_state!r}: {o.error_type}: {o.error_message}"


def _rows(table: Any, what: str, problems: list[str]) -> list[dict[str, Any]]:
    """A result table's rows as dicts, checking its ``_row`` column."""
    import pyarrow as pa

    if "_row" not in table.column_names:
        problems.append(f"{what}: no _row column (columns: {table.column_names})")
        return []
    if table.schema.field("_row").type != pa.int64():
        problems.append(f"{what}: _row has type {table.schema.field('_row').type}, expected int64")
    return table.to_pylist()


# --------------------------------------------------------------------------- the check


def check_result(
    config: Any,
    records: Sequence[Mapping[str, Any]],
    expected: Sequence[RecordOutcome],
    result: Any,
    *,
    explain: str = "",
    label: str = "",
) -> None:
    """Assert that an engine ``result`` agrees with the interpreter's ``expected`` outcomes.

    Parameters
    ----------
    config:
        The config both ran (shown in the failure message).
    records:
        The input records, in order.
    expected:
        ``interpret(config, records)``.
    result:
        ``SimpleFSM(config).process(records)``.
    explain:
        The engine's plan, shown in the failure message.
    label:
        A short description of the run (input kind, options) for the message.
    """
    __tracebackhide__ = True  # the message says it all; pytest need not print this function
    n = len(records)
    problems: list[str] = []
    cfg = load_config(config)
    end_states = [s.name for s in cfg.main.states if s.is_end]

    # conservation
    n_ok = sum(o.status == "completed" for o in expected)
    counts = {"total_records": result.total_records, "successful": result.successful, "failed": result.failed}
    if counts != {"total_records": n, "successful": n_ok, "failed": n - n_ok}:
        problems.append(f"counts {counts}, expected total_records={n} successful={n_ok} failed={n - n_ok}")
    if result.successful + result.failed != result.total_records:
        problems.append(
            f"successful + failed = {result.successful + result.failed} != total_records {result.total_records}"
        )
    esc = {k: v for k, v in dict(result.end_state_counts).items() if v}
    if sum(esc.values()) != result.successful:
        problems.append(f"sum(end_state_counts) = {sum(esc.values())} != successful {result.successful}")
    want_esc: dict[str, int] = {}
    for o in expected:
        if o.status == "completed":
            want_esc[o.end_state] = want_esc.get(o.end_state, 0) + 1  # type: ignore[index]
    if esc != want_esc:
        problems.append(f"end_state_counts {esc}, expected {want_esc}")

    # rebuild the engine's per-record outcomes from its tables
    engine: dict[int, EngineOutcome] = {}

    def place(row: int, outcome: EngineOutcome, where: str) -> None:
        if row in engine:
            engine[row].places.append(where)
        else:
            outcome.places.append(where)
            engine[row] = outcome

    for name in end_states:
        rows = _rows(result.output(name), f"output({name!r})", problems)
        ids = [r["_row"] for r in rows]
        if ids != sorted(set(ids)):
            problems.append(f"output({name!r}): _row not unique and increasing (input order): {ids}")
        for r in rows:
            data = {k: v for k, v in r.items() if k != "_row"}
            place(r["_row"], EngineOutcome("completed", end_state=name, data=data), f"output({name!r})")

    err_rows = _rows(result.errors(), "errors()", problems)
    missing_cols = [c for c in ERROR_COLUMNS if err_rows and c not in err_rows[0]]
    if missing_cols:
        problems.append(f"errors(): missing columns {missing_cols}")
    if len(err_rows) != result.failed:
        problems.append(f"errors() has {len(err_rows)} rows, result.failed is {result.failed}")
    err_ids = [r["_row"] for r in err_rows]
    want_failed = [i for i, o in enumerate(expected) if o.status == "failed"]
    if sorted(err_ids) != want_failed:
        problems.append(f"errors() _rows {sorted(err_ids)}, expected the failed positions {want_failed}")
    for r in err_rows:
        inputs = {k: v for k, v in r.items() if k not in ERROR_COLUMNS}
        place(
            r["_row"],
            EngineOutcome(
                "failed",
                error_state=r.get("error_state"),
                error_type=r.get("error_type"),
                error_message=r.get("error_message"),
                data=inputs,
            ),
            "errors()",
        )
    stray = sorted(set(engine) - set(range(n)))
    if stray:
        problems.append(f"_row values outside 0..{n - 1}: {stray}")

    # per record
    bad: list[tuple[int, list[str]]] = []
    for i, (rec, exp) in enumerate(zip(records, expected)):
        got = engine.get(i, EngineOutcome("missing"))
        diffs: list[str] = []
        if len(got.places) > 1:
            diffs.append(f"record appears {len(got.places)} times: {got.places}")
        if got.status != exp.status:
            diffs.append(f"status {got.status!r}, expected {exp.status!r}")
        elif exp.status == "completed":
            if got.end_state != exp.end_state:
                diffs.append(f"end state {got.end_state!r}, expected {exp.end_state!r}")
            diffs.extend(_field_diffs(exp.data, got.data))
        else:
            if got.error_state != exp.error_state:
                diffs.append(f"error_state {got.error_state!r}, expected {exp.error_state!r}")
            if got.error_type != exp.error_type:
                diffs.append(f"error_type {got.error_type!r}, expected {exp.error_type!r}")
            diffs.extend(f"errors() input {d}" for d in _field_diffs(rec, got.data))
        if diffs:
            bad.append((i, diffs))

    if not problems and not bad:
        return
    lines = [
        f"engine and interpreter disagree{f' ({label})' if label else ''}: "
        f"{len(bad)} of {n} records differ" + (f"; {len(problems)} result-level problem(s)" if problems else "")
    ]
    lines += [f"  * {p}" for p in problems]
    lines += ["--- config:", pprint.pformat(_plain(config), width=110, sort_dicts=False)]
    if explain:
        lines += ["--- engine plan (explain()):", explain.rstrip()]
    for i, diffs in bad[:MAX_SHOWN]:
        got = engine.get(i, EngineOutcome("missing"))
        lines += [
            f"--- record {i}: {dict(records[i])!r}",
            f"    interpreter: {_describe_expected(expected[i])}",
            f"    engine:      {got.describe()}",
            *(f"    - {d}" for d in diffs),
        ]
    if len(bad) > MAX_SHOWN:
        lines.append(f"--- ... and {len(bad) - MAX_SHOWN} more differing records: {[i for i, _ in bad[MAX_SHOWN:]]}")
    raise AssertionError("\n".join(lines))


def _plain(config: Any) -> Any:
    """The config as given, or the raw dict of an FSMConfig, for printing."""
    raw = getattr(config, "raw", None)
    return raw if raw else config


# --------------------------------------------------------------------------- entry points


def _engine(config: Any, *, allow_python: bool, max_steps: int) -> Any:
    from streamkit import SimpleFSM
    from streamkit.errors import PerformanceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PerformanceWarning)  # Python-fallback states are expected here
        return SimpleFSM(config, allow_python=allow_python, max_steps=max_steps)


def _explain(fsm: Any) -> str:
    try:
        return str(fsm.explain())
    except Exception as exc:
        return f"<explain() raised {type(exc).__name__}: {exc}>"


def compare_many(
    config: Any,
    record_sets: Sequence[Sequence[Mapping[str, Any]]],
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    allow_python: bool = True,
    input_kind: str = "list",
    arrow_types: Mapping[str, Any] | None = None,
) -> list[list[RecordOutcome]]:
    """:func:`compare` for several record sets, building the engine once.

    Parameters
    ----------
    config:
        A seed 002 config (dict, path or FSMConfig).
    record_sets:
        Lists of records, each processed as one input.
    max_steps:
        The step limit, for both sides.
    allow_python:
        Passed to ``SimpleFSM`` (the interpreter always runs Python).
    input_kind:
        How records are handed to the engine, one of :data:`INPUT_KINDS`.
    arrow_types:
        field -> pyarrow type for columnar inputs (see :func:`to_input`).

    Returns
    -------
    The interpreter's outcomes, one list per record set.
    """
    __tracebackhide__ = True
    from streamkit.errors import PerformanceWarning

    fsm = _engine(config, allow_python=allow_python, max_steps=max_steps)
    outcomes = []
    for records in record_sets:
        expected = interpret(config, records, max_steps=max_steps)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PerformanceWarning)
            result = fsm.process(to_input(records, input_kind, arrow_types))
        label = f"input={input_kind}, allow_python={allow_python}, max_steps={max_steps}"
        check_result(config, records, expected, result, explain=_explain(fsm), label=label)
        outcomes.append(expected)
    return outcomes


def compare(
    config: Any,
    records: Sequence[Mapping[str, Any]],
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    allow_python: bool = True,
    input_kind: str = "list",
    arrow_types: Mapping[str, Any] | None = None,
) -> list[RecordOutcome]:
    """Run ``config`` over ``records`` in the interpreter and the engine; assert they agree.

    Returns the interpreter's outcomes, so a targeted test can also assert what
    the reference itself did (e.g. that a record failed with OverflowError).
    See :func:`compare_many` for the parameters.
    """
    __tracebackhide__ = True
    return compare_many(
        config,
        [records],
        max_steps=max_steps,
        allow_python=allow_python,
        input_kind=input_kind,
        arrow_types=arrow_types,
    )[0]
