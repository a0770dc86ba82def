"""The user-facing API: :class:`SimpleFSM`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa

from streamkit.engine.chunks import Stage
from streamkit.engine.config import StreamOptions, Unpack, usable_cores
from streamkit.engine.local import run_local
from streamkit.engine.pipeline import Pipeline
from streamkit.engine.result import RunResult
from streamkit.engine.stream import run_blocking, start_stages, stream_stages
from streamkit.events.base import network_of, set_runner
from streamkit.fsm.compile import CompiledNetwork
from streamkit.fsm.execute import BatchResult, run_batch
from streamkit.fsm.interpret import DEFAULT_MAX_STEPS
from streamkit.handle import StreamHandle

__all__ = ("SimpleFSM",)


class SimpleFSM:
    """Validate and compile a seed 002 config; run records through it.

    Parameters
    ----------
    config:
        The config dict (seed 002 format), a path to a YAML/JSON file, or an ``FSMConfig``.
    allow_python:
        Let inline code outside the compiled subset run as per-row Python. With
        ``False`` such a config is rejected with a :class:`~streamkit.ConfigError`
        naming the state and the construct.
    max_steps:
        State visits a record may make before it fails with ``StepLimitExceeded``
        (cycles are allowed).
    chunk_size:
        Records per batch :meth:`process` runs. By default it follows the input:
        64k records, more for a large table already in memory (a quarter of its
        share per worker, up to 512k: a batch costs ~0.5 ms of Python whatever its
        size). Streams take theirs from their own options.
    parallelism:
        Worker threads :meth:`process` runs a large input's chunks on (default: one
        per usable core; inputs under 100k records run in the calling thread).
        Streams take theirs from their own options.
    functions:
        Named Python functions that the config may refer to by name.

    Examples
    --------
    >>> fsm = SimpleFSM({"networks": [{"name": "main",
    ...     "states": [{"name": "in", "is_start": True,
    ...                 "functions": {"transform": "lambda state: {'y': state.data['x'] * 2}"}},
    ...                {"name": "out", "is_end": True}],
    ...     "arcs": [{"from": "in", "to": "out"}]}]})
    >>> r = fsm.process([{"x": 1}, {"x": None}])
    >>> r["successful"], r["failed"], r.output("out").column("y").to_pylist()
    (1, 1, [2])
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
        self.network = CompiledNetwork(config, allow_python=allow_python, max_steps=max_steps, functions=functions)
        self.config = self.network.config
        self.chunk_size = None if chunk_size is None else int(chunk_size)
        self.parallelism = usable_cores() if parallelism is None else int(parallelism)
        self.end_states = [s.name for s in self.network.states if s.is_end]

    def process(self, data: Any, *, progress: bool | str = False) -> RunResult:
        """Run records through the network and return where each one went; everything is kept in memory.

        ``data`` is anything a stream reads (:func:`~streamkit.open_source`): a list
        of dicts, a ``pyarrow.Table`` or ``RecordBatch``, a ``polars.DataFrame``,
        anything exposing ``__arrow_c_stream__``, even a file path. Items that are
        not records fail at read time (``error_state`` ``<read>``) with a reason.
        ``progress=True`` shows a progress bar (a terminal bar, or a widget in
        Jupyter); ``"lines"`` prints plain lines.
        """
        return run_local(
            [self.stage()], data, chunk_size=self.chunk_size, parallelism=self.parallelism, progress=progress
        )

    def process_batch(self, batch: pa.RecordBatch | pa.Table, *, row_offset: int = 0) -> BatchResult:
        """Run one batch: the engine's building block (one table per end state, failed records, statuses)."""
        return run_batch(self.network, batch, row_offset=row_offset)

    def process_stream(self, source: Any = None, sink: Any = None, **options: Unpack[StreamOptions]) -> RunResult:
        """Stream ``source`` through the network into ``sink`` in bounded memory (blocking).

        The same as :meth:`AsyncSimpleFSM.process_stream <streamkit.AsyncSimpleFSM.process_stream>`,
        with the options of :class:`~streamkit.StreamOptions`; inside a running
        event loop (a notebook) it runs the stream on a helper thread.
        """
        return run_blocking(lambda: stream_stages([self.stage()], source, sink, **options))

    def start_stream(self, source: Any = None, sink: Any = None, **options: Unpack[StreamOptions]) -> StreamHandle:
        """Start :meth:`process_stream` in the background; a :class:`~streamkit.StreamHandle` at once.

        The handle tells the stream's ``status`` and ``progress``, ``cancel()`` stops
        it, ``wait()`` waits for it, and ``result`` is its ``RunResult`` once completed.
        """
        return start_stages([self.stage()], source, sink, **options)

    def stage(self, parallelism: int | None = None) -> Stage:
        """This network as a pipeline stage, optionally with its own number of workers."""
        return Stage(self.network, self.config.name or "main", parallelism)

    def __or__(self, other: Any) -> Pipeline:
        return Pipeline([self, other])

    def explain(self) -> str:
        """Per state, the backend that runs it (numba / arrow / python) and, for python, why."""
        return self.network.explain()

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
        return f"SimpleFSM({self.config.name!r}, states={len(self.network.states)})"


def _run_event(ev: Any, records: Any, options: dict[str, Any]) -> RunResult:
    """``EventBase.run``: the event as a network of one state, run by :meth:`SimpleFSM.process`."""
    return SimpleFSM(network_of(ev), **options).process(records)


set_runner("sync", _run_event)
