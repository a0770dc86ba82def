"""JSON text per value: orjson when installed (fast), the standard library otherwise."""

from __future__ import annotations

import base64
import datetime as _dt
import decimal
import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; the stdlib keeps things working
    orjson = None  # type: ignore[assignment]

__all__ = ("loads_line", "dumps", "json_kind")


def loads_line(text: bytes) -> Any:
    """Parse one JSON text; raises ``json.JSONDecodeError`` (or ``UnicodeDecodeError``) when it is not JSON.

    orjson parses first; text it rejects is tried with the standard library, which
    also accepts ``NaN`` and ``Infinity`` (as the Arrow JSON reader does) and gives
    the message.

    Examples
    --------
    >>> loads_line(b'{"a": [1, 2.5, null]}')
    {'a': [1, 2.5, None]}
    >>> loads_line(b'{"a": NaN}')
    {'a': nan}
    """
    if orjson is not None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def _default(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (_dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, _dt.timedelta):
        return v.total_seconds()
    if isinstance(v, (set, frozenset, tuple)):
        return list(v)
    return str(v)


def dumps(value: Any) -> bytes:
    """One value as compact JSON bytes; values JSON lacks become text (bytes as base64, decimals as strings).

    Examples
    --------
    >>> import decimal
    >>> dumps({"a": b"hi", "b": decimal.Decimal("1.50"), "c": None})
    b'{"a":"aGk=","b":"1.50","c":null}'
    """
    if orjson is not None:
        return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False).encode()


def json_kind(v: Any) -> str:
    """The JSON name of a parsed value's type (``array``, ``string``, ...), for messages.

    Examples
    --------
    >>> json_kind([1]), json_kind(None), json_kind(True)
    ('an array', 'null', 'a boolean')
    """
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    return "an object"
