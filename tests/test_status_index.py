"""StatusIndex: the API, its errors, threads, the transition log, memory per id."""

from __future__ import annotations

import threading

import numpy as np
import pyarrow as pa
import pytest

from streamkit.status import (
    DEFAULT_KEEP_IDS,
    DuplicateIdError,
    EventStatus,
    StatusIndex,
    StatusIndexError,
    StatusMismatchError,
    UnknownIdError,
    UnknownTagError,
)

NAMES = ["pending", "processing", "completed", "failed", "skipped", "cancelled", "aborted"]
VALID = "'pending', 'processing', 'completed', 'failed', 'skipped', 'cancelled', 'aborted'"


# --------------------------------------------------------------------------- EventStatus


def test_event_status_codes_and_names() -> None:
    assert [int(s) for s in EventStatus] == list(range(7))
    assert [s.value for s in EventStatus] == NAMES
    assert EventStatus("failed") is EventStatus(3) is EventStatus.FAILED
    assert f"{EventStatus.SKIPPED}" == str(EventStatus.SKIPPED) == "skipped"
    assert np.array([EventStatus.FAILED], np.uint8)[0] == 3


@pytest.mark.parametrize("status", [EventStatus.FAILED, "failed", 3, np.uint8(3)])
def test_every_api_accepts_member_name_or_code(status: object) -> None:
    index = StatusIndex()
    index.add([1, 2], status)
    index.transition([2], "pending")
    index.transition([2], status, from_status="pending")
    assert index.count(status) == 2
    assert index.ids(status).tolist() == [1, 2]
    assert index.cleanup(status) == 2


@pytest.mark.parametrize(
    ("bad", "exc", "msg"),
    [
        ("done", ValueError, rf"^`status` must be one of {VALID} \(or an EventStatus, or a code 0..6\), got 'done'$"),
        ("FAILED", ValueError, r"got 'FAILED'$"),
        (7, ValueError, r"got 7$"),
        (True, TypeError, rf"^`status` must be an EventStatus or one of {VALID}, got True of type bool$"),
        (3.0, TypeError, r"got 3.0 of type float$"),
        (None, TypeError, r"got None of type NoneType$"),
    ],
)
def test_unknown_status_lists_valid_values(bad: object, exc: type, msg: str) -> None:
    index = StatusIndex()
    index.add([1])
    with pytest.raises(exc, match=msg):
        index.count(bad)
    with pytest.raises(exc, match=msg.replace("`status`", "`to_status`")):
        index.transition([1], bad)
    with pytest.raises(exc):
        index.add([2], bad)
    assert index.counts()["pending"] == 1 and len(index) == 1


# --------------------------------------------------------------------------- ids in many forms


@pytest.mark.parametrize(
    "ids",
    [
        [4, 2, 9],
        (4, 2, 9),
        np.array([4, 2, 9], np.int32),
        np.array([4, 2, 9], np.uint64),
        pa.array([4, 2, 9], pa.int16()),
        pa.chunked_array([[4], [2, 9]], pa.int64()),
    ],
    ids=["list", "tuple", "int32", "uint64", "arrow", "chunked"],
)
def test_ids_accept_lists_numpy_and_arrow(ids: object) -> None:
    index = StatusIndex()
    index.add(ids, "processing")
    assert index.ids("processing").tolist() == [4, 2, 9]
    index.transition(ids, "failed")
    assert index.status_of(ids).tolist() == [3, 3, 3]
    assert index.contains(ids).all()


@pytest.mark.parametrize(
    ("ids", "exc", "msg"),
    [
        ([1.5, 2.0], TypeError, r"^`ids` must be integers, got an array of float64$"),
        ([True], TypeError, r"^`ids` must be integers, got an array of bool$"),
        ("12", TypeError, r"^`ids` must be integers, got str$"),
        (np.zeros((2, 2), np.int64), ValueError, r"^`ids` must be one-dimensional, got shape \(2, 2\)$"),
        (pa.array([1, None]), ValueError, r"^`ids` must not hold nulls, got 1 null\(s\)$"),
        (pa.array([1.0]), TypeError, r"^`ids` must hold integers, got an Arrow array of double$"),
        ([3, -4, 5], ValueError, r"^ids must be non-negative, got -4 at position 1$"),
        (np.array([2**64 - 1], np.uint64), ValueError, r"^`ids` must fit in int64, got 18446744073709551615$"),
    ],
)
def test_bad_ids_are_refused_clearly(ids: object, exc: type, msg: str) -> None:
    index = StatusIndex()
    with pytest.raises(exc, match=msg):
        index.add(ids)
    assert len(index) == 0


