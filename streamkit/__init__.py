"""streamkit: dataflow stream processing on Apache Arrow with compiled FSM networks."""

from streamkit.api import FSMResult as FSMResult
from streamkit.api import SimpleFSM as SimpleFSM
from streamkit.config import FSMConfig as FSMConfig
from streamkit.config import load_config as load_config
from streamkit.errors import CompileError as CompileError
from streamkit.errors import ConfigError as ConfigError
from streamkit.errors import ConfigProblem as ConfigProblem
from streamkit.errors import PerformanceWarning as PerformanceWarning
from streamkit.errors import SchemaError as SchemaError
from streamkit.errors import StreamkitError as StreamkitError
from streamkit.errors import UnsupportedExpressionError as UnsupportedExpressionError
from streamkit.fsm.compile import CompiledNetwork as CompiledNetwork
from streamkit.fsm.compile import compile_network as compile_network
from streamkit.fsm.interpret import interpret as interpret
from streamkit.record import RecordData as RecordData
from streamkit.record import State as State

__all__ = (
    "SimpleFSM",
    "FSMResult",
    "FSMConfig",
    "load_config",
    "CompiledNetwork",
    "compile_network",
    "interpret",
    "RecordData",
    "State",
    "StreamkitError",
    "ConfigError",
    "ConfigProblem",
    "CompileError",
    "UnsupportedExpressionError",
    "SchemaError",
    "PerformanceWarning",
)
__version__ = "0.1.0"
