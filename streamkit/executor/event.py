"""Events: one piece of async work with a status and a record of how it ran (seed 000's ``Event``).

A subclass declares its fields as class annotations with defaults
(``name: str = "event"``), takes them as keywords, and implements
``async _invoke()``. :meth:`Event.invoke` runs ``_invoke`` once, however many
callers await it at the same time, and records the outcome in
:attr:`Event.execution`: ``completed`` with the response, ``failed`` with the
exception, ``cancelled`` when it was cancelled or ran past its ``timeout``.
"""

from __future__ import annotations

import asyncio
import copy
import math
import time
import typing
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import anyio

from streamkit.errors import did_you_mean
from streamkit.executor._ids import new_id
from streamkit.status import EventStatus
from streamkit.status.codes import as_status

__all__ = ("Event", "Execution", "RecordedError", "event_class")

_PENDING = EventStatus.PENDING
_PROCESSING = EventStatus.PROCESSING
_COMPLETED = EventStatus.COMPLETED
_FAILED = EventStatus.FAILED
_CANCELLED = EventStatus.CANCELLED
_REQUIRED: Any = object()  # the default of a field declared without one
_MUTABLE = (list, dict, set, bytearray)  # defaults copied for each event, as a dataclass field(default_factory=...)
_JSON_SCALARS = (str, int, float, bool, type(None))

#: Every Event subclass by ``module.qualname``, for snapshots (weak: a class defined in a test may go).
_CLASSES: weakref.WeakValueDictionary[str, type[Event]] = weakref.WeakValueDictionary()


class RecordedError(Exception):
    """An error read back from a snapshot: the original exception's type name and message.

    The exception object itself is not kept in a snapshot (it may hold
    anything); this stands in for it after :meth:`Event.from_dict`.

    Examples
    --------
    >>> err = RecordedError("ValueError", "bad input")
    >>> err, str(err), err.type_name
    (ValueError('bad input'), 'bad input', 'ValueError')
    """

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"{self.type_name}({str(self)!r})"


def _error_dict(error: BaseException | None) -> dict[str, str] | None:
    if error is None:
        return None
    name = error.type_name if isinstance(error, RecordedError) else type(error).__name__
    return {"type": name, "message": str(error)}


def _jsonable(value: Any) -> bool:
    if isinstance(value, _JSON_SCALARS):
        return not isinstance(value, float) or math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v) for k, v in value.items())
    return False


