"""A directory sink: a stream's records as numbered part files of one format.

``sinks={"done": "out/"}`` (a path that ends with ``/`` or names an existing
directory) writes ``out/part-000000.jsonl``, ``out/part-000001.jsonl``, ...
(``sink_format=`` picks the format; else the directory's suffix, as in
``out.parquet/``; else JSON Lines). Each part is an
ordinary file sink's file: written under a hidden temporary name, synced and
moved into place whole, so a part is never seen half written. The parts, in
the order of their names, hold the records a single file sink would hold, in
the same order: their JSON Lines text joined is that file's, byte for byte, and
a directory source (``open_source("out/")``) reads them back in order.

How the records are cut into parts depends on the run: a local run starts a new
part every :data:`PART_WRITES` writes (and, with ``checkpoint=``, at each
commit); a Ray run (``engine="ray"``) has each task write its slice of the
input as one part, which the driver only renames into place, in order, so the
output never passes through the driver.

The directory's parts (``part-*`` with the format's suffix) belong to the sink:
those of an earlier run are deleted when a run starts afresh; other files are
left alone. An aborted run removes the parts it wrote.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa

from streamkit.io._files import fsync_dir
from streamkit.io.base import Encoded, Sink, as_table
from streamkit.io.filesinks import JsonlEncoder
from streamkit.io.formats import FORMATS, Format, format_of, get_format

__all__ = ("DirectorySink", "PART_WRITES", "is_directory_target", "part_name", "pending_name")

#: Writes (about one chunk each) a local run puts in one part before it starts the next.
PART_WRITES = 16

_PART = re.compile(r"^part-(\d+)(\.[A-Za-z0-9]+)$")
_SUFFIXES = tuple(s for f in FORMATS.values() for s in f.suffixes)


def is_directory_target(target: Any) -> bool:
    """Whether a sink target names a directory of parts: a path ending with a separator, or an existing directory.

    Examples
    --------
    >>> is_directory_target("out/"), is_directory_target("out.jsonl"), is_directory_target(print)
    (True, False, False)
    """
    if not isinstance(target, (str, os.PathLike)):
        return False
    text = os.fspath(target)
    if isinstance(text, bytes):
        return False
    return text.endswith(("/", os.sep)) or Path(text).is_dir()


def part_name(k: int, fmt: Format) -> str:
    """The file name of part ``k`` (names sort in the parts' order).

    Examples
    --------
    >>> part_name(7, get_format("parquet"))
    'part-000007.parquet'
    """
    return f"part-{k:06d}{fmt.suffixes[0]}"


def pending_name(token: str, key: int, fmt: Format) -> str:
    """The hidden name a Ray task writes a part under, before the driver renames it into place.

    Examples
    --------
    >>> pending_name("ab12", 3, get_format("jsonl"))
    '.pending-ab12-000000000003.jsonl'
    """
    return f".pending-{token}-{key:012d}{fmt.suffixes[0]}"


class DirectorySink(Sink):
    """Write a stream's records as numbered part files of ``fmt`` in the directory ``path`` (see the module).

    Parameters
    ----------
    path:
        The directory; made if missing (its parent must exist).
    fmt:
        The parts' format: a :class:`~streamkit.io.formats.Format` or its name; by default the
        directory name's suffix says (``out.parquet/``), else JSON Lines.
    part_writes:
        Writes per part before the next one starts (default :data:`PART_WRITES`).
    resumable:
        Set by ``checkpoint=``: the parts already there are kept until :meth:`resume`
        says which of them are committed (a fresh run is ``resume(0, 0)``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> with DirectorySink(d, part_writes=2) as sink:
    ...     for x in range(5):
    ...         sink.write(pa.table({"x": [x]}))
    >>> sorted(p.name for p in d.iterdir())
    ['part-000000.jsonl', 'part-000001.jsonl', 'part-000002.jsonl']
    >>> "".join(p.read_text() for p in sorted(d.iterdir()))
    '{"x":0}\\n{"x":1}\\n{"x":2}\\n{"x":3}\\n{"x":4}\\n'
    """

    path: Path

    def __init__(
        self,
        path: str | Path,
        fmt: Format | str | None = None,
        *,
        part_writes: int | None = None,
        resumable: bool = False,
    ) -> None:
        super().__init__()
        p = Path(path)
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.is_dir():
            msg = f"cannot write parts to {str(p)!r}: directory {str(parent)!r} does not exist"
            raise FileNotFoundError(msg)
        if p.exists() and not p.is_dir():
            msg = f"cannot write parts to {str(p)!r}: it is a file (a directory sink's path names a directory)"
            raise NotADirectoryError(msg)
        part_writes = PART_WRITES if part_writes is None else part_writes
        if part_writes < 1:
            msg = f"`part_writes` must be at least 1, got {part_writes}"
            raise ValueError(msg)
        p.mkdir(exist_ok=True)
        self.path = p
        self.format = _format_of_directory(p) if fmt is None else get_format(fmt) if isinstance(fmt, str) else fmt
        self.part_writes = part_writes
        self.resumable = resumable
        #: Whether writes are JSON Lines text, encoded in the engine's worker threads.
        self.is_text = self.format.name == "jsonl"
        self._encoder = JsonlEncoder(keep=4) if self.is_text else None
        # encodes tables as the parts will (Parquet row groups, in the engine's worker threads); never written
        self._template = None if self.is_text else self.format.sink(p / part_name(0, self.format))
        #: Parts in place (the next part's number).
        self.n_parts = 0
        #: (A checkpoint's record of a stream file: a directory sink has none.)
        self.stream_bytes = 0
        self.bytes_written = 0
        #: Names the hidden files Ray tasks write parts under, for this run.
        self.token = uuid.uuid4().hex[:12]
        self._part: Sink | None = None
        self._in_part = 0
        if not resumable:
            self._clear(0)

    @property
    def directory(self) -> Path:
        """Where the parts are (the checkpoint's name for a sink's place): :attr:`path`."""
        return self.path

    def part_path(self, k: int) -> Path:
        """The file of part ``k``."""
        return self.path / part_name(k, self.format)

    def pending_path(self, key: int) -> Path:
        """The hidden file a Ray task writes the part of the slice at stream position ``key`` to."""
        return self.path / pending_name(self.token, key, self.format)

    # -- writing -------------------------------------------------------------------------------------
    def encode(self, table: pa.Table | pa.RecordBatch) -> pa.Table | Encoded:
        """What a part stores, made in the engine's worker threads: JSON Lines text, a Parquet row group, a table."""
        if self._encoder is not None:
            return self._encoder.encode(table)
        return self._template.encode(table) if self._template is not None else as_table(table)

    def _write(self, table: pa.Table) -> None:
        self._current().write(table)
        self._wrote()

    def _write_encoded(self, data: Encoded) -> None:
        self._current().write(data)
        self._wrote()

    def _current(self) -> Sink:
        if self._part is None:
            self._part = self.format.sink(self.part_path(self.n_parts))
            self._in_part = 0
        return self._part

    def _wrote(self) -> None:
        self._in_part += 1
        if self._in_part >= self.part_writes:
            self._close_part()

    def _close_part(self) -> None:
        """Move the part being written into place (synced: file sinks commit durably)."""
        part, self._part = self._part, None
        if part is None:
            return
        part.close()
        self._placed(self.part_path(self.n_parts))

    def adopt(self, pending: str | Path, rows: int) -> Path:
        """Rename a part a Ray task wrote (a complete, synced file) into place as the next part; its path."""
        with self._lock:
            if self._done:
                msg = f"{self!r} is closed"
                raise RuntimeError(msg)
            self._close_part()
            final = self.part_path(self.n_parts)
            os.replace(pending, final)
            self._placed(final)
            self.records_written += rows
            return final

    def _placed(self, part: Path) -> None:
        """Count a part now in place."""
        self.n_parts += 1
        self.bytes_written = (self.bytes_written or 0) + part.stat().st_size

    # -- checkpoints ---------------------------------------------------------------------------------
    def sync(self) -> None:
        """Make what was written durable (a checkpoint commits next): the part being written is closed."""
        with self._lock:
            self._close_part()
        fsync_dir(self.path)

    def resume(self, n_parts: int, records: int, stream_bytes: int = 0) -> None:
        """Go on after ``n_parts`` committed parts of ``records`` rows: later parts and hidden files go.

        Raises
        ------
        FileNotFoundError
            A committed part is missing.
        """
        del stream_bytes  # a directory sink has no stream file
        missing = [k for k in range(n_parts) if not self.part_path(k).is_file()]
        if missing:
            msg = f"checkpointed part {str(self.part_path(missing[0]))!r} is missing"
            raise FileNotFoundError(msg)
        self._clear(n_parts)
        self.n_parts = n_parts
        self.records_written = records

    def _clear(self, keep: int) -> None:
        """Delete this format's parts from number ``keep`` on, and the hidden files of parts being written."""
        suffix = self.format.suffixes[0]
        for p in self.path.iterdir():
            m = _PART.match(p.name)
            if (m is not None and m.group(2) == suffix and int(m.group(1)) >= keep) or _is_hidden_part(p.name):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()

    # -- the end -------------------------------------------------------------------------------------
    def _commit(self) -> None:
        if self._template is not None:
            self._template.abort()
        self._close_part()
        if self.n_parts == 0:  # no records: one empty part, as a file sink writes an empty file
            self._current()
            self._close_part()
        self._clear(self.n_parts)  # parts of an earlier run beyond this one's, hidden leftovers
        fsync_dir(self.path)

    def _discard(self) -> None:
        if self._template is not None:
            self._template.abort()
        part, self._part = self._part, None
        if part is not None:
            part.abort()
        if not self.resumable:  # (a checkpointed run keeps its committed parts for the next call)
            self._clear(0)

    def __repr__(self) -> str:
        return f"DirectorySink({str(self.path)!r}, {self.format.name!r})"


def _format_of_directory(path: Path) -> Format:
    """The format a directory's name says (``out.parquet``), else JSON Lines."""
    try:
        return format_of(path)
    except ValueError:
        return get_format("jsonl")


def _is_hidden_part(name: str) -> bool:
    """A file a part is written under before it is moved into place: a Ray task's (``.pending-…``), or the
    temporary file of a file sink writing a part or a task's file (``.part-….tmp``, ``..pending-….tmp``).

    Examples
    --------
    >>> [_is_hidden_part(n) for n in (".pending-ab-000000000007.jsonl", "..pending-ab-000000000007.jsonl.f3.tmp",
    ...                                ".part-000001.parquet.9c.tmp", ".notes", "part-000001.jsonl")]
    [True, True, True, False, False]
    """
    return name.startswith((".pending-", "..pending-", ".part-")) and name.endswith((*_SUFFIXES, ".tmp"))
