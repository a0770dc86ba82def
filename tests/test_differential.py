"""Differential tests: the compiled engine must agree with the per-record interpreter.

Random networks (``strategies.cases``) run through both sides via
``differential.compare_many``; targeted networks pin down the tricky parts of
the semantics (short-circuits, None, int64 overflow, step limits, ...). Each
targeted test also asserts what the reference interpreter itself did, so the
reference cannot drift silently either.

Budget: the engine tests generate 560 random networks (280 as lists of
dicts, 2 x 100 as pyarrow tables / polars frames, 50 in safe mode, 30 over
every input kind); 200 more only check that the generators build valid
configs.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from differential import INPUT_KINDS, compare, compare_many, values_equal
from hypothesis import HealthCheck, given, settings
from strategies import COUNTER, Case, cases, config_of, inline

from streamkit.config import load_config
from streamkit.fsm.interpret import interpret

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

SETTINGS: dict[str, Any] = {
    "deadline": None,
    "derandomize": False,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}


# --------------------------------------------------------------------------- random networks


@settings(max_examples=200, **SETTINGS)
@given(case=cases())
def test_strategies_generate_valid_networks(case: Case) -> None:
    """The generators only build configs that validate and that the interpreter runs."""
    cfg = load_config(case.config)
    net = cfg.main
    assert sum(s.is_start for s in net.states) == 1
    assert any(s.is_end for s in net.states)
    for s in net.states:
        assert s.is_end or net.arcs_from(s.name), s.name
    for recs in case.record_sets:
        outs = interpret(case.config, recs, max_steps=case.max_steps)
        assert len(outs) == len(recs)
        assert all(o.status in ("completed", "failed") for o in outs)


@settings(max_examples=280, **SETTINGS)
@given(case=cases())
def test_random_networks_agree_with_interpreter(case: Case) -> None:
    """Lists of dicts through random networks: every record's outcome matches the interpreter."""
    compare_many(case.config, case.record_sets, max_steps=case.max_steps)


@pytest.mark.parametrize("input_kind", ["table", "polars"])
@settings(max_examples=100, **SETTINGS)
@given(case=cases(max_sets=2))
def test_random_networks_columnar_inputs(input_kind: str, case: Case) -> None:
    """The same records as a pyarrow Table / polars DataFrame with a fixed schema."""
    compare_many(
        case.config,
        case.record_sets,
        max_steps=case.max_steps,
        input_kind=input_kind,
        arrow_types=case.schema.arrow_types(),
    )


@settings(max_examples=50, **SETTINGS)
@given(case=cases(max_sets=2))
def test_random_networks_safe_mode(case: Case) -> None:
    """Generated code stays inside the compilable subset, so safe mode accepts and agrees."""
    compare_many(case.config, case.record_sets, max_steps=case.max_steps, allow_python=False)


@settings(max_examples=30, **SETTINGS)
@given(case=cases(max_states=4, max_sets=1))
def test_same_records_every_input_kind(case: Case) -> None:
    """One network and one record set, handed over as list / table / batch / polars frame."""
    for kind in INPUT_KINDS:
        compare(
            case.config,
            case.record_sets[0],
            max_steps=case.max_steps,
            input_kind=kind,
            arrow_types=case.schema.arrow_types(),
        )


# --------------------------------------------------------------------------- helpers for targeted tests


def linear(
    transform: str | None = None, *, condition: str | None = None, end_transform: str | None = None
) -> dict[str, Any]:
    """``start -> [work] -> done``: an optional transform state, an optional condition on its arc."""
    states: list[dict[str, Any]] = [{"name": "start", "is_start": True}]
    arcs: list[dict[str, Any]] = []
    prev = "start"
    if transform is not None:
        states.append({"name": "work", "functions": {"transform": inline(transform)}})
        arcs.append({"from": prev, "to": "work"})
        prev = "work"
    done: dict[str, Any] = {"name": "done", "is_end": True}
    if end_transform is not None:
        done["functions"] = {"transform": inline(end_transform)}
    states.append(done)
    arc: dict[str, Any] = {"from": prev, "to": "done"}
    if condition is not None:
        arc["condition"] = inline(condition)
    arcs.append(arc)
    return config_of(states, arcs)


