"""``process_stream``: the front door of the streaming engine, async and blocking."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import anyio._backends._asyncio  # anyio loads its backend at the first run: 12-20 ms of a first stream

from streamkit.engine.checkpoint import open_outputs
from streamkit.engine.chunks import Stage
from streamkit.engine.config import StreamConfig, StreamOptions, Unpack, check_options, resolve_stream_config
from streamkit.engine.progress import Progress
from streamkit.engine.progressbar import progress_reporter
from streamkit.engine.result import RunResult
from streamkit.engine.runner import StreamRun
from streamkit.handle import StreamHandle
from streamkit.io import open_source

__all__ = ("stream_stages", "start_stages", "run_blocking")

T = TypeVar("T")
"""What a blocking call returns."""

#: ``use_streaming=False`` reads the whole input as one chunk (the seed's non-streaming mode).
WHOLE_INPUT = 1 << 40


async def stream_stages(
    stages: list[Stage], source: Any, sink: Any = None, **options: Unpack[StreamOptions]
) -> RunResult:
    """Stream ``source`` through ``stages`` into the sinks.

    The options are :class:`~streamkit.engine.config.StreamOptions`.
    """
    check_options(options)
    stages = [s.for_run() for s in stages]
    cfg = resolve_stream_config(
        options.get("config"),
        chunk_size=options.get("chunk_size"),
        parallelism=options.get("parallelism"),
        memory_limit_mb=options.get("memory_limit_mb"),
        backpressure_threshold=options.get("backpressure_threshold"),
        buffer_size=options.get("buffer_size"),
        preserve_order=options.get("preserve_order"),
    )
    if source is None:
        msg = "`source` is required: a path, a glob, records, a table or an (async) iterable"
        raise TypeError(msg)
    engine = options.get("engine", "local")
    if engine == "ray":
        return await _on_ray(stages, source, sink, cfg, options)
    if engine != "local":
        msg = f"`engine` must be 'local' or 'ray', got {engine!r}"
        raise ValueError(msg)
    read_size = cfg.chunk_size if options.get("use_streaming", True) else WHOLE_INPUT
    src = open_source(source, chunk_size=read_size, format=options.get("format"), schema=options.get("schema"))
    try:
        routes, ckpt = open_outputs(stages, src, sink, options, read_size=read_size, threads=cfg.parallelism)
    except BaseException:
        src.close()
        raise
    keep = options.get("keep_end_state_ids")
    keep_ids = (sink is None and not options.get("sinks")) if keep is None else keep
    on_progress = options.get("on_progress")
    try:
        reporter = progress_reporter(options.get("progress"))
    except BaseException:
        routes.abort()  # the file sinks' temporary files go
        if ckpt is not None:
            ckpt.close()
        src.close()
        raise
    if reporter is not None:
        on_progress = _both(reporter, on_progress)
    run = StreamRun(stages, cfg, routes, on_progress, keep_end_state_ids=keep_ids, checkpoint=ckpt)
    try:
        return await run.run(src)
    finally:
        if reporter is not None:
            reporter.close()


async def _on_ray(stages: list[Stage], source: Any, sink: Any, cfg: StreamConfig, options: StreamOptions) -> RunResult:
    """``engine="ray"``: a Ray Dataset through ``map_batches``, or files as Ray tasks (Ray imported only here)."""
    from streamkit.engine.ray_common import import_ray

    import_ray()
    if type(source).__module__.startswith("ray.data"):
        from streamkit.engine.ray_data import run_dataset

        return run_dataset(stages, source, sink, cfg, options)
    if options.get("keep_end_state_ids"):
        msg = "engine='ray' keeps no row ids per end state: `keep_end_state_ids` must be False or None, got True"
        raise ValueError(msg)
    if isinstance(source, (str, os.PathLike)) or (
        isinstance(source, (list, tuple)) and source and all(isinstance(x, (str, os.PathLike)) for x in source)
    ):
        from streamkit.engine.ray_files import run_files

        on_progress = options.get("on_progress")
        reporter = progress_reporter(options.get("progress"))
        if reporter is not None:
            on_progress = _both(reporter, on_progress)
        try:
            return await run_files(stages, source, sink, options, cfg, on_progress)
        finally:
            if reporter is not None:
                reporter.close()
    msg = (
        f"engine='ray' reads a `ray.data.Dataset` or files (a path, a glob, a list of paths), "
        f"got a {type(source).__name__}\n\nHint: `ray.data.from_arrow(table)` makes a Dataset of a table"
    )
    raise TypeError(msg)


def _both(reporter: Callable[[Progress], None], user: Callable[[Progress], Any] | None) -> Callable[[Progress], Any]:
    """Show the progress, then call the user's ``on_progress`` (whose return value the run may await)."""

    def on_progress(p: Progress) -> Any:
        reporter(p)
        return None if user is None else user(p)

    return on_progress


def start_stages(stages: list[Stage], source: Any, sink: Any = None, **options: Unpack[StreamOptions]) -> StreamHandle:
    """:func:`stream_stages` on its own thread and event loop; a :class:`~streamkit.StreamHandle` at once.

    The options are checked here, so a bad option raises in the caller, not later in the handle.
    """
    check_options(options)
    user = options.get("on_progress")

    def run(hook: Callable[[Any], None]) -> Awaitable[RunResult]:
        def on_progress(p: Any) -> Any:
            hook(p)
            return None if user is None else user(p)

        opts: dict[str, Any] = {**options, "on_progress": on_progress}
        return stream_stages(stages, source, sink, **opts)

    return StreamHandle(run, name=stages[-1].name)._begin()


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
