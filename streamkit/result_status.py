"""Status queries shared by the results of :meth:`SimpleFSM.process` and of streams."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from streamkit.status import StatusIndex
from streamkit.tables import concat_by_row

__all__ = ("StatusQueries", "ResultViews")


class StatusQueries:
    """``status_counts()``, ``ids(...)`` and ``records(...)`` over a run's :class:`~streamkit.StatusIndex`.

    A class using it provides ``index``, ``end_states``, ``output(state)``,
    ``errors()`` and ``_end_state_ids(state)``.
    """

    index: StatusIndex
    end_states: list[str]

    def status_counts(self) -> dict[str, int]:
        """Records per status (``completed``, ``failed``, ...), read from the status index in O(1)."""
        return {k: int(v) for k, v in self.index.counts().items()}

    def ids(self, status: str) -> np.ndarray:
        """Row ids (input positions), ascending, of a status (``"failed"``) or of an end state.

        Failed ids come from the status index in O(k); an end state's from its
        output's ``_row`` column or the ids kept while the run streamed.
        """
        if status in self.end_states:
            return self._end_state_ids(status)
        return np.sort(self.index.ids(status))

    def records(self, status: str) -> pa.Table:
        """The rows themselves: ``"failed"`` → the failed records with their errors (``errors()``);
        an end state → its output; ``"completed"`` → every end state's output, by ``_row``."""
        if status in self.end_states:
            return self.output(status)  # type: ignore[attr-defined]
        if status == "failed":
            return self.errors()  # type: ignore[attr-defined]
        if status == "completed":
            return concat_by_row([self.output(s) for s in self.end_states])  # type: ignore[attr-defined]
        count = self.index.count(status)  # raises on a name that is no status
        if count:
            msg = f"{count} records are {status!r}, but their rows are not kept"
            raise KeyError(msg)
        return concat_by_row([])

    def _end_state_ids(self, state: str) -> np.ndarray:
        return self.output(state).column("_row").to_numpy()  # type: ignore[attr-defined]


class ResultViews(StatusQueries):
    """Seed-style dict access to a result's counts (``result["failed"]``) and polars views.

    A class using it lists its counts in ``_KEYS`` and provides ``output(state)``
    and ``outputs()``.
    """

    _KEYS: tuple[str, ...] = ()

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
        """One end state's output as a polars DataFrame, or all kept outputs with an ``_end_state`` column."""
        import polars as pl

        if end_state is not None:
            return pl.from_arrow(self.output(end_state))  # type: ignore[attr-defined]
        frames = [pl.from_arrow(t).with_columns(pl.lit(s).alias("_end_state"))
                  for s, t in self.outputs().items()]  # type: ignore[attr-defined]
        return pl.concat(frames, how="diagonal_relaxed").sort("_row") if frames else pl.DataFrame()
