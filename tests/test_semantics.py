"""The record model (DESIGN.md §2) and the FSM semantics (§3), exactly, through ``SimpleFSM``.

Each test states the exact outcome of every record: status, end state, output
fields, or the failing state, error type and message. Every run is also
checked against the per-record reference interpreter (``streamkit.interpret``)
and for conservation (records in == completed + failed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

from streamkit import SimpleFSM, interpret

pytestmark = pytest.mark.usefixtures("kernel_cache_dir")


# --------------------------------------------------------------------------- helpers


def inline(code: str) -> dict[str, str]:
    return {"type": "inline", "code": code}


def network(states: Sequence[Mapping[str, Any]], arcs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "name": "t",
        "main_network": "main",
        "networks": [{"name": "main", "states": list(states), "arcs": list(arcs)}],
    }


def one_transform(code: str) -> dict[str, Any]:
    """``a`` (start, transform ``code``) -> ``b`` (end)."""
    return network(
        [{"name": "a", "is_start": True, "functions": {"transform": inline(code)}}, {"name": "b", "is_end": True}],
        [{"from": "a", "to": "b"}],
    )


def run(config: dict[str, Any], records: Any, *, check_reference: bool = True, **kwargs: Any) -> list[tuple]:
    """Outcome per input record, in input order.

    ``("completed", end_state, fields)`` with the non-null output fields (null ==
    missing), or ``("failed", state, error_type, message)``.
    """
    fsm = SimpleFSM(config, **kwargs)
    result = fsm.process(records)
    n = (
        len(records)
        if isinstance(records, list)
        else records.shape[0]
        if hasattr(records, "shape")
        else records.num_rows
    )
    assert result.total_records == n == result.successful + result.failed
    assert sum(result.end_state_counts.values()) == result.successful
    by_row: dict[int, tuple] = {}
    for end_state in fsm.end_states:
        rows = result.output(end_state).to_pylist()
        assert len(rows) == result.end_state_counts[end_state]
        for row in rows:
            i = row.pop("_row")
            assert i not in by_row
            by_row[i] = ("completed", end_state, {k: v for k, v in row.items() if v is not None})
    for row in result.errors().to_pylist():
        assert row["_row"] not in by_row
        by_row[row["_row"]] = ("failed", row["error_state"], row["error_type"], row["error_message"])
    assert sorted(by_row) == list(range(n))
    got = [by_row[i] for i in range(n)]
    if check_reference:
        plain = (
            records
            if isinstance(records, list)
            else records.to_pylist()
            if hasattr(records, "to_pylist")
            else records.to_dicts()
        )
        ref = interpret(config, plain, max_steps=kwargs.get("max_steps", 1000), functions=kwargs.get("functions"))
        want = [
            ("completed", o.end_state, o.data)
            if o.status == "completed"
            else ("failed", o.error_state, o.error_type, o.error_message)
            for o in ref
        ]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert same_outcome(g, w), f"engine {g} != interpreter {w}"
    return got


def same_outcome(got: tuple, want: tuple) -> bool:
    """Equal outcomes; numbers compare as numbers (a float column holds Python's int 100 as 100.0)."""
    if got[:2] != want[:2] or len(got) != len(want):
        return False
    if got[0] == "failed":
        return got == want
    g, w = got[2], want[2]
    if g.keys() != w.keys():
        return False
    for k, wv in w.items():
        gv = g[k]
        if isinstance(wv, float) or isinstance(gv, float):
            if not (math.isclose(gv, wv, rel_tol=1e-9) or (math.isnan(gv) and math.isnan(wv))):
                return False
        elif gv != wv or type(gv) is not type(wv):
            return False
    return True


def routes(config: dict[str, Any], records: list[dict[str, Any]], **kwargs: Any) -> list[str]:
    """End state per record, or ``'failed:<ErrorType>'``."""
    return [o[1] if o[0] == "completed" else f"failed:{o[2]}" for o in run(config, records, **kwargs)]


# --------------------------------------------------------------------------- §2 the record model

RECORD_VIEW = """lambda state: {
    'x': state.data['x'],
    'get': state.data.get('x'),
    'get_7': state.data.get('x', 7),
    'has_x': 'x' in state.data,
    'lacks_x': 'x' not in state.data,
    'is_none': state.data['x'] is None,
    'y': state.data['y'],
}"""


@pytest.mark.parametrize("kind", ["null", "missing", "arrow-null", "arrow-no-column", "polars-null"])
def test_missing_and_null_are_the_same(kind: str) -> None:
    data: Any = {
        "null": [{"x": None, "y": 1}],
        "missing": [{"y": 1}],
        "arrow-null": pa.table({"x": pa.array([None], pa.int64()), "y": [1]}),
        "arrow-no-column": pa.table({"y": [1]}),
        "polars-null": pl.DataFrame({"x": [None], "y": [1]}, schema={"x": pl.Int64, "y": pl.Int64}),
    }[kind]
    assert run(one_transform(RECORD_VIEW), data) == [
        ("completed", "b", {"get_7": 7, "has_x": False, "lacks_x": True, "is_none": True, "y": 1})
    ]


def test_present_field_is_seen() -> None:
    assert run(one_transform(RECORD_VIEW), [{"x": 0, "y": 1}]) == [
        ("completed", "b", {"x": 0, "get": 0, "get_7": 0, "has_x": True, "lacks_x": False, "is_none": False, "y": 1})
    ]


def test_field_access_never_raises() -> None:
    code = "lambda state: {'a': state.data['nope'], 'b': state.data.get('nope', 'dflt'), 'c': 'nope' in state.data}"
    assert run(one_transform(code), [{"x": 1}]) == [("completed", "b", {"b": "dflt", "c": False})]


def test_get_default_applies_to_null_and_missing_but_not_falsy_values() -> None:
    code = "lambda state: {'v': state.data.get('x', -1)}"
    records = [{"x": 0}, {"x": None}, {}, {"x": 5}]
    assert run(one_transform(code), records) == [
        ("completed", "b", {"v": 0}),
        ("completed", "b", {"v": -1}),
        ("completed", "b", {"v": -1}),
        ("completed", "b", {"v": 5}),
    ]
    text = "lambda state: {'v': state.data.get('s', 'none')}"
    assert run(one_transform(text), [{"s": ""}, {"s": None}, {"s": "a"}]) == [
        ("completed", "b", {"v": ""}),
        ("completed", "b", {"v": "none"}),
        ("completed", "b", {"v": "a"}),
    ]


def test_in_state_data_routes_on_non_null() -> None:
    config = network(
        [{"name": "a", "is_start": True}, {"name": "has", "is_end": True}, {"name": "lacks", "is_end": True}],
        [
            {"from": "a", "to": "has", "condition": inline("lambda state: 'x' in state.data")},
            {"from": "a", "to": "lacks", "condition": inline("lambda state: 'x' not in state.data")},
        ],
    )
    assert routes(config, [{"x": 0}, {"x": None}, {"y": 1}, {"x": ""}, {"x": False}]) == [
        "has",
        "lacks",
        "lacks",
        "has",
        "has",
    ]


def test_spread_keeps_the_literal_when_the_field_is_null() -> None:
    code = "lambda state: {'x': 0, **state.data}"
    assert run(one_transform(code), [{"x": 5, "y": 1}, {"x": None, "y": 1}, {"y": 1}]) == [
        ("completed", "b", {"x": 5, "y": 1}),
        ("completed", "b", {"x": 0, "y": 1}),
        ("completed", "b", {"x": 0, "y": 1}),
    ]
    late = "lambda state: {**state.data, 'x': 0}"  # a later key always wins
    assert run(one_transform(late), [{"x": 5, "y": 1}, {"y": 1}]) == [
        ("completed", "b", {"x": 0, "y": 1}),
        ("completed", "b", {"x": 0, "y": 1}),
    ]


def test_spread_keeps_the_literal_for_arrow_nulls() -> None:
    table = pa.table({"x": pa.array([5, None], pa.int64()), "y": [1, 2]})
    assert run(one_transform("lambda state: {'x': 0, **state.data}"), table) == [
        ("completed", "b", {"x": 5, "y": 1}),
        ("completed", "b", {"x": 0, "y": 2}),
    ]


def test_len_and_iteration_see_only_fields_with_values() -> None:
    code = "lambda state: {'n': len(state.data), 'keys': ','.join(sorted(state.data))}"
    assert run(one_transform(code), [{"a": 1, "b": None, "c": "x"}, {"a": None, "b": None, "c": None}]) == [
        ("completed", "b", {"n": 2, "keys": "a,c"}),
        ("completed", "b", {"n": 0, "keys": ""}),
    ]


def test_transform_result_is_the_record_from_then_on() -> None:
    config = network(
        [
            {
                "name": "a",
                "is_start": True,
                "functions": {"transform": inline("lambda state: {'y': state.data['x'], 'gone': None}")},
            },
            {
                "name": "m",
                "functions": {
                    "transform": inline(
                        "lambda state: {**state.data, 'had_x': 'x' in state.data, 'had_gone': 'gone' in state.data}"
                    )
                },
            },
            {"name": "b", "is_end": True},
        ],
        [{"from": "a", "to": "m"}, {"from": "m", "to": "b"}],
    )
    assert run(config, [{"x": 1, "w": "dropped"}]) == [("completed", "b", {"y": 1, "had_x": False, "had_gone": False})]


@pytest.mark.parametrize(
    ("code", "type_name"),
    [
        ("state.data['x'] + 1", "int"),
        ("None", "NoneType"),
        ("[1, 2]", "list"),
        ("(1, 2)", "tuple"),
        ("'abc'", "str"),
        ("state.data['x'] > 0", "bool"),
    ],
)
def test_transform_returning_a_non_mapping_fails_with_type_error(code: str, type_name: str) -> None:
    assert run(one_transform(f"lambda state: {code}"), [{"x": 1}]) == [
        ("failed", "a", "TypeError", f"transform must return a mapping, got {type_name}")
    ]


def test_transform_may_return_state_data_itself() -> None:
    assert run(one_transform("lambda state: state.data"), [{"x": 1, "y": None}]) == [("completed", "b", {"x": 1})]


# --------------------------------------------------------------------------- §3 arcs


def two_way(condition: str) -> dict[str, Any]:
    """``a`` -> ``yes`` when ``condition`` is truthy, else -> ``no``."""
    return network(
        [{"name": "a", "is_start": True}, {"name": "yes", "is_end": True}, {"name": "no", "is_end": True}],
        [{"from": "a", "to": "yes", "condition": inline(f"lambda state: {condition}")}, {"from": "a", "to": "no"}],
    )


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("(False, 'reason')", ["yes", "yes"]),  # a non-empty tuple is truthy
        ("(False,)", ["yes", "yes"]),
        ("()", ["no", "no"]),
        ("''", ["no", "no"]),
        ("'False'", ["yes", "yes"]),
        ("0", ["no", "no"]),
        ("0.0", ["no", "no"]),
        ("None", ["no", "no"]),
        ("[]", ["no", "no"]),
        ("state.data['n']", ["no", "yes"]),  # 0 is falsy, 3 truthy
        ("state.data['f']", ["yes", "no"]),  # nan is truthy, 0.0 falsy
        ("state.data['s']", ["no", "yes"]),  # '' falsy
        ("state.data.get('missing')", ["no", "no"]),  # None falsy
    ],
)
def test_condition_truthiness_is_python_truthiness(condition: str, expected: list[str]) -> None:
    records = [{"n": 0, "f": float("nan"), "s": ""}, {"n": 3, "f": 0.0, "s": "x"}]
    assert routes(two_way(condition), records) == expected


