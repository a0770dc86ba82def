"""Values in generated code, the places a record can fail there, and the string tables it uses.

Every IR node has a set of kinds it may evaluate to, drawn from
``none bool int float str`` (:data:`~streamkit._typing.ValueKind`). A set is
representable in a kernel when, apart from ``none``, it is a single kind or
``{int, float}`` (``num``, held with a tag). Anything else makes the state run
as Python.

This is the bottom of the code generator: every emitter imports it at top
level, and it imports nothing else of :mod:`streamkit.expr`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streamkit._typing import ColumnKind, ValueKind, ValueRep
from streamkit.errors import UnsupportedExpressionError

__all__ = (
    "Val",
    "rep_of",
    "NOCONST",
    "NONE_ONLY",
    "KINDS_OF_COLUMN",
    "Site",
    "SAMPLE",
    "NUMERIC",
    "TWO_POW_53",
    "python_error",
    "python_raises",
    "unsupported",
)

#: The ``const`` of a :class:`Val` whose value is not known when the code is generated.
NOCONST: Any = object()

#: The kinds of a value that is always ``None``.
NONE_ONLY: frozenset[ValueKind] = frozenset({"none"})

#: Column kind (of a frame field) -> kinds its values may have in Python.
KINDS_OF_COLUMN: dict[ColumnKind, frozenset[ValueKind]] = {
    "int": frozenset({"int", "none"}),
    "float": frozenset({"float", "none"}),
    "bool": frozenset({"bool", "none"}),
    "str": frozenset({"str", "none"}),
    "num": frozenset({"int", "float", "none"}),
    "null": NONE_ONLY,
}

#: Magnitude up to which a float holds every int exactly (source text): past it, int/float
#: arithmetic and comparisons escape to Python for an exact answer.
TWO_POW_53 = "9007199254740992"


def rep_of(kinds: frozenset[ValueKind], what: str = "value") -> ValueRep:
    """How a value of these kinds is held: ``none bool int float str num``.

    Raises
    ------
    UnsupportedExpressionError
        If no single representation holds them all (e.g. an int or a str).

    Examples
    --------
    >>> rep_of(frozenset({"int", "none"}))
    'int'
    >>> rep_of(frozenset({"int", "float"}))
    'num'
    """
    base = kinds - NONE_ONLY
    if not base:
        return "none"
    if len(base) == 1:
        return next(iter(base))
    if base == {"int", "float"}:
        return "num"
    msg = f"a {what} that may be any of {', '.join(sorted(kinds))}"
    raise UnsupportedExpressionError(msg, construct=what)


@dataclass
class Val:
    """A value in generated code: source expressions for its parts.

    ``nn`` is true when the value is None; ``v`` holds a single-kind value;
    for ``num`` values ``isf`` tells whether it is a float, ``vi``/``vf`` hold it.
    A string is a span of UTF-8 bytes: ``sb`` names the array (an input field's
    data, ``lb`` the kernel's literals, ``sc`` its per-row scratch space), and
    ``ss``/``se`` its start and end. A string that is always one of the kernel's
    literals lives in ``lb`` and ``lit`` holds which one. ``const`` is the value
    itself when it is a literal (else :data:`NOCONST`).
    """

    kinds: frozenset[ValueKind]
    nn: str = "False"
    v: str = ""
    isf: str = ""
    vi: str = ""
    vf: str = ""
    sb: str = ""
    ss: str = ""
    se: str = ""
    lit: str = ""
    const: Any = field(default=NOCONST)

    @property
    def rep(self) -> ValueRep:
        """How the value is held (see :func:`rep_of`)."""
        return rep_of(self.kinds)

    @property
    def may_be_none(self) -> bool:
        """Whether the value may be ``None``."""
        return "none" in self.kinds

    @property
    def is_const(self) -> bool:
        """Whether the value is a literal, known when the code is generated."""
        return self.const is not NOCONST

    def runtime_kinds(self, known_not_none: frozenset[str] | set[str] = frozenset()) -> list[tuple[str, ValueKind]]:
        """(condition, kind) pairs covering what this value may be at run time.

        ``known_not_none`` holds null flags proven false on the current path.
        """
        out: list[tuple[str, ValueKind]] = []
        may_none = self.may_be_none and self.nn not in known_not_none
        nn = self.nn if may_none else "False"
        if may_none:
            out.append((nn, "none"))
        notnone = f"not {nn}" if may_none and nn != "True" else "True"
        r = self.rep
        if r == "num":
            out.append((f"({notnone}) and not {self.isf}", "int"))
            out.append((f"({notnone}) and {self.isf}", "float"))
        elif r != "none":
            out.append((notnone, r))
        return [(c, k) for c, k in out if c != "False"]


@dataclass(frozen=True)
class Site:
    """A place in generated code where a record can fail: the error type and message.

    ``state`` is the state whose code fails there. (Errors whose message depends on
    the value — ``int('x')`` — are not sites: such rows escape to Python.)
    """

    error_type: str
    message: str
    state: str = ""


#: A sample Python value of each kind, to learn which errors Python raises.
SAMPLE: dict[ValueKind, Any] = {"none": None, "bool": True, "int": 1, "float": 1.0, "str": "a"}

#: The kinds arithmetic accepts.
NUMERIC: tuple[ValueKind, ...] = ("bool", "int", "float")


def python_error(code: str, **values: Any) -> tuple[str, str] | None:
    """(type, message) of the exception Python raises for ``code``, or None if it does not.

    Examples
    --------
    >>> python_error("a + b", a=None, b=1)
    ('TypeError', "unsupported operand type(s) for +: 'NoneType' and 'int'")
    >>> python_error("a + b", a=1, b=1) is None
    True
    """
    try:
        eval(code, {"__builtins__": __builtins__}, values)  # fixed code over sample values
    except Exception as exc:  # noqa: BLE001 - whatever Python raises is the answer
        return type(exc).__name__, str(exc)
    return None


def python_raises(code: str, **values: Any) -> tuple[str, str]:
    """(type, message) of the exception Python raises for ``code``, which must raise.

    Examples
    --------
    >>> python_raises("1 // 0")
    ('ZeroDivisionError', 'integer division or modulo by zero')
    """
    err = python_error(code, **values)
    assert err is not None, code
    return err


def unsupported(what: str) -> UnsupportedExpressionError:
    """The error for a construct the kernel cannot compile (``what`` names it)."""
    return UnsupportedExpressionError(what, construct=what)
