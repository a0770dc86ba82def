"""The async API: :class:`AsyncSimpleFSM` (anyio; runs under asyncio and trio)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import anyio

from streamkit.api import SimpleFSM
from streamkit.engine.config import StreamOptions, Unpack
from streamkit.engine.pipeline import AsyncPipeline
from streamkit.engine.result import RunResult
from streamkit.engine.stream import start_stages, stream_stages
from streamkit.events.base import network_of, set_runner
from streamkit.fsm.interpret import DEFAULT_MAX_STEPS
from streamkit.handle import StreamHandle

__all__ = ("AsyncSimpleFSM",)


class AsyncSimpleFSM:
    """A compiled network for async code: ``await fsm.process_stream(source=..., sink=...)``.

    Takes the same arguments as :class:`~streamkit.SimpleFSM` (``config``,
    ``allow_python``, ``max_steps``, ``chunk_size``, ``parallelism``, ``functions``).

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

    def __init__(
        self,
        config: Any,
        allow_python: bool = True,  # noqa: FBT001, FBT002 - positional in the seed API
        *,
        max_steps: int = DEFAULT_MAX_STEPS,
        chunk_size: int | None = None,
        parallelism: int | None = None,
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self._fsm = SimpleFSM(
            config,
            allow_python,
            max_steps=max_steps,
            chunk_size=chunk_size,
            parallelism=parallelism,
            functions=functions,
        )
        self.network = self._fsm.network
        self.config = self._fsm.config
        self.end_states = self._fsm.end_states

    async def process(self, data: Any, *, progress: bool | str = False) -> RunResult:
        """Run in-memory records (as :meth:`SimpleFSM.process`), in a worker thread."""
        return await anyio.to_thread.run_sync(lambda: self._fsm.process(data, progress=progress))

    async def process_stream(self, source: Any = None, sink: Any = None, **options: Unpack[StreamOptions]) -> RunResult:
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
        **options:
            The stream options of :class:`~streamkit.StreamOptions`: ``sinks``,
            ``error_sink``, the tuning of :class:`~streamkit.StreamConfig`
            (``chunk_size``, ``parallelism``, ``memory_limit_mb``, ...),
            ``on_progress``, ``schema``, ``use_streaming``, ...

        Returns
        -------
        RunResult
            ``total_records``, ``successful``, ``failed``, ``end_state_counts``,
            ``duration``, ``records_per_second``, ``malformed``,
            ``peak_bytes_in_flight`` (also as ``result["..."]``) and the run's
            status index (``status_counts()``, ``ids("failed")``, ``records("failed")``).
        """
        return await stream_stages([self._fsm.stage()], source, sink, **options)

    def start_stream(self, source: Any = None, sink: Any = None, **options: Unpack[StreamOptions]) -> StreamHandle:
        """Start the stream on its own thread and event loop; a :class:`~streamkit.StreamHandle` at once
        (``await handle.wait_async()`` waits without blocking this loop)."""
        return start_stages([self._fsm.stage()], source, sink, **options)

    def stage(self, parallelism: int | None = None) -> Any:
        """This network as a pipeline stage, optionally with its own number of workers."""
        return self._fsm.stage(parallelism)

    def __or__(self, other: Any) -> AsyncPipeline:
        return AsyncPipeline([self, other])

    def explain(self) -> str:
        """Per state, the backend that runs it (numba / arrow / python) and, for python, why."""
        return self._fsm.explain()

    def to_mermaid(self) -> str:
        """The network as Mermaid text: states with their backends, arcs with conditions and priorities
        (see :meth:`CompiledNetwork.to_mermaid <streamkit.CompiledNetwork.to_mermaid>`)."""
        return self.network.to_mermaid()

    def to_dot(self) -> str:
        """The network as Graphviz DOT text."""
        return self.network.to_dot()

    def to_svg(self) -> str:
        """The network as a standalone SVG document, laid out in pure Python (no Graphviz needed)."""
        return self.network.to_svg()

    def _repr_html_(self) -> str:
        return self.network.to_html(repr(self))

    def __repr__(self) -> str:
        return f"AsyncSimpleFSM({self.config.name!r}, states={len(self.network.states)})"


async def _run_event_async(ev: Any, records: Any, options: dict[str, Any]) -> RunResult:
    """``EventBase.run_async``: the event as a network of one state, run by :meth:`AsyncSimpleFSM.process`."""
    return await AsyncSimpleFSM(network_of(ev), **options).process(records)


set_runner("async", _run_event_async)
