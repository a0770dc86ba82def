"""One fused kernel for a state and the states reached only through it.

Records run through every fused state in one pass over the rows (each state's
transform, then its conditions in the order arcs are tried; values stay in
registers) and leave at an end state or along an arc to a state outside the
kernel. Each exit's records are written compactly: their positions and their
computed fields.

Kernel signature::

    kernel(m, cnt, fpos, ferr, ferra, epos, lb, sc, tc, sf, <per field: ix, has_valid, valid, data...>,
           <per exit: positions, then per output: null, value...>)

``cnt`` counts failed rows, escaped rows (they need Python for an exact answer,
e.g. a complex result) and the rows of each exit, then per exit 1 if its rows
are the first rows of the batch (its positions ``0 .. count-1`` were then never
written: most batches leave through one exit, and 8 bytes a row are saved);
``fpos``/``ferr``/``ferra`` hold a failed row's position, error site and its
argument, ``epos`` an escaped row's position, and each exit's positions array
the position of every row that left there. Strings are UTF-8 byte spans (see :mod:`kernels.text`): ``lb`` holds
the literals, ``sc`` is scratch space for the text a row builds (its cursor
``scn`` starts at 0 on every row), and a string field's data is
``codes, offsets, bytes`` (codes empty unless the column is dictionary-encoded).
A text output is written as offsets and bytes, with its cursor in ``tc``; when
its bytes run out the kernel returns 1 and the runtime calls it again with more
room. An int-or-float field of an end state is written in its final type
(:attr:`~streamkit.expr.layout.ExitOutput.settled`): ``sf`` gets, per such
field, the exit position of its first float (-1 if none: the field is int64).
:class:`~streamkit.expr.layout.StateKernelSource` describes it all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from streamkit._typing import ExitKind
from streamkit.errors import UnsupportedExpressionError
from streamkit.expr import ir
from streamkit.expr.codegen import HEADER, CodeGen, Env, FieldRef, helper_imports
from streamkit.expr.layout import (
    ABSENT,
    REST_OF_INPUT,
    Computed,
    Constant,
    Exit,
    ExitOutput,
    FieldSource,
    InputField,
    RecordEntry,
    RestOfInput,
    StateKernelSource,
)
from streamkit.expr.ops import Operators
from streamkit.expr.values import Val

__all__ = ("StateCode", "generate_kernel")


@dataclass(frozen=True)
class StateCode:
    """A state as the code generator needs it: IR of its code and its arcs in the order tried."""

    name: str
    is_end: bool
    transform: ir.Node | None
    conditions: tuple[ir.Node | None, ...]
    targets: tuple[str, ...]


@dataclass(frozen=True)
class _Spread:
    """``**state.data`` in a transform's result: the fields of the record before it, not named elsewhere."""


_SPREAD = _Spread()

#: One field of a transform's result, or the spread; sources are in terms of the record
#: before the transform (an :class:`InputField` is a field of that record)
_TransformItem: TypeAlias = tuple[str, FieldSource] | _Spread


