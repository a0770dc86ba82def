"""Events: units of Python work a state runs per record (seed 003).

An event is a subclass of :class:`EventBase` that defines ``process``, or a
function turned into one by :func:`event`. Its class attributes say how it
runs: ``executor`` (:class:`DefaultExecutor`, inline, unless a
``ThreadPoolExecutor`` or ``ProcessPoolExecutor`` class is named),
``executor_config``, ``retry_policy``, ``execution_evaluation_state`` and the
stop flags. ``process`` returns ``(ok, result)``; how its arguments are bound to
a record's fields is :class:`Binding`'s.

Examples
--------
>>> class Greet(EventBase):
...     def process(self, name, record, greeting="hello"):
...         return True, {"text": f"{greeting} {name}", "n_fields": len(record)}
>>> rec = {"name": "ada", "age": 36}
>>> b = Binding.of(Greet().process, ("name", "age"))
>>> Greet().process(*b.args(rec), **b.kwargs(rec))
(True, {'text': 'hello ada', 'n_fields': 2})
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from streamkit._owner import RECORD, current_owner
from streamkit.events.policy import EventExecutionEvaluationState, ExecutorInitializerConfig, RetryPolicy

__all__ = (
    "EventBase",
    "DefaultExecutor",
    "event",
    "Binding",
    "Goto",
    "ExecutionContext",
    "is_event",
    "network_of",
    "set_runner",
)


class DefaultExecutor:
    """The executor of an event that runs inline, in the engine's own worker thread (the default)."""


class Goto(Exception):  # a signal raised by EventBase.goto, never an error the user sees
    """Raised by :meth:`EventBase.goto`: the record leaves by the arc whose ``on`` is ``descriptor``."""

    def __init__(self, descriptor: Any, result_status: bool, result: Any, reason: str) -> None:  # noqa: FBT001
        super().__init__(f"goto {descriptor!r} ({reason})")
        self.descriptor = descriptor
        self.result_status = bool(result_status)
        self.result = result
        self.reason = reason


class ExecutionContext(Mapping[str, Any]):
    """What ``self._execution_context`` shows inside ``process``: the record's fields, its state and row.

    ``job`` is the runtime job the record belongs to (``None`` outside a runtime job).

    Fields read as attributes or keys; a missing field reads ``None``.

    Examples
    --------
    >>> c = ExecutionContext({"role": "admin"}, state="validate", row=3)
    >>> c.role, c["role"], c.missing, c.state, c.row
    ('admin', 'admin', None, 'validate', 3)
    """

    __slots__ = ("_fields", "job", "row", "state")

    def __init__(self, fields: Mapping[str, Any], *, state: str | None = None, row: int | None = None) -> None:
        self._fields = fields
        self.state = state
        self.row = row
        self.job: Any = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._fields.get(name)

    def __getitem__(self, key: str) -> Any:
        return self._fields.get(key)

    def __iter__(self) -> Any:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"ExecutionContext(state={self.state!r}, row={self.row!r}, fields={dict(self._fields)!r})"