def branch(condition: str, *, fallback: bool = True) -> dict[str, Any]:
    """``check --condition--> yes``, else (with ``fallback``) ``check --> no``.

    Without ``fallback`` there is no ``no`` state: a false condition is NoArcMatched.
    """
    states = [{"name": "check", "is_start": True}, {"name": "yes", "is_end": True}]
    arcs: list[dict[str, Any]] = [{"from": "check", "to": "yes", "condition": inline(condition)}]
    if fallback:
        states.append({"name": "no", "is_end": True})
        arcs.append({"from": "check", "to": "no"})
    return config_of(states, arcs)


def summary(outcomes: list[Any]) -> list[Any]:
    """End state for completed records, error type for failed ones."""
    return [o.end_state if o.status == "completed" else o.error_type for o in outcomes]


def field(outcomes: list[Any], name: str) -> list[Any]:
    """One output field per record (``'FAILED'`` for failed records)."""
    return [o.data.get(name) if o.status == "completed" else "FAILED" for o in outcomes]


# --------------------------------------------------------------------------- targeted semantics


def test_and_short_circuits() -> None:
    """``x is not None and x > 0`` never compares None; ``and``/``or`` stop at the deciding operand."""
    outs = compare(
        branch("state.data['x'] is not None and state.data['x'] > 0"), [{"x": None}, {}, {"x": 5}, {"x": -1}, {"x": 0}]
    )
    assert summary(outs) == ["no", "no", "yes", "no", "no"]
    outs = compare(
        linear("{**state.data, 'v': state.data['x'] and 10 // state.data['x']}"), [{"x": 0}, {"x": 3}, {"x": None}]
    )
    assert field(outs, "v") == [0, 3, None]
    outs = compare(linear("{**state.data, 'v': state.data['x'] or 1 // state.data['x']}"), [{"x": 0}, {"x": 3}])
    assert summary(outs) == ["ZeroDivisionError", "done"]
    outs = compare(branch("False and 1 / 0"), [{"x": 1}])
    assert summary(outs) == ["no"]


def test_and_or_return_operands() -> None:
    """``and``/``or`` give back an operand, not a bool."""
    cfg = linear("{**state.data, 'o': state.data['s'] or 'empty', 'a': state.data['x'] and state.data['y']}")
    outs = compare(cfg, [{"s": "", "x": 2, "y": 7}, {"s": "ab", "x": 0, "y": 7}, {"x": 3}])
    assert field(outs, "o") == ["empty", "ab", "empty"]
    assert field(outs, "a") == [7, 0, None]


def test_none_equality_is_false_not_an_error() -> None:
    """``None == 3`` is False and ``None != 3`` is True."""
    outs = compare(
        linear("{**state.data, 'eq': state.data['x'] == 3, 'ne': state.data['x'] != 3}"), [{"x": None}, {"x": 3}, {}]
    )
    assert field(outs, "eq") == [False, True, False]
    assert field(outs, "ne") == [True, False, True]


def test_none_ordering_is_a_type_error() -> None:
    """``None < 3`` raises TypeError in the state whose condition compares."""
    outs = compare(branch("state.data['x'] < 3"), [{"x": None}, {"x": 1}, {}, {"x": 9}])
    assert summary(outs) == ["TypeError", "yes", "TypeError", "no"]
    assert outs[0].error_state == "check"


def test_str_int_ordering_is_a_type_error() -> None:
    """``'a' < 1`` raises TypeError; ``'a' == 1`` is just False."""
    outs = compare(branch("state.data['s'] < 1"), [{"s": "a"}, {"s": ""}])
    assert summary(outs) == ["TypeError", "TypeError"]
    outs = compare(branch("state.data['s'] == 1"), [{"s": "a"}])
    assert summary(outs) == ["no"]


