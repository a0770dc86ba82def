"""A layered layout of one network, in pure Python: where each state's box goes and how each arc runs.

The classic layered (Sugiyama) steps, kept small:

1. **Cycles**: a depth-first search from the start state, in arc order, finds the
   back-edges (arcs into a state still on the search path); self-loops are set aside.
2. **Ranks**: every other arc points down. A state's rank is its longest distance
   from the start over those arcs, so every arc that is not part of a cycle is drawn
   downwards. An arc over several ranks passes through a point on each rank between;
   so does a back-edge, turned round for the layout, so it never crosses a box.
3. **Order**: each rank starts in breadth-first order from the start; sweeps down
   and up sort each rank by the barycenter of its neighbours in the rank before,
   keeping the order with the fewest crossings.
4. **Coordinates**: boxes are packed left to right with a gap, pulled towards the
   mean of their neighbours above (then below), and each rank re-centred on them.
5. **Arcs**: downward arcs leave the bottom of their box and enter the top of the
   next; back-edges leave the top of theirs and curve up into the bottom of the
   state they return to (ports spread along each side in the order of their other
   ends); self-loops are small loops on the right side of their box. Each label
   sits near the lower end of its arc's first segment, and boxes are spaced so the
   labels arriving at one rank do not overlap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

__all__ = ("Box", "Route", "Layout", "layered_layout", "RANK_GAP", "NODE_GAP")

#: Vertical space between two ranks (room for the labels of the arcs between them).
RANK_GAP = 64.0
#: Horizontal space between two boxes of one rank.
NODE_GAP = 28.0
#: Space above the first rank (the start state's entry mark).
TOP = 34.0
MARGIN = 12.0
_LOOP = 30.0  # how far a self-loop reaches right of its box
_HEIGHTS = (0.74, 0.46, 0.2)  # where labels over one node go in the gap above it (0 top, 1 bottom)


@dataclass
class Box:
    """A state's box: top-left corner ``(x, y)``, width ``w``, height ``h``."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        """Horizontal centre."""
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        """Vertical centre."""
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        """Right edge."""
        return self.x + self.w

    @property
    def bottom(self) -> float:
        """Bottom edge."""
        return self.y + self.h

    def overlaps(self, other: Box) -> bool:
        """Whether the two boxes share any area (touching edges do not count)."""
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom


@dataclass
class Route:
    """How arc ``arc`` (its index in the edge list) is drawn.

    ``kind`` ``"down"``: ``points`` from the source's bottom through each rank between to the
    target's top; ``"back"`` (an arc closing a cycle): from the source's top up through each
    rank between to the target's bottom; both joined by vertical-tangent curves.
    ``"loop"``: the start and end of a self-loop on the right side of its box.
    ``label`` is where the label goes and ``anchor`` how it is anchored there (SVG ``text-anchor``).
    """

    arc: int
    kind: Literal["down", "back", "loop"]
    points: list[tuple[float, float]]
    label: tuple[float, float]
    anchor: Literal["start", "middle"] = "middle"


@dataclass
class Layout:
    """Boxes by state name, a route per arc, and the size of the whole."""

    boxes: dict[str, Box]
    routes: list[Route]
    width: float
    height: float
    ranks: dict[str, int] = field(default_factory=dict)


_Node = str | tuple[int, int]  # a state, or (arc, k): arc's point on the k-th rank below its source


def _back_edges(names: Sequence[str], out: dict[str, list[tuple[int, str]]], start: str) -> set[int]:
    """Indices of the arcs that close a cycle, by an iterative depth-first search from ``start`` (then the rest)."""
    colour = dict.fromkeys(names, 0)  # 0 unseen, 1 on the path, 2 done
    back: set[int] = set()
    for root in [start, *names]:
        if colour[root]:
            continue
        colour[root] = 1
        stack = [(root, iter(out[root]))]
        while stack:
            node, it = stack[-1]
            for i, t in it:
                if colour[t] == 1:
                    back.add(i)
                elif colour[t] == 0:
                    colour[t] = 1
                    stack.append((t, iter(out[t])))
                    break
            else:
                colour[node] = 2
                stack.pop()
    return back


def _ranks(names: Sequence[str], down: list[tuple[int, str, str]]) -> dict[str, int]:
    """Longest distance from a root over the downward arcs (a DAG), in topological order."""
    indeg = dict.fromkeys(names, 0)
    succ: dict[str, list[str]] = {n: [] for n in names}
    for _, s, t in down:
        indeg[t] += 1
        succ[s].append(t)
    rank = dict.fromkeys(names, 0)
    queue = deque(n for n in names if indeg[n] == 0)
    while queue:
        n = queue.popleft()
        for t in succ[n]:
            rank[t] = max(rank[t], rank[n] + 1)
            indeg[t] -= 1
            if indeg[t] == 0:
                queue.append(t)
    return rank


def _crossings(layers: list[list[_Node]], succ: dict[_Node, list[_Node]]) -> int:
    total = 0
    for upper, lower in pairwise(layers):
        pos = {n: i for i, n in enumerate(lower)}
        ends = [pos[t] for n in upper for t in succ[n]]  # in the order of the upper rank
        total += sum(1 for i in range(len(ends)) for j in range(i + 1, len(ends)) if ends[j] < ends[i])
    return total