class EventBase:
    """A unit of Python work run once per record by a state (``"event": MyEvent`` in a config).

    Subclasses define ``process(self, ...) -> (ok, result)``; see the module
    docstring for how arguments are bound and results merged. Class attributes:

    ``executor``
        :class:`DefaultExecutor` (inline), or the ``ThreadPoolExecutor`` /
        ``ProcessPoolExecutor`` class; the pool lives for the whole run.
    ``executor_config``
        An :class:`~streamkit.events.ExecutorInitializerConfig` or a dict.
    ``retry_policy``
        A :class:`~streamkit.events.RetryPolicy` or a dict (``None``: no retry).
    ``execution_evaluation_state``
        How a parallel group led by this event decides its outcome.
    ``stop_on_exception``, ``stop_on_success``, ``stop_on_error``
        Stop the run when the event raises, succeeds or fails (also constructor keywords).
    ``result_field``
        The field a result that is not a mapping is stored in (``"result"``).
    """

    executor: ClassVar[Any] = DefaultExecutor
    executor_config: ClassVar[Any] = None
    retry_policy: ClassVar[Any] = None
    execution_evaluation_state: ClassVar[Any] = None
    stop_on_exception: bool = False
    stop_on_success: bool = False
    stop_on_error: bool = False
    result_field: ClassVar[str] = "result"

    def __init__(
        self,
        *args: Any,
        stop_on_exception: bool | None = None,
        stop_on_success: bool | None = None,
        stop_on_error: bool | None = None,
        **kwargs: Any,
    ) -> None:
        self.args = args
        self.kwargs = kwargs
        if stop_on_exception is not None:
            self.stop_on_exception = bool(stop_on_exception)
        if stop_on_success is not None:
            self.stop_on_success = bool(stop_on_success)
        if stop_on_error is not None:
            self.stop_on_error = bool(stop_on_error)

    # the record being processed, per thread (a thread pool runs one instance on many records at
    # once): kept as (record, state, row) and made an ExecutionContext only when code asks for it
    # (the same per-thread record the runtime reads to tell whose record it is)
    _contexts: ClassVar[threading.local] = RECORD

    @property
    def _execution_context(self) -> ExecutionContext:
        cur = getattr(EventBase._contexts, "current", None)
        if cur is None:
            return ExecutionContext({})
        if isinstance(cur, ExecutionContext):
            return cur
        ctx = ExecutionContext(cur[0], state=cur[1], row=cur[2])
        ctx.job = current_owner()
        EventBase._contexts.current = ctx
        return ctx

    @_execution_context.setter
    def _execution_context(self, ctx: ExecutionContext) -> None:
        EventBase._contexts.current = ctx

    @property
    def execution_context(self) -> ExecutionContext:
        """The record being processed (see :class:`ExecutionContext`); also ``self._execution_context``."""
        return self._execution_context

    def process(self, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
        """Process one record: ``(ok, result)``. Subclasses define it."""
        msg = f"{type(self).__name__} defines no process()"
        raise NotImplementedError(msg)

    def can_bypass_current_event(self) -> tuple[bool, Any]:
        """``(True, data)`` skips ``process`` for the current record (``data`` is merged like a result)."""
        return False, None

    def run(self, records: Any, **options: Any) -> Any:
        """Run this event over ``records`` as a network of one state (named after the class).

        ``records`` is anything ``SimpleFSM.process`` reads; ``options`` are
        ``SimpleFSM``'s (``chunk_size``, ``parallelism``, ...). Returns the run's
        :class:`~streamkit.RunResult`: the records the event succeeded on are the
        state's output, the others its failed records (``errors()``, with ``attempts``).
        """
        if _RUNNERS["sync"] is None:
            msg = "events run through the engine: import streamkit first"
            raise RuntimeError(msg)
        return _RUNNERS["sync"](self, records, options)

    async def run_async(self, records: Any, **options: Any) -> Any:
        """:meth:`run` for async code (the engine's work runs off the event loop)."""
        if _RUNNERS["async"] is None:
            msg = "events run through the engine: import streamkit first"
            raise RuntimeError(msg)
        return await _RUNNERS["async"](self, records, options)

    def goto(self, descriptor: Any, result_status: bool = True, result: Any = None, reason: str = "manual") -> None:  # noqa: FBT001, FBT002
        """Leave ``process`` now: the record takes the arc whose ``on`` is ``descriptor``, with ``result`` merged."""
        raise Goto(descriptor, result_status, result, reason)

    # -- settings, resolved once ---------------------------------------------------------------
    @classmethod
    def bypasses(cls) -> bool:
        """Whether the class defines its own ``can_bypass_current_event`` (else it is never called)."""
        return cls.can_bypass_current_event is not EventBase.can_bypass_current_event

    @classmethod
    def policy(cls) -> RetryPolicy:
        """The event's retry policy."""
        return RetryPolicy.of(cls.retry_policy)

    @classmethod
    def pool_config(cls) -> ExecutorInitializerConfig:
        """The event's executor settings."""
        return ExecutorInitializerConfig.of(cls.executor_config)

    @classmethod
    def evaluation(cls) -> EventExecutionEvaluationState:
        """How a parallel group this event leads decides its outcome."""
        return EventExecutionEvaluationState.of(cls.execution_evaluation_state)


#: How :meth:`EventBase.run` reaches the engine, which sits above this module (set by ``streamkit.api``
#: and ``streamkit.async_api`` when they load; nothing else changes it).
_RUNNERS: dict[str, Any] = {"sync": None, "async": None}


def set_runner(kind: str, fn: Callable[..., Any]) -> None:
    """Register the engine's way to run an event over records (``kind``: ``"sync"`` or ``"async"``)."""
    if kind not in _RUNNERS:
        msg = f"kind must be 'sync' or 'async', got {kind!r}"
        raise ValueError(msg)
    _RUNNERS[kind] = fn


def network_of(ev: EventBase) -> dict[str, Any]:
    """The config of a network of one state that runs ``ev`` (start and end: its successes complete)."""
    name = type(ev).__name__
    return {
        "name": name,
        "networks": [{"name": name, "states": [{"name": name, "is_start": True, "is_end": True, "event": ev}]}],
    }


def is_event(obj: Any) -> bool:
    """Whether ``obj`` is an event class (an :class:`EventBase` subclass, as ``@event`` makes)."""
    return isinstance(obj, type) and issubclass(obj, EventBase) and obj is not EventBase


def event(
    fn: Callable[..., Any] | None = None,
    *,
    executor: Any = DefaultExecutor,
    executor_config: Any = None,
    retry_policy: Any = None,
    execution_evaluation_state: Any = None,
    stop_on_exception: bool = False,
    stop_on_success: bool = False,
    stop_on_error: bool = False,
    result_field: str = "result",
) -> Any:
    """Turn ``def f(record_or_fields...) -> (ok, result)`` into an event class, usable wherever one is.

    Examples
    --------
    >>> @event(retry_policy={"max_attempts": 3})
    ... def check(amount):
    ...     return amount > 0, "checked"
    >>> is_event(check), check.policy().max_attempts, check.__name__
    (True, 3, 'check')
    >>> check().process(amount=5)
    (True, 'checked')
    """
    settings = {
        "executor": executor,
        "executor_config": executor_config,
        "retry_policy": retry_policy,
        "execution_evaluation_state": execution_evaluation_state,
        "stop_on_exception": stop_on_exception,
        "stop_on_success": stop_on_success,
        "stop_on_error": stop_on_error,
        "result_field": result_field,
    }
    # settle the settings now: a bad one is an error where the decorator is written
    RetryPolicy.of(retry_policy)
    ExecutorInitializerConfig.of(executor_config)
    EventExecutionEvaluationState.of(execution_evaluation_state)

    def wrap(f: Callable[..., Any]) -> type[EventBase]:
        def process(self: EventBase, *args: Any, **kwargs: Any) -> Any:
            return f(*args, **kwargs)

        sig = inspect.signature(f)  # as a method: `self` first, so binding sees f's own parameters
        own = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY), *sig.parameters.values()]
        process.__signature__ = sig.replace(parameters=own)  # type: ignore[attr-defined]
        process.__doc__ = f.__doc__
        ns = {
            **settings,
            "process": process,
            "__doc__": f.__doc__,
            "__module__": f.__module__,
            "function": staticmethod(f),
        }
        cls = type(f.__name__, (EventBase,), ns)
        cls.__qualname__ = getattr(f, "__qualname__", f.__name__)
        return cls

    if fn is not None:
        return wrap(fn)
    return wrap


