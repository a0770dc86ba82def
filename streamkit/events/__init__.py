"""Events (seed 003): units of Python work that states of a network run per record.

- :class:`EventBase`, :func:`event`, :class:`DefaultExecutor`
  (:mod:`streamkit.events.base`): what an event is and how ``process`` takes a record;
- :class:`RetryPolicy`, :class:`ExecutorInitializerConfig`,
  :class:`EventExecutionEvaluationState` (:mod:`streamkit.events.policy`): how it runs;
- :mod:`streamkit.events.runner`: attempts over a group of records, with retries
  that never hold a thread asleep, inline or in a pool.
"""

from streamkit.events.base import DefaultExecutor, EventBase, event
from streamkit.events.policy import EventExecutionEvaluationState, ExecutorInitializerConfig, RetryPolicy

__all__ = (
    "DefaultExecutor",
    "EventBase",
    "EventExecutionEvaluationState",
    "ExecutorInitializerConfig",
    "RetryPolicy",
    "event",
)
