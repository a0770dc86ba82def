"""streamkit: dataflow stream processing on Apache Arrow with compiled FSM networks."""

from streamkit._memory import release_memory as release_memory
from streamkit.api import SimpleFSM as SimpleFSM
from streamkit.async_api import AsyncSimpleFSM as AsyncSimpleFSM
from streamkit.config import FSMConfig as FSMConfig
from streamkit.config import load_config as load_config
from streamkit.engine import AsyncPipeline as AsyncPipeline
from streamkit.engine import ErrorLog as ErrorLog
from streamkit.engine import Pipeline as Pipeline
from streamkit.engine import Progress as Progress
from streamkit.engine import RunResult as RunResult
from streamkit.engine import StreamConfig as StreamConfig
from streamkit.engine import StreamOptions as StreamOptions
from streamkit.errors import CheckpointError as CheckpointError
from streamkit.errors import CompileError as CompileError
from streamkit.errors import ConfigError as ConfigError
from streamkit.errors import ConfigProblem as ConfigProblem
from streamkit.errors import PerformanceWarning as PerformanceWarning
from streamkit.errors import SchemaError as SchemaError
from streamkit.errors import SourceError as SourceError
from streamkit.errors import StreamkitError as StreamkitError
from streamkit.errors import UnsupportedExpressionError as UnsupportedExpressionError
from streamkit.fsm.compile import CompiledNetwork as CompiledNetwork
from streamkit.fsm.compile import compile_network as compile_network
from streamkit.fsm.interpret import interpret as interpret
from streamkit.handle import RunHandle as RunHandle
from streamkit.handle import StreamHandle as StreamHandle
from streamkit.io import Collector as Collector
from streamkit.io import Sink as Sink
from streamkit.io import Source as Source
from streamkit.io import SourceChunk as SourceChunk
from streamkit.io import open_sink as open_sink
from streamkit.io import open_source as open_source
from streamkit.record import RecordData as RecordData
from streamkit.record import State as State
from streamkit.status import DuplicateIdError as DuplicateIdError
from streamkit.status import EventStatus as EventStatus
from streamkit.status import StatusIndex as StatusIndex
from streamkit.status import StatusIndexError as StatusIndexError
from streamkit.status import StatusMismatchError as StatusMismatchError
from streamkit.status import UnknownIdError as UnknownIdError
from streamkit.status import UnknownTagError as UnknownTagError

__all__ = (
    "SimpleFSM",
    "AsyncSimpleFSM",
    "RunResult",
    "FSMResult",
    "StreamConfig",
    "StreamOptions",
    "StreamResult",
    "Progress",
    "RunHandle",
    "StreamHandle",
    "ErrorLog",
    "Pipeline",
    "AsyncPipeline",
    "open_source",
    "open_sink",
    "Source",
    "Sink",
    "SourceChunk",
    "Collector",
    "EventStatus",
    "StatusIndex",
    "StatusIndexError",
    "DuplicateIdError",
    "UnknownIdError",
    "StatusMismatchError",
    "UnknownTagError",
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
    "SourceError",
    "CheckpointError",
    "PerformanceWarning",
    "release_memory",
)
__version__ = "0.1.0"

#: The result of ``process()``: the one result type, :class:`RunResult`.
FSMResult = RunResult
#: The result of ``process_stream()``: the one result type, :class:`RunResult`.
StreamResult = RunResult
