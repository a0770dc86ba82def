"""The id -> status byte map behind :class:`~streamkit.status.StatusIndex`: a status column and a hash table.

Ids from a stream are row positions, dense from some start, so the map is a
**status column** indexed by ``id - base`` (one byte per id, ``ABSENT`` where
there is none). Ids far from the column (job ids, outliers) go to an
open-addressing **hash table** of int64 keys and uint8 statuses. The column
grows (by an eighth at least, in place) to cover new ids while at least a quarter of its
range is used. It slides forward past ids that were dropped, moving the few
left behind (say failed records kept for a retry) to the hash table, so an
unbounded stream that cleans up what it has finished keeps a column only about
as wide as the ids it still holds.

Batches go through the kernels in ``kernels/status.py``; one id at a time goes
through the ``*_one`` methods, plain Python on the same arrays (a kernel call
costs more than the work: ~1 µs to dispatch on its array arguments).
"""

from __future__ import annotations

import numpy as np

from kernels import status as K
from streamkit.status.codes import N_STATUSES

__all__ = ("HashTable", "Store", "EMPTY_U8", "EMPTY_I64")

EMPTY_U8 = np.empty(0, np.uint8)
EMPTY_I64 = np.empty(0, np.int64)

#: Smallest column; also the slack a sparse batch may add to it.
MIN_COLUMN = 1 << 12
#: The column may span at most this many ids per id it holds: at 1/16 full it
#: costs 16 bytes per id, about what the hash table costs (9 bytes a slot at a
#: load of 1/4 to 1/2).
MAX_SPREAD = 16
#: Rebuild a hash table when live + deleted slots pass this share of its capacity.
MAX_LOAD = 0.7

_GOLDEN = 0x9E3779B97F4A7C15  # the kernels' Fibonacci hash, in Python ints
_ABSENT, _EMPTY, _TOMB = K.ABSENT, K.EMPTY, K.TOMB


class HashTable:
    """Open addressing over int64 keys (ids) with a uint8 value each; ``n_live`` entries.

    The probe sequence is the kernels' (``kernels.status._slot``), computed in
    Python by :meth:`find` and :meth:`insert` for one key; capacities stay
    below 2**35 slots (256 GiB of keys), so the low 64 bits of the hash product
    are all they need.
    """

    __slots__ = ("keys", "n_live", "n_used", "vals")

    def __init__(self, capacity: int = 16) -> None:
        self.keys = np.full(capacity, K.EMPTY, np.int64)
        self.vals = np.zeros(capacity, np.uint8)
        self.n_live = 0
        self.n_used = 0  # live + deleted slots (an upper bound: reused tombstones are not subtracted)

    def reserve(self, m: int) -> None:
        """Make room for ``m`` more keys, rebuilding at a load between a quarter and a half."""
        if self.n_used + m > MAX_LOAD * self.keys.shape[0]:
            self.rebuild(self.n_live + m)

    def rebuild(self, n: int) -> None:
        """Rehash the live entries into a table sized for ``n`` keys (drops the tombstones)."""
        cap = 16
        while cap < 2 * n:
            cap *= 2
        keys = np.full(cap, K.EMPTY, np.int64)
        vals = np.zeros(cap, np.uint8)
        K.hash_rehash(self.keys, self.vals, keys, vals)
        self.keys, self.vals, self.n_used = keys, vals, self.n_live

    def find(self, key: int) -> int:
        """The slot holding ``key``, or -1 (one key: ``kernels.status.hash_find`` in Python)."""
        if not self.n_live:
            return -1  # the table may hold only tombstones: a probe would never end
        item = self.keys.item
        mask = len(self.keys) - 1
        h = key * _GOLDEN  # bits 0..63 of the kernels' uint64 product suffice: 29 + log2(capacity) <= 64
        i = (h ^ (h >> 29)) & mask
        k = item(i)
        while k != key:
            if k == _EMPTY:
                return -1
            i = (i + 1) & mask
            k = item(i)
        return i

    def insert(self, key: int, val: int) -> bool:
        """Insert ``key`` with ``val`` unless it is there (then return False); room must be reserved."""
        item = self.keys.item
        mask = len(self.keys) - 1
        h = key * _GOLDEN
        i = (h ^ (h >> 29)) & mask
        free = -1
        k = item(i)
        while k != _EMPTY:
            if k == key:
                return False
            if k == _TOMB and free < 0:
                free = i
            i = (i + 1) & mask
            k = item(i)
        if free < 0:
            free = i
            self.n_used += 1
        self.keys[free] = key
        self.vals[free] = val
        self.n_live += 1
        return True

    def removed(self, n: int) -> None:
        """Account for ``n`` entries a kernel deleted; shrink a mostly empty table."""
        self.n_live -= n
        if self.keys.shape[0] > 64 and self.n_live < self.keys.shape[0] // 16:
            self.rebuild(self.n_live)

    def drop(self, mask: np.ndarray) -> None:
        """Delete the entries whose value ``v`` has ``mask[v]`` (256 entries)."""
        hit = (self.keys >= 0) & mask[self.vals]
        self.keys[hit] = K.TOMB
        self.removed(int(np.count_nonzero(hit)))

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return self.keys.nbytes + self.vals.nbytes


