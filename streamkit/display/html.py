"""Small, self-contained HTML for notebooks (``_repr_html_``): inline styles, no scripts, nothing external.

Every piece of text is escaped, and everything is bounded: tables show their
first rows and columns with each value cut to a few dozen characters, lists of
counts show their first entries and say how many more there are — so the HTML
of a run over a billion records is as small as that of one over ten.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = (
    "escape",
    "cell_text",
    "fields_html",
    "table_html",
    "counts_html",
    "panel_html",
    "STATUS_COLOURS",
    "MAX_ROWS",
    "MAX_COLUMNS",
    "MAX_CHARS",
    "MAX_ENTRIES",
)

#: Rows of a table shown.
MAX_ROWS = 5
#: Columns of a table shown.
MAX_COLUMNS = 12
#: Characters of one value shown.
MAX_CHARS = 60
#: Entries of a list of counts shown.
MAX_ENTRIES = 20

_BOX = "font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;color:#0f172a;margin:4px 0"
_TABLE = "border-collapse:collapse;margin:4px 0 8px 0"
_TH = "text-align:left;padding:2px 8px;border-bottom:1px solid #94a3b8;background:#f1f5f9;font-weight:600"
_TD = "text-align:left;padding:2px 8px;border-bottom:1px solid #e2e8f0;vertical-align:top;white-space:pre"
_KEY = "text-align:left;padding:1px 12px 1px 0;color:#475569;font-weight:normal;vertical-align:top"
_NOTE = "color:#64748b;margin:2px 0"
_CAPTION = "font-weight:600;margin:8px 0 2px 0"
_NULL = '<span style="color:#94a3b8">null</span>'


#: Colours of the statuses of records, jobs and runs.
STATUS_COLOURS: dict[str, str] = {
    "pending": "#cbd5e1",
    "processing": "#60a5fa",
    "running": "#60a5fa",
    "completed": "#4ade80",
    "failed": "#f87171",
    "skipped": "#facc15",
    "cancelled": "#fb923c",
    "aborted": "#a78bfa",
}


def escape(value: object) -> str:
    """``str(value)`` escaped for HTML text and attribute values.

    Examples
    --------
    >>> escape("<script>alert('x')</script>")
    '&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;'
    """
    return html.escape(str(value), quote=True)


def cell_text(value: object, limit: int = MAX_CHARS) -> str:
    """A value as one table cell's text: strings as they are, other values as Python shows them; at most ``limit``.

    Examples
    --------
    >>> cell_text("x" * 100, 8), cell_text(1.5), cell_text({"a": [1, 2]})
    ('xxxxxxx…', '1.5', "{'a': [1, 2]}")
    """
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(value: object) -> str:
    return _NULL if value is None else escape(cell_text(value))


def fields_html(fields: Iterable[tuple[str, object]]) -> str:
    """A two-column table of names and values (``None`` values are left out).

    Examples
    --------
    >>> "<th" in fields_html([("records", 3), ("error", None)]) and "error" not in fields_html([("error", None)])
    True
    """
    rows = "".join(
        f'<tr><th style="{_KEY}">{escape(k)}</th><td style="{_TD}">{escape(cell_text(v, 200))}</td></tr>'
        for k, v in fields
        if v is not None
    )
    return f'<table style="{_TABLE}">{rows}</table>'


def table_html(table: Any, *, caption: str = "", max_rows: int = MAX_ROWS, max_columns: int = MAX_COLUMNS) -> str:
    """The first rows and columns of a ``pyarrow.Table`` (or anything with ``num_rows``, ``slice``, ``select``).

    Only the rows shown are converted to Python, whatever the table's size; a note
    says how many rows and columns are not shown.

    Examples
    --------
    >>> import pyarrow as pa
    >>> out = table_html(pa.table({"x": range(1000)}), caption="x", max_rows=2)
    >>> out.count("<tr>"), "998 more rows" in out
    (3, True)
    """
    names = list(table.column_names)
    shown = names[:max_columns]
    rows = table.slice(0, max_rows).select(shown).to_pylist()
    head = "".join(f'<th style="{_TH}">{escape(cell_text(n, 40))}</th>' for n in shown)
    body = "".join("<tr>" + "".join(f'<td style="{_TD}">{_cell(r[n])}</td>' for n in shown) + "</tr>" for r in rows)
    more = []
    if table.num_rows > len(rows):
        more.append(f"{table.num_rows - len(rows):,} more rows")
    if len(names) > len(shown):
        more.append(f"{len(names) - len(shown)} more columns")
    title = f'<div style="{_CAPTION}">{escape(caption)} <span style="{_NOTE}">({table.num_rows:,} rows)</span></div>'
    note = f'<div style="{_NOTE}">… {escape(", ".join(more))}</div>' if more else ""
    return f'{title if caption else ""}<table style="{_TABLE}"><tr>{head}</tr>{body}</table>{note}'


def counts_html(counts: Mapping[str, int], *, caption: str = "", colours: Mapping[str, str] | None = None) -> str:
    """Counts as a table with a bar each (share of the total); the first :data:`MAX_ENTRIES` entries.

    Examples
    --------
    >>> out = counts_html({"completed": 3, "failed": 1})
    >>> "75.0%" in out and "25.0%" in out
    True
    """
    total = sum(counts.values())
    colours = colours or {}
    rows = []
    for name, n in list(counts.items())[:MAX_ENTRIES]:
        share = n / total if total else 0.0
        colour = colours.get(name, "#60a5fa")
        bar = f'<div style="background:{colour};height:8px;width:{share * 120:.0f}px"></div>'
        rows.append(
            f'<tr><th style="{_KEY}">{escape(cell_text(name, 40))}</th>'
            f'<td style="{_TD};text-align:right">{n:,}</td><td style="{_TD}">{bar}</td>'
            f'<td style="{_TD};color:#64748b">{share:.1%}</td></tr>'
        )
    more = len(counts) - MAX_ENTRIES
    note = f'<div style="{_NOTE}">… {more:,} more</div>' if more > 0 else ""
    title = f'<div style="{_CAPTION}">{escape(caption)}</div>' if caption else ""
    return f'{title}<table style="{_TABLE}">{"".join(rows)}</table>{note}'


def panel_html(title: str, parts: Sequence[str], *, subtitle: str = "", status: str | None = None) -> str:
    """One object's HTML: a bold title, an optional grey subtitle and status badge, then ``parts`` (HTML already
    escaped).

    Examples
    --------
    >>> panel_html("<Run>", ["<p>x</p>"]).count("&lt;Run&gt;")
    1
    """
    sub = f' <span style="color:#64748b;font-weight:normal">{escape(subtitle)}</span>' if subtitle else ""
    badge = ""
    if status is not None:
        colour = STATUS_COLOURS.get(status, "#cbd5e1")
        badge = (
            f' <span style="background:{colour};border-radius:3px;padding:0 6px;font-weight:normal">'
            f"{escape(status)}</span>"
        )
    head = f'<div style="font-weight:700;font-size:13px;margin-bottom:4px">{escape(title)}{sub}{badge}</div>'
    return f'<div style="{_BOX}">{head}{"".join(parts)}</div>'
