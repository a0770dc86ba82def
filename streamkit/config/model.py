"""Typed FSM config: the seed 002 dict format, also loadable from YAML or JSON.

A config is validated as a whole before anything runs; every problem is
reported with its path (see :class:`streamkit.ConfigError`).

.. code-block:: python

    {
        "name": "StreamingProcessor",
        "main_network": "main",
        "networks": [{
            "name": "main",
            "states": [
                {"name": "input", "is_start": True},
                {"name": "double", "functions": {"transform": {
                    "type": "inline",
                    "code": "lambda state: {**state.data, 'y': state.data['x'] * 2}"}}},
                {"name": "output", "is_end": True},
            ],
            "arcs": [
                {"from": "input", "to": "double"},
                {"from": "double", "to": "output",
                 "condition": {"type": "inline", "code": "lambda state: state.data['y'] > 0"},
                 "priority": 1},
            ],
        }],
    }
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = (
    "FunctionSpec",
    "EventSpec",
    "StateConfig",
    "ArcConfig",
    "NetworkConfig",
    "FSMConfig",
)

FunctionKind = Literal["inline", "callable", "polars"]


@dataclass(frozen=True)
class FunctionSpec:
    """A transform or condition: inline code, a Python callable, or a polars expression.

    Attributes
    ----------
    kind:
        ``"inline"`` (``code`` holds ``lambda state: ...``), ``"callable"``
        (``func`` is called with the state) or ``"polars"`` (``expr`` is a
        polars expression evaluated over the batch).
    path:
        Where the spec sits in the config, used in every message about it.
    """

    kind: FunctionKind
    path: str
    code: str | None = None
    func: Callable[..., Any] | None = field(default=None, compare=False)
    expr: Any = field(default=None, compare=False)
    name: str | None = None


@dataclass(frozen=True)
class EventSpec:
    """The events a state runs per record (seed 003): one, or a parallel group.

    Attributes
    ----------
    events:
        The event instances, in the order their results merge.
    evaluation:
        How a group's outcome follows from its events' (an ``EventExecutionEvaluationState``).
    result_field:
        The field a result that is not a mapping is stored in (``None``: each event's own).
    path:
        Where the spec sits in the config.
    """

    events: tuple[Any, ...] = field(compare=False)
    evaluation: Any
    path: str
    result_field: str | None = None

    @property
    def names(self) -> list[str]:
        """The events' class names."""
        return [type(e).__name__ for e in self.events]


@dataclass(frozen=True)
class StateConfig:
    """One state of a network."""

    name: str
    path: str
    is_start: bool = False
    is_end: bool = False
    transform: FunctionSpec | None = None
    event: EventSpec | None = None


@dataclass(frozen=True)
class ArcConfig:
    """An arc between two states, tried by ``priority`` (higher first), then declaration order."""

    source: str
    target: str
    path: str
    index: int
    condition: FunctionSpec | None = None
    priority: int = 0
    #: when the arc is taken after an event: ``"success"`` (also when absent), ``"failure"``,
    #: or an int descriptor a ``goto`` names
    on: str | int | None = None


@dataclass(frozen=True)
class NetworkConfig:
    """A named network of states and arcs."""

    name: str
    path: str
    states: tuple[StateConfig, ...]
    arcs: tuple[ArcConfig, ...]

    def state(self, name: str) -> StateConfig:
        """The state called ``name``."""
        for s in self.states:
            if s.name == name:
                return s
        msg = f"no state {name!r} in network {self.name!r}"
        raise KeyError(msg)

    @property
    def start(self) -> StateConfig:
        """The start state."""
        return next(s for s in self.states if s.is_start)

    def arcs_from(self, name: str) -> list[ArcConfig]:
        """Outgoing arcs of ``name`` in the order they are tried."""
        arcs = [a for a in self.arcs if a.source == name]
        return sorted(arcs, key=lambda a: (-a.priority, a.index))


@dataclass(frozen=True)
class FSMConfig:
    """A whole, validated config."""

    name: str
    main_network: str
    networks: tuple[NetworkConfig, ...]
    raw: Mapping[str, Any] = field(compare=False, repr=False, default_factory=dict)

    @property
    def main(self) -> NetworkConfig:
        """The network records enter."""
        return next(n for n in self.networks if n.name == self.main_network)
