"""The streaming engine: chunked, parallel, backpressure-limited runs of compiled networks."""

from streamkit.engine.config import StreamConfig as StreamConfig
from streamkit.engine.pipeline import AsyncPipeline as AsyncPipeline
from streamkit.engine.pipeline import Pipeline as Pipeline
from streamkit.engine.progress import ErrorLog as ErrorLog
from streamkit.engine.progress import Progress as Progress
from streamkit.engine.result import StreamResult as StreamResult

__all__ = ("StreamConfig", "Pipeline", "AsyncPipeline", "Progress", "ErrorLog", "StreamResult")
