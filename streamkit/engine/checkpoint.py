"""Checkpoint and resume of file → file streams (``process_stream(..., checkpoint="run.ckpt")``).

A checkpointed run is a sequence of committed, numbered chunks: chunk ``k``
covers the same records in every run of the same call, because a file source
cuts its input into chunks of ``chunk_size`` records per file whatever the
memory budget or the number of workers. Each file sink writes every chunk's
output to ``<checkpoint>.parts/<sink>/`` (:class:`~streamkit.io.partfiles.PartSink`):
a JSON Lines sink appends it to one stream file, the others write a numbered
part file per chunk; every chunk's status codes are appended to
``<checkpoint>.parts/status.u8``. The checkpoint file itself (JSON, written
under a temporary name, fsynced and renamed) says how many chunks are
committed, where the source stands after them (chunks and records), how many
parts each sink has (and the length of its stream), the run's counts so far, and a fingerprint of the call:
the networks' configs, the source files (sizes and modification times), the
sinks and the options that change outputs.

Commit order: the chunks are written in order (the reorder buffer); after a
chunk is written, at most every :data:`COMMIT_SECONDS`, the parts and status
codes written since the last commit are fsynced first, then the checkpoint
that names them is replaced. A run killed at any point (``kill -9``) resumes
with the same call: the fingerprint is checked (any change is refused with a
:class:`~streamkit.CheckpointError` naming it), parts beyond the checkpoint are
deleted and streams cut back to their committed length, the source skips the
committed chunks (JSON Lines blocks are skipped unparsed), row numbering and
counts go on from the checkpoint. At the end the streams are linked into place
and the parts joined into the final files, which come out byte-identical to a run
without a checkpoint; then the checkpoint and its parts are removed. A run
that fails or is cancelled keeps them, so the same call resumes it; delete the
checkpoint file to start over.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from streamkit.engine.chunks import Chunk, Stage
from streamkit.engine.routing import Routes, error_path_for
from streamkit.engine.tally import Tally
from streamkit.errors import CheckpointError
from streamkit.io._files import fsync_dir
from streamkit.io.dirsink import DirectorySink, is_directory_target
from streamkit.io.formats import format_of
from streamkit.io.partfiles import PartSink
from streamkit.io.sources import FilesSource

__all__ = ("Checkpoint", "open_checkpoint", "open_outputs", "parts_dir_of", "COMMIT_SECONDS", "CHECKPOINT_VERSION")

#: A checkpoint is written after a chunk once this many seconds have passed since the last one (and
#: after the last chunk). Each commit fsyncs the parts written since the one before; more often costs
#: more syncs, less often redoes more work after a kill (never changes what the outputs hold).
COMMIT_SECONDS = 0.5

#: The layout of checkpoint files this version writes and reads.
CHECKPOINT_VERSION = 1

_STATUS_FILE = "status.u8"


class Checkpoint:
    """The checkpoint of one run: its file, its part directory, its sinks and what is committed.

    Made by :func:`open_checkpoint`. The engine calls :meth:`written` after each
    chunk is written and counted (from the one thread writing at that moment),
    :meth:`commit` once every chunk is, and :meth:`remove` once the files are in place.
    """

    def __init__(self, path: Path, fingerprint: dict[str, Any], sinks: list[PartSink | DirectorySink]) -> None:
        self.path = path
        self.parts_dir = parts_dir_of(path)
        self.fingerprint = fingerprint
        self.part_sinks = sinks
        #: Chunks committed (the next chunk's number) and records they hold (the source position).
        self.chunks = 0
        self.position = 0
        #: Where the source stands after the committed chunks (the last one's ``resume``), if it says.
        self.source_at: dict[str, int] | None = None
        #: The counts restored from the checkpoint, for :meth:`restore` (``None`` on a fresh run).
        self.saved: dict[str, Any] | None = None
        self.commits = 0
        #: Records the checkpoint file names (``position`` as of the last commit).
        self.committed = 0
        self._status: Any = None
        self._last = 0.0
        self._lock = threading.Lock()

    # -- starting ---------------------------------------------------------------------------
    def start(self) -> None:
        """Resume from the checkpoint file if there is one (checking it is this run's), else start afresh."""
        state = _load(self.path) if self.path.exists() else None
        if state is None:
            if self.parts_dir.exists():  # parts of a finished or never-checkpointed run
                shutil.rmtree(self.parts_dir)
            self._open_parts(fresh=True)
            for s in self.part_sinks:  # leftovers of earlier runs beside the outputs, a directory's old parts
                s.resume(0, 0, 0)
            self._write_state(None)
            return
        changed = _changes(state.get("fingerprint", {}), self.fingerprint)
        if changed:
            msg = (
                f"cannot resume from checkpoint {str(self.path)!r}: {'; '.join(changed)}"
                f"\n\nHint: call with the same arguments to resume, or delete {str(self.path)!r} to start over"
            )
            raise CheckpointError(msg)
        self.chunks = int(state["chunks"])
        self.position = self.committed = int(state["position"])
        at = state.get("source_at")
        self.source_at = {k: int(v) for k, v in at.items()} if isinstance(at, dict) else None
        self.saved = state["tally"]
        lengths = state.get("bytes") or [0] * len(self.part_sinks)
        for s, n, records, length in zip(self.part_sinks, state["parts"], state["records"], lengths):
            s.resume(int(n), int(records), int(length))
        self._open_parts(fresh=False)

    def _open_parts(self, *, fresh: bool) -> None:
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        for s in self.part_sinks:
            s.directory.mkdir(parents=True, exist_ok=True)
        status = self.parts_dir / _STATUS_FILE
        self._status = open(status, "wb" if fresh or not status.exists() else "r+b")  # noqa: SIM115 - closed by close()
        if not fresh:
            if os.fstat(self._status.fileno()).st_size < self.position:
                msg = f"checkpoint {str(self.path)!r}: its status file {str(status)!r} is cut short"
                raise CheckpointError(msg)
            self._status.truncate(self.position)
            self._status.seek(self.position)
        self._last = time.monotonic()

    def restore(self, tally: Tally) -> None:
        """Put the committed chunks' counts, statuses and failed-record log back into ``tally``."""
        if self.saved is None:
            return
        saved = self.saved
        if self.position:
            codes = np.fromfile(self.parts_dir / _STATUS_FILE, np.uint8, count=self.position)
            tally.index.add_chunk(range(self.position), codes)
        tally.chunks = self.chunks
        tally.records = self.position
        tally.malformed = int(saved["malformed"])
        tally.end_state_counts.update({k: int(v) for k, v in saved["end_state_counts"].items()})
        tally.retries = {k: int(v) for k, v in saved["retries"].items()}
        tally.columns_seen = set(saved["columns_seen"])
        tally.errors.restore(saved["errors"])

    # -- while running ----------------------------------------------------------------------------
    def written(self, chunk: Chunk, codes: np.ndarray, tally: Tally) -> None:
        """Note a chunk written (in order) and counted; commit if :data:`COMMIT_SECONDS` have passed."""
        with self._lock:
            if chunk.seq != self.chunks or chunk.start != self.position:
                msg = (
                    f"checkpointed chunks must be written in order: expected chunk {self.chunks} at record "
                    f"{self.position}, got chunk {chunk.seq} at record {chunk.start}"
                )
                raise RuntimeError(msg)
            self._advance(1, chunk.count, codes, chunk.resume)
            if time.monotonic() - self._last >= COMMIT_SECONDS:
                self._commit(tally)

    def written_many(self, chunks: int, records: int, codes: np.ndarray, resume: dict[str, int] | None) -> None:
        """Note ``chunks`` chunks of ``records`` records written, in order, after those noted so far.

        Their outputs must be written to the part sinks already; ``codes`` are their records'
        statuses, ``resume`` where the source stands after the last of them. The Ray engine notes
        each slice so; :meth:`commit` makes it durable.
        """
        if len(codes) != records:
            msg = f"{records} records written, {len(codes)} status codes given"
            raise ValueError(msg)
        with self._lock:
            self._advance(chunks, records, codes, resume)

    def _advance(self, chunks: int, records: int, codes: np.ndarray, resume: dict[str, int] | None) -> None:
        self._status.write(np.ascontiguousarray(codes, np.uint8).tobytes())
        self.chunks += chunks
        self.position += records
        self.source_at = resume

    def commit(self, tally: Tally) -> None:
        """Make everything written so far durable and name it in the checkpoint."""
        with self._lock:
            self._commit(tally)

    def _commit(self, tally: Tally) -> None:
        for s in self.part_sinks:  # parts first: the checkpoint names only durable parts
            s.sync()
        self._status.flush()
        os.fsync(self._status.fileno())
        self._write_state(tally)
        self._last = time.monotonic()
        self.commits += 1
        self.committed = self.position

    def _write_state(self, tally: Tally | None) -> None:
        state = {
            "streamkit_checkpoint": CHECKPOINT_VERSION,
            "fingerprint": self.fingerprint,
            "chunks": self.chunks,
            "position": self.position,
            "source_at": self.source_at,
            "parts": [s.n_parts for s in self.part_sinks],
            "records": [s.records_written for s in self.part_sinks],
            "bytes": [s.stream_bytes for s in self.part_sinks],
            "tally": _tally_state(tally),
        }
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(state, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)

    # -- the end ------------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the status file (the checkpoint stays)."""
        if self._status is not None:
            self._status.close()
            self._status = None

    def remove(self) -> None:
        """The run is complete and its files in place: remove the checkpoint, then its parts."""
        self.close()
        self.path.unlink(missing_ok=True)
        fsync_dir(self.path.parent)
        shutil.rmtree(self.parts_dir, ignore_errors=True)


def parts_dir_of(path: Path) -> Path:
    """Where a checkpoint keeps its parts: ``run.ckpt`` → ``run.ckpt.parts``.

    Examples
    --------
    >>> parts_dir_of(Path("out/run.ckpt")).as_posix()
    'out/run.ckpt.parts'
    """
    return path.with_name(f"{path.name}.parts")


def open_checkpoint(
    checkpoint: Any,
    *,
    stages: list[Stage],
    source: Any,
    sink: Any,
    sinks: Mapping[str, Any] | None,
    error_sink: Any,
    options: Mapping[str, Any],
    read_size: int,
    threads: int,
) -> tuple[Checkpoint, dict[str, Any]]:
    """Check that the run can be checkpointed and open its checkpoint (resuming it if it exists).

    Returns the checkpoint and the run's sinks as :class:`~streamkit.io.partfiles.PartSink` s
    (``{"sink", "sinks", "error_sink"}``, as ``process_stream`` takes them).

    Raises
    ------
    TypeError
        The source is not files, or a sink is not a file.
    ValueError
        An option a checkpoint cannot honour (``preserve_order=False``, ``keep_end_state_ids=True``).
    CheckpointError
        The checkpoint was written by a run with another config, source, sinks or options.
    """
    if not isinstance(checkpoint, (str, os.PathLike)):
        msg = f"`checkpoint` must be a path (str or os.PathLike), got {type(checkpoint).__name__}"
        raise TypeError(msg)
    if not isinstance(source, FilesSource):
        msg = (
            f"`checkpoint=` resumes streams that read files (a path, a glob or a list of paths), got {source.name!r}"
            "\n\nHint: write the records to a file first, or run without `checkpoint=`"
        )
        raise TypeError(msg)
    if options.get("preserve_order") is False:
        msg = "`checkpoint=` needs the records written in order: `preserve_order` must be True, got False"
        raise ValueError(msg)
    if options.get("keep_end_state_ids"):
        msg = "`checkpoint=` keeps no row ids in memory: `keep_end_state_ids` must be False or None, got True"
        raise ValueError(msg)
    path = Path(checkpoint)
    if not (path.parent if str(path.parent) else Path(".")).is_dir():
        msg = f"cannot write checkpoint {str(path)!r}: directory {str(path.parent)!r} does not exist"
        raise FileNotFoundError(msg)
    end_states = stages[-1].end_states
    sink_format = options.get("sink_format")
    targets: list[tuple[str, Any, str | None]] = []  # (role, path, format), in the order Routes opens them
    if sink is not None:
        targets.append(("sink", sink, sink_format))
    named = dict(sinks or {})
    targets += [(f"sinks[{s!r}]", named[s], sink_format) for s in end_states if s in named]
    for role, target, _ in targets:
        _check_file_target(role, target)
    if sink is None and any(s not in named for s in end_states):
        missing = [s for s in end_states if s not in named]
        msg = (
            f"`checkpoint=` writes every output to a file: end state {missing[0]!r} has no sink"
            "\n\nHint: pass `sink=` (a path for every end state) or name it in `sinks=`"
        )
        raise ValueError(msg)
    if error_sink is not None:
        _check_file_target("error_sink", error_sink)
        targets.append(("error_sink", error_sink, None))
    elif targets:
        targets.append(("error_sink", error_path_for(Path(targets[0][1])), "jsonl"))
    pdir = parts_dir_of(path)
    part_sinks: list[PartSink | DirectorySink] = [
        DirectorySink(target, fmt, resumable=True)
        if is_directory_target(target)
        else PartSink(target, format_of(target, fmt), pdir / str(k), threads=threads)
        for k, (_, target, fmt) in enumerate(targets)
    ]
    fingerprint = {
        "networks": [
            {
                "stage": st.name,
                "config": _config_hash(st.network.config.raw),
                "allow_python": st.network.allow_python,
                "max_steps": st.network.max_steps,
            }
            for st in stages
        ],
        "source": [_file_id(p) for p in source.paths],
        "format": options.get("format"),
        "schema": None if source.schema is None else str(source.schema),
        "chunk_size": read_size,
        "sinks": [[role, os.path.abspath(s.path), s.format.name] for (role, _, _), s in zip(targets, part_sinks)],
    }
    ckpt = Checkpoint(path, fingerprint, part_sinks)
    ckpt.start()
    by_role = dict(zip([r for r, _, _ in targets], part_sinks))
    chosen = {
        "sink": by_role.get("sink"),
        "sinks": {s: by_role[f"sinks[{s!r}]"] for s in end_states if f"sinks[{s!r}]" in by_role} or None,
        "error_sink": by_role.get("error_sink"),
    }
    return ckpt, chosen


def open_outputs(
    stages: list[Stage], source: Any, sink: Any, options: Mapping[str, Any], *, read_size: int, threads: int
) -> tuple[Routes, Checkpoint | None]:
    """A run's :class:`~streamkit.engine.routing.Routes`, and its checkpoint when ``options`` name one.

    With ``checkpoint=`` the checkpoint is opened (or resumed) and the routes
    write through its sinks (:func:`open_checkpoint`); if the routes cannot be
    opened, the checkpoint is closed again.
    """
    sinks, error_sink = options.get("sinks"), options.get("error_sink")
    ckpt: Checkpoint | None = None
    try:
        if options.get("checkpoint") is not None:
            ckpt, chosen = open_checkpoint(
                options.get("checkpoint"),
                stages=stages,
                source=source,
                sink=sink,
                sinks=sinks,
                error_sink=error_sink,
                options=options,
                read_size=read_size,
                threads=threads,
            )
            sink, sinks, error_sink = chosen["sink"], chosen["sinks"], chosen["error_sink"]
        routes = Routes(
            stages[-1].end_states,
            sink=sink,
            sinks=sinks,
            error_sink=error_sink,
            sink_format=options.get("sink_format"),
        )
    except BaseException:
        if ckpt is not None:
            ckpt.close()
        raise
    return routes, ckpt


def _check_file_target(role: str, target: Any) -> None:
    if not isinstance(target, (str, os.PathLike)):
        msg = (
            f"`checkpoint=` writes outputs to files only: `{role}` must be a path, got {type(target).__name__}"
            "\n\nHint: run without `checkpoint=` to write to a callback, a list or a collector"
        )
        raise TypeError(msg)


def _file_id(p: Path) -> list[Any]:
    st = p.stat()
    return [os.path.abspath(p), st.st_size, st.st_mtime_ns]


def _stable(obj: Any) -> str:
    """A text for what JSON cannot hold, the same in every process (callables by name, not address)."""
    if callable(obj):
        return f"<callable {getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__qualname__)}>"
    return repr(obj)


def _config_hash(raw: Any) -> str:
    text = json.dumps(raw, sort_keys=True, default=_stable)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


#: What each fingerprint key is called in a message.
_WHAT = {
    "networks": "the network config changed",
    "source": "the source changed (its files, their sizes or modification times)",
    "format": "`format` changed",
    "schema": "`schema` changed",
    "chunk_size": "`chunk_size` changed",
    "sinks": "the sinks changed",
}


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What differs between two fingerprints, in words (empty when none does)."""
    out = []
    for key, what in _WHAT.items():
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key == "chunk_size":
            out.append(f"{what} (was {a!r}, now {b!r})")
        elif key == "sinks":
            out.append(f"{what} (was {[s[1] for s in a or []]!r}, now {[s[1] for s in b or []]!r})")
        elif key == "networks":
            stages = [n.get("stage") for n, m in zip(a or [], b or []) if n != m] or ["?"]
            out.append(f"{what} (stage {stages[0]!r})")
        else:
            out.append(what)
    return out


def _tally_state(tally: Tally | None) -> dict[str, Any]:
    if tally is None:
        return {
            "malformed": 0,
            "end_state_counts": {},
            "retries": {},
            "columns_seen": [],
            "errors": {"total": 0, "kept": []},
        }
    return {
        "malformed": tally.malformed,
        "end_state_counts": dict(tally.end_state_counts),
        "retries": dict(tally.retries),
        "columns_seen": sorted(tally.columns_seen),
        "errors": tally.errors.state(),
    }


def _load(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"{str(path)!r} is not a streamkit checkpoint: {exc}"
        raise CheckpointError(msg) from None
    if not isinstance(state, dict) or state.get("streamkit_checkpoint") != CHECKPOINT_VERSION:
        msg = f"{str(path)!r} is not a streamkit checkpoint (version {CHECKPOINT_VERSION})"
        raise CheckpointError(msg)
    return state