def test_tuple_condition_from_a_python_callable_is_truthy() -> None:
    config = network(
        [{"name": "a", "is_start": True}, {"name": "yes", "is_end": True}, {"name": "no", "is_end": True}],
        [{"from": "a", "to": "yes", "condition": "check"}, {"from": "a", "to": "no"}],
    )
    fns = {"check": lambda state: (False, "value too small")}
    assert routes(config, [{"x": 1}], functions=fns) == ["yes"]


def test_arcs_by_priority_then_declaration_order() -> None:
    states = [{"name": "a", "is_start": True}, *({"name": n, "is_end": True} for n in ("d0", "p5", "p5b", "neg", "d1"))]
    arcs = [
        {"from": "a", "to": "d0"},  # priority 0, no condition
        {"from": "a", "to": "p5", "priority": 5, "condition": inline("lambda state: state.data['x'] > 10")},
        {"from": "a", "to": "p5b", "priority": 5, "condition": inline("lambda state: state.data['x'] > 5")},
        {"from": "a", "to": "neg", "priority": -1},  # never: d0 comes first
        {"from": "a", "to": "d1", "condition": inline("lambda state: True")},  # priority 0, after d0
    ]
    assert routes(network(states, arcs), [{"x": 20}, {"x": 7}, {"x": 1}]) == ["p5", "p5b", "d0"]