@dataclass(slots=True, eq=False)
class Execution:
    """How an event ran: its status, how long it took, its response or error, and whether a retry is safe.

    ``duration`` is in seconds (``None`` until the event ran); ``response`` is
    what ``_invoke`` returned (``None`` if it failed); ``error`` the exception
    it raised (a :class:`TimeoutError` when it ran past its ``timeout``);
    ``retryable`` is ``False`` after a success, ``True`` after a failure or a
    cancellation, ``None`` before it ran.

    Examples
    --------
    >>> Execution().to_dict()
    {'status': 'pending', 'duration': None, 'response': None, 'error': None, 'retryable': None}
    """

    status: EventStatus = EventStatus.PENDING
    duration: float | None = None
    response: Any = None
    error: BaseException | None = None
    retryable: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain Python for a snapshot: the status by name, the error as ``{"type", "message"}``.

        A response that JSON cannot hold is kept as its ``repr`` (a string).
        """
        response = self.response if _jsonable(self.response) else repr(self.response)
        return {
            "status": self.status.value,
            "duration": self.duration,
            "response": response,
            "error": _error_dict(self.error),
            "retryable": self.retryable,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, at: str = "execution") -> Execution:
        """Read back :meth:`to_dict`'s output; the status as an :class:`EventStatus`, the error as a
        :class:`RecordedError`. A ``ValueError`` names the key (``at``) that is wrong."""
        if not isinstance(data, Mapping):
            msg = f"`{at}` must be a mapping, got {data!r}"
            raise ValueError(msg)
        try:
            status = as_status(data.get("status", "pending"), what=f"{at}.status")
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        error = data.get("error")
        if error is not None:
            if not isinstance(error, Mapping) or not isinstance(error.get("type"), str):
                msg = f'`{at}.error` must be None or {{"type": str, "message": str}}, got {error!r}'
                raise ValueError(msg)
            error = RecordedError(error["type"], str(error.get("message", "")))
        duration = data.get("duration")
        if duration is not None and not isinstance(duration, (int, float)):
            msg = f"`{at}.duration` must be a number of seconds or None, got {duration!r}"
            raise ValueError(msg)
        return cls(status, duration, data.get("response"), error, data.get("retryable"))


def _is_classvar(annotation: object) -> bool:
    if isinstance(annotation, str):
        head = annotation.split("[", 1)[0].strip()
        return head in ("ClassVar", "typing.ClassVar", "t.ClassVar")
    return annotation is ClassVar or typing.get_origin(annotation) is ClassVar


class Event:
    """One piece of async work: declared fields, an ``id``, a ``status`` and its :class:`Execution`.

    Subclasses declare fields as annotated class attributes (a default makes
    a field optional; a list, dict or set default is copied for each event)
    and implement ``async _invoke()``. Fields are passed as keywords; an
    unknown keyword or a missing required field is a ``TypeError`` naming it.

    Every event has ``timeout`` (seconds, ``None`` for none): an ``_invoke``
    that runs longer is cancelled and the event ends ``cancelled`` with a
    :class:`TimeoutError`.

    ``status`` is the event's status as its executor tracks it: an event in
    an :class:`~streamkit.executor.Executor` changes status when the executor
    records the change (so a subclass of the executor that logs transitions
    reads the old status while it runs), and ``execution.status`` is what the
    last invoke gave. An event in no executor has one status for both.

    Examples
    --------
    >>> import asyncio
    >>> class Add(Event):
    ...     a: int = 0
    ...     b: int = 0
    ...
    ...     async def _invoke(self):
    ...         return self.a + self.b
    >>> e = Add(a=2, b=3)
    >>> e.status, asyncio.run(e.invoke()), e.status.value, e.execution.response
    (<EventStatus.PENDING: 'pending'>, 5, 'completed', 5)
    >>> Add(c=1)
    Traceback (most recent call last):
    ...
    TypeError: `Add` has no field 'c': its fields are 'timeout', 'a', 'b'
    """

    timeout: float | None = None

    # the event's own state in slots (fields live in the instance dict): a smaller event, faster at 100k+
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_number",
        "_status",
        "_tracker",
        "_waiters",
        "created_at",
        "execution",
        "id",
    )

    # per class, set by __init_subclass__: field names, defaults copied per event, required fields
    _field_names: ClassVar[frozenset[str]]
    _field_order: ClassVar[tuple[str, ...]]
    _copied: ClassVar[tuple[tuple[str, Any], ...]]
    _required: ClassVar[tuple[str, ...]]

    # per event (besides id, created_at, execution, set in __init__)
    _status: EventStatus
    _tracker: Any  # the executor's flow that tracks the status, or None
    _number: int  # the event's number in that flow's status index
    _waiters: list[asyncio.Future[Any]] | None  # set while invoke() runs: callers waiting for it

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _set_fields(cls)
        _CLASSES[f"{cls.__module__}.{cls.__qualname__}"] = cls

    def __init__(self, *args: Any, **fields: Any) -> None:
        cls = type(self)
        if args:
            msg = f"`{cls.__name__}` takes its fields as keywords (name=value), got {len(args)} positional argument(s)"
            raise TypeError(msg)
        if fields:
            if not cls._field_names.issuperset(fields):
                _refuse_fields(cls, fields)
            if "timeout" in fields:
                _check_timeout(cls, fields["timeout"])
        for name in cls._required:
            if name not in fields:
                msg = f"`{cls.__name__}` needs the field {name!r} (a keyword argument)"
                raise TypeError(msg)
        d = self.__dict__
        for name, default in cls._copied:
            if name not in fields:
                d[name] = copy.copy(default)
        d.update(fields)
        self.id: uuid.UUID = new_id()
        self.created_at: float = time.time()
        self.execution: Execution = Execution()
        self._status = _PENDING
        self._tracker = None
        self._number = -1
        self._waiters = None

    # ------------------------------------------------------------------ status

    @property
    def status(self) -> EventStatus:
        """The event's status (see the class docstring); set it only on an event that no executor tracks."""
        return self._status

    @status.setter
    def status(self, value: EventStatus | str) -> None:
        if self._tracker is not None:
            msg = (
                f"the status of {self!r} is tracked by {self._tracker.name!r}: it changes through that executor"
                "\n\nremove the event from it first to set its status by hand"
            )
            raise ValueError(msg)
        status = as_status(value)
        self._status = status
        self.execution.status = status

    @property
    def response(self) -> Any:
        """What the last invoke returned (``None`` before, and after a failure)."""
        return self.execution.response

    # ------------------------------------------------------------------ running

    async def _invoke(self) -> Any:
        """The work itself; subclasses implement it (``invoke()`` calls it once)."""
        msg = f"`{type(self).__name__}` must implement `async def _invoke(self)`"
        raise NotImplementedError(msg)

    async def invoke(self) -> Any:
        """Run ``_invoke`` once and record the outcome in :attr:`execution`; return its response.

        Callers that await ``invoke()`` while it runs wait for that one run and
        get its response; after it finished, ``invoke()`` returns the recorded
        response at once (``None`` after a failure or a cancellation) without
        running again. Exceptions of ``_invoke`` are recorded, not raised; a
        cancellation is recorded and re-raised.
        """
        ex = self.execution
        if ex.status is not _PENDING:
            waiters = self._waiters
            if waiters is None:
                return ex.response
            fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            waiters.append(fut)
            return await fut
        self._waiters = []
        ex.status = _PROCESSING
        untracked = self._tracker is None
        if untracked:
            self._status = _PROCESSING
        response: Any = None
        error: BaseException | None = None
        status, retryable = _COMPLETED, False
        start = time.perf_counter()
        try:
            if self.timeout is None:
                response = await self._invoke()
            else:
                with anyio.move_on_after(self.timeout) as scope:
                    response = await self._invoke()
                if scope.cancelled_caught:
                    msg = f"`{type(self).__name__}` ran past its timeout of {self.timeout} s"
                    response, status, error, retryable = None, _CANCELLED, TimeoutError(msg), True
        except Exception as exc:  # noqa: BLE001 -- any error of the work is its outcome, recorded
            response, status, error, retryable = None, _FAILED, exc, True
        except BaseException as exc:  # a cancellation (or an interrupt): recorded, then passed on
            response, status, error, retryable = None, _CANCELLED, exc, True
            raise
        finally:
            ex.duration = time.perf_counter() - start
            ex.response = response
            ex.error = error
            ex.retryable = retryable
            ex.status = status
            if untracked:
                self._status = status
            waiters, self._waiters = self._waiters, None
            for fut in waiters or ():
                if not fut.done():
                    fut.set_result(response)
        return response

    # ------------------------------------------------------------------ snapshots

    def fields(self) -> dict[str, Any]:
        """The event's fields by name, in declaration order.

        Examples
        --------
        >>> Event(timeout=2.5).fields()
        {'timeout': 2.5}
        """
        return {name: getattr(self, name) for name in type(self)._field_order}

    def to_dict(self) -> dict[str, Any]:
        """Plain Python for a snapshot: ``type`` (``module.qualname``), ``id``, ``created_at``, ``status``,
        ``fields``, ``execution`` (:meth:`Execution.to_dict`). JSON holds it when the fields are JSON values."""
        cls = type(self)
        return {
            "type": f"{cls.__module__}.{cls.__qualname__}",
            "id": str(self.id),
            "created_at": self.created_at,
            "status": self._status.value,
            "fields": self.fields(),
            "execution": self.execution.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, at: str = "item") -> Event:
        """An event from :meth:`to_dict`'s output: same class, id, fields and execution (status as an
        :class:`EventStatus`, error as a :class:`RecordedError`).

        The class is the one ``data["type"]`` names (defined in this process, or
        importable); called on a subclass, that subclass is used when the name
        cannot be found. A ``ValueError`` names the key (``at``) that is wrong.

        Examples
        --------
        >>> e = Event(timeout=1.0)
        >>> copy = Event.from_dict(e.to_dict())
        >>> copy.id == e.id, copy.timeout, copy.status
        (True, 1.0, <EventStatus.PENDING: 'pending'>)
        """
        if not isinstance(data, Mapping):
            msg = f"`{at}` must be a mapping (an event's to_dict()), got {data!r}"
            raise ValueError(msg)
        klass = event_class(data.get("type"), default=cls, at=f"{at}.type")
        fields = data.get("fields", {})
        if not isinstance(fields, Mapping):
            msg = f"`{at}.fields` must be a mapping of field name to value, got {fields!r}"
            raise ValueError(msg)
        try:
            event = klass(**fields)
            event.id = uuid.UUID(str(data["id"]))
        except (TypeError, KeyError, ValueError) as exc:
            msg = f"`{at}` cannot be read back as a `{klass.__name__}`: {exc}"
            raise ValueError(msg) from None
        created = data.get("created_at")
        if isinstance(created, (int, float)):
            event.created_at = float(created)
        event.execution = Execution.from_dict(data.get("execution", {}), at=f"{at}.execution")
        status = data.get("status")
        event._status = event.execution.status if status is None else as_status(status, what=f"{at}.status")
        return event

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.fields().items() if k != "timeout" or v is not None)
        sep = ", " if shown else ""
        return f"{type(self).__name__}({shown}{sep}status={self._status.value!r}, id={self.id.hex[:8]})"


