"""Parse inline ``lambda state: ...`` code into the IR, rejecting what it cannot compile.

Unsupported constructs raise :class:`~streamkit.errors.UnsupportedExpressionError`
naming the construct as written and its line; the compiler then runs that state
as per-row Python, or rejects the config in safe mode.
"""

from __future__ import annotations

import ast
import re
import textwrap
from typing import Any

from streamkit._typing import ValueKind
from streamkit.errors import UnsupportedExpressionError
from streamkit.expr import ir

__all__ = ("parse_lambda", "parse_expression", "BUILTINS", "STR_METHODS")

#: The builtins compiled code may call.
BUILTINS = frozenset({"min", "max", "abs", "round", "len", "int", "float", "str", "bool"})

#: Methods on str values compiled into kernels, with the kind of value each returns.
STR_METHODS: dict[str, ValueKind] = {
    **dict.fromkeys(
        (
            "upper",
            "lower",
            "strip",
            "lstrip",
            "rstrip",
            "title",
            "capitalize",
            "casefold",
            "swapcase",
            "replace",
            "zfill",
            "center",
            "ljust",
            "rjust",
            "removeprefix",
            "removesuffix",
        ),
        "str",
    ),
    **dict.fromkeys(
        (
            "startswith",
            "endswith",
            "isdigit",
            "isalpha",
            "isalnum",
            "isspace",
            "isupper",
            "islower",
            "isnumeric",
            "isdecimal",
            "istitle",
            "isidentifier",
            "isascii",
        ),
        "bool",
    ),
    **dict.fromkeys(("find", "rfind", "count", "index", "rindex"), "int"),
}

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**"}
_CMPOPS = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}
_SCALARS = (int, float, bool, str, type(None))


def parse_lambda(code: str) -> ast.Lambda:
    """Parse inline code into its ``lambda`` node (the config was validated already).

    Raises
    ------
    SyntaxError
        If the code does not parse, or is not a lambda.

    Examples
    --------
    >>> ast.unparse(parse_lambda("  lambda state: state.data['x'] + 1"))
    "lambda state: state.data['x'] + 1"
    """
    tree = ast.parse(textwrap.dedent(code).strip(), mode="eval")
    if not isinstance(tree.body, ast.Lambda):
        msg = f"expected 'lambda state: ...', got {ast.unparse(tree.body)[:60]!r}"
        raise SyntaxError(msg)
    return tree.body


