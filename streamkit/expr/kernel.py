"""One fused kernel for a state and the states reached only through it.

Records run through every fused state in one pass over the rows (each state's
transform, then its conditions in the order arcs are tried; values stay in
registers) and leave at an end state or along an arc to a state outside the
kernel. Each exit's records are written compactly: their positions and their
computed fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamkit.expr import ir
from streamkit.expr.codegen import HEADER, Exit, StateKernelSource, _emit_transform, _Gen

__all__ = ("StateCode", "generate_kernel")


@dataclass(frozen=True)
class StateCode:
    """A state as the code generator needs it: IR of its code and its arcs in the order tried."""

    name: str
    is_end: bool
    transform: ir.Node | None
    conditions: tuple[ir.Node | None, ...]
    targets: tuple[str, ...]


def _compose(before: tuple[tuple[str, Any], ...], items: tuple[tuple[Any, ...], ...]) -> tuple[tuple[str, Any], ...]:
    """The record after a transform with ``items``, given the record ``before`` it."""
    known = dict(before)
    star = "*" in known

    def resolve(field: str) -> Any:
        if field in known and field != "*":
            return known[field]
        return ("input", field) if star else None

    out: dict[str, Any] = {}
    for it in items:
        if it[0] == "spread":
            for key, src in before:
                if key not in out:
                    out[key] = src
            continue
        name = it[1]
        if it[0] == "computed":
            src = ("computed", it[2], it[3])
        elif it[0] == "input":
            src = resolve(it[2])
        else:
            src = None if it[2] is None else ("const", it[2])
        # an absent field stays listed (source None): it must hide the input field of that name
        out[name] = src
    return tuple(out.items())


def generate_kernel(states: dict[str, StateCode], root: str, kinds: dict[str, str],
                    *, name: str = "kernel") -> StateKernelSource:
    """Generate one fused kernel for ``root`` and the states it leads to within ``states``.

    Records run through every state of ``states`` reachable from ``root`` in one pass
    (each state's transform, then its conditions in order; the values stay in
    registers); they leave at an end state or along an arc to a state not in ``states``.

    Parameters
    ----------
    states:
        The states fused into the kernel (a tree under ``root``: each reached through one arc).
    kinds:
        Column kind of every field of the incoming record (``int float bool str num null``
        or anything else for types the kernel cannot read).

    Raises
    ------
    UnsupportedExpressionError
        If anything is outside the compiled subset for these kinds.
    """
    order = _tree_order(states, root)
    # first pass: learn which input fields the code reads; second: load exactly those at the
    # top of the row (so every branch can use them) and emit for real
    dry = _Gen(kinds)
    _emit_state(dry, states, root, (("*", None),), [])
    g = _Gen(kinds)
    for fname in dry.requested:
        g.field(fname)
    exits: list[Exit] = []
    _emit_state(g, states, root, (("*", None),), exits)
    return _assemble(g, exits, name, tuple(order))


def _tree_order(states: dict[str, StateCode], root: str) -> list[str]:
    seen = [root]
    for n in seen:
        st = states[n]
        if not st.is_end:
            seen += [t for t in st.targets if t in states and t not in seen]
    return seen


def _emit_state(g: _Gen, states: dict[str, StateCode], name: str, record: tuple[tuple[str, Any], ...],
                exits: list[Exit]) -> None:
    st = states[name]
    g.cur_state = name
    env = g.env
    if st.transform is not None:
        record = _compose(record, _emit_transform(g, st.transform))

    def leave(kind: str, target: str | None) -> None:
        # records leaving here are written compactly: their position, then each computed field
        k = len(exits)
        c = g.new("c")
        g.w(f"{c} = nc{k + 2}")
        # its position, written here: no pass over per-row exit codes afterwards
        g.w(f"x{k}p[{c}] = i")
        outs: list[tuple[str, str, bool]] = []
        rec: list[tuple[str, Any]] = []
        for fname, src in record:
            if src is not None and src[0] == "computed":
                val = g.computed[src[1]]
                t = len(outs)
                nullable = val.may_be_none and val.nn not in g.facts
                outs.append((fname, src[2], nullable))
                if nullable:
                    g.w(f"x{k}n{t}[{c}] = not {val.nn}")
                if src[2] == "num":
                    # int-or-float: one flag byte, then the value in one 8-byte slot (the int and
                    # float arguments are two views of one buffer): 9 bytes per row, not 17
                    g.w(f"x{k}q{t}[{c}] = {val.isf}")
                    with g.block(f"if {val.isf}"):
                        g.w(f"x{k}f{t}[{c}] = {val.vf}")
                    with g.block("else"):
                        g.w(f"x{k}i{t}[{c}] = {val.vi}")
                else:
                    g.w(f"x{k}v{t}[{c}] = {val.v}")
                src = ("computed", t, src[2])
            rec.append((fname, src))
        g.w(f"nc{k + 2} = {c} + np.uint64(1)")
        g.w("break")
        # input fields known not to be null on this path: their outputs need no validity gather
        nonnull = tuple(f for f, v in g.field_vals.items() if not v.may_be_none or v.nn in g.facts)
        exits.append(Exit(kind, name, target, tuple(rec), tuple(outs), nonnull))

    def follow(target: str) -> None:
        if target in states and target != name:
            saved = g.env, g.cur_state
            _emit_state(g, states, target, record, exits)
            g.env, g.cur_state = saved
        else:
            leave("goto", target)

    if st.is_end:
        leave("end", None)
    else:
        for cond, target in zip(st.conditions, st.targets):
            if cond is None:
                follow(target)
                break
            t = g.truth_of(cond)
            with g.block(f"if {t}"):
                follow(target)
        else:
            g.cur_state = name
            g.fail("NoArcMatched", f"no arc from state {name!r} matched")
    g.env = env


def _assemble(g: _Gen, exits: list[Exit], name: str, order: tuple[str, ...]) -> StateKernelSource:
    params = ["m", "cnt", "fpos", "ferr", "ferra", "epos", "lits"]
    for j, (_, kind) in enumerate(g.field_order):
        if kind == "null":
            continue
        params += [f"ix{j}", f"hv{j}", f"va{j}"]
        params += [f"dq{j}", f"di{j}", f"df{j}"] if kind == "num" else [f"d{j}"]
    for k, ex in enumerate(exits):
        params.append(f"x{k}p")
        for t, (_, rep, nullable) in enumerate(ex.outputs):
            if nullable:
                params.append(f"x{k}n{t}")
            params += [f"x{k}q{t}", f"x{k}i{t}", f"x{k}f{t}"] if rep == "num" else [f"x{k}v{t}"]
    params += [f"so{j}" for j in range(len(g.str_ops))]
    params += [f"se{j}" for j in range(len(g.str_ops))]
    body = "\n".join(g.lines)
    src = (
        HEADER
        + "import math\nimport numpy as np\nfrom kernels._jit import jit\nfrom kernels.arith import *\n\n\n"
        + f"@jit\ndef {name}({', '.join(params)}):\n"
        + "".join(f"    nc{k} = np.uint64(0)\n" for k in range(len(exits) + 2))
        + "    for i in range(m):\n"
        + "        while True:\n"
        + (body + "\n" if body else "")
        + "".join(f"    cnt[{k}] = np.int64(nc{k})\n" for k in range(len(exits) + 2))
        + "    return 0\n"
    )
    return StateKernelSource(
        source=src,
        fields=tuple(g.field_order),
        exits=tuple(exits),
        sites=tuple(g.sites),
        lits=tuple(g.lits),
        str_ops=tuple(g.str_ops),
        states=order,
    )
