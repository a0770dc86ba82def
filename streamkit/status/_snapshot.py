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
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from kernels import status as K
from streamkit.status._store import EMPTY_I64, IdList, Store
from streamkit.status._tags import TagSet
from streamkit.status.codes import N_STATUSES, STATUS_NAMES, status_code
from streamkit.status.errors import StatusIndexError

__all__ = ("SnapshotMethods", "FORMAT", "VERSION")

FORMAT = "streamkit.status_index"
VERSION = 1
_META_KEY = FORMAT.encode()
_NAMES = pa.array(STATUS_NAMES, pa.string())
_BATCH_ROWS = 1 << 22


class SnapshotMethods:
    """Snapshot methods of :class:`~streamkit.status.StatusIndex`."""

    _lock: threading.Lock
    _store: Store
    _lists: list[IdList | None]
    _counts: np.ndarray
    _cleaned: np.ndarray
    _tags: dict[str, TagSet]
    _log: Any
    keep_ids: Any
    _compact: Any
    add_chunk: Any

    def to_ipc(self) -> bytes:
        """The whole index (statuses, cleaned tally, tags) as an Arrow IPC stream.

        Examples
        --------
        >>> from streamkit.status import StatusIndex
        >>> index = StatusIndex()
        >>> index.add(range(4))
        >>> index.transition([2], "failed")
        >>> index.tag([2], "retry")
        >>> copy = StatusIndex.from_ipc(index.to_ipc())
        >>> copy.ids("failed"), copy.tagged("retry"), copy.count("pending")
        (array([2]), array([2]), 3)
        """
        with self._lock:
            groups = self._status_groups()
            tag_ids = [t.ids() for t in self._tags.values()]
            meta = self._meta()
        n_status = sum(g.shape[0] for g in groups)
        n_tag = sum(t.shape[0] for t in tag_ids)
        ids = np.concatenate([*groups, *tag_ids]) if n_status + n_tag else EMPTY_I64
        codes = np.zeros(n_status + n_tag, np.uint8)
        tag_idx = np.zeros(n_status + n_tag, np.int32)
        at = 0
        for c, g in enumerate(groups):
            codes[at : at + g.shape[0]] = c
            at += g.shape[0]
        for i, t in enumerate(tag_ids):
            tag_idx[at : at + t.shape[0]] = i
            at += t.shape[0]
        is_tag = np.arange(n_status + n_tag) >= n_status if n_tag else None
        status = pa.DictionaryArray.from_arrays(pa.array(codes, pa.uint8(), mask=is_tag), _NAMES)
        tag = pa.DictionaryArray.from_arrays(
            pa.array(tag_idx, pa.int32(), mask=~is_tag if n_tag else np.ones(n_status, np.bool_)),
            pa.array(list(self._tags), pa.string()),
        )
        schema = pa.schema(
            [pa.field("id", pa.int64(), nullable=False), pa.field("status", status.type),
             pa.field("tag", tag.type)],
            metadata={_META_KEY: json.dumps(meta).encode()},
        )  # fmt: skip
        table = pa.Table.from_arrays([pa.array(ids), status, tag], schema=schema)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, schema) as writer:
            writer.write_table(table, max_chunksize=_BATCH_ROWS)
        return sink.getvalue().to_pybytes()

    @classmethod
    def from_ipc(cls, data: bytes | bytearray | memoryview | pa.Buffer) -> Any:
        """Rebuild an index from :meth:`to_ipc`'s bytes (exactly: ids, order, counts, tags, tally).

        Raises
        ------
        StatusIndexError
            ``data`` is not an Arrow IPC stream written by :meth:`to_ipc`.

        Examples
        --------
        >>> from streamkit.status import StatusIndex
        >>> StatusIndex.from_ipc(b"not arrow")
        Traceback (most recent call last):
        ...
        streamkit.status.errors.StatusIndexError: not a status index snapshot: expected an Arrow IPC stream, got 9 bytes that are not one
        """
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
        tag_names = tag.dictionary.to_pylist()
        tag_idx = np.asarray(tag.indices.to_numpy(zero_copy_only=False))[tag_rows].astype(np.int64)
        by_tag = {name: ids[tag_rows][tag_idx == i] for i, name in enumerate(tag_names)}
        return _restore(cls, meta, ids[is_status], codes[is_status], by_tag)

    def to_dict(self) -> dict[str, Any]:
        """The whole index as plain Python (lists of ints), for JSON audit; see :meth:`from_dict`.

        Examples
        --------
        >>> import json
        >>> from streamkit.status import StatusIndex
        >>> index = StatusIndex()
        >>> index.add([7, 8], "failed")
        >>> d = index.to_dict()
        >>> d["statuses"]["failed"], d["cleaned"]["failed"]
        ([7, 8], 0)
        >>> StatusIndex.from_dict(json.loads(json.dumps(d))).to_dict() == d
        True
        """
        with self._lock:
            groups = self._status_groups()
            tags = {name: t.ids().tolist() for name, t in self._tags.items()}
            meta = self._meta()
        del meta["tags"]
        return {**meta, "statuses": {n: g.tolist() for n, g in zip(STATUS_NAMES, groups)}, "tags": tags}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        """Rebuild an index from :meth:`to_dict`'s output (or the same loaded back from JSON).

        Raises
        ------
        StatusIndexError
            ``data`` is not such a dict; the message says where.

        Examples
        --------
        >>> from streamkit.status import StatusIndex
        >>> StatusIndex.from_dict({"format": "streamkit.status_index", "version": 1})
        Traceback (most recent call last):
        ...
        streamkit.status.errors.StatusIndexError: invalid status index dict: `statuses` must be a mapping of status name to list of ids, got None
        """
        meta = _check_meta(data, "dict")
        statuses = data.get("statuses")
        tags = data.get("tags", {})
        if not isinstance(statuses, Mapping):
            msg = f"invalid status index dict: `statuses` must be a mapping of status name to list of ids, got {statuses!r}"
            raise StatusIndexError(msg)
        if not isinstance(tags, Mapping):
            msg = f"invalid status index dict: `tags` must be a mapping of tag name to list of ids, got {tags!r}"
            raise StatusIndexError(msg)
        parts = [(status_code(name, what=f"statuses.{name}"), _id_list(v, f"statuses.{name}"))
                 for name, v in statuses.items()]  # fmt: skip
        ids = np.concatenate([p[1] for p in parts]) if parts else EMPTY_I64
        codes = np.concatenate([np.full(p[1].shape[0], p[0], np.uint8) for p in parts]) if parts else ids.astype(np.uint8)
        meta["tags"] = list(tags)
        by_tag = {name: _id_list(v, f"tags.{name}") for name, v in tags.items()}
        return _restore(cls, meta, ids, codes, by_tag)

    def _meta(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "keep_ids": [STATUS_NAMES[c] for c in range(N_STATUSES) if self._lists[c] is not None],
            "log_transitions": self._log is not None,
            "cleaned": dict(zip(STATUS_NAMES, self._cleaned.tolist())),
            "tags": list(self._tags),
        }

    def _status_groups(self) -> list[np.ndarray]:
        # per status code: ids in list order (kept) or ascending (found by one scan of the column)
        groups: list[np.ndarray] = [EMPTY_I64] * N_STATUSES
        scan = [c for c in range(N_STATUSES) if self._counts[c] and self._lists[c] is None]
        for c in range(N_STATUSES):
            lst = self._lists[c]
            if lst is not None:
                if lst.n != self._counts[c]:
                    self._compact(c)
                groups[c] = lst.buf[: lst.n].copy()
        if scan:
            store = self._store
            keys, vals = store.hash.items()
            sizes = np.zeros(256, np.int64)
            sizes[scan] = self._counts[scan] - np.bincount(vals, minlength=256)[scan]
            starts = np.zeros(256, np.int64)
            starts[1:] = np.cumsum(sizes)[:-1]
            out = np.empty(int(sizes.sum()), np.int64)
            mask = np.zeros(256, np.bool_)
            mask[scan] = True
            K.group_by_code(EMPTY_I64, store.base, store.st, mask, starts, out)
            for c in scan:
                dense = out[starts[c] - sizes[c] : starts[c]]
                hashed = keys[vals == c]
                groups[c] = np.sort(np.concatenate([dense, hashed])) if hashed.shape[0] else dense
        return groups


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


def _restore(cls: Any, meta: dict[str, Any], ids: np.ndarray, codes: np.ndarray,
             by_tag: dict[str, np.ndarray]) -> Any:  # fmt: skip
    index = cls(keep_ids=meta["keep_ids"], log_transitions=meta["log_transitions"])
    index.add_chunk(ids, codes)
    for c, n in meta["cleaned"].items():
        index._cleaned[c] = n
    for name in meta["tags"]:
        index._tags[name] = TagSet()
    for name, tagged in by_tag.items():
        index.tag(tagged, name)
    if index._log is not None:
        index._log = type(index._log)()  # the replayed adds are not history
    return index