def generate_kernel(
    states: dict[str, StateCode], root: str, kinds: dict[str, str], *, name: str = "kernel"
) -> StateKernelSource:
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

    Examples
    --------
    >>> from streamkit.expr.parse import parse_expression
    >>> check = StateCode("check", is_end=False, transform=None,
    ...                   conditions=(parse_expression("lambda state: state.data['x'] > 1"), None),
    ...                   targets=("big", "small"))
    >>> src = generate_kernel({"check": check}, "check", {"x": "int"})
    >>> src.fields
    (('x', 'int'),)
    >>> [(e.kind, e.target, e.record) for e in src.exits]
    [('goto', 'big', (RestOfInput(),)), ('goto', 'small', (RestOfInput(),))]
    >>> src.sites[0].message
    "'>' not supported between instances of 'NoneType' and 'int'"
    """
    order = _tree_order(states, root)
    # first pass: learn which input fields the code reads; second: load exactly those at the
    # top of the row (so every branch can use them) and emit for real
    dry = _Writer(kinds)
    dry.state(states, root, (REST_OF_INPUT,), [])
    w = _Writer(kinds)
    for fname in dry.g.requested:
        w.g.field(fname)
    exits: list[Exit] = []
    w.state(states, root, (REST_OF_INPUT,), exits)
    return _assemble(w.g, exits, name, tuple(order))


def _tree_order(states: dict[str, StateCode], root: str) -> list[str]:
    seen = [root]
    for n in seen:
        st = states[n]
        if not st.is_end:
            seen += [t for t in st.targets if t in states and t not in seen]
    return seen


class _Writer:
    """Emits the states of one kernel: a code generator with every operator installed."""

    def __init__(self, kinds: dict[str, str]) -> None:
        self.g = CodeGen(kinds)
        self.ops = Operators(self.g)

    def state(
        self, states: dict[str, StateCode], name: str, record: tuple[RecordEntry, ...], exits: list[Exit]
    ) -> None:
        """Emit state ``name`` for records described by ``record``, and the fused states after it."""
        g = self.g
        st = states[name]
        g.cur_state = name
        env = g.env
        if st.transform is not None:
            record = _compose(record, self.transform(st.transform))

        def follow(target: str) -> None:
            if target in states and target != name:
                saved = g.env, g.cur_state
                self.state(states, target, record, exits)
                g.env, g.cur_state = saved
            else:
                self.leave("goto", name, target, record, exits)

        if st.is_end:
            self.leave("end", name, None, record, exits)
        else:
            for cond, target in zip(st.conditions, st.targets):
                if cond is None:
                    follow(target)
                    break
                t = self.ops.control.truth_of(cond)
                with g.block(f"if {t}"):
                    follow(target)
            else:
                g.cur_state = name
                g.fail("NoArcMatched", f"no arc from state {name!r} matched")
        g.env = env

    def leave(
        self, kind: ExitKind, state: str, target: str | None, record: tuple[RecordEntry, ...], exits: list[Exit]
    ) -> None:
        """Records leave here: write their position, then each computed field, compactly."""
        g = self.g
        k = len(exits)
        c = g.temp("c")
        g.write(f"{c} = nc{k + 2}")
        # its position, written here (no pass over per-row exit codes afterwards), once the exit
        # is not every row so far: while it is (dn), its positions are 0 .. c-1, written at the first gap
        with g.block(f"if dn{k}"), g.block(f"if {c} != np.uint64(i)"):
            with g.block(f"for t_ in range(np.int64({c}))"):
                g.write(f"x{k}p[t_] = t_")
            g.write(f"dn{k} = False")
            g.write(f"x{k}p[{c}] = i")
        with g.block("else"):
            g.write(f"x{k}p[{c}] = i")
        outs: list[ExitOutput] = []
        rec: list[RecordEntry] = []
        for entry in record:
            if isinstance(entry, RestOfInput):
                rec.append(entry)
                continue
            fname, src = entry
            if not isinstance(src, Computed):
                rec.append(entry)
                continue
            val = g.computed[src.index]
            t = len(outs)
            nullable = val.may_be_none and val.nn not in g.facts
            text = src.rep == "str" and not val.lit
            settled = kind == "end" and src.rep == "num"
            outs.append(ExitOutput(fname, src.rep, nullable, text, settled))
            if nullable:
                g.write(f"x{k}n{t}[{c}] = not {val.nn}")
            if text:  # the bytes, appended to the exit's text; a null is an empty string there
                j = g.n_text
                g.n_text += 1
                r = g.temp("r")
                g.write(
                    f"{r} = tc[{j}] if {val.nn} else t_put(x{k}b{t}, tc[{j}], {val.sb}, {val.ss}, {val.se})"
                    if nullable
                    else f"{r} = t_put(x{k}b{t}, tc[{j}], {val.sb}, {val.ss}, {val.se})"
                )
                with g.block(f"if {r} < 0"):
                    g.write("return 1")  # out of room: the runtime gives more and calls again
                g.write(f"x{k}o{t}[{c} + np.uint64(1)] = {r}")
                g.write(f"tc[{j}] = {r}")
            elif src.rep == "str":  # always a literal: its number
                g.write(f"x{k}v{t}[{c}] = {val.lit}")
            elif settled:
                # ints until the first float, then floats (as Python builds a column of both)
                f = f"ff{len(g.settled)}"
                g.settled.append((f"x{k}i{t}", f"x{k}f{t}"))
                with g.block(f"if {val.isf}"):
                    with g.block(f"if {f} < 0"):
                        g.write(f"{f} = np.int64({c})")
                    g.write(f"x{k}f{t}[{c}] = {val.vf}")
                with g.block(f"elif {f} >= 0"):
                    g.write(f"x{k}f{t}[{c}] = np.float64({val.vi})")
                with g.block("else"):
                    g.write(f"x{k}i{t}[{c}] = {val.vi}")
            elif src.rep == "num":
                # int-or-float: one flag byte, then the value in one 8-byte slot (the int and
                # float arguments are two views of one buffer): 9 bytes per row, not 17
                g.write(f"x{k}q{t}[{c}] = {val.isf}")
                with g.block(f"if {val.isf}"):
                    g.write(f"x{k}f{t}[{c}] = {val.vf}")
                with g.block("else"):
                    g.write(f"x{k}i{t}[{c}] = {val.vi}")
            else:
                g.write(f"x{k}v{t}[{c}] = {val.v}")
            rec.append((fname, Computed(t, src.rep)))
        g.write(f"nc{k + 2} = {c} + np.uint64(1)")
        g.write("break")
        # input fields known not to be null on this path: their outputs need no validity gather
        nonnull = tuple(f for f, v in g.field_vals.items() if not v.may_be_none or v.nn in g.facts)
        exits.append(Exit(kind, state, target, tuple(rec), tuple(outs), nonnull))

    def transform(self, node: ir.Node) -> tuple[_TransformItem, ...]:
        """Emit a transform; return where each field of its result comes from, in record order.

        A :class:`Computed` item's index is into the generator's ``computed`` values.
        """
        g = self.g
        if isinstance(node, ir.Data):
            return (_SPREAD,)
        if not isinstance(node, ir.DictLit):
            msg = "a transform that is not a dict literal"
            raise UnsupportedExpressionError(msg, construct="transform")
        fixed: dict[str, FieldSource] = {}  # fields passed through or constant; the others are computed
        order: list[str | _Spread] = []
        vals: dict[str, Val | FieldRef] = {}
        for key, value in node.items:
            if key is None:
                # a field set before a spread keeps its value only where the input field is null
                for prior in list(vals):
                    inp = g.field(prior)
                    if inp.rep == "none":
                        continue
                    prev = g.deref(vals[prior])
                    kinds = ((inp.kinds - {"none"}) | prev.kinds) if inp.may_be_none else inp.kinds
                    out = g.slot(kinds, (prev, inp))
                    with g.block(f"if {inp.nn}"):
                        g.store(out, prev)
                    with g.block("else"):
                        g.store(out, inp)
                    vals[prior] = out
                    fixed.pop(prior, None)
                if _SPREAD not in order:
                    order.append(_SPREAD)
                continue
            assert value is not None
            if key not in vals:
                order.append(key)
            if isinstance(value, ir.Field):
                # passed through: read only if later code uses it
                vals[key] = FieldRef(g.env, value.name)
                fixed[key] = InputField(value.name)
                continue
            v = g.expr(value)
            if v.is_const:
                fixed[key] = ABSENT if v.const is None else Constant(v.const)
            else:
                fixed.pop(key, None)
            vals[key] = v
        items: list[_TransformItem] = []
        for name in order:
            if isinstance(name, _Spread):
                items.append(name)
                continue
            src = fixed.get(name)
            if src is None:
                val = vals[name]
                assert isinstance(val, Val)  # pass-through fields are always in `fixed`
                rep = val.rep
                if rep == "none":
                    src = ABSENT
                else:
                    src = Computed(len(g.computed), rep)
                    g.computed.append(val)  # written where the record leaves the kernel
            items.append((name, src))
        g.env = Env(vals, _SPREAD in order, g.env)
        return tuple(items)


def _compose(before: tuple[RecordEntry, ...], items: tuple[_TransformItem, ...]) -> tuple[RecordEntry, ...]:
    """The record after a transform with ``items``, given the record ``before`` it (both over the kernel's input)."""
    known: dict[str, FieldSource] = {}
    has_rest = False
    for entry in before:
        if isinstance(entry, RestOfInput):
            has_rest = True
        else:
            known[entry[0]] = entry[1]

    def resolve(field: str) -> FieldSource:
        if field in known:
            return known[field]
        return InputField(field) if has_rest else ABSENT

    out: dict[str | RestOfInput, RecordEntry] = {}
    for item in items:
        if isinstance(item, _Spread):
            for entry in before:
                key = entry if isinstance(entry, RestOfInput) else entry[0]
                if key not in out:
                    out[key] = entry
            continue
        name, src = item
        if isinstance(src, InputField):
            src = resolve(src.name)
        # an absent field stays listed: it must hide the input field of that name
        out[name] = (name, src)
    return tuple(out.values())


def _assemble(g: CodeGen, exits: list[Exit], name: str, order: tuple[str, ...]) -> StateKernelSource:
    params = ["m", "cnt", "fpos", "ferr", "ferra", "epos", "lb", "sc", "tc", "sf"]
    for j, (_, kind) in enumerate(g.field_order):
        if kind == "null":
            continue
        params += [f"ix{j}", f"hv{j}", f"va{j}"]
        if kind == "num":
            params += [f"dq{j}", f"di{j}", f"df{j}"]
        elif kind == "str":
            params += [f"dc{j}", f"do{j}", f"d{j}"]
        else:
            params.append(f"d{j}")
    for k, ex in enumerate(exits):
        params.append(f"x{k}p")
        for t, out in enumerate(ex.outputs):
            rep = out.rep
            if out.nullable:
                params.append(f"x{k}n{t}")
            if out.settled:
                params += [f"x{k}i{t}", f"x{k}f{t}"]
            elif rep == "num":
                params += [f"x{k}q{t}", f"x{k}i{t}", f"x{k}f{t}"]
            elif out.text:
                params += [f"x{k}o{t}", f"x{k}b{t}"]
            else:
                params.append(f"x{k}v{t}")
    body = "\n".join(g.lines)
    src = (
        HEADER
        + "import math\nimport numpy as np\nfrom kernels._jit import jit\n"
        + helper_imports(body)
        + "\n\n"
        + f"@jit\ndef {name}({', '.join(params)}):\n"
        + "".join(f"    nc{k} = np.uint64(0)\n" for k in range(len(exits) + 2))
        + "".join(f"    dn{k} = True\n" for k in range(len(exits)))
        + "".join(f"    ff{j} = np.int64(-1)\n" for j in range(len(g.settled)))
        + "    for i in range(m):\n"
        + "        scn = np.int64(0)\n"
        + "        while True:\n"
        + (body + "\n" if body else "")
        + "".join(_settle(j, ints, floats) for j, (ints, floats) in enumerate(g.settled))
        + "".join(f"    cnt[{k}] = np.int64(nc{k})\n" for k in range(len(exits) + 2))
        + "".join(f"    cnt[{len(exits) + 2 + k}] = 1 if dn{k} else 0\n" for k in range(len(exits)))
        + "    return 0\n"
    )
    return StateKernelSource(
        source=src,
        fields=tuple(g.field_order),
        exits=tuple(exits),
        sites=tuple(g.sites),
        lits=tuple(g.lits),
        n_text=g.n_text,
        n_settled=len(g.settled),
        states=order,
    )


def _settle(j: int, ints: str, floats: str) -> str:
    """After the loop: the rows before settled output ``j``'s first float become floats; ``sf[j]`` says where."""
    return (
        f"    if ff{j} > 0:\n"
        f"        for r_ in range(ff{j}):\n"
        f"            {floats}[r_] = np.float64({ints}[r_])\n"
        f"    sf[{j}] = ff{j}\n"
    )
