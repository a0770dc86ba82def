"""The Python plan: a state run record by record through the reference interpreter's step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from streamkit._arrow.records import add_to_type_group
from streamkit.fsm.columns import py_column
from streamkit.fsm.plans.base import BatchContext, Exits, Failure, Group, Move

__all__ = ("PythonPlan",)


@dataclass(eq=False)
class PythonPlan:
    """A state that runs as per-record Python, and why.

    Each record is given to the state's transform and conditions as ``state.data``
    (a dict of its non-null fields), exactly as
    :meth:`~streamkit.fsm.interpret.PyNetwork.step` defines the semantics. The
    records that move on are turned back into columns, one group per target state
    and per typing of their fields (one Arrow column holds one type).
    """

    reason: str
    backend: str = "python"

    def run(self, group: Group, ctx: BatchContext) -> Exits:
        """Run every record of the group through the state in Python."""
        name = ctx.state_names[group.state]
        step = ctx.py.step
        bad: list[int] = []
        bad_types: list[str] = []
        bad_msgs: list[str] = []
        # by the state each record goes to next (None: it ended here), then by the types of its fields
        by_target: dict[str | None, list[tuple[dict[str, type], list[int], list[dict[str, Any]]]]] = {}
        for t, data in enumerate(group.records()):
            out = step(name, data)
            if out.data is None:
                bad.append(t)
                bad_types.append(out.error_type or "Error")
                bad_msgs.append(out.error_message or "")
                continue
            add_to_type_group(by_target.setdefault(out.next_state, []), t, out.data)
        rows = np.arange(group.n) if group.rows is None else group.rows
        exits = Exits()
        if bad:
            exits.failures.append(Failure(rows[np.array(bad, np.int64)], group.state, bad_types, bad_msgs))
        for target, typed in by_target.items():
            k = group.state if target is None else ctx.index[target]
            for _, ts, records in typed:
                keys: dict[str, None] = {}
                for r in records:
                    keys.update(dict.fromkeys(r))
                frame = {f: py_column([r.get(f) for r in records]) for f in keys}
                frame = {f: c for f, c in frame.items() if c.kind != "null"}
                exits.moves.append(Move(k, target is None, rows[np.array(ts, np.int64)], frame))
        return exits
