"""Arrow casts that stay valid where Arrow's own do not (lists of nulls)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

__all__ = ("cast_array", "has_null_list")


def has_null_list(t: pa.DataType) -> bool:
    """Whether ``t`` holds a list of null-typed values at any depth.

    Examples
    --------
    >>> has_null_list(pa.struct([("a", pa.list_(pa.null()))])), has_null_list(pa.list_(pa.int64()))
    (True, False)
    """
    is_list = pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
    if is_list and pa.types.is_null(t.value_type):
        return True
    return any(has_null_list(t.field(i).type) for i in range(t.num_fields))


def cast_array(arr: Any, t: pa.DataType, *, safe: bool = True) -> Any:
    """``arr.cast(t)``, but an array that already has type ``t`` is returned as is.

    Arrow (26) builds an invalid array when it casts a list of nulls to a list
    of nulls (the child keeps one value per list, not per item; a struct holding
    such a list too): the result of any cast whose target holds one is checked,
    and rebuilt from its values when it is invalid.

    Examples
    --------
    >>> a = pa.array([[None, None], [None]])
    >>> cast_array(a, a.type) is a
    True
    >>> s = pa.array([{"a": [None, None]}])
    >>> t = pa.struct([("a", pa.list_(pa.null())), ("b", pa.int64())])
    >>> cast_array(s, t).to_pylist()
    [{'a': [None, None], 'b': None}]
    """
    if arr.type == t:
        return arr
    out = arr.cast(t, safe=safe)
    if has_null_list(t):
        try:
            out.validate(full=True)
        except pa.ArrowInvalid:
            out = pa.array(arr.to_pylist(), type=t)
    return out