def test_equal_priorities_keep_declaration_order() -> None:
    states = [{"name": "a", "is_start": True}, {"name": "first", "is_end": True}, {"name": "second", "is_end": True}]
    arcs = [{"from": "a", "to": "first", "priority": 2}, {"from": "a", "to": "second", "priority": 2}]
    assert routes(network(states, arcs), [{"x": 1}]) == ["first"]
    arcs = [{"from": "a", "to": "first", "priority": 1}, {"from": "a", "to": "second", "priority": 2}]
    assert routes(network(states, arcs), [{"x": 1}]) == ["second"]


def test_first_matching_arc_stops_evaluation() -> None:
    """A later condition that would raise is not evaluated once an earlier arc matched."""
    states = [{"name": "a", "is_start": True}, *({"name": n, "is_end": True} for n in ("none", "pos", "other"))]
    is_none = inline("lambda state: state.data['x'] is None")
    positive = inline("lambda state: state.data['x'] > 0")
    config = network(
        states,
        [
            {"from": "a", "to": "none", "condition": is_none},
            {"from": "a", "to": "pos", "condition": positive},
            {"from": "a", "to": "other"},
        ],
    )
    assert routes(config, [{"x": None}, {"x": 1}, {"x": -1}]) == ["none", "pos", "other"]
    # with `pos` tried first, `None > 0` raises before `is None` is tried
    config = network(
        states,
        [
            {"from": "a", "to": "none", "condition": is_none},
            {"from": "a", "to": "pos", "condition": positive, "priority": 1},
            {"from": "a", "to": "other"},
        ],
    )
    assert run(config, [{"x": None}, {"x": 1}]) == [
        ("failed", "a", "TypeError", "'>' not supported between instances of 'NoneType' and 'int'"),
        ("completed", "pos", {"x": 1}),
    ]


