"""Turn what users pass as ids or status columns into contiguous numpy arrays (no copy when possible)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from streamkit.status.codes import N_STATUSES, STATUS_NAMES, status_code

__all__ = ("as_ids", "as_codes", "is_scalar_id", "one_id", "range_bounds", "MAX_ID")

#: The largest id (ids are int64).
MAX_ID = (1 << 63) - 1


def is_scalar_id(value: object) -> bool:
    """Whether ``value`` is one integer id (not a bool)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def one_id(ids: Any) -> int:
    """``ids`` as one id (an int) for the one-id paths, else -1: not one integer, or outside 0..MAX_ID.

    The batch path takes what this refuses, and says what is wrong with it.

    Examples
    --------
    >>> one_id(7), one_id(np.int32(7)), one_id([7]), one_id(-7), one_id(True)
    (7, 7, -1, -1, -1)
    """
    if ids.__class__ is not int:
        if not isinstance(ids, np.integer):
            return -1
        ids = int(ids)
    return ids if 0 <= ids <= MAX_ID else -1


def range_bounds(start: Any, stop: Any) -> tuple[int, int]:
    """``start`` and ``stop`` of a run of ids, checked: integers, ``start`` non-negative.

    Examples
    --------
    >>> range_bounds(-1, 5)
    Traceback (most recent call last):
    ...
    ValueError: ids must be non-negative, got `start` -1
    """
    if not (is_scalar_id(start) and is_scalar_id(stop)):
        msg = f"`start` and `stop` must be integers, got {start!r} and {stop!r}"
        raise TypeError(msg)
    if start < 0:
        msg = f"ids must be non-negative, got `start` {int(start)}"
        raise ValueError(msg)
    return int(start), int(stop)


def _from_arrow(values: pa.Array | pa.ChunkedArray, what: str) -> np.ndarray:
    if not pa.types.is_integer(values.type):
        msg = f"`{what}` must hold integers, got an Arrow array of {values.type}"
        raise TypeError(msg)
    if values.null_count:
        msg = f"`{what}` must not hold nulls, got {values.null_count} null(s)"
        raise ValueError(msg)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return np.asarray(values.to_numpy(zero_copy_only=False))


def as_ids(ids: Any, *, what: str = "ids") -> np.ndarray:
    """``ids`` as a contiguous 1-D int64 array: a view of an int64 numpy or Arrow array, else a copy.

    Accepts one integer, ``range``, lists and tuples of integers, numpy integer
    arrays, and pyarrow integer arrays without nulls. Whether ids are
    non-negative is checked where it matters (adding them).

    Raises
    ------
    TypeError
        Floats, booleans, strings, or anything else that is not integers.
    ValueError
        More than one dimension, nulls, or unsigned values above the int64 range.

    Examples
    --------
    >>> as_ids([3, 1, 2])
    array([3, 1, 2])
    >>> as_ids(range(2, 5)), as_ids(7)
    (array([2, 3, 4]), array([7]))
    >>> as_ids([1.5])
    Traceback (most recent call last):
    ...
    TypeError: `ids` must be integers, got an array of float64
    """
    if ids.__class__ is np.ndarray and ids.dtype == np.int64 and ids.ndim == 1 and ids.flags.c_contiguous:
        return ids  # the common case, first
    if is_scalar_id(ids):
        return np.array([ids], np.int64)
    if isinstance(ids, range):
        return np.arange(ids.start, ids.stop, ids.step, dtype=np.int64)
    if isinstance(ids, (pa.Array, pa.ChunkedArray)):
        arr = _from_arrow(ids, what)
    elif isinstance(ids, np.ndarray):
        arr = ids
    elif isinstance(ids, (str, bytes, dict)) or ids is None:
        msg = f"`{what}` must be integers, got {type(ids).__name__}"
        raise TypeError(msg)
    else:
        arr = np.asarray(ids)
        if arr.size == 0:
            return np.empty(0, np.int64)
    if arr.ndim != 1:
        msg = f"`{what}` must be one-dimensional, got shape {arr.shape}"
        raise ValueError(msg)
    if arr.dtype.kind not in "iu":
        if arr.size == 0 and arr.dtype.kind == "f":
            return np.empty(0, np.int64)
        msg = f"`{what}` must be integers, got an array of {arr.dtype}"
        raise TypeError(msg)
    if arr.dtype == np.uint64 and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
        msg = f"`{what}` must fit in int64, got {int(arr.max())}"
        raise ValueError(msg)
    return np.ascontiguousarray(arr, dtype=np.int64)


def as_codes(statuses: Any, n: int) -> np.ndarray:
    """A status per id as uint8 codes, checked to be ``n`` long and valid.

    Accepts a uint8 (or other integer) code array, an Arrow array of codes or of
    names (dictionary-encoded or not), or a sequence of statuses
    (:class:`~streamkit.status.EventStatus`, names or codes).

    Examples
    --------
    >>> as_codes(["failed", "pending"], 2)
    array([3, 0], dtype=uint8)
    >>> as_codes(["done"], 1)
    Traceback (most recent call last):
    ...
    ValueError: `statuses` must be one of 'pending', 'processing', 'completed', 'failed', 'skipped', 'cancelled', 'aborted' (or an EventStatus, or a code 0..6), got 'done'
    """  # noqa: E501
    if isinstance(statuses, pa.ChunkedArray):
        statuses = statuses.combine_chunks()
    if isinstance(statuses, pa.Array):
        if statuses.null_count:
            msg = f"`statuses` must not hold nulls, got {statuses.null_count} null(s)"
            raise ValueError(msg)
        if pa.types.is_dictionary(statuses.type):
            names = statuses.dictionary.to_pylist()
            lut = np.array([status_code(s, what="statuses") for s in names] or [0], np.uint8)
            codes = lut[np.asarray(statuses.indices.to_numpy(zero_copy_only=False))]
        elif pa.types.is_string(statuses.type) or pa.types.is_large_string(statuses.type):
            codes = np.array([status_code(s, what="statuses") for s in statuses.to_pylist()], np.uint8)
        else:
            codes = _checked_ints(_from_arrow(statuses, "statuses"))
    elif isinstance(statuses, np.ndarray) and statuses.dtype.kind in "iu":
        codes = _checked_ints(statuses)
    else:
        codes = np.array([status_code(s, what="statuses") for s in statuses], np.uint8)
    if codes.ndim != 1 or codes.shape[0] != n:
        msg = f"`statuses` must hold one status per id ({n}), got shape {codes.shape}"
        raise ValueError(msg)
    return codes


def _checked_ints(arr: np.ndarray) -> np.ndarray:
    # uint8 codes are checked by the kernel as they are copied; wider types here
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= N_STATUSES):
        bad = arr[(arr < 0) | (arr >= N_STATUSES)][0]
        msg = f"`statuses` must be codes 0..{N_STATUSES - 1} ({', '.join(STATUS_NAMES)}), got {int(bad)}"
        raise ValueError(msg)
    return arr.astype(np.uint8)
