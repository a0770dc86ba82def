"""The status-index kernels (kernels/status.py) against numpy and plain Python (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kernels import status as K

ABSENT = K.ABSENT
N = 7
CODES = hnp.arrays(np.uint8, st.integers(0, 300), elements=st.integers(0, N - 1))
SETTINGS = settings(max_examples=150, deadline=None)


def _empty_hash(cap: int = 64) -> tuple[np.ndarray, np.ndarray]:
    return np.full(cap, K.EMPTY, np.int64), np.zeros(cap, np.uint8)


def _column(codes: list[int | None]) -> np.ndarray:
    return np.array([ABSENT if c is None else c for c in codes], np.uint8)


COLUMN = st.lists(st.one_of(st.none(), st.integers(0, N - 1)), min_size=1, max_size=200).map(_column)


@SETTINGS
@given(CODES, st.integers(0, 2**40), st.sets(st.integers(0, N - 1)))
def test_group_by_code_is_a_stable_counting_sort(codes: np.ndarray, start: int, kept: set[int]) -> None:
    keep = np.zeros(256, np.bool_)
    keep[list(kept)] = True
    ids = np.arange(start, start + codes.shape[0], dtype=np.int64)
    counts = np.bincount(codes, minlength=256)
    sizes = np.where(keep, counts, 0)
    starts = np.zeros(256, np.int64)
    starts[1:] = np.cumsum(sizes)[:-1]
    out_range = np.empty(int(sizes.sum()), np.int64)
    out_ids = np.empty_like(out_range)
    K.group_by_code(np.empty(0, np.int64), start, codes, keep, starts.copy(), out_range)
    K.group_by_code(ids[::-1].copy(), 0, codes[::-1].copy(), keep, starts.copy(), out_ids)
    order = np.argsort(codes, kind="stable")
    expected = ids[order][keep[codes[order]]]
    assert out_range.tolist() == expected.tolist()
    rev = np.argsort(codes[::-1], kind="stable")
    assert out_ids.tolist() == ids[::-1][rev][keep[codes[::-1][rev]]].tolist()


@SETTINGS
@given(CODES, st.integers(0, 20))
def test_add_range_codes_checks_and_counts(codes: np.ndarray, off: int) -> None:
    st_ = np.full(off + codes.shape[0] + 3, ABSENT, np.uint8)
    counts = np.zeros(256, np.int64)
    assert K.add_range_codes(st_[off : off + codes.shape[0]], codes, N, counts) == -1
    assert (st_ == ABSENT).all()  # checks only: the caller copies
    assert counts.tolist() == np.bincount(codes, minlength=256).tolist()


@SETTINGS
@given(CODES.filter(lambda c: c.shape[0] > 0), st.data())
def test_add_range_codes_undoes_on_a_bad_byte(codes: np.ndarray, data: st.DataObject) -> None:
    bad = data.draw(st.integers(0, codes.shape[0] - 1))
    st_ = np.full(codes.shape[0], ABSENT, np.uint8)
    codes = codes.copy()
    if data.draw(st.booleans()):
        codes[bad] = N  # not a status
    else:
        st_[bad] = 1  # id already present
    before = st_.copy()
    counts = np.zeros(256, np.int64)
    first_bad = min(bad, int(np.argmax(codes >= N)) if (codes >= N).any() else bad)
    assert K.add_range_codes(st_, codes, N, counts) == first_bad
    assert st_.tolist() == before.tolist() and not counts.any()


@SETTINGS
@given(COLUMN, st.data())
def test_lookup_matches_numpy_indexing(column: np.ndarray, data: st.DataObject) -> None:
    base = data.draw(st.integers(0, 100))
    ids = np.array(data.draw(st.lists(st.integers(-3, base + column.shape[0] + 3))), np.int64)
    keys, vals = _empty_hash()
    out = np.empty(ids.shape[0], np.uint8)
    n_absent = K.lookup(ids, base, column, keys, vals, 0, out)
    inside = (ids >= base) & (ids < base + column.shape[0])
    expected = np.full(ids.shape[0], ABSENT, np.uint8)
    expected[inside] = column[ids[inside] - base]
    assert out.tolist() == expected.tolist()
    assert n_absent == np.count_nonzero(expected == ABSENT)


@SETTINGS
@given(st.sets(st.integers(0, 2**62), max_size=40), st.lists(st.integers(-2, 2**62), max_size=20))
def test_hash_table_matches_a_python_dict(keys_in: set[int], probes: list[int]) -> None:
    keys, vals = _empty_hash(128)
    ids = np.array(sorted(keys_in), np.int64)
    codes = (ids % N).astype(np.uint8)
    counts = np.zeros(256, np.int64)
    bad, n_hashed = K.add_ids(ids, codes, 0, N, 0, np.empty(0, np.uint8), keys, vals, counts)
    assert (bad, n_hashed) == (-1, ids.shape[0])
    model = dict(zip(ids.tolist(), codes.tolist()))
    probe = np.array(probes + ids.tolist(), np.int64)
    out = np.empty(probe.shape[0], np.uint8)
    K.lookup(probe, 0, np.empty(0, np.uint8), keys, vals, len(model), out)
    assert out.tolist() == [model.get(p, ABSENT) for p in probe.tolist()]
    new_keys, new_vals = _empty_hash(256)
    assert K.hash_rehash(keys, vals, new_keys, new_vals) == len(model)
    K.lookup(probe, 0, np.empty(0, np.uint8), new_keys, new_vals, len(model), out)
    assert out.tolist() == [model.get(p, ABSENT) for p in probe.tolist()]


@SETTINGS
@given(COLUMN, st.data())
def test_transition_matches_numpy(column: np.ndarray, data: st.DataObject) -> None:
    present = np.flatnonzero(column != ABSENT)
    ids = np.array(data.draw(st.lists(st.sampled_from(present.tolist()) if present.size else st.nothing())), np.int64)
    to = data.draw(st.integers(0, N - 1))
    keys, vals = _empty_hash()
    before = column.copy()
    counts = np.zeros(256, np.int64)
    old = np.empty(ids.shape[0], np.uint8)
    buf = np.empty(ids.shape[0] + 1, np.int64)
    bad, n_buf = K.transition(ids, to, -1, 0, column, keys, vals, 0, counts, old, buf, 0)
    assert bad == -1
    first = list(dict.fromkeys(ids.tolist()))
    expected_counts = np.bincount(before[first], minlength=256)
    expected_counts[to] += ids.shape[0] - len(first)  # a repeat finds its id already moved
    assert counts.tolist() == expected_counts.tolist()
    assert buf[:n_buf].tolist() == [i for i in first if before[i] != to]
    expected = before.copy()
    expected[ids] = to
    assert column.tolist() == expected.tolist()


@SETTINGS
@given(COLUMN, st.data())
def test_transition_undoes_everything_on_a_bad_id(column: np.ndarray, data: st.DataObject) -> None:
    present = np.flatnonzero(column != ABSENT).tolist()
    good = data.draw(st.lists(st.sampled_from(present))) if present else []
    absent = [column.shape[0] + 5, -1, *np.flatnonzero(column == ABSENT).tolist()]
    ids = np.array([*good, data.draw(st.sampled_from(absent)), *good], np.int64)
    keys, vals = _empty_hash()
    before = column.copy()
    counts = np.zeros(256, np.int64)
    old = np.empty(ids.shape[0], np.uint8)
    buf = np.empty(ids.shape[0], np.int64)
    bad, n_buf = K.transition(ids, 6, -1, 0, column, keys, vals, 0, counts, old, buf, 0)
    assert (bad, n_buf) == (len(good), 0)
    assert column.tolist() == before.tolist() and not counts.any()


@SETTINGS
@given(COLUMN, st.data())
def test_compact_list_keeps_the_last_entry_of_each_live_id(column: np.ndarray, data: st.DataObject) -> None:
    code = data.draw(st.integers(0, N - 1))
    entries = data.draw(st.lists(st.integers(0, column.shape[0] - 1), max_size=60))
    buf = np.array([*entries, 0], np.int64)
    keys, vals = _empty_hash()
    before = column.copy()
    k = K.compact_list(buf, len(entries), code, 0, column, keys, vals, 0)
    live = [i for i in entries if column[i] == code]
    expected = list(reversed(list(dict.fromkeys(reversed(live)))))
    assert buf[:k].tolist() == expected
    assert column.tolist() == before.tolist()  # marks were cleared


@SETTINGS
@given(COLUMN, st.sets(st.integers(0, N - 1)))
def test_drop_dense_and_count_present_match_numpy(column: np.ndarray, dropped: set[int]) -> None:
    mask = np.zeros(256, np.bool_)
    mask[list(dropped)] = True
    counts = np.zeros(256, np.int64)
    expected_counts = np.bincount(column[mask[column]], minlength=256)
    expected = np.where(mask[column], ABSENT, column)
    K.drop_dense(column, mask, counts)
    assert column.tolist() == expected.tolist() and counts.tolist() == expected_counts.tolist()
    assert K.count_present(column) == np.count_nonzero(column != ABSENT)
    first = K.first_present(column)
    assert first == (np.flatnonzero(column != ABSENT)[0] if (column != ABSENT).any() else column.shape[0])


@SETTINGS
@given(COLUMN, st.integers(0, 2**40))
def test_evict_then_migrate_round_trips(column: np.ndarray, base: int) -> None:
    keys, vals = _empty_hash(512)
    n = K.evict(column, base, keys, vals)
    assert n == np.count_nonzero(column != ABSENT)
    out = np.empty(column.shape[0], np.uint8)
    K.lookup(np.arange(base, base + column.shape[0]), 0, np.empty(0, np.uint8), keys, vals, n, out)
    assert out.tolist() == column.tolist()
    back = np.full(column.shape[0], ABSENT, np.uint8)
    assert K.migrate(keys, vals, base, back) == n
    assert back.tolist() == column.tolist() and not (keys >= 0).any()


@SETTINGS
@given(st.lists(st.integers(0, 2**50), max_size=40), st.lists(st.integers(-1, 2**50), max_size=40))
def test_tag_set_kernels_match_a_python_set(added: list[int], removed: list[int]) -> None:
    keys, vals = _empty_hash(256)
    buf = np.empty(len(added), np.int64)
    n_buf, _ = K.set_add(keys, vals, np.array(added, np.int64), buf, 0)
    assert buf[:n_buf].tolist() == list(dict.fromkeys(added))
    members = set(added)
    n_removed = K.set_remove(keys, np.array(removed, np.int64), len(members))
    assert n_removed == len(members & set(removed))
    members -= set(removed)
    probe = np.array(added + removed, np.int64)
    out = np.empty(probe.shape[0], np.uint8)
    K.lookup(probe, 0, np.empty(0, np.uint8), keys, vals, len(members), out)  # members map to 1
    assert (out != ABSENT).tolist() == [p in members for p in probe.tolist()]
    k = K.set_compact(buf, n_buf, keys, vals)
    assert buf[:k].tolist() == [i for i in dict.fromkeys(added) if i in members]


@SETTINGS
@given(COLUMN, st.integers(0, 2**40), st.sets(st.integers(0, 2**50), max_size=30), st.integers(0, N - 1), st.data())
def test_select_code_lists_a_status_ascending(column: np.ndarray, base: int, hashed: set[int], code: int,
                                              data: st.DataObject) -> None:  # fmt: skip
    outside = np.array(sorted(k for k in hashed if not base <= k < base + column.shape[0]), np.int64)
    codes = np.array(data.draw(st.lists(st.integers(0, N - 1), min_size=outside.shape[0],
                                        max_size=outside.shape[0])), np.uint8)  # fmt: skip
    keys, vals = _empty_hash(128)
    counts = np.zeros(256, np.int64)
    K.add_ids(outside, codes, 0, N, 0, np.empty(0, np.uint8), keys, vals, counts)
    expected = sorted([base + i for i in np.flatnonzero(column == code).tolist()] + outside[codes == code].tolist())
    out = np.full(len(expected) + 1, -7, np.int64)
    n_low, n_dense = K.select_code(code, base, column, keys, vals, out)
    assert n_low == np.count_nonzero(outside[codes == code] < base)
    assert n_dense == np.count_nonzero(column == code)
    got = out[:-1].copy()
    got[:n_low].sort()
    got[n_low + n_dense :].sort()
    assert got.tolist() == expected