def test_no_arc_matched() -> None:
    config = network(
        [{"name": "a", "is_start": True}, {"name": "b", "is_end": True}],
        [{"from": "a", "to": "b", "condition": inline("lambda state: state.data['x'] > 0")}],
    )
    assert run(config, [{"x": 1}, {"x": 0}]) == [
        ("completed", "b", {"x": 1}),
        ("failed", "a", "NoArcMatched", "no arc from state 'a' matched"),
    ]


# --------------------------------------------------------------------------- §3 cycles and the step limit


def counter_loop() -> dict[str, Any]:
    """start -> loop (n += 1) -> loop ... -> done once n >= k; a record visits k + 2 states."""
    return network(
        [
            {"name": "start", "is_start": True},
            {
                "name": "loop",
                "functions": {"transform": inline("lambda state: {**state.data, 'n': state.data.get('n', 0) + 1}")},
            },
            {"name": "done", "is_end": True},
        ],
        [
            {"from": "start", "to": "loop"},
            {"from": "loop", "to": "done", "condition": inline("lambda state: state.data['n'] >= state.data['k']")},
            {"from": "loop", "to": "loop"},
        ],
    )


def test_cycle_with_a_counter() -> None:
    assert run(counter_loop(), [{"k": 3}, {"k": 1}, {"k": 0}, {"k": 100}]) == [
        ("completed", "done", {"k": 3, "n": 3}),
        ("completed", "done", {"k": 1, "n": 1}),
        ("completed", "done", {"k": 0, "n": 1}),
        ("completed", "done", {"k": 100, "n": 100}),
    ]


def test_step_limit_boundary() -> None:
    # k = 3 visits start, loop x3, done: 5 states
    assert run(counter_loop(), [{"k": 3}], max_steps=5) == [("completed", "done", {"k": 3, "n": 3})]
    assert run(counter_loop(), [{"k": 3}], max_steps=4) == [
        ("failed", "done", "StepLimitExceeded", "record visited more than 4 states (a cycle without exit?)")
    ]


def test_step_limit_exceeded_in_a_cycle() -> None:
    assert run(counter_loop(), [{"k": 2}, {"k": 50}], max_steps=10) == [
        ("completed", "done", {"k": 2, "n": 2}),
        ("failed", "loop", "StepLimitExceeded", "record visited more than 10 states (a cycle without exit?)"),
    ]


def test_default_step_limit_is_1000() -> None:
    assert run(counter_loop(), [{"k": 998}, {"k": 999}]) == [
        ("completed", "done", {"k": 998, "n": 998}),
        ("failed", "done", "StepLimitExceeded", "record visited more than 1000 states (a cycle without exit?)"),
    ]


