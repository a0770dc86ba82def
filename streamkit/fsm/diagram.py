"""Compiled networks as :class:`~streamkit.display.Diagram` s, for ``to_mermaid()``, ``to_dot()`` and ``to_svg()``.

Each state is drawn with the backend :meth:`CompiledNetwork.explain
<streamkit.CompiledNetwork.explain>` reports for it: ``kernel`` (a fused numba
kernel, or routing alone), ``python`` (per-record Python) or ``event`` (seed 003
events). A config with several networks is drawn as one diagram with a frame per
network; only ``main_network`` runs, so the other networks' backends are what the
compiler would choose for them (their code is parsed, not compiled). A pipeline
is a frame per stage, each stage's end states feeding the next stage's start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from streamkit.config.model import FunctionSpec, NetworkConfig, StateConfig
from streamkit.display.graph import Backend, Diagram, DiagramArc, DiagramNetwork, DiagramState
from streamkit.errors import UnsupportedExpressionError
from streamkit.expr.parse import parse_expression

__all__ = ("network_diagram", "stages_diagram", "spec_text")

#: notes to show under states: (network or stage index, state name) -> lines
Notes = Mapping[tuple[int, str], Sequence[str]]


def spec_text(spec: FunctionSpec | None) -> str | None:
    """A transform's or condition's text: inline code as written, a function's name with ``()``, a polars expression.

    Examples
    --------
    >>> spec_text(FunctionSpec("inline", "$", code="lambda state: True")), spec_text(None)
    ('lambda state: True', None)
    """
    if spec is None:
        return None
    if spec.kind == "inline":
        return spec.code
    if spec.kind == "polars":
        return f"polars: {spec.name or spec.expr}"
    name = spec.name or getattr(spec.func, "__qualname__", None) or type(spec.func).__name__
    return f"{name}()"


def _compiled_backend(info: Any) -> tuple[Backend, str, str]:
    """(backend, detail, why) of a compiled state (a ``StateInfo``), as ``explain()`` reports it."""
    if info.event is not None:
        return "event", ", ".join(info.event.names), "events: per-record Python"
    if info.python_reason:
        return "python", "", info.python_reason
    if info.routing_only and len(info.region) == 1:
        return "kernel", "routing", "numba: routing only (no transform, no condition)"
    if len(info.region) > 1:
        return "kernel", "", f"numba: one fused kernel with {', '.join(info.region[1:])}"
    return "kernel", "", "numba: fused kernel (transform and conditions in one pass)"


def _static_backend(net: NetworkConfig, state: StateConfig) -> tuple[Backend, str, str]:
    """(backend, detail, why) the compiler would choose for a state of a network that does not run."""
    if state.event is not None:
        return "event", ", ".join(state.event.names), "events: per-record Python"
    specs = [("transform", state.transform)]
    if not state.is_end:
        specs += [(f"condition of arc to {a.target!r}", a.condition) for a in net.arcs_from(state.name)]
    reasons = [f"{what}: {why}" for what, spec in specs if (why := _not_compiled(spec))]
    if reasons:
        return "python", "", "; ".join(reasons)
    return "kernel", "", "numba (not compiled: this network does not run)"


def _not_compiled(spec: FunctionSpec | None) -> str | None:
    """Why the compiler would run ``spec`` as Python (as ``CompiledNetwork`` says it), ``None`` if it would not."""
    if spec is None:
        return None
    if spec.kind != "inline" or spec.code is None:
        return "a Python callable" if spec.kind == "callable" else "a polars expression"
    try:
        parse_expression(spec.code)
    except UnsupportedExpressionError as exc:
        return str(exc)
    return None


def _network(
    net: NetworkConfig,
    backends: Mapping[str, tuple[Backend, str, str]],
    notes: Mapping[str, Sequence[str]],
    name: str,
    caption: str,
) -> DiagramNetwork:
    states = []
    for s in net.states:
        backend, detail, why = backends[s.name]
        tooltip = f"{s.name}: {backend} - {why}"
        code = spec_text(s.transform)
        if code:
            tooltip += f"\ntransform: {code}"
        states.append(
            DiagramState(s.name, backend, s.is_start, s.is_end, detail, tuple(notes.get(s.name, ())), tooltip)
        )
    arcs = []
    for a in net.arcs:
        tried = net.arcs_from(a.source)
        order = tried.index(a) + 1 if len(tried) > 1 else 0
        arcs.append(DiagramArc(a.source, a.target, spec_text(a.condition), a.priority, order, a.on))
    return DiagramNetwork(name, tuple(states), tuple(arcs), caption)


def network_diagram(network: Any, *, notes: Notes | None = None) -> Diagram:
    """Every network of a ``CompiledNetwork``'s config, the main one first, with the backends of its states.

    ``notes`` adds lines under states: ``{(0, state): [...]}`` (0: the main network).
    """
    notes = notes or {}
    config = network.config
    main = {info.name: _compiled_backend(info) for info in network.states}
    main_notes = {s: list(v) for (i, s), v in notes.items() if i == 0}
    caption = "main network" if len(config.networks) > 1 else ""
    nets = [_network(network.network, main, main_notes, network.network.name, caption)]
    for net in config.networks:
        if net.name != config.main_network:
            backends = {s.name: _static_backend(net, s) for s in net.states}
            not_run = f"not run: main_network is {config.main_network!r}"
            nets.append(_network(net, backends, {}, net.name, not_run))
    return Diagram(config.name or network.network.name, tuple(nets))


def stages_diagram(stages: Sequence[tuple[str, Any]], *, notes: Notes | None = None) -> Diagram:
    """A pipeline, as ``(stage name, CompiledNetwork)`` pairs: one frame per stage (its main network).

    Each stage's end states feed the next stage's start (dashed links).

    ``notes`` adds lines under states: ``{(stage index, state): [...]}``.
    """
    notes = notes or {}
    nets = []
    links = []
    for k, (name, network) in enumerate(stages):
        backends = {info.name: _compiled_backend(info) for info in network.states}
        stage_notes = {s: list(v) for (i, s), v in notes.items() if i == k}
        caption = f"stage {k + 1} of {len(stages)}" if len(stages) > 1 else ""
        nets.append(_network(network.network, backends, stage_notes, name, caption))
        if k:
            start = network.network.start.name
            links += [(k - 1, s.name, k, start) for s in stages[k - 1][1].network.states if s.is_end]
    title = " | ".join(name for name, _ in stages)
    return Diagram(title, tuple(nets), tuple(links))
