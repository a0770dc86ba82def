"""The one place that calls ``numba.njit``.

Kernels are serial and release the GIL: the engine's threads provide the
parallelism (``parallel=True`` compiles 2.4x slower and gains nothing on
memory-bound work; DESIGN.md §10).
"""

from __future__ import annotations

import numba

__all__ = ("jit",)


def jit(fn=None, *, cache: bool = True, inline: bool = False):
    """``numba.njit(nogil=True, cache=cache)``, usable bare or with arguments.

    ``inline``: compile the function into every caller (numba's ``inline="always"``),
    for helpers so small that a call costs as much as their work (the text helpers
    a generated kernel calls per row: 25 -> 14 ns a row for two short copies).
    """
    deco = numba.njit(nogil=True, cache=cache, inline="always" if inline else "never")
    return deco if fn is None else deco(fn)
