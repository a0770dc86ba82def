"""Per-string tables for the string operations kernels use (len, methods, parsing, ``in``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from streamkit.fsm.pyfunc import INT64_MAX, INT64_MIN, OVERFLOW_MESSAGE

__all__ = ("compute_table", "apply_str_op")


def apply_str_op(op: Any, s: str) -> Any:
    """The Python result of ``op`` on one string (may raise, as Python would)."""
    k = op.kind
    if k == "len":
        return len(s)
    if k == "method":
        name, args, _ = op.args
        return getattr(s, name)(*args)
    if k == "prefix":
        return op.args[0] + s
    if k == "contains":
        return op.args[0] in s
    if k == "within":
        return s in op.args[0]
    if k == "int":
        v = int(s)
        if not INT64_MIN <= v <= INT64_MAX:
            raise OverflowError(OVERFLOW_MESSAGE)
        return v
    if k == "float":
        return float(s)
    msg = f"unknown string op {k!r}"
    raise ValueError(msg)


def _result_kind(op: Any) -> str:
    if op.kind == "method":
        return op.args[2]
    return {"len": "int", "prefix": "str", "contains": "bool", "within": "bool",
            "int": "int", "float": "float"}[op.kind]


def compute_table(op: Any, pool: Any, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Values and error flags of ``op`` for pool entries ``start:stop``."""
    kind = _result_kind(op)
    n = stop - start
    errs = np.zeros(n, np.uint8)
    results: list[Any] = []
    for j in range(n):
        try:
            r = apply_str_op(op, pool.string(start + j))
            if kind == "int" and type(r) is int and not INT64_MIN <= r <= INT64_MAX:
                raise OverflowError(OVERFLOW_MESSAGE)
        except Exception:  # noqa: BLE001 - reported per row, with Python's message
            errs[j] = 1
            r = "" if kind == "str" else 0
        results.append(r)
    if kind == "str":
        vals = pool.intern_strings(results)
    elif kind == "bool":
        vals = np.array(results, dtype=np.bool_)
    elif kind == "int":
        vals = np.array(results, dtype=np.int64)
    else:
        vals = np.array(results, dtype=np.float64)
    return vals, errs