def _order(layers: list[list[_Node]], pred: dict[_Node, list[_Node]], succ: dict[_Node, list[_Node]]) -> None:
    """Barycenter sweeps, down then up, keeping the order with the fewest crossings (in place)."""
    best = [list(layer) for layer in layers]
    best_crossings = _crossings(layers, succ)
    for sweep in range(8):
        down = sweep % 2 == 0
        rng = range(1, len(layers)) if down else range(len(layers) - 2, -1, -1)
        for r in rng:
            ref = layers[r - 1] if down else layers[r + 1]
            pos = {n: i for i, n in enumerate(ref)}
            links = pred if down else succ

            def key(item: tuple[int, _Node], pos: dict[_Node, int] = pos, links: dict = links) -> float:
                i, n = item
                near = [pos[m] for m in links[n] if m in pos]
                return sum(near) / len(near) if near else float(i)

            layers[r] = [n for _, n in sorted(enumerate(layers[r]), key=key)]
        c = _crossings(layers, succ)
        if c < best_crossings:
            best, best_crossings = [list(layer) for layer in layers], c
    layers[:] = best


def _gap(a: _Node, b: _Node, width: dict[_Node, float], right: dict[_Node, float], label: dict[_Node, float]) -> float:
    """The distance between the centres of neighbours ``a`` (left) and ``b``: their boxes and their labels apart."""
    boxes = width[a] / 2 + right[a] + NODE_GAP + width[b] / 2
    return max(boxes, (label[a] + label[b]) / 2 + 16 + (width[a] + width[b]) / 6)  # ports may sit off centre


def _place(
    layer: list[_Node],
    want: dict[_Node, float],
    width: dict[_Node, float],
    right: dict[_Node, float],
    label: dict[_Node, float],
) -> None:
    """x centres for one rank: as close to ``want`` as the order and the gaps allow, in place in ``want``."""
    xs: list[float] = []
    for i, n in enumerate(layer):
        x = want[n]
        if i:
            x = max(x, xs[-1] + _gap(layer[i - 1], n, width, right, label))
        xs.append(x)
    shift = sum(want[n] - x for n, x in zip(layer, xs)) / len(layer)  # re-centre on what was wanted
    for n, x in zip(layer, xs):
        want[n] = x + shift


