"""The process tuning (streamkit/_tuning.py): nothing at import, one owned context, restored exactly once."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
from unittest import mock

import pyarrow as pa
import pytest
from config_helpers import a_to_b

import streamkit._tuning as tuning
from streamkit import SimpleFSM

PASS = a_to_b()


def test_import_changes_nothing_in_the_process_issue_14() -> None:
    probe = (
        "import ctypes, gc, json, sys\n"
        "calls = []\n"
        "real = ctypes.CDLL\n"
        "class Spy:\n"
        "    def __init__(self, lib): self.lib = lib\n"
        "    def __getattr__(self, name):\n"
        "        if name == 'mallopt':\n"
        "            return lambda *a: calls.append(a) or 1\n"
        "        return getattr(self.lib, name)\n"
        "ctypes.CDLL = lambda *a, **k: Spy(real(*a, **k))\n"
        "import pyarrow as pa\n"
        "pool = pa.default_memory_pool().backend_name\n"
        "import streamkit, streamkit.engine, streamkit.fsm.execute, streamkit.io\n"
        "print(json.dumps([calls, gc.get_freeze_count(), pool, pa.default_memory_pool().backend_name,"
        " gc.isenabled()]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("STREAMKIT_NO_TUNING", "STREAMKIT_NO_MALLOPT")}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    calls, frozen, pool_before, pool_after, enabled = json.loads(out.stdout)
    assert calls == [] and frozen == 0 and pool_after == pool_before and enabled


def test_a_run_tunes_while_it_runs_and_puts_everything_back() -> None:
    seen: list[list[tuple[int, int]]] = []
    pool_before = pa.default_memory_pool().backend_name
    frozen_before = gc.get_freeze_count()
    with mock.patch.object(tuning, "_mallopt", side_effect=lambda s: seen.append(s) or True):
        during: list[bool] = []
        fsm = SimpleFSM(PASS)
        r = fsm.process_stream(
            pa.table({"x": [1, 2, 3]}),
            memory_limit_mb=64,
            chunk_size=2,
            on_progress=lambda p: during.append(tuning.is_tuned()),
        )
    assert r.total_records == 3 and during and all(during)
    assert not tuning.is_tuned()
    mmap, trim = tuning.thresholds_for(64 << 20, 2)
    assert seen[0] == [(tuning._M_ARENA_MAX, 2), (tuning._M_MMAP_THRESHOLD, mmap), (tuning._M_TRIM_THRESHOLD, trim)]
    assert dict(seen[1]) == {
        tuning._M_MMAP_THRESHOLD: 128 * 1024,
        tuning._M_TRIM_THRESHOLD: 128 * 1024,
        tuning._M_ARENA_MAX: 0,
    }  # glibc's defaults, put back
    assert len(seen) == 2
    assert pa.default_memory_pool().backend_name == pool_before
    assert gc.get_freeze_count() == frozen_before


def test_numpy_huge_page_advice_is_off_during_a_run_and_put_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMKIT_NUMPY_HUGEPAGE", raising=False)
    before = tuning._numpy_hugepage(enabled=True)  # a known setting, whatever it was
    try:
        with tuning.process_tuning():
            during = tuning._numpy_hugepage(enabled=False)  # reading it means setting it: set what the run set
        after = tuning._numpy_hugepage(enabled=True)
        assert during is False and after is True
        monkeypatch.setenv("STREAMKIT_NUMPY_HUGEPAGE", "1")
        with tuning.process_tuning():
            assert tuning._numpy_hugepage(enabled=True) is True  # left alone
    finally:
        if before is not None:
            tuning._numpy_hugepage(enabled=before)


def test_overlapping_runs_share_one_tuning_and_the_last_restores() -> None:
    seen: list[list[tuple[int, int]]] = []
    inner_started, outer_may_end = threading.Event(), threading.Event()
    with mock.patch.object(tuning, "_mallopt", side_effect=lambda s: seen.append(s) or True):

        def first() -> None:
            with tuning.process_tuning():
                inner_started.wait(30)
                outer_may_end.wait(30)

        t = threading.Thread(target=first)
        t.start()
        with tuning.process_tuning(chunk_size=10):  # joins the first run's tuning
            inner_started.set()
            assert tuning.is_tuned()
        assert tuning.is_tuned() and len(seen) == 1  # the second run ending undid nothing
        outer_may_end.set()
        t.join(30)
    assert not tuning.is_tuned() and len(seen) == 2


def test_it_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMKIT_NO_TUNING", "1")
    with (
        mock.patch.object(tuning, "_mallopt", side_effect=AssertionError("mallopt called")),
        mock.patch.object(tuning.gc, "freeze", side_effect=AssertionError("gc.freeze called")),
        tuning.process_tuning() as tuned,
    ):
        assert not tuned and not tuning.is_tuned()
    r = SimpleFSM(PASS).process([{"x": 1}])
    assert r.total_records == 1


def test_a_process_that_freezes_objects_itself_keeps_them_frozen() -> None:
    # The freeze count itself is not steady (frozen objects that die leave it), so what is held
    # is that the run neither froze more nor thawed what the process froze.
    gc.freeze()
    try:
        with (
            mock.patch.object(tuning, "_mallopt", return_value=True),
            mock.patch.object(tuning.gc, "freeze", wraps=gc.freeze) as freeze,
            mock.patch.object(tuning.gc, "unfreeze", wraps=gc.unfreeze) as unfreeze,
        ):
            with tuning.process_tuning():
                pass
            freeze.assert_not_called()
            unfreeze.assert_not_called()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_thresholds_follow_the_budget_and_the_chunk_size() -> None:
    assert [
        json.dumps(tuning.thresholds_for(b, c)) for b, c in [(256 << 20, 65_536), (16 << 30, 4_000_000), (1 << 20, 10)]
    ] == [
        json.dumps([4 << 20, 16 << 20]),  # 1/16 of 256 MB; a 64k chunk's columns fit under 4 MiB
        json.dumps([32 << 20, 64 << 20]),  # both at their ceilings
        json.dumps([4 << 20, 8 << 20]),  # and floors
    ]


def test_the_collector_runs_less_often_during_a_run_and_as_before_after() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with tuning.process_tuning():
            assert gc.get_threshold() == (tuning._GC_YOUNG, 10, 10)
        assert gc.get_threshold() == (700, 10, 10)
        gc.set_threshold(0, 10, 10)  # a process that turned collection off keeps it off
        with tuning.process_tuning():
            assert gc.get_threshold() == (0, 10, 10)
        assert gc.get_threshold() == (0, 10, 10)
    finally:
        gc.set_threshold(*before)
