"""Compile a validated network: per state, a numba kernel when it can, Python when it must.

Kernels are generated per state and per typing of the incoming record (the kinds
of its fields), on first use, and cached on disk. A state whose code is outside
the compiled subset runs as per-row Python (unless ``allow_python=False``, when
the config is rejected up front).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from streamkit.config import FSMConfig, load_config
from streamkit.config.model import EventSpec
from streamkit.display import Diagram, to_dot, to_mermaid, to_svg
from streamkit.display.views import network_html
from streamkit.errors import ConfigError, ConfigProblem, PerformanceWarning, UnsupportedExpressionError
from streamkit.events.base import DefaultExecutor
from streamkit.expr import ir
from streamkit.expr.kernel import StateCode
from streamkit.expr.parse import parse_expression
from streamkit.fsm.diagram import network_diagram
from streamkit.fsm.interpret import DEFAULT_MAX_STEPS, PyNetwork
from streamkit.fsm.kernel_cache import kernel_source, load_kernel
from streamkit.fsm.plans.base import StatePlan
from streamkit.fsm.plans.event import EventPlan, EventPools
from streamkit.fsm.plans.kernel import KernelPlan
from streamkit.fsm.plans.python import PythonPlan

__all__ = ("CompiledNetwork", "StateInfo", "compile_network")


@dataclass
class StateInfo:
    """What the compiler knows about one state before seeing data."""

    name: str
    index: int
    is_end: bool
    targets: list[str]
    transform: ir.Node | None = None
    conditions: list[ir.Node | None] = field(default_factory=list)
    python_reason: str | None = None  # set when the state can never be compiled
    event: EventSpec | None = None  # the events the state runs (seed 003): always its own plan
    region: list[str] = field(default_factory=list)  # states fused into this state's kernel, itself first

    @property
    def routing_only(self) -> bool:
        """No transform and nothing to decide: every record goes to the first arc (or stops)."""
        if self.python_reason or self.transform is not None or self.event is not None:
            return False
        return self.is_end or (bool(self.conditions) and self.conditions[0] is None)


def _parse(spec: Any, what: str) -> tuple[ir.Node | None, str | None]:
    if spec is None:
        return None, None
    if spec.kind == "callable":
        return None, f"{what} is a Python callable"
    if spec.kind == "polars":
        return None, f"{what} is a polars expression"
    try:
        return parse_expression(spec.code), None
    except UnsupportedExpressionError as exc:
        return None, f"{what}: {exc}"


class CompiledNetwork:
    """A network ready to run batches. A plain object: no global state.

    Parameters
    ----------
    config:
        The config (dict, path or :class:`~streamkit.config.FSMConfig`).
    allow_python:
        Whether inline code outside the compiled subset may run as Python.
    max_steps:
        State visits a record may make before it fails with ``StepLimitExceeded``.
    """

    def __init__(
        self,
        config: Any,
        *,
        allow_python: bool = True,
        max_steps: int = DEFAULT_MAX_STEPS,
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self.config: FSMConfig = load_config(config, functions=functions)
        self.allow_python = allow_python
        self.max_steps = int(max_steps)
        net = self.config.main
        self.network = net
        self.state_names = [s.name for s in net.states]
        self.index = {n: i for i, n in enumerate(self.state_names)}
        self.start = self.index[net.start.name]
        self.states: list[StateInfo] = []
        problems: list[ConfigProblem] = []
        for i, s in enumerate(net.states):
            arcs = net.arcs_from(s.name)
            info = StateInfo(s.name, i, s.is_end, [a.target for a in arcs])
            if s.event is not None:  # events are Python by nature: their arcs' conditions run with them
                info.event = s.event
                info.conditions = [None] * len(arcs)
                self.states.append(info)
                continue
            info.transform, why = _parse(s.transform, "transform")
            reasons = [why] if why else []
            if s.transform is not None and why and s.transform.kind == "inline":
                problems.append(ConfigProblem(s.transform.path, why.split(": ", 1)[1]))
            if not s.is_end:
                for a in arcs:
                    node, why = _parse(a.condition, f"condition of arc to {a.target!r}")
                    info.conditions.append(node)
                    if why:
                        reasons.append(why)
                        if a.condition is not None and a.condition.kind == "inline":
                            problems.append(ConfigProblem(a.condition.path, why.split(": ", 1)[1]))
            info.python_reason = "; ".join(reasons) or None
            self.states.append(info)
        if problems and not allow_python:
            hint = "allow_python=False runs only the compiled subset; pass allow_python=True to run these as Python"
            raise ConfigError([*problems, ConfigProblem("", hint)])
        self._py: PyNetwork | None = None  # built at first use: a compiled network may never need it
        self._py_lock = threading.Lock()
        #: Whether a record can visit a state twice.
        self.is_cyclic = _has_cycle(self.states, self.index)
        #: Whether state visits must be counted: a cycle, or a limit below the number of states.
        self.counts_steps = self.is_cyclic or self.max_steps < len(self.states)
        _plan_regions(self.states, self.index, self.start, fuse=not self.counts_steps)
        self._plans: dict[tuple[int, tuple[tuple[str, str], ...]], StatePlan] = {}
        #: The executors of the network's event states, kept for its life.
        self.event_pools = EventPools()
        # one thread makes a plan while the others wait for it (two making it at once take
        # twice as long each under the GIL: the flights network's first plan 30 ms, not 15)
        self._plan_lock = threading.Lock()
        self._warned: set[str] = set()  # states a PerformanceWarning was given for
        #: Empty error tables by input schema (immutable, so shared between batches).
        self.empty_errors: dict[Any, Any] = {}
        self._fields_read: dict[str, str] | None = None

    def fields_read(self) -> dict[str, str]:
        """Fields the compiled code reads that no transform writes: field -> first state reading it."""
        if self._fields_read is None:  # computed once: it walks every expression (~0.2 ms)
            self._fields_read = self._find_fields_read()
        return dict(self._fields_read)

    def _find_fields_read(self) -> dict[str, str]:
        produced: set[str] = set()
        read: dict[str, str] = {}
        for info in self.states:
            nodes = [info.transform, *info.conditions]
            if isinstance(info.transform, ir.DictLit):
                produced.update(k for k, _ in info.transform.items if k is not None)
            for node in nodes:
                if node is not None:
                    for f in ir.fields_read(node):
                        read.setdefault(f, info.name)
        return {f: s for f, s in read.items() if f not in produced}

    @property
    def py(self) -> PyNetwork:
        """The network as a per-record Python interpreter (the fallback's engine), built at first use.

        Its lambdas were checked when the config loaded; building it evaluates
        them (~2 ms for the flights network in a fresh process), which a
        network whose records all run compiled never has to pay.
        """
        if self._py is None:
            with self._py_lock:
                if self._py is None:
                    self._py = PyNetwork(self.network, allow_python=self.allow_python)
        return self._py

    def plan(self, state: int, kinds: tuple[tuple[str, str], ...]) -> StatePlan:
        """The plan for ``state`` given the kinds of the incoming record's fields."""
        key = (state, kinds)
        p = self._plans.get(key)
        if p is None:
            with self._plan_lock:
                p = self._plans.get(key)
                if p is None:
                    p = self._make_plan(state, kinds)
                    self._plans[key] = p
        return p

    def _make_plan(self, state: int, kinds: tuple[tuple[str, str], ...]) -> StatePlan:
        info = self.states[state]
        if info.event is not None:
            return EventPlan(info.event, self.event_pools)
        if info.python_reason:
            return self._python(info, info.python_reason)
        codes = {n: self._code(n) for n in info.region}
        try:
            src = kernel_source(codes, info.name, dict(kinds))
        except UnsupportedExpressionError as exc:
            if len(codes) == 1:
                return self._python(info, f"{exc} (for input fields {_kinds_text(kinds)})")
            try:  # something downstream does not compile for these inputs: this state alone
                src = kernel_source({info.name: codes[info.name]}, info.name, dict(kinds))
            except UnsupportedExpressionError as exc2:
                return self._python(info, f"{exc2} (for input fields {_kinds_text(kinds)})")
        fallback = PythonPlan("rows whose exact result needs Python (escaped by the kernel)")
        return KernelPlan(src, load_kernel(src.source), fallback)

    def _python(self, info: StateInfo, reason: str) -> PythonPlan:
        """A Python plan for a state, and the one PerformanceWarning the network gives for the state."""
        if info.name not in self._warned:
            self._warned.add(info.name)
            msg = (
                f"state {info.name!r} of network {self.network.name!r} runs as per-record Python "
                f"(compiled states run ~100x faster): {reason}"
            )
            warnings.warn(msg, PerformanceWarning, stacklevel=5)
        return PythonPlan(reason)

    def _code(self, name: str) -> StateCode:
        info = self.states[self.index[name]]
        return StateCode(info.name, info.is_end, info.transform, tuple(info.conditions), tuple(info.targets))

    def explain(self) -> str:
        """Per state: the backend that runs it and, for Python, why; then what ran so far.

        After records ran, each state lists every plan that ran for it — one per
        typing of its input — with the records it ran and, for a kernel, how many
        of them it escaped to Python for an exact answer.
        """
        lines = [f"network {self.network.name!r} ({len(self.states)} states)"]
        for info in self.states:
            role = " [start]" if info.index == self.start else ""
            role += " [end]" if info.is_end else ""
            variants = [p for (s, _), p in self._plans.items() if s == info.index]
            if info.event is not None:
                line = f"events  - {_events_text(info.event)}"
            elif info.python_reason:
                line = f"python  - {info.python_reason}"
            elif info.routing_only and len(info.region) == 1:
                line = "numba   - routing only (no transform, no condition)"
            elif len(info.region) > 1:
                line = (
                    f"numba   - one fused kernel with {', '.join(info.region[1:])}: "
                    "every transform and condition in one pass over the rows"
                )
            else:
                line = "numba   - fused kernel: transform and every condition in one pass over the rows"
            for p in variants:
                if isinstance(p, PythonPlan) and not info.python_reason:
                    line += f"; python for some inputs: {p.reason}"
            lines.append(f"  {info.name}{role}: {line}")
            for (s, kinds), p in self._plans.items():
                if s != info.index or not p.records:
                    continue
                ran = f"    ran: {p.backend} over {p.records:,} records (input fields {_kinds_text(kinds)})"
                if isinstance(p, KernelPlan) and p.escaped:
                    ran += f"; {p.escaped:,} escaped to Python for an exact answer"
                if isinstance(p, EventPlan) and p.retries:
                    ran += f"; {p.retries:,} retries"
                lines.append(ran)
        return "\n".join(lines)

    # -- pictures -----------------------------------------------------------------------
    def diagram(self) -> Diagram:
        """The config's networks as a :class:`~streamkit.display.Diagram`: states with their backends (as
        :meth:`explain` reports them), arcs with their conditions and priorities; the main network first.

        A config with several networks gives one frame (subgraph) per network; only the
        main network runs, so the others show the backends their states would get.
        """
        return network_diagram(self)

    def to_mermaid(self) -> str:
        """The network as Mermaid ``flowchart`` text (renders in Jupyter, GitHub and most docs tools).

        States show their backend (kernel / python / event); the start state is a
        stadium, end states have a double border; arcs are labelled with their
        order, condition (shortened) and priority.

        Examples
        --------
        >>> net = CompiledNetwork({"networks": [{"name": "main", "states": [
        ...     {"name": "in", "is_start": True}, {"name": "big", "is_end": True}, {"name": "small", "is_end": True}],
        ...     "arcs": [{"from": "in", "to": "big", "condition": "lambda state: state.data['x'] > 9", "priority": 1},
        ...              {"from": "in", "to": "small"}]}]})
        >>> print(net.to_mermaid().splitlines()[5])
            n0s0 -->|"1: x #62; 9 [p=1]"| n0s1
        """
        return to_mermaid(self.diagram())

    def to_dot(self) -> str:
        """The network as Graphviz DOT text (``dot -Tsvg`` draws it where Graphviz is installed)."""
        return to_dot(self.diagram())

    def to_svg(self) -> str:
        """The network as a standalone SVG document, laid out in pure Python (no Graphviz needed).

        States are ranked down from the start state, ordered to reduce crossings;
        arcs that close a cycle run up the right side; a state's full code and an
        arc's full condition are tooltips.
        """
        return to_svg(self.diagram())

    def to_html(self, title: str | None = None) -> str:
        """The notebook view: a summary per network and the SVG diagram inline (no scripts, nothing external)."""
        return network_html(title or f"CompiledNetwork {self.config.name or self.network.name!r}", self.diagram())

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        return f"CompiledNetwork({self.config.name or self.network.name!r}, states={len(self.states)})"


def _plan_regions(states: list[StateInfo], index: dict[str, int], start: int, *, fuse: bool) -> None:
    """Per state, the states its kernel runs on through: those reached only from it, compiled.

    A state reached by one arc only (and not the start) has a single input record shape,
    so its code can continue in its parent's kernel with the values still in registers.
    """
    indegree = [0] * len(states)
    for info in states:
        if not info.is_end:
            for t in info.targets:
                indegree[index[t]] += 1
    for info in states:
        info.region = [info.name]
        if not fuse or info.python_reason or info.event is not None:
            continue
        for name in info.region:
            st = states[index[name]]
            if st.is_end:
                continue
            for t in st.targets:
                j = index[t]
                fusable = not states[j].python_reason and states[j].event is None
                if j != start and indegree[j] == 1 and fusable and t not in info.region:
                    info.region.append(t)


def _has_cycle(states: list[StateInfo], index: dict[str, int]) -> bool:
    color = [0] * len(states)

    def visit(i: int) -> bool:
        color[i] = 1
        if not states[i].is_end:
            for t in states[i].targets:
                j = index[t]
                if color[j] == 1 or (color[j] == 0 and visit(j)):
                    return True
        color[i] = 2
        return False

    return any(color[i] == 0 and visit(i) for i in range(len(states)))


def _events_text(spec: EventSpec) -> str:
    """``Check (inline), Notify (ThreadPoolExecutor)``, with the group's evaluation state when there are several."""
    parts = []
    for ev in spec.events:
        ex = type(ev).executor
        how = "inline" if ex is None or ex is DefaultExecutor else getattr(ex, "__name__", str(ex))
        parts.append(f"{type(ev).__name__} ({how})")
    text = ", ".join(parts)
    if len(spec.events) > 1:
        text = f"parallel group {text}; {spec.evaluation.name}"
    return text + ": per-record Python"


def _kinds_text(kinds: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in kinds) or "none"


def compile_network(config: Any, **kwargs: Any) -> CompiledNetwork:
    """Validate and compile a config; see :class:`CompiledNetwork`."""
    return CompiledNetwork(config, **kwargs)
