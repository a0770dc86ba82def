"""Output files written with O_DIRECT: every byte lands, in order, whatever the write sizes; fallbacks."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import streamkit.io._direct as direct_mod
from streamkit.io._direct import ALIGN, DirectFile


def _pieces(sizes: list[int], seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in sizes]


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.sampled_from([0, 1, 7, ALIGN - 1, ALIGN, ALIGN + 1, 3 * ALIGN + 5, 70_000]), max_size=12),
    seed=st.integers(0, 1000),
    direct=st.booleans(),
    as_array=st.booleans(),
)
def test_every_byte_lands_in_order(
    tmp_path_factory: pytest.TempPathFactory, sizes: list[int], seed: int, direct: bool, as_array: bool
) -> None:
    path = tmp_path_factory.mktemp("d") / "out.bin"
    pieces = _pieces(sizes, seed)
    f = DirectFile(path, direct=direct)
    total = 0
    for p in pieces:
        data = np.frombuffer(p, np.uint8) if as_array else p
        assert f.write(data) == len(p)
        total += len(p)
        assert f.tell() == total
    f.close()
    assert path.read_bytes() == b"".join(pieces)


def test_larger_than_the_staging_buffer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(direct_mod, "STAGING_BYTES", 4 * ALIGN)
    pieces = _pieces([10 * ALIGN + 3, 5, 4 * ALIGN, 1], 1)
    with DirectFile(tmp_path / "o.bin") as f:
        for p in pieces:
            f.write(p)
    assert (tmp_path / "o.bin").read_bytes() == b"".join(pieces)


def test_a_refused_direct_write_falls_back_without_losing_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    calls = {"n": 0}

    def flaky(fd: int, data: object) -> int:
        calls["n"] += 1
        if calls["n"] == 2:  # the second write is refused, as by a device with a larger block size
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    monkeypatch.setattr(direct_mod.os, "write", flaky)
    monkeypatch.setattr(direct_mod, "STAGING_BYTES", 2 * ALIGN)  # direct writes from the I/O thread too
    for k, sizes in enumerate([[3 * ALIGN, 2 * ALIGN + 17, 5], [3 * ALIGN, 2 * ALIGN + 17]]):
        calls["n"] = 0
        pieces = _pieces(sizes, 2)
        f = DirectFile(tmp_path / f"o{k}.bin")
        was_direct = f.direct
        for p in pieces:
            f.write(p)
        f.close()  # the second time, right after the refusal: the bytes still waiting are written
        assert (tmp_path / f"o{k}.bin").read_bytes() == b"".join(pieces)
        if was_direct:
            assert not f.direct


@pytest.mark.parametrize("direct", [True, False])
def test_other_errors_are_raised_by_write_or_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct: bool
) -> None:
    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(direct_mod, "STAGING_BYTES", ALIGN)
    monkeypatch.setattr(direct_mod, "STAGING_BUFFERS", 2)
    f = DirectFile(tmp_path / "o.bin", direct=direct)
    threaded = f.direct
    monkeypatch.setattr(direct_mod.os, "write", full)
    with pytest.raises(OSError, match="No space left"):  # the I/O thread's error, at the latest when
        f.write(b"x" * (3 * ALIGN))  # every staging buffer is full
    if threaded:  # the file is incomplete: closing says so again
        with pytest.raises(OSError, match="No space left"):
            f.close()
    else:
        f.close()
    monkeypatch.undo()
    with pytest.raises(ValueError, match="closed"):
        f.write(b"x")
    assert f._thread is None


def test_bytes_reach_the_file_while_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Full staging buffers are written by the I/O thread during the writes, not all at close."""
    monkeypatch.setattr(direct_mod, "STAGING_BYTES", 4 * ALIGN)
    path = tmp_path / "o.bin"
    f = DirectFile(path)
    if not f.direct:
        f.close()
        pytest.skip("no O_DIRECT here")
    pieces = _pieces([ALIGN + 7] * 20, 4)
    for p in pieces:
        f.write(p)
    f._todo.put(None)
    f._thread.join()
    assert path.stat().st_size >= 4 * ALIGN * 4  # several whole buffers are in the file already
    f._thread = None
    f.close()
    assert path.read_bytes() == b"".join(pieces)


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="no tmpfs here")
def test_file_systems_without_direct_io_are_written_the_ordinary_way(tmp_path: Path) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(dir="/dev/shm") as d:
        path = Path(d) / "o.bin"
        pieces = _pieces([ALIGN + 1, 9], 3)
        with DirectFile(path) as f:
            for p in pieces:
                f.write(p)
        assert path.read_bytes() == b"".join(pieces)


def test_switched_off_by_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMKIT_NO_DIRECT_IO", "1")
    with DirectFile(tmp_path / "o.bin") as f:
        assert not f.direct


def test_writing_after_close_is_an_error(tmp_path: Path) -> None:
    f = DirectFile(tmp_path / "o.bin")
    f.close()
    f.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        f.write(b"x")
