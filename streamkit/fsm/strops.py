"""Per-string tables for the string operations kernels use (len, methods, parsing, ``in``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from streamkit.expr.ints import INT64_MAX, INT64_MIN, OVERFLOW_MESSAGE
from streamkit.expr.values import StrOp, StrOpKind

__all__ = ("compute_table", "apply_str_op")


def apply_str_op(op: StrOp, s: str) -> Any:
    """The Python result of ``op`` on one string (may raise, as Python would)."""
    k = op.kind
    if k is StrOpKind.LEN:
        return len(s)
    if k is StrOpKind.METHOD:
        name, args, _ = op.args
        return getattr(s, name)(*args)
    if k is StrOpKind.PREFIX:
        return op.args[0] + s
    if k is StrOpKind.CONTAINS:
        return op.args[0] in s
    if k is StrOpKind.WITHIN:
        return s in op.args[0]
    if k is StrOpKind.INT:
        v = int(s)
        if not INT64_MIN <= v <= INT64_MAX:
            raise OverflowError(OVERFLOW_MESSAGE)
        return v
    if k is StrOpKind.FLOAT:
        return float(s)
    msg = f"unknown string op {k!r}"
    raise ValueError(msg)


def _result_kind(op: StrOp) -> str:
    if op.kind is StrOpKind.METHOD:
        return op.args[2]
    return {StrOpKind.LEN: "int", StrOpKind.PREFIX: "str", StrOpKind.CONTAINS: "bool", StrOpKind.WITHIN: "bool",
            StrOpKind.INT: "int", StrOpKind.FLOAT: "float"}[op.kind]


#: Pools at least this large use pyarrow.compute where its result is exactly Python's.
ARROW_MIN = 512


def _arrow_table(op: StrOp, values: pa.Array) -> np.ndarray | None:
    """``op`` over many distinct strings with pyarrow.compute, when that is exactly Python's answer."""
    k = op.kind
    if k is StrOpKind.LEN:
        return np.asarray(pc.utf8_length(values), dtype=np.int64)
    if k is StrOpKind.CONTAINS and isinstance(op.args[0], str):
        return np.asarray(pc.match_substring(values, op.args[0]), dtype=np.bool_)
    if k is StrOpKind.METHOD:
        name, args, _ = op.args
        if name in ("startswith", "endswith") and len(args) == 1 and isinstance(args[0], str):
            fn = pc.starts_with if name == "startswith" else pc.ends_with
            return np.asarray(fn(values, pattern=args[0]), dtype=np.bool_)
        if name in ("upper", "lower") and not args and pc.all(pc.string_is_ascii(values)).as_py():
            return values  # a str result (the Arrow array itself): interned by the caller
    return None


def compute_table(op: StrOp, pool: Any, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Values and error flags of ``op`` for pool entries ``start:stop``.

    Small pools are computed with Python itself, one call per distinct string; large
    ones with pyarrow.compute where its semantics are exactly Python's (lengths in
    code points, prefix/suffix/substring tests, ASCII case mapping).
    """
    kind = _result_kind(op)
    n = stop - start
    errs = np.zeros(n, np.uint8)
    if n >= ARROW_MIN:
        values = pool.array.slice(start, n)
        res = _arrow_table(op, values)
        if res is not None:
            if kind == "str":
                name = op.args[0]
                mapped = pc.ascii_upper(values) if name == "upper" else pc.ascii_lower(values)
                return pool.intern_strings(mapped.to_pylist()), errs
            return res, errs
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
