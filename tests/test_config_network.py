"""Config validation: network-level checks (states, arcs, reachability), exact messages."""

from __future__ import annotations

import copy
from typing import Any

from config_helpers import problems, small

from examples.seed_network import create_streaming_fsm_config
from streamkit.config.validate import build_config


def double(state: Any) -> dict:
    """A registered transform."""
    return {**state.data, "y": state.data["x"] * 2}


# -- network checks --------------------------------------------------------------


def test_unknown_state_in_arc() -> None:
    raw = create_streaming_fsm_config()
    raw["networks"][0]["arcs"][3]["to"] = "categorise"
    raw["networks"][0]["arcs"][4]["from"] = "zzz"
    assert problems(raw) == [
        "networks[0].arcs[3] 'enrich' -> 'categorise'.to: unknown state 'categorise' (did you mean 'categorize'?)",
        "networks[0].arcs[4] 'zzz' -> 'output'.from: unknown state 'zzz'",
    ]


def test_no_start_state() -> None:
    states = [{"name": "a"}, {"name": "b"}, {"name": "end", "is_end": True}]
    assert problems(small(states)) == ["networks[0].states: no start state (mark one state with is_start: true)"]


def test_several_start_states() -> None:
    states = [{"name": "a", "is_start": True}, {"name": "b", "is_start": True}, {"name": "end", "is_end": True}]
    assert problems(small(states)) == ["networks[0].states: 2 start states ('a', 'b'); expected exactly one"]


def test_no_end_state() -> None:
    states = [{"name": "a", "is_start": True}, {"name": "b"}, {"name": "end"}]
    arcs = [{"from": "a", "to": "b"}, {"from": "b", "to": "end"}, {"from": "end", "to": "a"}]
    assert problems(small(states, arcs)) == [
        "networks[0].states: no end state (mark at least one state with is_end: true)"
    ]


def test_duplicate_state() -> None:
    states = [{"name": "a", "is_start": True}, {"name": "x"}, {"name": "end", "is_end": True}, {"name": "x"}]
    arcs = [{"from": "a", "to": "x"}, {"from": "x", "to": "end"}]
    assert problems(small(states, arcs)) == [
        "networks[0].states[3] 'x'.name: duplicate state name (first at networks[0].states[1] 'x')"
    ]


def test_unreachable_state() -> None:
    states = [
        {"name": "input", "is_start": True},
        {"name": "b"},
        {"name": "end", "is_end": True},
        {"name": "late"},
        {"name": "orphan", "is_end": True},
    ]
    # 'late' is only reached from an end state, which a record never leaves
    arcs = [
        {"from": "input", "to": "b"},
        {"from": "b", "to": "end"},
        {"from": "end", "to": "late"},
        {"from": "late", "to": "end"},
    ]
    assert problems(small(states, arcs)) == [
        "networks[0].states[3] 'late': unreachable from start state 'input'",
        "networks[0].states[4] 'orphan': unreachable from start state 'input'",
    ]


def test_state_without_outgoing_arc() -> None:
    raw = create_streaming_fsm_config()
    del raw["networks"][0]["arcs"][3]  # enrich -> categorize
    assert problems(raw) == [
        "networks[0].states[2] 'enrich': no outgoing arc, and not an end state",
        "networks[0].states[3] 'categorize': unreachable from start state 'input'",
        "networks[0].states[4] 'output': unreachable from start state 'input'",
    ]


def test_typo_of_a_known_key() -> None:
    states = [
        {"name": "a", "is_start": True},
        {"name": "b", "is_strat": True},
        {"name": "end", "is_end": True, "transfrom": "lambda s: s.data"},
    ]
    arcs = [{"from": "a", "to": "b", "prority": 2}, {"from": "b", "to": "end"}]
    raw = small(states, arcs, main_netwrok="main")
    raw["networks"][0]["sates"] = []
    assert problems(raw) == [
        "main_netwrok: unknown key (did you mean 'main_network'?)",
        "networks[0].sates: unknown key (did you mean 'states'?)",
        "networks[0].states[1] 'b'.is_strat: unknown key (did you mean 'is_start'?)",
        "networks[0].states[2] 'end'.transfrom: unknown key (did you mean 'transform'?)",
        "networks[0].arcs[0] 'a' -> 'b'.prority: unknown key (did you mean 'priority'?)",
    ]


def test_missing_required_keys() -> None:
    states = [{"name": "a", "is_start": True}, {"is_end": True}, {"name": "end", "is_end": True}]
    arcs = [{"from": "a", "to": "end"}, {"from": "a"}]
    raw = {"networks": [{"states": states, "arcs": arcs}, {"name": "other"}]}
    assert problems(raw) == [
        "networks[0].name: missing required key",
        "networks[0].states[1].name: missing required key",
        "networks[0].arcs[1].to: missing required key",
        "networks[1].states: missing required key",
        "main_network: missing required key (required when there are 2 networks)",
    ]


