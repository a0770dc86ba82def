"""Builtin calls (min max abs round len int float str bool) and str methods."""

from __future__ import annotations

from typing import Any

from streamkit.expr import ir
from streamkit.expr.parse import STR_METHODS
from streamkit.expr.values import NUMERIC, SAMPLE, Val, python_error, unsupported
from streamkit.fsm.pyfunc import OVERFLOW_MESSAGE

__all__ = ("e_Call", "e_Method", "emit_minmax")

_INT_MIN = "-9223372036854775808"


def _py(code: str, **kw: Any) -> tuple[str, str]:
    err = python_error(code, **kw)
    assert err is not None, code
    return err


def e_Call(self: Any, n: ir.Call) -> Val:  # noqa: C901, PLR0915 - one case per builtin
    from streamkit.expr.codegen import StrOp

    f = n.func
    if f in ("min", "max"):
        return self.emit_minmax(f, n.args)
    if not n.args:
        return self.const({"int": 0, "float": 0.0, "bool": False, "str": ""}[f])
    if f == "bool":
        t = self.truth_of(n.args[0])
        return Val(frozenset({"bool"}), v=t)
    x = self.expr(n.args[0])
    kinds: set[str] = set()
    for _, k in x.runtime_kinds(self.facts):
        if f == "str":
            if k != "str":
                raise unsupported(f"`str()` of {k}")
            kinds.add("str")
        elif f in ("len", "round", "int"):
            kinds.add("int")
        elif f == "float":
            kinds.add("float")
        elif f == "abs":
            kinds.add("float" if k == "float" else "int")
    out = self.slot(frozenset(kinds) or frozenset({"none"}))

    def emit(ks: list[str], ps: list[str]) -> None:  # noqa: C901, PLR0912
        k, p = ks[0], ps[0]
        if f == "str":
            self.assign(out, "str", p)
        elif f == "len":
            if k == "str":
                j = self.str_op(StrOp("len"))
                self.assign(out, "int", f"so{j}[{p}]")
            else:
                self.fail(*_py("len(a)", a=SAMPLE[k]))
        elif k not in NUMERIC and not (k == "str" and f in ("int", "float")):
            self.fail(*_py(f"{f}(a)", a=SAMPLE[k]))
        elif k == "str":
            j = self.str_op(StrOp(f))
            with self.block(f"if se{j}[{p}] != 0"):
                self.fail("", ("strop", j), arg=p)
            self.assign(out, f, f"so{j}[{p}]")
        elif f == "float":
            self.assign(out, "float", f"np.float64({p})")
        elif k == "bool":
            self.assign(out, "int", f"np.int64({p})")
        elif k == "int":
            if f == "abs":
                with self.block(f"if {p} == {_INT_MIN}"):
                    self.fail("OverflowError", OVERFLOW_MESSAGE)
                self.assign(out, "int", f"abs({p})")
            else:
                self.assign(out, "int", p)
        elif f == "abs":
            self.assign(out, "float", f"abs({p})")
        else:  # round / int of a float
            with self.block(f"if math.isnan({p})"):
                self.fail(*_py(f"{f}(a)", a=float("nan")))
            with self.block(f"if math.isinf({p})"):
                self.fail(*_py(f"{f}(a)", a=float("inf")))
            r, c = self.new("r"), self.new("c")
            self.w(f"{r}, {c} = {'round_f' if f == 'round' else 'to_int_f'}({p})")
            with self.block(f"if {c} != 0"):
                self.fail("OverflowError", OVERFLOW_MESSAGE)
            self.assign(out, "int", r)

    self.dispatch([x], emit)
    return out


def emit_minmax(self: Any, f: str, args: tuple[ir.Node, ...]) -> Val:
    """``min``/``max`` over 2+ arguments: Python keeps the first extreme (``item < current``)."""
    vals = [self.expr(a) for a in args]
    kinds: set[str] = set()
    for v in vals:
        kinds |= v.kinds
    out = self.slot(frozenset(kinds))
    self.store(out, vals[0])
    op = "<" if f == "min" else ">"
    for v in vals[1:]:
        t = self.emit_order(op, v, out)
        with self.block(f"if {t}"):
            self.store(out, v)
    return out


def e_Method(self: Any, n: ir.Method) -> Val:
    from streamkit.expr.codegen import StrOp

    obj = self.expr(n.obj)
    rk = STR_METHODS[n.name]
    out = self.slot(frozenset({rk}))

    def emit(ks: list[str], ps: list[str]) -> None:
        k, p = ks[0], ps[0]
        if k != "str":
            self.fail(*_py(f"a.{n.name}(*args)", a=SAMPLE[k], args=n.args))
            return
        j = self.str_op(StrOp("method", (n.name, n.args, rk)))
        with self.block(f"if se{j}[{p}] != 0"):
            self.fail("", ("strop", j), arg=p)
        self.assign(out, rk, f"so{j}[{p}]")

    self.dispatch([obj], emit)
    return out
