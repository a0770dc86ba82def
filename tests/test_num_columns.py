"""Int-or-float fields: the Arrow type and values of an output column are the ones Python's values make.

A field that holds ints on some records and floats on others (``min(100, x / 100)``,
``x if x % 3 else x / 2``) is float64 in the output when any of its non-null
values is a float, with the ints converted as ``float()`` converts them, and
int64 otherwise. The kernel writes such a field of an end state in its final
type (ints until the first float, then floats, the ints before converted at
the end), so these tests put the first float at every kind of position: none,
the first row, the middle, the last row, after nulls, past 2**53, and in chunks
that differ.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamkit import SimpleFSM

pytestmark = pytest.mark.usefixtures("kernel_cache_dir")

_MIXED = "lambda state: {'id': state.data['id'], 'y': state.data['x'] if state.data['x'] % 3 else state.data['x'] / 2}"


def _config(code: str, *, two_routes: bool = False) -> dict[str, Any]:
    transform = {"transform": {"type": "inline", "code": code}}
    if not two_routes:
        states: list[dict[str, Any]] = [
            {"name": "a", "is_start": True, "functions": transform},
            {"name": "done", "is_end": True},
        ]
        arcs: list[dict[str, Any]] = [{"from": "a", "to": "done"}]
    else:  # records reach `done` from two states (two exits of one kernel): the pieces are merged
        odd = {"type": "inline", "code": "lambda state: state.data['id'] % 2 == 1"}
        states = [
            {"name": "a", "is_start": True},
            {"name": "left", "functions": transform},
            {"name": "right", "functions": transform},
            {"name": "done", "is_end": True},
        ]
        arcs = [
            {"from": "a", "to": "left", "condition": odd},
            {"from": "a", "to": "right"},
            {"from": "left", "to": "done"},
            {"from": "right", "to": "done"},
        ]
    return {"name": "n", "main_network": "m", "networks": [{"name": "m", "states": states, "arcs": arcs}]}


def _python_column(values: list[Any]) -> tuple[pa.DataType, list[Any]]:
    """What Python's per-record values make as a column: float64 if any is a float, else int64."""
    if any(isinstance(v, float) for v in values):
        return pa.float64(), [None if v is None else float(v) for v in values]
    return pa.int64(), values


def _expected(xs: list[int | None], code_fn: Any) -> list[Any]:
    return [None if x is None else code_fn(x) for x in xs]


def _mixed(x: int) -> int | float:
    return x if x % 3 else x / 2


def _check(xs: list[int | None], *, chunk_size: int, two_routes: bool = False) -> None:
    table = pa.table({"id": pa.array(range(len(xs)), pa.int64()), "x": pa.array(xs, pa.int64())})
    fsm = SimpleFSM(_config(_MIXED, two_routes=two_routes), chunk_size=chunk_size or None)
    res = fsm.process(table)
    ok = [i for i, x in enumerate(xs) if x is not None]
    out = res.output("done")
    assert res.failed == len(xs) - len(ok)  # None % 3 is a TypeError
    assert out.column("_row").to_pylist() == ok
    if not ok:
        return
    got = out.column("y")
    # per piece (a chunk, or a route's records in it), the column is what Python's values there
    # make; pieces that differ meet under the drift policy: float64 when every int is exact as a
    # float, else a union keeping each value as its piece had it
    bounds = range(0, len(xs), chunk_size) if chunk_size else [0]
    chunks = [list(range(b, min(b + chunk_size, len(xs)) if chunk_size else len(xs))) for b in bounds]
    if two_routes:
        chunks = [[i for i in c if i % 2 == odd] for c in chunks for odd in (0, 1)]
    pieces = []
    for c in chunks:
        rows = [i for i in c if xs[i] is not None]
        if rows:
            t, vals = _python_column(_expected([xs[i] for i in rows], _mixed))
            pieces.append((t, dict(zip(rows, vals))))
    want_type, want = _python_column(_expected([xs[i] for i in ok], _mixed))
    types = {t for t, _ in pieces}
    if len(types) > 1 and any(abs(v) > 2**53 for t, p in pieces if t == pa.int64() for v in p.values()):
        assert pa.types.is_union(got.type)
        want = [next(p[i] for _, p in pieces if i in p) for i in ok]
    else:
        assert got.type == want_type
    values = got.to_pylist()
    assert values == want
    assert [type(v) for v in values] == [type(v) for v in want]


_INTS = st.one_of(
    st.integers(-1000, 1000),
    st.integers(-(2**52), 2**52),
    st.sampled_from([0, 3, 2**53 + 2, 2**53 + 3 + 2, -(2**53) - 2, 2**62 + 1, -(2**62) - 1]),
).filter(lambda x: abs(x) <= 2**53 or x % 3)


@settings(max_examples=150, deadline=None)
@given(xs=st.lists(st.one_of(st.none(), _INTS), max_size=60), chunk_size=st.sampled_from([0, 1, 7, 16]))
def test_mixed_field_matches_python(xs: list[int | None], chunk_size: int) -> None:
    _check(xs, chunk_size=chunk_size)


@pytest.mark.parametrize(
    "xs",
    [
        [1, 2, 4, 5],  # no float: int64
        [3, 1, 2],  # the first row is a float
        [1, 2, 3, 4],  # floats from the middle: the ints before become floats
        [1, 2, 4, 6],  # the last row
        [None, None, 1, 3],  # after nulls
        [2**53 + 2, 2**62 + 1, 9],  # ints beyond 2**53 round as float() rounds them
    ],
)
def test_first_float_positions(xs: list[int | None]) -> None:
    _check(xs, chunk_size=0)


@settings(max_examples=40, deadline=None)
@given(xs=st.lists(_INTS, min_size=1, max_size=40))
def test_field_reached_from_two_routes(xs: list[int]) -> None:
    _check(xs, chunk_size=0, two_routes=True)


def test_seed_risk_score_is_float_with_ints_as_floats() -> None:
    """The seed's ``min(100, squared / 100)`` is 100 (an int) for large values: the column is float64."""
    from examples.seed_network import create_streaming_fsm_config

    t = pa.table({"id": [1, 2, 3], "value": [5, 5000, 50], "category": ["a", "b", "c"]})
    out = SimpleFSM(create_streaming_fsm_config()).process(t).output("output")
    assert out.schema.field("risk_score").type == pa.float64()
    assert out.column("risk_score").to_pylist() == [0.25, 100.0, 25.0]
