"""What a source yields: :class:`SourceChunk`, and the table of records that failed at read time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from kernels.gather import fill_range
from streamkit._arrow.build import to_numpy
from streamkit._memory import SLABS

__all__ = (
    "SourceChunk",
    "RawChunk",
    "Malformed",
    "MALFORMED_SCHEMA",
    "READ_STATE",
    "RAW_LIMIT",
    "malformed_table",
    "DEFAULT_CHUNK_SIZE",
    "range_ids",
)

#: Records per chunk unless told otherwise, everywhere (sources, streams, ``process()``): per-chunk
#: Python costs ~45 µs whatever the size, so 64k-256k rows keep it small while a chunk's columns
#: stay in cache (DESIGN.md §10).
DEFAULT_CHUNK_SIZE = 65_536


def range_ids(start: int, n: int) -> np.ndarray:
    """The row ids ``start .. start + n - 1`` (int64) of a chunk read in one piece.

    They become the ``_row`` column of an end state that every record of the
    chunk reached, so they are carved from the memory results give back
    (:data:`~streamkit._memory.SLABS`): ``np.arange`` into fresh pages each
    chunk made the seed job's 2M records 5 ms slower.

    Examples
    --------
    >>> range_ids(5, 3).tolist()
    [5, 6, 7]
    """
    ids = SLABS.empty(n, np.int64)
    fill_range(ids, start)
    return ids


#: ``error_state`` of a record that failed while it was read (before any FSM state saw it).
READ_STATE = "<read>"

#: Characters of a malformed record's text kept in the ``raw`` column (longer text is cut).
RAW_LIMIT = 1000

#: Columns of :attr:`SourceChunk.malformed`. The first four are those of the FSM's
#: failed records, so the engine can put both in one error output.
MALFORMED_SCHEMA = pa.schema(
    [
        ("_row", pa.int64()),
        ("error_state", pa.string()),
        ("error_type", pa.string()),
        ("error_message", pa.string()),
        ("line", pa.int64()),
        ("source", pa.string()),
        ("raw", pa.string()),
    ]
)


class Malformed(NamedTuple):
    """One record that could not be read: its stream position, why, and where it was.

    ``line`` is the 1-based line in its file (``None`` when the record does not
    come from a file); ``raw`` is its text (bytes are decoded as UTF-8 with
    replacement characters) or, for Python objects, their ``repr``.
    """

    position: int
    error_type: str
    message: str
    line: int | None = None
    raw: str | bytes | None = None


def _raw_text(raw: str | bytes | None) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, (bytes, bytearray, memoryview)):
        raw = bytes(raw[: RAW_LIMIT * 4]).decode("utf-8", errors="replace")
    return raw[:RAW_LIMIT]


def malformed_table(rows: Sequence[Malformed], source: str | None = None) -> pa.Table | None:
    """The malformed records as a table with :data:`MALFORMED_SCHEMA` (``None`` when there are none).

    Examples
    --------
    >>> t = malformed_table([Malformed(7, "JSONDecodeError", "unexpected end of data", 8, b'{"a": ')],
    ...                     source="in.jsonl")
    >>> t.to_pylist()[0]["error_state"], t.to_pylist()[0]["line"], t.to_pylist()[0]["raw"]
    ('<read>', 8, '{"a": ')
    >>> malformed_table([]) is None
    True
    """
    if not rows:
        return None
    n = len(rows)
    return pa.table(
        [
            pa.array([r.position for r in rows], pa.int64()),
            pa.array([READ_STATE] * n, pa.string()),
            pa.array([r.error_type for r in rows], pa.string()),
            pa.array([r.message for r in rows], pa.string()),
            pa.array([r.line for r in rows], pa.int64()),
            pa.array([source] * n, pa.string()),
            pa.array([_raw_text(r.raw) for r in rows], pa.string()),
        ],
        schema=MALFORMED_SCHEMA,
    )


@dataclass(eq=False)
class SourceChunk:
    """A run of consecutive stream positions, read and parsed.

    Parameters
    ----------
    parts:
        Parsed records as ``(batch, row_ids)`` pairs; ``row_ids`` are int64 stream
        positions, ascending within a part. Usually one part; several when records
        of the chunk have conflicting field types (an ``int`` field holding a string
        in some records), since one Arrow column holds one type.
    start:
        The first stream position the chunk covers.
    count:
        Positions covered: rows in ``parts`` plus malformed rows. Positions
        ``start .. start + count - 1`` each appear exactly once, in a part or in
        ``malformed``.
    malformed:
        Records that failed at read time (:data:`MALFORMED_SCHEMA`), or ``None``.
    nbytes:
        Memory the chunk holds, for the engine's byte budget; computed from the
        other fields when not given.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> c = SourceChunk([(pa.record_batch({"x": [1, 2]}), np.array([10, 12]))], start=10, count=3,
    ...                 malformed=malformed_table([Malformed(11, "TypeError", "expected a mapping, got int")]))
    >>> c.n_records, c.n_malformed, c.positions().tolist()
    (2, 1, [10, 11, 12])
    """

    parts: list[tuple[pa.RecordBatch, np.ndarray]]
    start: int
    count: int
    malformed: pa.Table | None = None
    nbytes: int = -1
    #: Where the source stands after the chunk, for a checkpoint (``{"file": k, "byte": b, "line": l}``
    #: for a JSON Lines file read from byte ``b``, after line ``l``), or ``None``.
    resume: dict[str, int] | None = None

    def __post_init__(self) -> None:
        if self.nbytes < 0:
            n = sum(b.nbytes + ids.nbytes for b, ids in self.parts)
            self.nbytes = n + (self.malformed.nbytes if self.malformed is not None else 0)

    @property
    def n_records(self) -> int:
        """Parsed records (rows in ``parts``)."""
        return sum(b.num_rows for b, _ in self.parts)

    @property
    def n_malformed(self) -> int:
        """Records that failed at read time."""
        return 0 if self.malformed is None else self.malformed.num_rows

    def positions(self) -> np.ndarray:
        """Every position the chunk holds (parts and malformed), sorted; ``count`` of them when valid."""
        ids = [np.asarray(i, np.int64) for _, i in self.parts]
        if self.malformed is not None:
            ids.append(to_numpy(self.malformed.column("_row")))
        return np.sort(np.concatenate(ids)) if ids else np.empty(0, np.int64)


@dataclass(eq=False)
class RawChunk:
    """A chunk read but not parsed yet: ``count`` positions from ``start``, ``nbytes`` of raw input.

    :meth:`~streamkit.io.Source.raw_chunks` yields these where parsing costs more
    than reading (JSON text), so that the streaming engine parses them in its
    worker threads, several at once, instead of in the one thread that reads.
    ``decode(threads)`` returns the parsed :class:`SourceChunk` (the same one
    :meth:`~streamkit.io.Source.chunks` would have given); ``threads`` says whether
    the parser may use a thread pool of its own. It may be called from any thread,
    once.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> raw = RawChunk(5, 1, 8, lambda threads: SourceChunk([(pa.record_batch({"x": [1]}), np.array([5]))], 5, 1))
    >>> c = raw.decode(threads=False)
    >>> (c.start, c.count, c.n_records)
    (5, 1, 1)
    """

    start: int
    count: int
    nbytes: int
    parse: Callable[[bool], SourceChunk]
    #: Where the source stands after the chunk (see :attr:`SourceChunk.resume`).
    resume: dict[str, int] | None = None

    def decode(self, threads: bool = True) -> SourceChunk:  # noqa: FBT001, FBT002 - one switch
        """Parse the chunk (blocking); ``threads``: whether the parser may run a thread pool."""
        chunk = self.parse(threads)
        if chunk.start != self.start or chunk.count != self.count:
            msg = (
                f"a raw chunk of positions {self.start}..{self.start + self.count - 1} parsed into "
                f"{chunk.start}..{chunk.start + chunk.count - 1}"
            )
            raise RuntimeError(msg)
        return chunk