@dataclass(frozen=True)
class Binding:
    """How ``process`` takes a record, for one set of field names (built once per schema).

    - a parameter named like a field gets its value (``None`` where null);
    - the first parameter that names no field gets the whole record (a dict of its non-null fields);
    - a later one that names no field takes its default, else the record fails with a TypeError;
    - ``**kwargs`` gets the remaining non-null fields; ``*args`` gets nothing.
    """

    #: per positional parameter: ("field", name) | ("record", "") | ("default", "")
    positional: tuple[tuple[str, str], ...]
    #: per keyword-only parameter (or positional one after a default was used): (param, "field" | "record", name)
    keywords: tuple[tuple[str, str, str], ...]
    rest: bool
    named: frozenset[str]
    missing: str | None
    #: the fields passed by position when every argument is one (the fast, usual case), else ``None``
    only_fields: tuple[str, ...] | None = None

    @classmethod
    def of(cls, process: Callable[..., Any], fields: Sequence[str]) -> Binding:
        """The binding of bound method ``process`` for records with ``fields``."""
        names = set(fields)
        positional: list[tuple[str, str]] = []
        keywords: list[tuple[str, str, str]] = []
        rest = False
        record_given = False
        skipped = False  # a positional parameter took its default: later ones go by keyword
        missing = None
        named: set[str] = set()
        for p in inspect.signature(process).parameters.values():
            if p.kind is p.VAR_POSITIONAL:
                continue
            if p.kind is p.VAR_KEYWORD:
                rest = True
                continue
            if p.name in names:
                how = ("field", p.name)
                named.add(p.name)
            elif not record_given:
                how = ("record", "")
                record_given = True
            elif p.default is not p.empty:
                skipped = True
                continue
            else:
                missing = missing or p.name
                continue
            if p.kind is p.KEYWORD_ONLY or skipped:
                if p.kind is p.POSITIONAL_ONLY:
                    missing = missing or p.name
                    continue
                keywords.append((p.name, *how))
            else:
                positional.append(how)
        only = None
        if not keywords and not rest and missing is None and all(how == "field" for how, _ in positional):
            only = tuple(name for _, name in positional)
        return cls(tuple(positional), tuple(keywords), rest, frozenset(named), missing, only)

    def args(self, record: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for ``record``."""
        return [record.get(name) if how == "field" else _whole(record) for how, name in self.positional]

    def kwargs(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments for ``record``."""
        out = {p: (record.get(name) if how == "field" else _whole(record)) for p, how, name in self.keywords}
        if self.rest:
            for k, v in record.items():
                if k not in self.named and k not in out and v is not None:
                    out[k] = v
        return out


def _whole(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as ``process`` sees it whole: a dict of its non-null fields (a copy)."""
    return {k: v for k, v in record.items() if v is not None}