def test_endless_cycle_fails_every_record() -> None:
    config = network(
        [{"name": "a", "is_start": True}, {"name": "b"}, {"name": "end", "is_end": True}],
        [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}, {"from": "b", "to": "end", "priority": -1}],
    )
    # visits: a b a b a b a, then the 8th (b) is one too many
    assert (
        run(config, [{"x": 1}, {"x": 2}], max_steps=7)
        == [("failed", "b", "StepLimitExceeded", "record visited more than 7 states (a cycle without exit?)")] * 2
    )


def test_step_limit_applies_to_acyclic_networks_too() -> None:
    config = network(
        [{"name": "a", "is_start": True}, {"name": "b"}, {"name": "c"}, {"name": "d", "is_end": True}],
        [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}, {"from": "c", "to": "d"}],
    )
    assert run(config, [{"x": 1}], max_steps=2) == [
        ("failed", "c", "StepLimitExceeded", "record visited more than 2 states (a cycle without exit?)")
    ]


# --------------------------------------------------------------------------- §3 failures


@pytest.mark.parametrize(
    ("code", "record", "error_type", "message"),
    [
        ("state.data['x'] * 2", {"x": None}, "TypeError", "unsupported operand type(s) for *: 'NoneType' and 'int'"),
        (
            "state.data['x'] >= 0",
            {"x": None},
            "TypeError",
            "'>=' not supported between instances of 'NoneType' and 'int'",
        ),
        (
            "state.data['x'] + state.data['s']",
            {"x": 1, "s": "a"},
            "TypeError",
            "unsupported operand type(s) for +: 'int' and 'str'",
        ),
        ("state.data['x'] / 0", {"x": 1}, "ZeroDivisionError", "division by zero"),
        ("state.data['f'] / state.data['g']", {"f": 1.0, "g": 0.0}, "ZeroDivisionError", "float division by zero"),
        (
            "state.data['x'] // state.data['z']",
            {"x": 1, "z": 0},
            "ZeroDivisionError",
            "integer division or modulo by zero",
        ),
        ("state.data['x'] % state.data['z']", {"x": 1, "z": 0}, "ZeroDivisionError", "integer modulo by zero"),
        ("state.data['x'] * 4", {"x": 2**62}, "OverflowError", "integer result outside int64"),
        ("-state.data['x']", {"x": -(2**63)}, "OverflowError", "integer result outside int64"),
        ("abs(state.data['x'])", {"x": -(2**63)}, "OverflowError", "integer result outside int64"),
        ("state.data['x'] ** 2", {"x": 3_037_000_500}, "OverflowError", "integer result outside int64"),
        # intermediate: the final value would fit, Python's big integer in between does not
        (
            "state.data['x'] * state.data['x'] // state.data['x']",
            {"x": 2**40},
            "OverflowError",
            "integer result outside int64",
        ),
        ("int(state.data['f'])", {"f": float("nan")}, "ValueError", "cannot convert float NaN to integer"),
        ("int(state.data['f'])", {"f": float("inf")}, "OverflowError", "cannot convert float infinity to integer"),
    ],
)
def test_failures_are_what_python_raises(code: str, record: dict[str, Any], error_type: str, message: str) -> None:
    assert run(one_transform(f"lambda state: {{'v': {code}}}"), [record]) == [("failed", "a", error_type, message)]


def test_float_division_by_zero_is_not_inf() -> None:
    code = "lambda state: {'q': state.data['f'] / state.data['g']}"
    assert run(one_transform(code), [{"f": 1.0, "g": 0.0}, {"f": 1.0, "g": 4.0}, {"f": 0.0, "g": -0.0}]) == [
        ("failed", "a", "ZeroDivisionError", "float division by zero"),
        ("completed", "b", {"q": 0.25}),
        ("failed", "a", "ZeroDivisionError", "float division by zero"),
    ]


def test_int64_bounds_themselves_are_fine() -> None:
    code = "lambda state: {'hi': state.data['x'] - 1 + 1, 'lo': -state.data['x'] - 1}"
    assert run(one_transform(code), [{"x": 2**63 - 1}]) == [("completed", "b", {"hi": 2**63 - 1, "lo": -(2**63)})]


