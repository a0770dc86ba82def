"""The runtime (seed 001): long-lived workers for flows, jobs posted into them, worker state and job context.

- :class:`Routine`, :class:`Flow`, :class:`FlowRegistry` (:mod:`.routine`): logic with slots and events, wired;
- the activation policies (:mod:`.policies`): when queued data runs;
- :class:`Runtime` (:mod:`.runtime`): workers, ``post``, jobs that finish by themselves, counts in O(1);
- :class:`WorkerState` (:mod:`.state`), :class:`JobContext` and :func:`get_current_job` (:mod:`.jobs`);
- :class:`NetworkFlow` (:mod:`.network`): a compiled network as a flow, many jobs' records run together.
"""

from streamkit.runtime.jobs import JobContext, get_current_job
from streamkit.runtime.network import NetworkFlow
from streamkit.runtime.policies import (
    all_slots_ready_policy,
    batch_size_policy,
    immediate_policy,
    time_interval_policy,
)
from streamkit.runtime.routine import Flow, FlowRegistry, Routine
from streamkit.runtime.runtime import Runtime
from streamkit.runtime.state import WorkerState
from streamkit.runtime.worker import QueueFullError, RuntimeClosedError

__all__ = (
    "Flow",
    "FlowRegistry",
    "JobContext",
    "NetworkFlow",
    "QueueFullError",
    "Routine",
    "Runtime",
    "RuntimeClosedError",
    "WorkerState",
    "all_slots_ready_policy",
    "batch_size_policy",
    "get_current_job",
    "immediate_policy",
    "time_interval_policy",
)