def test_wrong_types() -> None:
    states = [
        {"name": "a", "is_start": "yes"},
        {"name": 7},
        {"name": "end", "is_end": 1},
        {"name": "c", "functions": ["transform"]},
        {"name": ""},
        {"name": "x.y"},
    ]
    arcs = [
        {"from": "a", "to": "end", "priority": True},
        {"from": "a", "to": "end", "priority": 1.5},
        {"from": ["a"], "to": "end"},
    ]
    raw = {"name": 3, "main_network": 1, "networks": [{"name": "n", "states": states, "arcs": arcs}]}
    assert problems(raw) == [
        "name: expected a string, got int",
        "networks[0].states[0] 'a'.is_start: expected a bool, got str",
        "networks[0].states[1].name: expected a string, got int",
        "networks[0].states[2] 'end'.is_end: expected a bool, got int",
        "networks[0].states[3] 'c'.functions: expected a mapping, got list",
        "networks[0].states[4].name: expected a non-empty string, got ''",
        "networks[0].states[5].name: expected a name without '.', got 'x.y'",
        "networks[0].arcs[0] 'a' -> 'end'.priority: expected an int, got bool",
        "networks[0].arcs[1] 'a' -> 'end'.priority: expected an int, got float",
        "networks[0].arcs[2].from: expected a string, got list",
        "main_network: expected a string, got int",
    ]


def test_states_and_arcs_not_lists() -> None:
    raw = {"networks": [{"name": "n", "states": {"a": {}}, "arcs": "a->b"}]}
    assert problems(raw) == [
        "networks[0].states: expected a list, got dict",
        "networks[0].arcs: expected a list, got str",
    ]


def test_network_level_problems() -> None:
    one = small()["networks"][0]
    assert problems({"networks": []}) == ["networks: expected at least one network, got an empty list"]
    assert problems({"main_network": "mian", "networks": [one]}) == [
        "main_network: unknown network 'mian' (did you mean 'main'?)"
    ]
    assert problems({"main_network": "main", "networks": [one, copy.deepcopy(one)]}) == [
        "networks[1].name: duplicate network 'main' (first at networks[0])"
    ]
    assert problems({"name": "x"}) == ["networks: missing required key"]
    assert problems(one) == ["networks: missing required key (states and arcs go in networks: [{name, states, arcs}])"]


def test_several_networks_with_main_network() -> None:
    other = copy.deepcopy(small()["networks"][0])
    other["name"] = "side"
    raw = small(main_network="side")
    raw["networks"].append(other)
    config = build_config(raw, functions={})
    assert config.main.name == "side" and config.main.path == "networks[1]"
    assert config.networks[1].states[0].path == "networks[1].states[0] 'a'"


def test_every_problem_is_reported_in_walk_order() -> None:
    raw = create_streaming_fsm_config()
    net = raw["networks"][0]
    raw["main_network"] = "mian"
    net["states"][0]["is_start"] = False
    net["states"][1]["is_strat"] = True
    net["states"][2]["functions"]["transform"]["code"] = "lambda state: {"
    net["states"][3]["functions"]["transform"] = "categorize_fn"
    net["states"].append({"name": "output", "is_end": True})
    net["arcs"][1]["to"] = "enrch"
    net["arcs"][2]["priority"] = "1"
    net["arcs"][4]["condition"] = {"type": "inline", "code": "lambda: True"}
    del net["arcs"][0]["from"]
    assert problems(raw, categorize=double) == [
        "networks[0].states[1] 'validate'.is_strat: unknown key (did you mean 'is_start'?)",
        "networks[0].states[2] 'enrich'.functions.transform: invalid syntax at line 1: lambda state: { "
        "('{' was never closed)",
        "networks[0].states[3] 'categorize'.functions.transform: unknown function 'categorize_fn' "
        "(did you mean 'categorize'?)",
        "networks[0].states[6] 'output'.name: duplicate state name (first at networks[0].states[4] 'output')",
        "networks[0].states: no start state (mark one state with is_start: true)",
        "networks[0].arcs[0].from: missing required key",
        "networks[0].arcs[1] 'validate' -> 'enrch'.to: unknown state 'enrch' (did you mean 'enrich'?)",
        "networks[0].arcs[2] 'validate' -> 'error'.priority: expected an int, got str",
        "networks[0].arcs[4] 'categorize' -> 'output'.condition: expected 'lambda state: ...', got 'lambda: ...'",
        "main_network: unknown network 'mian' (did you mean 'main'?)",
    ]
