"""What ``on_progress`` receives while a stream runs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ("Progress", "ErrorLog")


class ErrorLog:
    """The failed records so far: ``len()`` counts them all, iteration shows the first few.

    Keeps at most ``keep`` of them (row, state, error type, message) so a long
    stream with many failures stays in bounded memory; the failed rows
    themselves go to the error sink.

    Examples
    --------
    >>> log = ErrorLog(keep=2)
    >>> log.add([(0, "validate", "TypeError", "bad"), (5, "validate", "TypeError", "bad"),
    ...          (9, "enrich", "KeyError", "x")])
    >>> len(log), [e["row"] for e in log]
    (3, [0, 5])
    """

    def __init__(self, keep: int = 100) -> None:
        self.keep = keep
        self.total = 0
        self._sample: list[dict[str, Any]] = []

    def add(self, errors: list[tuple[int, str | None, str, str]]) -> None:
        """Count failed records and keep the first ones: ``(row, state, type, message)``."""
        self.total += len(errors)
        room = self.keep - len(self._sample)
        for row, state, etype, message in errors[: max(room, 0)]:
            self._sample.append({"row": row, "state": state, "error_type": etype, "error_message": message})

    def add_table(self, errors: Any) -> None:
        """Count the failed records of an error table and keep the first ones."""
        room = max(self.keep - len(self._sample), 0)
        head = errors.slice(0, room).select(["_row", "error_state", "error_type", "error_message"])
        self.add(list(zip(*(c.to_pylist() for c in head.columns))))
        self.total += errors.num_rows - head.num_rows

    def state(self) -> dict[str, Any]:
        """The log as plain data (the count and the records kept), for a checkpoint; see :meth:`restore`."""
        return {"total": self.total, "kept": list(self._sample)}

    def restore(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`state` gave (a resumed stream goes on counting from there).

        Examples
        --------
        >>> log = ErrorLog()
        >>> log.add([(3, "validate", "TypeError", "bad")])
        >>> copy = ErrorLog(); copy.restore(log.state()); len(copy), [e["row"] for e in copy]
        (1, [3])
        """
        self.total = int(state["total"])
        self._sample = [dict(e) for e in state["kept"]][: self.keep]

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(list(self._sample))

    def __bool__(self) -> bool:
        return self.total > 0

    def __repr__(self) -> str:
        return f"ErrorLog(total={self.total}, kept={len(self._sample)})"


@dataclass(frozen=True)
class Progress:
    """A snapshot of a running stream, given to ``on_progress`` after every chunk.

    ``chunks_processed``, ``records_processed``, ``records_per_second`` and
    ``errors`` are the seed's fields (``len(progress.errors)`` is the number of
    failed records so far); ``successful``, ``failed`` and ``status_counts``
    come from the run's status index, ``end_state_counts`` from its tally; ``bytes_in_flight`` and
    ``records_in_flight`` are what the budget holds now.
    """

    chunks_processed: int
    records_processed: int
    records_per_second: float
    errors: ErrorLog
    bytes_in_flight: int
    records_in_flight: int
    elapsed: float
    successful: int = 0
    failed: int = 0
    malformed: int = 0
    status_counts: Mapping[str, int] = field(default_factory=dict)
    #: records written per end state so far
    end_state_counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def elapsed_seconds(self) -> float:
        """Seconds since the stream started (same as ``elapsed``)."""
        return self.elapsed
