"""A run's state (seed 004): a type that decides finality and success, and a name that is only a label.

A target may end its run in a state of its own, e.g. ``State(type=StateType.COMPLETED,
name="Cached")``: that run succeeded, though its state is not named ``"Completed"``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ("StateType", "State", "FINAL_TYPES")


class StateType(enum.Enum):
    """The kinds of state a run passes through; the last four are final."""

    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    CRASHED = "CRASHED"


#: The state types a run ends in.
FINAL_TYPES = frozenset({StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED})


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class State:
    """A run's state: ``type`` (what it means), ``name`` (the label logs show; the type's, capitalized, by
    default), ``message``, ``timestamp`` (UTC) and ``data`` (what a target attached).

    Examples
    --------
    >>> s = State(type=StateType.COMPLETED, name="Cached")
    >>> s.name, s.is_final(), s.is_completed(), s.is_failed()
    ('Cached', True, True, False)
    >>> State(StateType.RUNNING).name, State(StateType.RUNNING).is_final()
    ('Running', False)
    """

    type: StateType
    name: str = ""
    message: str | None = None
    timestamp: datetime = field(default_factory=_now)
    data: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.type, StateType):
            try:
                object.__setattr__(self, "type", StateType(str(self.type).upper()))
            except ValueError:
                kinds = ", ".join(t.value for t in StateType)
                msg = f"unknown state type {self.type!r} (types: {kinds})"
                raise ValueError(msg) from None
        if not self.name:
            object.__setattr__(self, "name", self.type.value.capitalize())

    def is_final(self) -> bool:
        """Whether the run has ended (completed, failed, cancelled or crashed)."""
        return self.type in FINAL_TYPES

    def is_scheduled(self) -> bool:
        """Whether the run waits to be started."""
        return self.type is StateType.SCHEDULED

    def is_pending(self) -> bool:
        """Whether the run waits for a free slot of its deployment."""
        return self.type is StateType.PENDING

    def is_running(self) -> bool:
        """Whether the run is running."""
        return self.type is StateType.RUNNING

    def is_completed(self) -> bool:
        """Whether the run succeeded (any state of type COMPLETED, whatever its name)."""
        return self.type is StateType.COMPLETED

    def is_failed(self) -> bool:
        """Whether the run failed."""
        return self.type is StateType.FAILED

    def is_cancelled(self) -> bool:
        """Whether the run was cancelled."""
        return self.type is StateType.CANCELLED

    def is_crashed(self) -> bool:
        """Whether the run crashed (its target raised something that is not an ``Exception``)."""
        return self.type is StateType.CRASHED

    def __repr__(self) -> str:
        return f"State({self.type.value}, name={self.name!r})"
