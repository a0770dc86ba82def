"""What a diagram shows: networks of states and arcs as plain data, with their labels.

A :class:`Diagram` knows nothing about how a network runs; the classes that do
(``CompiledNetwork``, pipelines, results) build one and hand it to the
renderers: :mod:`~streamkit.display.text` (Mermaid and DOT) and
:mod:`~streamkit.display.svg` (standalone SVG).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

__all__ = (
    "Backend",
    "DiagramState",
    "DiagramArc",
    "DiagramNetwork",
    "Diagram",
    "shorten",
    "short_code",
    "BACKEND_COLOURS",
)

#: How a state runs: a numba ``kernel``, per-record ``python``, or Python ``event`` s.
Backend = Literal["kernel", "python", "event"]

#: Fill colour of a state per backend (the same in every format).
BACKEND_COLOURS: dict[str, str] = {"kernel": "#dbeafe", "python": "#fde68a", "event": "#e9d5ff"}

_LAMBDA = re.compile(r"^\s*lambda\s+(\w+)\s*:\s*", re.DOTALL)
_SPACE = re.compile(r"\s+")


def shorten(text: str, limit: int = 40) -> str:
    """``text`` on one line, cut to ``limit`` characters with ``…`` when longer.

    Examples
    --------
    >>> shorten("a  very\\nlong   text", 10)
    'a very lo…'
    >>> shorten("short")
    'short'
    """
    one_line = _SPACE.sub(" ", text).strip()
    return one_line if len(one_line) <= limit else one_line[: max(limit - 1, 0)] + "…"


def short_code(code: str, limit: int = 40) -> str:
    """Inline code as an arc or state label: no ``lambda state:``, ``state.data['x']`` as ``x``, then :func:`shorten`.

    Examples
    --------
    >>> short_code("lambda state: state.data['amount'] > 100 and state.data.get('vip', False)")
    "amount > 100 and get('vip', False)"
    >>> short_code("lambda s: s.data['a b'] == 1")
    "['a b'] == 1"
    """
    m = _LAMBDA.match(code)
    body = code[m.end() :] if m else code
    if m:
        arg = re.escape(m.group(1))
        body = re.sub(rf"\b{arg}\.data\[(['\"])([A-Za-z_]\w*)\1\]", r"\2", body)
        body = re.sub(rf"\b{arg}\.data\.get\(", "get(", body)
        body = re.sub(rf"\b{arg}\.data\[", "[", body)
    return shorten(body, limit)


@dataclass(frozen=True)
class DiagramState:
    """One state as drawn.

    Attributes
    ----------
    name:
        The state's name (unique within its network).
    backend:
        How it runs (:data:`Backend`): the colour of its box and its second line.
    is_start, is_end:
        Where records enter and where they stop; each is drawn differently.
    detail:
        What runs, as shown beside the backend (``"transform"``, an event's name, ...); may be empty.
    notes:
        More lines under the backend (record counts of a result, say).
    tooltip:
        The full text behind the shortened labels (the transform's code).
    """

    name: str
    backend: Backend
    is_start: bool = False
    is_end: bool = False
    detail: str = ""
    notes: tuple[str, ...] = ()
    tooltip: str = ""

    @property
    def subtitle(self) -> str:
        """The second line of the state's box: the backend, and its detail when there is one."""
        return f"{self.backend}: {self.detail}" if self.detail else self.backend


@dataclass(frozen=True)
class DiagramArc:
    """One arc as drawn: from ``source`` to ``target`` (state names of the same network).

    Attributes
    ----------
    condition:
        The condition's text (inline code, a function's name), ``None`` for an arc taken always.
    priority:
        The arc's priority (higher is tried first).
    order:
        Its place among the source's arcs in the order they are tried (1 first); 0 when it is the only one.
    on:
        For an arc after an event: ``"failure"`` or a ``goto`` descriptor (``None``: on success).
    style:
        ``"solid"``, or ``"dashed"`` for the arcs between the stages of a pipeline.
    """

    source: str
    target: str
    condition: str | None = None
    priority: int = 0
    order: int = 0
    on: str | int | None = None
    style: Literal["solid", "dashed"] = "solid"

    @property
    def label(self) -> str:
        """The arc's label: its order, when, its condition (shortened) and priority.

        Examples
        --------
        >>> DiagramArc("a", "b", "lambda state: state.data['x'] > 0", priority=2, order=1).label
        '1: x > 0 [p=2]'
        >>> DiagramArc("a", "b", order=2).label
        '2: else'
        >>> DiagramArc("a", "b", on="failure", order=2).label
        'on failure'
        """
        parts = []
        if self.on is not None:  # after an event: the outcome picks the arc, not the order
            parts.append(f"on {self.on}")
        if self.condition is not None:
            parts.append(short_code(self.condition))
        elif self.order > 1 and self.on is None:
            parts.append("else")
        elif self.order == 1 and self.on is None:
            parts.append("always")
        if self.priority:
            parts.append(f"[p={self.priority}]")
        text = " ".join(parts)
        return f"{self.order}: {text}" if self.order and self.on is None else text

    @property
    def tooltip(self) -> str:
        """The arc's full text: source, target, condition, priority."""
        text = f"{self.source} -> {self.target}"
        if self.on is not None:
            text += f" on {self.on}"
        if self.condition is not None:
            text += f" when {self.condition}"
        return text + f" (priority {self.priority})"


@dataclass(frozen=True)
class DiagramNetwork:
    """One network of a diagram: its states, its arcs, and a line that says what it is."""

    name: str
    states: tuple[DiagramState, ...]
    arcs: tuple[DiagramArc, ...]
    caption: str = ""

    @property
    def start(self) -> DiagramState | None:
        """The start state, if the network has one."""
        return next((s for s in self.states if s.is_start), None)


@dataclass(frozen=True)
class Diagram:
    """Networks to draw together, one box (subgraph) each, and the arcs between them.

    Attributes
    ----------
    title:
        What the diagram shows (the config's name).
    networks:
        The networks, drawn top to bottom in this order.
    links:
        Arcs between networks, as ``(network index, state, network index, state)``: a
        pipeline's end states feed the next stage's start state.
    """

    title: str
    networks: tuple[DiagramNetwork, ...]
    links: tuple[tuple[int, str, int, str], ...] = field(default=())
