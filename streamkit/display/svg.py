"""A :class:`~streamkit.display.graph.Diagram` as a standalone SVG document, with no system binary.

Each network is laid out by :func:`~streamkit.display.layout.layered_layout` and
drawn in its own frame, the frames top to bottom. A state is a rounded box
coloured by backend (kernel / python / event) with its name, backend and notes;
the start state has a bold border and an entry mark above it; end states have
a double border. Arcs carry their labels; the full text of a state or an arc is
its ``<title>`` (a tooltip). All text is escaped, and characters XML cannot
hold are shown as ``\\xNN``. Arrowheads are drawn as polygons rather than
markers, so several diagrams in one notebook page share no ids.
"""

from __future__ import annotations

import math
import re
from itertools import pairwise
from xml.sax.saxutils import escape

from streamkit.display.graph import BACKEND_COLOURS, Diagram, DiagramNetwork, shorten
from streamkit.display.layout import MARGIN, Box, Layout, Route, layered_layout

__all__ = ("to_svg", "xml_text", "text_width")

_FONT = 12.0  # px, monospace: a character is 0.6 em wide
_SMALL = 10.5
_LINE = 15.0
_PAD = 10.0
_TITLE = 22.0  # a frame's title line
_STROKE = "#475569"
_INK = "#0f172a"
_FAINT = "#64748b"
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` escaped for SVG text and attribute values (``&<>"'``, and characters XML 1.0 forbids).

    Examples
    --------
    >>> xml_text('<b a="1">&\\x00')
    '&lt;b a=&quot;1&quot;&gt;&amp;\\\\x00'
    """
    text = _BAD_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return escape(text, {'"': "&quot;", "'": "&#39;"})


def text_width(text: str, size: float = _FONT) -> float:
    """The width of ``text`` in a monospace font of ``size`` px (0.6 em a character)."""
    return len(text) * size * 0.6


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _lines(net: DiagramNetwork) -> dict[str, list[tuple[str, float, str]]]:
    """Per state: its lines as (text, size, colour)."""
    out = {}
    for s in net.states:
        lines = [(shorten(s.name, 40), _FONT, _INK), (shorten(s.subtitle, 40), _SMALL, _FAINT)]
        lines += [(shorten(n, 40), _SMALL, _INK) for n in s.notes]
        out[s.name] = lines
    return out


def _arrow(tip: tuple[float, float], direction: tuple[float, float], colour: str) -> str:
    dx, dy = direction
    norm = math.hypot(dx, dy) or 1.0
    dx, dy = dx / norm, dy / norm
    bx, by = tip[0] - 8 * dx, tip[1] - 8 * dy
    pts = [tip, (bx - 4 * dy, by + 4 * dx), (bx + 4 * dy, by - 4 * dx)]
    return f'<polygon points="{" ".join(f"{_f(x)},{_f(y)}" for x, y in pts)}" fill="{colour}"/>'


def _route_path(r: Route) -> tuple[str, tuple[float, float]]:
    """SVG path data for a route, and the direction it arrives in."""
    pts = r.points
    if r.kind in ("down", "back"):
        d = f"M{_f(pts[0][0])},{_f(pts[0][1])}"
        for (x1, y1), (x2, y2) in pairwise(pts):
            h = (y2 - y1) / 2
            d += f" C{_f(x1)},{_f(y1 + h)} {_f(x2)},{_f(y2 - h)} {_f(x2)},{_f(y2)}"
        return d, (0.0, 1.0) if r.kind == "down" else (0.0, -1.0)
    (x0, y0), (x1, y1) = pts
    reach = 30.0
    d = f"M{_f(x0)},{_f(y0)} C{_f(x0 + reach)},{_f(y0 - 16)} {_f(x1 + reach)},{_f(y1 + 16)} {_f(x1)},{_f(y1)}"
    return d, (-reach, -16.0)


def _label(text: str, at: tuple[float, float], anchor: str) -> list[str]:
    w = text_width(text, _SMALL)
    x, y = at
    left = x - w / 2 if anchor == "middle" else x
    return [
        f'<rect x="{_f(left - 2)}" y="{_f(y - 7)}" width="{_f(w + 4)}" height="13" fill="#ffffff" '
        'fill-opacity="0.85" rx="2"/>',
        f'<text x="{_f(x)}" y="{_f(y + 3.5)}" text-anchor="{anchor}" font-size="{_SMALL}" '
        f'fill="{_INK}">{xml_text(text)}</text>',
    ]


def _network(net: DiagramNetwork, lay: Layout, dx: float, dy: float) -> list[str]:
    """One network's frame, states and arcs, moved by (dx, dy)."""
    out = [f'<g class="network" transform="translate({_f(dx)},{_f(dy)})">']
    title = net.name + (f" ({net.caption})" if net.caption else "")
    out.append(f"<title>{xml_text(title)}</title>")
    out.append(
        f'<rect class="frame" x="0" y="0" width="{_f(lay.width)}" height="{_f(lay.height + _TITLE)}" '
        'fill="#f8fafc" stroke="#cbd5e1" rx="6"/>'
    )
    out.append(
        f'<text x="{_f(MARGIN)}" y="15" font-size="{_FONT}" font-weight="bold" fill="{_INK}">'
        f"{xml_text(shorten(title, 90))}</text>"
    )
    out.append(f'<g transform="translate(0,{_f(_TITLE)})">')
    for r in lay.routes:
        arc = net.arcs[r.arc]
        d, direction = _route_path(r)
        dash = ' stroke-dasharray="5,4"' if arc.style == "dashed" else ""
        out.append(f'<g class="arc"><title>{xml_text(arc.tooltip)}</title>')
        out.append(f'<path d="{d}" fill="none" stroke="{_STROKE}" stroke-width="1.3"{dash}/>')
        out.append(_arrow(r.points[-1], direction, _STROKE))
        if arc.label:
            out.extend(_label(arc.label, r.label, r.anchor))
        out.append("</g>")
    lines = _lines(net)
    for s in net.states:
        b = lay.boxes[s.name]
        out.append(f'<g class="state"><title>{xml_text(s.tooltip or s.name)}</title>')
        width = "2.5" if s.is_start else "1.2"
        out.append(
            f'<rect x="{_f(b.x)}" y="{_f(b.y)}" width="{_f(b.w)}" height="{_f(b.h)}" rx="8" '
            f'fill="{BACKEND_COLOURS[s.backend]}" stroke="{_STROKE}" stroke-width="{width}"/>'
        )
        if s.is_end:
            out.append(
                f'<rect x="{_f(b.x + 3)}" y="{_f(b.y + 3)}" width="{_f(b.w - 6)}" height="{_f(b.h - 6)}" rx="6" '
                f'fill="none" stroke="{_STROKE}" stroke-width="1"/>'
            )
        if s.is_start:
            out.append(f'<circle cx="{_f(b.cx)}" cy="{_f(b.y - 22)}" r="5" fill="{_INK}"/>')
            out.append(
                f'<line x1="{_f(b.cx)}" y1="{_f(b.y - 17)}" x2="{_f(b.cx)}" y2="{_f(b.y - 6)}" stroke="{_INK}"/>'
            )
            out.append(_arrow((b.cx, b.y), (0.0, 1.0), _INK))
        y = b.y + _PAD + 2
        for text, size, colour in lines[s.name]:
            y += size
            weight = ' font-weight="bold"' if size == _FONT else ""
            out.append(
                f'<text x="{_f(b.cx)}" y="{_f(y)}" text-anchor="middle" font-size="{size}" fill="{colour}"{weight}>'
                f"{xml_text(text)}</text>"
            )
            y += _LINE - size
        out.append("</g>")
    out.append("</g></g>")
    return out


def to_svg(diagram: Diagram) -> str:
    """The diagram as standalone SVG text (``<svg xmlns=...>``), laid out in pure Python.

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> from streamkit.display.graph import Diagram, DiagramArc, DiagramNetwork, DiagramState
    >>> net = DiagramNetwork("main", (DiagramState("in", "kernel", is_start=True),
    ...                               DiagramState("out", "python", is_end=True)),
    ...                      (DiagramArc("in", "out", "lambda state: state.data['x'] < 1"),))
    >>> svg = to_svg(Diagram("demo", (net,)))
    >>> root = ET.fromstring(svg)
    >>> sorted({t.text for t in root.iter("{http://www.w3.org/2000/svg}text")})
    ['in', 'kernel', 'main', 'out', 'python', 'x < 1']
    """
    parts: list[str] = []
    y = MARGIN
    width = 2 * MARGIN
    origins: list[tuple[float, float, Layout]] = []
    for net in diagram.networks:
        lines = _lines(net)
        sizes = {
            s.name: (
                max(90.0, max(text_width(t, size) for t, size, _ in lines[s.name]) + 2 * _PAD),
                len(lines[s.name]) * _LINE + 2 * _PAD - 2,
            )
            for s in net.states
        }
        start = net.start
        lay = layered_layout(
            [s.name for s in net.states],
            sizes,
            [(a.source, a.target) for a in net.arcs],
            None if start is None else start.name,
            [text_width(a.label, _SMALL) for a in net.arcs],
        )
        lay.width = max(lay.width, text_width(net.name + net.caption, _FONT) + 2 * MARGIN + 40)
        origins.append((MARGIN, y, lay))
        parts += _network(net, lay, MARGIN, y)
        y += lay.height + _TITLE + 28
        width = max(width, lay.width + 2 * MARGIN)
    for i, src, j, dst in diagram.links:
        ox1, oy1, l1 = origins[i]
        ox2, oy2, l2 = origins[j]
        a: Box = l1.boxes[src]
        b: Box = l2.boxes[dst]
        x1, y1 = ox1 + a.cx, oy1 + _TITLE + a.bottom
        x2, y2 = ox2 + b.cx, oy2 + _TITLE + b.y - 28  # onto the next stage's entry mark
        h = (y2 - y1) / 2
        parts.append(
            f'<g class="link"><title>{xml_text(f"{src} -> {dst}: completed records feed the next stage")}</title>'
            f'<path d="M{_f(x1)},{_f(y1)} C{_f(x1)},{_f(y1 + h)} {_f(x2)},{_f(y2 - h)} {_f(x2)},{_f(y2)}" '
            f'fill="none" stroke="{_FAINT}" stroke-width="1.3" stroke-dasharray="5,4"/>'
            f"{_arrow((x2, y2), (0.0, 1.0), _FAINT)}</g>"
        )
    height = y - 28 + MARGIN
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
        f'viewBox="0 0 {_f(width)} {_f(height)}" font-family="ui-monospace, SFMono-Regular, Menlo, monospace" '
        f'font-size="{_FONT}" role="img">'
    )
    return "\n".join([head, f"<title>{xml_text(diagram.title)}</title>", *parts, "</svg>"]) + "\n"
