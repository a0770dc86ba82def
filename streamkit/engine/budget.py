"""The byte and record budget that holds the source back (backpressure)."""

from __future__ import annotations

import anyio

__all__ = ("Budget", "FootprintEstimate")


class Budget:
    """Bytes and records in flight, with limits the source must wait for.

    The source acquires a chunk's share before reading it; the sink releases it
    after writing. Only the event loop's tasks touch a budget, so no lock is
    needed; waiters sleep on an event set by every release. A chunk larger than
    the whole limit is let through when nothing else is in flight, so a stream
    never deadlocks on one big chunk.

    Examples
    --------
    >>> import anyio
    >>> async def demo():
    ...     b = Budget(max_bytes=100, max_records=None)
    ...     await b.acquire(60, 10)
    ...     b.release(60, 10)
    ...     await b.acquire(80, 10)
    ...     return b.bytes, b.peak_bytes
    >>> anyio.run(demo)
    (80, 80)
    """

    def __init__(self, max_bytes: int, max_records: int | None) -> None:
        self.max_bytes = max_bytes
        self.max_records = max_records
        self.bytes = 0
        self.records = 0
        self.peak_bytes = 0
        self.peak_records = 0
        self._changed = anyio.Event()

    def _fits(self, nbytes: int, nrecords: int, held_bytes: int, held_records: int) -> bool:
        if self.bytes == held_bytes and self.records == held_records:
            return True  # nothing else in flight: let even an oversized chunk through
        if self.bytes + nbytes > self.max_bytes:
            return False
        return self.max_records is None or self.records + nrecords <= self.max_records

    async def acquire(self, nbytes: int, nrecords: int, *, held_bytes: int = 0, held_records: int = 0) -> None:
        """Wait until ``nbytes`` and ``nrecords`` fit, then take them.

        ``held_*`` is what the caller already holds for the same chunk (when it
        grows its share after reading): a chunk alone in flight always fits.
        """
        while not self._fits(nbytes, nrecords, held_bytes, held_records):
            await self._changed.wait()
        self.bytes += nbytes
        self.records += nrecords
        self.peak_bytes = max(self.peak_bytes, self.bytes)
        self.peak_records = max(self.peak_records, self.records)

    def release(self, nbytes: int, nrecords: int) -> None:
        """Give back what a written (or shrunken) chunk held."""
        self.bytes -= nbytes
        self.records -= nrecords
        changed, self._changed = self._changed, anyio.Event()
        changed.set()


class FootprintEstimate:
    """Bytes a chunk will hold in flight, learned from the chunks before it.

    A chunk holds its input columns and then its outputs (which share the
    passed-through buffers); the ratio of the two to the input alone is learned
    as the largest of the recent chunks, starting at 2.
    """

    def __init__(self) -> None:
        self.ratio = 2.0
        self.bytes_per_record = 0.0

    def before_read(self, n_records: int) -> int:
        """A guess for the next chunk, before it is read (0 until one chunk was seen)."""
        return int(self.bytes_per_record * n_records * self.ratio)

    def after_read(self, input_bytes: int, n_records: int) -> int:
        """The share of a chunk that has just been read."""
        if n_records:
            self.bytes_per_record = input_bytes / n_records
        return int(input_bytes * self.ratio)

    def observe(self, input_bytes: int, output_bytes: int) -> None:
        """Learn from a processed chunk (input and output bytes)."""
        if input_bytes > 0:
            r = (input_bytes + output_bytes) / input_bytes
            self.ratio = max(r, 0.75 * self.ratio + 0.25 * r)
