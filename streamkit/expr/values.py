"""Static types of generated values and how they are held in kernel locals.

Every IR node has a set of kinds it may evaluate to, drawn from
``none bool int float str``. A set is representable in a kernel when, apart
from ``none``, it is a single kind or ``{int, float}`` (``num``, held with a
tag). Anything else makes the state run as Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streamkit.errors import UnsupportedExpressionError

__all__ = ("Val", "rep_of", "KINDS_OF_COLUMN", "PY_TYPE_NAME", "NOCONST", "Site", "python_error", "SAMPLE", "NUMERIC", "unsupported")

NOCONST = object()

#: Column kind (of a frame field) -> kinds its values may have in Python.
KINDS_OF_COLUMN: dict[str, frozenset[str]] = {
    "int": frozenset({"int", "none"}),
    "float": frozenset({"float", "none"}),
    "bool": frozenset({"bool", "none"}),
    "str": frozenset({"str", "none"}),
    "num": frozenset({"int", "float", "none"}),
    "null": frozenset({"none"}),
}

PY_TYPE_NAME = {"none": "NoneType", "bool": "bool", "int": "int", "float": "float", "str": "str"}


def rep_of(kinds: frozenset[str], what: str = "value") -> str:
    """How a value of these kinds is held: ``none bool int float str num``."""
    base = kinds - {"none"}
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
    Strings are int64 codes into the call's string table.
    """

    kinds: frozenset[str]
    nn: str = "False"
    v: str = ""
    isf: str = ""
    vi: str = ""
    vf: str = ""
    const: Any = field(default=NOCONST)

    @property
    def rep(self) -> str:
        return rep_of(self.kinds)

    @property
    def may_be_none(self) -> bool:
        return "none" in self.kinds

    @property
    def is_const(self) -> bool:
        return self.const is not NOCONST

    def runtime_kinds(self, known_not_none: frozenset[str] | set[str] = frozenset()) -> list[tuple[str, str]]:
        """(condition, kind) pairs covering what this value may be at run time.

        ``known_not_none`` holds null flags proven false on the current path.
        """
        out: list[tuple[str, str]] = []
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

    ``message`` may be a function of the row's error argument (e.g. a string code).
    """

    error_type: str
    message: Any
    state: str = ""


#: A sample Python value of each kind, to learn which errors Python raises.
SAMPLE: dict[str, Any] = {"none": None, "bool": True, "int": 1, "float": 1.0, "str": "a"}
NUMERIC = ("bool", "int", "float")


def python_error(code: str, **values: Any) -> tuple[str, str] | None:
    """(type, message) of the exception Python raises for ``code``, or None if it does not."""
    try:
        eval(code, {"__builtins__": __builtins__}, values)  # noqa: S307 - fixed code, sample values
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__, str(exc)
    return None


def unsupported(what: str) -> UnsupportedExpressionError:
    """The error for a construct the kernel cannot compile."""
    return UnsupportedExpressionError(what, construct=what)
