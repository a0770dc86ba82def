"""Snapshots of a :class:`~streamkit.status.StatusIndex`: Arrow IPC (crash recovery) and dicts (JSON audit).

The IPC snapshot is one table in "long" form, so statuses (one per id) and
tags (many per id) fit one schema:

- ``id`` int64;
- ``status`` dictionary<uint8, string> (indices are the codes): set on the
  status rows, which come first, grouped by status in code order, each group
  in :meth:`~streamkit.status.StatusIndex.ids` order (ascending for statuses
  whose ids are not kept);
- ``tag`` dictionary<int32, string>: set on the tag rows, grouped by tag in
  creation order, each group in tagging order.

Schema metadata ``streamkit.status_index`` holds JSON: format version,
``keep_ids``, ``log_transitions``, the ``cleaned`` tally and the tag names (so
empty tags survive). Restoring replays the rows in order, so every list and
every count comes back as it was. The transition log is not part of a
snapshot (save :meth:`transition_log` for that); never pickle.

This module takes a :class:`Snapshot` of an index's collaborators and
translates between it and those formats; the index replays one through its
public methods.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from streamkit.status._lists import StatusLists
from streamkit.status._store import EMPTY_I64, Store
from streamkit.status._tags import Tags
from streamkit.status.codes import N_STATUSES, STATUS_NAMES, status_code, status_name_array
from streamkit.status.errors import StatusIndexError

__all__ = ("Snapshot", "take", "encode_ipc", "decode_ipc", "encode_dict", "decode_dict", "FORMAT", "VERSION")

FORMAT = "streamkit.status_index"
VERSION = 1
_META_KEY = FORMAT.encode()
_NAMES = status_name_array()
_BATCH_ROWS = 1 << 22


@dataclass(frozen=True, eq=False)
class Snapshot:
    """An index's state, as written and as read back.

    Attributes
    ----------
    keep_ids:
        The statuses whose ids are kept, by name (or ``"all"``).
    log_transitions:
        Whether the index logs transitions (the log itself is not kept).
    cleaned:
        Ids dropped by cleanups so far, by status code.
    ids, codes:
        Every id with its status code, in the order to add them back in; an
        index's own snapshot has them grouped by code, in code order.
    tags:
        Each tag's ids in tagging order (empty tags too), in creation order.
    """

    keep_ids: list[str] | str
    log_transitions: bool
    cleaned: dict[int, int]
    ids: np.ndarray
    codes: np.ndarray
    tags: dict[str, np.ndarray]

    def _meta(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "keep_ids": self.keep_ids,
            "log_transitions": self.log_transitions,
            "cleaned": {STATUS_NAMES[c]: self.cleaned.get(c, 0) for c in range(N_STATUSES)},
            "tags": list(self.tags),
        }


def take(store: Store, lists: StatusLists, tags: Tags, *, log_transitions: bool) -> Snapshot:
    """The snapshot of an index's collaborators (the caller holds the index's lock).

    Each status's ids come as :meth:`~streamkit.status.StatusIndex.ids` gives them, grouped in code order.
    """
    groups = [lists.ids(c, store) for c in range(N_STATUSES)]
    return Snapshot(
        keep_ids=[STATUS_NAMES[c] for c in lists.kept()],
        log_transitions=log_transitions,
        cleaned=dict(enumerate(lists.cleaned)),
        ids=np.concatenate(groups),
        codes=np.repeat(np.arange(N_STATUSES, dtype=np.uint8), [g.shape[0] for g in groups]),
        tags=tags.ordered_ids(),
    )


def encode_ipc(snap: Snapshot) -> bytes:
    """``snap`` as an Arrow IPC stream (the table described above)."""
    tag_ids = list(snap.tags.values())
    n_status = snap.ids.shape[0]
    n_tag = sum(t.shape[0] for t in tag_ids)
    ids = np.concatenate([snap.ids, *tag_ids]) if n_tag else snap.ids
    codes = np.zeros(n_status + n_tag, np.uint8)
    codes[:n_status] = snap.codes
    tag_idx = np.zeros(n_status + n_tag, np.int32)
    at = n_status
    for i, t in enumerate(tag_ids):
        tag_idx[at : at + t.shape[0]] = i
        at += t.shape[0]
    is_tag = np.arange(n_status + n_tag) >= n_status
    status = pa.DictionaryArray.from_arrays(pa.array(codes, pa.uint8(), mask=is_tag if n_tag else None), _NAMES)
    tag = pa.DictionaryArray.from_arrays(pa.array(tag_idx, pa.int32(), mask=~is_tag),
                                         pa.array(list(snap.tags), pa.string()))  # fmt: skip
    schema = pa.schema(
        [pa.field("id", pa.int64(), nullable=False), pa.field("status", status.type), pa.field("tag", tag.type)],
        metadata={_META_KEY: json.dumps(snap._meta()).encode()},
    )
    table = pa.Table.from_arrays([pa.array(ids), status, tag], schema=schema)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        writer.write_table(table, max_chunksize=_BATCH_ROWS)
    return sink.getvalue().to_pybytes()


def decode_ipc(data: bytes | bytearray | memoryview | pa.Buffer) -> Snapshot:
    """Read :func:`encode_ipc`'s bytes back (``StatusIndexError`` if they are not such a snapshot)."""
    try:
        table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    except (pa.ArrowInvalid, OSError):
        msg = f"not a status index snapshot: expected an Arrow IPC stream, got {len(data)} bytes that are not one"
        raise StatusIndexError(msg) from None
    raw = (table.schema.metadata or {}).get(_META_KEY)
    if raw is None or table.column_names != ["id", "status", "tag"]:
        msg = f"not a status index snapshot: expected columns id, status, tag and `{FORMAT}` metadata"
        raise StatusIndexError(msg)
    meta = _check_meta(json.loads(raw), "metadata")
    ids = np.asarray(table.column("id").to_numpy(), np.int64)
    status = table.column("status").combine_chunks()
    is_status = np.asarray(status.is_valid())
    lut = np.array([status_code(s, what="status") for s in status.dictionary.to_pylist()] or [0], np.uint8)
    codes = lut[np.asarray(status.indices.fill_null(0).to_numpy())]
    tag = table.column("tag").combine_chunks()
    tag_rows = np.flatnonzero(np.asarray(tag.is_valid()))
    tag_idx = np.asarray(tag.indices.to_numpy(zero_copy_only=False))[tag_rows].astype(np.int64)
    tags = dict.fromkeys(meta.pop("tags"), EMPTY_I64)
    tags.update({name: ids[tag_rows][tag_idx == i] for i, name in enumerate(tag.dictionary.to_pylist())})
    return Snapshot(**meta, ids=ids[is_status], codes=codes[is_status], tags=tags)


