"""The options of a stream: :class:`StreamOptions` (every ``process_stream``), :class:`StreamConfig` (tuning)."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

from streamkit.engine.progress import Progress
from streamkit.errors import did_you_mean
from streamkit.io.chunk import DEFAULT_CHUNK_SIZE

if sys.version_info >= (3, 11):
    from typing import Unpack
else:  # pragma: no cover
    from typing_extensions import Unpack

__all__ = ("StreamConfig", "StreamOptions", "Unpack", "resolve_stream_config", "check_options", "usable_cores")

MB = 1 << 20


class StreamOptions(TypedDict, total=False):
    """The keyword options of every ``process_stream`` (one definition, typed; all optional).

    Attributes
    ----------
    sinks:
        End state → sink, for end states that go elsewhere than ``sink``.
    error_sink:
        Where failed records go (``_row``, ``error_state``, ``error_type``,
        ``error_message`` and their fields). Default: ``<stem>.errors.jsonl``
        beside the first file sink, else the result (``result.errors()``).
    config:
        A :class:`StreamConfig`; the tuning options below, when given, override it.
    chunk_size, parallelism, memory_limit_mb, backpressure_threshold, buffer_size, preserve_order:
        Tuning, as in :class:`StreamConfig`.
    use_streaming:
        ``False`` reads the whole input as one chunk (no bounded memory).
    on_progress:
        Called (sync or async) after every chunk is written, with a
        :class:`~streamkit.Progress`.
    progress:
        ``True`` shows a progress bar (``tqdm.auto``: a terminal bar, or a
        widget in Jupyter); ``"lines"`` prints plain lines to standard error.
    format:
        The source's file format when its suffix does not say (``"jsonl"``,
        ``"csv"``, ``"parquet"``, ``"ipc"``).
    sink_format:
        The sinks' file format when their suffix does not say.
    schema:
        Expected input types (a ``pyarrow.Schema`` or ``{field: type}``); records
        that do not fit fail at read time with a reason.
    keep_end_state_ids:
        Keep each end state's row ids for ``result.ids(end_state)`` (default:
        only when outputs are kept in memory).
    engine:
        ``"local"`` (the default): worker threads in this process. ``"ray"``:
        the same compiled network on a Ray cluster (``pip install
        'streamkit[ray]'``; ``RAY_ADDRESS`` or a ``ray.init()`` already made
        says which) — files run as Ray tasks, one per file, row groups or
        byte range, and a ``ray.data.Dataset`` source gives Datasets back (see
        ``docs/ray.md``). Ray is imported only then.
    checkpoint:
        A file path (``"run.ckpt"``): commit the outputs and the source position
        as the stream goes, so that after a crash or ``kill -9`` the same call
        resumes where the last commit left off and writes the very bytes an
        uninterrupted run writes. For file sources and file sinks only; the parts
        are kept in ``<checkpoint>.parts/`` and removed with the checkpoint when
        the run completes. See :mod:`streamkit.engine.checkpoint`.
    """

    sinks: Mapping[str, Any] | None
    error_sink: Any
    config: StreamConfig | None
    chunk_size: int | None
    parallelism: int | None
    memory_limit_mb: float | None
    backpressure_threshold: int | None
    buffer_size: int | None
    preserve_order: bool | None
    use_streaming: bool
    on_progress: Callable[[Progress], Any] | None
    progress: bool | str
    format: str | None
    sink_format: str | None
    schema: Any
    keep_end_state_ids: bool | None
    engine: Literal["local", "ray"]
    checkpoint: str | os.PathLike[str] | None


def check_options(options: Mapping[str, Any]) -> None:
    """Raise ``TypeError`` for a keyword that is not a stream option, naming the closest one.

    Examples
    --------
    >>> check_options({"chunk_size": 10})
    >>> check_options({"paralelism": 2})
    Traceback (most recent call last):
    ...
    TypeError: process_stream() got an unexpected keyword argument 'paralelism' (did you mean 'parallelism'?)
    """
    known = StreamOptions.__annotations__
    for name in options:
        if name not in known:
            hint = did_you_mean(name, known) or f"; options: {', '.join(known)}"
            msg = f"process_stream() got an unexpected keyword argument {name!r}{hint}"
            raise TypeError(msg)


@dataclass(frozen=True)
class StreamConfig:
    """How a stream is cut into chunks, run in parallel and held back.

    Parameters
    ----------
    chunk_size:
        Records per chunk read from the source. Each chunk costs ~45 µs of Python
        glue whatever its size, so 64k-256k rows keep that overhead small while the
        chunk's columns still fit in cache; small chunks (10-1000) give lower latency.
    parallelism:
        Worker threads running compiled chunks; by default one per core this process
        may use (:func:`usable_cores`). Compiled kernels release the GIL, so two
        workers run about twice as fast on compute-heavy networks.
    memory_limit_mb:
        Byte budget of the chunks in flight (read, not yet written by the sink). The
        source acquires a chunk's bytes before reading it and the sink releases them
        after writing, so a slow sink pauses the source and memory stays flat. A
        single chunk larger than the whole budget still runs, alone.
    backpressure_threshold:
        Records in flight at most (read, not yet written); the source pauses at this
        many. ``None``: no limit besides the byte budget.
    buffer_size:
        Records that may wait between the source and the workers (the bounded
        channel's capacity, in whole chunks, at least one). ``None``: one chunk
        for each worker but the first, so that with the chunk the source holds
        ready, every worker finds one when it is done (reading ahead further
        only holds memory: the source reads a chunk far faster than a worker
        runs it).
    preserve_order:
        Write records in input order (a reorder buffer holds chunks that finish
        early). With ``False`` chunks are written as they finish.

    Examples
    --------
    >>> StreamConfig(chunk_size=100, parallelism=4, memory_limit_mb=1024,
    ...              backpressure_threshold=5000).parallelism
    4
    >>> StreamConfig(chunk_size=0)
    Traceback (most recent call last):
    ...
    ValueError: `chunk_size` must be a positive integer, got 0
    """

    chunk_size: int = DEFAULT_CHUNK_SIZE
    parallelism: int = dataclasses.field(default_factory=lambda: usable_cores())
    memory_limit_mb: float = 512
    backpressure_threshold: int | None = None
    buffer_size: int | None = None
    preserve_order: bool = True

    def __post_init__(self) -> None:
        _positive_int("chunk_size", self.chunk_size)
        _positive_int("parallelism", self.parallelism)
        if (
            isinstance(self.memory_limit_mb, bool)
            or not isinstance(self.memory_limit_mb, (int, float))
            or not self.memory_limit_mb > 0
        ):
            msg = f"`memory_limit_mb` must be a positive number, got {self.memory_limit_mb!r}"
            raise ValueError(msg)
        if self.backpressure_threshold is not None:
            _positive_int("backpressure_threshold", self.backpressure_threshold)
        if self.buffer_size is not None:
            _positive_int("buffer_size", self.buffer_size)
        if not isinstance(self.preserve_order, bool):
            msg = f"`preserve_order` must be True or False, got {self.preserve_order!r}"
            raise TypeError(msg)

    @property
    def memory_limit_bytes(self) -> int:
        """The byte budget in bytes."""
        return int(self.memory_limit_mb * MB)

    @property
    def channel_chunks(self) -> int:
        """Capacity of the channel between the source and the workers, in chunks."""
        if self.buffer_size is None:
            return self.parallelism - 1
        return max(1, self.buffer_size // self.chunk_size)


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one), at least 1.

    Examples
    --------
    >>> usable_cores() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        msg = f"`{name}` must be a positive integer, got {value!r}"
        raise ValueError(msg)


def resolve_stream_config(config: StreamConfig | None, **overrides: Any) -> StreamConfig:
    """``config`` (or the defaults) with the keyword arguments that are not ``None`` applied.

    Examples
    --------
    >>> resolve_stream_config(StreamConfig(parallelism=2), chunk_size=10).chunk_size
    10
    """
    base = config if config is not None else StreamConfig()
    if not isinstance(base, StreamConfig):
        msg = f"`config` must be a StreamConfig, got {type(base).__name__}"
        raise TypeError(msg)
    changes = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(changes) - {f.name for f in dataclasses.fields(StreamConfig)}
    if unknown:
        msg = f"unknown stream options: {', '.join(sorted(unknown))}"
        raise TypeError(msg)
    return dataclasses.replace(base, **changes) if changes else base
