"""Control: conditional expressions, ``and``/``or``/``not``, truth, and ``get`` with a default.

Python's rules, exactly: ``and``/``or`` short-circuit and return an operand,
``not`` and conditions use Python's truth, and only the branch taken runs (so
only its errors can fail the row).
"""

from __future__ import annotations

from streamkit._typing import ValueKind
from streamkit.expr import ir
from streamkit.expr.codegen import CodeGen
from streamkit.expr.values import NONE_ONLY, Val

__all__ = ("Control",)


class Control:
    """Emits control flow.

    Parameters
    ----------
    g:
        The generator the code is written to.
    """

    def __init__(self, g: CodeGen) -> None:
        self.g = g

    def truth_of(self, node: ir.Node) -> str:
        """Emit code computing ``bool(node)`` with short-circuits; return a variable."""
        g = self.g
        if isinstance(node, ir.UnaryOp) and node.op == "not":
            t = g.temp("b")
            g.write(f"{t} = not {self.truth_of(node.operand)}")
            return t
        if isinstance(node, ir.BoolOp):
            res = g.temp("b")
            g.write(f"{res} = {'False' if node.op == 'and' else 'True'}")
            self._truth_chain(node.op, list(node.values), res)
            return res
        t = g.temp("b")
        v = g.expr(node)
        g.write(f"{t} = {g.truth(v)}")
        if v.rep == "bool" and not v.may_be_none and v.v in g.implies:
            g.implies[t] = g.implies[v.v]
        return t

    def _truth_chain(self, op: str, values: list[ir.Node], res: str) -> None:
        g = self.g
        t = self.truth_of(values[0])
        if len(values) == 1:
            g.write(f"{res} = {t}")
            return
        with g.block(f"if {t}" if op == "and" else f"if not {t}"):
            self._truth_chain(op, values[1:], res)

    def not_(self, n: ir.UnaryOp) -> Val:
        """``not x``."""
        t = self.truth_of(n.operand)
        return Val(frozenset({"bool"}), v=f"(not {t})")

    def if_exp(self, n: ir.IfExp) -> Val:
        """``body if test else orelse``: only the branch taken can fail."""
        g = self.g
        t = self.truth_of(n.test)
        mark = len(g.lines)
        # emit both branches into buffers first, to learn the result kinds
        with g.block(f"if {t}"):
            a = g.expr(n.body)
            body_lines = g.lines[mark + 1 :]
        del g.lines[mark:]
        with g.block("if True"):
            b = g.expr(n.orelse)
            else_lines = g.lines[mark + 1 :]
        del g.lines[mark:]
        out = g.slot(a.kinds | b.kinds, (a, b))
        pure = not any(ln.strip() in ("break", "return 1") for ln in body_lines + else_lines)
        if pure and len(body_lines) + len(else_lines) <= 24:
            # neither branch can fail: compute both, then select (no data-dependent jump)
            g.lines.extend(ln[4:] for ln in body_lines + else_lines)
            body_lines, else_lines = [], []
        with g.block(f"if {t}"):
            g.lines.extend(body_lines)
            g.store(out, a)
        with g.block("else"):
            g.lines.extend(else_lines)
            g.store(out, b)
        return out

    def bool_op(self, n: ir.BoolOp) -> Val:
        """``a and b`` / ``a or b``: short-circuit, the value is an operand."""
        kinds, operands = self._bool_op_kinds(n)
        out = self.g.slot(kinds, operands)
        self._bool_op_chain(n.op, list(n.values), out)
        return out

    def _bool_op_kinds(self, n: ir.BoolOp) -> tuple[frozenset[ValueKind], list[Val]]:
        """The kinds the result may have, and the operands' values (emitted on trial, then undone)."""
        kinds: set[ValueKind] = set()
        operands = []
        with self.g.trial():
            for j, v in enumerate(n.values):
                val = self.g.expr(v)
                operands.append(val)
                k = set(val.kinds)
                if n.op == "or" and j < len(n.values) - 1:
                    k.discard("none")
                kinds |= k
        return frozenset(kinds), operands

    def _bool_op_chain(self, op: str, values: list[ir.Node], out: Val) -> None:
        g = self.g
        v = g.expr(values[0])
        g.store(out, v)
        if len(values) == 1:
            return
        t = g.truth(v)
        with g.block(f"if {t}" if op == "and" else f"if not {t}"):
            self._bool_op_chain(op, values[1:], out)

    def get(self, n: ir.Get) -> Val:
        """``state.data.get(name, default)``: the field, or ``default`` where it is ``None``."""
        g = self.g
        x = g.field(n.name)
        d = g.expr(n.default)
        if not x.may_be_none:
            return x
        if x.rep == "none":
            return d
        out = g.slot((x.kinds - NONE_ONLY) | d.kinds, (x, d))
        with g.block(f"if {x.nn}"):
            g.store(out, d)
        with g.block("else"):
            g.store(out, x)
        return out
