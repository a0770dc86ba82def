"""Builtin calls: ``min max abs round len int float bool`` (``str(x)`` is an f-string, see ``ops_text``)."""

from __future__ import annotations

from streamkit._typing import ValueKind
from streamkit.expr import ir
from streamkit.expr.codegen import CodeGen
from streamkit.expr.ints import INT64_MIN, OVERFLOW_MESSAGE
from streamkit.expr.ops_compare import Comparisons
from streamkit.expr.ops_control import Control
from streamkit.expr.ops_text import Text
from streamkit.expr.values import NONE_ONLY, NUMERIC, SAMPLE, Val, python_raises

__all__ = ("Calls",)

#: What a builtin called with no argument returns.
_NO_ARG = {"int": 0, "float": 0.0, "bool": False, "str": ""}


class Calls:
    """Emits builtin calls.

    Parameters
    ----------
    g:
        The generator the code is written to.
    compare:
        The comparisons of ``g``: ``min`` and ``max`` compare as ``<`` and ``>`` do.
    control:
        The control flow of ``g``: ``bool(x)`` is the truth of ``x``.
    text:
        The string operations of ``g``: ``len`` and the parsing of ``int(s)`` / ``float(s)``.
    """

    def __init__(self, g: CodeGen, compare: Comparisons, control: Control, text: Text) -> None:
        self.g = g
        self.compare = compare
        self.control = control
        self.text = text

    def call(self, n: ir.Call) -> Val:
        """A builtin call."""
        g = self.g
        f = n.func
        if f in ("min", "max"):
            return self.minmax(f, n.args)
        if not n.args:
            return g.const(_NO_ARG[f])
        if f == "bool":
            t = self.control.truth_of(n.args[0])
            return Val(frozenset({"bool"}), v=t)
        x = g.expr(n.args[0])
        kinds: set[ValueKind] = set()
        for _, k in x.runtime_kinds(g.facts):
            if f in ("len", "round", "int"):
                kinds.add("int")
            elif f == "float":
                kinds.add("float")
            elif f == "abs":
                kinds.add("float" if k == "float" else "int")
        out = g.slot(frozenset(kinds) or NONE_ONLY)

        def emit(ks: list[ValueKind], ps: list[str]) -> None:
            k, p = ks[0], ps[0]
            if f == "len":
                if k == "str":
                    self.text.length(out, p)
                else:
                    g.fail(*python_raises("len(a)", a=SAMPLE[k]))
            elif k not in NUMERIC and not (k == "str" and f in ("int", "float")):
                g.fail(*python_raises(f"{f}(a)", a=SAMPLE[k]))
            elif k == "str":
                self.text.parse(f, out, p)
            elif f == "float":
                g.assign(out, "float", f"np.float64({p})")
            elif k == "bool":
                g.assign(out, "int", f"np.int64({p})")
            elif k == "int":
                if f == "abs":
                    with g.block(f"if {p} == {INT64_MIN}"):
                        g.fail("OverflowError", OVERFLOW_MESSAGE)
                    g.assign(out, "int", f"abs({p})")
                else:
                    g.assign(out, "int", p)
            elif f == "abs":
                g.assign(out, "float", f"abs({p})")
            else:  # round / int of a float
                with g.block(f"if math.isnan({p})"):
                    g.fail(*python_raises(f"{f}(a)", a=float("nan")))
                with g.block(f"if math.isinf({p})"):
                    g.fail(*python_raises(f"{f}(a)", a=float("inf")))
                r, c = g.temp("r"), g.temp("c")
                g.write(f"{r}, {c} = {'round_f' if f == 'round' else 'to_int_f'}({p})")
                with g.block(f"if {c} != 0"):
                    g.fail("OverflowError", OVERFLOW_MESSAGE)
                g.assign(out, "int", r)

        g.dispatch([x], emit)
        return out

    def minmax(self, f: str, args: tuple[ir.Node, ...]) -> Val:
        """``min``/``max`` over 2+ arguments: Python keeps the first extreme (``item < current``)."""
        g = self.g
        vals = [g.expr(a) for a in args]
        kinds: set[ValueKind] = set()
        for v in vals:
            kinds |= v.kinds
        out = g.slot(frozenset(kinds), vals)
        g.store(out, vals[0])
        op = "<" if f == "min" else ">"
        for v in vals[1:]:
            t = self.compare.order(op, v, out)
            with g.block(f"if {t}"):
                g.store(out, v)
        return out
