"""Random sequences of StatusIndex operations agree with a plain-Python model (hypothesis, stateful).

The model is a dict id -> status plus, per status and per tag, an insertion-
ordered dict, so the tests check not only which ids a status holds but the
order :meth:`StatusIndex.ids` promises (the order ids last entered it for a
kept status, ascending for one found by a scan). Every refused operation must
raise the documented error and change nothing.

The machines shrink the column's minimum size and the compaction thresholds,
so a few hundred ids exercise column growth, the hash table for sparse ids,
migration between them, trimming after cleanup and lazy compaction.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import streamkit.status._lists as lists_mod
import streamkit.status._store as store_mod
import streamkit.status._tags as tags_mod
from streamkit.status import (
    DuplicateIdError,
    StatusIndex,
    StatusMismatchError,
    UnknownIdError,
    UnknownTagError,
)
from streamkit.status.codes import N_STATUSES, STATUS_NAMES

CODES = st.integers(0, N_STATUSES - 1)
STATUS_ARG = st.one_of(CODES, st.sampled_from(STATUS_NAMES))
# dense near 0, a band the column grows into, a sparse cluster, anything
NEW_ID = st.one_of(st.integers(0, 80), st.integers(80, 600), st.integers(2**40, 2**40 + 40), st.integers(0, 2**62))
TAGS = st.sampled_from(["high_priority", "team_a", "api_calls"])


def _code(status: int | str) -> int:
    return status if isinstance(status, int) else STATUS_NAMES.index(status)


class IndexMachine(RuleBasedStateMachine):
    """Drive one StatusIndex and the model side by side."""

    keep: str | tuple[str, ...] = "all"

    def __init__(self) -> None:
        super().__init__()
        self._saved = (store_mod.MIN_COLUMN, lists_mod.COMPACT_MIN, tags_mod.COMPACT_MIN)
        store_mod.MIN_COLUMN, lists_mod.COMPACT_MIN, tags_mod.COMPACT_MIN = 8, 2, 2
        self.index = StatusIndex(keep_ids=self.keep, log_transitions=True)
        kept = range(N_STATUSES) if self.keep == "all" else [_code(s) for s in self.keep]
        self.kept = set(kept)
        self.status: dict[int, int] = {}
        self.order: list[dict[int, None]] = [{} for _ in range(N_STATUSES)]
        self.tags: dict[str, dict[int, None]] = {}
        self.cleaned = [0] * N_STATUSES
        self.log_start: dict[int, int] = {}  # the statuses when the log began (a restored index starts anew)

    def teardown(self) -> None:
        store_mod.MIN_COLUMN, lists_mod.COMPACT_MIN, tags_mod.COMPACT_MIN = self._saved

    # ------------------------------------------------------------------ model helpers

    def _enter(self, i: int, code: int) -> None:
        old = self.status.get(i)
        if old is not None:
            del self.order[old][i]
        self.status[i] = code
        self.order[code][i] = None

    def _some_ids(self, data: st.DataObject, *, unknown: bool) -> list[int]:
        known = sorted(self.status)
        if not known and not unknown:
            return []
        choices = st.sampled_from(known) if known else NEW_ID
        if unknown:
            choices = st.one_of(choices, NEW_ID, st.integers(-5, -1))
        return data.draw(st.lists(choices, max_size=12))

    # ------------------------------------------------------------------ rules

    @rule(ids=st.lists(NEW_ID, max_size=12), status=STATUS_ARG)
    def add(self, ids: list[int], status: int | str) -> None:
        clash = any(i in self.status for i in ids) or len(set(ids)) < len(ids)
        if clash:
            with pytest.raises(DuplicateIdError):
                self.index.add(ids, status)
            return
        self.index.add(np.array(ids, np.int64), status)
        for i in ids:
            self._enter(i, _code(status))

    @rule(i=NEW_ID, status=STATUS_ARG, as_numpy=st.booleans())
    def add_one(self, i: int, status: int | str, as_numpy: bool) -> None:
        key = np.int64(i) if as_numpy else i
        if i in self.status:
            with pytest.raises(DuplicateIdError, match=rf"^ids already in the index: {i}; change their status"):
                self.index.add(key, status)
            return
        self.index.add(key, status)
        self._enter(i, _code(status))

    @rule(data=st.data(), to=STATUS_ARG, use_from=st.booleans(), frm=CODES, as_numpy=st.booleans())
    def transition_one(self, data: st.DataObject, to: int | str, use_from: bool, frm: int, as_numpy: bool) -> None:
        known = sorted(self.status)
        i = data.draw(st.one_of(st.sampled_from(known), NEW_ID) if known else NEW_ID)
        key = np.int64(i) if as_numpy else i
        to_code = _code(to)
        kwargs = {"from_status": frm} if use_from else {}
        if i not in self.status:
            with pytest.raises(UnknownIdError, match=rf"^ids not in the index: {i}$"):
                self.index.transition(key, to, **kwargs)
            return
        if use_from and self.status[i] != frm:
            msg = rf"^ids not in status '{STATUS_NAMES[frm]}': {i} \(in '{STATUS_NAMES[self.status[i]]}'\)$"
            with pytest.raises(StatusMismatchError, match=msg):
                self.index.transition(key, to, **kwargs)
            return
        self.index.transition(key, to, **kwargs)
        if self.status[i] != to_code:
            self._enter(i, to_code)

    @rule(ids=st.lists(NEW_ID, max_size=12), data=st.data())
    def add_chunk(self, ids: list[int], data: st.DataObject) -> None:
        codes = data.draw(st.lists(CODES, min_size=len(ids), max_size=len(ids)))
        if any(i in self.status for i in ids) or len(set(ids)) < len(ids):
            with pytest.raises(DuplicateIdError):
                self.index.add_chunk(ids, np.array(codes, np.uint8))
            return
        self.index.add_chunk(ids, np.array(codes, np.uint8))
        for i, c in zip(ids, codes):
            self._enter(i, c)

    @rule(start=st.integers(0, 700), n=st.integers(0, 40), data=st.data())
    def add_range(self, start: int, n: int, data: st.DataObject) -> None:
        ids = list(range(start, start + n))
        per_id = data.draw(st.booleans())
        codes = data.draw(st.lists(CODES, min_size=n, max_size=n)) if per_id else [data.draw(CODES)] * n
        call = ((lambda: self.index.add_chunk(range(start, start + n), np.array(codes, np.uint8)))
                if per_id else (lambda: self.index.add_range(start, start + n, codes[0] if n else 0)))  # fmt: skip
        if any(i in self.status for i in ids):
            with pytest.raises(DuplicateIdError):
                call()
            return
        call()
        for i, c in zip(ids, codes):
            self._enter(i, c)

    @rule(data=st.data(), to=STATUS_ARG, use_from=st.booleans(), frm=CODES)
    def transition(self, data: st.DataObject, to: int | str, use_from: bool, frm: int) -> None:
        ids = self._some_ids(data, unknown=data.draw(st.booleans()))
        to_code = _code(to)
        kwargs = {"from_status": frm} if use_from else {}
        if any(i not in self.status for i in ids):
            with pytest.raises(UnknownIdError):
                self.index.transition(ids, to, **kwargs)
            return
        repeats = len(set(ids)) < len(ids)
        if use_from and (any(self.status[i] != frm for i in ids) or (repeats and frm != to_code)):
            with pytest.raises(StatusMismatchError):
                self.index.transition(ids, to, **kwargs)
            return
        self.index.transition(ids, to, **kwargs)
        for i in dict.fromkeys(ids):
            if self.status[i] != to_code:
                self._enter(i, to_code)

    @rule(data=st.data(), name=TAGS)
    def tag(self, data: st.DataObject, name: str) -> None:
        ids = self._some_ids(data, unknown=data.draw(st.booleans()))
        if any(i not in self.status for i in ids):
            with pytest.raises(UnknownIdError):
                self.index.tag(ids, name)
            return
        self.index.tag(ids, name)
        members = self.tags.setdefault(name, {})
        for i in ids:
            members.setdefault(i, None)

    @rule(data=st.data(), name=TAGS)
    def untag(self, data: st.DataObject, name: str) -> None:
        ids = self._some_ids(data, unknown=False)
        if name not in self.tags:
            with pytest.raises(UnknownTagError):
                self.index.untag(ids, name)
            return
        self.index.untag(ids, name)
        for i in ids:
            self.tags[name].pop(i, None)

    @rule(statuses=st.lists(STATUS_ARG, max_size=3))
    def cleanup(self, statuses: list[int | str]) -> None:
        codes = {_code(s) for s in statuses}
        gone = [i for i, c in self.status.items() if c in codes]
        assert self.index.cleanup(statuses) == len(gone)
        for i in gone:
            c = self.status.pop(i)
            self.cleaned[c] += 1
            del self.order[c][i]
            for members in self.tags.values():
                members.pop(i, None)

    @rule(how=st.sampled_from(["ipc", "dict"]))
    def snapshot_round_trip(self, how: str) -> None:
        before = self.index.to_dict()
        if how == "ipc":
            restored = StatusIndex.from_ipc(self.index.to_ipc())
        else:
            restored = StatusIndex.from_dict(json.loads(json.dumps(before)))
        assert restored.to_dict() == before
        assert restored.transition_log().num_rows == 0  # a snapshot holds no history
        self.index = restored  # carry on with the copy: it must behave the same
        self.log_start = dict(self.status)

    @rule()
    def replay_the_log(self) -> None:
        # single-id and batch changes interleave in the log in the order they happened
        replay = dict(self.log_start)
        for row in self.index.transition_log().select(["id", "from", "to"]).to_pylist():
            if row["from"] is not None:
                assert STATUS_NAMES[replay[row["id"]]] == row["from"]
            replay[row["id"]] = STATUS_NAMES.index(row["to"])
        assert {i: replay[i] for i in self.status} == self.status

    @rule()
    def check_lists(self) -> None:
        for c in range(N_STATUSES):
            if c in self.kept:
                assert self.index.ids(c).tolist() == list(self.order[c])
            else:  # found by a scan: ascending
                assert self.index.ids(c).tolist() == sorted(self.order[c])
        for name, members in self.tags.items():
            assert self.index.tagged(name).tolist() == list(members)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def counts_agree(self) -> None:
        expected = [len(o) for o in self.order]
        assert list(self.index.counts().values()) == expected
        assert [self.index.count(c) for c in range(N_STATUSES)] == expected
        assert len(self.index) == self.index.total == len(self.status)
        assert list(self.index.cleaned_counts().values()) == self.cleaned

    @invariant()
    def each_id_in_exactly_one_status(self) -> None:
        ids = np.array(sorted(self.status), np.int64)
        assert self.index.status_of(ids).tolist() == [self.status[i] for i in ids.tolist()]
        probes = np.array([0, 1, 79, 80, 599, 2**40, 2**40 + 39, 2**62], np.int64)
        assert self.index.contains(probes).tolist() == [int(p) in self.status for p in probes]
        for i in [*ids[:3].tolist(), *probes[:3].tolist()]:  # one id at a time
            assert (i in self.index) == (i in self.status)
            if i in self.status:
                assert self.index.status_of(i) == self.status[i]
            else:
                with pytest.raises(UnknownIdError, match=rf"^ids not in the index: {i}$"):
                    self.index.status_of(i)

    @invariant()
    def tags_agree(self) -> None:
        assert self.index.tags() == list(self.tags)
        for name, members in self.tags.items():
            assert self.index.tag_count(name) == len(members)


class DefaultKeepMachine(IndexMachine):
    """The default: every status but ``completed`` keeps its ids."""

    keep = ("pending", "processing", "failed", "skipped", "cancelled", "aborted")


class FailedOnlyMachine(IndexMachine):
    """Only ``failed`` keeps ids: cleanup mostly scans the column."""

    keep = ("failed",)


class NothingKeptMachine(IndexMachine):
    """No status keeps ids: every ``ids()`` is a scan of the column and the hash table."""

    keep = ()


_SETTINGS = settings(max_examples=120, stateful_step_count=40, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
TestIndexKeepAll = IndexMachine.TestCase
TestIndexKeepAll.settings = _SETTINGS
TestIndexDefaultKeep = DefaultKeepMachine.TestCase
TestIndexDefaultKeep.settings = _SETTINGS
TestIndexFailedOnly = FailedOnlyMachine.TestCase
TestIndexFailedOnly.settings = settings(_SETTINGS, max_examples=60)
TestIndexNothingKept = NothingKeptMachine.TestCase
TestIndexNothingKept.settings = settings(_SETTINGS, max_examples=60)


def test_machine_restores_module_settings() -> None:
    saved = (store_mod.MIN_COLUMN, lists_mod.COMPACT_MIN, tags_mod.COMPACT_MIN)
    machine = IndexMachine()
    assert store_mod.MIN_COLUMN == 8
    machine.teardown()
    assert saved == (store_mod.MIN_COLUMN, lists_mod.COMPACT_MIN, tags_mod.COMPACT_MIN)