def test_add_range_refuses_negative_and_non_integer_bounds() -> None:
    index = StatusIndex()
    with pytest.raises(ValueError, match=r"^ids must be non-negative, got `start` -1$"):
        index.add_range(-1, 5)
    with pytest.raises(TypeError, match=r"^`start` and `stop` must be integers, got 0 and 2.5$"):
        index.add_range(0, 2.5)
    index.add_range(5, 5)  # empty
    assert len(index) == 0


# --------------------------------------------------------------------------- duplicates and unknown ids


def test_duplicate_add_names_the_ids_and_changes_nothing() -> None:
    index = StatusIndex()
    index.add(range(10))
    with pytest.raises(DuplicateIdError, match=r"^ids already in the index: 2, 3, 4, 5, 6, \.\.\. \(8 ids\); "):
        index.add(range(2, 12), "failed")
    with pytest.raises(DuplicateIdError) as info:
        index.add_chunk(np.array([20, 3], np.int64), [0, 0])
    assert info.value.ids.tolist() == [3]
    assert isinstance(info.value, ValueError)
    assert len(index) == 10 and index.count("failed") == 0 and 20 not in index
    assert index.ids("pending").tolist() == list(range(10))


def test_an_id_repeated_in_one_add_is_refused() -> None:
    index = StatusIndex()
    with pytest.raises(DuplicateIdError, match=r"^ids repeated in the ids to add: 5$"):
        index.add([5, 6, 5])
    with pytest.raises(DuplicateIdError, match=rf"^ids repeated in the ids to add: {2**40}$"):
        index.add([2**40, 2**40])  # in the hash table
    assert len(index) == 0 and 6 not in index


def test_unknown_ids_in_transition_change_nothing() -> None:
    index = StatusIndex()
    index.add(range(5))
    with pytest.raises(UnknownIdError, match=r"^ids not in the index: 7, 9$") as info:
        index.transition([0, 7, 1, 9], "failed")
    assert isinstance(info.value, KeyError) and str(info.value) == "ids not in the index: 7, 9"
    assert index.count("failed") == 0 and index.status_of([0, 1]).tolist() == [0, 0]
    with pytest.raises(UnknownIdError, match=r"^ids not in the index: -1\n\nids are non-negative integers$"):
        index.transition([-1], "failed")
    with pytest.raises(UnknownIdError, match=r"^ids not in the index: 5$"):
        index.status_of(5)


def test_from_status_checks_every_id_before_moving_any() -> None:
    index = StatusIndex()
    index.add(range(4))
    index.transition([3], "failed")
    msg = r"^ids not in status 'pending': 3 \(in 'failed'\)$"
    with pytest.raises(StatusMismatchError, match=msg):
        index.transition([0, 1, 3], "processing", from_status="pending")
    assert index.count("processing") == 0 and index.count("pending") == 3
    with pytest.raises(StatusMismatchError, match=r"^ids repeated in a transition with `from_status` 'pending': 1$"):
        index.transition([1, 1], "processing", from_status="pending")
    index.transition([1, 1], "pending", from_status="pending")  # a no-op repeat is fine


def test_repeated_ids_in_a_transition_move_once() -> None:
    index = StatusIndex(log_transitions=True)
    index.add(range(3))
    index.transition([2, 1, 2, 2], "failed")
    assert index.counts()["failed"] == 2 and index.counts()["pending"] == 1
    assert index.ids("failed").tolist() == [2, 1]
    assert index.transition_log().num_rows == 3 + 2


# --------------------------------------------------------------------------- queries


def test_counts_are_exact_and_cheap_and_total_adds_up() -> None:
    index = StatusIndex()
    index.add_chunk(range(1000), (np.arange(1000) % 7).astype(np.uint8))
    expected = np.bincount(np.arange(1000) % 7).tolist()
    assert list(index.counts().values()) == expected
    assert index.status_counts() == index.counts()
    assert len(index) == index.total == 1000
    assert repr(index).startswith("StatusIndex(total=1000, pending=143, processing=143, completed=143")


