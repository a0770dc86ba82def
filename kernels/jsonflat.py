"""Parse lines of flat JSON objects into typed cells, one pass over the bytes.

A line is one object whose values are scalars: strings without escapes, numbers,
``true``, ``false``, ``null``. Anything else (a nested value, an escape, a key
seen twice in one object, an integer of more than 18 digits, bytes that are not
strict JSON) makes the parse give up, and the caller reads the block another way:
this is a fast path, never a second opinion on what JSON means.

Cells are row-major (one row's cells side by side): ``kinds[r, c]`` says what row ``r`` holds in column
``c`` (:data:`ABSENT`, :data:`NULL`, :data:`INT`, :data:`FLOAT`, :data:`STRING`,
:data:`TRUE`, :data:`FALSE`); ``vals[r, c]`` is an integer's value, or where a
float's or string's text starts, and ``ends[r, c]`` where it ends (a string's
span excludes its quotes). Column names are kept in order of first appearance.
"""

from __future__ import annotations

import numpy as np

from kernels._bytes import append_span, load8
from kernels._jit import jit

__all__ = (
    "ABSENT",
    "NULL",
    "INT",
    "FLOAT",
    "STRING",
    "TRUE",
    "FALSE",
    "OK",
    "GIVE_UP",
    "MORE_COLUMNS",
    "parse_flat_lines",
    "column_stats",
    "take_ints",
    "gather_spans",
)

ABSENT, NULL, INT, FLOAT, STRING, TRUE, FALSE = 0, 1, 2, 3, 4, 5, 6
#: What :func:`parse_flat_lines` returns first.
OK, GIVE_UP, MORE_COLUMNS = 0, 1, 2

_QUOTE, _BACKSLASH, _LBRACE, _RBRACE, _COMMA, _COLON = 34, 92, 123, 125, 44, 58


@jit
def _skip_ws(data, i, end):
    """The first byte from ``i`` that is not JSON whitespace (callers look at one byte before calling:
    a call per token was half the parse)."""
    while i < end:
        b = data[i]
        if b != 32 and b != 9 and b != 13 and b != 10:
            break
        i += 1
    return i


@jit
def _string_end(data, i, end):
    """Where the string whose first byte is at ``i`` closes (its quote), or -1 if it cannot be taken as is."""
    while i < end:
        b = data[i]
        if b == _QUOTE:
            return i
        if b == _BACKSLASH or b < 32:
            return -1
        i += 1
    return -1


@jit
def _digit_run(data, i, end):
    """Just past the digits from ``i`` on (there must be one), or -1."""
    if i >= end or not (48 <= data[i] <= 57):
        return -1
    while i < end and 48 <= data[i] <= 57:
        i += 1
    return i


@jit
def _literal(data, i, end, word):
    n = word.shape[0]
    if i + n > end:
        return False
    for k in range(n):
        if data[i + k] != word[k]:
            return False
    return True


@jit
def _find_column(data, ks, ke, names, name_off, n_cols, guess):
    """The column named ``data[ks:ke]`` (``guess`` tried first), or -1."""
    size = ke - ks
    for step in range(n_cols + 1):
        c = guess if step == 0 else step - 1
        if c < 0 or c >= n_cols or (step > 0 and c == guess):
            continue
        a = name_off[c]
        if name_off[c + 1] - a != size:
            continue
        same = True
        for k in range(size):
            if names[a + k] != data[ks + k]:
                same = False
                break
        if same:
            return c
    return -1


