"""What a run has done so far: every record written is counted here, once, with its status.

A :class:`Tally` is fed each chunk after its records were written (or kept), in
any order, from any one thread at a time. It checks conservation — every
position of the chunk ended in exactly one place: an end state, or the failed
records (failed, cancelled or skipped) — and puts the chunk's statuses into the
run's :class:`~streamkit.StatusIndex`. Streams and in-memory runs share it, so
their counts, status indices and warnings are computed the same way.
"""

from __future__ import annotations

import numpy as np

from streamkit._arrow.build import to_numpy
from streamkit._arrow.tables import ROW_FIELD
from streamkit.engine.chunks import Chunk
from streamkit.engine.progress import ErrorLog, Progress
from streamkit.fsm.compile import CompiledNetwork
from streamkit.status import EventStatus, StatusIndex

__all__ = ("Tally", "ROW_FIELD_WARNING")

#: The warning of a run whose input has a field named ``_row``.
ROW_FIELD_WARNING = (
    "the input has a field '_row': streamkit keeps each record's position there,"
    " so that field is not part of the records (rename it to keep it)"
)

_COMPLETED = int(EventStatus.COMPLETED)
_FAILED = int(EventStatus.FAILED)


class Tally:
    """Counts, status index and failed-record log of one run.

    Parameters
    ----------
    end_states:
        The end states of the run's last stage, in order.
    keep_end_state_ids:
        Keep each end state's row ids (for ``result.ids(end_state)`` when the
        records went to a sink).
    """

    def __init__(self, end_states: list[str], *, keep_end_state_ids: bool = False) -> None:
        self.end_states = end_states
        self.index = StatusIndex()
        self.errors = ErrorLog()
        self.end_state_counts = dict.fromkeys(end_states, 0)
        self.end_state_ids: dict[str, list[np.ndarray]] | None = {} if keep_end_state_ids else None
        self.chunks = 0
        self.records = 0
        self.malformed = 0
        self.retries: dict[str, int] = {}
        self.columns_seen: set[str] = set()

    def saw(self, chunk: Chunk) -> None:
        """Note the fields of a chunk's parsed records (for :meth:`warnings`)."""
        for b, _ in chunk.parts:
            self.columns_seen.update(b.schema.names)

    def account(self, chunk: Chunk) -> np.ndarray:
        """Count a written chunk and put its records' statuses into the index; its status codes, in order.

        Raises
        ------
        RuntimeError
            Records of the chunk are missing or counted twice (a bug, never silent).
        """
        codes = np.full(chunk.count, _COMPLETED, np.uint8)
        n_done = 0
        for state, ids in chunk.end_state_ids().items():
            n_done += ids.size
            self.end_state_counts[state] += ids.size
            if self.end_state_ids is not None:
                self.end_state_ids.setdefault(state, []).append(ids)
        errors = chunk.error_table
        n_failed = 0
        if errors is not None:
            failed = to_numpy(errors.column(ROW_FIELD))
            codes[failed - chunk.start] = _FAILED
            n_failed = failed.size
            self.errors.add_table(errors)
        for code, ids in chunk.ended.items():  # failed rows that ended skipped or cancelled
            codes[ids - chunk.start] = code
        if n_done + n_failed != chunk.count:
            msg = (
                f"chunk at row {chunk.start}: {chunk.count} records in, {n_done} completed + "
                f"{n_failed} failed, skipped or cancelled out"
            )
            raise RuntimeError(msg)
        self.index.add_chunk(range(chunk.start, chunk.start + chunk.count), codes)
        self.malformed += chunk.malformed
        self.chunks += 1
        self.records += chunk.count
        for state, k in chunk.retries.items():
            self.retries[state] = self.retries.get(state, 0) + k
        return codes

    def progress(
        self, chunks: int, records: int, elapsed: float, *, bytes_in_flight: int = 0, records_in_flight: int = 0
    ) -> Progress:
        """A :class:`~streamkit.Progress` of the run this tally counts: ``chunks`` and ``records`` done in
        ``elapsed`` seconds, and what is in flight."""
        counts = self.index.counts()
        return Progress(
            chunks_processed=chunks,
            records_processed=records,
            records_per_second=records / elapsed if elapsed > 0 else 0.0,
            errors=self.errors,
            bytes_in_flight=bytes_in_flight,
            records_in_flight=records_in_flight,
            elapsed=elapsed,
            successful=counts["completed"],
            failed=counts["failed"],
            malformed=self.malformed,
            status_counts=counts,
            end_state_counts=dict(self.end_state_counts),
        )

    def warnings(self, network: CompiledNetwork) -> list[str]:
        """What is worth knowing about the input: fields the network reads that never came, a ``_row`` field."""
        out = []
        if self.records:
            out += [
                f"field {f!r} is read in state {s!r} but never appears in the input"
                for f, s in network.fields_read().items()
                if f not in self.columns_seen
            ]
        if ROW_FIELD in self.columns_seen:
            out.append(ROW_FIELD_WARNING)
        return out

    def status_column(self) -> np.ndarray:
        """Every record's status code, in input order (positions ``0 .. records - 1``)."""
        return self.index.status_of(np.arange(self.records, dtype=np.int64)) if self.records else np.empty(0, np.uint8)