def test_ids_are_in_entry_order_and_a_new_array() -> None:
    index = StatusIndex(keep_ids="all")
    index.add([9, 4, 7])
    index.transition([7, 9], "failed")
    index.transition([7], "pending")
    index.transition([7], "failed")  # re-enters: now last
    failed = index.ids("failed")
    assert failed.tolist() == [9, 7]
    failed[:] = -1
    assert index.ids("failed").tolist() == [9, 7]


def test_membership_and_status_of_scalar_and_vector() -> None:
    index = StatusIndex()
    index.add([1, 2**50], "skipped")
    assert 1 in index and 2**50 in index and 0 not in index and -1 not in index and "1" not in index
    assert index.status_of(2**50) is EventStatus.SKIPPED
    assert index.status_of(np.array([2**50, 1])).dtype == np.uint8
    assert index.contains(pa.array([0, 1, 2**50, -3])).tolist() == [False, True, True, False]
    assert index.status_of([]).shape == (0,)


def test_ids_is_order_k_not_order_n() -> None:
    # 10x fewer failed ids must not read the whole stream: the list is compacted, not scanned
    index = StatusIndex()
    index.add_chunk(range(200_000), np.full(200_000, 2, np.uint8))
    index.transition(np.arange(0, 200_000, 100), "failed")
    assert index.ids("failed").shape == (2000,)
    lst = index._lists.lists[3]
    assert lst is not None and lst.n == 2000 and lst.buf.shape[0] < 20_000


# --------------------------------------------------------------------------- cleanup


def test_cleanup_reports_and_tallies_what_it_dropped() -> None:
    index = StatusIndex()
    index.add(range(100), "completed")
    index.transition(range(90, 100), "failed")
    index.tag([95, 5], "team_a")
    assert index.cleanup(["completed"]) == 90
    assert index.counts()["completed"] == 0 and index.cleaned_counts()["completed"] == 90
    assert sum(index.counts().values()) + sum(index.cleaned_counts().values()) == 100
    assert 5 not in index and index.tagged("team_a").tolist() == [95]
    assert index.cleanup("completed") == 0
    index.add([5])  # a dropped id may come back
    assert index.status_of(5) is EventStatus.PENDING