def layered_layout(
    names: Sequence[str],
    sizes: dict[str, tuple[float, float]],
    arcs: Sequence[tuple[str, str]],
    start: str | None,
    label_widths: Sequence[float],
) -> Layout:
    """Lay out one network: ``names`` with box ``sizes`` (w, h), ``arcs`` as (source, target) by name.

    ``label_widths`` (one per arc) leave room for the labels of self-loops and back-edges.

    Examples
    --------
    >>> lay = layered_layout(["a", "b", "c"], dict.fromkeys("abc", (60.0, 30.0)),
    ...                      [("a", "b"), ("b", "c"), ("c", "a"), ("b", "b")], "a", [0.0, 0.0, 40.0, 40.0])
    >>> lay.ranks
    {'a': 0, 'b': 1, 'c': 2}
    >>> [r.kind for r in lay.routes]
    ['down', 'down', 'back', 'loop']
    """
    if not names:
        return Layout({}, [], 2 * MARGIN, 2 * MARGIN)
    out: dict[str, list[tuple[int, str]]] = {n: [] for n in names}
    for i, (s, t) in enumerate(arcs):
        if s != t:
            out[s].append((i, t))
    back = _back_edges(names, out, start if start is not None else names[0])
    # back-edges are turned round: every entry is (arc, upper state, lower state)
    down = [(i, s, t) for i, (s, t) in enumerate(arcs) if s != t and i not in back]
    rank = _ranks(names, down)
    turned = [(i, t, s) for i, (s, t) in enumerate(arcs) if i in back]

    # the graph of ranks: states plus a point per rank an arc passes
    succ: dict[_Node, list[_Node]] = {n: [] for n in names}
    pred: dict[_Node, list[_Node]] = {n: [] for n in names}
    chains: dict[int, list[_Node]] = {}  # top to bottom
    node_rank: dict[_Node, int] = {}
    node_rank.update(rank)
    for i, upper, lower in down + turned:
        chain: list[_Node] = [upper, *((i, k) for k in range(1, rank[lower] - rank[upper])), lower]
        chains[i] = chain
        for k, n in enumerate(chain[1:-1], 1):
            node_rank[n] = rank[upper] + k
            succ[n], pred[n] = [], []
        for a, b in pairwise(chain):
            succ[a].append(b)
            pred[b].append(a)

    # initial order: breadth first from the start, in arc order; then the rest
    seen: dict[_Node, None] = {}
    roots = [start] if start is not None else []
    for root in [*roots, *names]:
        if root in seen:
            continue
        seen[root] = None
        queue: deque[_Node] = deque([root])
        while queue:
            n = queue.popleft()
            for m in succ[n]:
                if m not in seen:
                    seen[m] = None
                    queue.append(m)
    layers: list[list[_Node]] = [[] for _ in range(max(node_rank.values()) + 1)]
    for n in seen:
        layers[node_rank[n]].append(n)
    _order(layers, pred, succ)

    # sizes, and the room a self-loop and its label need to the right of a box
    width = {n: sizes[n][0] if isinstance(n, str) else 0.0 for n in node_rank}
    height = {n: sizes[n][1] if isinstance(n, str) else 0.0 for n in node_rank}
    right = dict.fromkeys(node_rank, 0.0)
    for i, (s, t) in enumerate(arcs):
        if s == t:
            right[s] = max(right[s], _LOOP + 6 + label_widths[i])
    label = dict.fromkeys(node_rank, 0.0)  # the widest label drawn just above (below, turned round) a node
    for i, chain in chains.items():
        near = chain[1] if i not in back else chain[-1]
        label[near] = max(label[near], label_widths[i])

    # y per rank, x by packing then pulling towards neighbours
    ys, tall, y = [], [], TOP
    for layer in layers:
        ys.append(y)
        tall.append(max(height[n] for n in layer))
        y += tall[-1] + RANK_GAP
    x: dict[_Node, float] = {}
    for layer in layers:
        for k, n in enumerate(layer):
            x[n] = x[layer[k - 1]] + _gap(layer[k - 1], n, width, right, label) if k else width[n] / 2
    for sweep in range(4):
        down_sweep = sweep % 2 == 0
        order = layers[1:] if down_sweep else layers[-2::-1]
        for layer in order:
            want: dict[_Node, float] = {}
            for n in layer:
                nbrs = pred[n] if down_sweep else succ[n]
                want[n] = sum(x[m] for m in nbrs) / len(nbrs) if nbrs else x[n]
            _place(layer, want, width, right, label)
            x.update(want)
    left = min(min(x[n] - width[n] / 2, x[n] - label[n] / 2) for n in x)
    for n in x:
        x[n] += MARGIN - left

    boxes = {n: Box(x[n] - width[n] / 2, ys[rank[n]], width[n], height[n]) for n in names}

    def top_of(n: _Node) -> tuple[float, float]:
        if isinstance(n, str):
            return (boxes[n].cx, boxes[n].y)
        return (x[n], ys[node_rank[n]])

    def through(n: _Node) -> list[tuple[float, float]]:
        """Where a chain passes a rank: straight down beside that rank's boxes."""
        r = node_rank[n]
        return [(x[n], ys[r]), (x[n], ys[r] + tall[r])]

    # ports: spread along the bottom (arcs leaving downwards, back-edges arriving) and along the top
    # (arcs arriving, back-edges leaving), in the order of the arcs' other ends
    bottom: dict[str, list[int]] = {n: [] for n in names}
    top: dict[str, list[int]] = {n: [] for n in names}
    for i, chain in chains.items():
        bottom[chain[0]].append(i)  # type: ignore[index]
        top[chain[-1]].append(i)  # type: ignore[index]
    below: dict[int, tuple[float, float]] = {}  # where each chain leaves its upper state
    above: dict[int, tuple[float, float]] = {}  # where it reaches its lower state
    for n in names:
        box = boxes[n]
        ports = sorted(bottom[n], key=lambda i: top_of(chains[i][1])[0])
        for k, i in enumerate(ports):
            below[i] = (box.x + box.w * (k + 1) / (len(ports) + 1), box.bottom)
        ports = sorted(top[n], key=lambda i: top_of(chains[i][-2])[0])
        for k, i in enumerate(ports):
            above[i] = (box.x + box.w * (k + 1) / (len(ports) + 1), box.y)

    routes: list[Route] = []
    n_near: dict[_Node, int] = {}
    for i, chain in chains.items():
        pts = [below[i], *(p for n in chain[1:-1] for p in through(n)), above[i]]
        kind: Literal["down", "back"] = "back" if i in back else "down"
        if kind == "back":
            pts.reverse()
        # the label in the gap above the lower end of the arc's first segment, over that end's port;
        # several labels over one node go at different heights
        near = chain[1] if kind == "down" else chain[-1]
        k = n_near.get(near, 0)
        n_near[near] = k + 1
        (_, y0), (x1, y1) = (pts[0], pts[1]) if kind == "down" else (pts[1], pts[0])
        at = _HEIGHTS[k % len(_HEIGHTS)]
        routes.append(Route(i, kind, pts, (x1, y0 + (y1 - y0) * at)))
    extent = max(x[n] + max(width[n] / 2 + right[n], label[n] / 2) for n in x)
    for i, (s, t) in enumerate(arcs):
        if s == t:
            box = boxes[s]
            ends = [(box.right, box.cy - 7), (box.right, box.cy + 7)]
            routes.append(Route(i, "loop", ends, (box.right + _LOOP + 4, box.cy), "start"))
    routes.sort(key=lambda r: r.arc)
    total_w = extent + MARGIN
    total_h = ys[-1] + max(height[n] for n in layers[-1]) + MARGIN
    return Layout(boxes, routes, total_w, total_h, rank)