@pytest.mark.parametrize("op", ["/", "//", "%"])
def test_division_by_zero(op: str) -> None:
    """Int and float division by zero (``1/0``, ``1.0/0.0``) fail with ZeroDivisionError."""
    cfg = linear(f"{{**state.data, 'q': state.data['x'] {op} state.data['y']}}")
    outs = compare(cfg, [{"x": 1, "y": 0}, {"x": 7, "y": 2}, {"x": -7, "y": 2}])
    assert summary(outs)[0] == "ZeroDivisionError"
    outs = compare(cfg, [{"x": 1.0, "y": 0.0}, {"x": 1.0, "y": -0.0}, {"x": 7.5, "y": 2.0}, {"x": -7.5, "y": 2.0}])
    assert summary(outs)[:2] == ["ZeroDivisionError", "ZeroDivisionError"]
    outs = compare(linear(f"{{**state.data, 'q': 1 {op} 0}}"), [{"x": 1}])
    assert summary(outs) == ["ZeroDivisionError"]


def test_int64_overflow() -> None:
    """Where Python would make a big integer, the record fails with OverflowError (intermediates too)."""
    outs = compare(linear("{**state.data, 'y': state.data['x'] * 4}"), [{"x": 2**62}, {"x": 2**60}, {"x": -(2**61)}])
    assert summary(outs) == ["OverflowError", "done", "done"]
    outs = compare(linear("{**state.data, 'y': (2**62) * 4}"), [{"x": 1}])
    assert summary(outs) == ["OverflowError"]
    # 2**62 + 2**62 overflows although subtracting 1 would bring it back into range
    outs = compare(linear("{**state.data, 'y': state.data['x'] + state.data['x'] - 1}"), [{"x": 2**62}, {"x": 2**61}])
    assert summary(outs) == ["OverflowError", "done"]
    outs = compare(linear("{**state.data, 'y': state.data['x'] ** 2}"), [{"x": 3037000500}, {"x": 3037000499}])
    assert summary(outs) == ["OverflowError", "done"]


def test_int_power_is_exact() -> None:
    """``int ** int`` stays an exact int64 (no detour through float above 2**53)."""
    outs = compare(
        linear("{**state.data, 'p1': state.data['x'] ** 1, 'p0': state.data['x'] ** 0}"),
        [{"x": 2**63 - 2}, {"x": 2**53 + 1}, {"x": -(2**62) - 1}, {"x": 0}],
    )
    assert field(outs, "p1") == [2**63 - 2, 2**53 + 1, -(2**62) - 1, 0]
    assert field(outs, "p0") == [1, 1, 1, 1]
    outs = compare(
        linear("{**state.data, 'p': state.data['x'] ** 3}"), [{"x": 2000001}, {"x": -2000001}, {"x": 2097152}]
    )
    assert field(outs, "p") == [2000001**3, -(2000001**3), "FAILED"]
    assert summary(outs)[2] == "OverflowError"


def test_negation_overflow() -> None:
    """``-x`` and ``abs(x)`` of int64's minimum overflow; one above it does not."""
    cfg = linear("{**state.data, 'y': -state.data['x']}")
    outs = compare(cfg, [{"x": INT64_MIN}, {"x": INT64_MIN + 1}, {"x": INT64_MAX}])
    assert summary(outs) == ["OverflowError", "done", "done"]
    outs = compare(linear("{**state.data, 'y': abs(state.data['x'])}"), [{"x": INT64_MIN}, {"x": INT64_MIN + 1}])
    assert summary(outs) == ["OverflowError", "done"]


def test_round() -> None:
    """``round(nan)`` is ValueError, ``round(inf)`` OverflowError; halves round to even."""
    cfg = linear("{**state.data, 'r': round(state.data['f'])}")
    outs = compare(cfg, [{"f": math.nan}, {"f": math.inf}, {"f": 2.5}, {"f": -0.5}, {"f": 1e300}, {"f": 3.5}])
    assert summary(outs)[:2] == ["ValueError", "OverflowError"]
    assert field(outs, "r")[2:] == [2, 0, "FAILED", 4]


def test_no_arc_matched() -> None:
    """A record whose every arc condition is false fails with NoArcMatched in that state."""
    outs = compare(branch("state.data['x'] > 0", fallback=False), [{"x": 1}, {"x": -1}, {"x": 0}])
    assert summary(outs) == ["yes", "NoArcMatched", "NoArcMatched"]
    assert outs[1].error_state == "check"


