"""The operator families bound to one code generator, and the table dispatching IR nodes to them.

Each family is a class holding the generator (as polars' expression
namespaces hold their expression): :class:`~streamkit.expr.ops_arith.Arithmetic`,
:class:`~streamkit.expr.ops_compare.Comparisons`,
:class:`~streamkit.expr.ops_calls.Calls` (builtins),
:class:`~streamkit.expr.ops_text.Text` (strings) and
:class:`~streamkit.expr.ops_control.Control`. Every operation dispatches on the
run-time kinds its operands may have; a combination Python rejects fails the
row with the very message Python gives (found by running Python on sample
values), and a combination streamkit does not compile raises
:class:`~streamkit.errors.UnsupportedExpressionError`, so the state runs as Python.
"""

from __future__ import annotations

from streamkit.expr import ir
from streamkit.expr.codegen import CodeGen, Emitter
from streamkit.expr.ops_arith import Arithmetic
from streamkit.expr.ops_calls import Calls
from streamkit.expr.ops_compare import Comparisons
from streamkit.expr.ops_control import Control
from streamkit.expr.ops_text import Text
from streamkit.expr.values import Val, unsupported

__all__ = ("Operators",)


class Operators:
    """One instance of each operator family for a generator, installed as its emitters.

    Parameters
    ----------
    g:
        The generator; after ``Operators(g)``, :meth:`CodeGen.expr
        <streamkit.expr.codegen.CodeGen.expr>` emits every IR node through :attr:`table`.

    Examples
    --------
    >>> from streamkit.expr.parse import parse_expression
    >>> g = CodeGen({"x": "int"})
    >>> ops = Operators(g)
    >>> g.expr(parse_expression("lambda state: state.data['x'] * 2")).rep
    'int'

    The places the row can fail, with Python's errors (``x`` null, or a product outside int64):

    >>> [(s.error_type, s.message) for s in g.sites]  # doctest: +NORMALIZE_WHITESPACE
    [('TypeError', "unsupported operand type(s) for *: 'NoneType' and 'int'"),
     ('OverflowError', 'integer result outside int64')]
    """

    def __init__(self, g: CodeGen) -> None:
        self.g = g
        self.text = Text(g)
        self.arith = Arithmetic(g, self.text)
        self.compare = Comparisons(g)
        self.control = Control(g)
        self.calls = Calls(g, self.compare, self.control, self.text)
        #: IR node type -> the method that emits it
        self.table: dict[type, Emitter] = {
            ir.Const: self._const,
            ir.Field: self._field,
            ir.Get: self.control.get,
            ir.Data: self._data,
            ir.Collection: self._collection,
            ir.BinOp: self.arith.binop,
            ir.UnaryOp: self._unary,
            ir.Compare: self.compare.compare,
            ir.BoolOp: self.control.bool_op,
            ir.IfExp: self.control.if_exp,
            ir.Call: self.calls.call,
            ir.Method: self.text.method,
            ir.Format: self.text.format,
            ir.Slice: self.text.slice,
            ir.Index: self.text.index,
            ir.SplitIndex: self.text.split_index,
        }
        g.emitters.update(self.table)

    def _const(self, n: ir.Const) -> Val:
        return self.g.const(n.value)

    def _field(self, n: ir.Field) -> Val:
        return self.g.field(n.name)

    def _unary(self, n: ir.UnaryOp) -> Val:
        # `not` is Python's truth (control flow); `-` and `+` are arithmetic
        return self.control.not_(n) if n.op == "not" else self.arith.unary(n)

    def _data(self, n: ir.Data) -> Val:
        msg = "`state.data` used as a value"
        raise unsupported(msg)

    def _collection(self, n: ir.Collection) -> Val:
        msg = "a collection used as a value"
        raise unsupported(msg)
