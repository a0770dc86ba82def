"""Sources and sinks of the streaming engine.

:func:`open_source` turns files (JSONL, CSV, Parquet, Arrow IPC; globs and lists
of them), Python iterables and async iterables of dicts, and in-memory Arrow /
polars data into a :class:`Source` of :class:`SourceChunk` s: parsed batches with
their stream positions, plus the records that failed to read (malformed JSON,
CSV rows with the wrong number of fields), which never stop the stream.

:func:`open_sink` turns paths, functions, lists and :class:`Collector` s into a
:class:`Sink` that writes tables and commits atomically; a path ending with
``/`` (or an existing directory) is a :class:`DirectorySink` of numbered parts; a
:class:`ParquetSink` made by hand takes Parquet's options (compression, text statistics).
"""

from streamkit.io.base import Sink as Sink
from streamkit.io.base import Source as Source
from streamkit.io.chunk import DEFAULT_CHUNK_SIZE as DEFAULT_CHUNK_SIZE
from streamkit.io.chunk import SourceChunk as SourceChunk
from streamkit.io.collector import Collector as Collector
from streamkit.io.dirsink import DirectorySink as DirectorySink
from streamkit.io.partsinks import ParquetSink as ParquetSink
from streamkit.io.sinks import open_sink as open_sink
from streamkit.io.sources import open_source as open_source

__all__ = (
    "open_source",
    "open_sink",
    "Source",
    "Sink",
    "SourceChunk",
    "Collector",
    "ParquetSink",
    "DirectorySink",
    "DEFAULT_CHUNK_SIZE",
)
