"""Selection helpers: ascending row positions to an Arrow-style validity/filter bitmap."""

from __future__ import annotations

import numpy as np

from kernels._jit import jit

__all__ = ("positions_to_bitmap",)


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
