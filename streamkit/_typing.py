"""Type aliases: the closed sets of names that travel between streamkit's layers as strings.

Each alias is a ``Literal`` (polars style), so a type checker catches a misspelt
kind, while the values stay plain strings that print, compare and hash as before.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

__all__ = ("ColumnKind", "ValueKind", "ValueRep", "ExitKind")

ColumnKind: TypeAlias = Literal["int", "float", "bool", "str", "num", "null"]
"""The kind of a column a generated kernel can read.

``num`` holds ints and floats side by side (a flag per row says which); ``null``
is a column with no value at all. Columns of any other Arrow type have no kind
here (the fsm layer names them ``other:<type>``), and code reading them runs as Python.
"""

ValueKind: TypeAlias = Literal["none", "bool", "int", "float", "str"]
"""The Python type of one value at run time (``none`` is ``None``)."""

ValueRep: TypeAlias = Literal["none", "bool", "int", "float", "str", "num"]
"""How generated code holds a value that may have several kinds.

A :data:`ValueKind` apart from ``None`` (a null flag beside it holds that), or
``num`` for a value that may be an int or a float; ``none`` for a value that is
always ``None``.
"""

ExitKind: TypeAlias = Literal["end", "goto"]
"""How records leave a generated kernel: at an end state, or along an arc to a state outside it."""