class _Parser:
    """Turns the body of one lambda into IR; ``param`` is the lambda's parameter name."""

    def __init__(self, param: str) -> None:
        self.param = param

    def unsupported(self, node: ast.AST, why: str = "") -> UnsupportedExpressionError:
        text = ast.unparse(node)
        if len(text) > 80:
            text = text[:77] + "..."
        line = getattr(node, "lineno", 0)
        msg = f"unsupported construct `{text}` at line {line}" + (f" ({why})" if why else "")
        return UnsupportedExpressionError(msg, construct=text, line=line)

    def is_data(self, node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "data"
            and isinstance(node.value, ast.Name)
            and node.value.id == self.param
        )

    def const_value(self, node: ast.AST) -> Any:
        """A literal scalar (folding unary minus); raises if not one."""
        if isinstance(node, ast.Constant) and isinstance(node.value, _SCALARS):
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) in (int, float)
        ):
            v = node.operand.value
            assert isinstance(v, (int, float))  # (not a bool: checked just above)
            return -v if isinstance(node.op, ast.USub) else v
        raise self.unsupported(node, "expected a literal")

    def field_key(self, node: ast.AST) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        raise self.unsupported(node, "field names must be string literals")

    def expr(self, node: ast.AST) -> ir.Node:  # one case per construct
        if isinstance(node, ast.Constant):
            if isinstance(node.value, _SCALARS):
                return ir.Const(node.value)
            raise self.unsupported(node)
        if isinstance(node, ast.Subscript) and self.is_data(node.value):
            return ir.Field(self.field_key(node.slice))
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.JoinedStr):
            return self.fstring(node)
        if self.is_data(node):
            return ir.Data()
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return ir.BinOp(_BINOPS[type(node.op)], self.expr(node.left), self.expr(node.right))
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return ir.UnaryOp("not", self.expr(node.operand))
            if isinstance(node.op, (ast.USub, ast.UAdd)):
                if isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float):
                    return ir.Const(self.const_value(node))
                return ir.UnaryOp("-" if isinstance(node.op, ast.USub) else "+", self.expr(node.operand))
            raise self.unsupported(node)
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return ir.BoolOp(op, tuple(self.expr(v) for v in node.values))
        if isinstance(node, ast.IfExp):
            return ir.IfExp(self.expr(node.test), self.expr(node.body), self.expr(node.orelse))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Dict):
            return self.dict_lit(node)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            raise self.unsupported(node, "collections are only supported as the right side of `in`")
        raise self.unsupported(node)

    def compare(self, node: ast.Compare) -> ir.Node:
        ops: list[str] = []
        operands: list[ir.Node] = [self.expr(node.left)]
        for k, (op, right) in enumerate(zip(node.ops, node.comparators)):
            name = _CMPOPS[type(op)]
            if name in ("is", "is not", "in", "not in") and k < len(node.ops) - 1:
                # the code generator compares each link's right operand with the next one;
                # `None` and collections are not values there
                raise self.unsupported(node, f"`{name}` followed by another comparison")
            if name in ("is", "is not"):
                if not (isinstance(right, ast.Constant) and right.value is None):
                    raise self.unsupported(node, "only `is None` / `is not None` are supported")
                operands.append(ir.Const(None))
            elif name in ("in", "not in") and isinstance(right, (ast.Tuple, ast.List, ast.Set)):
                kind = type(right).__name__.lower()
                operands.append(ir.Collection(kind, tuple(self.const_value(e) for e in right.elts)))
            else:
                operands.append(self.expr(right))
            ops.append(name)
        return ir.Compare(tuple(ops), tuple(operands))

    def call(self, node: ast.Call) -> ir.Node:
        if node.keywords:
            raise self.unsupported(node, "keyword arguments")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.unsupported(node, "star arguments")
        f = node.func
        if isinstance(f, ast.Attribute) and self.is_data(f.value) and f.attr == "get":
            if not 1 <= len(node.args) <= 2:
                raise self.unsupported(node, "`get` takes a key and an optional default")
            key = self.field_key(node.args[0])
            if len(node.args) == 1:
                return ir.Field(key)
            default = self.expr(node.args[1])
            if isinstance(default, ir.Const) and default.value is None:
                return ir.Field(key)
            return ir.Get(key, default)
        if isinstance(f, ast.Name) and f.id == "str" and len(node.args) == 1:
            return ir.Format((ir.FormatValue(self.expr(node.args[0])),))  # str(x) is f"{x}"
        if isinstance(f, ast.Name) and f.id in BUILTINS:
            args = tuple(self.expr(a) for a in node.args)
            if f.id in ("min", "max") and len(args) < 2:
                raise self.unsupported(node, f"`{f.id}` of an iterable")
            if f.id in ("abs", "len") and len(args) != 1:
                raise self.unsupported(node)
            if f.id == "round" and len(args) != 1:
                raise self.unsupported(node, "`round` with ndigits")
            if f.id in ("int", "float", "str", "bool") and len(args) > 1:
                raise self.unsupported(node)
            return ir.Call(f.id, args)
        if isinstance(f, ast.Attribute) and f.attr in STR_METHODS:
            args = tuple(self.const_value(a) for a in node.args)
            return ir.Method(f.attr, self.expr(f.value), args)
        raise self.unsupported(node)

    def subscript(self, node: ast.Subscript) -> ir.Node:
        """``s[a:b]``, ``s[k]`` and ``s.split(sep)[k]`` with literal bounds."""
        sl = node.slice
        if isinstance(sl, ast.Slice):
            if sl.step is not None and not (isinstance(sl.step, ast.Constant) and sl.step.value in (None, 1)):
                raise self.unsupported(node, "slices with a step")
            lower = None if sl.lower is None else self.int_literal(sl.lower)
            upper = None if sl.upper is None else self.int_literal(sl.upper)
            return ir.Slice(self.expr(node.value), lower, upper)
        k = self.int_literal(sl)
        v = node.value
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "split":
            if v.keywords or len(v.args) > 1:
                raise self.unsupported(node, "`split` with maxsplit")
            sep = self.const_value(v.args[0]) if v.args else None
            if sep is not None and not isinstance(sep, str):
                raise self.unsupported(node, "`split` with a separator that is not a str")
            return ir.SplitIndex(self.expr(v.func.value), sep, k)
        return ir.Index(self.expr(v), k)

    def int_literal(self, node: ast.AST) -> int:
        v = self.const_value(node)
        if type(v) is not int:
            raise self.unsupported(node, "indices and bounds must be int literals")
        return v

    def fstring(self, node: ast.JoinedStr) -> ir.Node:
        parts: list[str | ir.FormatValue] = []
        for v in node.values:
            if isinstance(v, ast.Constant) and isinstance(v.value, str):
                parts.append(v.value)
            elif isinstance(v, ast.FormattedValue):
                if v.conversion not in (-1, ord("s")):
                    raise self.unsupported(v, "`!r` and `!a` conversions")
                spec = None
                if v.format_spec is not None:
                    if not (
                        isinstance(v.format_spec, ast.JoinedStr)
                        and all(isinstance(x, ast.Constant) for x in v.format_spec.values)
                    ):
                        raise self.unsupported(v, "a format spec with fields in it")
                    spec = _spec("".join(x.value for x in v.format_spec.values))  # type: ignore[attr-defined]
                    if spec is None:
                        raise self.unsupported(v, "this format spec")
                parts.append(ir.FormatValue(self.expr(v.value), spec))
            else:  # pragma: no cover - an f-string holds only these
                raise self.unsupported(v)
        return ir.Format(tuple(parts))

    def dict_lit(self, node: ast.Dict) -> ir.Node:
        items: list[tuple[str | None, ir.Node | None]] = []
        for k, v in zip(node.keys, node.values):
            if k is None:
                if not self.is_data(v):
                    raise self.unsupported(v, "only `**state.data` may be spread")
                items.append((None, None))
            else:
                items.append((self.field_key(k), self.expr(v)))
        return ir.DictLit(tuple(items))


