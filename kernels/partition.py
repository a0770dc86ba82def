"""Stable counting partition of row positions by small integer route codes."""

from __future__ import annotations

import numpy as np

from kernels._jit import jit

__all__ = ("partition_by_code",)


@jit
def _all_equal(codes):
    if codes.shape[0] == 0:
        return True
    first = codes[0]
    same = True
    for i in range(codes.shape[0]):
        same &= codes[i] == first
    return same


@jit
def _count(codes, counts):
    # codes are in [-2, n_codes - 3]; shift by 2 so failed (-1) and escaped (-2) rows get buckets too
    for i in range(codes.shape[0]):
        counts[codes[i] + 2] += 1


@jit
def _partition(codes, n_codes, order, counts):
    starts = np.empty(n_codes + 1, np.int64)
    s = 0
    for k in range(n_codes):
        starts[k] = s
        s += counts[k]
    for i in range(codes.shape[0]):
        k = codes[i] + 2
        order[starts[k]] = i
        starts[k] += 1


def partition_by_code(codes: np.ndarray, n_targets: int) -> tuple[np.ndarray, np.ndarray]:
    """Group positions by route code, keeping input order inside each group.

    Parameters
    ----------
    codes:
        int64 route code per row: ``-2`` escaped, ``-1`` failed, ``0..n_targets-1`` an arc.
    n_targets:
        Number of arcs.

    Returns
    -------
    order, bounds:
        ``order[bounds[k + 2]:bounds[k + 3]]`` are the positions with code ``k``
        (so ``bounds[0]:bounds[1]`` is escaped, ``bounds[1]:bounds[2]`` failed).
        When every row has the same code, ``order`` is ``None``: the positions
        are all of them, in order, and no permutation is built.
    """
    n_codes = n_targets + 2
    counts = np.zeros(n_codes, np.int64)
    if _all_equal(codes):
        if codes.shape[0]:
            counts[codes[0] + 2] = codes.shape[0]
        bounds = np.zeros(n_codes + 1, np.int64)
        np.cumsum(counts, out=bounds[1:])
        return None, bounds
    if n_codes <= 8:
        for k in range(n_codes):  # vectorized compares: no store-to-load chain on one counter
            counts[k] = np.count_nonzero(codes == k - 2)
    else:
        _count(codes, counts)
    if np.count_nonzero(counts) <= 3:
        # few groups: one vectorized pass per group beats the scatter (no store dependency chain)
        parts = [np.flatnonzero(codes == k - 2) for k in range(n_codes) if counts[k]]
        order = np.concatenate(parts)
    else:
        order = np.empty(codes.shape[0], np.int64)
        _partition(codes, n_codes, order, counts)
    bounds = np.zeros(n_codes + 1, np.int64)
    np.cumsum(counts, out=bounds[1:])
    return order, bounds
