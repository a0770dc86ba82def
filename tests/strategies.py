"""Hypothesis strategies for differential tests: random valid FSM networks and records.

Everything here builds plain data in the seed 002 format, so the same value
can be fed to the reference interpreter (:func:`streamkit.fsm.interpret.interpret`)
and to the compiled engine (``SimpleFSM``).

The generators are *typed*: every field of an example has one kind
(``int``, ``float``, ``bool`` or ``str``) across all records, and a transform
only ever writes a field with an expression that yields that kind or None
(ints stay ints, floats stay floats).  Mixed types appear only where Python
does not care (conditions, ``==``, ``and``/``or`` inside conditions, operands
that make a TypeError).  That keeps every output column representable in
Arrow with one type, while nulls (frequent in the inputs),
zero divisors, int64 overflow and the occasional deliberate type mismatch make
records fail often, but not always.

Main entry points
-----------------
:func:`cases`
    a :class:`Case`: one random network plus a few record sets for it.
:func:`schemas`, :func:`records` (from :mod:`strategies_records`), :func:`networks`
    the pieces, for tests that want to combine them differently.
:func:`expressions`
    a single inline expression of a requested kind, over a schema.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from strategies_records import (
    DERIVED_FIELDS,
    INPUT_FIELDS,
    INT64_MAX,
    KINDS,
    Schema,
    record_sets,
    records,
    schemas,
    values,
)

__all__ = (
    "INPUT_FIELDS",
    "DERIVED_FIELDS",
    "KINDS",
    "Schema",
    "Case",
    "schemas",
    "values",
    "records",
    "record_sets",
    "expressions",
    "networks",
    "cases",
    "inline",
    "config_of",
    "COUNTER",
)

#: Literals used inside generated code (kept moderate so results are often valid).
_CODE_INTS = (0, 1, 2, 3, 5, 10, 100, 1000, 5000, -1, -7, 2**62, INT64_MAX, -INT64_MAX)
_CODE_FLOATS = (0.0, 0.5, 1.5, -2.5, 100.0, 1e-9, 1e300, -0.0, math.nan, math.inf)
_CODE_STRS = ("", "a", "A", "b", "ab", "ß", "É", "12", "low", "high", "x", ",", " ", "-", "日")

_STATE_NAMES = (
    "input",
    "validate",
    "enrich",
    "categorize",
    "route",
    "score",
    "check",
    "clean",
    "loop",
    "tally",
    "output",
    "error",
    "done",
    "reject",
    "archive",
)


# --------------------------------------------------------------------------- expressions


def _lit(v: Any) -> str:
    """Source text of a literal value, parenthesized when it has a sign."""
    if isinstance(v, float):
        if math.isnan(v):
            return "float('nan')"
        if math.isinf(v):
            return "float('inf')" if v > 0 else "float('-inf')"
        text = repr(v)
    else:
        text = repr(v)
    return f"({text})" if text.startswith("-") else text


class _Gen:
    """Draws typed expression source over a schema (depth-bounded)."""

    def __init__(self, draw: Callable[..., Any], schema: Schema) -> None:
        self.draw = draw
        self.schema = schema
        self.in_fstring = False

    # -- helpers
    def pick(self, seq: Sequence[Any]) -> Any:
        return self.draw(st.sampled_from(seq))

    def chance(self, percent: int) -> bool:
        return self.draw(st.integers(0, 99)) < percent

    def literal(self, kind: str) -> str:
        if kind == "int":
            return _lit(self.draw(st.one_of(st.sampled_from(_CODE_INTS), st.integers(-20, 20))))
        if kind == "float":
            return _lit(self.pick(_CODE_FLOATS))
        if kind == "bool":
            return self.pick(("True", "False"))
        if kind == "str":
            return _lit(self.pick(_CODE_STRS))
        return "None"

    def field_ref(self, name: str, *, default_percent: int = 25, loose: bool = False) -> str:
        """``state.data['f']``, ``.get('f')`` or (``default_percent`` of the time) ``.get('f', lit)``.

        The default has the field's kind, unless ``loose`` (a context where any
        type will do), where it is sometimes of another kind.
        """
        if self.chance(default_percent):
            kind = self.pick(KINDS) if loose and self.chance(30) else self.schema.kinds[name]
            return f"state.data.get({name!r}, {self.literal(kind)})"
        if self.chance(60):
            return f"state.data[{name!r}]"
        return f"state.data.get({name!r})"

    def leaf(self, kind: str) -> str:
        """A field of ``kind`` (mostly an input field), a literal, or rarely ``None``."""
        loose = kind == "any"
        if loose:
            kind = self.pick(KINDS)
        fields = self.schema.of_kind(kind)
        derived = self.schema.of_kind(kind, inputs=False)
        roll = self.draw(st.integers(0, 99))
        if fields and roll < 70:
            return self.field_ref(self.pick(fields), loose=loose)
        if derived and roll >= 80:  # often not set yet: read it with a default, mostly
            return self.field_ref(self.pick(derived), default_percent=70, loose=loose)
        if roll in (77, 78, 79):
            return "None"
        return self.literal(kind)

    def numeric(self, depth: int, *, allow_str: bool = True) -> str:
        """An int or float operand (rarely a bool, or a str to provoke TypeError)."""
        roll = self.draw(st.integers(0, 99))
        if roll < 50:
            return self.expr("int", depth)
        if roll < 90 or (roll >= 97 and not allow_str):
            return self.expr("float", depth)
        if roll < 97:
            return self.expr("bool", depth)
        return self.expr("str", depth)

    # -- by kind
    def expr(self, kind: str, depth: int) -> str:
        """Source of an expression whose value (when it does not raise) has ``kind`` or is None."""
        if depth <= 0 or self.chance(25):
            return self.leaf(kind)
        d = depth - 1
        if kind == "any":
            if self.chance(15):
                op = self.pick(("and", "or"))
                return f"({self.expr('any', d)} {op} {self.expr('any', d)})"
            return self.expr(self.pick(("bool", "bool", "int", "float", "str")), depth)
        return getattr(self, f"_{kind}")(d)

    def _common(self, kind: str, d: int) -> str | None:
        """Forms every kind has: conditional, and/or, min/max (None if not chosen)."""
        roll = self.draw(st.integers(0, 99))
        if roll < 12:
            cond = self.expr("any", d)
            return f"({self.expr(kind, d)} if {cond} else {self.expr(kind, d)})"
        if roll < 20:
            op = self.pick(("and", "or"))
            return f"({self.expr(kind, d)} {op} {self.expr(kind, d)})"
        if roll < 26 and kind != "bool":
            fn = self.pick(("min", "max"))
            args = ", ".join(self.expr(kind, d) for _ in range(self.pick((2, 2, 3))))
            return f"{fn}({args})"
        return None

    def _int(self, d: int) -> str:
        common = self._common("int", d)
        if common is not None:
            return common
        form = self.pick(("arith", "arith", "arith", "pow", "neg", "abs", "round", "len", "cast"))
        if form == "arith":
            left = self.expr("int", d) if not self.chance(10) else self.expr("bool", d)
            if self.chance(5):  # a TypeError; never `*`, which would repeat the string
                return f"({left} {self.pick(('+', '-', '//'))} {self.expr('str', d)})"
            return f"({left} {self.pick(('+', '-', '*', '//', '%'))} {self.expr('int', d)})"
        if form == "pow":
            exp = self.pick((0, 1, 2, 2, 3, 3)) if not self.chance(10) else self.pick((62, 63, 64, 65))
            return f"({self.expr('int', d)} ** {exp})"
        if form == "neg":
            return f"(-{self.expr('int', d)})"
        if form == "abs":
            return f"abs({self.expr('int', d)})"
        if form == "round":
            return f"round({self.numeric(d)})"
        if form == "len":
            if self.chance(40):
                meth = self.pick(("find", "rfind", "count", "index", "rindex"))
                return f"{self._recv(d)}.{meth}({self.literal('str')})"
            return f"len({self.expr('str', d)})"
        return f"int({self.expr(self.pick(KINDS), d)})"

    def _float(self, d: int) -> str:
        common = self._common("float", d)
        if common is not None:
            return common
        form = self.pick(("arith", "arith", "div", "div", "pow", "neg", "abs", "cast"))
        if form == "arith":
            op = self.pick(("+", "-", "*", "//", "%"))
            # a str operand is a TypeError; but never `str % x` (formatting) or `str * bool` (repetition)
            left, right = self.expr("float", d), self.numeric(d, allow_str=op in ("+", "-", "//"))
            if self.chance(50):
                left, right = right, left
            return f"({left} {op} {right})"
        if form == "div":
            return f"({self.numeric(d)} / {self.numeric(d)})"
        if form == "pow":
            exp = self.pick((0, 1, 2, 3, -1, -2)) if not self.chance(5) else 400
            return f"({self.expr('float', d)} ** {_lit(exp)})"
        if form == "neg":
            return f"(-{self.expr('float', d)})"
        if form == "abs":
            return f"abs({self.expr('float', d)})"
        return f"float({self.expr(self.pick(KINDS), d)})"

    def _bool(self, d: int) -> str:
        common = self._common("bool", d)
        if common is not None:
            return common
        form = self.pick(
            ("cmp", "cmp", "cmp", "chain", "eq_any", "order_any", "is_none", "in", "not", "cast", "strmeth")
        )
        if form == "cmp":
            op = self.pick(("<", "<=", ">", ">=", "==", "!="))
            if self.chance(25):
                return f"({self.expr('str', d)} {op} {self.expr('str', d)})"
            return f"({self.numeric(d)} {op} {self.numeric(d)})"
        if form == "chain":
            lo, hi = sorted((self.draw(st.integers(-10, 10)), self.draw(st.integers(-10, 6000))))
            op1, op2 = self.pick(("<", "<=")), self.pick(("<", "<="))
            return f"({_lit(lo)} {op1} {self.numeric(d)} {op2} {_lit(hi)})"
        if form == "eq_any":
            op = self.pick(("==", "!="))
            return f"({self.expr('any', d)} {op} {self.expr('any', d)})"
        if form == "order_any":  # often a TypeError ('a' < 1, None < 3)
            op = self.pick(("<", ">="))
            return f"({self.expr('any', d)} {op} {self.expr('any', d)})"
        if form == "is_none":
            name = self.pick(INPUT_FIELDS + DERIVED_FIELDS)
            target = self.field_ref(name) if not self.chance(20) else self.expr(self.pick(KINDS), d)
            if target in ("None", "True", "False") or target[:1].isdigit() or target[:1] in "'\"(-":
                target = f"state.data.get({name!r})"  # `<literal> is None` is a SyntaxWarning
            return f"({target} {self.pick(('is', 'is not'))} None)"
        if form == "in":
            kind = self.pick(KINDS)
            lits = [
                self.literal(self.pick((kind, kind, kind, "int", "str", "none"))) for _ in range(self.pick((1, 2, 3)))
            ]
            lits = [x for x in lits if "float(" not in x] or ["None"]  # only true literals (and no nan)
            coll = self.pick(("tuple", "list", "set"))
            if coll == "tuple":
                body = f"({', '.join(lits)},)"
            elif coll == "list":
                body = f"[{', '.join(lits)}]"
            else:
                body = "{" + ", ".join(lits) + "}"
            return f"({self.expr(kind, d)} {self.pick(('in', 'not in'))} {body})"
        if form == "not":
            return f"(not {self.expr('any', d)})"
        if form == "cast":
            return f"bool({self.expr(self.pick(KINDS), d)})"
        if self.chance(40):
            pred = self.pick(
                (
                    "isdigit",
                    "isalpha",
                    "isalnum",
                    "isspace",
                    "isupper",
                    "islower",
                    "istitle",
                    "isidentifier",
                    "isascii",
                    "isdecimal",
                    "isnumeric",
                )
            )
            return f"{self._recv(d)}.{pred}()"
        if self.chance(30):
            return f"({self.literal('str')} {self.pick(('in', 'not in'))} {self.expr('str', d)})"
        meth = self.pick(("startswith", "endswith"))
        return f"{self._recv(d)}.{meth}({self.literal('str')})"

    def _recv(self, d: int) -> str:
        """A receiver for a string method: a str expression (rarely not a str: AttributeError)."""
        recv = self.leaf(self.pick(("int", "float", "bool"))) if self.chance(5) else self.expr("str", d)
        return recv if recv.startswith(("state.", "(")) else f"({recv})"  # `0.upper()` does not parse

    def _str(self, d: int) -> str:
        common = self._common("str", d)
        if common is not None:
            return common
        form = self.pick(("meth", "meth", "meth2", "concat", "cast", "tier", "fstring", "slice", "split"))
        if form == "meth":
            meth = self.pick(("upper", "lower", "strip", "replace", "title", "capitalize", "swapcase", "casefold"))
            args = (
                f"{_lit(self.pick(('a', 'ß', ' ')))}, {_lit(self.pick(('b', 'SS', '')))}" if meth == "replace" else ""
            )
            return f"{self._recv(d)}.{meth}({args})"
        if form == "meth2":
            meth = self.pick(
                ("lstrip", "rstrip", "strip", "zfill", "center", "ljust", "rjust", "removeprefix", "removesuffix")
            )
            if meth in ("lstrip", "rstrip", "strip"):
                args = self.pick(("", "' '", "'ab'", "None", "'-,'"))
            elif meth in ("zfill",):
                args = str(self.pick((0, 3, 6)))
            elif meth in ("center", "ljust", "rjust"):
                fill = self.pick(("", ", '*'", ", '日'"))
                args = f"{self.pick((0, 4, 7))}{fill}"
            else:
                args = self.literal("str")
            return f"{self._recv(d)}.{meth}({args})"
        if form == "fstring" and not self.in_fstring:  # (f-strings do not nest before Python 3.12)
            parts = []
            for _ in range(self.pick((1, 2, 3))):
                if self.chance(40):
                    parts.append(self.pick(("-", " ", "x", "日", "{{")))
                else:
                    kind = self.pick(KINDS)
                    spec = ""
                    if kind in ("int", "bool") and self.chance(40):
                        spec = ":" + self.pick(("02d", ">5", "<3", "^6", "+d", "05", "*>4"))
                    elif kind == "str" and self.chance(40):
                        spec = ":" + self.pick((">5", "<3", "^6", "-<4"))
                    self.in_fstring = True
                    try:
                        parts.append("{" + self.expr(kind, d) + spec + "}")
                    finally:
                        self.in_fstring = False
            return 'f"' + "".join(parts) + '"'
        if form == "slice":  # (a literal that is not a str is not subscripted: Python warns at compile time)
            lo = self.pick(("", "0", "1", "-2", "3"))
            hi = self.pick(("", "2", "-1", "5"))
            recv = self._recv(d)
            if recv[1:2].isdigit() or recv.startswith(("(True", "(False", "(None", "(-", "(float")):
                recv = f"({self.expr('str', d)})"
            if self.chance(30):
                return f"{recv}[{self.pick(('0', '1', '-1', '3'))}]"
            return f"{recv}[{lo}:{hi}]"
        if form == "split":
            sep = self.pick(("','", "'-'", "' '", "", "'ab'"))
            return f"{self._recv(d)}.split({sep})[{self.pick((0, 1, -1, 2))}]"
        if form == "concat":
            right = self.expr("str", d) if not self.chance(5) else self.numeric(d)
            return f"({self.expr('str', d)} + {right})"
        if form == "cast":
            return f"str({self.expr(self.pick(KINDS), d)})"
        v = self.numeric(min(d, 1))
        return f"('high' if {v} > 5000 else 'medium' if {v} > 1000 else 'low')"


def _depth(draw: Callable[..., Any], max_depth: int) -> int:
    """An expression depth up to ``max_depth``, mostly 1 or 2."""
    return min(max_depth, draw(st.sampled_from((0, 1, 1, 2, 2, 2, 3))))


def expressions(schema: Schema, kind: str = "any", max_depth: int = 3) -> st.SearchStrategy[str]:
    """Source of one expression of ``kind`` (``'any'`` for conditions) over ``schema``."""

    @st.composite
    def build(draw: Callable[..., Any]) -> str:
        return _Gen(draw, schema).expr(kind, _depth(draw, max_depth))

    return build()


# --------------------------------------------------------------------------- networks


def inline(body: str) -> dict[str, str]:
    """An inline function spec for ``lambda state: <body>``."""
    return {"type": "inline", "code": f"lambda state: {body}"}


def config_of(states: list[dict[str, Any]], arcs: list[dict[str, Any]], name: str = "main") -> dict[str, Any]:
    """Wrap states and arcs into a seed 002 config with one network."""
    return {
        "name": "Differential",
        "main_network": name,
        "networks": [{"name": name, "states": states, "arcs": arcs}],
    }


COUNTER = "{**state.data, 'n': (state.data.get('n') or 0) + 1}"


def _transform(g: _Gen, max_depth: int) -> str:
    """Source of a transform body: spread, default-if-missing, dropping, or identity."""
    sc = g.schema
    writable = list(INPUT_FIELDS[1:]) + list(DERIVED_FIELDS)

    def assign() -> str:
        f = g.pick(writable)
        return f"{f!r}: {g.expr(sc.kinds[f], _depth(g.draw, max_depth))}"

    form = g.pick(("spread", "spread", "spread", "default", "drop", "identity"))
    if form == "identity":
        return "state.data"
    items = [assign() for _ in range(g.pick((1, 1, 2)))]
    if form == "spread":
        return "{**state.data, " + ", ".join(items) + "}"
    if form == "default":
        return "{" + ", ".join(items) + ", **state.data}"
    return "{'id': state.data['id'], " + ", ".join(items) + "}"


@st.composite
def networks(
    draw: Callable[..., Any],
    schema: Schema,
    *,
    min_states: int = 2,
    max_states: int = 7,
    max_depth: int = 3,
    loops: bool = True,
) -> dict[str, Any]:
    """A random valid config over ``schema``.

    One start state, at least one end state, every state reachable from the
    start (a random spanning tree), every non-end state with an outgoing arc;
    extra random arcs (back arcs make cycles), conditions on most arcs,
    priorities on some. With ``loops``, some networks get a counter loop that
    exits after a few rounds, and some an unconditional cycle that never exits
    (records that reach it hit the step limit).
    """
    g = _Gen(draw, schema)
    n = draw(st.integers(min_states, max_states))
    names = draw(st.permutations(_STATE_NAMES))[:n]
    n_end = draw(st.integers(1, max(1, min(3, n - 1))))
    ends = set(names[n - n_end :])  # n_end < n, so the start state is never an end state
    start = names[0]
    non_end = [s for s in names if s not in ends]

    arcs: list[dict[str, Any]] = []

    def arc(
        src: str, dst: str, *, cond: str | None = None, priority: int | None = None, random_cond: bool = True
    ) -> None:
        a: dict[str, Any] = {"from": src, "to": dst}
        if cond is None and random_cond and g.chance(60):
            cond = g.expr(g.pick(("bool", "bool", "bool", "any")), _depth(draw, max_depth))
        if cond is not None:
            a["condition"] = inline(cond)
        if priority is None and g.chance(25):
            priority = draw(st.integers(-2, 3))
        if priority is not None:
            a["priority"] = priority
        arcs.append(a)

    # spanning tree: each later state hangs off an earlier non-end state
    for j in range(1, n):
        parents = [s for s in names[:j] if s not in ends]
        arc(g.pick(parents), names[j])
    # every non-end state needs an outgoing arc; then a few extra arcs
    for s in non_end:
        if not any(a["from"] == s for a in arcs):
            arc(s, g.pick(names))
    for _ in range(draw(st.integers(0, 3))):
        dst = g.pick(names)
        back = names.index(dst) <= max(names.index(x) for x in non_end)
        arc(g.pick(non_end), dst, cond=g.expr("bool", _depth(draw, max_depth)) if back and g.chance(85) else None)

    transforms: dict[str, str] = {}
    for s in names:
        p = 30 if s in ends else 40 if s == start else 60
        if g.chance(p):
            transforms[s] = _transform(g, max_depth)

    if loops and g.chance(25):  # a counter loop that exits after k rounds
        s = g.pick(non_end)
        k = draw(st.integers(1, 5))
        transforms[s] = COUNTER
        if g.chance(50):
            arc(s, s, cond=f"state.data['n'] < {k}", priority=9)
        else:
            exit_to = g.pick([x for x in names if x != s] or names)
            arc(s, exit_to, cond=f"state.data['n'] >= {k}", priority=9)
            arc(s, s, cond="True" if g.chance(50) else None, priority=8, random_cond=False)
    inner = [x for x in non_end if x != start and transforms.get(x) != COUNTER]
    if loops and inner and g.chance(12):  # a cycle without exit, off the start state
        s = g.pick(inner)
        arc(s, g.pick([x for x in names[: names.index(s) + 1] if x not in ends]), priority=10, random_cond=False)

    arcs = draw(st.permutations(arcs))  # declaration order matters: vary it
    states = []
    for s in names:
        d: dict[str, Any] = {"name": s}
        if s == start:
            d["is_start"] = True
        if s in ends:
            d["is_end"] = True
        if s in transforms:
            d["functions"] = {"transform": inline(transforms[s])}
        states.append(d)
    states = draw(st.permutations(states))
    return config_of(states, arcs)


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One differential example: a network, its schema, record sets and a step limit."""

    config: dict[str, Any]
    schema: Schema
    record_sets: list[list[dict[str, Any]]] = field(default_factory=list)
    max_steps: int = 1000


@st.composite
def cases(
    draw: Callable[..., Any], *, max_states: int = 7, max_sets: int = 3, max_records: int = 20, max_depth: int = 3
) -> Case:
    """A random :class:`Case`; the step limit is small (20-50) in most cases."""
    schema = draw(schemas())
    config = draw(networks(schema, max_states=max_states, max_depth=max_depth))
    sets = draw(record_sets(schema, max_sets=max_sets, max_size=max_records))
    max_steps = draw(st.sampled_from((20, 20, 50, 1000)))
    return Case(config, schema, sets, max_steps)