def test_step_limit_exceeded() -> None:
    """A cycle without exit fails with StepLimitExceeded; a counter loop exits and completes."""
    states = [{"name": "a", "is_start": True}, {"name": "b"}, {"name": "out", "is_end": True}]
    arcs = [
        {"from": "a", "to": "b"},
        {"from": "b", "to": "out", "condition": inline("state.data['x'] > 0")},
        {"from": "b", "to": "a"},
    ]
    outs = compare(config_of(states, arcs), [{"x": 1}, {"x": -1}, {"x": None}, {"x": 2}], max_steps=20)
    assert summary(outs) == ["out", "StepLimitExceeded", "TypeError", "out"]

    states = [
        {"name": "in", "is_start": True},
        {"name": "loop", "functions": {"transform": inline(COUNTER)}},
        {"name": "out", "is_end": True},
    ]
    arcs = [
        {"from": "in", "to": "loop"},
        {"from": "loop", "to": "out", "condition": inline("state.data['n'] >= 3")},
        {"from": "loop", "to": "loop"},
    ]
    outs = compare(config_of(states, arcs), [{"x": 1}, {"n": 10}, {"n": -30}], max_steps=20)
    assert summary(outs) == ["out", "out", "StepLimitExceeded"]
    assert field(outs, "n")[:2] == [3, 11]


def test_priority_then_declaration_order() -> None:
    """Arcs are tried by priority (higher first), then in declaration order."""
    states = [{"name": "s", "is_start": True}] + [{"name": n, "is_end": True} for n in ("p0", "p5", "q5", "low")]
    arcs = [
        {"from": "s", "to": "p0", "condition": inline("state.data['x'] > 0")},
        {"from": "s", "to": "p5", "condition": inline("state.data['x'] > 10"), "priority": 5},
        {"from": "s", "to": "q5", "condition": inline("state.data['x'] > 5"), "priority": 5},
        {"from": "s", "to": "low", "priority": -1},
    ]
    outs = compare(config_of(states, arcs), [{"x": 20}, {"x": 7}, {"x": 1}, {"x": 0}])
    assert summary(outs) == ["p5", "q5", "p0", "low"]


def test_condition_truthiness() -> None:
    """Conditions are judged by truthiness: nan is true; 0.0, -0.0, '' and None are false."""
    outs = compare(branch("state.data['f']"), [{"f": math.nan}, {"f": 0.0}, {"f": -0.0}, {"f": 1e-300}, {}])
    assert summary(outs) == ["yes", "no", "no", "yes", "no"]
    outs = compare(branch("state.data['s']"), [{"s": ""}, {"s": " "}, {"s": None}])
    assert summary(outs) == ["no", "yes", "no"]
    outs = compare(
        branch("state.data['x'] and state.data['s']"), [{"x": 1, "s": "a"}, {"x": 0, "s": "a"}, {"x": 2, "s": ""}]
    )
    assert summary(outs) == ["yes", "no", "no"]


def test_chained_comparison_and_tiers() -> None:
    """Chained comparisons and the seed's tiered string literal."""
    cfg = linear(
        "{**state.data, 'tier': 'high' if state.data['v'] > 5000 else 'medium' if state.data['v'] > 1000 "
        "else 'low', 'mid': 0 < state.data['v'] <= 1000}"
    )
    outs = compare(cfg, [{"v": 6000}, {"v": 1001}, {"v": 1000}, {"v": 0}, {"v": -5.5}, {"v": math.nan}])
    assert field(outs, "tier") == ["high", "medium", "low", "low", "low", "low"]
    assert field(outs, "mid") == [False, False, True, False, False, False]


def test_spread_default_and_dropping_fields() -> None:
    """``{'x': 0, **state.data}`` keeps 0 only when x is null; a dict without the spread drops fields."""
    cfg = linear("{'x': 0, **state.data}", end_transform="{'id': state.data['id'], 'x2': state.data['x'] * 2}")
    outs = compare(cfg, [{"id": 1, "x": 5, "junk": "j"}, {"id": 2, "x": None, "junk": "k"}, {"id": 3}])
    assert [o.data for o in outs] == [{"id": 1, "x2": 10}, {"id": 2, "x2": 0}, {"id": 3, "x2": 0}]
    outs = compare(linear("state.data"), [{"a": 1, "b": None}])
    assert outs[0].data == {"a": 1}


