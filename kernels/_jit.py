"""The one place that calls ``numba.njit``.

Kernels are serial and release the GIL: the engine's threads provide the
parallelism (``parallel=True`` compiles 2.4x slower and gains nothing on
memory-bound work; DESIGN.md §10). Nothing is inlined at numba's level
(``inline="always"`` made a generated kernel compile 2-2.5x slower for no
measurable gain); the one helper small enough for a call to matter, the text
copy, is an LLVM intrinsic (:func:`kernels._bytes.append_span`).
"""

from __future__ import annotations

import numba

__all__ = ("jit",)


def jit(fn=None, *, cache: bool = True):
    """``numba.njit(nogil=True, cache=cache)``, usable bare or with arguments."""
    deco = numba.njit(nogil=True, cache=cache)
    return deco if fn is None else deco(fn)
