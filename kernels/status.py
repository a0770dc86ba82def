"""Kernels of the columnar status index: one status byte per id, ids grouped by status.

Storage the kernels work on (``streamkit.status`` owns it and does every allocation):

- a **dense** status column ``st`` (uint8) for ids ``base .. base + len(st) - 1``;
  ``ABSENT`` (255) marks an id that is not in the index;
- a **hash** table for the other ids: open addressing with linear probing over a
  power-of-two capacity, int64 ``keys`` (``EMPTY`` = -1, ``TOMB`` = -2; ids are
  never negative) and uint8 ``vals`` (the status, or 1 in a tag set);
- a growable int64 **id list** per status, appended to in entry order. An entry
  whose id has since left the status (or re-entered it later) is *stale*;
  :func:`compact_list` drops stale entries, keeping each live id's last entry.

Mutating kernels validate while they write and undo their writes at a bad id,
returning its position (-1 when all were fine): the caller raises with the
index unchanged, with no separate checking pass. Kernels never allocate, raise
or import streamkit.
"""

from __future__ import annotations

import numpy as np

from kernels._jit import jit

__all__ = (
    "ABSENT", "MARK", "EMPTY", "TOMB",
    "hash_find", "hash_rehash", "lookup",
    "add_ids", "add_range_codes", "group_by_code", "transition",
    "select_code", "compact_list", "drop_listed", "drop_dense", "first_present",
    "count_present", "evict", "migrate", "set_add", "set_remove", "set_compact",
)  # fmt: skip

