"""The async API: :class:`AsyncSimpleFSM` (anyio; runs under asyncio and trio)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import anyio

from streamkit.api import FSMResult, SimpleFSM
from streamkit.engine.config import StreamConfig
from streamkit.engine.pipeline import AsyncPipeline
from streamkit.engine.progress import Progress
from streamkit.engine.result import StreamResult
from streamkit.engine.stream import stream_stages
from streamkit.fsm.interpret import DEFAULT_MAX_STEPS

__all__ = ("AsyncSimpleFSM",)


class AsyncSimpleFSM:
    """A compiled network for async code: ``await fsm.process_stream(source=..., sink=...)``.

    Takes the same arguments as :class:`~streamkit.SimpleFSM` (``config``,
    ``allow_python``, ``max_steps``, ``chunk_size``, ``functions``).

    Examples
    --------
    >>> import anyio
    >>> fsm = AsyncSimpleFSM({"networks": [{"name": "main", "states": [
    ...     {"name": "in", "is_start": True,
    ...      "functions": {"transform": "lambda state: {'y': state.data['x'] * 2}"}},
    ...     {"name": "out", "is_end": True}], "arcs": [{"from": "in", "to": "out"}]}]})
    >>> async def main():
    ...     r = await fsm.process_stream(source=[{"x": 1}, {"x": 2}], chunk_size=1)
    ...     return r["total_records"], r.output("out").column("y").to_pylist()
    >>> anyio.run(main)
    (2, [2, 4])
    """

    def __init__(self, config: Any, allow_python: bool = True, *,  # noqa: FBT001, FBT002 - the seed's API
                 max_steps: int = DEFAULT_MAX_STEPS, chunk_size: int = 65_536,
                 functions: Mapping[str, Callable[..., Any]] | None = None,
                 custom_functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self._fsm = SimpleFSM(config, allow_python, max_steps=max_steps, chunk_size=chunk_size,
                              functions=functions, custom_functions=custom_functions)
        self.network = self._fsm.network
        self.config = self._fsm.config
        self.end_states = self._fsm.end_states

    async def process(self, data: Any) -> FSMResult:
        """Run in-memory records (as :meth:`SimpleFSM.process`), in a worker thread."""
        return await anyio.to_thread.run_sync(self._fsm.process, data)

    async def process_stream(
        self,
        source: Any = None,
        sink: Any = None,
        *,
        sinks: Mapping[str, Any] | None = None,
        error_sink: Any = None,
        chunk_size: int | None = None,
        use_streaming: bool = True,  # noqa: FBT001, FBT002 - the seed passes it by name
        on_progress: Callable[[Progress], Any] | None = None,
        config: StreamConfig | None = None,
        parallelism: int | None = None,
        memory_limit_mb: float | None = None,
        backpressure_threshold: int | None = None,
        buffer_size: int | None = None,
        preserve_order: bool | None = None,
        format: str | None = None,  # noqa: A002 - the usual name
        sink_format: str | None = None,
        schema: Any = None,
        keep_end_state_ids: bool | None = None,
    ) -> StreamResult:
        """Stream records from ``source`` through the network into sinks, in bounded memory.

        Parameters
        ----------
        source:
            A JSONL / CSV / Parquet / Arrow IPC file (by suffix, or ``format=``), a
            glob or a list of paths; a list or (async) iterable of dicts or record
            batches; a ``pyarrow.Table`` / ``RecordBatchReader``; a polars
            ``DataFrame`` / ``LazyFrame``; anything with ``__arrow_c_stream__``.
            Malformed lines become failed records with their line number.
        sink:
            Where the records of every end state go: a file path (format by suffix
            or ``sink_format=``), a callback (sync or async) receiving record
            batches, a :class:`~streamkit.Collector`, or a list (gets dicts).
            ``None``: the records are kept in the result (``result.output(state)``).
        sinks:
            End state → sink, for end states that go elsewhere than ``sink``.
        error_sink:
            Where failed records go (``_row``, ``error_state``, ``error_type``,
            ``error_message`` and their fields). Default: ``<stem>.errors.jsonl``
            beside the first file sink, else the result (``result.errors()``).
        chunk_size, parallelism, memory_limit_mb, backpressure_threshold, buffer_size, preserve_order:
            Tuning, as in :class:`~streamkit.StreamConfig`; given here they
            override ``config``.
        use_streaming:
            ``False`` reads the whole input as one chunk (no bounded memory).
        on_progress:
            Called (sync or async) after every chunk is written, with a
            :class:`~streamkit.Progress`.
        schema:
            Expected input types (a ``pyarrow.Schema`` or ``{field: type}``); records
            that do not fit fail at read time with a reason.
        keep_end_state_ids:
            Keep each end state's row ids for ``result.ids(end_state)`` (default:
            only when outputs are kept in memory).

        Returns
        -------
        StreamResult
            ``total_records``, ``successful``, ``failed``, ``end_state_counts``,
            ``duration``, ``records_per_second``, ``malformed``,
            ``peak_bytes_in_flight`` (also as ``result["..."]``) and the run's
            status index (``status_counts()``, ``ids("failed")``, ``records("failed")``).
        """
        return await stream_stages(
            [self._fsm.stage()], source, sink, sinks=sinks, error_sink=error_sink, chunk_size=chunk_size,
            use_streaming=use_streaming, on_progress=on_progress, config=config, parallelism=parallelism,
            memory_limit_mb=memory_limit_mb, backpressure_threshold=backpressure_threshold,
            buffer_size=buffer_size, preserve_order=preserve_order, format=format, sink_format=sink_format,
            schema=schema, keep_end_state_ids=keep_end_state_ids)

    def stage(self, parallelism: int | None = None) -> Any:
        """This network as a pipeline stage, optionally with its own number of workers."""
        return self._fsm.stage(parallelism)

    def __or__(self, other: Any) -> AsyncPipeline:
        return AsyncPipeline([self, other])

    def explain(self) -> str:
        """Per state, the backend that runs it (numba / arrow / python) and, for python, why."""
        return self._fsm.explain()

    def __repr__(self) -> str:
        return f"AsyncSimpleFSM({self.config.name!r}, states={len(self.network.states)})"
