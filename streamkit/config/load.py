"""Load a config: a dict, a YAML or JSON file, or an :class:`~streamkit.config.FSMConfig` already built."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from streamkit.config.model import FSMConfig
from streamkit.config.validate import build_config
from streamkit.errors import ConfigError

__all__ = ("load_config",)


def _read_file(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: the flights config in 0.3 ms, not 3.6
        try:
            return yaml.load(text, Loader=loader)  # a safe loader: C or Python
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
    return build_config(config, functions=dict(functions or {}))
