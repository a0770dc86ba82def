"""Arithmetic: ``+ - * / // % **`` and unary ``-``/``+``, with Python's semantics and int64 checks."""

from __future__ import annotations

from typing import Any

from streamkit._typing import ValueKind
from streamkit.expr import ir
from streamkit.expr.codegen import CodeGen
from streamkit.expr.ints import OVERFLOW_MESSAGE
from streamkit.expr.ops_text import Text
from streamkit.expr.values import (
    NONE_ONLY,
    NUMERIC,
    SAMPLE,
    TWO_POW_53,
    Val,
    python_error,
    python_raises,
    unsupported,
)

__all__ = ("Arithmetic",)

_INT_FN = {"+": "add_i", "-": "sub_i", "*": "mul_i"}


def _const_of(part: str) -> Any:
    """The int literal a value part stands for (``np.int64(3)`` -> 3), else None."""
    if part.startswith("np.int64(") and part.endswith(")"):
        try:
            return int(part[9:-1])
        except ValueError:
            return None
    return None


class Arithmetic:
    """Emits arithmetic.

    Integer results are checked against int64 (``OverflowError`` as the
    interpreter raises it); an int too large for a float's precision where
    Python would mix it with a float escapes the row to Python.

    Parameters
    ----------
    g:
        The generator the code is written to.
    """

    def __init__(self, g: CodeGen, text: Text) -> None:
        self.g = g
        self.text = text

    @staticmethod
    def result_kinds(op: str, ka: ValueKind, kb: ValueKind, b: Val) -> set[ValueKind]:
        """Kinds of ``a op b`` for numeric run-time kinds (``b``: the right operand)."""
        intlike = ka in ("bool", "int") and kb in ("bool", "int")
        if op == "/":
            return {"float"}
        if op == "**" and intlike:
            if b.is_const and b.const >= 0:
                return {"int"}
            return {"int", "float"}
        return {"int"} if intlike else {"float"}

    def binop(self, n: ir.BinOp) -> Val:
        """``a op b``: numbers, or ``+`` of two strings."""
        g = self.g
        a = g.expr(n.left)
        b = g.expr(n.right)
        kinds: set[ValueKind] = set()
        for _, ka in a.runtime_kinds(g.facts):
            for _, kb in b.runtime_kinds(g.facts):
                if ka in NUMERIC and kb in NUMERIC:
                    kinds |= self.result_kinds(n.op, ka, kb, b)
                elif ka == kb == "str" and n.op == "+":
                    kinds.add("str")
                elif python_error(f"a {n.op} b", a=SAMPLE[ka], b=SAMPLE[kb]) is None:
                    msg = f"`{n.op}` on {ka} and {kb}"
                    raise unsupported(msg)
        out = g.slot(frozenset(kinds) or NONE_ONLY)

        def emit(ks: list[ValueKind], ps: list[str]) -> None:
            ka, kb = ks
            if ka in NUMERIC and kb in NUMERIC:
                self.numeric(n.op, ka, kb, ps[0], ps[1], out)
            elif ka == kb == "str" and n.op == "+":
                self.text.concat(a, out, ps[0], ps[1])
            else:
                g.fail(*python_raises(f"a {n.op} b", a=SAMPLE[ka], b=SAMPLE[kb]))

        g.dispatch([a, b], emit)
        return out

    def unary(self, n: ir.UnaryOp) -> Val:
        """``-x`` or ``+x`` (``not x`` is :meth:`Control.not_ <streamkit.expr.ops_control.Control.not_>`)."""
        g = self.g
        x = g.expr(n.operand)
        kinds: set[ValueKind] = set()
        for _, k in x.runtime_kinds(g.facts):
            if k in NUMERIC:
                kinds.add("float" if k == "float" else "int")
        out = g.slot(frozenset(kinds) or NONE_ONLY)

        def emit(ks: list[ValueKind], ps: list[str]) -> None:
            k, p = ks[0], ps[0]
            if k not in NUMERIC:
                g.fail(*python_raises(f"{n.op}a", a=SAMPLE[k]))
            elif k == "float":
                g.assign(out, "float", f"{n.op}{p}")
            else:
                p = f"np.int64({p})" if k == "bool" else p
                if n.op == "-":
                    r, c = g.temp("r"), g.temp("c")
                    g.write(f"{r}, {c} = neg_i({p})")
                    with g.block(f"if {c} != 0"):
                        g.fail("OverflowError", OVERFLOW_MESSAGE)
                    p = r
                g.assign(out, "int", p)

        g.dispatch([x], emit)
        return out

    def numeric(self, op: str, ka: ValueKind, kb: ValueKind, pa: str, pb: str, out: Val) -> None:
        """Emit ``pa op pb`` for numeric run-time kinds into ``out``."""
        g = self.g
        if ka in ("bool", "int") and kb in ("bool", "int"):
            self._integer(
                op, f"np.int64({pa})" if ka == "bool" else pa, f"np.int64({pb})" if kb == "bool" else pb, pb, out
            )
            return
        fa = f"np.float64({pa})" if ka != "float" else pa
        fb = f"np.float64({pb})" if kb != "float" else pb
        if op in ("+", "-", "*"):
            g.assign(out, "float", f"{fa} {op} {fb}")
        elif op == "/":
            with g.block(f"if {fb} == 0.0"):
                g.fail(*python_raises("1.0 / 0.0"))
            g.assign(out, "float", f"{fa} / {fb}")
        elif op in ("//", "%"):
            q, md, c = g.temp("q"), g.temp("md"), g.temp("c")
            g.write(f"{q}, {md}, {c} = divmod_f({fa}, {fb})")
            with g.block(f"if {c} != 0"):
                g.fail(*python_raises(f"1.0 {op} 0.0"))
            g.assign(out, "float", q if op == "//" else md)
        elif op == "**":
            self._pow_f(fa, fb, out)
        else:  # pragma: no cover - the parser admits no other operator
            raise unsupported(op)

    def _integer(self, op: str, ai: str, bi: str, pb: str, out: Val) -> None:
        """``ai op bi`` of two int64s (``pb``: the right operand as written, to spot a literal)."""
        g = self.g
        r, c = g.temp("r"), g.temp("c")
        if op in _INT_FN:
            g.write(f"{r}, {c} = {_INT_FN[op]}({ai}, {bi})")
            with g.block(f"if {c} != 0"):
                g.fail("OverflowError", OVERFLOW_MESSAGE)
            g.assign(out, "int", r)
        elif op in ("//", "%"):
            fn = "floordiv_i" if op == "//" else "mod_i"
            g.write(f"{r}, {c} = {fn}({ai}, {bi})")
            with g.block(f"if {c} == 2"):
                g.fail(*python_raises(f"1 {op} 0"))
            with g.block(f"if {c} == 1"):
                g.fail("OverflowError", OVERFLOW_MESSAGE)
            g.assign(out, "int", r)
        elif op == "/":
            with g.block(f"if {bi} == 0"):
                g.fail(*python_raises("1 / 0"))
            with g.block(
                f"if {ai} > {TWO_POW_53} or {ai} < -{TWO_POW_53} or {bi} > {TWO_POW_53} or {bi} < -{TWO_POW_53}"
            ):
                g.escape()
            g.assign(out, "float", f"np.float64({ai}) / np.float64({bi})")
        elif op == "**" and out.rep == "int" and isinstance(_const_of(pb), int) and _const_of(pb) in (2, 3):
            # small constant powers: checked multiplications, no loop
            g.write(f"{r}, {c} = mul_i({ai}, {ai})")
            if _const_of(pb) == 3:
                c2 = g.temp("c")
                g.write(f"{r}, {c2} = mul_i({r}, {ai})")
                g.write(f"{c} = {c} | {c2}")
            with g.block(f"if {c} != 0"):
                g.fail("OverflowError", OVERFLOW_MESSAGE)
            g.assign(out, "int", r)
        elif op == "**":
            const_b = _const_of(bi)
            if const_b is None or const_b >= 0:
                with g.block(f"if {bi} >= 0"):
                    g.write(f"{r}, {c} = pow_i({ai}, {bi})")
                    with g.block(f"if {c} != 0"):
                        g.fail("OverflowError", OVERFLOW_MESSAGE)
                    g.assign(out, "int", r)
            if const_b is None or const_b < 0:
                with g.block("else" if const_b is None else "if True"):
                    with g.block(f"if {ai} == 0"):
                        g.fail(*python_raises("0 ** -1"))
                    self._pow_f(f"np.float64({ai})", f"np.float64({bi})", out)
        else:  # pragma: no cover - the parser admits no other operator
            raise unsupported(op)

    def _pow_f(self, fa: str, fb: str, out: Val) -> None:
        g = self.g
        r, c = g.temp("r"), g.temp("c")
        g.write(f"{r}, {c} = pow_f({fa}, {fb})")
        with g.block(f"if {c} == 2"):
            g.fail(*python_raises("0.0 ** -1.0"))
        with g.block(f"if {c} == 5"):
            g.fail(*python_raises("10.0 ** 400.0"))
        with g.block(f"if {c} == 3"):
            g.escape()
        g.assign(out, "float", r)
