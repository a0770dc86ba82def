"""Tests for config validation and building (``streamkit.config.validate.build_config``)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from config_helpers import problems, small
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examples.seed_network import create_streaming_fsm_config
from streamkit.config import ArcConfig, FSMConfig, FunctionSpec, load_config
from streamkit.config.validate import build_config
from streamkit.errors import ConfigError, ConfigProblem

DATA = Path(__file__).parent / "data" / "config"


# -- a valid config builds -----------------------------------------------------


def test_seed_002_config_builds() -> None:
    raw = create_streaming_fsm_config()
    config = build_config(raw, functions={})
    assert isinstance(config, FSMConfig)
    assert config.name == "StreamingProcessor"
    assert config.main_network == "main"
    assert config.raw is raw
    net = config.main
    assert net.name == "main" and net.path == "networks[0]"
    assert [s.name for s in net.states] == ["input", "validate", "enrich", "categorize", "output", "error"]
    assert net.start.name == "input"
    assert [s.name for s in net.states if s.is_end] == ["output", "error"]
    assert [s.path for s in net.states][2] == "networks[0].states[2] 'enrich'"
    assert net.state("input").transform is None
    enrich = net.state("enrich").transform
    assert enrich is not None
    assert enrich.kind == "inline"
    assert enrich.path == "networks[0].states[2] 'enrich'.functions.transform"
    # the code is kept exactly as given, surrounding whitespace and all
    code = raw["networks"][0]["states"][2]["functions"]["transform"]["code"]
    assert enrich.code == code
    assert [(a.source, a.target, a.index, a.priority) for a in net.arcs] == [
        ("input", "validate", 0, 0),
        ("validate", "enrich", 1, 0),
        ("validate", "error", 2, 0),
        ("enrich", "categorize", 3, 0),
        ("categorize", "output", 4, 0),
    ]
    assert net.arcs[1].path == "networks[0].arcs[1] 'validate' -> 'enrich'"
    assert net.arcs[1].condition == FunctionSpec(
        "inline",
        "networks[0].arcs[1] 'validate' -> 'enrich'.condition",
        code="lambda state: state.data.get('valid', True)",
    )
    assert net.arcs[0].condition is None
    assert [a.target for a in net.arcs_from("validate")] == ["enrich", "error"]
    assert net.arcs_from("output") == []


@pytest.mark.parametrize("name", ["streaming.yaml", "streaming.json"])
def test_yaml_and_json_files_build_the_same_config(name: str) -> None:
    expected = build_config(create_streaming_fsm_config(), functions={})
    loaded = load_config(DATA / name)
    assert loaded == expected
    assert loaded.raw == create_streaming_fsm_config()
    assert loaded.main.state("categorize").transform == expected.main.state("categorize").transform


def test_load_config_accepts_a_dict_and_a_built_config() -> None:
    config = load_config(create_streaming_fsm_config())
    assert config == build_config(create_streaming_fsm_config(), functions={})
    assert load_config(config) is config


def test_load_config_reports_every_problem_in_a_file() -> None:
    with pytest.raises(ConfigError) as e:
        load_config(DATA / "broken.yaml")
    assert [str(p) for p in e.value.problems] == [
        "networks[0].states[0] 'input'.is_strat: unknown key (did you mean 'is_start'?)",
        "networks[0].states[1] 'enrich'.transform: invalid syntax at line 1: "
        "lambda state: {**state.data, 'y': state.data['x'] * 2 ('{' was never closed)",
        "networks[0].states: no start state (mark one state with is_start: true)",
        "networks[0].arcs[0] 'input' -> 'enrch'.to: unknown state 'enrch' (did you mean 'enrich'?)",
        "networks[0].arcs[1] 'enrich' -> 'output'.priority: expected an int, got str",
    ]


def test_defaults() -> None:
    config = build_config(small(), functions={})
    assert config.name == "fsm"
    assert config.main_network == "main"
    assert all(a.priority == 0 and a.condition is None for a in config.main.arcs)
    assert not config.main.state("b").is_start and not config.main.state("b").is_end


def test_none_counts_as_absent_for_optional_keys() -> None:
    raw = small(name=None, main_network=None)
    raw["networks"][0]["states"][1].update(functions=None, transform=None, is_end=None)
    raw["networks"][0]["arcs"][0].update(condition=None, priority=None)
    config = build_config(raw, functions={})
    assert config.name == "fsm" and config.main_network == "main"
    assert config.main.arcs[0].priority == 0


def test_single_state_network_needs_no_arcs() -> None:
    raw = {"networks": [{"name": "n", "states": [{"name": "s", "is_start": True, "is_end": True}]}]}
    config = build_config(raw, functions={})
    assert config.main.arcs == () and config.main.start.name == "s"


def test_priority_orders_arcs_then_declaration_order() -> None:
    states = [{"name": "a", "is_start": True}] + [{"name": n, "is_end": True} for n in "wxyz"]
    arcs = [
        {"from": "a", "to": "w"},
        {"from": "a", "to": "x", "priority": 5},
        {"from": "a", "to": "y", "priority": -1},
        {"from": "a", "to": "z", "priority": 5},
    ]
    net = build_config(small(states, arcs), functions={}).main
    assert [(a.target, a.priority, a.index) for a in net.arcs_from("a")] == [
        ("x", 5, 1),
        ("z", 5, 3),
        ("w", 0, 0),
        ("y", -1, 2),
    ]
    assert isinstance(net.arcs[0], ArcConfig)


def test_arcs_leaving_an_end_state_are_allowed() -> None:
    arcs = [{"from": "a", "to": "b"}, {"from": "b", "to": "end"}, {"from": "end", "to": "a"}]
    net = build_config(small(arcs=arcs), functions={}).main
    assert [a.target for a in net.arcs_from("end")] == ["a"]


def test_harmless_and_unrelated_unknown_keys_are_ignored() -> None:
    raw = small(description="d", metadata={"x": 1}, settings={}, data_mode="copy", version=2)
    net = raw["networks"][0]
    net.update(resources=[], description="n", owner="me")
    net["states"][0].update(metadata={}, color="red", data_mode="reference")
    net["arcs"][0].update(description="first", weight=3)
    net["states"][1]["functions"] = {"transform": "lambda state: state.data", "validators": []}
    build_config(raw, functions={})


# -- function specs ------------------------------------------------------------


def double(state: Any) -> dict:
    return {"y": state.data["x"] * 2}


def is_big(state: Any) -> bool:
    return state.data["x"] > 10


def test_function_spec_forms() -> None:
    import polars as pl

    expr = pl.col("x") > 1
    lam = lambda state: True  # noqa: E731
    states = [
        {"name": "a", "is_start": True, "transform": "lambda state: state.data"},
        {"name": "b", "functions": {"transform": "double"}},
        {"name": "c", "functions": {"transform": {"type": "registered", "name": "double"}}},
        {"name": "d", "transform": {"type": "function", "name": "double"}},
        {"name": "e", "transform": {"type": "custom", "name": "double"}},
        {"name": "f", "transform": double},
        {"name": "end", "is_end": True, "transform": {"type": "inline", "code": "lambda s: s.data"}},
    ]
    arcs = [
        {"from": "a", "to": "b", "condition": expr},
        {"from": "b", "to": "c", "condition": "is_big"},
        {"from": "c", "to": "d", "condition": lam},
        {"from": "d", "to": "e", "condition": "big_expr"},
        {"from": "e", "to": "f"},
        {"from": "f", "to": "end"},
    ]
    config = build_config(small(states, arcs), functions={"double": double, "is_big": is_big, "big_expr": expr})
    net = config.main
    a = net.state("a").transform
    assert a == FunctionSpec("inline", "networks[0].states[0] 'a'.transform", code="lambda state: state.data")
    for name in "bcde":
        spec = net.state(name).transform
        assert spec is not None
        assert (spec.kind, spec.func, spec.name) == ("callable", double, "double")
    assert net.state("b").transform.path == "networks[0].states[1] 'b'.functions.transform"
    assert net.state("d").transform.path == "networks[0].states[3] 'd'.transform"
    f = net.state("f").transform
    assert (f.kind, f.func, f.name) == ("callable", double, "double")
    assert net.state("end").transform.kind == "inline"
    cond = [a.condition for a in net.arcs]
    assert cond[0].kind == "polars" and cond[0].expr is expr
    assert cond[0].path == "networks[0].arcs[0] 'a' -> 'b'.condition"
    assert (cond[1].kind, cond[1].func, cond[1].name) == ("callable", is_big, "is_big")
    assert (cond[2].kind, cond[2].func, cond[2].name) == ("callable", lam, "<lambda>")
    assert (cond[3].kind, cond[3].name) == ("polars", "big_expr") and cond[3].expr is expr


def test_inline_code_checks() -> None:
    states = [
        {"name": "a", "is_start": True, "transform": "lambda state: state.data['x'] +"},
        {"name": "b", "transform": {"type": "inline", "code": "state.data['x'] > 0"}},
        {"name": "c", "transform": {"type": "inline", "code": "lambda a, b: a"}},
        {"name": "d", "transform": {"type": "inline", "code": "lambda: 1"}},
        {"name": "e", "transform": {"type": "inline", "code": "lambda state=None: state"}},
        {"name": "f", "transform": {"type": "inline", "code": "lambda *state: state"}},
        {"name": "g", "transform": {"type": "inline", "code": "   "}},
        {"name": "end", "is_end": True, "transform": {"type": "inline", "code": 3}},
    ]
    arcs = [{"from": s["name"], "to": t["name"]} for s, t in itertools.pairwise(states)]
    assert problems(small(states, arcs)) == [
        "networks[0].states[0] 'a'.transform: invalid syntax at line 1: lambda state: state.data['x'] +",
        "networks[0].states[1] 'b'.transform: expected 'lambda state: ...', got \"state.data['x'] > 0\"",
        "networks[0].states[2] 'c'.transform: expected 'lambda state: ...', got 'lambda a, b: ...'",
        "networks[0].states[3] 'd'.transform: expected 'lambda state: ...', got 'lambda: ...'",
        "networks[0].states[4] 'e'.transform: expected 'lambda state: ...', got 'lambda state=None: ...'",
        "networks[0].states[5] 'f'.transform: expected 'lambda state: ...', got 'lambda *state: ...'",
        "networks[0].states[6] 'g'.transform: expected 'lambda state: ...', got an empty string",
        "networks[0].states[7] 'end'.transform.code: expected a string, got int",
    ]


def test_syntax_error_in_multiline_code_names_the_line() -> None:
    raw = create_streaming_fsm_config()
    spec = raw["networks"][0]["states"][2]["functions"]["transform"]
    spec["code"] = spec["code"].replace(
        "'doubled_value': state.data['value'] * 2,", "'doubled_value': state.data['value'] * 2"
    )
    assert problems(raw) == [
        "networks[0].states[2] 'enrich'.functions.transform: invalid syntax at line 4: "
        "'doubled_value': state.data['value'] * 2 (invalid syntax. Perhaps you forgot a comma?)"
    ]


def test_syntax_error_line_counts_leading_blank_lines() -> None:
    code = "\n\n    lambda state: (\n        1 +\n    )"
    raw = small()
    raw["networks"][0]["arcs"][1]["condition"] = code
    assert problems(raw) == ["networks[0].arcs[1] 'b' -> 'end'.condition: invalid syntax at line 5: )"]


def test_spec_problems() -> None:
    arcs = [
        {"from": "a", "to": "b", "condition": "is_bgi"},
        {"from": "a", "to": "b", "condition": {"type": "registered", "name": "nothing_alike"}},
        {"from": "a", "to": "b", "condition": {"type": "inlien", "code": "lambda s: 1"}},
        {"from": "a", "to": "b", "condition": {"type": "python", "code": "lambda s: 1"}},
        {"from": "a", "to": "b", "condition": 42},
        {"from": "a", "to": "b", "condition": {"code": "lambda s: 1"}},
        {"from": "a", "to": "b", "condition": {"type": "inline"}},
        {"from": "a", "to": "b", "condition": "x > 1"},
        {"from": "a", "to": "b", "condition": "not_callable"},
        {"from": "b", "to": "end"},
    ]
    assert problems(small(arcs=arcs), is_big=is_big, not_callable=3) == [
        "networks[0].arcs[0] 'a' -> 'b'.condition: unknown function 'is_bgi' (did you mean 'is_big'?)",
        "networks[0].arcs[1] 'a' -> 'b'.condition.name: unknown function 'nothing_alike'",
        "networks[0].arcs[2] 'a' -> 'b'.condition.type: unknown function type 'inlien' (did you mean 'inline'?)",
        "networks[0].arcs[3] 'a' -> 'b'.condition.type: unknown function type 'python' "
        "(expected 'inline', 'registered', 'function' or 'custom')",
        "networks[0].arcs[4] 'a' -> 'b'.condition: expected a function spec ({'type': 'inline', "
        "'code': 'lambda state: ...'}, 'lambda state: ...', the name of a registered "
        "function, a callable or a polars expression), got int",
        "networks[0].arcs[5] 'a' -> 'b'.condition.type: missing required key",
        "networks[0].arcs[6] 'a' -> 'b'.condition.code: missing required key",
        "networks[0].arcs[7] 'a' -> 'b'.condition: expected 'lambda state: ...' or the name of a "
        "registered function, got 'x > 1'",
        "networks[0].arcs[8] 'a' -> 'b'.condition: expected function 'not_callable' to be a callable "
        "or a polars expression, got int",
    ]


def test_transform_given_twice() -> None:
    states = [
        {
            "name": "a",
            "is_start": True,
            "transform": "lambda s: s.data",
            "functions": {"transform": "lambda s: s.data"},
        },
        {"name": "b"},
        {"name": "end", "is_end": True},
    ]
    assert problems(small(states)) == [
        "networks[0].states[0] 'a'.transform: transform given twice "
        "(also at networks[0].states[0] 'a'.functions.transform)"
    ]


# -- the error itself and malformed input ----------------------------------------


def test_config_error_is_a_value_error_listing_every_problem() -> None:
    states = [{"name": "a"}, {"name": "end"}]
    with pytest.raises(ValueError, match="invalid config: 2 problems") as e:
        build_config(small(states, [{"from": "a", "to": "end"}]), functions={})
    assert isinstance(e.value, ConfigError)
    assert e.value.problems == [
        ConfigProblem("networks[0].states", "no start state (mark one state with is_start: true)"),
        ConfigProblem("networks[0].states", "no end state (mark at least one state with is_end: true)"),
    ]
    assert str(e.value) == (
        "invalid config: 2 problems\n"
        "  networks[0].states: no start state (mark one state with is_start: true)\n"
        "  networks[0].states: no end state (mark at least one state with is_end: true)"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ["expected a mapping with 'networks', got NoneType"]),
        ([], ["expected a mapping with 'networks', got list"]),
        ("networks", ["expected a mapping with 'networks', got str"]),
        ({"networks": 5}, ["networks: expected a list, got int"]),
        ({"networks": None}, ["networks: expected a list, got NoneType"]),
        ({"networks": [None]}, ["networks[0]: expected a mapping, got NoneType"]),
        (
            {"networks": [{"name": "n", "states": ["a"], "arcs": []}]},
            ["networks[0].states[0]: expected a mapping, got str"],
        ),
        (
            {"networks": [{"name": "n", "states": [[]], "arcs": [5]}]},
            ["networks[0].states[0]: expected a mapping, got list", "networks[0].arcs[0]: expected a mapping, got int"],
        ),
        ({"networks": [{"name": "n", "states": None}]}, ["networks[0].states: expected a list, got NoneType"]),
        (
            {"networks": [{"name": None, "states": [{"name": None}]}]},
            [
                "networks[0].name: expected a string, got NoneType",
                "networks[0].states[0].name: expected a string, got NoneType",
                "networks[0].states: no start state (mark one state with is_start: true)",
                "networks[0].states: no end state (mark at least one state with is_end: true)",
            ],
        ),
        ({1: 2, "networks": [{"name": "n", "states": [{"name": "s", "is_start": True, "is_end": True, 3: 4}]}]}, None),
        (
            {"networks": [{"name": "n", "states": []}]},
            [
                "networks[0].states: no start state (mark one state with is_start: true)",
                "networks[0].states: no end state (mark at least one state with is_end: true)",
            ],
        ),
    ],
)
def test_malformed_input_raises_config_error(raw: Any, expected: list[str] | None) -> None:
    if expected is None:  # odd but harmless: non-string keys are ignored
        build_config(raw, functions={})
        return
    assert problems(raw) == expected


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.sampled_from(["main", "input", "output", "lambda state: (", "lambda s: s.data", "x"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "states",
                    "arcs",
                    "from",
                    "to",
                    "is_start",
                    "is_end",
                    "functions",
                    "transform",
                    "condition",
                    "priority",
                    "type",
                    "code",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_mutation_gives_config_error_or_a_config(data: st.DataObject) -> None:
    raw = json.loads(json.dumps(create_streaming_fsm_config()))
    where = data.draw(st.sampled_from(_paths(raw)[1:]))
    replacement = data.draw(_json)
    target = raw
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = replacement
    try:
        config = build_config(raw, functions={})
    except ConfigError as e:
        assert e.problems
    else:
        assert isinstance(config, FSMConfig)
