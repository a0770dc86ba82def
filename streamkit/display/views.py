"""The notebook views (``_repr_html_``) of streamkit's objects, from what they expose.

Each function takes the object itself (typed by the small protocol it needs, so
this package stays below the classes it draws) or the data its thin method
hands over, and returns a bounded, escaped HTML fragment built with
:mod:`streamkit.display.html`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from streamkit.display.graph import Diagram
from streamkit.display.html import (
    MAX_ENTRIES,
    STATUS_COLOURS,
    cell_text,
    counts_html,
    escape,
    fields_html,
    panel_html,
    table_html,
)
from streamkit.display.svg import to_svg

__all__ = ("network_html", "result_html", "index_html", "handle_html", "MAX_DIAGRAM_STATES")

#: Networks with more states than this are summarised without their diagram inline (``to_svg()`` still draws them).
MAX_DIAGRAM_STATES = 150
#: Output tables shown in a result's view.
MAX_OUTPUTS = 8


def network_html(title: str, diagram: Diagram) -> str:
    """A network's view: a summary line (states, backends, start, ends) and its SVG diagram inline."""
    parts = []
    n_states = sum(len(n.states) for n in diagram.networks)
    for net in diagram.networks[:MAX_ENTRIES]:
        backends: dict[str, int] = {}
        for s in net.states:
            backends[s.backend] = backends.get(s.backend, 0) + 1
        ends = [s.name for s in net.states if s.is_end]
        start = net.start
        fields = [
            ("network", net.name + (f" ({net.caption})" if net.caption else "")),
            ("states", f"{len(net.states)} ({', '.join(f'{n} {b}' for b, n in backends.items())})"),
            ("arcs", len(net.arcs)),
            ("start", None if start is None else start.name),
            ("end states", ", ".join(ends)),
        ]
        parts.append(fields_html(fields))
    if n_states <= MAX_DIAGRAM_STATES:
        parts.append(f'<div style="overflow:auto;max-height:640px">{to_svg(diagram)}</div>')
    else:
        parts.append(f"<div>{n_states:,} states: too many to draw here; to_svg() draws them all</div>")
    parts.append('<div style="color:#64748b">Mermaid text: to_mermaid(); Graphviz: to_dot()</div>')
    return panel_html(title, parts)


def _kept(what: str, table: Any) -> str:
    if table is None:
        return f'<div style="color:#64748b">{escape(what)}: sent to a sink, not kept</div>'
    if isinstance(table, str):
        return f'<div style="color:#64748b">{escape(what)}: written to {escape(cell_text(table, 200))}</div>'
    return table_html(table, caption=what)


def result_html(
    title: str,
    fields: Sequence[tuple[str, object]],
    end_state_counts: Mapping[str, int],
    outputs: Mapping[str, Any],
    errors: Any,
    warnings: Sequence[str] = (),
) -> str:
    """A run's view: its ``fields`` (counts, timing), records per end state and failed, the first rows of each
    kept output (at most :data:`MAX_OUTPUTS`) and of the failed records.

    ``outputs`` and ``errors`` are tables, the path a table was written to, or ``None`` (sent to a sink).
    """
    parts = [fields_html(fields)]
    colours = dict.fromkeys(end_state_counts, STATUS_COLOURS["completed"]) | {"failed": STATUS_COLOURS["failed"]}
    parts.append(counts_html(end_state_counts, caption="records per end state", colours=colours))
    for state, table in list(outputs.items())[:MAX_OUTPUTS]:
        parts.append(_kept(f"output {state!r}", table))
    if len(outputs) > MAX_OUTPUTS:
        parts.append(f'<div style="color:#64748b">… {len(outputs) - MAX_OUTPUTS} more outputs</div>')
    if errors is not None and (not hasattr(errors, "num_rows") or errors.num_rows):
        parts.append(_kept("failed records (errors())", errors))
    for w in warnings[:MAX_ENTRIES]:
        parts.append(f'<div style="color:#b45309">warning: {escape(cell_text(w, 300))}</div>')
    return panel_html(title, parts)


class _Index(Protocol):
    @property
    def total(self) -> int: ...
    @property
    def keep_ids(self) -> frozenset[Any]: ...
    def counts(self) -> dict[str, int]: ...
    def tags(self) -> list[str]: ...
    def tag_count(self, name: str) -> int: ...


def index_html(index: _Index) -> str:
    """A status index's view: the count of each status (with a bar), its tags and their counts, the kept statuses."""
    tags = index.tags()
    kept = ", ".join(sorted(str(getattr(s, "value", s)) for s in index.keep_ids))
    parts = [
        fields_html([("ids", f"{index.total:,}"), ("id lists kept for", kept or "none")]),
        counts_html(index.counts(), caption="ids per status", colours=STATUS_COLOURS),
    ]
    if tags:
        shown = {t: index.tag_count(t) for t in tags[:MAX_ENTRIES]}
        parts.append(counts_html(shown, caption=f"tags ({len(tags)})"))
        if len(tags) > MAX_ENTRIES:
            parts.append(f'<div style="color:#64748b">… {len(tags) - MAX_ENTRIES} more tags</div>')
    return panel_html("StatusIndex", parts)


class _Handle(Protocol):
    status: str
    error: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def progress(self) -> dict[str, Any]: ...
    def to_dict(self) -> dict[str, Any]: ...


def _time(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat(sep=" ", timespec="milliseconds")


def _value(v: object) -> str:
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 1e15 else repr(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    if isinstance(v, Mapping):
        return ", ".join(f"{k}={_value(x)}" for k, x in v.items() if x)  # non-zero entries only
    return str(v)


def handle_html(handle: _Handle) -> str:
    """A run handle's view (a job, a stream, a submitted run): id, kind, status, times, error, progress."""
    fields: list[tuple[str, object]] = [
        ("id", handle.id),
        ("kind", handle.kind),
        ("created", _time(handle.created_at)),
        ("started", _time(handle.started_at)),
        ("completed", _time(handle.completed_at)),
        ("error", handle.error),
    ]
    shown = {"id", "kind", "status", "error", "created_at", "started_at", "completed_at"}
    extra = [(k, v) for k, v in handle.to_dict().items() if k not in shown and isinstance(v, str | int | float)]
    fields += extra[:MAX_ENTRIES]
    progress = [(k, _value(v)) for k, v in handle.progress.items() if k != "status"][:MAX_ENTRIES]
    parts = [fields_html(fields)]
    if progress:
        parts.append('<div style="font-weight:600;margin:6px 0 2px 0">progress</div>' + fields_html(progress))
    return panel_html(type(handle).__name__, parts, status=handle.status)
