"""The streaming engine: chunked, parallel, backpressure-limited runs of compiled networks."""

from streamkit.engine.config import StreamConfig as StreamConfig
from streamkit.engine.config import StreamOptions as StreamOptions
from streamkit.engine.pipeline import AsyncPipeline as AsyncPipeline
from streamkit.engine.pipeline import Pipeline as Pipeline
from streamkit.engine.progress import ErrorLog as ErrorLog
from streamkit.engine.progress import Progress as Progress
from streamkit.engine.result import RunResult as RunResult

__all__ = ("StreamConfig", "StreamOptions", "Pipeline", "AsyncPipeline", "Progress", "ErrorLog", "RunResult")
