"""The string pool of one chunk: every distinct string a kernel reads or writes gets one code.

Kernels see strings as int64 codes, so equality is a code comparison; ordering,
``len`` and str methods are tables over the pool computed once per distinct
string (with Python's own semantics), never per row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from streamkit._arrow.gather import valid_flags
from streamkit.expr.values import StrOp, StrOpKind

__all__ = ("StringPool",)

#: Kernels' literal strings as Arrow arrays with their codes in a fresh pool (immutable, so shared).
_LITERALS: dict[tuple[str, ...], tuple[pa.Array, np.ndarray]] = {}


class StringPool:
    """Distinct strings of a chunk, each with a stable int64 code."""

    def __init__(self) -> None:
        self._chunks: list[pa.Array] = []
        self._array: pa.Array | None = None
        self._list: list[str] = []
        self._index: dict[str, int] = {}
        self._tables: dict[Any, tuple[np.ndarray, np.ndarray]] = {}
        self._lits: dict[tuple[str, ...], np.ndarray] = {}
        #: numpy views of the chunk's Arrow arrays, by id (the array is kept alive beside them)
        self.views: dict[int, tuple[Any, str, Any]] = {}

    def __len__(self) -> int:
        return len(self._list)

    @property
    def array(self) -> pa.Array:
        """The pool as an Arrow string array (code = position)."""
        if self._chunks:
            parts = self._chunks if self._array is None else [self._array, *self._chunks]
            self._array = parts[0] if len(parts) == 1 else pa.concat_arrays(parts)
            self._chunks = []
        if self._array is None:
            self._array = pa.array([], pa.string())
        return self._array

    def intern_unique(self, values: pa.Array) -> np.ndarray:
        """Codes of distinct, non-null strings, adding the new ones to the pool."""
        if len(values) == 0:
            return np.empty(0, np.int64)
        if len(values) <= 256:
            return self.intern_strings(values.to_pylist())
        values = values.cast(pa.string()) if values.type != pa.string() else values
        if not self._list:
            idx = pa.nulls(len(values), pa.int32())
        else:
            idx = pc.index_in(values, value_set=self.array)
        codes = np.asarray(idx.fill_null(-1), dtype=np.int64).copy()
        missing = np.flatnonzero(codes < 0)
        if missing.size:
            new = values.take(pa.array(missing))
            start = len(self._list)
            codes[missing] = np.arange(start, start + missing.size)
            self._chunks.append(new)
            strings = new.to_pylist()
            self._list.extend(strings)
            self._index.update(zip(strings, range(start, start + len(strings))))
        return codes

    def intern_strings(self, strings: list[str]) -> np.ndarray:
        """Codes of Python strings (duplicates allowed)."""
        index = self._index
        new: list[str] = []
        out = np.empty(len(strings), np.int64)
        for j, s in enumerate(strings):
            code = index.get(s)
            if code is None:
                code = len(self._list)
                index[s] = code
                self._list.append(s)
                new.append(s)
            out[j] = code
        if new:
            self._chunks.append(pa.array(new, pa.string()))
        return out

    def encode(self, arr: pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
        """Codes (0 where null) and validity of a string or dictionary array."""
        if pa.types.is_dictionary(arr.type):
            indices, dictionary = arr.indices, arr.dictionary
        else:
            enc = pc.dictionary_encode(arr)
            indices, dictionary = enc.indices, enc.dictionary
        dcodes = self.intern_unique(dictionary)
        idx = np.asarray(indices.fill_null(0), dtype=np.int64)
        codes = dcodes[idx] if dcodes.size else np.zeros(len(arr), np.int64)
        return codes, valid_flags(arr)

    def literal_codes(self, lits: tuple[str, ...]) -> np.ndarray:
        """Codes of a kernel's string literals (cached; at least one element)."""
        codes = self._lits.get(lits)
        if codes is None:
            if not self._list and lits and len(set(lits)) == len(lits):
                # a fresh pool (the first kernel of a chunk): start from the shared literal array
                hit = _LITERALS.get(lits)
                if hit is None:
                    hit = (pa.array(list(lits), pa.string()), np.arange(len(lits), dtype=np.int64))
                    if len(_LITERALS) > 256:
                        _LITERALS.clear()
                    _LITERALS[lits] = hit
                self._list = list(lits)
                self._index = {v: k for k, v in enumerate(lits)}
                self._chunks = [hit[0]]
                codes = hit[1]
            else:
                codes = self.intern_strings(list(lits)) if lits else np.zeros(1, np.int64)
            self._lits[lits] = codes
        return codes

    def string(self, code: int) -> str:
        """The string with this code."""
        return self._list[code]

    def table(self, op: StrOp) -> tuple[np.ndarray, np.ndarray]:
        """(values, error flags) of a StrOp over every string of the pool, extended as it grows."""
        from streamkit.fsm.strops import compute_table

        have = self._tables.get(op)
        n = len(self._list)
        if op.kind is StrOpKind.RANK:
            if have is None or have[0].shape[0] != n:
                order = np.argsort(np.array(self._list, dtype=object), kind="stable") if n else np.empty(0, np.int64)
                rank = np.empty(n, np.int64)
                rank[order] = np.arange(n)
                have = (rank, np.zeros(n, np.uint8))
                self._tables[op] = have
            return have
        start = 0 if have is None else have[0].shape[0]
        if start < n or have is None:
            vals, errs = compute_table(op, self, start, n)
            if have is not None:
                vals = np.concatenate([have[0], vals])
                errs = np.concatenate([have[1], errs])
            have = (vals, errs)
            self._tables[op] = have
        return have
