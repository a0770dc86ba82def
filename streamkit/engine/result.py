"""The result of a run — ``process()`` and ``process_stream()`` alike: :class:`RunResult`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from streamkit._arrow.build import from_numpy, to_numpy
from streamkit._arrow.tables import ROW_FIELD, concat_by_row, empty_rows, sort_by_row
from streamkit.display import Diagram, to_mermaid, to_svg
from streamkit.display.views import result_html
from streamkit.engine.chunks import Stage
from streamkit.engine.tally import Tally
from streamkit.fsm.diagram import stages_diagram
from streamkit.io import Collector, open_source
from streamkit.io._types import without_unions
from streamkit.status import StatusIndex
from streamkit.status.codes import as_status

__all__ = ("RunResult",)


class RunResult:
    """What a run did: counts, timing, the status index, and the records kept in memory.

    Every input record is in exactly one place: the output of the end state it
    reached, or the failed records (``errors()``: failed, and cancelled or
    skipped where a run stopped early). Records that went to a sink are not kept
    (``output(state)`` reads a file sink back); without a sink they are kept, in
    input order, each with its position ``_row``. A field whose type differs
    between chunks keeps every value as it was (see :mod:`streamkit._arrow.unify`).

    Seed-style dict access works for every count: ``result["failed"]``,
    ``result.get("successful", 0)``.
    """

    _KEYS = (
        "total_records",
        "successful",
        "failed",
        "end_state_counts",
        "duration",
        "records_per_second",
        "malformed",
        "peak_bytes_in_flight",
        "peak_records_in_flight",
        "chunks_processed",
    )

    def __init__(
        self,
        tally: Tally,
        *,
        duration: float,
        collected: dict[str, Collector],
        collected_errors: Collector | None,
        paths: dict[str, str],
        warnings: list[str],
        peak_bytes: int = 0,
        peak_records: int = 0,
        stopped_by: dict[str, Any] | None = None,
        stages: Sequence[Stage] = (),
    ) -> None:
        self.end_states = list(tally.end_states)
        self.end_state_counts = dict(tally.end_state_counts)
        #: The run's status index: every record's status, counts per status, ids per status.
        self.index: StatusIndex = tally.index
        self.duration = duration
        self.malformed = tally.malformed
        self.peak_bytes_in_flight = peak_bytes
        self.peak_records_in_flight = peak_records
        self.chunks_processed = tally.chunks
        #: Why the run stopped early (an event's stop flag): ``{"state", "row", "reason"}``, else ``None``.
        self.stopped_by = stopped_by
        #: Retries event states made, by state (``"stage.state"`` in a pipeline); states without any are left out.
        self.retries: dict[str, int] = dict(tally.retries)
        #: End state (or ``"errors"``) → the file its records were written to.
        self.paths = paths
        #: Things worth knowing about the run (fields read but never seen, ...).
        self.warnings = warnings
        self._collected = collected
        self._stages = list(stages)  # the networks that ran, for diagram()
        self._collected_errors = collected_errors
        self._end_state_id_parts = tally.end_state_ids
        self._outputs: dict[str, pa.Table] = {}
        self._errors: pa.Table | None = None
        counts = self.index.counts()
        self.successful = int(counts["completed"])
        self.failed = int(counts["failed"])
        #: Records that ended skipped or cancelled (a run stopped early); they are listed with the failed ones.
        self.skipped = int(counts["skipped"])
        self.cancelled = int(counts["cancelled"])
        self.total_records = int(sum(counts.values()))

    @property
    def records_per_second(self) -> float:
        """Records per second of wall time."""
        return self.total_records / self.duration if self.duration > 0 else 0.0

    # -- records -----------------------------------------------------------------------
    def output(self, end_state: str) -> pa.Table:
        """Records that completed in ``end_state``, in input order, with their ``_row``.

        Raises
        ------
        KeyError
            ``end_state`` is not an end state, or its records went to a sink that is
            not a file (a callback, a list).
        """
        if end_state not in self.end_states:
            msg = f"{end_state!r} is not an end state (end states: {', '.join(map(repr, self.end_states))})"
            raise KeyError(msg)
        t = self._outputs.get(end_state)
        if t is not None:
            return t
        c = self._collected.get(end_state)
        if c is not None:
            t = _by_row(c.table())
        elif end_state in self.paths:
            t = _read_back(self.paths[end_state])
        else:
            msg = f"records of end state {end_state!r} went to a sink; they are not kept in the result"
            raise KeyError(msg)
        self._outputs[end_state] = t
        return t

    def outputs(self) -> dict[str, pa.Table]:
        """Every end state's output table, for the end states whose records were kept."""
        return {s: self.output(s) for s in self.end_states if s in self._collected}

    def errors(self) -> pa.Table:
        """Failed records: ``_row``, ``error_state``, ``error_type``, ``error_message`` and their input fields."""
        if self._errors is None:
            if self._collected_errors is not None:
                self._errors = _by_row(self._collected_errors.table())
            elif "errors" in self.paths:
                self._errors = _read_back(self.paths["errors"])
            else:
                self._errors = empty_rows()
        return self._errors

    # -- the status index ------------------------------------------------------------------
    def status_counts(self) -> dict[str, int]:
        """Records per status (``completed``, ``failed``, ...), read from the status index in O(1)."""
        return {k: int(v) for k, v in self.index.counts().items()}

    @property
    def status(self) -> np.ndarray:
        """Status code per input record, in input order (uint8, see :class:`~streamkit.EventStatus`)."""
        n = self.total_records
        return self.index.status_of(np.arange(n, dtype=np.int64)) if n else np.empty(0, np.uint8)

    def ids(self, status: str) -> np.ndarray:
        """Row ids (input positions), ascending, of a status (``"failed"``) or of an end state.

        Statuses come from the status index (O(k) for the statuses whose ids it
        keeps, a scan of its status column otherwise); an end state's ids from
        its output's ``_row`` column or the ids kept while the run streamed.
        """
        if status in self.end_states:
            return self._end_state_ids(status)
        return np.sort(self.index.ids(as_status(status)))

    def records(self, status: str) -> pa.Table:
        """The rows themselves: ``"failed"`` → the failed records with their errors (``errors()``);
        an end state → its output; ``"completed"`` → every end state's output, by ``_row``."""
        if status in self.end_states:
            return self.output(status)
        if status == "failed":
            return self.errors()
        if status == "completed":
            return concat_by_row([self.output(s) for s in self.end_states])
        if self.index.count(as_status(status)):  # skipped / cancelled records are kept with the failed ones
            errors = self.errors()
            rows = from_numpy(self.ids(status))
            return errors.filter(pc.is_in(errors.column(ROW_FIELD), value_set=rows))
        return empty_rows()

    def _end_state_ids(self, state: str) -> np.ndarray:
        if self._end_state_id_parts is None:
            return to_numpy(self.output(state).column(ROW_FIELD))
        parts = self._end_state_id_parts.get(state, [])
        return np.sort(np.concatenate(parts)) if parts else np.empty(0, np.int64)

    # -- views ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The counts as a plain dict."""
        return {k: getattr(self, k) for k in self._KEYS}

    def keys(self) -> tuple[str, ...]:
        """Keys of the dict view."""
        return self._KEYS

    def __getitem__(self, key: str) -> Any:
        if key not in self._KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self._KEYS

    def get(self, key: str, default: Any = None) -> Any:
        """Seed-style ``result.get("successful", 0)``."""
        return getattr(self, key) if key in self._KEYS else default

    def to_polars(self, end_state: str | None = None) -> Any:
        """One end state's output as a polars DataFrame, or all kept outputs with an ``_end_state`` column.

        polars has no union type: a column holding values of several types is
        given as their text.
        """
        import polars as pl

        if end_state is not None:
            return cast("pl.DataFrame", pl.from_arrow(without_unions(self.output(end_state))))
        frames = [
            cast("pl.DataFrame", pl.from_arrow(without_unions(t))).with_columns(pl.lit(s).alias("_end_state"))
            for s, t in self.outputs().items()
        ]
        return pl.concat(frames, how="diagonal_relaxed").sort(ROW_FIELD) if frames else pl.DataFrame()

    # -- pictures and the notebook view ----------------------------------------------------
    def diagram(self) -> Diagram:
        """The network(s) that ran, as a :class:`~streamkit.display.Diagram`, each state labelled with this run's
        counts: ``completed: n`` under each end state, ``failed: n`` under each state records failed in.

        A run counts records per end state and per failing state, not per arc, so
        the counts are on states (arcs keep their conditions). Failures per state
        are counted when the failed records are kept in memory; a pipeline is one
        frame per stage.

        Raises
        ------
        ValueError
            The result did not come from running a network (a runtime job's result).
        """
        if not self._stages:
            msg = "this result has no network to draw: it did not come from `process()` or `process_stream()`"
            raise ValueError(msg)
        last = len(self._stages) - 1
        notes: dict[tuple[int, str], list[str]] = {}
        for state, n in self.end_state_counts.items():
            notes.setdefault((last, state), []).append(f"completed: {n:,}")
        for (k, state), n in self._failed_by_state().items():
            notes.setdefault((k, state), []).append(f"failed: {n:,}")
        return stages_diagram([(s.name, s.network) for s in self._stages], notes=notes)

    def to_svg(self) -> str:
        """:meth:`diagram` as a standalone SVG document: the network with this run's counts under its states.

        Examples
        --------
        >>> from streamkit import SimpleFSM
        >>> divide = "lambda state: {'y': 10 // state.data['x']}"
        >>> fsm = SimpleFSM({"networks": [{"name": "main", "states": [
        ...     {"name": "in", "is_start": True, "functions": {"transform": divide}},
        ...     {"name": "out", "is_end": True}], "arcs": [{"from": "in", "to": "out"}]}]})
        >>> svg = fsm.process([{"x": 1}, {"x": 2}, {"x": 0}]).to_svg()
        >>> "completed: 2" in svg, "failed: 1" in svg
        (True, True)
        """
        return to_svg(self.diagram())

    def to_mermaid(self) -> str:
        """:meth:`diagram` as Mermaid text."""
        return to_mermaid(self.diagram())

    def _failed_by_state(self) -> dict[tuple[int, str], int]:
        """Failed records per (stage index, state), from the failed records kept in memory."""
        if self._collected_errors is None or not self._stages:
            return {}
        errors = self.errors()
        if "error_state" not in errors.column_names or not errors.num_rows:
            return {}
        names = {s.name: k for k, s in enumerate(self._stages)}
        out: dict[tuple[int, str], int] = {}
        for item in pc.value_counts(errors.column("error_state")).to_pylist():
            where, n = item["values"], item["counts"]
            if not isinstance(where, str):
                continue
            k = 0
            if len(self._stages) > 1:  # "<stage>.<state>"
                stage, _, where = where.partition(".")
                if stage not in names:
                    continue
                k = names[stage]
            if any(s.name == where for s in self._stages[k].network.network.states):
                out[k, where] = out.get((k, where), 0) + int(n)
        return out

    def _kept(self, end_state: str | None) -> pa.Table | str | None:
        """An output (``None``: the failed records) as kept: a table in memory, the file it was written to, or
        ``None`` when it went to another sink."""
        key = "errors" if end_state is None else end_state
        in_memory = self._collected_errors is not None if end_state is None else end_state in self._collected
        if in_memory:
            return self.errors() if end_state is None else self.output(end_state)
        return self.paths.get(key)

    def _repr_html_(self) -> str:
        fields: list[tuple[str, object]] = [
            ("records", f"{self.total_records:,}"),
            ("successful", f"{self.successful:,}"),
            ("failed", f"{self.failed:,}"),
            ("skipped", f"{self.skipped:,}" if self.skipped else None),
            ("cancelled", f"{self.cancelled:,}" if self.cancelled else None),
            ("malformed", f"{self.malformed:,}" if self.malformed else None),
            ("duration", f"{self.duration:.3f} s"),
            ("throughput", f"{self.records_per_second:,.0f} records/s"),
            ("chunks", f"{self.chunks_processed:,}"),
            ("stopped by", self.stopped_by),
        ]
        counts = {**self.end_state_counts, "failed": self.failed}
        outputs = {s: self._kept(s) for s in self.end_states}
        return result_html("RunResult", fields, counts, outputs, self._kept(None), self.warnings)

    def __repr__(self) -> str:
        return (
            f"RunResult(total_records={self.total_records}, successful={self.successful}, "
            f"failed={self.failed}, end_state_counts={self.end_state_counts})"
        )


def _read_back(path: str) -> pa.Table:
    with open_source(Path(path), chunk_size=1 << 20) as src:
        tables = [pa.Table.from_batches([b]) for ch in src.chunks() for b, _ in ch.parts]
    return concat_by_row(tables)


def _by_row(table: pa.Table) -> pa.Table:
    """Collected rows in input order (chunks are written as they finish with ``preserve_order=False``).

    Every batch the engine writes is in ``_row`` order, so only the order of the batches is checked.
    """
    return sort_by_row(table, chunks_sorted=True) if ROW_FIELD in table.column_names else empty_rows()
