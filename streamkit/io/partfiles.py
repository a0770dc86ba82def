"""A file sink written as numbered part files, joined into its file at the end (checkpointed streams).

A :class:`PartSink` stands for a file sink (its path and format) in a stream
run with ``checkpoint=``, writing to the sink's part directory; what it writes
is made durable by :meth:`PartSink.sync` before a checkpoint names it. A run
killed at any moment leaves what is committed (named by the checkpoint) and
perhaps more, which :meth:`PartSink.resume` removes. What it writes depends on
the format, so that the file comes out as the very bytes the format's own sink
writes when it is handed the same tables:

- JSON Lines: every write's encoded text (compressed, for ``.gz`` and the
  like), exactly what :class:`~streamkit.io.JsonlSink` would append, is
  appended to one file, ``text.stream``; a checkpoint names its length, a
  resumed run cuts it back to that length, and at the end it is renamed into
  place (copied when the output is on another file system): no byte is
  written twice.
- Parquet, Arrow IPC, CSV: each write is a numbered part file,
  ``00000000.part``, ``00000001.part``, ... (written under a hidden temporary
  name and renamed): the table written, as an Arrow IPC stream (an exact
  copy: types, chunks and metadata). On :meth:`~streamkit.io.Sink.close` the
  tables are read back in order and written to the format's sink, encoded in a
  few threads at once, as the streaming engine does, so the row groups, the
  parts by schema and the footer come out as in a run without a checkpoint.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa

from streamkit.io._files import check_output_path, commit, compression_of, fsync_dir, fsync_path, temp_path
from streamkit.io.base import Encoded, Sink, as_table
from streamkit.io.filesinks import JsonlEncoder
from streamkit.io.formats import Format

__all__ = ("PartSink", "PART_SUFFIX", "STREAM_FILE")

#: Suffix of a committed part file.
PART_SUFFIX = ".part"

#: The one file of a JSON Lines sink's writes, in its part directory.
STREAM_FILE = "text.stream"


class PartSink(Sink):
    """Stand-in for the sink of ``fmt`` at ``path``: every write a numbered part in ``directory`` (text: one stream).

    Parameters
    ----------
    path:
        The file the parts become on :meth:`~streamkit.io.Sink.close`.
    fmt:
        Its format (from :func:`~streamkit.io.formats.format_of`).
    directory:
        Where the parts are kept (created if missing).
    threads:
        Threads that encode the tables of table parts at the join.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from streamkit.io.formats import get_format
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> sink = PartSink(d / "out.jsonl", get_format("jsonl"), d / "parts")
    >>> sink.write(sink.encode(pa.table({"x": [1, 2]})))
    >>> sink.write(sink.encode(pa.table({"x": [3]})))
    >>> sink.n_parts, sink.stream_bytes, sorted(p.name for p in (d / "parts").iterdir())
    (2, 24, ['text.stream'])
    >>> sink.close()
    >>> print((d / "out.jsonl").read_text(), end="")
    {"x":1}
    {"x":2}
    {"x":3}
    """

    path: Path

    def __init__(self, path: str | Path, fmt: Format, directory: str | Path, *, threads: int = 2) -> None:
        super().__init__()
        self.path = check_output_path(path)
        self.format = fmt
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.threads = max(1, threads)
        #: Whether writes are encoded text (JSON Lines), appended to the stream file, rather than tables.
        self.is_text = fmt.name == "jsonl"
        self._encoder = JsonlEncoder(compression_of(self.path)) if self.is_text else None
        self.n_parts = 0
        self._unsynced: list[Path] = []
        #: The length of the stream file (what its writes appended so far).
        self.stream_bytes = 0
        self._stream: Any = None  # the open stream file, from the first write
        self._stream_new = False  # created since the last sync: its directory entry is not yet durable

    def part_path(self, k: int) -> Path:
        """The file of part ``k``."""
        return self.directory / f"{k:08d}{PART_SUFFIX}"

    # -- writing -----------------------------------------------------------------
    def encode(self, table: pa.Table | pa.RecordBatch) -> Encoded:
        """What a part holds (in the engine's worker threads): JSON text, or the table as Arrow IPC."""
        table = as_table(table)
        if self._encoder is not None:
            return self._encoder.encode(table)
        out = pa.BufferOutputStream()
        with pa.ipc.new_stream(out, table.schema) as writer:
            writer.write_table(table)
        return Encoded(out.getvalue(), table.num_rows)

    def _write(self, table: pa.Table) -> None:
        self._write_encoded(self.encode(table))

    @property
    def stream_path(self) -> Path:
        """The file that holds the writes of a streaming text sink."""
        return self.directory / STREAM_FILE

    def _write_encoded(self, data: Encoded) -> None:
        if self.is_text:
            self._append(data)
            return
        final = self.part_path(self.n_parts)
        tmp = final.with_name(f".{final.name}.tmp")
        with open(tmp, "wb") as f:
            f.write(memoryview(data.data))
        if data.release is not None:
            data.release()
        os.replace(tmp, final)
        self._unsynced.append(final)
        self.n_parts += 1

    def _append(self, data: Encoded) -> None:
        if self._stream is None:
            path = self.stream_path
            self._stream_new = not path.exists()
            self._stream = open(path, "r+b" if not self._stream_new else "wb")  # noqa: SIM115 - closed at the end
            self._stream.seek(self.stream_bytes)
        view = memoryview(data.data)
        self._stream.write(view)
        if data.release is not None:
            data.release()
        self.stream_bytes += view.nbytes
        self.n_parts += 1

    def sync(self) -> None:
        """Make the parts written since the last call durable (each file, then the directory)."""
        if self.is_text:
            with self._lock:
                if self._stream is not None:
                    self._stream.flush()
                    os.fsync(self._stream.fileno())
                    if self._stream_new:
                        fsync_dir(self.directory)
                        self._stream_new = False
            return
        with self._lock:
            paths, self._unsynced = self._unsynced, []
        for p in paths:
            fsync_path(p)
        if paths:
            fsync_dir(self.directory)

    def resume(self, n_parts: int, records: int, stream_bytes: int = 0) -> None:
        """Go on after ``n_parts`` committed parts of ``records`` rows: later parts and temporary files go
        (those of the parts, and those a killed run left beside the output while it joined the parts).

        Raises
        ------
        FileNotFoundError
            A committed part is missing.
        """
        for p in self.directory.iterdir():
            if _is_leftover(p.name, n_parts):
                p.unlink()
        # temporary files a killed run left beside the output (while joining the parts into it)
        for p in self.path.parent.glob(f".{glob.escape(self.path.name)}.*.tmp"):
            p.unlink(missing_ok=True)
        if self.is_text:
            self._resume_stream(stream_bytes)
            self.n_parts = n_parts
            self.records_written = records
            return
        missing = [k for k in range(n_parts) if not self.part_path(k).is_file()]
        if missing:
            msg = f"checkpointed part {str(self.part_path(missing[0]))!r} of {str(self.path)!r} is missing"
            raise FileNotFoundError(msg)
        self.n_parts = n_parts
        self.records_written = records

    def _resume_stream(self, length: int) -> None:
        """Cut the stream file back to the ``length`` bytes a checkpoint named (what came after is redone)."""
        path = self.stream_path
        have = path.stat().st_size if path.is_file() else 0
        if have < length:
            msg = f"checkpointed stream {str(path)!r} of {str(self.path)!r} holds {have:,} bytes of {length:,}"
            raise FileNotFoundError(msg)
        if path.is_file():
            os.truncate(path, length)
        self.stream_bytes = length

    # -- the join --------------------------------------------------------------------
    def _commit(self) -> None:
        if self.is_text:
            self._place_stream()
            return
        sink = self.format.sink(self.path)
        try:
            with ThreadPoolExecutor(self.threads, thread_name_prefix="streamkit-join") as pool:
                for payload in self._encoded(sink, pool):
                    sink.write(payload)
            sink.close()
        except BaseException:
            sink.abort()
            raise
        self.bytes_written = sink.bytes_written

    def _place_stream(self) -> None:
        """The stream file becomes the output: renamed when it can be, else copied."""
        if self._stream is None:  # nothing written in this run: the file holds what earlier runs committed
            path = self.stream_path
            if not path.exists():
                path.touch()
            self._stream = open(path, "r+b")  # noqa: SIM115 - closed just below
        try:
            self._stream.flush()
        finally:
            self._stream.close()
            self._stream = None
        if self.path.exists() and os.path.samefile(self.path, self.stream_path):
            self.bytes_written = self.path.stat().st_size  # placed by a run stopped after it: in place already
            return
        tmp = temp_path(self.path)
        try:
            try:
                os.link(self.stream_path, tmp)  # same file system: no byte is copied
            except OSError:
                with open(self.stream_path, "rb") as f, open(tmp, "wb") as out:
                    _copy(f, out)
            commit(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.bytes_written = self.path.stat().st_size

    def _encoded(self, sink: Sink, pool: ThreadPoolExecutor) -> Iterator[Any]:
        """The parts' tables encoded by ``sink``, in order, a few ahead in ``pool``."""
        ahead = 2 * self.threads
        pending: list[Future[Any]] = []
        for k in range(self.n_parts):
            pending.append(pool.submit(self._encode_part, sink, k))
            if len(pending) > ahead:
                yield pending.pop(0).result()
        for f in pending:
            yield f.result()

    def _encode_part(self, sink: Sink, k: int) -> Any:
        return sink.encode(self.read_part(k))

    def read_part(self, k: int) -> pa.Table:
        """The table of part ``k`` (parts of table formats)."""
        with pa.OSFile(str(self.part_path(k)), "rb") as f:
            return pa.ipc.open_stream(f).read_all()

    def _discard(self) -> None:
        """Committed parts stay for the run that resumes; parts not yet synced may be cut short."""
        with contextlib.suppress(Exception):
            self._unsynced = []
            if self._stream is not None:
                self._stream.close()
                self._stream = None


def _is_leftover(name: str, n_parts: int) -> bool:
    """Whether a file of a part directory is a temporary file or a part beyond the first ``n_parts``.

    Examples
    --------
    >>> [_is_leftover(n, 2) for n in ("00000001.part", "00000002.part", ".00000002.part.tmp")]
    [False, True, True]
    """
    if name.startswith(".") and name.endswith(".tmp"):
        return True
    stem = name.removesuffix(PART_SUFFIX)
    return name.endswith(PART_SUFFIX) and stem.isdigit() and int(stem) >= n_parts


def _copy(src: Any, dst: Any) -> None:
    """Append the whole of file ``src`` to file ``dst``."""
    size = os.fstat(src.fileno()).st_size
    if hasattr(os, "copy_file_range"):
        dst.flush()
        done = 0
        try:
            while done < size:
                n = os.copy_file_range(src.fileno(), dst.fileno(), size - done)
                if n == 0:
                    break
                done += n
        except OSError:  # pragma: no cover - not between these file systems: copy through memory
            pass
        if done == size:
            dst.seek(0, os.SEEK_END)
            return
        src.seek(done)
        dst.seek(0, os.SEEK_END)
    shutil.copyfileobj(src, dst, 4 << 20)