ABSENT = 255
"""Status byte of an id that is not in the index."""
MARK = 0x80
"""Bit set on a status byte while :func:`compact_list` has kept that id (codes are < 128)."""
EMPTY = -1
"""Hash key of a never-used slot."""
TOMB = -2
"""Hash key of a deleted slot (probing continues past it)."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


# --------------------------------------------------------------------------- hash table


@jit
def _slot(key, mask):
    # Fibonacci hashing, folded: consecutive ids land far apart, so linear probing stays short
    h = np.uint64(key) * _GOLDEN
    h ^= h >> np.uint64(29)
    return np.int64(h & np.uint64(mask))


@jit
def hash_find(keys, key):
    """Slot holding ``key`` (``>= 0``) in ``keys``, or -1."""
    mask = keys.shape[0] - 1
    i = _slot(key, mask)
    while True:
        k = keys[i]
        if k == key:
            return i
        if k == EMPTY:
            return -1
        i = (i + 1) & mask


@jit
def _probe(keys, key):
    # slot of ``key`` (>= 0) if present, else -2 - the slot to insert it at (first tombstone or empty)
    mask = keys.shape[0] - 1
    i = _slot(key, mask)
    free = -1
    while True:
        k = keys[i]
        if k == key:
            return i
        if k == EMPTY:
            return -2 - (i if free < 0 else free)
        if k == TOMB and free < 0:
            free = i
        i = (i + 1) & mask


@jit
def hash_rehash(keys, vals, new_keys, new_vals):
    """Insert the live entries of ``keys``/``vals`` into empty ``new_keys``/``new_vals``; return how many."""
    n = 0
    for i in range(keys.shape[0]):
        k = keys[i]
        if k >= 0:
            s = -2 - _probe(new_keys, k)
            new_keys[s] = k
            new_vals[s] = vals[i]
            n += 1
    return n


# --------------------------------------------------------------------------- lookups
#
# Hot loops test the dense column inline and call into the hash table only for
# ids outside it: going through one encoded-location helper for every id was
# 3-8x slower on 1M sorted ids over a 100M column (35-100 ms vs 12.8 ms;
# benchmarks/test_bench_status.py::test_transition), the helper calls keeping
# fewer cache misses in flight.


@jit
def _hfind(key, keys, n_hash):
    # hash slot of ``key`` or -1 (also for negative ids and an empty table)
    if n_hash == 0 or key < 0:
        return -1
    return hash_find(keys, key)


@jit
def lookup(ids, base, st, keys, vals, n_hash, out):
    """``out[i]`` = status byte of ``ids[i]`` (ABSENT when it is not in the index); return how many are ABSENT."""
    nst = st.shape[0]
    n_absent = 0
    for i in range(ids.shape[0]):
        key = ids[i]
        off = key - base
        if key >= 0 and off >= 0 and off < nst:
            b = st[off]
        else:
            s = _hfind(key, keys, n_hash)
            b = ABSENT if s < 0 else vals[s]
        out[i] = b
        n_absent += b == ABSENT
    return n_absent


# --------------------------------------------------------------------------- adding ids


@jit
def _undo_add(ids, stop, base, st, keys):
    for j in range(stop):
        off = ids[j] - base
        if off >= 0 and off < st.shape[0]:
            st[off] = ABSENT
        else:
            keys[hash_find(keys, ids[j])] = TOMB


@jit
def add_ids(ids, codes, code, n_codes, base, st, keys, vals, counts):
    """Add non-negative ``ids`` with status ``codes[i]`` (or ``code`` when ``codes`` is empty).

    Ids outside the column go to the hash table, which must have room for all
    of them. ``counts[c]`` += ids added with ``c``. Returns ``(bad, n_hashed)``:
    the position of the first id already present or code ``>= n_codes`` (-1 if
    none; otherwise no id is added, ``counts`` is unchanged) and how many hash
    slots were filled: with ids, or, when ``bad >= 0``, with the tombstones
    that undoing them left (the caller counts those slots as used).
    """
    per_id = codes.shape[0] > 0
    nst = st.shape[0]
    n_hashed = 0
    bad = -1
    for i in range(ids.shape[0]):
        key = ids[i]
        c = codes[i] if per_id else code
        off = key - base
        if c >= n_codes:
            bad = i
            break
        if off >= 0 and off < nst:
            if st[off] != ABSENT:
                bad = i
                break
            st[off] = c
        else:
            s = _probe(keys, key)
            if s >= 0:
                bad = i
                break
            keys[-2 - s] = key
            vals[-2 - s] = c
            n_hashed += 1
    if bad >= 0:
        _undo_add(ids, bad, base, st, keys)
        return bad, n_hashed
    if per_id:
        _count_codes(codes, counts)
    else:
        counts[code] += ids.shape[0]
    return -1, n_hashed


@jit
def _code_bits(codes):
    # bit c set when code c occurs (codes past 63 all set bit 63)
    bits = 0
    for i in range(codes.shape[0]):
        bits |= 1 << min(codes[i], 63)
    return bits


@jit
def _count_code(codes, c):
    n = 0
    for i in range(codes.shape[0]):
        n += codes[i] == c
    return n


@jit
def _count_codes(codes, counts):
    # one vectorized counting pass per code that occurs, but the last one: the rest are it.
    # 0.1 ns/id per pass; seven scalar counters in one loop cost 0.8 ns/id, counts[c] += 1 ~1.5
    bits = _code_bits(codes)
    rest = codes.shape[0]
    last = -1
    for c in range(64):
        if (bits >> c) & 1:
            if last >= 0:
                k = _count_code(codes, last)
                counts[last] += k
                rest -= k
            last = c
    if last >= 0:
        counts[last] += rest


@jit
def add_range_codes(dst, codes, n_codes, counts):
    """Check that a run of consecutive ids can take ``codes`` and count them (the caller copies).

    ``dst`` is the column part the ids map to: every byte must be ABSENT and
    every code ``< n_codes`` (at most 63). Returns the first bad position (-1
    if none; then ``counts[c]`` += ids with code ``c``). Vectorized passes of
    ~0.1 ns/id each (a chunk of two statuses: ~0.3 ns/id in all);
    benchmarks/test_bench_status.py::test_build.
    """
    if count_present(dst) or _code_bits(codes) >> n_codes:
        for i in range(codes.shape[0]):
            if dst[i] != ABSENT or codes[i] >= n_codes:
                return i
    _count_codes(codes, counts)
    return -1


@jit
def group_by_code(ids, start, codes, keep, starts, out):
    """Stable counting sort: ``out[starts[c]:]`` gets, in order, each id whose code ``c`` is kept.

    The id of position ``i`` is ``ids[i]``, or ``start + i`` when ``ids`` is
    empty (a range). ``keep`` and ``starts`` have 256 entries (any byte is a
    valid index); ``starts`` is advanced past each group.
    """
    use_ids = ids.shape[0] > 0
    for i in range(codes.shape[0]):
        c = codes[i]
        if keep[c]:
            out[starts[c]] = ids[i] if use_ids else start + i
            starts[c] += 1


# --------------------------------------------------------------------------- transitions


@jit
def transition(ids, to, frm, base, st, keys, vals, n_hash, counts, old, buf, n_buf):
    """Move ``ids`` to status ``to``; append the ones that change to ``buf`` (if it is not empty).

    ``counts[c]`` += ids found in status ``c`` (``counts[to]`` counts ids already
    there: no change). ``old[i]`` gets each id's previous byte. With ``frm >= 0``
    every id must be in ``frm``. A repeated id sees ``to`` the second time, so
    it is counted and appended once. Returns ``(bad, n_buf)``: the first
    unknown or mismatched position (-1 if none) and the new list length; a bad
    id undoes every write (``counts`` too), in reverse, so repeats restore right.
    """
    append = buf.shape[0] > 0
    nst = st.shape[0]
    n_buf0 = n_buf
    bad = -1
    for i in range(ids.shape[0]):
        key = ids[i]
        off = key - base
        if key >= 0 and off >= 0 and off < nst:
            b = st[off]
            if b == ABSENT or (frm >= 0 and b != frm):
                bad = i
                break
            if b != to:
                st[off] = to
        else:
            s = _hfind(key, keys, n_hash)
            if s < 0:
                bad = i
                break
            b = vals[s]
            if frm >= 0 and b != frm:
                bad = i
                break
            vals[s] = to
        old[i] = b
        counts[b] += 1
        if b != to and append:
            buf[n_buf] = key
            n_buf += 1
    if bad >= 0:
        for j in range(bad - 1, -1, -1):  # every id before ``bad`` is in the index
            off = ids[j] - base
            if off >= 0 and off < nst:
                st[off] = old[j]
            else:
                vals[hash_find(keys, ids[j])] = old[j]
            counts[old[j]] -= 1
        return bad, n_buf0
    return -1, n_buf


@jit
def compact_list(buf, n, code, base, st, keys, vals, n_hash):
    """Keep, in order, the last entry of each id of ``buf[:n]`` still in status ``code``; return how many.

    Walks backwards marking kept ids' bytes with ``MARK``, so an older entry of
    a re-entered id is dropped; then unmarks and moves the kept run to the front.
    """
    nst = st.shape[0]
    w = n
    for j in range(n - 1, -1, -1):
        key = buf[j]
        off = key - base
        if off >= 0 and off < nst:
            if st[off] == code:
                st[off] = code | MARK
                w -= 1
                buf[w] = key
        else:
            s = _hfind(key, keys, n_hash)
            if s >= 0 and vals[s] == code:
                vals[s] = code | MARK
                w -= 1
                buf[w] = key
    k = n - w
    for j in range(k):
        key = buf[w + j]
        buf[j] = key
        off = key - base
        if off >= 0 and off < nst:
            st[off] = code
        else:
            vals[hash_find(keys, key)] = code
    return k


# --------------------------------------------------------------------------- dropping ids


@jit
def drop_listed(buf, n, code, base, st, keys, vals, n_hash):
    """Drop every id of ``buf[:n]`` still in ``code``; return ``(dropped, dropped from the hash)``."""
    nst = st.shape[0]
    dropped = 0
    hashed = 0
    for j in range(n):
        key = buf[j]
        off = key - base
        if off >= 0 and off < nst:
            if st[off] == code:
                st[off] = ABSENT
                dropped += 1
        else:
            s = _hfind(key, keys, n_hash)
            if s >= 0 and vals[s] == code:
                keys[s] = TOMB
                dropped += 1
                hashed += 1
    return dropped, hashed


@jit
def drop_dense(st, mask, counts):
    """Set ABSENT every byte ``b`` with ``mask[b]`` (256 entries); ``counts[b]`` += dropped."""
    for i in range(st.shape[0]):
        b = st[i]
        if mask[b]:
            counts[b] += 1
            st[i] = ABSENT


@jit
def first_present(st):
    """Offset of the first byte that is not ABSENT (``len(st)`` if none)."""
    for i in range(st.shape[0]):
        if st[i] != ABSENT:
            return i
    return st.shape[0]


@jit
def count_present(st):
    """How many bytes are not ABSENT."""
    n = 0
    for i in range(st.shape[0]):
        n += st[i] != ABSENT
    return n


@jit
def evict(st, first_id, keys, vals):
    """Insert every id of column part ``st`` (ids from ``first_id``) into the hash table; return how many."""
    n = 0
    for i in range(st.shape[0]):
        if st[i] != ABSENT:
            s = -2 - _probe(keys, first_id + i)
            keys[s] = first_id + i
            vals[s] = st[i]
            n += 1
    return n


@jit
def migrate(keys, vals, base, st):
    """Move hash entries whose id now falls in the column into it; return how many moved."""
    n = 0
    for i in range(keys.shape[0]):
        k = keys[i]
        if k >= 0 and k - base >= 0 and k - base < st.shape[0]:
            st[k - base] = vals[i]
            keys[i] = TOMB
            n += 1
    return n


# --------------------------------------------------------------------------- listing a status by a scan


@jit
def select_code(code, base, st, keys, vals, out):
    """Every id in status ``code`` into ``out`` (one slot more than there are): hash ids below the column,
    the column's ids ascending, hash ids above it; returns ``(n_low, n_dense)`` (the caller sorts the two
    hash runs). Only 8-byte words holding ``code`` are looked into, writing branchless (hence the spare
    slot): 100M ids, 99 / 1 / 0.01 % in ``code``, 180 / 30 / 10 ms, against 195 / 42 / 20 ms byte by byte
    and 2200 / 54 / 44 ms for ``np.flatnonzero``; tests/test_status_index.py::test_a_scan_matches_a_dict_*.
    """
    n_low = n_hash = 0
    for s in range(keys.shape[0]):
        if keys[s] >= 0 and vals[s] == code:
            n_hash += 1
            n_low += keys[s] < base
    w, stop = n_low, out.shape[0] - 1 - n_hash + n_low
    ones, highs = np.uint64(0x0101010101010101), np.uint64(0x8080808080808080)
    n8 = st.shape[0] // 8 if stop > w else 0
    words = st[: 8 * n8].view(np.uint64)
    for j in range(n8):
        x = words[j] ^ (np.uint64(code) * ones)
        if (x - ones) & ~x & highs:  # a zero byte: ``code`` is in this word
            if x == 0:  # all of it (a run of one status): -20% for a status holding 99% of the ids
                for t in range(8):
                    out[w + t] = base + 8 * j + t
                w += 8
            else:
                for i in range(8 * j, 8 * j + 8):
                    out[w] = base + i
                    w += st[i] == code
            if w == stop:
                break
    for i in range(8 * n8 if w < stop else st.shape[0], st.shape[0]):
        out[w] = base + i
        w += st[i] == code
    lo, hi = 0, stop
    for s in range(keys.shape[0] if n_hash else 0):
        if keys[s] >= 0 and vals[s] == code:
            if keys[s] < base:
                out[lo] = keys[s]
                lo += 1
            else:
                out[hi] = keys[s]
                hi += 1
    return n_low, stop - n_low


# --------------------------------------------------------------------------- tag sets


@jit
def set_add(keys, vals, ids, buf, n_buf):
    """Insert ``ids`` not yet in the set (table has room) and append them to ``buf``.

    Returns ``(n_buf, n_empty)``: the new list length and how many never-used
    slots were taken (tombstones are reused first).
    """
    n_empty = 0
    for i in range(ids.shape[0]):
        key = ids[i]
        s = _probe(keys, key)
        if s < 0:
            s = -2 - s
            n_empty += keys[s] == EMPTY
            keys[s] = key
            vals[s] = 1
            buf[n_buf] = key
            n_buf += 1
    return n_buf, n_empty


@jit
def set_remove(keys, ids, n_live):
    """Delete ``ids`` from the set (absent ones are skipped); return how many were deleted."""
    n = 0
    if n_live == 0:
        return 0
    for i in range(ids.shape[0]):
        if ids[i] >= 0:
            s = hash_find(keys, ids[i])
            if s >= 0:
                keys[s] = TOMB
                n += 1
    return n


@jit
def set_compact(buf, n, keys, vals):
    """:func:`compact_list` for a tag set: keep each member's last entry; return how many."""
    w = n
    for j in range(n - 1, -1, -1):
        s = hash_find(keys, buf[j])
        if s >= 0 and vals[s] == 1:
            vals[s] = 1 | MARK
            w -= 1
            buf[w] = buf[j]
    k = n - w
    for j in range(k):
        buf[j] = buf[w + j]
        vals[hash_find(keys, buf[j])] = 1
    return k