@jit
def parse_flat_lines(data, starts, ends_in, names, name_off, n_cols, kinds, vals, ends):
    """Parse every line ``data[starts[r]:ends_in[r]]`` into the cells of row ``r``.

    ``names`` / ``name_off`` hold the names of the ``n_cols`` columns known so
    far (more are added, up to ``kinds.shape[0]`` columns and ``names``' room).
    ``kinds`` must be zero (:data:`ABSENT`) on entry. Returns ``(status,
    n_cols)``: :data:`OK`; :data:`GIVE_UP` (the block is not flat JSON as this
    parser takes it); or :data:`MORE_COLUMNS` (the arrays have no room for
    another column: call again with more). The arrays are ``(rows, columns)``.
    """
    true_w = np.array([116, 114, 117, 101], np.uint8)
    false_w = np.array([102, 97, 108, 115, 101], np.uint8)
    null_w = np.array([110, 117, 108, 108], np.uint8)
    cap = kinds.shape[1]
    order = np.full(cap, -1, np.int64)  # the columns of the previous line, in its order: the likely next keys
    for r in range(starts.shape[0]):
        i = starts[r]
        if i < ends_in[r] and data[i] <= 32:  # whitespace (every token starts above it)
            i = _skip_ws(data, i, ends_in[r])
        end = ends_in[r]
        if i >= end or data[i] != _LBRACE:
            return GIVE_UP, n_cols
        i = i + 1
        if i < end and data[i] <= 32:  # whitespace (every token starts above it)
            i = _skip_ws(data, i, end)
        j = 0
        if i < end and data[i] == _RBRACE:
            i += 1
        else:
            while True:
                if i >= end or data[i] != _QUOTE:
                    return GIVE_UP, n_cols
                ks = i + 1
                ke = _string_end(data, ks, end)
                if ke < 0:
                    return GIVE_UP, n_cols
                c = order[j] if j < cap else -1  # the key the previous line had here: compared in place
                if c >= 0:
                    a = name_off[c]
                    size = ke - ks
                    if name_off[c + 1] - a != size:
                        c = -1
                    elif size >= 8:  # a word at a time, the last word overlapping
                        k = 0
                        while k + 8 < size and load8(data, ks + k) == load8(names, a + k):
                            k += 8
                        if k + 8 < size or load8(data, ks + size - 8) != load8(names, a + size - 8):
                            c = -1
                    elif ks + 8 <= data.shape[0] and a + 8 <= names.shape[0]:  # one masked word
                        mask = (np.uint64(1) << np.uint64(8 * size)) - np.uint64(1)
                        if (load8(data, ks) ^ load8(names, a)) & mask != 0:
                            c = -1
                    else:
                        for k in range(size):
                            if names[a + k] != data[ks + k]:
                                c = -1
                                break
                if c < 0:
                    c = _find_column(data, ks, ke, names, name_off, n_cols, -1)
                if c < 0:
                    size = ke - ks
                    if n_cols == cap or name_off[n_cols] + size > names.shape[0]:
                        return MORE_COLUMNS, n_cols
                    a = name_off[n_cols]
                    for k in range(size):
                        names[a + k] = data[ks + k]
                    name_off[n_cols + 1] = a + size
                    c = n_cols
                    n_cols += 1
                if kinds[r, c] != ABSENT:  # a key twice in one object
                    return GIVE_UP, n_cols
                if j < cap:
                    order[j] = c
                j += 1
                i = ke + 1
                if i < end and data[i] <= 32:  # whitespace (every token starts above it)
                    i = _skip_ws(data, i, end)
                if i >= end or data[i] != _COLON:
                    return GIVE_UP, n_cols
                i = i + 1
                if i < end and data[i] <= 32:  # whitespace (every token starts above it)
                    i = _skip_ws(data, i, end)
                if i >= end:
                    return GIVE_UP, n_cols
                b = data[i]
                if b == _QUOTE:
                    se = _string_end(data, i + 1, end)
                    if se < 0:
                        return GIVE_UP, n_cols
                    kinds[r, c] = STRING
                    vals[r, c] = i + 1
                    ends[r, c] = se
                    i = se + 1
                elif b == 45 or (48 <= b <= 57):  # '-' or a digit: strict JSON number syntax
                    s = i
                    neg = b == 45
                    if neg:
                        i += 1
                    if i >= end or not (48 <= data[i] <= 57):
                        return GIVE_UP, n_cols
                    digits = 0
                    v = 0
                    if data[i] == 48:
                        i += 1
                        digits = 1
                    else:
                        while i < end and 48 <= data[i] <= 57:
                            v = v * 10 + (data[i] - 48) if digits < 18 else v
                            digits += 1
                            i += 1
                    is_float = False
                    if i < end and data[i] == 46:  # '.'
                        i = _digit_run(data, i + 1, end)
                        if i < 0:
                            return GIVE_UP, n_cols
                        is_float = True
                    if i < end and (data[i] == 101 or data[i] == 69):  # 'e' / 'E'
                        i += 1
                        if i < end and (data[i] == 43 or data[i] == 45):
                            i += 1
                        i = _digit_run(data, i, end)
                        if i < 0:
                            return GIVE_UP, n_cols
                        is_float = True
                    if is_float:
                        kinds[r, c] = FLOAT
                        vals[r, c] = s
                        ends[r, c] = i
                    else:
                        if digits > 18:
                            return GIVE_UP, n_cols
                        kinds[r, c] = INT
                        vals[r, c] = -v if neg else v
                        ends[r, c] = i
                elif b == 116 and _literal(data, i, end, true_w):
                    kinds[r, c] = TRUE
                    i += 4
                elif b == 102 and _literal(data, i, end, false_w):
                    kinds[r, c] = FALSE
                    i += 5
                elif b == 110 and _literal(data, i, end, null_w):
                    kinds[r, c] = NULL
                    i += 4
                else:  # a nested value, or not JSON
                    return GIVE_UP, n_cols
                i = i
                if i < end and data[i] <= 32:  # whitespace (every token starts above it)
                    i = _skip_ws(data, i, end)
                if i >= end:
                    return GIVE_UP, n_cols
                if data[i] == _COMMA:
                    i = i + 1
                    if i < end and data[i] <= 32:  # whitespace (every token starts above it)
                        i = _skip_ws(data, i, end)
                    continue
                if data[i] == _RBRACE:
                    i += 1
                    break
                return GIVE_UP, n_cols
        if _skip_ws(data, i, end) != end:  # something after the object
            return GIVE_UP, n_cols
    return OK, n_cols


@jit
def column_stats(kinds, vals, ends, n_cols, counts, span_bytes):
    """Per column ``c < n_cols``: ``counts[c, kind]`` cells of each kind, ``span_bytes[c]`` bytes of its texts.

    One pass over the cells in row order; ``counts`` and ``span_bytes`` must be zero.
    """
    for r in range(kinds.shape[0]):
        for c in range(n_cols):
            k = kinds[r, c]
            counts[c, k] += 1
            if k == STRING or k == FLOAT:
                span_bytes[c] += ends[r, c] - vals[r, c]


@jit
def take_ints(kinds, vals, out):
    """``out[r]`` the integer of row ``r``, 0 where the row holds none."""
    for r in range(kinds.shape[0]):
        out[r] = vals[r] if kinds[r] == INT else 0


@jit
def gather_spans(data, kinds, vals, ends, want, offsets, out):
    """Copy the spans of the cells of kind ``want`` into ``out``, one string per row (empty elsewhere).

    ``offsets`` (``len(kinds) + 1``) are filled; ``out`` must hold every span.
    Returns the bytes written.
    """
    pos = 0
    offsets[0] = 0
    for r in range(kinds.shape[0]):
        if kinds[r] == want:
            pos = append_span(out, pos, data, vals[r], ends[r])
        offsets[r + 1] = pos
    return pos
