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

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from streamkit.errors import ConfigError

__all__ = (
    "FunctionSpec",
    "StateConfig",
    "ArcConfig",
    "NetworkConfig",
    "FSMConfig",
    "load_config",
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
class StateConfig:
    """One state of a network."""

    name: str
    path: str
    is_start: bool = False
    is_end: bool = False
    transform: FunctionSpec | None = None


@dataclass(frozen=True)
class ArcConfig:
    """An arc between two states, tried by ``priority`` (higher first), then declaration order."""

    source: str
    target: str
    path: str
    index: int
    condition: FunctionSpec | None = None
    priority: int = 0


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


def _read_file(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            msg = f"{path}: not valid YAML: {exc}"
            raise ConfigError(msg) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        raise ConfigError(msg) from None


def load_config(
    config: Mapping[str, Any] | str | os.PathLike[str] | FSMConfig,
    *,
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> FSMConfig:
    """Validate a config and build its typed form.

    Parameters
    ----------
    config:
        The seed 002 dict, a path to a ``.yaml``/``.yml``/``.json`` file holding
        it, or an already built :class:`FSMConfig`.
    functions:
        Named Python functions that specs may refer to by name (a string in
        place of a spec, or ``{"type": "registered", "name": ...}``).

    Raises
    ------
    ConfigError
        With every problem found, each with its path.
    """
    if isinstance(config, FSMConfig):
        return config
    if isinstance(config, (str, os.PathLike)):
        path = Path(config)
        if not path.exists():
            msg = f"config file {str(path)!r} does not exist"
            raise ConfigError(msg)
        config = _read_file(path)
    from streamkit._validate import build_config

    return build_config(config, functions=dict(functions or {}))
