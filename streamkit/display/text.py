"""A :class:`~streamkit.display.graph.Diagram` as text: Mermaid (renders in Jupyter, GitHub, docs) and DOT (Graphviz).

Both show each network as a subgraph; each state with its name and backend
(kernel / python / event), coloured by backend; the start state as a stadium
(Mermaid) or with a bold border and an entry point (DOT); end states with a
double border; each arc with its label (order, condition shortened, priority)
— DOT also keeps the full text as the arc's tooltip.
"""

from __future__ import annotations

from streamkit.display.graph import BACKEND_COLOURS, Diagram, DiagramState, shorten

__all__ = ("to_mermaid", "to_dot", "mermaid_escape", "dot_escape")

# Mermaid reads `#code;` as a character: these would otherwise end a label, open
# a tag in its HTML labels, or start an entity
_MERMAID = {"#": "#35;", '"': "#quot;", "&": "#38;", "<": "#60;", ">": "#62;", "|": "#124;", "`": "#96;"}


def mermaid_escape(text: str) -> str:
    """``text`` safe inside a quoted Mermaid label, on one line.

    Examples
    --------
    >>> mermaid_escape('x < 1 & y == "a"')
    'x #60; 1 #38; y == #quot;a#quot;'
    """
    text = " ".join(text.split())
    return "".join(_MERMAID.get(c, c) for c in text)


def dot_escape(text: str) -> str:
    """``text`` safe inside a double-quoted DOT string (backslashes and quotes escaped, one line).

    Examples
    --------
    >>> print(dot_escape('say "hi" \\\\n'))
    say \\"hi\\" \\\\n
    """
    text = " ".join(text.split())
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _node_ids(diagram: Diagram) -> list[dict[str, str]]:
    """Per network, state name → an id made of letters and digits (names may hold anything)."""
    return [{s.name: f"n{i}s{j}" for j, s in enumerate(net.states)} for i, net in enumerate(diagram.networks)]


def _state_lines(state: DiagramState) -> list[str]:
    return [shorten(state.name, 48), shorten(state.subtitle, 48), *(shorten(n, 48) for n in state.notes)]


def to_mermaid(diagram: Diagram) -> str:
    """Mermaid ``flowchart TD`` text: one subgraph per network, states with their backends, arcs with labels.

    Examples
    --------
    >>> from streamkit.display.graph import Diagram, DiagramArc, DiagramNetwork, DiagramState
    >>> net = DiagramNetwork("main", (DiagramState("in", "kernel", is_start=True),
    ...                               DiagramState("out", "kernel", is_end=True)),
    ...                      (DiagramArc("in", "out", "lambda state: state.data['x'] > 1"),))
    >>> print(to_mermaid(Diagram("demo", (net,))), end="")  # doctest: +ELLIPSIS
    flowchart TD
      subgraph n0["main"]
        n0s0(["in<br/>kernel"]):::start
        n0s1[["out<br/>kernel"]]:::end_state
        n0s0 -->|"x #62; 1"| n0s1
      end
    ...
    """
    ids = _node_ids(diagram)
    out = ["flowchart TD"]
    for i, net in enumerate(diagram.networks):
        title = net.name + (f" ({net.caption})" if net.caption else "")
        out.append(f'  subgraph n{i}["{mermaid_escape(shorten(title, 80))}"]')
        for s in net.states:
            label = "<br/>".join(mermaid_escape(x) for x in _state_lines(s))
            if s.is_start:
                shape = f'(["{label}"]):::start'
            elif s.is_end:
                shape = f'[["{label}"]]:::end_state'
            else:
                shape = f'["{label}"]'
            out.append(f"    {ids[i][s.name]}{shape}")
        for a in net.arcs:
            arrow = "-.->" if a.style == "dashed" else "-->"
            label = a.label
            text = f'|"{mermaid_escape(label)}"|' if label else ""
            out.append(f"    {ids[i][a.source]} {arrow}{text} {ids[i][a.target]}")
        out.append("  end")
    for i, src, j, dst in diagram.links:
        out.append(f"  {ids[i][src]} -.->|completed| {ids[j][dst]}")
    for backend, colour in BACKEND_COLOURS.items():
        members = [ids[i][s.name] for i, net in enumerate(diagram.networks) for s in net.states if s.backend == backend]
        out.append(f"  classDef {backend} fill:{colour},stroke:#475569,color:#0f172a")
        if members:
            out.append(f"  class {','.join(members)} {backend}")
    out.append("  classDef start stroke-width:3px")
    out.append("  classDef end_state stroke-width:2px")
    return "\n".join(out) + "\n"


def to_dot(diagram: Diagram) -> str:
    """Graphviz DOT text: a cluster per network; start states bold with an entry point, end states doubled.

    Render it with ``dot -Tsvg`` where Graphviz is installed (``to_svg()`` needs nothing).

    Examples
    --------
    >>> from streamkit.display.graph import Diagram, DiagramArc, DiagramNetwork, DiagramState
    >>> net = DiagramNetwork("main", (DiagramState("in", "python", is_start=True),
    ...                               DiagramState("out", "kernel", is_end=True)),
    ...                      (DiagramArc("in", "out", priority=3),))
    >>> dot = to_dot(Diagram("demo", (net,)))
    >>> print("\\n".join(line for line in dot.splitlines() if '"n0s' in line))
        "n0s0" [label="in\\npython", fillcolor="#fde68a", penwidth=2.5, tooltip="in"];
        "n0entry" -> "n0s0";
        "n0s1" [label="out\\nkernel", fillcolor="#dbeafe", peripheries=2, tooltip="out"];
        "n0s0" -> "n0s1" [label="[p=3]", tooltip="in -> out (priority 3)"];
    """
    ids = _node_ids(diagram)
    out = [
        f'digraph "{dot_escape(diagram.title)}" {{',
        "  rankdir=TB;",
        '  graph [fontname="monospace", fontsize=11, compound=true];',
        '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=11, color="#475569"];',
        '  edge [fontname="monospace", fontsize=10, color="#475569"];',
    ]
    for i, net in enumerate(diagram.networks):
        title = net.name + (f" ({net.caption})" if net.caption else "")
        out.append(f'  subgraph "cluster_{i}" {{')
        out.append(f'    label="{dot_escape(title)}";')
        for s in net.states:
            label = "\\n".join(dot_escape(x) for x in _state_lines(s))
            attrs = [f'label="{label}"', f'fillcolor="{BACKEND_COLOURS[s.backend]}"']
            if s.is_start:
                attrs.append("penwidth=2.5")
            if s.is_end:
                attrs.append("peripheries=2")
            attrs.append(f'tooltip="{dot_escape(s.tooltip or s.name)}"')
            out.append(f'    "{ids[i][s.name]}" [{", ".join(attrs)}];')
            if s.is_start:
                out.append(f'    "n{i}entry" [shape=point, width=0.12, label=""];')
                out.append(f'    "n{i}entry" -> "{ids[i][s.name]}";')
        for a in net.arcs:
            attrs = [f'label="{dot_escape(a.label)}"', f'tooltip="{dot_escape(a.tooltip)}"']
            if a.style == "dashed":
                attrs.append("style=dashed")
            out.append(f'    "{ids[i][a.source]}" -> "{ids[i][a.target]}" [{", ".join(attrs)}];')
        out.append("  }")
    for i, src, j, dst in diagram.links:
        out.append(f'  "{ids[i][src]}" -> "{ids[j][dst]}" [label="completed", style=dashed];')
    out.append("}")
    return "\n".join(out) + "\n"