def test_cleanup_of_a_long_stream_keeps_the_column_narrow() -> None:
    # completed records are dropped, one failed record per chunk stays (kept for a retry)
    n, chunk = 10_000_000, 100_000
    index = StatusIndex()
    for start in range(0, n, chunk):
        index.add_chunk(range(start, start + chunk), np.full(chunk, 2, np.uint8))
        index.transition([start + 7], "failed")
        index.cleanup("completed")
    assert index._store.st.shape[0] <= 3_000_000  # not 10M: it slid past what was dropped
    assert index._store.hash.n_live > 0  # the failed records it left behind
    assert index.nbytes < 4_000_000
    assert index.ids("failed").tolist() == list(range(7, n, chunk))
    assert index.status_of(np.arange(7, n, chunk)).tolist() == [3] * (n // chunk)
    assert index.cleaned_counts()["completed"] == n - n // chunk


# --------------------------------------------------------------------------- tags


def test_tags_are_many_to_many() -> None:
    index = StatusIndex()
    index.add(range(10))
    index.tag([1, 2, 3], "high_priority")
    index.tag([3, 4], "team_a")
    index.tag([3], "high_priority")  # already: no change
    assert index.tags() == ["high_priority", "team_a"]
    assert index.tagged("high_priority").tolist() == [1, 2, 3]
    assert index.has_tag(3, "team_a") and index.has_tag(3, "high_priority")
    index.transition([3], "completed")  # tags do not follow statuses
    assert index.tag_count("team_a") == 2
    index.untag([3, 9], "team_a")
    assert index.tagged("team_a").tolist() == [4]


def test_tag_errors() -> None:
    index = StatusIndex()
    index.add([1])
    with pytest.raises(UnknownIdError, match=r"^ids not in the index: 2$"):
        index.tag([1, 2], "x")
    assert index.tags() == []
    with pytest.raises(UnknownTagError, match=r"^unknown tag 'x': no tags yet$"):
        index.tag_count("x")
    index.tag([1], "y")
    with pytest.raises(UnknownTagError, match=r"^unknown tag 'x': expected one of 'y'$"):
        index.untag([1], "x")
    with pytest.raises(TypeError, match=r"^a tag name must be a string, got 3 of type int$"):
        index.tag([1], 3)
    with pytest.raises(ValueError, match=r"^a tag name must not be empty$"):
        index.tag([1], "")


# --------------------------------------------------------------------------- transition log


def test_transition_log_records_adds_and_changes() -> None:
    index = StatusIndex(log_transitions=True)
    index.add([1, 2])
    index.transition([2, 1], "processing")
    index.transition([1], "failed")
    index.transition([1], "failed")  # no change: not logged
    log = index.transition_log()
    assert log.schema.names == ["id", "from", "to", "timestamp"]
    assert log.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    rows = log.select(["id", "from", "to"]).to_pylist()
    assert rows == [
        {"id": 1, "from": None, "to": "pending"},
        {"id": 2, "from": None, "to": "pending"},
        {"id": 2, "from": "pending", "to": "processing"},
        {"id": 1, "from": "pending", "to": "processing"},
        {"id": 1, "from": "processing", "to": "failed"},
    ]
    ts = log.column("timestamp").to_numpy()
    assert (np.diff(ts.astype(np.int64)) >= 0).all()


def test_replaying_the_log_rebuilds_the_statuses() -> None:
    rng = np.random.default_rng(5)
    index = StatusIndex(log_transitions=True)
    index.add_chunk(range(500), rng.integers(0, 7, 500).astype(np.uint8))
    for _ in range(20):
        index.transition(rng.choice(500, 40), int(rng.integers(0, 7)))
    replay: dict[int, str] = {}
    for row in index.transition_log().to_pylist():
        assert replay.get(row["id"]) == row["from"]  # each change starts where the last one ended
        replay[row["id"]] = row["to"]
    assert [NAMES.index(replay[i]) for i in range(500)] == index.status_of(range(500)).tolist()


def test_an_index_is_not_pickled() -> None:
    import copy
    import pickle

    index = StatusIndex()
    with pytest.raises(TypeError, match=r"^a StatusIndex is not pickled\n\nsave it with `to_ipc\(\)`"):
        pickle.dumps(index)
    with pytest.raises(TypeError):
        copy.deepcopy(index)


def test_keep_ids_forms() -> None:
    assert StatusIndex(keep_ids="all").keep_ids == frozenset(EventStatus)
    assert StatusIndex(keep_ids=np.array([3, 0])).keep_ids == {EventStatus.FAILED, EventStatus.PENDING}
    with pytest.raises(ValueError, match=r"^`keep_ids` must be one of 'pending'"):
        StatusIndex(keep_ids=["done"])


def test_no_log_unless_asked() -> None:
    index = StatusIndex()
    index.add([1])
    assert index._log is None
    with pytest.raises(StatusIndexError, match=r"^this index keeps no transition log\n\n"):
        index.transition_log()


# --------------------------------------------------------------------------- threads


def test_concurrent_transitions_lose_nothing() -> None:
    n, n_threads = 400_000, 4
    index = StatusIndex(keep_ids="all")
    index.add_range(0, n)
    barrier = threading.Barrier(n_threads)
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            mine = np.arange(k, n, n_threads)
            barrier.wait()
            for part in np.array_split(mine, 50):
                index.transition(part, "processing", from_status="pending")
                index.transition(part[::2], "failed")
                index.transition(part[1::2], "completed")
                index.tag(part[:3], f"t{k}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    counts = index.counts()
    assert counts["failed"] + counts["completed"] == n and counts["pending"] == counts["processing"] == 0
    failed, completed = index.ids("failed"), index.ids("completed")
    assert np.array_equal(np.sort(np.concatenate([failed, completed])), np.arange(n))
    assert (index.status_of(failed) == 3).all() and (index.status_of(completed) == 2).all()
    assert sum(index.tag_count(f"t{k}") for k in range(n_threads)) == n_threads * 50 * 3


def test_concurrent_adds_lose_nothing() -> None:
    index = StatusIndex()
    barrier = threading.Barrier(3)

    def work(k: int) -> None:
        barrier.wait()
        for start in range(k * 10_000, 300_000, 30_000):
            index.add_chunk(range(start, start + 10_000), np.full(10_000, 3, np.uint8))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(index) == index.count("failed") == 300_000
    assert np.array_equal(np.sort(index.ids("failed")), np.arange(300_000))


# --------------------------------------------------------------------------- memory


def test_memory_is_nine_bytes_per_kept_dense_id() -> None:
    n = 1_000_000
    index = StatusIndex(keep_ids="all")
    index.add_range(0, n, "failed")
    assert index.nbytes <= 9 * n + 4096
    counts_only = StatusIndex()
    counts_only.add_chunk(range(n), np.full(n, 2, np.uint8))
    assert counts_only.nbytes <= n + 4096


def test_chunks_out_of_order_stay_in_one_narrow_column() -> None:
    n_chunks, chunk = 60, 10_000
    index = StatusIndex(keep_ids="all")
    codes = (np.arange(chunk) % 7).astype(np.uint8)
    for k in np.random.default_rng(2).permutation(n_chunks).tolist():
        index.add_chunk(range(k * chunk, (k + 1) * chunk), codes)
    n = n_chunks * chunk
    assert index._store.hash.n_live == 0 and index._store.st.shape[0] <= 1.5 * n
    assert np.array_equal(index.status_of(np.arange(n)), np.tile(codes, n_chunks))
    assert np.array_equal(np.sort(index.ids("failed")), np.flatnonzero(np.tile(codes, n_chunks) == 3))


def test_sparse_ids_use_the_hash_table() -> None:
    index = StatusIndex()
    ids = np.random.default_rng(1).integers(0, 2**62, 10_000)
    ids = np.unique(ids)
    index.add(ids, "failed")
    assert index._store.st.shape[0] == 0 and index._store.hash.n_live == ids.shape[0]
    assert np.array_equal(np.sort(index.ids("failed")), ids)
    index.transition(ids[::2], "completed")
    assert index.count("failed") == ids.shape[0] - ids[::2].shape[0]
    assert (index.status_of(ids[::2]) == 2).all()


@pytest.mark.timeout(60, method="thread")  # a spinning kernel does not return to Python for a signal
def test_failed_adds_leave_room_in_the_hash_table() -> None:
    """A refused add undoes its ids in the hash table as tombstones: those slots count as used,
    so the table is rebuilt before it fills (a full one would make lookups of absent ids spin)."""
    index = StatusIndex()
    index.add(np.arange(1000))  # the dense column
    far = 10**12
    index.add([far])  # ids this far out live in the hash table
    for k in range(300):
        ids = np.append(np.arange(far + 1 + 40 * k, far + 41 + 40 * k), far)  # the last one is a duplicate
        with pytest.raises(StatusIndexError):
            index.add(ids)
        assert index.contains(np.array([far + 10**9, far, 5])).tolist() == [False, True, True]
    assert len(index) == 1001
    index.add(np.arange(far + 1, far + 200))  # the ids refused before can be added now
    assert index.count("pending") == 1200


@pytest.mark.parametrize("keep_ids", ["all", DEFAULT_KEEP_IDS])
def test_remove_drops_ids_from_any_status_and_their_tags(keep_ids: object) -> None:
    index = StatusIndex(keep_ids=keep_ids)  # type: ignore[arg-type]
    index.add(range(10))
    index.add([1_000_000, 2_000_000], "failed")  # far ids: in the hash table
    index.transition([2, 3, 4], "completed")
    index.tag([2, 5, 1_000_000], "t")
    with pytest.raises(UnknownIdError):
        index.remove([5, 77])
    assert len(index) == 12  # nothing dropped
    index.remove([3, 5, 1_000_000, 5])
    assert len(index) == 9 and 3 not in index and 1_000_000 not in index
    assert index.counts() == {**dict.fromkeys(NAMES, 0), "pending": 6, "completed": 2, "failed": 1}
    assert index.ids("completed").tolist() == [2, 4] and index.ids("failed").tolist() == [2_000_000]
    assert index.tagged("t").tolist() == [2]
    assert index.cleaned_counts() == {**dict.fromkeys(NAMES, 0), "pending": 1, "completed": 1, "failed": 1}
    index.add(3, "failed")  # may come back
    assert index.ids("failed").tolist() == [2_000_000, 3] and index.ids("completed").tolist() == [2, 4]
