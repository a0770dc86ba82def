"""Hypothesis strategies for records: typed schemas, edge-case values, lists of records.

Part of the differential-test generators (:mod:`strategies` builds networks and
expressions over these schemas). Every field of an example has one kind across
all records; nulls are frequent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

__all__ = (
    "INPUT_FIELDS",
    "DERIVED_FIELDS",
    "KINDS",
    "INT64_MAX",
    "INT64_MIN",
    "Schema",
    "schemas",
    "values",
    "records",
    "record_sets",
)

#: Fields records may carry on input.
INPUT_FIELDS = ("id", "a", "b", "c", "d")
#: Fields only transforms create (reading them before they are set gives None).
DERIVED_FIELDS = ("y", "z", "t", "n")
#: The kinds of value a field can hold (besides null).
KINDS = ("int", "float", "bool", "str")

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

#: Interesting integers: zero, signs, int64 edges, and squares' roots near overflow.
_EDGE_INTS = (
    0,
    1,
    -1,
    2,
    3,
    5,
    7,
    10,
    -5,
    100,
    999,
    1001,
    5000,
    5001,
    -1000,
    2**31,
    3037000499,
    3037000500,
    -3037000500,
    2**62,
    -(2**62),
    2**62 + 1,
    2**63 - 2,
    INT64_MAX,
    INT64_MIN,
    INT64_MIN + 1,
)
#: Interesting floats: signed zeros, nan, infinities, tiny and huge magnitudes.
_EDGE_FLOATS = (
    0.0,
    -0.0,
    0.5,
    1.5,
    -2.5,
    3.0,
    0.1,
    1000.5,
    5000.0,
    -7.25,
    math.nan,
    math.inf,
    -math.inf,
    5e-324,
    1e-300,
    -1e-12,
    1e300,
    -1e300,
    1.7976931348623157e308,
    2.0**62,
    2.0**63,
    -(2.0**63),
)
#: Short strings: empty, case pairs, unicode whose case mapping changes length,
#: numeric-looking text for casts, whitespace for strip().
_EDGE_STRS = (
    "",
    "a",
    "A",
    "b",
    "ab",
    "Ab",
    "abc",
    "ba",
    "aa",
    "ß",
    "straße",
    "É",
    "é",
    "Éa",
    " a ",
    "a b",
    "12",
    " 7 ",
    "-3",
    "1.5",
    "1e3",
    "nan",
    "inf",
    "None",
    "True",
    "0",
    "JFK",
    "a,b,,c",
    " x\ty ",
    "\xa0a\u2003",
    "日本",
    "😀x",
    "ǅa",
    "İ",
    "ﬁne",
    "1_000",
    "+5",
    "0.25",
)


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class Schema:
    """The kind of every field of one example.

    Attributes
    ----------
    kinds:
        field -> kind (one of :data:`KINDS`) for input and derived fields.
    """

    kinds: Mapping[str, str]

    def of_kind(self, kind: str, *, inputs: bool = True) -> list[str]:
        """Fields of ``kind``: input fields, or derived ones when ``inputs`` is false."""
        pool = INPUT_FIELDS if inputs else DERIVED_FIELDS
        return [f for f in pool if self.kinds.get(f) == kind]

    def arrow_types(self) -> dict[str, Any]:
        """Input field -> pyarrow type, for building tables with a fixed schema."""
        import pyarrow as pa

        by_kind = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}
        return {f: by_kind[self.kinds[f]] for f in INPUT_FIELDS}


@st.composite
def schemas(draw: Callable[..., Any]) -> Schema:
    """A random :class:`Schema`: ``id`` and ``n`` are ints, the rest random."""
    kinds = {"id": "int", "n": "int", "t": "str"}
    for f in ("a", "b", "c", "d", "y", "z"):
        kinds[f] = draw(st.sampled_from(KINDS))
    return Schema(kinds)


# --------------------------------------------------------------------------- values and records


def values(kind: str) -> st.SearchStrategy[Any]:
    """Non-null values of ``kind``, biased toward edge cases."""
    if kind == "int":
        return st.one_of(
            st.sampled_from(_EDGE_INTS),
            st.integers(-1000, 1000),
            st.integers(INT64_MIN, INT64_MAX),
        )
    if kind == "float":
        return st.one_of(
            st.sampled_from(_EDGE_FLOATS),
            st.floats(-1e4, 1e4),
            st.floats(allow_nan=True, allow_infinity=True),
        )
    if kind == "bool":
        return st.booleans()
    if kind == "str":
        return st.one_of(
            st.sampled_from(_EDGE_STRS),
            st.text(alphabet="abAB ßÉé1", max_size=4),
            st.text(alphabet="aZ09 ,._-\t日😀ßΣ\xa0", max_size=8),
        )
    msg = f"unknown kind {kind!r}"
    raise ValueError(msg)


@st.composite
def _record(draw: Callable[..., Any], schema: Schema, null_rate: int) -> dict[str, Any]:
    """One record: each input field present, None, or missing (key absent)."""
    rec: dict[str, Any] = {}
    for f in INPUT_FIELDS:
        roll = draw(st.integers(0, 99))
        if roll < null_rate // 2:
            continue  # key absent
        if roll < null_rate:
            rec[f] = None
        else:
            rec[f] = draw(values(schema.kinds[f]))
    return rec


def records(schema: Schema, *, min_size: int = 1, max_size: int = 20) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Lists of records over :data:`INPUT_FIELDS` that respect ``schema``.

    The size is drawn uniformly (hypothesis alone favours one-record lists).
    Nulls are frequent: per example a null rate of 0-50% is drawn (mostly
    5-20%), half of the nulls as a missing key and half as an explicit ``None``.
    """

    @st.composite
    def build(draw: Callable[..., Any]) -> list[dict[str, Any]]:
        rate = draw(st.sampled_from((0, 5, 10, 20, 20, 35, 50)))
        size = draw(st.integers(min_size, max_size))
        return draw(st.lists(_record(schema, rate), min_size=size, max_size=size))

    return build()


def record_sets(
    schema: Schema, *, max_sets: int = 3, max_size: int = 20
) -> st.SearchStrategy[list[list[dict[str, Any]]]]:
    """One to ``max_sets`` record lists for the same network."""
    return st.lists(records(schema, max_size=max_size), min_size=1, max_size=max_sets)