_SPEC = re.compile(
    r"(?:(?P<fill>.)?(?P<align>[<>^]))?(?P<sign>[-+ ])?(?P<zero>0)?(?P<width>[1-9][0-9]*)?(?P<kind>[ds]?)"
)


def _spec(text: str) -> ir.Spec | None:
    """The format spec ``text`` when the compiler formats it: ``[[fill]align][sign][0][width][d|s]``.

    Examples
    --------
    >>> _spec("02d")
    Spec(fill=' ', align='', sign='', zero=True, width=2, kind='d', text='02d')
    >>> _spec(">8"), _spec(".2f")
    (Spec(fill=' ', align='>', sign='', zero=False, width=8, kind='', text='>8'), None)
    """
    m = _SPEC.fullmatch(text)
    if m is None:
        return None
    return ir.Spec(
        fill=m["fill"] or " ",
        align=m["align"] or "",
        sign=m["sign"] or "",
        zero=bool(m["zero"]),
        width=int(m["width"] or 0),
        kind=m["kind"],
        text=text,
    )


def parse_expression(code: str) -> ir.Node:
    """Parse ``lambda state: ...`` code into an IR node.

    Raises
    ------
    UnsupportedExpressionError
        For any construct outside the compiled subset, naming it and its line.
    """
    lam = parse_lambda(code)
    args = lam.args
    if args.posonlyargs or args.vararg or args.kwarg or args.kwonlyargs or len(args.args) != 1 or args.defaults:
        msg = "expected 'lambda state: ...' with one parameter"
        raise UnsupportedExpressionError(msg, construct="lambda", line=1)
    p = _Parser(args.args[0].arg)
    node = p.expr(lam.body)
    _check_names(lam.body, p)
    return node


def _check_names(body: ast.AST, p: _Parser) -> None:
    """Reject uses of the parameter other than ``state.data`` (e.g. ``state.name``)."""
    for n in ast.walk(body):
        if (
            isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name)
            and n.value.id == p.param
            and n.attr != "data"
        ):
            raise p.unsupported(n)
