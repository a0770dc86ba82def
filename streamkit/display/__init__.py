"""Pictures of networks and notebook views of runs, in pure Python: no system binary, no scripts.

- :mod:`~streamkit.display.graph`: what a diagram shows (states with their backends, arcs with their labels);
- :mod:`~streamkit.display.text`: a diagram as Mermaid or Graphviz DOT text;
- :mod:`~streamkit.display.layout` and :mod:`~streamkit.display.svg`: a layered layout and standalone SVG;
- :mod:`~streamkit.display.html`: bounded, escaped HTML tables and panels for ``_repr_html_``.

The classes users hold (``SimpleFSM``, ``RunResult``, ``StatusIndex``, run handles)
have thin methods over these; this package imports nothing else of streamkit.
"""

from streamkit.display.graph import Diagram as Diagram
from streamkit.display.graph import DiagramArc as DiagramArc
from streamkit.display.graph import DiagramNetwork as DiagramNetwork
from streamkit.display.graph import DiagramState as DiagramState
from streamkit.display.svg import to_svg as to_svg
from streamkit.display.text import to_dot as to_dot
from streamkit.display.text import to_mermaid as to_mermaid

__all__ = ("Diagram", "DiagramArc", "DiagramNetwork", "DiagramState", "to_mermaid", "to_dot", "to_svg")
