"""Status queries shared by the results of :meth:`SimpleFSM.process` and of streams."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from streamkit.status import StatusIndex
from streamkit.tables import concat_by_row

__all__ = ("StatusQueries",)


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