def _set_fields(cls: type[Event]) -> None:
    # the fields of cls: annotated class attributes of Event and its subclasses, base first
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, Event)):
            continue
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            if name.startswith("_") or _is_classvar(annotation) or name in names:
                continue
            if name in _RESERVED:
                msg = f"`{cls.__name__}` declares a field {name!r}, a name Event uses itself; choose another name"
                raise TypeError(msg)
            names.append(name)
    defaults = {name: getattr(cls, name, _REQUIRED) for name in names}
    cls._field_order = tuple(names)
    cls._field_names = frozenset(names)
    cls._copied = tuple((n, d) for n, d in defaults.items() if isinstance(d, _MUTABLE))
    cls._required = tuple(n for n, d in defaults.items() if d is _REQUIRED)


def _refuse_fields(cls: type[Event], fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - cls._field_names)
    known = ", ".join(map(repr, cls._field_order))
    if len(unknown) == 1:
        hint = did_you_mean(unknown[0], cls._field_order)
        msg = f"`{cls.__name__}` has no field {unknown[0]!r}{hint}: its fields are {known}"
    else:
        msg = f"`{cls.__name__}` has no fields {', '.join(map(repr, unknown))}: its fields are {known}"
    raise TypeError(msg)


def _check_timeout(cls: type[Event], timeout: object) -> None:
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        msg = f"`{cls.__name__}.timeout` must be a number of seconds or None, got {timeout!r}"
        raise TypeError(msg)
    if not (math.isfinite(timeout) and timeout > 0):
        msg = f"`{cls.__name__}.timeout` must be a positive, finite number of seconds, got {timeout!r}"
        raise ValueError(msg)


