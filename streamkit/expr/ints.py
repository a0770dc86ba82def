"""Streamkit's integer rule, and inline code run as Python under it.

Python integers never overflow; streamkit's are int64: any integer result
outside int64, intermediate or final, fails the record with ``OverflowError``
(DESIGN.md §3, semantics rule 8). The compiled kernels check every integer
operation; :func:`compile_inline` makes inline code run as per-record Python
give the same answers, by rewriting it first: every arithmetic result and every
call result that is an ``int`` outside int64 raises ``OverflowError``. ``**``
and ``<<`` are checked before they compute, so a huge exponent fails at once
instead of building a giant integer.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable
from typing import Any

from streamkit.expr.parse import STR_METHODS, parse_lambda
from streamkit.record import State

__all__ = ("INT64_MAX", "INT64_MIN", "OVERFLOW_MESSAGE", "SAFE_BUILTINS", "check_int", "compile_inline")

#: The largest integer streamkit holds.
INT64_MAX = 2**63 - 1
#: The smallest integer streamkit holds.
INT64_MIN = -(2**63)
#: The message of the ``OverflowError`` an integer outside int64 raises.
OVERFLOW_MESSAGE = "integer result outside int64"

#: Builtins available to inline code in safe mode (``allow_python=False``).
SAFE_BUILTINS = {
    name: getattr(builtins, name)
    for name in ("min", "max", "abs", "round", "len", "int", "float", "str", "bool", "True", "False", "None")
}


def check_int(v: Any) -> Any:
    """Return ``v``; raise ``OverflowError`` if it is an int outside int64.

    Examples
    --------
    >>> check_int(2**63 - 1)
    9223372036854775807
    >>> check_int(2**63)
    Traceback (most recent call last):
    ...
    OverflowError: integer result outside int64
    """
    if type(v) is int and not (INT64_MIN <= v <= INT64_MAX):
        raise OverflowError(OVERFLOW_MESSAGE)
    return v


def _overflow() -> Any:
    raise OverflowError(OVERFLOW_MESSAGE)


def _pow(a: Any, b: Any) -> Any:
    if type(a) in (int, bool) and type(b) in (int, bool) and b > 64 and a not in (0, 1, -1):
        raise OverflowError(OVERFLOW_MESSAGE)
    return check_int(a**b)


def _lshift(a: Any, b: Any) -> Any:
    if type(a) in (int, bool) and type(b) in (int, bool) and b > 64 and a != 0:
        raise OverflowError(OVERFLOW_MESSAGE)
    return check_int(a << b)


#: Builtins that make no int outside int64 (shadowing them is not possible in inline code).
_NO_INT_CALLS = frozenset(
    {
        "min",
        "max",
        "bool",
        "float",
        "str",
        "len",
        "repr",
        "dict",
        "list",
        "tuple",
        "set",
        "sorted",
        "format",
        "isinstance",
        "hash",
        "chr",
        "ord",
    }
)

#: Methods that never make an int: ``.get`` (a field as it is) and the compiled str methods
#: returning text or a bool.
_NO_INT_METHODS = frozenset({"get", *(m for m, kind in STR_METHODS.items() if kind != "int")})


class _Instrument(ast.NodeTransformer):
    """Wraps every expression that can make a new int in a call of :func:`check_int` (or a checked op),
    and reads fields with ``.get``: ``state.data['x']`` is ``None`` for a missing field, whatever
    mapping ``state.data`` is (the engine passes plain dicts of the non-null fields)."""

    def __init__(self, param: str) -> None:
        self.param = param
        self.n = 0

    def _checked(self, node: ast.expr) -> ast.expr:
        """``node`` checked against int64 inline (no call unless it is an int out of range)::

            (t if __sk_type(t := node) is not __sk_int or MIN <= t <= MAX else __sk_overflow())

        (``type`` and ``int`` under names of their own: code in safe mode sees neither.)
        """
        self.n += 1
        name = f"__sk_t{self.n}"
        store = ast.NamedExpr(target=ast.Name(id=name, ctx=ast.Store()), value=node)
        not_int = ast.Compare(
            left=ast.Call(func=ast.Name(id="__sk_type", ctx=ast.Load()), args=[store], keywords=[]),
            ops=[ast.IsNot()],
            comparators=[ast.Name(id="__sk_int", ctx=ast.Load())],
        )
        in_range = ast.Compare(
            left=ast.Constant(INT64_MIN),
            ops=[ast.LtE(), ast.LtE()],
            comparators=[ast.Name(id=name, ctx=ast.Load()), ast.Constant(INT64_MAX)],
        )
        test = ast.BoolOp(op=ast.Or(), values=[not_int, in_range])
        fail = ast.Call(func=ast.Name(id="__sk_overflow", ctx=ast.Load()), args=[], keywords=[])
        return ast.copy_location(ast.IfExp(test=test, body=ast.Name(id=name, ctx=ast.Load()), orelse=fail), node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        v = node.value
        if (
            isinstance(node.ctx, ast.Load)
            and isinstance(v, ast.Attribute)
            and v.attr == "data"
            and isinstance(v.value, ast.Name)
            and v.value.id == self.param
        ):
            get = ast.Attribute(value=v, attr="get", ctx=ast.Load())
            return ast.copy_location(ast.Call(func=get, args=[node.slice], keywords=[]), node)
        return node

    def _call(self, name: str, *args: ast.expr, like: ast.AST) -> ast.Call:
        node = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=list(args), keywords=[])
        return ast.copy_location(node, like)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Pow):
            return self._call("__sk_pow", node.left, node.right, like=node)
        if isinstance(node.op, ast.LShift):
            return self._call("__sk_lshift", node.left, node.right, like=node)
        return self._checked(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) and type(node.operand.value) is int:
            return self.visit_Constant(ast.copy_location(ast.Constant(-node.operand.value), node))
        self.generic_visit(node)
        if isinstance(node.op, (ast.USub, ast.Invert)):
            return self._checked(node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr in _NO_INT_METHODS:
            return node  # field access and str methods make no new int
        if isinstance(f, ast.Name) and f.id in _NO_INT_CALLS:
            return node  # no new int (min/max return an argument, already checked; len fits in int64)
        return self._checked(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if type(node.value) is int and not (INT64_MIN <= node.value <= INT64_MAX):
            return self._call("__sk_ck", node, like=node)
        return node


def compile_inline(code: str, *, allow_python: bool = True, filename: str = "<inline>") -> Callable[[State], Any]:
    """Compile inline ``lambda state: ...`` code to a function with int64 checks.

    Parameters
    ----------
    code:
        The inline code, as the config holds it.
    allow_python:
        With ``False`` the code sees only :data:`SAFE_BUILTINS` (no ``__import__``, ``open``, ...).
    filename:
        The name tracebacks give the code (e.g. its config path).

    Examples
    --------
    >>> f = compile_inline("lambda state: state.data['x'] * 2**62")
    >>> f(State({"x": 1}))
    4611686018427387904
    >>> f(State({"x": 2}))
    Traceback (most recent call last):
    ...
    OverflowError: integer result outside int64
    """
    lam = parse_lambda(code)
    param = lam.args.args[0].arg if lam.args.args else "state"
    tree = ast.Expression(body=_Instrument(param).visit(lam))
    ast.fix_missing_locations(tree)
    namespace: dict[str, Any] = {
        "__builtins__": builtins.__dict__ if allow_python else dict(SAFE_BUILTINS),
        "__sk_ck": check_int,
        "__sk_overflow": _overflow,
        "__sk_type": type,
        "__sk_int": int,
        "__sk_pow": _pow,
        "__sk_lshift": _lshift,
    }
    return eval(compile(tree, filename, "eval"), namespace)  # the caller allowed it
