"""Unaligned 8-byte loads and stores on uint8 arrays, for copying short byte strings a word at a time.

Copying keys and short strings byte by byte costs ~0.4 ns a byte; a word at a time
costs ~0.2 ns for a whole key. The caller pads: a load may read up to 7 bytes past
the end of what it copies, and a store may write up to 7 bytes past it (later
writes overwrite them), so sources and destinations need 8 spare bytes at the end.
"""

from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ("append_span", "load8", "store8")


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


@intrinsic
def append_span(typingctx, dst, n, src, s, e):
    """Append bytes ``s .. e-1`` of ``src`` to ``dst`` at cursor ``n``; the new cursor, or -1 if they do not fit.

    Emitted in place at every call (no call, nothing for numba to inline): up to 16
    bytes as two unaligned words where both arrays have 16 bytes from the start of
    the copy (the words may write past the new cursor: nothing lives there yet),
    longer spans by ``memcpy``. ``dst`` and ``src`` must not overlap.
    """
    sig = types.int64(dst, n, src, s, e)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        word = i64.as_pointer()
        d = context.make_array(signature.args[0])(context, builder, args[0])
        a = context.make_array(signature.args[2])(context, builder, args[2])
        at, start, stop = (context.cast(builder, args[k], signature.args[k], types.int64) for k in (1, 3, 4))
        m = builder.sub(stop, start)
        end = builder.add(at, m)
        d_len = builder.extract_value(d.shape, 0)
        a_len = builder.extract_value(a.shape, 0)
        fits = builder.and_(builder.icmp_signed(">=", at, i64(0)), builder.icmp_signed("<=", end, d_len))
        with builder.if_then(fits, likely=True):
            dp = builder.gep(d.data, [at])
            sp = builder.gep(a.data, [start])
            sixteen = i64(16)
            short = builder.and_(
                builder.icmp_signed("<=", m, sixteen),
                builder.and_(
                    builder.icmp_signed("<=", builder.add(at, sixteen), d_len),
                    builder.icmp_signed("<=", builder.add(start, sixteen), a_len),
                ),
            )
            with builder.if_else(short, likely=True) as (words, bulk):
                with words:
                    w0 = builder.load(builder.bitcast(sp, word), align=1)
                    w1 = builder.load(builder.bitcast(builder.gep(sp, [i64(8)]), word), align=1)
                    builder.store(w0, builder.bitcast(dp, word), align=1)
                    builder.store(w1, builder.bitcast(builder.gep(dp, [i64(8)]), word), align=1)
                with bulk:
                    cgutils.raw_memcpy(builder, dp, sp, m, 1)
        return builder.select(fits, end, i64(-1))

    return sig, codegen
