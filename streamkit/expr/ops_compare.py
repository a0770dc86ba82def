"""Comparison emission: ``== != < <= > >=``, chains, ``in`` and ``is None``."""

from __future__ import annotations

from typing import Any

from streamkit.expr import ir
from streamkit.expr.values import NUMERIC, SAMPLE, Val, python_error, unsupported

__all__ = ("e_Compare", "compare_one", "emit_eq", "emit_order")

_TWO53 = "9007199254740992"


def e_Compare(self: Any, n: ir.Compare) -> Val:
    res = self.new("b")
    self.w(f"{res} = False")
    _chain(self, n, 0, self.expr(n.operands[0]), res)
    return Val(frozenset({"bool"}), v=res)


def _chain(self: Any, n: ir.Compare, j: int, left: Val, res: str) -> None:
    t, right = self.compare_one(n.ops[j], left, n.operands[j + 1])
    if j == len(n.ops) - 1:
        self.w(f"{res} = {t}")
        if j == 0 and t in self.implies:
            self.implies[res] = self.implies[t]
        return
    with self.block(f"if {t}"):
        _chain(self, n, j + 1, right, res)


def compare_one(self: Any, op: str, left: Val, right_node: ir.Node) -> tuple[str, Val | None]:
    """Emit one comparison; return (bool variable, right operand value)."""
    from streamkit.expr.codegen import StrOp

    t = self.new("b")
    if op in ("is", "is not"):
        nn = "True" if left.rep == "none" else (left.nn if left.may_be_none and left.nn not in self.facts else "False")
        self.w(f"{t} = {nn if op == 'is' else f'not {nn}'}")
        if op == "is not" and nn not in ("True", "False"):
            self.implies[t] = nn
        return t, None
    if op in ("in", "not in"):
        if isinstance(right_node, ir.Collection):
            self.w(f"{t} = False")
            for item in right_node.items:
                e = self.emit_eq(left, self.const(item))
                self.w(f"{t} = {t} or {e}")
        elif isinstance(right_node, ir.Data):
            if not (left.is_const and isinstance(left.const, str)):
                raise unsupported("`in state.data` with a non-literal key")
            f = self.field(left.const)
            nn = "True" if f.rep == "none" else (f.nn if f.may_be_none else "False")
            self.w(f"{t} = not {nn}")
        else:
            right = self.expr(right_node)
            self.w(f"{t} = False")

            def emit(ks: list[str], ps: list[str]) -> None:
                kl, kr = ks
                if kl == kr == "str":
                    if left.is_const:
                        j = self.str_op(StrOp("contains", (left.const,)))
                        self.w(f"{t} = so{j}[{ps[1]}]")
                    elif right.is_const:
                        j = self.str_op(StrOp("within", (right.const,)))
                        self.w(f"{t} = so{j}[{ps[0]}]")
                    else:
                        raise unsupported("`in` between two non-literal strings")
                else:
                    err = python_error("a in b", a=SAMPLE[kl], b=SAMPLE[kr])
                    if err is None:
                        raise unsupported(f"`in` on {kl} and {kr}")
                    self.fail(*err)

            self.dispatch([left, right], emit)
        if op == "not in":
            self.w(f"{t} = not {t}")
        return t, None
    right = self.expr(right_node)
    e = self.emit_eq(left, right) if op in ("==", "!=") else self.emit_order(op, left, right)
    self.w(f"{t} = {e}" if op != "!=" else f"{t} = not {e}")
    return t, right


def emit_eq(self: Any, a: Val, b: Val) -> str:
    """Emit Python ``a == b`` (never raises); return a bool variable."""
    t = self.new("b")
    self.w(f"{t} = False")

    def emit(ks: list[str], ps: list[str]) -> None:
        ka, kb = ks
        pa, pb = ps
        if ka == "none" or kb == "none":
            self.w(f"{t} = {ka == kb}")
        elif ka in NUMERIC and kb in NUMERIC:
            _numeric_cmp(self, t, "==", ka, kb, pa, pb)
        elif ka == kb == "str":
            self.w(f"{t} = {pa} == {pb}")
        else:
            self.w(f"{t} = False")

    self.dispatch([a, b], emit)
    return t


def emit_order(self: Any, op: str, a: Val, b: Val) -> str:
    """Emit Python ``a < b`` (etc.), failing where Python raises; return a bool variable."""
    from streamkit.expr.codegen import StrOp

    t = self.new("b")
    self.w(f"{t} = False")

    def emit(ks: list[str], ps: list[str]) -> None:
        ka, kb = ks
        pa, pb = ps
        if ka in NUMERIC and kb in NUMERIC:
            _numeric_cmp(self, t, op, ka, kb, pa, pb)
        elif ka == kb == "str":
            j = self.str_op(StrOp("rank"))
            self.w(f"{t} = so{j}[{pa}] {op} so{j}[{pb}]")
        else:
            err = python_error(f"a {op} b", a=SAMPLE[ka], b=SAMPLE[kb])
            assert err is not None
            self.fail(*err)

    self.dispatch([a, b], emit)
    return t


def _numeric_cmp(self: Any, t: str, op: str, ka: str, kb: str, pa: str, pb: str) -> None:
    if ka == "bool":
        pa = f"np.int64({pa})"
    if kb == "bool":
        pb = f"np.int64({pb})"
    if (ka == "float") != (kb == "float"):
        # Python compares int and float exactly; floats hold ints exactly only up to 2**53
        ip = pb if ka == "float" else pa
        with self.block(f"if {ip} > {_TWO53} or {ip} < -{_TWO53}"):
            self.escape()
        pa = pa if ka == "float" else f"np.float64({pa})"
        pb = pb if kb == "float" else f"np.float64({pb})"
    self.w(f"{t} = {pa} {op} {pb}")
