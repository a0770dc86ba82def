"""Pipelines: compiled networks that stream into each other, ``fsm_a | fsm_b``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio

from streamkit.display import Diagram, to_dot, to_mermaid, to_svg
from streamkit.display.views import network_html
from streamkit.engine.chunks import Stage
from streamkit.engine.config import StreamOptions, Unpack, usable_cores
from streamkit.engine.local import run_local
from streamkit.engine.result import RunResult
from streamkit.engine.stream import run_blocking, start_stages, stream_stages
from streamkit.fsm.diagram import stages_diagram
from streamkit.handle import StreamHandle

__all__ = ("Pipeline", "AsyncPipeline", "as_stages")


def as_stages(items: Sequence[Any], parallelism: Sequence[int | None] | None = None) -> list[Stage]:
    """Stages from FSMs, ``(fsm, parallelism)`` pairs, stages or pipelines; names made unique."""
    stages: list[Stage] = []
    for i, item in enumerate(items):
        par = None
        if isinstance(item, tuple) and len(item) == 2:
            item, par = item
        if isinstance(item, Pipeline):
            stages.extend(Stage(s.network, s.name, s.parallelism) for s in item.stages)
            continue
        if isinstance(item, Stage):
            stages.append(Stage(item.network, item.name, par or item.parallelism))
            continue
        network = getattr(item, "network", None)
        if network is None:
            msg = f"pipeline stage {i} must be a SimpleFSM or AsyncSimpleFSM, got {type(item).__name__}"
            raise TypeError(msg)
        stages.append(Stage(network, network.config.name or f"stage{i}", par))
    if parallelism is not None:
        if len(parallelism) != len(stages):
            msg = f"`parallelism` needs one entry per stage ({len(stages)}), got {len(parallelism)}"
            raise ValueError(msg)
        for s, p in zip(stages, parallelism):
            s.parallelism = p if p is not None else s.parallelism
    seen: dict[str, int] = {}
    for s in stages:
        k = seen.get(s.name, 0)
        seen[s.name] = k + 1
        if k:
            s.name = f"{s.name}{k + 1}"
    if not stages:
        msg = "a pipeline needs at least one stage"
        raise ValueError(msg)
    return stages


class Pipeline:
    """Compiled networks chained in memory: each stage's completed records feed the next.

    Every stage has its own workers (``parallelism`` per stage, or ``(fsm, n)``
    items); records that fail in any stage go to the error sink with
    ``error_state`` named ``"<stage>.<state>"``. Row ids (``_row``) are the
    positions in the original input throughout. ``fsm_a | fsm_b`` builds one.

    Examples
    --------
    >>> from streamkit import SimpleFSM
    >>> def net(name, code):
    ...     return SimpleFSM({"name": name, "networks": [{"name": "main", "states": [
    ...         {"name": "in", "is_start": True, "functions": {"transform": code}},
    ...         {"name": "out", "is_end": True}], "arcs": [{"from": "in", "to": "out"}]}]})
    >>> double = net("double", "lambda state: {'x': state.data['x'] * 2}")
    >>> p = double | net("inc", "lambda state: {'x': state.data['x'] + 1}")
    >>> r = p.process([{"x": 1}, {"x": 2}, {"x": None}])
    >>> r.output("out").column("x").to_pylist(), r.failed
    ([3, 5], 1)
    """

    def __init__(self, stages: Sequence[Any], *, parallelism: Sequence[int | None] | None = None) -> None:
        self.stages = as_stages(stages, parallelism)

    @property
    def end_states(self) -> list[str]:
        """End states of the last stage (what the sinks receive)."""
        return self.stages[-1].end_states

    def __or__(self, other: Any) -> Pipeline:
        return type(self)([self, other])

    def process_stream(self, source: Any = None, sink: Any = None, **options: Unpack[StreamOptions]) -> RunResult:
        """Stream ``source`` through every stage into the sinks (blocking); options as ``SimpleFSM.process_stream``."""
        return run_blocking(lambda: stream_stages(self.stages, source, sink, **options))

    def start_stream(self, source: Any = None, sink: Any = None, **options: Unpack[StreamOptions]) -> StreamHandle:
        """Start :meth:`process_stream` in the background; a :class:`~streamkit.StreamHandle` at once."""
        return start_stages(self.stages, source, sink, **options)

    async def aprocess_stream(
        self, source: Any = None, sink: Any = None, **options: Unpack[StreamOptions]
    ) -> RunResult:
        """The same as :meth:`process_stream`, awaited."""
        return await stream_stages(self.stages, source, sink, **options)

    def process(
        self,
        data: Any,
        *,
        chunk_size: int | None = None,
        parallelism: int | None = None,
        progress: bool | str = False,
    ) -> RunResult:
        """Run in-memory records through the pipeline; outputs are kept in the result.

        Defaults as :meth:`SimpleFSM.process <streamkit.SimpleFSM.process>`: chunks sized
        for the input, one worker per usable core.
        """
        workers = usable_cores() if parallelism is None else parallelism
        return run_local(self.stages, data, chunk_size=chunk_size, parallelism=workers, progress=progress)

    def diagram(self) -> Diagram:
        """The stages as a :class:`~streamkit.display.Diagram`: a frame per stage, in order, each stage's end
        states linked to the next stage's start (the records that complete a stage feed the next)."""
        return stages_diagram([(s.name, s.network) for s in self.stages])

    def to_mermaid(self) -> str:
        """The pipeline as Mermaid text: a subgraph per stage, dashed links between stages."""
        return to_mermaid(self.diagram())

    def to_dot(self) -> str:
        """The pipeline as Graphviz DOT text: a cluster per stage."""
        return to_dot(self.diagram())

    def to_svg(self) -> str:
        """The pipeline as a standalone SVG document: the stages top to bottom, laid out in pure Python.

        Examples
        --------
        >>> from streamkit import SimpleFSM
        >>> def net(name):
        ...     return SimpleFSM({"name": name, "networks": [{"name": "main", "states": [
        ...         {"name": "in", "is_start": True}, {"name": "out", "is_end": True}],
        ...         "arcs": [{"from": "in", "to": "out"}]}]})
        >>> svg = (net("clean") | net("score")).to_svg()
        >>> svg.startswith("<svg"), "clean" in svg and "score" in svg
        (True, True)
        """
        return to_svg(self.diagram())

    def _repr_html_(self) -> str:
        return network_html(repr(self), self.diagram())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({' | '.join(s.name for s in self.stages)})"


class AsyncPipeline(Pipeline):
    """A :class:`Pipeline` whose ``process_stream`` is awaited (``async_fsm_a | async_fsm_b``)."""

    async def process_stream(  # type: ignore[override]
        self, source: Any = None, sink: Any = None, **options: Unpack[StreamOptions]
    ) -> RunResult:
        """Stream ``source`` through every stage into the sinks."""
        return await stream_stages(self.stages, source, sink, **options)

    async def process(  # type: ignore[override]
        self,
        data: Any,
        *,
        chunk_size: int | None = None,
        parallelism: int | None = None,
        progress: bool | str = False,
    ) -> RunResult:
        """Run in-memory records through the pipeline (in a worker thread); outputs are kept in the result."""
        return await anyio.to_thread.run_sync(
            lambda: Pipeline.process(self, data, chunk_size=chunk_size, parallelism=parallelism, progress=progress)
        )