def encode_dict(snap: Snapshot) -> dict[str, Any]:
    """``snap`` as plain Python (lists of ints; ``snap``'s rows must be grouped by code, in code order)."""
    meta = snap._meta()
    del meta["tags"]
    bounds = np.searchsorted(snap.codes, np.arange(N_STATUSES + 1)).tolist()
    statuses = {name: snap.ids[bounds[c] : bounds[c + 1]].tolist() for c, name in enumerate(STATUS_NAMES)}
    return {**meta, "statuses": statuses, "tags": {name: t.tolist() for name, t in snap.tags.items()}}


def decode_dict(data: Mapping[str, Any]) -> Snapshot:
    """Read :func:`encode_dict`'s output back (``StatusIndexError`` saying where it is wrong)."""
    meta = _check_meta(data, "dict")
    statuses = data.get("statuses")
    tags = data.get("tags", {})
    if not isinstance(statuses, Mapping):
        msg = ("invalid status index dict: `statuses` must be a mapping of status name to list of ids, "
               f"got {statuses!r}")  # fmt: skip
        raise StatusIndexError(msg)
    if not isinstance(tags, Mapping):
        msg = f"invalid status index dict: `tags` must be a mapping of tag name to list of ids, got {tags!r}"
        raise StatusIndexError(msg)
    parts = [(status_code(name, what=f"statuses.{name}"), _id_list(v, f"statuses.{name}"))
             for name, v in statuses.items()]  # fmt: skip
    ids = np.concatenate([p[1] for p in parts]) if parts else EMPTY_I64
    codes = np.concatenate([np.full(p[1].shape[0], p[0], np.uint8) for p in parts]) if parts else np.zeros(0, np.uint8)
    del meta["tags"]
    by_tag = {name: _id_list(v, f"tags.{name}") for name, v in tags.items()}
    return Snapshot(**meta, ids=ids, codes=codes, tags=by_tag)


def _check_meta(meta: Any, where: str) -> dict[str, Any]:
    if not isinstance(meta, Mapping) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
        got = {k: meta.get(k) for k in ("format", "version")} if isinstance(meta, Mapping) else meta
        msg = f"invalid status index {where}: expected format {FORMAT!r} version {VERSION}, got {got!r}"
        raise StatusIndexError(msg)
    cleaned = meta.get("cleaned", {})
    if not isinstance(cleaned, Mapping) or not all(isinstance(v, int) and v >= 0 for v in cleaned.values()):
        msg = f"invalid status index {where}: `cleaned` must map status names to counts, got {cleaned!r}"
        raise StatusIndexError(msg)
    return {
        "keep_ids": meta.get("keep_ids", "all"),
        "log_transitions": bool(meta.get("log_transitions", False)),
        "cleaned": {status_code(k, what="cleaned"): v for k, v in cleaned.items()},
        "tags": list(meta.get("tags", [])),
    }


def _id_list(values: Any, where: str) -> np.ndarray:
    if not isinstance(values, (list, tuple)) or not all(type(v) is int for v in values):
        msg = f"invalid status index dict: `{where}` must be a list of integer ids, got {values!r:.80}"
        raise StatusIndexError(msg)
    return np.array(values, np.int64) if values else EMPTY_I64
