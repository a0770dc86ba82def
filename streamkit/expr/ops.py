"""Code emission for each IR construct, with Python's exact semantics.

A mixin of the state code generator (:mod:`streamkit.expr.codegen`). Every
operation dispatches on the run-time kinds its operands may have; a
combination Python rejects fails the row with the very message Python gives
(found by running Python on sample values), a combination streamkit does not
compile raises :class:`UnsupportedExpressionError`, so the state runs as Python.
"""

from __future__ import annotations

import re
from typing import Any

from streamkit.expr import ir
from streamkit.expr.values import NUMERIC, SAMPLE, Val, python_error, unsupported
from streamkit.fsm.pyfunc import OVERFLOW_MESSAGE

__all__ = ("OpsMixin",)


def _indent(line: str) -> int:
    return (len(line) - len(line.lstrip(" "))) // 4

_SAMPLE = SAMPLE
_NUMERIC = NUMERIC
_unsupported = unsupported


class OpsMixin:
    """Expression emission; mixed into the code generator."""

    # provided by the generator
    def w(self, line: str) -> None: ...  # pragma: no cover

    # -- plumbing ------------------------------------------------------------
    def expr(self, node: ir.Node) -> Val:
        fn = getattr(self, "e_" + type(node).__name__, None)
        if fn is None:
            raise _unsupported(type(node).__name__)
        return fn(node)

    @staticmethod
    def part(v: Val, kind: str) -> str:
        """Source of ``v``'s value when it has run-time kind ``kind``."""
        if v.rep == "num":
            return v.vi if kind == "int" else v.vf
        return v.v

    def dispatch(self, vals: list[Val], emit: Any) -> None:
        """Emit one branch per combination of run-time kinds; ``emit(kinds, parts)`` fills it.

        Afterwards, a value whose every ``None`` combination failed is known not
        to be None on the rest of the path, so later checks of it are not emitted.
        """
        combos: list[tuple[list[str], list[str]]] = [([], [])]
        for v in vals:
            combos = [(c + [cond], k + [kind]) for c, k in combos for cond, kind in v.runtime_kinds(self.facts)]
        none_ok = [False] * len(vals)
        for n, (conds, kinds) in enumerate(combos):
            test = " and ".join(f"({c})" for c in conds if c != "True") or "True"
            if len(combos) == 1:
                emit(kinds, [self.part(v, k) for v, k in zip(vals, kinds)])
                return
            header = "if" if n == 0 else "elif"
            if n == len(combos) - 1:
                header, test = "else", ""
            start = len(self.lines)
            with self.block(f"{header} {test}".rstrip()):
                emit(kinds, [self.part(v, k) for v, k in zip(vals, kinds)])
                self.w("pass")
            body = [ln for ln in self.lines[start + 1:] if ln.strip() != "pass"]
            ends_in_break = bool(body) and body[-1].strip() == "break" and _indent(body[-1]) == self.indent + 1
            if not ends_in_break:
                for j, k in enumerate(kinds):
                    if k == "none":
                        none_ok[j] = True
        for j, v in enumerate(vals):
            if v.may_be_none and not none_ok[j] and v.nn not in ("True", "False"):
                self.facts.add(v.nn)

    def assign(self, out: Val, kind: str, value: str) -> None:
        """Store a plain value of ``kind`` into slot ``out``."""
        if kind != "none" and out.rep != kind and not (out.rep == "num" and kind in ("int", "float")):
            # a slot typed for another kind would silently convert (numba unifies types)
            raise unsupported(f"a {kind} value where the compiler expected {out.rep}")
        if out.may_be_none:
            self.w(f"{out.nn} = {'True' if kind == 'none' else 'False'}")
        if kind == "none":
            return
        if out.rep == "num":
            self.w(f"{out.isf} = {kind == 'float'}")
            self.w(f"{out.vi if kind == 'int' else out.vf} = {value}")
        else:
            self.w(f"{out.v} = {value}")

    def truth(self, v: Val) -> str:
        """A side-effect-free boolean expression: Python's ``bool(v)``."""
        r = v.rep
        if r == "none":
            return "False"
        if r == "bool":
            t = v.v
        elif r == "int":
            t = f"{v.v} != 0"
        elif r == "float":
            t = f"{v.v} != 0.0"
        elif r == "str":
            t = f"{v.v} != lits[{self.lit('')}]"
        else:
            t = f"(({v.isf} and {v.vf} != 0.0) or (not {v.isf} and {v.vi} != 0))"
        return f"((not {v.nn}) and ({t}))" if v.may_be_none else f"({t})"

    def truth_of(self, node: ir.Node) -> str:
        """Emit code computing ``bool(node)`` with short-circuits; return a variable."""
        if isinstance(node, ir.UnaryOp) and node.op == "not":
            t = self.new("b")
            self.w(f"{t} = not {self.truth_of(node.operand)}")
            return t
        if isinstance(node, ir.BoolOp):
            res = self.new("b")
            self.w(f"{res} = {'False' if node.op == 'and' else 'True'}")
            self._truth_chain(node.op, list(node.values), res)
            return res
        t = self.new("b")
        v = self.expr(node)
        self.w(f"{t} = {self.truth(v)}")
        if v.rep == "bool" and not v.may_be_none and v.v in self.implies:
            self.implies[t] = self.implies[v.v]
        return t

    def _truth_chain(self, op: str, values: list[ir.Node], res: str) -> None:
        t = self.truth_of(values[0])
        if len(values) == 1:
            self.w(f"{res} = {t}")
            return
        with self.block(f"if {t}" if op == "and" else f"if not {t}"):
            self._truth_chain(op, values[1:], res)

    # -- leaves --------------------------------------------------------------
    def e_Const(self, n: ir.Const) -> Val:
        return self.const(n.value)

    def e_Field(self, n: ir.Field) -> Val:
        return self.field(n.name)

    def e_Data(self, n: ir.Data) -> Val:
        raise _unsupported("`state.data` used as a value")

    def e_Collection(self, n: ir.Collection) -> Val:
        raise _unsupported("a collection used as a value")

    def e_Get(self, n: ir.Get) -> Val:
        x = self.field(n.name)
        d = self.expr(n.default)
        if not x.may_be_none:
            return x
        if x.rep == "none":
            return d
        out = self.slot((x.kinds - {"none"}) | d.kinds)
        with self.block(f"if {x.nn}"):
            self.store(out, d)
        with self.block("else"):
            self.store(out, x)
        return out

    # -- control ----------------------------------------------------------------
    def e_IfExp(self, n: ir.IfExp) -> Val:
        t = self.truth_of(n.test)
        mark = len(self.lines)
        # emit both branches into buffers first, to learn the result kinds
        with self.block(f"if {t}"):
            a = self.expr(n.body)
            body_lines = self.lines[mark + 1:]
        del self.lines[mark:]
        with self.block("if True"):
            b = self.expr(n.orelse)
            else_lines = self.lines[mark + 1:]
        del self.lines[mark:]
        out = self.slot(a.kinds | b.kinds)
        # (table lookups stay behind the test: on the untaken side a code may be garbage)
        pure = not any(ln.strip() == "break" or re.search(r"\bso\d+\[", ln) for ln in body_lines + else_lines)
        if pure and len(body_lines) + len(else_lines) <= 24:
            # neither branch can fail: compute both, then select (no data-dependent jump)
            self.lines.extend(ln[4:] for ln in body_lines + else_lines)
            body_lines, else_lines = [], []
        with self.block(f"if {t}"):
            self.lines.extend(body_lines)
            self.store(out, a)
        with self.block("else"):
            self.lines.extend(else_lines)
            self.store(out, b)
        return out

    def e_BoolOp(self, n: ir.BoolOp) -> Val:
        vals_kinds = self._boolop_kinds(n)
        out = self.slot(vals_kinds)
        self._boolop_chain(n.op, list(n.values), out)
        return out

    def _boolop_kinds(self, n: ir.BoolOp) -> frozenset[str]:
        mark = len(self.lines)
        saved_tmp = self.ntmp
        saved_facts, saved_implies = set(self.facts), dict(self.implies)
        kinds: set[str] = set()
        ind = self.indent
        for j, v in enumerate(n.values):
            val = self.expr(v)
            k = set(val.kinds)
            if n.op == "or" and j < len(n.values) - 1:
                k.discard("none")
            kinds |= k
        del self.lines[mark:]
        self.indent = ind
        self.ntmp = saved_tmp
        self.facts, self.implies = saved_facts, saved_implies
        return frozenset(kinds)

    def _boolop_chain(self, op: str, values: list[ir.Node], out: Val) -> None:
        v = self.expr(values[0])
        self.store(out, v)
        if len(values) == 1:
            return
        t = self.truth(v)
        with self.block(f"if {t}" if op == "and" else f"if not {t}"):
            self._boolop_chain(op, values[1:], out)

    def e_UnaryOp(self, n: ir.UnaryOp) -> Val:
        if n.op == "not":
            t = self.truth_of(n.operand)
            return Val(frozenset({"bool"}), v=f"(not {t})")
        x = self.expr(n.operand)
        kinds = set()
        for _, k in x.runtime_kinds(self.facts):
            if k in _NUMERIC:
                kinds.add("float" if k == "float" else "int")
        out = self.slot(frozenset(kinds) or frozenset({"none"}))

        def emit(ks: list[str], ps: list[str]) -> None:
            k, p = ks[0], ps[0]
            if k not in _NUMERIC:
                et, msg = python_error(f"{n.op}a", a=_SAMPLE[k])
                self.fail(et, msg)
            elif k == "float":
                self.assign(out, "float", f"{n.op}{p}")
            else:
                p = f"np.int64({p})" if k == "bool" else p
                if n.op == "-":
                    r, c = self.new("r"), self.new("c")
                    self.w(f"{r}, {c} = neg_i({p})")
                    with self.block(f"if {c} != 0"):
                        self.fail("OverflowError", OVERFLOW_MESSAGE)
                    p = r
                self.assign(out, "int", p)

        self.dispatch([x], emit)
        return out

    from streamkit.expr.ops_arith import _const_of, _pow_f, arith_kind, e_BinOp, emit_arith  # noqa: E402
    from streamkit.expr.ops_compare import (  # noqa: E402
        compare_one, e_Compare, emit_eq, emit_order,
    )
    from streamkit.expr.ops_calls import e_Call, e_Method, emit_minmax  # noqa: E402
