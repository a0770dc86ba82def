"""The typed IR of inline expressions: small frozen dataclasses.

``lambda state: ...`` code is parsed into these nodes (see :mod:`streamkit.expr.parse`);
code generation (:mod:`streamkit.expr.codegen`) turns them into numba source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = (
    "Node",
    "Field",
    "Get",
    "Const",
    "BinOp",
    "UnaryOp",
    "Compare",
    "BoolOp",
    "IfExp",
    "Call",
    "Method",
    "Collection",
    "DictLit",
    "Data",
    "Spec",
    "FormatValue",
    "Format",
    "Slice",
    "Index",
    "SplitIndex",
    "fields_read",
)


@dataclass(frozen=True)
class Field:
    """``state.data['x']`` or ``state.data.get('x')``: the field's value, ``None`` when null."""

    name: str


@dataclass(frozen=True)
class Get:
    """``state.data.get('x', default)``: the field, or ``default`` when null."""

    name: str
    default: Node


@dataclass(frozen=True)
class Const:
    """A literal: int, float, bool, str or None."""

    value: Any


@dataclass(frozen=True)
class BinOp:
    """Arithmetic: ``+ - * / // % **``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class UnaryOp:
    """``-x``, ``+x`` or ``not x``."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Compare:
    """A (possibly chained) comparison; ops are ``== != < <= > >= in not-in is is-not``."""

    ops: tuple[str, ...]
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class BoolOp:
    """``and`` / ``or`` with Python's rules: short-circuit, returns an operand."""

    op: str
    values: tuple[Node, ...]


@dataclass(frozen=True)
class IfExp:
    """``body if test else orelse``."""

    test: Node
    body: Node
    orelse: Node


@dataclass(frozen=True)
class Call:
    """A builtin call: min, max, abs, round, len, int, float, str, bool."""

    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Method:
    """A method call on a value, e.g. ``s.upper()``; arguments are literals."""

    name: str
    obj: Node
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Spec:
    """A format specification ``[[fill]align][sign][0][width][type]`` (``f"{x:>8}"``, ``f"{n:02d}"``).

    ``align`` is ``<``, ``>``, ``^`` or ``""`` (the value's default); ``sign`` ``+``,
    ``-``, `` `` or ``""``; ``zero`` the ``0`` flag; ``kind`` the type, ``""``, ``d`` or ``s``.
    """

    fill: str = " "
    align: str = ""
    sign: str = ""
    zero: bool = False
    width: int = 0
    kind: str = ""
    text: str = ""


@dataclass(frozen=True)
class FormatValue:
    """One ``{value[!s][:spec]}`` of an f-string."""

    value: Node
    spec: Spec | None = None


@dataclass(frozen=True)
class Format:
    """An f-string (or ``str(x)``): literal text and formatted values, in order."""

    parts: tuple[str | FormatValue, ...]


@dataclass(frozen=True)
class Slice:
    """``s[lower:upper]`` with literal bounds (``None``: open); code points, as Python slices str."""

    obj: Node
    lower: int | None
    upper: int | None


@dataclass(frozen=True)
class Index:
    """``s[k]`` with a literal ``k`` (negative from the end)."""

    obj: Node
    index: int


@dataclass(frozen=True)
class SplitIndex:
    """``s.split(sep)[k]``: piece ``k`` (``sep`` ``None``: runs of whitespace)."""

    obj: Node
    sep: str | None
    index: int


@dataclass(frozen=True)
class Collection:
    """A literal tuple, list or set (right operand of ``in``)."""

    kind: str
    items: tuple[Any, ...]


@dataclass(frozen=True)
class DictLit:
    """A dict literal; an item with key ``None`` is the ``**state.data`` spread."""

    items: tuple[tuple[str | None, Node | None], ...]


@dataclass(frozen=True)
class Data:
    """``state.data`` itself (an identity transform)."""


#: Any IR node.
Node: TypeAlias = (
    Field
    | Get
    | Const
    | BinOp
    | UnaryOp
    | Compare
    | BoolOp
    | IfExp
    | Call
    | Method
    | Collection
    | DictLit
    | Data
    | Format
    | Slice
    | Index
    | SplitIndex
)


def fields_read(node: Node) -> list[str]:
    """Names of the fields a node reads, in first-use order (spreads excluded)."""
    seen: dict[str, None] = {}

    def walk(n: Any) -> None:
        if isinstance(n, (Field, Get)):
            seen.setdefault(n.name)
            if isinstance(n, Get):
                walk(n.default)
        elif isinstance(n, (BinOp,)):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, UnaryOp):
            walk(n.operand)
        elif isinstance(n, (Compare,)):
            for o in n.operands:
                walk(o)
        elif isinstance(n, BoolOp):
            for o in n.values:
                walk(o)
        elif isinstance(n, IfExp):
            walk(n.test)
            walk(n.body)
            walk(n.orelse)
        elif isinstance(n, Call):
            for o in n.args:
                walk(o)
        elif isinstance(n, (Method, Slice, Index, SplitIndex)):
            walk(n.obj)
        elif isinstance(n, Format):
            for part in n.parts:
                if isinstance(part, FormatValue):
                    walk(part.value)
        elif isinstance(n, DictLit):
            for _, v in n.items:
                if v is not None:
                    walk(v)

    walk(node)
    return list(seen)
