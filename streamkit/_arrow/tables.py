"""Tables of records that carry their stream position in a ``_row`` column."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from streamkit._arrow.build import from_numpy, to_numpy
from streamkit._arrow.unify import concat_tables

__all__ = ("ROW_FIELD", "concat_by_row", "sort_by_row", "empty_rows")

#: The column holding each record's position in the input; reserved, never a record field.
ROW_FIELD = "_row"


def empty_rows() -> pa.Table:
    """A table of no records: only the ``_row`` column.

    Examples
    --------
    >>> empty_rows().schema
    _row: int64
    """
    return pa.table({ROW_FIELD: pa.nulls(0, pa.int64())})


def concat_by_row(tables: list[pa.Table]) -> pa.Table:
    """Tables with a ``_row`` column as one, ordered by ``_row``.

    Column types may differ between the tables (chunks are typed on their own):
    they are unified by :func:`streamkit._arrow.unify.concat_tables`, which keeps
    every value as it is (``int64`` and ``double`` give ``double``; ints and
    strings a union), and a column a table lacks is null there.

    Examples
    --------
    >>> t = concat_by_row([pa.table({"_row": [1, 3], "x": [1, 2]}),
    ...                    pa.table({"_row": [2], "x": [0.5]})])
    >>> t.column("_row").to_pylist(), t.column("x").to_pylist()
    ([1, 2, 3], [1.0, 0.5, 2.0])
    """
    tables = [t for t in tables if t is not None]
    if not tables:
        return empty_rows()
    nonempty = [t for t in tables if t.num_rows] or tables[:1]
    if len(nonempty) == 1:
        return nonempty[0]
    return sort_by_row(concat_tables(nonempty))


def sort_by_row(table: pa.Table, *, chunks_sorted: bool = False) -> pa.Table:
    """``table`` ordered by its ``_row`` column (unchanged when it already is).

    ``chunks_sorted``: the caller knows each chunk of the column is in order (as
    every batch the engine writes is), so only where chunks meet is compared.

    Examples
    --------
    >>> sort_by_row(pa.table({"_row": [2, 0, 1]})).column("_row").to_pylist()
    [0, 1, 2]
    """
    column = table.column(ROW_FIELD)
    if _increasing(column, within=not chunks_sorted):
        return table
    rows = to_numpy(column)
    return table.take(from_numpy(np.argsort(rows, kind="stable")))


def _increasing(column: pa.ChunkedArray, *, within: bool = True) -> bool:
    """Whether the row ids increase, checked chunk by chunk in place (no copy of the column).

    ``within=False``: each chunk is known to increase; only where chunks meet is checked.
    """
    last = None
    for chunk in column.chunks:
        if not len(chunk):
            continue
        rows = to_numpy(chunk)  # int64 without nulls: a view
        if last is not None and rows[0] <= last:
            return False
        if within and len(rows) > 1 and not (rows[1:] > rows[:-1]).all():
            return False
        last = rows[-1]
    return True
