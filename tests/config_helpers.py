"""Config builders and checks shared by the tests."""

from __future__ import annotations

from typing import Any

import pytest

from streamkit.config.validate import build_config
from streamkit.errors import ConfigError


def small(states: list[Any] | None = None, arcs: list[Any] | None = None, **top: Any) -> dict:
    """A valid three-state config (``a`` → ``b`` → ``end``), parts replaceable."""
    if states is None:
        states = [{"name": "a", "is_start": True}, {"name": "b"}, {"name": "end", "is_end": True}]
    if arcs is None:
        arcs = [{"from": "a", "to": "b"}, {"from": "b", "to": "end"}]
    return {"networks": [{"name": "main", "states": states, "arcs": arcs}], **top}


def a_to_b(transform: str | None = None) -> dict:
    """A one-network config: ``a`` (start; ``transform`` if given) → ``b`` (end)."""
    start: dict[str, Any] = {"name": "a", "is_start": True}
    if transform is not None:
        start["functions"] = {"transform": transform}
    states = [start, {"name": "b", "is_end": True}]
    return {"networks": [{"name": "m", "states": states, "arcs": [{"from": "a", "to": "b"}]}]}


def problems(raw: Any, **functions: Any) -> list[str]:
    """The problems ``build_config`` reports for ``raw``, as strings."""
    with pytest.raises(ConfigError) as e:
        build_config(raw, functions=functions)
    return [str(p) for p in e.value.problems]
