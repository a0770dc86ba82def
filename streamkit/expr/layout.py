"""What a generated kernel takes and gives, as the runtime reads it.

:class:`StateKernelSource` is the whole contract: the kernel's source, its
argument layout, the places a record can fail, its literals and its
:class:`Exit`\\ s. At each exit, every field of the records leaving there comes
from somewhere (a :data:`FieldSource`): an array the kernel wrote
(:class:`Computed`), a field of the kernel's input (:class:`InputField`), a
literal (:class:`Constant`), or nowhere (:class:`Absent`); :class:`RestOfInput`
stands for the input fields the record keeps without naming them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

from streamkit._typing import ColumnKind, ExitKind, ValueRep
from streamkit.expr.values import Site

__all__ = (
    "Computed",
    "InputField",
    "Constant",
    "Absent",
    "ABSENT",
    "FieldSource",
    "RestOfInput",
    "REST_OF_INPUT",
    "RecordEntry",
    "ExitOutput",
    "Exit",
    "StateKernelSource",
)


@dataclass(frozen=True)
class Computed:
    """A value the kernel computed: output ``index`` of the exit, held as ``rep``.

    (While a kernel is generated, ``index`` counts the values transforms computed
    instead; :func:`~streamkit.expr.kernel.generate_kernel` renumbers them per exit.)
    """

    index: int
    rep: ValueRep


@dataclass(frozen=True)
class InputField:
    """Field ``name`` of the kernel's input record, passed through unchanged."""

    name: str


@dataclass(frozen=True)
class Constant:
    """The same literal for every record (never ``None``: that is :class:`Absent`)."""

    value: bool | int | float | str


@dataclass(frozen=True)
class Absent:
    """No value: the field is not in the record (it hides an input field of that name)."""


#: The :class:`Absent` source (all instances are equal).
ABSENT = Absent()

#: Where one field of a record leaving a kernel comes from.
FieldSource: TypeAlias = Computed | InputField | Constant | Absent


@dataclass(frozen=True)
class RestOfInput:
    """The kernel's input fields that the record's entries do not name, in their input order."""


#: The :class:`RestOfInput` marker (all instances are equal).
REST_OF_INPUT = RestOfInput()

#: One entry of :attr:`Exit.record`: a named field and its source, or the rest of the input.
RecordEntry: TypeAlias = tuple[str, FieldSource] | RestOfInput


class ExitOutput(NamedTuple):
    """A computed field the kernel writes for records leaving at an exit (its arguments, in order).

    A string is written as text (offsets into a byte array, ``text``), or, when it is
    always one of the kernel's literals, as the literal's number (a dictionary code).
    """

    name: str
    rep: ValueRep
    #: whether the kernel writes a validity array for it (the value may be ``None`` there)
    nullable: bool
    #: a string written as text (else a literal's number)
    text: bool = False
    #: an int-or-float field of an end state, whose Arrow type the kernel settles: written as
    #: int64 until its first float, as float64 from then on (the ints before it converted when
    #: the kernel ends), with no per-row flag; the kernel reports where floats began
    settled: bool = False


@dataclass(frozen=True)
class Exit:
    """Where records leave a kernel: an end state (``kind="end"``) or an arc to a state outside it."""

    kind: ExitKind
    state: str
    #: the state the arc leads to (``None`` at an end state)
    target: str | None
    #: the fields of the records leaving here, in record order: a named entry overrides any
    #: earlier one of that name, :data:`REST_OF_INPUT` adds only input fields not named before it
    record: tuple[RecordEntry, ...]
    #: computed fields written for records leaving here, in argument order
    outputs: tuple[ExitOutput, ...] = ()
    #: input fields the kernel read and knows are not null for every record leaving here
    nonnull: tuple[str, ...] = ()


@dataclass
class StateKernelSource:
    """Everything needed to run one kernel: source, argument layout, tables, exits."""

    source: str
    #: (field, column kind) of every input field the kernel reads, in argument order
    fields: tuple[tuple[str, ColumnKind], ...]
    exits: tuple[Exit, ...]
    sites: tuple[Site, ...]
    #: the kernel's string literals, in order: the runtime passes their UTF-8 bytes one after another
    lits: tuple[str, ...]
    #: how many text outputs the kernel writes (their cursors are one array)
    n_text: int = 0
    #: how many settled outputs it writes (where each one's floats began is one array)
    n_settled: int = 0
    #: the states the kernel runs, root first
    states: tuple[str, ...] = ()
