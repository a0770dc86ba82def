"""Comparisons: ``== != < <= > >=``, chains, ``in`` and ``is None``, with Python's semantics."""

from __future__ import annotations

from streamkit._typing import ValueKind
from streamkit.expr import ir
from streamkit.expr.codegen import CodeGen
from streamkit.expr.values import (
    NUMERIC,
    SAMPLE,
    TWO_POW_53,
    Val,
    python_error,
    python_raises,
    unsupported,
)

__all__ = ("Comparisons",)


class Comparisons:
    """Emits comparisons.

    Equality never raises (values of different kinds are unequal); ordering
    fails the row where Python raises (``None < 1``); strings compare byte by
    byte (UTF-8 keeps code-point order), literals by their number, and ``in`` on
    strings is a substring search.

    Parameters
    ----------
    g:
        The generator the code is written to.
    """

    def __init__(self, g: CodeGen) -> None:
        self.g = g

    def compare(self, n: ir.Compare) -> Val:
        """A comparison or a chain of them (``a < b < c``: ``b`` evaluated once, short-circuit)."""
        g = self.g
        res = g.temp("b")
        g.write(f"{res} = False")
        self._chain(n, 0, g.expr(n.operands[0]), res)
        return Val(frozenset({"bool"}), v=res)

    def _chain(self, n: ir.Compare, j: int, left: Val, res: str) -> None:
        g = self.g
        t, right = self.one(n.ops[j], left, n.operands[j + 1])
        if j == len(n.ops) - 1:
            g.write(f"{res} = {t}")
            if j == 0 and t in g.implies:
                g.implies[res] = g.implies[t]
            return
        assert right is not None  # only `in` / `is` give none, and they never precede a link of a chain
        with g.block(f"if {t}"):
            self._chain(n, j + 1, right, res)

    def one(self, op: str, left: Val, right_node: ir.Node) -> tuple[str, Val | None]:
        """Emit one comparison; return (bool variable, right operand value)."""
        g = self.g
        t = g.temp("b")
        if op in ("is", "is not"):
            nn = "True" if left.rep == "none" else (left.nn if left.may_be_none and left.nn not in g.facts else "False")
            g.write(f"{t} = {nn if op == 'is' else f'not {nn}'}")
            if op == "is not" and nn not in ("True", "False"):
                g.implies[t] = nn
            return t, None
        if op in ("in", "not in"):
            self._contains(t, left, right_node)
            if op == "not in":
                g.write(f"{t} = not {t}")
            return t, None
        right = g.expr(right_node)
        e = self.eq(left, right) if op in ("==", "!=") else self.order(op, left, right)
        g.write(f"{t} = {e}" if op != "!=" else f"{t} = not {e}")
        return t, right

    def _contains(self, t: str, left: Val, right_node: ir.Node) -> None:
        """Set ``t`` to ``left in right``: a literal collection, ``state.data``, or a string."""
        g = self.g
        if isinstance(right_node, ir.Collection):
            g.write(f"{t} = False")
            for item in right_node.items:
                e = self.eq(left, g.const(item))
                g.write(f"{t} = {t} or {e}")
        elif isinstance(right_node, ir.Data):
            if not (left.is_const and isinstance(left.const, str)):
                msg = "`in state.data` with a non-literal key"
                raise unsupported(msg)
            f = g.field(left.const)
            nn = "True" if f.rep == "none" else (f.nn if f.may_be_none else "False")
            g.write(f"{t} = not {nn}")
        else:
            right = g.expr(right_node)
            g.write(f"{t} = False")

            def emit(ks: list[ValueKind], ps: list[str]) -> None:
                kl, kr = ks
                if kl == kr == "str":
                    g.write(f"{t} = t_find({ps[1]}, {ps[0]}, {right.ss}) >= 0")
                else:
                    err = python_error("a in b", a=SAMPLE[kl], b=SAMPLE[kr])
                    if err is None:
                        msg = f"`in` on {kl} and {kr}"
                        raise unsupported(msg)
                    g.fail(*err)

            g.dispatch([left, right], emit)

    def eq(self, a: Val, b: Val) -> str:
        """Emit Python ``a == b`` (never raises); return a bool variable."""
        g = self.g
        t = g.temp("b")
        g.write(f"{t} = False")

        def emit(ks: list[ValueKind], ps: list[str]) -> None:
            ka, kb = ks
            pa, pb = ps
            if ka == "none" or kb == "none":
                g.write(f"{t} = {ka == kb}")
            elif ka in NUMERIC and kb in NUMERIC:
                self._numeric(t, "==", ka, kb, pa, pb)
            elif ka == kb == "str":
                if a.lit and b.lit:  # literals are numbered once each
                    g.write(f"{t} = {a.lit} == {b.lit}")
                else:
                    g.write(f"{t} = t_eq({pa}, {pb})")
            else:
                g.write(f"{t} = False")

        g.dispatch([a, b], emit)
        return t

    def order(self, op: str, a: Val, b: Val) -> str:
        """Emit Python ``a < b`` (etc.), failing where Python raises; return a bool variable."""
        g = self.g
        t = g.temp("b")
        g.write(f"{t} = False")

        def emit(ks: list[ValueKind], ps: list[str]) -> None:
            ka, kb = ks
            pa, pb = ps
            if ka in NUMERIC and kb in NUMERIC:
                self._numeric(t, op, ka, kb, pa, pb)
            elif ka == kb == "str":
                g.write(f"{t} = t_cmp({pa}, {pb}) {op} 0")
            else:
                g.fail(*python_raises(f"a {op} b", a=SAMPLE[ka], b=SAMPLE[kb]))

        g.dispatch([a, b], emit)
        return t

    def _numeric(self, t: str, op: str, ka: ValueKind, kb: ValueKind, pa: str, pb: str) -> None:
        g = self.g
        if ka == "bool":
            pa = f"np.int64({pa})"
        if kb == "bool":
            pb = f"np.int64({pb})"
        if (ka == "float") != (kb == "float"):
            # Python compares int and float exactly; floats hold ints exactly only up to 2**53
            ip = pb if ka == "float" else pa
            with g.block(f"if {ip} > {TWO_POW_53} or {ip} < -{TWO_POW_53}"):
                g.escape()
            pa = pa if ka == "float" else f"np.float64({pa})"
            pb = pb if kb == "float" else f"np.float64({pb})"
        g.write(f"{t} = {pa} {op} {pb}")