def test_failed_record_keeps_its_input_fields_as_given() -> None:
    config = network(
        [
            {
                "name": "a",
                "is_start": True,
                "functions": {"transform": inline("lambda state: {'x': state.data['x'] + 1, 'tag': 'a'}")},
            },
            {
                "name": "m",
                "functions": {"transform": inline("lambda state: {**state.data, 'inv': 10 // (state.data['x'] - 2)}")},
            },
            {"name": "b", "is_end": True},
        ],
        [{"from": "a", "to": "m"}, {"from": "m", "to": "b"}],
    )
    result = SimpleFSM(config).process([{"x": 1, "keep": "k", "none": None}, {"x": 3, "keep": "k", "none": None}])
    assert result.errors().to_pylist() == [
        {
            "_row": 0,
            "error_state": "m",
            "error_type": "ZeroDivisionError",
            "error_message": "integer division or modulo by zero",
            "x": 1,
            "keep": "k",
            "none": None,
        }
    ]
    assert result.output("b").to_pylist() == [{"_row": 1, "x": 4, "tag": "a", "inv": 5}]


def test_transforms_run_in_start_and_end_states() -> None:
    config = network(
        [
            {
                "name": "a",
                "is_start": True,
                "functions": {"transform": inline("lambda state: {**state.data, 'trail': 'a'}")},
            },
            {
                "name": "b",
                "is_end": True,
                "functions": {"transform": inline("lambda state: {**state.data, 'trail': state.data['trail'] + 'b'}")},
            },
        ],
        [{"from": "a", "to": "b"}],
    )
    assert run(config, [{"x": 1}]) == [("completed", "b", {"x": 1, "trail": "ab"})]


def test_failure_in_an_end_state_transform() -> None:
    config = network(
        [
            {"name": "a", "is_start": True},
            {
                "name": "b",
                "is_end": True,
                "functions": {"transform": inline("lambda state: {'v': 1 / state.data['x']}")},
            },
        ],
        [{"from": "a", "to": "b"}],
    )
    assert run(config, [{"x": 0}, {"x": 2}]) == [
        ("failed", "b", "ZeroDivisionError", "division by zero"),
        ("completed", "b", {"v": 0.5}),
    ]


def test_python_callable_transform_follows_the_same_rules() -> None:
    config = network(
        [{"name": "a", "is_start": True, "functions": {"transform": "f"}}, {"name": "b", "is_end": True}],
        [{"from": "a", "to": "b"}],
    )

    def f(state: Any) -> Any:
        if state.data["x"] == 1:
            return [1]
        if state.data["x"] == 2:
            return {"v": state.data.get("y", "dflt"), "has_y": "y" in state.data}
        raise KeyError("boom")

    assert run(config, [{"x": 1}, {"x": 2, "y": None}, {"x": 3}], functions={"f": f}) == [
        ("failed", "a", "TypeError", "transform must return a mapping, got list"),
        ("completed", "b", {"v": "dflt", "has_y": False}),
        ("failed", "a", "KeyError", "'boom'"),
    ]


# ------------------------------------------------------------- regressions (bugs found while writing these tests)


def test_polars_expression_condition_sees_null_fields() -> None:
    config = network(
        [{"name": "a", "is_start": True}, {"name": "big", "is_end": True}, {"name": "small", "is_end": True}],
        [{"from": "a", "to": "big", "condition": pl.col("x") > 10}, {"from": "a", "to": "small"}],
    )
    result = SimpleFSM(config).process(pl.DataFrame({"x": [1, 20, None]}))
    assert result.errors().num_rows == 0, result.errors().to_pylist()
    assert result.end_state_counts == {"big": 1, "small": 2}  # null > 10 is null: falsy


def test_unstorable_value_fails_only_its_record() -> None:
    config = one_transform("lambda state: {'v': state.data['f'] ** 0.5}")
    result = SimpleFSM(config).process([{"f": 4.0}, {"f": -1.0}])
    assert result.output("b").to_pylist() == [{"_row": 0, "v": 2.0}]
    assert result.errors().select(["_row", "error_state"]).to_pylist() == [{"_row": 1, "error_state": "a"}]


def test_field_set_to_none_before_a_spread_of_a_never_null_field_compiles() -> None:
    # the kernel branch for "field is null" was left empty (an IndentationError in the generated source)
    config = network(
        [
            {
                "name": "a",
                "is_start": True,
                "functions": {
                    "transform": inline("lambda state: {**state.data, 'y': ('' + state.data.get('id', 0).upper())}")
                },
            },
            {
                "name": "b",
                "is_end": True,
                "functions": {"transform": inline("lambda state: {'y': None, **state.data}")},
            },
        ],
        [{"from": "a", "to": "b", "condition": inline("lambda state: (state.data.get('id', 0) < state.data['id'])")}],
    )
    assert [r[0] for r in run(config, [{}, {"id": 3}])] == ["failed", "failed"]
