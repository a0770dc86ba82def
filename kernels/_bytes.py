"""Unaligned 8-byte loads and stores on uint8 arrays, for copying short byte strings a word at a time.

Copying keys and short strings byte by byte costs ~0.4 ns a byte; a word at a time
costs ~0.2 ns for a whole key. The caller pads: a load may read up to 7 bytes past
the end of what it copies, and a store may write up to 7 bytes past it (later
writes overwrite them), so sources and destinations need 8 spare bytes at the end.
"""

from __future__ import annotations

from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

__all__ = ("load8", "store8")


@intrinsic
def load8(typingctx, arr, idx):
    """The 8 bytes of uint8 array ``arr`` from index ``idx`` on, as a uint64 (no bounds check)."""
    sig = types.uint64(arr, idx)

    def codegen(context, builder, signature, args):
        a = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = builder.gep(a.data, [args[1]])
        return builder.load(builder.bitcast(ptr, ir.IntType(64).as_pointer()), align=1)

    return sig, codegen


@intrinsic
def store8(typingctx, arr, idx, val):
    """Write uint64 ``val`` as 8 bytes of uint8 array ``arr`` from index ``idx`` on (no bounds check)."""
    sig = types.void(arr, idx, val)

    def codegen(context, builder, signature, args):
        a = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = builder.gep(a.data, [args[1]])
        v = context.cast(builder, args[2], signature.args[2], types.uint64)
        builder.store(v, builder.bitcast(ptr, ir.IntType(64).as_pointer()), align=1)
        return context.get_dummy_value()

    return sig, codegen
