"""StatusIndex snapshots: Arrow IPC and dict round trips are exact; bad snapshots are refused clearly."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from streamkit.status import DuplicateIdError, EventStatus, StatusIndex, StatusIndexError


def _busy_index(**kwargs: object) -> StatusIndex:
    """Dense and sparse ids in every status, re-entered ids, tags (one emptied), a cleanup."""
    rng = np.random.default_rng(3)
    index = StatusIndex(**kwargs)
    index.add_chunk(range(10_000), rng.integers(0, 7, 10_000).astype(np.uint8))
    sparse = np.unique(rng.integers(2**40, 2**62, 300))
    index.add(sparse, "failed")
    index.transition(sparse[:50], "pending")
    index.transition(np.arange(0, 10_000, 7), "processing")
    index.transition(np.arange(0, 10_000, 14), "failed")  # re-enter: entry order changes
    index.tag(np.arange(0, 10_000, 3), "high_priority")
    index.tag(sparse[::5], "team_a")
    index.tag([5], "empty")
    index.untag([5], "empty")
    index.cleanup(["skipped"])
    return index


@pytest.mark.parametrize("keep", ["all", "default", ("failed",)])
def test_ipc_round_trip_is_exact(keep: object) -> None:
    index = _busy_index() if keep == "default" else _busy_index(keep_ids=keep)
    restored = StatusIndex.from_ipc(index.to_ipc())
    assert restored.to_dict() == index.to_dict()
    assert restored.keep_ids == index.keep_ids
    assert restored.counts() == index.counts() and restored.cleaned_counts() == index.cleaned_counts()
    for s in index.keep_ids:
        assert restored.ids(s).tolist() == index.ids(s).tolist()
    assert restored.tags() == ["high_priority", "team_a", "empty"]
    assert restored.tag_count("empty") == 0
    every = np.concatenate([np.arange(10_000), index.ids("failed")])
    assert restored.contains(every).tolist() == index.contains(every).tolist()


def test_dict_round_trip_through_json_is_exact() -> None:
    index = _busy_index(keep_ids="all", log_transitions=True)
    data = index.to_dict()
    assert data["format"] == "streamkit.status_index" and data["version"] == 1
    assert data["cleaned"]["skipped"] == index.cleaned_counts()["skipped"] > 0
    assert sorted(data["statuses"]) == sorted(s.value for s in EventStatus)
    restored = StatusIndex.from_dict(json.loads(json.dumps(data)))
    assert restored.to_dict() == data
    assert restored.transition_log().num_rows == 0  # logging stays on; a snapshot holds no history
    restored.transition([0], "aborted")
    assert restored.transition_log().num_rows == 1


def test_a_restored_index_keeps_working() -> None:
    index = _busy_index(keep_ids="all")
    restored = StatusIndex.from_ipc(index.to_ipc())
    for ix in (index, restored):
        ix.transition(ix.ids("pending"), "completed")
        ix.add_range(20_000, 20_100, "failed")
        ix.cleanup("completed")
    assert restored.to_dict() == index.to_dict()
    with pytest.raises(DuplicateIdError):
        restored.add([20_000])


def test_snapshot_of_an_empty_index() -> None:
    empty = StatusIndex()
    assert StatusIndex.from_ipc(empty.to_ipc()).to_dict() == empty.to_dict()
    assert StatusIndex.from_dict(empty.to_dict()).total == 0


def test_the_ipc_snapshot_is_a_readable_arrow_table() -> None:
    index = StatusIndex()
    index.add([3, 1], "failed")
    index.add([2])
    index.tag([1], "retry")
    table = pa.ipc.open_stream(index.to_ipc()).read_all()
    assert table.schema.field("status").type == pa.dictionary(pa.uint8(), pa.string())
    assert table.to_pydict() == {
        "id": [2, 3, 1, 1],
        "status": ["pending", "failed", "failed", None],
        "tag": [None, None, None, "retry"],
    }
    meta = json.loads(table.schema.metadata[b"streamkit.status_index"])
    assert meta["keep_ids"] == ["pending", "processing", "failed", "skipped", "cancelled", "aborted"]
    failed = pl.from_arrow(table).filter(pl.col("status") == "failed")["id"].to_list()
    assert failed == [3, 1]


def test_completed_ids_not_kept_are_written_in_ascending_order() -> None:
    index = StatusIndex()
    index.add([9, 2**41, 4, 7], "completed")
    assert index.to_dict()["statuses"]["completed"] == [4, 7, 9, 2**41]


def test_bad_ipc_is_refused() -> None:
    with pytest.raises(StatusIndexError, match=r"^not a status index snapshot: expected an Arrow IPC stream"):
        StatusIndex.from_ipc(b"\x00" * 16)
    sink = pa.BufferOutputStream()
    other = pa.table({"id": [1]})
    with pa.ipc.new_stream(sink, other.schema) as writer:
        writer.write_table(other)
    msg = r"^not a status index snapshot: expected columns id, status, tag and `streamkit.status_index` metadata$"
    with pytest.raises(StatusIndexError, match=msg):
        StatusIndex.from_ipc(sink.getvalue())


@pytest.mark.parametrize(
    ("data", "msg"),
    [
        (
            {"format": "x", "version": 1},
            r"expected format 'streamkit.status_index' version 1, got \{'format': 'x', 'version': 1\}$",
        ),
        ([], r"expected format 'streamkit.status_index' version 1, got \[\]$"),
        (
            {"format": "streamkit.status_index", "version": 1, "statuses": {"failed": [1.5]}},
            r"^invalid status index dict: `statuses.failed` must be a list of integer ids, got \[1.5\]$",
        ),
        (
            {"format": "streamkit.status_index", "version": 1, "statuses": {}, "tags": []},
            r"`tags` must be a mapping of tag name to list of ids, got \[\]$",
        ),
        (
            {"format": "streamkit.status_index", "version": 1, "statuses": {}, "cleaned": {"failed": -1}},
            r"`cleaned` must map status names to counts, got \{'failed': -1\}$",
        ),
    ],
)
def test_bad_dicts_are_refused(data: object, msg: str) -> None:
    with pytest.raises(StatusIndexError, match=msg):
        StatusIndex.from_dict(data)  # type: ignore[arg-type]


def test_dict_with_an_unknown_status_or_a_duplicate_id() -> None:
    base = {"format": "streamkit.status_index", "version": 1}
    with pytest.raises(ValueError, match=r"^`statuses.done` must be one of 'pending'"):
        StatusIndex.from_dict({**base, "statuses": {"done": [1]}})
    with pytest.raises(DuplicateIdError, match=r"^ids repeated in the ids to add: 1$"):
        StatusIndex.from_dict({**base, "statuses": {"failed": [1], "pending": [1]}})
