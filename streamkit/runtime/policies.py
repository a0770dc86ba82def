"""Activation policies (seed 001): when a routine's queued data runs, and which of it.

A policy is a callable ``(slots, worker_state) -> (activate, {slot: [data, ...]}, message)``.
``slots`` maps each slot name to a read-only list of ``(job_id, data)`` in
arrival order; the data a policy returns are taken from the front of those
lists and belong to one job (an activation never mixes jobs). The built-in
policies also say how a job's leftovers run once nothing upstream can add to
the job (``flush``), so every job completes.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = (
    "Policy",
    "immediate_policy",
    "batch_size_policy",
    "time_interval_policy",
    "all_slots_ready_policy",
    "take_front",
    "as_policy",
)

Slots = Mapping[str, Sequence[tuple[str, Any]]]
Decision = tuple[bool, dict[str, list[Any]], Any]


class Policy:
    """A built-in policy: ``__call__(slots, worker_state)`` decides; ``flush`` runs a finished job's leftovers."""

    def __call__(self, slots: Slots, worker_state: Any) -> Decision:
        raise NotImplementedError

    def flush(self, slots: Slots, job_id: str) -> dict[str, list[Any]] | None:
        """What of ``job_id`` is left to run once nothing upstream can add to it (``None``: nothing)."""
        taken = {name: [d for j, d in items if j == job_id] for name, items in slots.items()}
        return {k: v for k, v in taken.items() if v} or None


def take_front(slots: Slots, count: Mapping[str, int] | None = None) -> tuple[str | None, dict[str, list[Any]]]:
    """The data of the front item's job, from the front of each slot (at most ``count[slot]`` per slot)."""
    job = None
    for items in slots.values():
        if items:
            job = items[0][0]
            break
    if job is None:
        return None, {}
    out: dict[str, list[Any]] = {}
    for name, items in slots.items():
        limit = None if count is None else count.get(name)
        got: list[Any] = []
        for j, d in items:
            if j != job or (limit is not None and len(got) >= limit):
                break
            got.append(d)
        if got:
            out[name] = got
    return job, out


class _Immediate(Policy):
    def __call__(self, slots: Slots, worker_state: Any) -> Decision:
        for name, items in slots.items():
            if items:
                return True, {name: [items[0][1]]}, None
        return False, {}, None


def immediate_policy() -> Policy:
    """Run each item as it arrives: one item (of one slot) per activation."""
    return _Immediate()


class _BatchSize(Policy):
    def __init__(self, n: int) -> None:
        if n < 1:
            msg = f"batch size must be >= 1, got {n}"
            raise ValueError(msg)
        self.n = n

    def __call__(self, slots: Slots, worker_state: Any) -> Decision:
        for name, items in slots.items():
            if len(items) < self.n:
                continue
            front = list(itertools.islice(items, self.n))
            job = front[0][0]
            if all(j == job for j, _ in front):
                return True, {name: [d for _, d in front]}, {"batch_size": self.n}
        return False, {}, None


def batch_size_policy(n: int) -> Policy:
    """Run ``n`` items of one job at a time; a job's leftovers run together once the job can get no more."""
    return _BatchSize(n)


class _TimeInterval(Policy):
    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self.last = time.monotonic()

    def __call__(self, slots: Slots, worker_state: Any) -> Decision:
        now = time.monotonic()
        if now - self.last < self.seconds:
            return False, {}, None
        job, data = take_front(slots)
        if job is None:
            self.last = now
            return False, {}, None
        return True, data, {"interval": self.seconds}

    def due_in(self) -> float:
        """Seconds until the next activation may run."""
        return max(0.0, self.seconds - (time.monotonic() - self.last))


def time_interval_policy(seconds: float) -> Policy:
    """Every ``seconds``, what is queued runs: one activation per job."""
    return _TimeInterval(seconds)


class _AllSlotsReady(Policy):
    def __call__(self, slots: Slots, worker_state: Any) -> Decision:
        if not slots or any(not items for items in slots.values()):
            return False, {}, None
        for job, _ in next(iter(slots.values())):
            firsts = {}
            for name, items in slots.items():
                hit = next((d for j, d in items if j == job), _NONE)
                if hit is _NONE:
                    break
                firsts[name] = [hit]
            else:
                return True, firsts, None
        return False, {}, None

    def flush(self, slots: Slots, job_id: str) -> dict[str, list[Any]] | None:
        # a job whose slots can no longer all fill: what it has runs together
        return super().flush(slots, job_id)


_NONE = object()


def all_slots_ready_policy() -> Policy:
    """Run when every slot holds an item of the same job: one item of each."""
    return _AllSlotsReady()


def as_policy(policy: Callable[..., Any] | None) -> Callable[..., Any]:
    """A routine's policy (``None``: immediate)."""
    return immediate_policy() if policy is None else policy
