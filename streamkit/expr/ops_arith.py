"""Arithmetic emission: ``+ - * / // % **`` with Python's semantics and int64 checks."""

from __future__ import annotations

from typing import Any

from streamkit.expr import ir
from streamkit.expr.values import NUMERIC, SAMPLE, Val, python_error, unsupported
from streamkit.fsm.pyfunc import OVERFLOW_MESSAGE

__all__ = ("e_BinOp", "arith_kind", "emit_arith")

_TWO53 = "9007199254740992"
_INT_FN = {"+": "add_i", "-": "sub_i", "*": "mul_i"}


def _py(code: str) -> tuple[str, str]:
    err = python_error(code)
    assert err is not None, code
    return err


def arith_kind(self: Any, op: str, ka: str, kb: str, b: Val) -> set[str]:
    """Kinds of ``a op b`` for numeric run-time kinds."""
    intlike = ka in ("bool", "int") and kb in ("bool", "int")
    if op == "/":
        return {"float"}
    if op == "**" and intlike:
        if b.is_const and b.const >= 0:
            return {"int"}
        return {"int", "float"}
    return {"int"} if intlike else {"float"}


def e_BinOp(self: Any, n: ir.BinOp) -> Val:
    from streamkit.expr.codegen import StrOp

    a = self.expr(n.left)
    b = self.expr(n.right)
    kinds: set[str] = set()
    for _, ka in a.runtime_kinds(self.facts):
        for _, kb in b.runtime_kinds(self.facts):
            if ka in NUMERIC and kb in NUMERIC:
                kinds |= self.arith_kind(n.op, ka, kb, b)
            elif ka == kb == "str" and n.op == "+":
                if not (a.is_const or b.is_const):
                    raise unsupported("`+` of two non-literal strings")
                kinds.add("str")
            elif python_error(f"a {n.op} b", a=SAMPLE[ka], b=SAMPLE[kb]) is None:
                raise unsupported(f"`{n.op}` on {ka} and {kb}")
    out = self.slot(frozenset(kinds) or frozenset({"none"}))

    def emit(ks: list[str], ps: list[str]) -> None:
        ka, kb = ks
        if ka in NUMERIC and kb in NUMERIC:
            self.emit_arith(n.op, ka, kb, ps[0], ps[1], out)
        elif ka == kb == "str" and n.op == "+":
            if b.is_const:
                j = self.str_op(StrOp("method", ("__add__", (b.const,), "str")))
                self.assign(out, "str", f"so{j}[{ps[0]}]")
            else:
                j = self.str_op(StrOp("prefix", (a.const,)))
                self.assign(out, "str", f"so{j}[{ps[1]}]")
        else:
            self.fail(*python_error(f"a {n.op} b", a=SAMPLE[ka], b=SAMPLE[kb]))

    self.dispatch([a, b], emit)
    return out


def emit_arith(self: Any, op: str, ka: str, kb: str, pa: str, pb: str, out: Val) -> None:  # noqa: C901, PLR0912
    """Emit ``pa op pb`` for numeric run-time kinds into ``out``."""
    if ka in ("bool", "int") and kb in ("bool", "int"):
        ai = f"np.int64({pa})" if ka == "bool" else pa
        bi = f"np.int64({pb})" if kb == "bool" else pb
        r, c = self.new("r"), self.new("c")
        if op in _INT_FN:
            self.w(f"{r}, {c} = {_INT_FN[op]}({ai}, {bi})")
            with self.block(f"if {c} != 0"):
                self.fail("OverflowError", OVERFLOW_MESSAGE)
            self.assign(out, "int", r)
        elif op in ("//", "%"):
            fn = "floordiv_i" if op == "//" else "mod_i"
            self.w(f"{r}, {c} = {fn}({ai}, {bi})")
            with self.block(f"if {c} == 2"):
                self.fail(*_py(f"1 {op} 0"))
            with self.block(f"if {c} == 1"):
                self.fail("OverflowError", OVERFLOW_MESSAGE)
            self.assign(out, "int", r)
        elif op == "/":
            with self.block(f"if {bi} == 0"):
                self.fail(*_py("1 / 0"))
            with self.block(f"if {ai} > {_TWO53} or {ai} < -{_TWO53} or {bi} > {_TWO53} or {bi} < -{_TWO53}"):
                self.escape()
            self.assign(out, "float", f"np.float64({ai}) / np.float64({bi})")
        elif op == "**" and out.rep == "int" and isinstance(self._const_of(pb), int) and self._const_of(pb) in (2, 3):
            # small constant powers: checked multiplications, no loop
            self.w(f"{r}, {c} = mul_i({ai}, {ai})")
            if self._const_of(pb) == 3:
                c2 = self.new("c")
                self.w(f"{r}, {c2} = mul_i({r}, {ai})")
                self.w(f"{c} = {c} | {c2}")
            with self.block(f"if {c} != 0"):
                self.fail("OverflowError", OVERFLOW_MESSAGE)
            self.assign(out, "int", r)
        elif op == "**":
            const_b = self._const_of(bi)
            if const_b is None or const_b >= 0:
                with self.block(f"if {bi} >= 0"):
                    self.w(f"{r}, {c} = pow_i({ai}, {bi})")
                    with self.block(f"if {c} != 0"):
                        self.fail("OverflowError", OVERFLOW_MESSAGE)
                    self.assign(out, "int", r)
            if const_b is None or const_b < 0:
                with self.block("else" if const_b is None else "if True"):
                    with self.block(f"if {ai} == 0"):
                        self.fail(*_py("0 ** -1"))
                    self._pow_f(f"np.float64({ai})", f"np.float64({bi})", out)
        else:  # pragma: no cover - the parser admits no other operator
            raise unsupported(op)
        return
    fa = f"np.float64({pa})" if ka != "float" else pa
    fb = f"np.float64({pb})" if kb != "float" else pb
    if op in ("+", "-", "*"):
        self.assign(out, "float", f"{fa} {op} {fb}")
    elif op == "/":
        with self.block(f"if {fb} == 0.0"):
            self.fail(*_py("1.0 / 0.0"))
        self.assign(out, "float", f"{fa} / {fb}")
    elif op in ("//", "%"):
        q, md, c = self.new("q"), self.new("md"), self.new("c")
        self.w(f"{q}, {md}, {c} = divmod_f({fa}, {fb})")
        with self.block(f"if {c} != 0"):
            self.fail(*_py(f"1.0 {op} 0.0"))
        self.assign(out, "float", q if op == "//" else md)
    elif op == "**":
        self._pow_f(fa, fb, out)
    else:  # pragma: no cover
        raise unsupported(op)


def _const_of(self: Any, part: str) -> Any:
    """The int literal a value part stands for (``np.int64(3)`` -> 3), else None."""
    if part.startswith("np.int64(") and part.endswith(")"):
        try:
            return int(part[9:-1])
        except ValueError:
            return None
    return None


def _pow_f(self: Any, fa: str, fb: str, out: Val) -> None:
    r, c = self.new("r"), self.new("c")
    self.w(f"{r}, {c} = pow_f({fa}, {fb})")
    with self.block(f"if {c} == 2"):
        self.fail(*_py("0.0 ** -1.0"))
    with self.block(f"if {c} == 5"):
        self.fail(*_py("10.0 ** 400.0"))
    with self.block(f"if {c} == 3"):
        self.escape()
    self.assign(out, "float", r)