def event_class(name: object, *, default: type[Event] = Event, at: str = "type") -> type[Event]:
    """The Event subclass named ``module.qualname`` (defined in this process, or importable).

    A name that cannot be found gives ``default`` when that is a subclass of
    :class:`Event`, else a ``ValueError`` naming ``at``.

    Examples
    --------
    >>> event_class("streamkit.executor.event.Event")
    <class 'streamkit.executor.event.Event'>
    """
    if name is None and default is not Event:
        return default
    if not isinstance(name, str):
        msg = f"`{at}` must be the event's class as 'module.QualName', got {name!r}"
        raise ValueError(msg)
    if name == "streamkit.executor.event.Event":
        return Event
    found = _CLASSES.get(name)
    if found is None:
        found = _import_class(name)
    if found is not None:
        return found
    if default is not Event:
        return default
    msg = (
        f"`{at}`: no Event subclass {name!r} is defined in this process"
        "\n\ndefine or import the class before reading the snapshot back"
    )
    raise ValueError(msg)


def _import_class(name: str) -> type[Event] | None:
    import importlib

    module, _, qualname = name.rpartition(".")
    while module:
        try:
            obj: Any = importlib.import_module(module)
        except ImportError:
            module, _, head = module.rpartition(".")
            qualname = f"{head}.{qualname}"
            continue
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
        return obj if isinstance(obj, type) and issubclass(obj, Event) else None
    return None


_RESERVED = frozenset({"id", "created_at", "execution"} | {n for n in vars(Event) if not n.startswith("_")}) - {
    "timeout"
}
_set_fields(Event)
