"""How an event is run: its retries, its executor's settings, and a parallel group's outcome.

:class:`RetryPolicy`, :class:`ExecutorInitializerConfig` and
:class:`EventExecutionEvaluationState` are the settings seed 003 gives an event.
The behaviour is fixed where the seed is silent or its library is wrong
(``SEED-APIS.md`` § 003):

- the wait before retry ``k`` (``k = 1, 2, ...``) is
  ``min(max_backoff, backoff_factor * 2 ** (k - 1))`` — 1, 2, 4 s for a factor
  of 1.0 — and there is no wait after the last attempt;
- ``retry_on_exceptions`` matches subclasses; empty means every ``Exception``;
- a policy given as a dict takes ``max_attempts=1``, ``backoff_factor=0.1`` and
  ``max_backoff=10.0`` for the fields it leaves out; unknown keys are errors;
- an executor configuration holds every option of either pool; each pool gets
  the options it takes (:meth:`ExecutorInitializerConfig.pool_kwargs`) and the
  others are ignored.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from streamkit.errors import did_you_mean

__all__ = ("RetryPolicy", "ExecutorInitializerConfig", "EventExecutionEvaluationState")


def _unknown_keys(kind: str, given: Mapping[str, Any], known: Sequence[str]) -> None:
    for key in given:
        if key not in known:
            msg = f"{kind}: unknown option {key!r}{did_you_mean(str(key), known)}; options are {', '.join(known)}"
            raise ValueError(msg)


@dataclass(frozen=True)
class RetryPolicy:
    """When and how often an event that raises is tried again.

    Parameters
    ----------
    max_attempts:
        All attempts, the first one included (1: no retry).
    backoff_factor:
        Seconds before the first retry; each later wait doubles.
    max_backoff:
        The longest wait, in seconds.
    retry_on_exceptions:
        Exception classes that are retried, subclasses included; empty: every ``Exception``.

    Examples
    --------
    >>> p = RetryPolicy(max_attempts=4, backoff_factor=1.0, max_backoff=3.0)
    >>> p.waits()
    (1.0, 2.0, 3.0)
    >>> p.retries_on(ConnectionResetError()), RetryPolicy(retry_on_exceptions=[OSError]).retries_on(KeyError())
    (True, False)
    >>> RetryPolicy.of({"max_attempts": 3})
    RetryPolicy(max_attempts=3, backoff_factor=0.1, max_backoff=10.0, retry_on_exceptions=())
    """

    max_attempts: int = 1
    backoff_factor: float = 0.1
    max_backoff: float = 10.0
    retry_on_exceptions: tuple[type[BaseException], ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int) or self.max_attempts < 1:
            msg = f"RetryPolicy: max_attempts must be an integer >= 1, got {self.max_attempts!r}"
            raise ValueError(msg)
        for name in ("backoff_factor", "max_backoff"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                msg = f"RetryPolicy: {name} must be a number of seconds >= 0, got {value!r}"
                raise ValueError(msg)
            object.__setattr__(self, name, float(value))
        kinds = self.retry_on_exceptions
        if kinds is None:
            kinds = ()
        elif isinstance(kinds, type):
            kinds = (kinds,)
        kinds = tuple(kinds)
        for k in kinds:
            if not (isinstance(k, type) and issubclass(k, BaseException)):
                msg = f"RetryPolicy: retry_on_exceptions must list exception classes, got {k!r}"
                raise ValueError(msg)
        object.__setattr__(self, "retry_on_exceptions", kinds)

    @classmethod
    def of(cls, value: RetryPolicy | Mapping[str, Any] | None) -> RetryPolicy:
        """A policy from an instance, a dict (missing fields take the defaults) or ``None`` (no retry)."""
        if value is None:
            return cls()
        if isinstance(value, RetryPolicy):
            return value
        if isinstance(value, Mapping):
            _unknown_keys("RetryPolicy", value, [f.name for f in fields(cls)])
            return cls(**value)
        msg = f"a retry policy is a RetryPolicy or a dict, got {type(value).__name__}"
        raise TypeError(msg)

    def wait(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the second attempt)."""
        if retry < 1:
            msg = f"retries are counted from 1, got {retry}"
            raise ValueError(msg)
        return min(self.max_backoff, self.backoff_factor * 2.0 ** (retry - 1))

    def waits(self) -> tuple[float, ...]:
        """The wait before each retry, in order (``max_attempts - 1`` of them: none after the last attempt)."""
        return tuple(self.wait(k) for k in range(1, self.max_attempts))

    def retries_on(self, exc: BaseException) -> bool:
        """Whether an attempt that raised ``exc`` may be tried again (if attempts are left)."""
        return isinstance(exc, self.retry_on_exceptions or (Exception,))

    def retry_after(self, exc: BaseException, attempt: int) -> float | None:
        """Seconds to wait before trying again after attempt number ``attempt`` raised ``exc``; ``None``: give up."""
        if attempt >= self.max_attempts or not self.retries_on(exc):
            return None
        return self.wait(attempt)


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ExecutorInitializerConfig:
    """How an event's executor (a thread or process pool) is made.

    Every field is optional. ``max_workers`` defaults to the cores this process
    may use; ``max_tasks_per_child`` (process pools only) to workers that live
    for the whole run; ``thread_name_prefix`` (thread pools only) to the pool's
    own names. Options a pool does not take are ignored.

    Examples
    --------
    >>> c = ExecutorInitializerConfig.of({"max_workers": 4, "max_tasks_per_child": 50, "thread_name_prefix": "ev_"})
    >>> c.pool_kwargs(ThreadPoolExecutor)
    {'max_workers': 4, 'thread_name_prefix': 'ev_'}
    >>> sorted(c.pool_kwargs(ProcessPoolExecutor))
    ['max_tasks_per_child', 'max_workers']
    """

    max_workers: int | None = None
    max_tasks_per_child: int | None = None
    thread_name_prefix: str | None = None
    initializer: Callable[..., Any] | None = None
    initargs: tuple[Any, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("max_workers", "max_tasks_per_child"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                msg = f"ExecutorInitializerConfig: {name} must be a positive integer, got {value!r}"
                raise ValueError(msg)
        if self.thread_name_prefix is not None and not isinstance(self.thread_name_prefix, str):
            msg = f"ExecutorInitializerConfig: thread_name_prefix must be text, got {self.thread_name_prefix!r}"
            raise ValueError(msg)
        if self.initializer is not None and not callable(self.initializer):
            msg = f"ExecutorInitializerConfig: initializer must be callable, got {self.initializer!r}"
            raise ValueError(msg)
        object.__setattr__(self, "initargs", tuple(self.initargs))

    @classmethod
    def of(cls, value: ExecutorInitializerConfig | Mapping[str, Any] | None) -> ExecutorInitializerConfig:
        """A configuration from an instance, a dict or ``None`` (every default)."""
        if value is None:
            return cls()
        if isinstance(value, ExecutorInitializerConfig):
            return value
        if isinstance(value, Mapping):
            _unknown_keys("ExecutorInitializerConfig", value, [f.name for f in fields(cls)])
            return cls(**value)
        msg = f"an executor configuration is an ExecutorInitializerConfig or a dict, got {type(value).__name__}"
        raise TypeError(msg)

    @property
    def workers(self) -> int:
        """The number of workers a pool gets: ``max_workers``, else the usable cores."""
        return self.max_workers if self.max_workers is not None else _cores()

    def pool_kwargs(self, pool: type) -> dict[str, Any]:
        """The keyword arguments ``pool`` (a ``ThreadPoolExecutor`` or ``ProcessPoolExecutor`` class) takes."""
        kwargs: dict[str, Any] = {"max_workers": self.workers}
        if issubclass(pool, ThreadPoolExecutor) and self.thread_name_prefix is not None:
            kwargs["thread_name_prefix"] = self.thread_name_prefix
        elif issubclass(pool, ProcessPoolExecutor) and self.max_tasks_per_child is not None:
            kwargs["max_tasks_per_child"] = self.max_tasks_per_child
        if self.initializer is not None:
            kwargs["initializer"] = self.initializer
            kwargs["initargs"] = self.initargs
        return kwargs


class EventExecutionEvaluationState(enum.Enum):
    """How a parallel group's outcome follows from its events' outcomes, per record.

    ===============================  ======================================
    state                            the group succeeds when
    ===============================  ======================================
    ``SUCCESS_ON_ALL_EVENTS_SUCCESS`` every event succeeded (the default)
    ``FAILURE_FOR_PARTIAL_ERROR``     every event succeeded
    ``SUCCESS_FOR_PARTIAL_SUCCESS``   at least one event succeeded
    ``FAILURE_FOR_ALL_EVENTS_FAILURE`` at least one event succeeded
    ===============================  ======================================

    Examples
    --------
    >>> EventExecutionEvaluationState.SUCCESS_FOR_PARTIAL_SUCCESS.succeeds([False, True])
    True
    >>> EventExecutionEvaluationState.default().succeeds([False, True])
    False
    """

    SUCCESS_ON_ALL_EVENTS_SUCCESS = "SUCCESS_ON_ALL_EVENTS_SUCCESS"
    FAILURE_FOR_PARTIAL_ERROR = "FAILURE_FOR_PARTIAL_ERROR"
    SUCCESS_FOR_PARTIAL_SUCCESS = "SUCCESS_FOR_PARTIAL_SUCCESS"
    FAILURE_FOR_ALL_EVENTS_FAILURE = "FAILURE_FOR_ALL_EVENTS_FAILURE"

    @classmethod
    def default(cls) -> EventExecutionEvaluationState:
        """``SUCCESS_ON_ALL_EVENTS_SUCCESS``."""
        return cls.SUCCESS_ON_ALL_EVENTS_SUCCESS

    @classmethod
    def of(cls, value: EventExecutionEvaluationState | str | None) -> EventExecutionEvaluationState:
        """A state from a member, its name (as a config names it) or ``None`` (the default)."""
        if value is None:
            return cls.default()
        if isinstance(value, cls):
            return value
        if isinstance(value, str) and value in cls.__members__:
            return cls[value]
        names = list(cls.__members__)
        msg = f"unknown evaluation state {value!r}{did_you_mean(str(value), names)}; states are {', '.join(names)}"
        raise ValueError(msg)

    @property
    def needs_all(self) -> bool:
        """Whether every event must succeed (else: at least one)."""
        return self in (
            EventExecutionEvaluationState.SUCCESS_ON_ALL_EVENTS_SUCCESS,
            EventExecutionEvaluationState.FAILURE_FOR_PARTIAL_ERROR,
        )

    def succeeds(self, outcomes: Iterable[bool]) -> bool:
        """The group's outcome for one record from its events' outcomes (at least one)."""
        got = [bool(x) for x in outcomes]
        if not got:
            msg = "a parallel group has at least one event"
            raise ValueError(msg)
        return all(got) if self.needs_all else any(got)

    def succeeds_each(self, outcomes: np.ndarray) -> np.ndarray:
        """Per record, the group's outcome: ``outcomes`` is bool, one row per event and one column per record."""
        ok = np.asarray(outcomes, dtype=np.bool_)
        if ok.ndim != 2 or ok.shape[0] == 0:
            msg = f"outcomes must be (events, records) with at least one event, got shape {ok.shape}"
            raise ValueError(msg)
        return np.asarray(ok.all(axis=0) if self.needs_all else ok.any(axis=0))
