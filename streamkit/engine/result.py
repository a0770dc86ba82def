"""The result of a stream: counts, timing, peaks, the status index, collected outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from streamkit.result_status import ResultViews
from streamkit.status import StatusIndex
from streamkit.tables import concat_by_row, sort_by_row

__all__ = ("StreamResult",)


class StreamResult(ResultViews):
    """What a stream did. Seed-style dict access works for every count: ``result["failed"]``.

    Records that ended where no sink was given (and failed records when there is
    no error sink or file sink) are kept: ``output(end_state)`` and ``errors()``
    return them. ``status_counts()``, ``ids(status)`` and ``records(status)`` read
    the run's status index.
    """

    _KEYS = ("total_records", "successful", "failed", "end_state_counts", "duration",
             "records_per_second", "malformed", "peak_bytes_in_flight", "peak_records_in_flight",
             "chunks_processed")

    def __init__(self, *, end_states: list[str], end_state_counts: dict[str, int], index: StatusIndex,
                 duration: float, malformed: int, peak_bytes: int, peak_records: int, chunks: int,
                 collected: dict[str, Any], collected_errors: Any, paths: dict[str, str],
                 end_state_ids: dict[str, list[np.ndarray]] | None, warnings: list[str]) -> None:
        self.end_states = end_states
        self.end_state_counts = end_state_counts
        self.index = index
        self.duration = duration
        self.malformed = malformed
        self.peak_bytes_in_flight = peak_bytes
        self.peak_records_in_flight = peak_records
        self.chunks_processed = chunks
        #: End state (or ``"errors"``) → the file its records were written to.
        self.paths = paths
        #: Things worth knowing about the run (fields read but never seen, ...).
        self.warnings = warnings
        self._collected = collected
        self._collected_errors = collected_errors
        self._end_state_id_parts = end_state_ids
        counts = index.counts()
        self.successful = int(counts.get("completed", 0))
        self.failed = int(counts.get("failed", 0))
        self.total_records = sum(int(v) for v in counts.values())

    @property
    def records_per_second(self) -> float:
        """Records per second of wall time."""
        return self.total_records / self.duration if self.duration > 0 else 0.0

    def _end_state_ids(self, state: str) -> np.ndarray:
        if self._end_state_id_parts is None:
            return super()._end_state_ids(state)
        parts = self._end_state_id_parts.get(state, [])
        return np.sort(np.concatenate(parts)) if parts else np.empty(0, np.int64)

    # -- collected rows -----------------------------------------------------------------
    def output(self, end_state: str) -> pa.Table:
        """Records that ended in ``end_state``, when they were kept in memory (no sink given)."""
        if end_state not in self.end_states:
            msg = f"{end_state!r} is not an end state (end states: {', '.join(map(repr, self.end_states))})"
            raise KeyError(msg)
        c = self._collected.get(end_state)
        if c is None:
            where = self.paths.get(end_state)
            if where is not None:
                return _read_back(where)
            msg = f"records of end state {end_state!r} went to a sink; they are not kept in the result"
            raise KeyError(msg)
        return _by_row(c.table())

    def outputs(self) -> dict[str, pa.Table]:
        """Every kept end state's output table."""
        return {s: self.output(s) for s in self.end_states if s in self._collected}

    def errors(self) -> pa.Table:
        """Failed records (``_row``, ``error_state``, ``error_type``, ``error_message``, fields)."""
        if self._collected_errors is not None:
            return _by_row(self._collected_errors.table())
        where = self.paths.get("errors")
        if where is not None:
            return _read_back(where)
        return concat_by_row([])

    def __repr__(self) -> str:
        return (f"StreamResult(total_records={self.total_records}, successful={self.successful}, "
                f"failed={self.failed}, malformed={self.malformed}, end_state_counts={self.end_state_counts})")


def _read_back(path: str) -> pa.Table:
    from streamkit.io import open_source

    with open_source(Path(path), chunk_size=1 << 20) as src:
        tables = [pa.Table.from_batches([b]) for ch in src.chunks() for b, _ in ch.parts]
    return concat_by_row(tables)


def _by_row(table: pa.Table) -> pa.Table:
    """Collected rows in input order (chunks are written as they finish with ``preserve_order=False``)."""
    return sort_by_row(table) if "_row" in table.column_names else concat_by_row([])