def test_assigning_null_clears_a_field() -> None:
    """A transform that sets a field to None (or to a null field) removes it: null == missing."""
    outs = compare(linear("{**state.data, 'c': None}"), [{"c": 1.5, "k": 1}, {"k": 2}])
    assert [o.data for o in outs] == [{"k": 1}, {"k": 2}]
    outs = compare(linear("{**state.data, 'b': state.data['y']}"), [{"b": 2}, {"b": 2, "y": 3}])
    assert field(outs, "b") == [None, 3]
    # found by test_random_networks_safe_mode: the same, in states the engine chains into one kernel
    states = [
        {"name": "enrich", "is_end": True, "functions": {"transform": inline("{**state.data, 'b': state.data['y']}")}},
        {"name": "check"},
        {
            "name": "loop",
            "is_start": True,
            "functions": {
                "transform": inline(
                    "{'b': int((not state.data.get('t', (-6)))), 'n': state.data.get('b', (-9)), **state.data}"
                )
            },
        },
        {"name": "error", "is_end": True},
        {"name": "tally"},
    ]
    arcs = [
        {"from": "loop", "to": "check"},
        {"from": "tally", "to": "enrich", "condition": inline("((-5) < state.data['b'] <= 3345)")},
        {"from": "loop", "to": "error", "condition": inline("state.data.get('c', float('nan')).startswith('A')")},
        {"from": "check", "to": "tally", "priority": -2},
    ]
    for allow_python in (True, False):
        outs = compare(config_of(states, arcs), [{"id": 161, "b": 2}, {"b": 2, "y": 7}], allow_python=allow_python)
        assert [o.data for o in outs] == [{"n": 2, "id": 161}, {"n": 2, "b": 7, "y": 7}]


def test_string_methods_unicode() -> None:
    """String methods follow Python: 'ß'.upper() is 'SS', 'É'.lower() is 'é'."""
    cfg = linear(
        "{**state.data, 'u': state.data['s'].upper(), 'l': state.data['s'].lower(), "
        "'st': state.data['s'].strip(), 'r': state.data['s'].replace('a', 'b'), "
        "'sw': state.data['s'].startswith('a'), 'ew': state.data['s'].endswith('ß'), "
        "'n': len(state.data['s'])}"
    )
    outs = compare(cfg, [{"s": "ß"}, {"s": "É"}, {"s": " aÉ "}, {"s": ""}, {"s": "straße"}, {"s": None}])
    assert field(outs, "u")[:2] == ["SS", "É"]
    assert field(outs, "l")[:2] == ["ß", "é"]
    assert summary(outs)[-1] == "AttributeError"


def test_casts() -> None:
    """``int``/``float``/``str``/``bool`` casts behave as in Python, errors included."""
    cfg = linear("{**state.data, 'i': int(state.data['s'])}")
    outs = compare(cfg, [{"s": "12"}, {"s": " 7 "}, {"s": "-3"}, {"s": "1.5"}, {"s": ""}, {"s": "ß"}])
    assert field(outs, "i") == [12, 7, -3, "FAILED", "FAILED", "FAILED"]
    assert summary(outs)[3:] == ["ValueError"] * 3
    outs = compare(linear("{**state.data, 'f': float(state.data['s'])}"), [{"s": "1e3"}, {"s": "nan"}, {"s": "x"}])
    assert summary(outs) == ["done", "done", "ValueError"]
    outs = compare(
        linear("{**state.data, 't': str(state.data['f'])}"), [{"f": 3.0}, {"f": 1e16}, {"f": 0.1}, {"f": -0.0}]
    )
    assert field(outs, "t") == ["3.0", "1e+16", "0.1", "-0.0"]
    outs = compare(
        linear("{**state.data, 'i': int(state.data['f'])}"),
        [{"f": -2.7}, {"f": math.nan}, {"f": math.inf}, {"f": 1e19}],
    )
    assert summary(outs) == ["done", "ValueError", "OverflowError", "OverflowError"]
    outs = compare(
        linear("{**state.data, 'b': bool(state.data['s']), 't': str(state.data['x'])}"),
        [{"s": "", "x": True}, {"s": "0", "x": -5}],
    )
    assert field(outs, "b") == [False, True]
    assert field(outs, "t") == ["True", "-5"]


