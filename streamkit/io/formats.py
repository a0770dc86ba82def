"""The file formats streamkit reads and writes: one registry of :class:`Format` (name, suffixes, source, sink).

To add a format, write its :class:`~streamkit.io.Source` subclass (and
:class:`~streamkit.io.Sink` subclass) in a module of its own and add one
:class:`Format` to :data:`FORMATS` here; ``open_source``, ``open_sink``, globs
and directories find it by name and suffix.
"""

from __future__ import annotations

import glob
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from streamkit.io._files import COMPRESSED_SUFFIXES
from streamkit.io.arrowsources import IpcSource, ParquetSource
from streamkit.io.base import Sink, Source
from streamkit.io.delimited import CsvSource
from streamkit.io.filesinks import JsonlSink
from streamkit.io.jsonl import JsonlSource
from streamkit.io.partsinks import CsvSink, IpcSink, ParquetSink

__all__ = ("Format", "FORMATS", "get_format", "format_of", "resolve_paths")


@dataclass(frozen=True)
class Format:
    """A file format.

    Parameters
    ----------
    name:
        The name users pass as ``format=`` / ``sink_format=``.
    suffixes:
        File suffixes that name it (lower case, with the dot), the first being the usual one.
    aliases:
        Other names accepted for it.
    source:
        Reads one file: ``source(path, chunk_size, *, schema=None, offset=0)``, where
        ``offset`` is the stream position of the file's first record.
    sink:
        Writes one file: ``sink(path)``, committed atomically on ``close()``.
    """

    name: str
    suffixes: tuple[str, ...]
    aliases: tuple[str, ...]
    source: Callable[..., Source]
    sink: Callable[..., Sink]


#: Every format, by name.
FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("jsonl", (".jsonl", ".ndjson"), ("ndjson", "json"), JsonlSource, JsonlSink),
        Format("csv", (".csv", ".tsv"), ("tsv",), CsvSource, CsvSink),
        Format("parquet", (".parquet", ".pq"), ("pq",), ParquetSource, ParquetSink),
        Format("ipc", (".arrow", ".ipc", ".feather", ".arrows"), ("arrow", "feather"), IpcSource, IpcSink),
    )
}

_BY_SUFFIX = {suffix: f for f in FORMATS.values() for suffix in f.suffixes}
_BY_ALIAS = {**{a: f for f in FORMATS.values() for a in f.aliases}, **FORMATS}


def _known() -> str:
    return ", ".join(_BY_SUFFIX)


def get_format(name: str) -> Format:
    """The format called ``name`` (aliases such as ``ndjson``, ``arrow`` accepted, any case).

    Examples
    --------
    >>> get_format("NDJSON").name, get_format("feather").name
    ('jsonl', 'ipc')
    >>> get_format("xml")
    Traceback (most recent call last):
    ...
    ValueError: unknown format 'xml'; expected one of 'jsonl', 'csv', 'parquet', 'ipc'
    """
    f = _BY_ALIAS.get(name.lower())
    if f is None:
        msg = f"unknown format {name!r}; expected one of {', '.join(map(repr, FORMATS))}"
        raise ValueError(msg)
    return f


def format_of(path: str | Path, fmt: str | None = None) -> Format:
    """The format of ``path``: ``fmt`` if given, else from its suffix (after a compression suffix).

    Examples
    --------
    >>> [format_of(p).name for p in ("a/b.ndjson", "x.jsonl.gz", "t.feather")], format_of("t.dat", "csv").name
    (['jsonl', 'jsonl', 'ipc'], 'csv')
    """
    if fmt is not None:
        return get_format(fmt)
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSED_SUFFIXES:
        suffixes.pop()
    if suffixes and suffixes[-1] in _BY_SUFFIX:
        return _BY_SUFFIX[suffixes[-1]]
    msg = (
        f"cannot tell the format of {str(path)!r} from its suffix; known suffixes: {_known()}"
        f"\n\nHint: pass format= one of {', '.join(map(repr, FORMATS))}"
    )
    raise ValueError(msg)


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
        files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith(".") and _has_data_suffix(f))
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
