"""Events (seed 003): units of Python work inside networks, with executors and retries.

This package holds how an event is run: its :class:`RetryPolicy`, its
executor's :class:`ExecutorInitializerConfig` and the
:class:`EventExecutionEvaluationState` of a parallel group
(:mod:`streamkit.events.policy`).
"""

from streamkit.events.policy import EventExecutionEvaluationState, ExecutorInitializerConfig, RetryPolicy

__all__ = ("EventExecutionEvaluationState", "ExecutorInitializerConfig", "RetryPolicy")
