"""Arrow table helpers shared by the in-memory API and the streaming engine."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from streamkit._cast import has_null_list
from streamkit.fsm.columns import unify_arrays

__all__ = ("concat_by_row", "sort_by_row")


def concat_by_row(tables: list[pa.Table]) -> pa.Table:
    """Concatenate tables with a ``_row`` column into one, ordered by ``_row``.

    Column types may differ between the tables (chunks are typed on their own):
    they are promoted where Arrow can (``int64`` and ``double`` give ``double``,
    a missing column gives nulls) and unified otherwise.

    Examples
    --------
    >>> t = concat_by_row([pa.table({"_row": [1, 3], "x": [1, 2]}),
    ...                    pa.table({"_row": [2], "x": [0.5]})])
    >>> t.column("_row").to_pylist(), t.column("x").to_pylist()
    ([1, 2, 3], [1.0, 0.5, 2.0])
    """
    tables = [t for t in tables if t is not None]
    if not tables:
        return pa.table({"_row": pa.array([], pa.int64())})
    if len(tables) == 1:
        return tables[0]
    nonempty = [t for t in tables if t.num_rows] or tables[:1]
    if len(nonempty) == 1:
        return nonempty[0]
    try:
        out = pa.concat_tables(nonempty, promote_options="permissive")
        if any(has_null_list(f.type) for f in out.schema):  # see cast_array
            out.validate(full=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, pa.ArrowIndexError):
        names: dict[str, None] = {}
        for t in nonempty:
            names.update(dict.fromkeys(t.column_names))
        cols = {}
        for k in names:
            arrs = [t.column(k).combine_chunks() if k in t.column_names else pa.nulls(t.num_rows)
                    for t in nonempty]
            cols[k] = pa.concat_arrays(unify_arrays(arrs))
        out = pa.table(cols)
    return sort_by_row(out)


def sort_by_row(table: pa.Table) -> pa.Table:
    """``table`` ordered by its ``_row`` column (unchanged when it already is).

    Examples
    --------
    >>> sort_by_row(pa.table({"_row": [2, 0, 1]})).column("_row").to_pylist()
    [0, 1, 2]
    """
    rows = table.column("_row").to_numpy()
    if rows.size > 1 and (np.diff(rows) < 0).any():
        table = table.take(pa.array(np.argsort(rows, kind="stable")))
    return table
