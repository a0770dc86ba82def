"""Typed FSM configs: the seed 002 dict format (also YAML or JSON), validated as a whole before anything runs.

Every problem is reported with its path (see :class:`streamkit.ConfigError`).
"""

from streamkit.config.load import load_config as load_config
from streamkit.config.model import ArcConfig as ArcConfig
from streamkit.config.model import FSMConfig as FSMConfig
from streamkit.config.model import FunctionSpec as FunctionSpec
from streamkit.config.model import NetworkConfig as NetworkConfig
from streamkit.config.model import StateConfig as StateConfig

__all__ = ("FSMConfig", "NetworkConfig", "StateConfig", "ArcConfig", "FunctionSpec", "load_config")
