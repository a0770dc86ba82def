"""``process_stream``: the front door of the streaming engine, async and blocking."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import anyio

from streamkit.engine.chunks import Stage
from streamkit.engine.config import StreamConfig, resolve_stream_config
from streamkit.engine.progress import Progress
from streamkit.engine.result import StreamResult
from streamkit.engine.routing import Routes
from streamkit.engine.runner import StreamRun
from streamkit.io import open_source

__all__ = ("stream_stages", "run_blocking")

T = TypeVar("T")
"""What a blocking call returns."""

#: ``use_streaming=False`` reads the whole input as one chunk (the seed's non-streaming mode).
WHOLE_INPUT = 1 << 40


def _unknown_option(name: str) -> str:
    """The error for an option ``process_stream`` does not have, with the closest one it has."""
    import difflib
    import inspect

    known = [p.name for p in inspect.signature(stream_stages).parameters.values()
             if p.kind is inspect.Parameter.KEYWORD_ONLY]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f"; options: {', '.join(known)}"
    return f"process_stream() got an unexpected keyword argument {name!r}{hint}"


async def stream_stages(
    stages: list[Stage],
    source: Any,
    sink: Any = None,
    *,
    sinks: Mapping[str, Any] | None = None,
    error_sink: Any = None,
    config: StreamConfig | None = None,
    chunk_size: int | None = None,
    parallelism: int | None = None,
    memory_limit_mb: float | None = None,
    backpressure_threshold: int | None = None,
    buffer_size: int | None = None,
    preserve_order: bool | None = None,
    use_streaming: bool = True,  # noqa: FBT001, FBT002 - the seed passes it by name
    on_progress: Callable[[Progress], Any] | None = None,
    format: str | None = None,  # noqa: A002 - the usual name
    sink_format: str | None = None,
    schema: Any = None,
    keep_end_state_ids: bool | None = None,
    **unknown: Any,
) -> StreamResult:
    """Stream ``source`` through ``stages`` into the sinks (see ``AsyncSimpleFSM.process_stream``)."""
    if unknown:
        raise TypeError(_unknown_option(next(iter(unknown))))
    cfg = resolve_stream_config(config, chunk_size=chunk_size, parallelism=parallelism,
                                memory_limit_mb=memory_limit_mb, backpressure_threshold=backpressure_threshold,
                                buffer_size=buffer_size, preserve_order=preserve_order)
    if source is None:
        msg = "`source` is required: a path, a glob, records, a table or an (async) iterable"
        raise TypeError(msg)
    read_size = cfg.chunk_size if use_streaming else WHOLE_INPUT
    src = open_source(source, chunk_size=read_size, format=format, schema=schema)
    try:
        routes = Routes(stages[-1].end_states, sink=sink, sinks=sinks, error_sink=error_sink,
                        sink_format=sink_format)
    except BaseException:
        src.close()
        raise
    keep_ids = (sink is None and not sinks) if keep_end_state_ids is None else keep_end_state_ids
    run = StreamRun(stages, cfg, routes, on_progress, keep_end_state_ids=keep_ids)
    return await run.run(src)


def run_blocking(fn: Callable[[], Awaitable[T]]) -> T:
    """Run an async function to completion from synchronous code.

    Inside a running event loop (a notebook), it runs in a helper thread with its
    own loop, so ``SimpleFSM.process_stream`` works the same everywhere.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return anyio.run(fn)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = anyio.run(fn)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=target, name="streamkit-stream")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
