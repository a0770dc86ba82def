"""Selection helpers: ascending row positions to an Arrow-style validity/filter bitmap."""

from __future__ import annotations

import numpy as np

from kernels._jit import jit

__all__ = ("positions_to_bitmap", "num_to_float")


@jit
def _fill(ix, bits):
    for j in range(ix.shape[0]):
        p = ix[j]
        bits[p >> 3] |= np.uint8(1) << np.uint8(p & 7)


def positions_to_bitmap(ix: np.ndarray, n: int) -> np.ndarray:
    """Packed little-endian bitmap of ``n`` bits with the bits at ``ix`` set."""
    bits = np.zeros((n + 7) // 8, np.uint8)
    _fill(ix, bits)
    return bits


@jit
def num_to_float(isf, iv, fv, out):
    """Merge an int|float column into float64 ``out``; return how many entries are floats."""
    k = 0
    for i in range(isf.shape[0]):
        if isf[i]:
            out[i] = fv[i]
            k += 1
        else:
            out[i] = np.float64(iv[i])
    return k
