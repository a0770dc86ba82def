"""``open_sink``: anything a user may stream into, as a :class:`~streamkit.io.Sink`."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import pyarrow as pa

from streamkit.io.base import Sink
from streamkit.io.dirsink import DirectorySink, is_directory_target
from streamkit.io.formats import format_of

__all__ = ("open_sink", "CallbackSink", "ListSink")


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    batches = table.to_batches()
    return batches[0] if len(batches) == 1 else pa.concat_batches(batches)


def _callable_repr(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    code = getattr(fn, "__code__", None)
    line = f" line {code.co_firstlineno}" if code is not None else ""
    return f"<function '{getattr(fn, '__module__', '?')}.{name}'{line}>"


def _is_async_callable(fn: Any) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))  # noqa: B004 - the method


class CallbackSink(Sink):
    """Pass each written table to a function as one ``pyarrow.RecordBatch`` (tables without rows are skipped).

    An ``async def`` function makes an async sink: write it with ``await
    sink.awrite(table)`` (``write`` works only from a thread started by anyio).

    Examples
    --------
    >>> seen = []
    >>> sink = CallbackSink(lambda b: seen.append(b.num_rows))
    >>> sink.write(pa.table({"x": [1, 2, 3]})); sink.close()
    >>> seen
    [3]
    """

    def __init__(self, fn: Callable[[pa.RecordBatch], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.is_async = _is_async_callable(fn)
        self.blocks = not self.is_async

    def _write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        if self.is_async:
            try:
                anyio.from_thread.run(self.fn, _one_batch(table))
            except RuntimeError:
                msg = (
                    f"{_callable_repr(self.fn)} is async; write to it with `await sink.awrite(table)`"
                    " (or from a thread started by anyio)"
                )
                raise RuntimeError(msg) from None
        else:
            self.fn(_one_batch(table))

    async def awrite(self, table: pa.Table | pa.RecordBatch) -> None:
        """Write from async code: an async function is awaited, a plain one runs in a worker thread."""
        if not self.is_async:
            await super().awrite(table)
            return
        if self._done:
            msg = f"{self!r} is closed"
            raise RuntimeError(msg)
        t = pa.Table.from_batches([table]) if isinstance(table, pa.RecordBatch) else table
        if t.num_rows:
            await self.fn(_one_batch(t))
        self.records_written += t.num_rows

    def __repr__(self) -> str:
        return f"CallbackSink({_callable_repr(self.fn)})"


class ListSink(Sink):
    """Append the records written to a list, as dicts.

    Examples
    --------
    >>> out = []
    >>> ListSink(out).write(pa.table({"x": [1, None]}))
    >>> out
    [{'x': 1}, {'x': None}]
    """

    blocks = False

    def __init__(self, target: list[Any]) -> None:
        super().__init__()
        self.target = target

    def _write(self, table: pa.Table) -> None:
        self.target.extend(table.to_pylist())


def open_sink(target: Any, format: str | None = None) -> Sink:  # noqa: A002 - the usual name
    """Open anything streamkit writes to as a :class:`~streamkit.io.Sink`.

    Parameters
    ----------
    target:
        A path (``str`` / ``Path``; a path ending with ``/`` or naming a directory
        writes numbered part files there, :class:`~streamkit.io.dirsink.DirectorySink`,
        in ``format``, else the format its suffix names, else JSON Lines; for a file,
        the format from its suffix: ``.jsonl``
        ``.ndjson`` ``.csv`` ``.tsv`` ``.parquet`` ``.pq`` ``.arrow`` ``.ipc``
        ``.feather``; JSON Lines and CSV are compressed when a ``.gz``, ``.zst``,
        ``.bz2`` or ``.lz4`` suffix follows, and Parquet and IPC refuse one), a function (sync or ``async``; gets one
        ``pyarrow.RecordBatch`` per write), a :class:`~streamkit.io.Collector`,
        a list (gets the records as dicts), or a ``Sink`` (returned as is).
    format:
        ``"jsonl"``, ``"csv"``, ``"parquet"`` or ``"ipc"``, for a path whose suffix does not say.

    Returns
    -------
    Sink
        ``write`` tables to it, then ``close()`` to commit (or ``abort()``).

    Raises
    ------
    FileNotFoundError
        The path's directory does not exist.
    ValueError
        The format is unknown.
    TypeError
        ``target`` is none of the above.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.parquet"
    >>> sink = open_sink(p)
    >>> sink.write(pa.table({"x": [1, 2]}))
    >>> p.exists()
    False
    >>> sink.close()
    >>> p.exists(), sink.records_written
    (True, 2)
    >>> open_sink("/no/such/dir/out.jsonl")
    Traceback (most recent call last):
    ...
    FileNotFoundError: cannot write '/no/such/dir/out.jsonl': directory '/no/such/dir' does not exist
    """
    if isinstance(target, Sink):
        return target
    if isinstance(target, list):
        return ListSink(target)
    if isinstance(target, (str, os.PathLike)):
        path = Path(target)
        if is_directory_target(target):
            return DirectorySink(path, format)
        return format_of(path, format).sink(path)
    if callable(target):
        return CallbackSink(target)
    msg = f"cannot write to a {type(target).__name__}; expected a path, a function, a Collector, a list or a Sink"
    raise TypeError(msg)
