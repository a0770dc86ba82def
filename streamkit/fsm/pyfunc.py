"""Function specs as per-record Python callables: ``f(state) -> value``.

Inline code runs under streamkit's integer rule (see :mod:`streamkit.expr.ints`);
Python callables run as given; a polars expression runs on a one-row frame per
record, which is slow but exact (compiled states never take this path).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streamkit.config import FunctionSpec
from streamkit.expr.ints import compile_inline
from streamkit.record import RecordData, State

__all__ = ("make_callable",)


def make_callable(spec: FunctionSpec, *, allow_python: bool = True) -> Callable[[State], Any]:
    """A per-record callable for any function spec: ``f(state) -> value``.

    Parameters
    ----------
    spec:
        An inline, callable or polars function spec from a validated config.
    allow_python:
        Whether inline code may use every builtin; with ``False`` it sees only
        :data:`~streamkit.expr.ints.SAFE_BUILTINS`.

    Raises
    ------
    ValueError
        For a spec kind this module does not know.
    """
    if spec.kind == "inline":
        assert spec.code is not None
        return compile_inline(spec.code, allow_python=allow_python, filename=f"<{spec.path}>")
    if spec.kind == "callable":
        assert spec.func is not None
        return _with_record_data(spec.func)
    if spec.kind == "polars":
        return _polars_per_record(spec.expr)
    msg = f"unknown function kind {spec.kind!r}"
    raise ValueError(msg)


def _with_record_data(func: Callable[[State], Any]) -> Callable[[State], Any]:
    """``func`` called with ``state.data`` a :class:`~streamkit.RecordData` (a missing field reads ``None``)."""

    def call(state: State) -> Any:
        data = state.data
        return func(state if isinstance(data, RecordData) else State(RecordData._wrap(data), state.name))

    return call


def _polars_per_record(expr: Any) -> Callable[[State], Any]:
    import polars as pl

    roots = expr.meta.root_names()

    def run(state: State) -> Any:
        row: dict[str, Any] = dict.fromkeys(roots)  # a null field is a null column, never a missing one
        row.update(state.data)
        frame = pl.DataFrame([row]) if row else pl.DataFrame({"__": [None]})
        return frame.select(expr.alias("__v")).to_series()[0]

    return run
