"""Checks shared by the ``streamkit.io`` tests: every source must keep the chunk contract.

The contract (``streamkit.io.SourceChunk``): chunks cover consecutive stream
positions from 0; each position is in exactly one place (a part's row ids or the
malformed table); row ids ascend within a part; ``count`` is rows plus
malformed rows; malformed tables have the documented columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from streamkit.io import SourceChunk, open_source
from streamkit.io.chunk import MALFORMED_SCHEMA


def check_chunks(chunks: list[SourceChunk], total: int | None = None) -> None:
    """Assert the chunk contract over a whole stream (of ``total`` positions, if given)."""
    pos = 0
    for c in chunks:
        assert c.start == pos, f"chunk starts at {c.start}, expected {pos}"
        assert c.count >= 1
        for batch, ids in c.parts:
            assert isinstance(batch, pa.RecordBatch)
            assert ids.dtype == np.int64 and len(ids) == batch.num_rows
            assert (np.diff(ids) > 0).all(), "row ids must ascend within a part"
        if c.malformed is not None:
            assert c.malformed.schema.equals(MALFORMED_SCHEMA)
            assert c.malformed.num_rows > 0
            assert set(c.malformed.column("error_state").to_pylist()) == {"<read>"}
        assert c.n_records + c.n_malformed == c.count
        assert c.positions().tolist() == list(range(c.start, c.start + c.count))
        assert c.nbytes > 0
        pos += c.count
    if total is not None:
        assert pos == total, f"chunks cover {pos} positions, expected {total}"


def read_all(source: Any, **kw: Any) -> list[SourceChunk]:
    """Every chunk of ``open_source(source, **kw)``, contract checked."""
    with open_source(source, **kw) as src:
        chunks = list(src.chunks())
    check_chunks(chunks)
    return chunks


def records(chunks: list[SourceChunk]) -> dict[int, dict[str, Any]]:
    """Position -> record (as a dict) for every parsed record."""
    out: dict[int, dict[str, Any]] = {}
    for c in chunks:
        for batch, ids in c.parts:
            out.update(zip(ids.tolist(), batch.to_pylist()))
    return out


def malformed(chunks: list[SourceChunk]) -> list[dict[str, Any]]:
    """Every malformed row, in stream order."""
    return [r for c in chunks if c.malformed is not None for r in c.malformed.to_pylist()]


def test_check_chunks_notices_a_gap() -> None:
    a = SourceChunk([(pa.record_batch({"x": [1]}), np.array([0]))], 0, 1)
    b = SourceChunk([(pa.record_batch({"x": [1]}), np.array([2]))], 2, 1)
    with pytest.raises(AssertionError, match="chunk starts at 2, expected 1"):
        check_chunks([a, b])


def test_check_chunks_notices_a_position_twice() -> None:
    c = SourceChunk([(pa.record_batch({"x": [1, 2]}), np.array([0, 0]))], 0, 2)
    with pytest.raises(AssertionError):
        check_chunks([c])


def test_records_and_malformed_helpers() -> None:
    chunks = read_all([{"x": 1}, 7], chunk_size=5)
    assert records(chunks) == {0: {"x": 1}}
    assert [m["_row"] for m in malformed(chunks)] == [1]
