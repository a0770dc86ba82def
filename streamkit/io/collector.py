"""An in-memory sink: :class:`Collector`."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from streamkit._arrow.build import empty_table
from streamkit._arrow.unify import concat_tables
from streamkit.io._types import without_unions
from streamkit.io.base import Sink

__all__ = ("Collector",)


class Collector(Sink):
    """Keep every batch written, in memory; read them back as one table.

    Attributes
    ----------
    batches:
        The batches written, in order (tables without rows are not kept).

    Examples
    --------
    >>> c = Collector()
    >>> c.write(pa.table({"id": [1, 2], "v": [None, None]}))
    >>> c.write(pa.table({"id": [3], "v": [0.5]}))
    >>> len(c), c.table().column("v").type, c.to_pylist()[-1]
    (3, DataType(double), {'id': 3, 'v': 0.5})
    """

    blocks = False

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[pa.RecordBatch] = []
        self._schema: pa.Schema | None = None

    def _write(self, table: pa.Table) -> None:
        if self._schema is None:
            self._schema = table.schema
        if table.num_rows:
            self.batches.extend(b for b in table.to_batches() if b.num_rows)

    def write(self, table: pa.Table | pa.RecordBatch) -> None:
        """Keep a table's batches (a collector can be written to after ``close``)."""
        self._done = False
        super().write(table)

    def _discard(self) -> None:
        self.batches = []

    def table(self) -> pa.Table:
        """Everything written, as one table.

        Differing types are unified keeping every value (see :mod:`streamkit._arrow.unify`).
        """
        if not self.batches:
            return empty_table(self._schema or pa.schema([]))
        return concat_tables([pa.Table.from_batches([b]) for b in self.batches])

    def to_polars(self) -> Any:
        """Everything written, as a polars DataFrame (a column of several types as their text: polars has no union)."""
        import polars as pl

        return pl.from_arrow(without_unions(self.table()))

    def to_pylist(self) -> list[dict[str, Any]]:
        """Everything written, as a list of dicts."""
        return [r for b in self.batches for r in b.to_pylist()]

    def __len__(self) -> int:
        return sum(b.num_rows for b in self.batches)

    def __repr__(self) -> str:
        return f"Collector({len(self)} records in {len(self.batches)} batches)"
