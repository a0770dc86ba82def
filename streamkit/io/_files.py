"""File paths: formats from suffixes, globs and directories, compressed input, temporary output names."""

from __future__ import annotations

import glob
import os
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa

__all__ = ("FORMATS", "SUFFIXES", "check_format", "format_of", "is_compressed", "resolve_paths", "open_input",
           "check_output_path", "temp_path", "fsync_path", "commit", "DropBehind", "DROP_BEHIND_BYTES")

#: The file formats streamkit reads and writes.
FORMATS = ("jsonl", "csv", "parquet", "ipc")

#: File suffix -> format.
SUFFIXES = {
    ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".csv": "csv", ".tsv": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".arrow": "ipc", ".ipc": "ipc", ".feather": "ipc", ".arrows": "ipc",
}

_COMPRESSED = (".gz", ".bz2", ".zst", ".lz4")
_ALIASES = {"ndjson": "jsonl", "json": "jsonl", "arrow": "ipc", "feather": "ipc", "pq": "parquet", "tsv": "csv"}


def _known() -> str:
    return ", ".join(SUFFIXES)


def check_format(fmt: str) -> str:
    """``fmt`` as one of :data:`FORMATS` (aliases such as ``ndjson``, ``arrow`` accepted)."""
    f = _ALIASES.get(fmt.lower(), fmt.lower())
    if f not in FORMATS:
        msg = f"unknown format {fmt!r}; expected one of {', '.join(map(repr, FORMATS))}"
        raise ValueError(msg)
    return f


def format_of(path: str | Path, fmt: str | None = None) -> str:
    """The format of ``path``: ``fmt`` if given, else from its suffix (after a compression suffix).

    Examples
    --------
    >>> format_of("a/b.ndjson"), format_of("x.jsonl.gz"), format_of("t.feather"), format_of("t.dat", "csv")
    ('jsonl', 'jsonl', 'ipc', 'csv')
    """
    if fmt is not None:
        return check_format(fmt)
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes.pop()
    if suffixes and suffixes[-1] in SUFFIXES:
        return SUFFIXES[suffixes[-1]]
    msg = (f"cannot tell the format of {str(path)!r} from its suffix; known suffixes: {_known()}"
           f"\n\nHint: pass format= one of {', '.join(map(repr, FORMATS))}")
    raise ValueError(msg)


def is_compressed(path: Path) -> bool:
    """Whether the file name ends with a compression suffix."""
    return path.suffix.lower() in _COMPRESSED


def resolve_paths(source: str | Path) -> list[Path]:
    """The files ``source`` names: itself, the files matching a glob (sorted), or a directory's data files (sorted).

    Raises
    ------
    FileNotFoundError
        Nothing exists at ``source`` (or nothing matches the glob).
    """
    p = Path(source)
    if p.is_file():
        return [p]
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith(".")
                       and _has_data_suffix(f))
        if not files:
            msg = f"directory {str(p)!r} holds no data files (known suffixes: {_known()})"
            raise FileNotFoundError(msg)
        return files
    text = str(source)
    if glob.has_magic(text):
        files = sorted(Path(f) for f in glob.glob(text, recursive=True) if Path(f).is_file())
        if not files:
            msg = f"no files match {text!r}"
            raise FileNotFoundError(msg)
        return files
    msg = f"no such file: {text!r}"
    raise FileNotFoundError(msg)


def _has_data_suffix(p: Path) -> bool:
    try:
        format_of(p)
    except ValueError:
        return False
    return True


def open_input(path: Path) -> Any:
    """A binary stream over the file, decompressing ``.gz`` / ``.bz2`` / ``.zst`` / ``.lz4``."""
    if is_compressed(path):
        return pa.input_stream(str(path), compression="detect")
    return open(path, "rb", buffering=0)  # noqa: SIM115 - the caller closes it; unbuffered: reads are large


def check_output_path(path: str | Path) -> Path:
    """``path`` as a Path whose directory exists; a clear error otherwise."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        msg = f"cannot write {str(p)!r}: directory {str(parent)!r} does not exist"
        raise FileNotFoundError(msg)
    if p.is_dir():
        msg = f"cannot write {str(p)!r}: it is a directory"
        raise IsADirectoryError(msg)
    return p


def temp_path(path: Path, tag: str = "") -> Path:
    """A hidden temporary name next to ``path`` (same directory, so ``os.replace`` is atomic)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}{tag}.tmp")


def fsync_path(path: Path) -> None:
    """Flush a written file (and its directory entry) to disk, so a rename after it is durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: Bytes written to an output file between two requests to drop its written pages from the OS cache.
DROP_BEHIND_BYTES = 32 << 20


class DropBehind:
    """Keep a streamed output file from filling the OS page cache: every :data:`DROP_BEHIND_BYTES`
    written, ask the kernel to write its pages out and drop them (``posix_fadvise`` ``DONTNEED``).

    A stream writes each byte once and never reads it back, so caching it only
    grows memory; on this kind of virtual machine that growth is what costs:
    writing 1.9 GB took 5.4 s of CPU with the pages kept, 0.6 s with them dropped
    every 88 MB. Pages not yet written out stay cached until a later request.
    A no-op where ``posix_fadvise`` does not exist (macOS, Windows).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryFile() as f:
    ...     d = DropBehind(f, every=4)
    ...     _ = f.write(b"12345"); d.wrote(5)
    ...     d.requests
    1
    """

    def __init__(self, f: Any, *, every: int | None = None) -> None:
        self._f = f
        self._every = DROP_BEHIND_BYTES if every is None else every
        self._since = 0
        self.requests = 0

    def wrote(self, n: int) -> None:
        """Count ``n`` more bytes written; drop the file's cached pages when enough have been."""
        self._since += n
        if self._since >= self._every and hasattr(os, "posix_fadvise"):
            self._since = 0
            self._f.flush()
            try:
                os.posix_fadvise(self._f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError:  # pragma: no cover - advice only
                return
            self.requests += 1


def commit(tmp: Path, final: Path) -> None:
    """Move a finished temporary file into place atomically."""
    fsync_path(tmp)
    os.replace(tmp, final)
    try:
        fd = os.open(final.parent if str(final.parent) else ".", os.O_RDONLY)
    except OSError:  # pragma: no cover - directories cannot be opened on some systems
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
