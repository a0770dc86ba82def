"""Gathers of Arrow buffers (kernels/gather.py, streamkit/fsm/gather.py) against pyarrow's own take."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from kernels.gather import take_bits
from streamkit._arrow.gather import codes_array, const_array, np_array, num_array, take_arrow

RNG = np.random.default_rng(7)


def _positions(n: int, keep: float) -> np.ndarray:
    return np.flatnonzero(RNG.random(n) < keep).astype(np.int64)


def _arrays(n: int) -> list[pa.Array]:
    null = RNG.random(n) < 0.2
    words = ["", "a", "bc", "hello world, a longer string of more than thirty-two bytes", "é", "cat_1"]
    strs = [None if null[i] else words[i % len(words)] for i in range(n)]
    return [
        pa.array(RNG.integers(-5, 5, n), pa.int64()),
        pa.array(RNG.integers(-5, 5, n), pa.int64(), mask=null),
        pa.array(RNG.integers(0, 200, n).astype(np.uint8), pa.uint8(), mask=null),
        pa.array(RNG.integers(-5, 5, n).astype(np.int32), pa.int32()),
        pa.array(RNG.random(n), pa.float64(), mask=null),
        pa.array(RNG.random(n).astype(np.float32), pa.float32()),
        pa.array(RNG.random(n) < 0.5, pa.bool_(), mask=null),
        pa.array(RNG.random(n) < 0.5, pa.bool_()),
        pa.array(strs, pa.string()),
        pa.array([s or "" for s in strs], pa.string()),
        pa.array(strs, pa.string()).dictionary_encode(),
        pa.array([None if null[i] else i for i in range(n)], pa.timestamp("us")),
    ]


@pytest.mark.parametrize("keep", [0.0, 0.02, 0.5, 0.98, 1.0])
@pytest.mark.parametrize("offset", [0, 3, 13])
def test_take_arrow_matches_pyarrow_take(keep: float, offset: int) -> None:
    n = 301
    for arr in _arrays(n + offset):
        arr = arr.slice(offset, n)
        ix = _positions(n, keep)
        got = take_arrow(arr, ix)
        want = arr.take(pa.array(ix))
        got.validate(full=True)
        assert got.type == want.type
        assert got.null_count == want.null_count
        assert got.to_pylist() == want.to_pylist()


def test_take_bits_counts_set_bits() -> None:
    for n in (0, 1, 7, 8, 9, 64, 1000):
        flags = RNG.random(n + 5) < 0.3
        bits = np.packbits(flags, bitorder="little")
        ix = _positions(n, 0.6)
        out = np.empty((len(ix) + 7) // 8, np.uint8)
        k = take_bits(bits, 5, ix, out)
        got = np.unpackbits(out, bitorder="little")[: len(ix)].astype(bool)
        assert (got == flags[ix + 5]).all()
        assert k == int(flags[ix + 5].sum())


@pytest.mark.parametrize("with_ix", [False, True])
def test_np_num_codes_arrays(with_ix: bool) -> None:
    n = 203
    ix = _positions(n, 0.7) if with_ix else None
    m = n if ix is None else len(ix)
    sel = np.arange(n) if ix is None else ix
    valid = RNG.random(n) < 0.8
    for vals in (RNG.integers(-9, 9, n), RNG.random(n), RNG.random(n) < 0.5):
        for v in (None, valid):
            got = np_array(vals, v, ix, m)
            want = [None if v is not None and not v[k] else vals[k].item() for k in sel]
            assert got.to_pylist() == want
    isf = RNG.random(n) < 0.3
    slot = RNG.integers(-9, 9, n)
    fv = slot.view(np.float64)
    fv[isf] = RNG.random(int(isf.sum()))
    want = [None if not valid[k] else (fv[k].item() if isf[k] else float(slot[k])) for k in sel]
    want_ints = slot[sel].tolist()  # read as ints where no entry is a float
    got = num_array(isf.copy(), slot.copy(), slot.copy().view(np.float64), valid, ix, m)
    assert got.type == pa.float64()
    assert got.to_pylist() == want
    s2 = slot.copy()
    ints = num_array(np.zeros(n, np.bool_), s2, s2.view(np.float64), None, ix, m)
    assert ints.type == pa.int64() and ints.to_pylist() == want_ints
    # floats only where a value is null: the column stays ints
    s3 = slot.copy()
    only_null_floats = ~valid
    got = num_array(only_null_floats, s3, s3.view(np.float64), valid, ix, m)
    assert got.type == pa.int64()
    assert got.to_pylist() == [None if not valid[k] else int(slot[k]) for k in sel]
    pool = pa.array(["x", "y", "z"])
    codes = RNG.integers(0, 3, n).astype(np.int32)
    for v in (None, valid):
        got = codes_array(codes, v, ix, m, pool)
        got.validate(full=True)
        assert got.to_pylist() == [None if v is not None and not v[k] else "xyz"[codes[k]] for k in sel]


def test_num_array_converts_the_kernel_buffer_in_place_once() -> None:
    """Without positions the kernel's own buffer becomes the float column; a second call agrees."""
    n = 100
    isf = RNG.random(n) < 0.5
    slot = RNG.integers(-(2**40), 2**40, n)
    fv = slot.view(np.float64)
    fv[isf] = RNG.random(int(isf.sum()))
    want = [fv[k].item() if isf[k] else float(slot[k]) for k in range(n)]
    first = num_array(isf, slot, fv, None, None, n)
    assert first.to_pylist() == want and isf.all()
    assert np.shares_memory(np.frombuffer(first.buffers()[1], np.float64), fv)
    assert num_array(isf, slot, fv, None, None, n).to_pylist() == want


@pytest.mark.parametrize("value", ["s", 7, 2.5, True, None])
def test_const_array_any_length_after_any_other(value: object) -> None:
    """Constants are slices of one remembered array: every length gives the value that many times."""
    for n in (3, 5000, 0, 1, 70_000, 17, 70_000):
        arr = const_array(value, n)
        arr.validate(full=True)
        assert len(arr) == n
        assert arr.to_pylist() == [value] * n
    assert pa.types.is_dictionary(const_array("s", 4).type)


def test_const_array_keeps_signed_zero_apart() -> None:
    assert str(const_array(-0.0, 2).to_pylist()) == "[-0.0, -0.0]"
    assert str(const_array(0.0, 2).to_pylist()) == "[0.0, 0.0]"
    assert const_array(True, 2).to_pylist() == [True, True]
    assert const_array(1, 2).to_pylist() == [1, 1]
    assert const_array("s", 2).to_pylist() == ["s", "s"]
    assert const_array(None, 2).null_count == 2


def test_take_arrow_runs_shared_between_columns() -> None:
    n = 500
    ix = np.flatnonzero(RNG.random(n) < 0.97).astype(np.int64)
    cache: dict = {}
    for arr in _arrays(n):
        got = take_arrow(arr, ix, cache)
        got.validate(full=True)
        assert got.to_pylist() == arr.take(pa.array(ix)).to_pylist()
    assert id(ix) in cache