class Store:
    """Status byte per id: the column ``st`` over ``base .. base + len(st) - 1``, the hash table elsewhere.

    Ids are non-negative (the index checks); a method that fails part way
    leaves the store as it was and reports where (the index raises).
    """

    __slots__ = ("_old", "base", "hash", "n_ids", "st", "top")

    def __init__(self) -> None:
        self._old = EMPTY_U8  # scratch of transition()
        self.base = 0
        self.st = EMPTY_U8
        self.hash = HashTable()
        self.n_ids = 0  # ids held, column and hash table
        self.top = 0  # 1 + the largest id ever added: the column never slides past it

    def args(self) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, int]:
        """``(base, st, keys, vals, n_hash)``, the storage arguments of the kernels."""
        h = self.hash
        return self.base, self.st, h.keys, h.vals, h.n_live

    # ------------------------------------------------------------------ one id

    def get_one(self, key: int) -> int:
        """The status byte of ``key`` (``ABSENT``: not held)."""
        off = key - self.base
        if 0 <= off < len(self.st):
            return self.st.item(off)
        s = self.hash.find(key)
        return _ABSENT if s < 0 else self.hash.vals.item(s)

    def add_one(self, key: int, code: int) -> bool:
        """Hold ``key`` in status ``code``; False (nothing changes) if it is held already."""
        off = key - self.base
        size = len(self.st)
        if not 0 <= off < size:
            # _cover's test for one id, inline: a column wider than its budget with the id cannot take it
            # (and one id never slides it), so a far id goes straight to the hash table (~1 µs saved)
            wider = size + (-off if off < 0 else off + 1 - size)
            budget = MAX_SPREAD * (self.n_ids - self.hash.n_live + 1) + MIN_COLUMN
            if size and MAX_SPREAD < MIN_COLUMN and wider > budget:
                h = self.hash
                if h.n_used + 1 > MAX_LOAD * len(h.keys):
                    h.rebuild(h.n_live + 1)
                if key >= self.top:
                    self.top = key + 1
            else:
                self.prepare_add(None, key, key, 1)
                off = key - self.base
        st = self.st
        if 0 <= off < len(st):
            if st.item(off) != _ABSENT:
                return False
            st[off] = code
            if key >= self.top:
                self.top = key + 1
        elif not self.hash.insert(key, code):
            return False
        self.n_ids += 1
        return True

    def move_one(self, key: int, to: int, frm: int) -> int:
        """Put ``key`` in status ``to`` and return its previous byte: ``ABSENT`` if it is not held, and
        then (or when ``frm >= 0`` and it is not ``frm``) nothing changes."""
        off = key - self.base
        st = self.st
        if 0 <= off < len(st):
            b: int = st.item(off)
            if b != to and b != _ABSENT and (frm < 0 or b == frm):
                st[off] = to
            return b
        s = self.hash.find(key)
        if s < 0:
            return _ABSENT
        vals = self.hash.vals
        b = vals.item(s)
        if frm < 0 or b == frm:
            vals[s] = to
        return b

    # ------------------------------------------------------------------ batches

    def lookup(self, ids: np.ndarray) -> tuple[np.ndarray, int]:
        """Status byte of each id (``ABSENT`` for ids not held), and how many are not held."""
        out = np.empty(ids.shape[0], np.uint8)
        h = self.hash
        n_absent = K.lookup(ids, self.base, self.st, h.keys, h.vals, h.n_live, out)
        return out, n_absent

    def add(self, ids: np.ndarray, codes: np.ndarray, code: int, counts: np.ndarray) -> int:
        """Hold ``ids`` (any order, not empty) with ``codes`` (one each) or ``code`` (all, when ``codes``
        is empty); ``counts[c]`` += ids in ``c``.

        Returns -1, or the first position that is held already, repeated or
        has a code past the statuses (then nothing changes).

        Raises
        ------
        ValueError
            A negative id (keys below 0 mark the hash table's free slots).
        """
        lo, hi = int(ids.min()), int(ids.max())
        if lo < 0:
            at = int(np.argmax(ids < 0))
            msg = f"ids must be non-negative, got {int(ids[at])} at position {at}"
            raise ValueError(msg)
        self.prepare_add(ids, lo, hi, ids.shape[0])
        h = self.hash
        bad, n_hashed = K.add_ids(ids, codes, code, N_STATUSES, self.base, self.st, h.keys, h.vals, counts)
        h.n_used += n_hashed  # on failure too: the slots hold tombstones then
        if bad >= 0:
            return bad
        h.n_live += n_hashed
        self.n_ids += ids.shape[0]
        return -1

    def add_run(self, start: int, m: int, codes: np.ndarray, code: int, counts: np.ndarray) -> int:
        """:meth:`add` for the ids ``start .. start + m - 1`` (no id array unless they miss the column)."""
        self.prepare_add(None, start, start + m - 1, m)
        off = start - self.base
        if off < 0 or off + m > self.st.shape[0]:
            return self.add(np.arange(start, start + m, dtype=np.int64), codes, code, counts)
        dst = self.st[off : off + m]
        if codes.shape[0]:
            bad = K.add_range_codes(dst, codes, N_STATUSES, counts)
            if bad >= 0:
                return bad
            dst[:] = codes
        else:
            bad = K.first_present(dst)
            if bad < m:
                return bad
            dst.fill(code)
            counts[code] += m
        self.n_ids += m
        return -1

    def transition(self, ids: np.ndarray, to: int, frm: int, out: np.ndarray,
                   n_out: int) -> tuple[int, np.ndarray, np.ndarray, int]:  # fmt: skip
        """Move ``ids`` to ``to`` (all from ``frm`` if ``frm >= 0``), appending those that change to ``out``.

        Returns ``(bad, counts, old, n_out)`` as ``kernels.status.transition``
        leaves them: the first unknown or mismatched position (-1 if none;
        then nothing changed), the ids found per status, each id's previous
        status (a view of a scratch buffer, valid until the next call) and the
        new length of ``out``.
        """
        m = ids.shape[0]
        if self._old.shape[0] < m:
            self._old = np.empty(m, np.uint8)  # reused: fresh pages cost more than the kernel
        old = self._old[:m]
        counts = np.zeros(N_STATUSES, np.int64)
        bad, n_out = K.transition(ids, to, frm, *self.args(), counts, old, out, n_out)
        return bad, counts, old, n_out

    def select(self, code: int, n: int) -> np.ndarray:
        """The ``n`` ids in status ``code``, ascending: a scan of the column and the hash table, O(n + len)."""
        out = np.empty(n + 1, np.int64)
        n_low, n_dense = K.select_code(code, self.base, self.st, self.hash.keys, self.hash.vals, out)
        out.resize(n, refcheck=False)  # drop the kernel's spare slot; nothing else sees `out` yet
        if self.hash.n_live:
            out[:n_low].sort()
            out[n_low + n_dense :].sort()
        return out

    def compact(self, buf: np.ndarray, n: int, code: int) -> int:
        """Keep the last entry of each id of ``buf[:n]`` still in ``code`` (``kernels.status.compact_list``)."""
        return K.compact_list(buf, n, code, *self.args())

    def drop_listed(self, buf: np.ndarray, n: int, code: int) -> None:
        """Drop the ids of ``buf[:n]`` that are in status ``code``."""
        dropped, hashed = K.drop_listed(buf, n, code, *self.args())
        self.hash.removed(hashed)
        self.n_ids -= dropped

    def drop_codes(self, codes: list[int]) -> None:
        """Drop every id in a status of ``codes``: one scan of the column and of the hash table."""
        mask = np.zeros(256, np.bool_)
        mask[codes] = True
        counts = np.zeros(256, np.int64)
        n_hash = self.hash.n_live
        K.drop_dense(self.st, mask, counts)
        self.hash.drop(mask)
        self.n_ids -= int(counts.sum()) + n_hash - self.hash.n_live

    # ------------------------------------------------------------------ the column's extent

    def prepare_add(self, ids: np.ndarray | None, lo: int, hi: int, m: int) -> None:
        """Make room for ``m`` new ids between ``lo`` and ``hi`` (``ids`` may be None for a range).

        Grows the column over them when that keeps it dense enough, and makes
        room in the hash table for the ones that stay outside.
        """
        base, size = self.base, len(self.st)
        if hi >= self.top:
            self.top = hi + 1
        if size and lo >= base and hi < base + size:
            return
        self._cover(lo, hi, m)
        base, end = self.base, self.base + len(self.st)
        if lo < base or hi >= end:
            outside = m if ids is None else int(np.count_nonzero((ids < base) | (ids >= end)))
            h = self.hash
            if h.n_used + outside > MAX_LOAD * len(h.keys):  # h.reserve(outside), inline
                h.rebuild(h.n_live + outside)

    def reserve(self, lo: int, hi: int) -> None:
        """Widen the column over ``lo .. hi`` now, for ids that will be added there in pieces."""
        base, size = self.base, len(self.st)
        if not (size and lo >= base and hi < base + size):
            self._cover(lo, hi, hi + 1 - lo)

    def _cover(self, lo: int, hi: int, m: int) -> None:
        # widen the column over [lo, hi], or over the part of it above the column, if it stays dense
        # enough; else slide it forward onto them (for a batch that could fill a column: sliding for
        # each of a few far ids, job ids one at a time, was a scan of the hash table per id), moving the
        # few ids it leaves behind to the hash table; else leave the new ids to the table
        base, size = self.base, len(self.st)
        budget = MAX_SPREAD * (self.n_ids - self.hash.n_live + m) + MIN_COLUMN
        if size == 0:
            if hi + 1 - lo <= budget:
                self._relocate(lo, max(hi + 1 - lo, MIN_COLUMN))
            return
        end = base + size
        new_hi = max(hi + 1, end)
        if new_hi - min(lo, base) <= budget:
            new_lo = min(lo, base)
        elif new_hi > end and new_hi - base <= budget:
            new_lo = base
        else:
            new_lo = new_hi - budget
            if MAX_SPREAD * m >= MIN_COLUMN and base <= new_lo <= lo:
                self._relocate(new_lo, budget + budget // 2, max_evicted=m)
            return
        grown = max(new_hi - new_lo, size + size // 8, MIN_COLUMN)
        if new_lo < base:  # growing downwards (chunks out of order): the slack goes below
            new_lo = max(0, new_hi - grown)
        self._relocate(new_lo, grown)

    def _relocate(self, new_base: int, size: int, max_evicted: int | None = None) -> bool:
        # the column over new_base .. new_base + size - 1: bytes of the old one inside it are copied,
        # ids outside it move to the hash table (if there are at most max_evicted), hash ids inside it move in
        old, old_base = self.st, self.base
        cut_lo = min(max(new_base - old_base, 0), old.shape[0])
        cut_hi = min(max(new_base + size - old_base, cut_lo), old.shape[0])
        if cut_lo > 0 or cut_hi < old.shape[0]:
            n_out = K.count_present(old[:cut_lo]) + K.count_present(old[cut_hi:])
            if max_evicted is not None and n_out > max_evicted:
                return False
            self.hash.reserve(n_out)
            n = K.evict(old[:cut_lo], old_base, self.hash.keys, self.hash.vals)
            n += K.evict(old[cut_hi:], old_base + cut_hi, self.hash.keys, self.hash.vals)
            self.hash.n_live += n
            self.hash.n_used += n
        if new_base == old_base and cut_hi == old.shape[0] and old.base is None and old.shape[0]:
            # growing upwards: realloc (the kernel moves the pages, no copy); the new tail is zeroed, then filled
            old.resize(size, refcheck=False)  # no view of the column outlives a call holding the lock
            old[cut_hi:] = K.ABSENT
            st = old
        else:
            st = np.empty(size, np.uint8)  # each byte written once: fresh pages cost ~0.4 ns/byte to fault in
            at = old_base + cut_lo - new_base
            st[:at] = K.ABSENT
            st[at : at + cut_hi - cut_lo] = old[cut_lo:cut_hi]
            st[at + cut_hi - cut_lo :] = K.ABSENT
        self.base, self.st = new_base, st
        if self.hash.n_live:
            self.hash.removed(K.migrate(self.hash.keys, self.hash.vals, self.base, self.st))
        return True

    def trim(self) -> None:
        """After ids were dropped: slide the column past a leading run of dropped ids, or of
        nearly only dropped ids (the few left move to the hash table), never past :attr:`top`."""
        size = self.st.shape[0]
        shift = min(size // 2, self.top - self.base)
        if shift < MIN_COLUMN:
            return
        first = min(K.first_present(self.st), self.top - self.base)
        if first >= shift:
            self.st[: size - first] = self.st[first:]
            self.st[size - first :] = K.ABSENT
            self.base += first
            if self.hash.n_live:
                self.hash.removed(K.migrate(self.hash.keys, self.hash.vals, self.base, self.st))
        elif MAX_SPREAD * (self.n_ids - self.hash.n_live) < size:
            self._relocate(self.base + shift, size, max_evicted=shift // (4 * MAX_SPREAD))

    @property
    def nbytes(self) -> int:
        """Bytes held by the column and the hash table."""
        return self.st.nbytes + self.hash.nbytes