def test_min_max_with_nan_and_mixed_numbers() -> None:
    """``min``/``max`` keep Python's argument-order behaviour with nan and int/float mixes."""
    cfg = linear("{**state.data, 'lo': min(state.data['f'], 1.0), 'hi': max(1.0, state.data['f'], 0.5)}")
    outs = compare(cfg, [{"f": math.nan}, {"f": 2.0}, {"f": -math.inf}])
    assert math.isnan(outs[0].data["lo"]) and outs[0].data["hi"] == 1.0
    outs = compare(linear("{**state.data, 'm': max(state.data['x'], state.data['y'])}"), [{"x": 1, "y": None}])
    assert summary(outs) == ["TypeError"]


def test_transform_must_return_a_mapping() -> None:
    """A transform that returns a non-mapping fails the record with TypeError."""
    outs = compare(linear("state.data['x']"), [{"x": 1}, {"x": None}])
    assert summary(outs) == ["TypeError", "TypeError"]


def test_empty_input() -> None:
    """No records: nothing completes, nothing fails, every output is empty."""
    assert compare(linear("{**state.data, 'y': 1}"), []) == []


SEED_002 = config_of(
    [
        {"name": "input", "is_start": True},
        {
            "name": "validate",
            "functions": {
                "transform": inline(
                    "{**state.data, 'valid': state.data.get('value') is not None and state.data.get('value') >= 0}"
                )
            },
        },
        {
            "name": "enrich",
            "functions": {
                "transform": inline(
                    "{'id': state.data['id'], 'original_value': state.data['value'], "
                    "'doubled_value': state.data['value'] * 2, 'squared_value': state.data['value'] ** 2, "
                    "'category': state.data['category'], 'status': 'enriched'}"
                )
            },
        },
        {
            "name": "categorize",
            "functions": {
                "transform": inline(
                    "{**state.data, 'value_tier': 'high' if state.data['original_value'] > 5000 "
                    "else 'medium' if state.data['original_value'] > 1000 else 'low', 'status': 'processed', "
                    "'risk_score': min(100, state.data['squared_value'] / 100)}"
                )
            },
        },
        {"name": "output", "is_end": True},
        {"name": "error", "is_end": True},
    ],
    [
        {"from": "input", "to": "validate"},
        {"from": "validate", "to": "enrich", "condition": inline("state.data.get('valid', True)")},
        {"from": "validate", "to": "error", "condition": inline("not state.data.get('valid', True)")},
        {"from": "enrich", "to": "categorize"},
        {"from": "categorize", "to": "output"},
    ],
)


@pytest.mark.parametrize("input_kind", INPUT_KINDS)
def test_seed_002_network(input_kind: str) -> None:
    """The seed's streaming network, over every input kind, with edge values."""
    recs = [
        {"id": i, "value": v, "category": c}
        for i, (v, c) in enumerate(
            [(10, "a"), (-1, "b"), (None, "c"), (5001, None), (1001, "ß"), (0, ""), (3037000500, "x"), (2000, "y")]
        )
    ]
    outs = compare(SEED_002, recs, input_kind=input_kind)
    assert summary(outs) == ["output", "error", "error", "output", "output", "output", "OverflowError", "output"]
    assert field(outs, "value_tier")[3:5] == ["high", "medium"]


def test_values_equal() -> None:
    """The comparison rule itself: numeric tolerance, nan, signed zero, strict bools."""
    assert values_equal(1, 1.0) and values_equal(-0.0, 0.0) and values_equal(math.nan, math.nan)
    assert values_equal(math.inf, math.inf) and not values_equal(math.inf, -math.inf)
    assert values_equal(1.0, 1.0 + 1e-12) and not values_equal(1.0, 1.0 + 1e-6)
    assert not values_equal(True, 1) and not values_equal(1, "1") and values_equal("ß", "ß")
