"""The one place that calls ``numba.njit``.

Kernels are serial and release the GIL: the engine's threads provide the
parallelism (``parallel=True`` compiles 2.4x slower and gains nothing on
memory-bound work; DESIGN.md §10).
"""

from __future__ import annotations

import numba

__all__ = ("jit",)


def jit(fn=None, *, cache: bool = True):
    """``numba.njit(nogil=True, cache=cache)``, usable bare or with arguments."""
    deco = numba.njit(nogil=True, cache=cache)
    return deco if fn is None else deco(fn)
