"""Run handles: one object for anything running — a runtime job, a stream started in the background, a submitted run.

Every handle has an ``id``, a ``status`` (``pending`` → ``running`` →
``completed`` / ``failed`` / ``cancelled``), its times (timezone-aware UTC),
``error`` when it failed or was cancelled, ``progress`` (a dict: ``status``,
``elapsed`` and what the kind of run can tell), ``cancel()``, ``wait(timeout)``
(and ``await wait_async(timeout)``), and ``result`` once it finished.

:class:`StreamHandle` is what ``start_stream`` returns: the stream runs on its
own thread and event loop while the caller goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, ClassVar

from streamkit.display.views import handle_html

__all__ = ("RunHandle", "StreamHandle", "RUN_STATUSES", "FINAL_STATUSES")

#: A run's statuses, in the order it can pass through them.
RUN_STATUSES = ("pending", "running", "completed", "failed", "cancelled")
#: The statuses a run ends in.
FINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})

_PREFIX = uuid.uuid4().hex[:8]
_NUMBERS = itertools.count(1)


def _now() -> datetime:
    return datetime.now(UTC)


_ENDS_LOCK = threading.Lock()  # end callbacks of handles that have no condition of their own


def _call(loop: asyncio.AbstractEventLoop | None, fn: Callable[[Any], Any], handle: Any) -> None:
    if loop is None:
        fn(handle)
        return
    with contextlib.suppress(RuntimeError):  # the waiter's loop has closed: nobody is left to wake
        loop.call_soon_threadsafe(fn, handle)


class RunHandle:
    """What every run handle has (see the module docstring). Subclasses say how to cancel and what progress is.

    Examples
    --------
    >>> h = RunHandle("r1")
    >>> h.status, h.finished, h.wait(0)
    ('pending', False, False)
    >>> h._finish("completed", result=42); h.status, h.result, h.wait(0), h.progress["status"]
    ('completed', 42, True, 'completed')
    """

    #: what is running: ``"job"``, ``"stream"``, ``"submission"``...
    kind: ClassVar[str] = "run"
    #: callbacks for the run's end: ``(loop or None, fn)``
    _ends: list[tuple[asyncio.AbstractEventLoop | None, Callable[[Any], Any]]] | None = None

    def __init__(self, run_id: str | None = None) -> None:
        self._id = run_id or f"{self.kind}-{_PREFIX}-{next(_NUMBERS)}"
        self.status = "pending"
        self.error: str | None = None
        self.created_at: datetime = _now()
        self.started_at: datetime | None = None
        self.completed_at: datetime | None = None
        self._result: Any = None
        self._handle_cond: threading.Condition | None = threading.Condition()

    @property
    def id(self) -> str:
        """The run's id."""
        return self._id

    @property
    def finished(self) -> bool:
        """Whether the run completed, failed or was cancelled."""
        return self.status in FINAL_STATUSES

    @property
    def result(self) -> Any:
        """What the run produced (``None`` until it finished, and for runs that produce nothing)."""
        return self._result

    @property
    def progress(self) -> dict[str, Any]:
        """How far the run is: ``status`` and ``elapsed`` seconds, and what the kind of run can tell."""
        start = self.started_at or self.created_at
        end = self.completed_at or _now()
        return {"status": self.status, "elapsed": max(0.0, (end - start).total_seconds())}

    def cancel(self) -> bool:
        """Ask the run to stop; whether it will end ``cancelled`` (``False`` once it finished)."""
        return False

    def _condition(self) -> threading.Condition | None:
        return self._handle_cond

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run finishes; whether it did within ``timeout`` seconds."""
        cond = self._condition()
        if cond is None:
            return self.finished
        with cond:
            return cond.wait_for(lambda: self.finished, timeout)

    async def wait_async(self, timeout: float | None = None) -> bool:
        """:meth:`wait` without blocking the event loop: woken by the run's end, never polling."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()

        def wake(_run: Any) -> None:
            if not fut.done():
                fut.set_result(None)

        self._on_end(loop, wake)
        try:
            await asyncio.wait_for(asyncio.shield(fut), timeout)
        except TimeoutError:
            return self.finished
        finally:
            self._drop_end(wake)
        return True

    def _on_end(self, loop: asyncio.AbstractEventLoop | None, fn: Callable[[Any], Any]) -> None:
        """Call ``fn(handle)`` once the run ends (on ``loop``, when given); at once if it has ended."""
        cond = self._condition()
        with cond if cond is not None else _ENDS_LOCK:
            if not self.finished:
                if self._ends is None:
                    self._ends = []
                self._ends.append((loop, fn))
                return
        _call(loop, fn, self)

    def _drop_end(self, fn: Callable[[Any], Any]) -> None:
        """Forget an end callback that is no longer wanted (a wait that timed out or was cancelled)."""
        cond = self._condition()
        with cond if cond is not None else _ENDS_LOCK:
            if self._ends:
                self._ends = [e for e in self._ends if e[1] is not fn] or None

    def _ended(self) -> None:
        """Call the end callbacks (the run has just ended; its condition is not held)."""
        cond = self._condition()
        with cond if cond is not None else _ENDS_LOCK:
            ends, self._ends = self._ends, None
        for loop, fn in ends or ():
            _call(loop, fn, self)

    def _start(self) -> None:
        self.status = "running"
        self.started_at = _now()

    def _finish(self, status: str, *, error: str | None = None, result: Any = None) -> None:
        cond = self._condition()
        if cond is None:
            self._set_final(status, error, result)
        else:
            with cond:
                self._set_final(status, error, result)
                cond.notify_all()
        self._ended()

    def _set_final(self, status: str, error: str | None, result: Any) -> None:
        self._result = result
        self.error = error
        self.completed_at = _now()
        self.status = status

    def to_dict(self) -> dict[str, Any]:
        """The handle as plain data."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "error": self.error,
            "created_at": self.created_at.isoformat(),
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "completed_at": None if self.completed_at is None else self.completed_at.isoformat(),
        }

    def _repr_html_(self) -> str:
        return handle_html(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r}, status={self.status!r})"


class StreamHandle(RunHandle):
    """A stream running on its own thread and event loop (what ``start_stream`` returns).

    ``progress`` holds the stream's last :class:`~streamkit.Progress` snapshot
    (records processed, per second, successful, failed, bytes in flight) as a
    dict; ``result`` is the :class:`~streamkit.RunResult` once it completed.
    ``cancel()`` stops it as a cancelled ``process_stream`` stops: the chunks in
    hand finish, file sinks are removed, and ``error`` says what was written.
    A stream that raised ends ``failed``; :meth:`result_or_raise` raises its error.
    """

    kind: ClassVar[str] = "stream"

    def __init__(self, run: Callable[[Callable[[Any], None]], Awaitable[Any]], *, name: str | None = None) -> None:
        super().__init__()
        self.name = name
        self.last_progress: Any = None
        self.exception: BaseException | None = None
        self._run = run
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._cancel_asked = False
        self._thread = threading.Thread(target=self._main, name=f"streamkit-{self.id}", daemon=True)

    def _begin(self) -> StreamHandle:
        self._start()
        self._thread.start()
        return self

    def _on_progress(self, p: Any) -> None:
        self.last_progress = p

    def _main(self) -> None:
        async def main() -> Any:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
            if self._cancel_asked:
                raise asyncio.CancelledError
            return await self._run(self._on_progress)

        try:
            result = asyncio.run(main())
        except asyncio.CancelledError as exc:
            notes = getattr(exc, "__notes__", None)
            self._finish("cancelled", error="; ".join(notes) if notes else "cancelled")
            return
        except BaseException as exc:  # noqa: BLE001 - the run's failure, kept on its handle
            self.exception = exc
            self._finish("failed", error=f"{type(exc).__name__}: {exc}")
            return
        self._finish("completed", result=result)

    def cancel(self) -> bool:
        """Stop the stream (see the class docstring); whether it will end ``cancelled``."""
        if self.finished:
            return False
        self._cancel_asked = True
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            loop.call_soon_threadsafe(task.cancel)
        return True

    def result_or_raise(self, timeout: float | None = None) -> Any:
        """Wait for the stream; its :class:`~streamkit.RunResult`, or its error raised (``TimeoutError`` after
        ``timeout``; :class:`asyncio.CancelledError` when it was cancelled)."""
        if not self.wait(timeout):
            msg = f"stream {self.id} still running after {timeout} s"
            raise TimeoutError(msg)
        if self.exception is not None:
            raise self.exception
        if self.status == "cancelled":
            raise asyncio.CancelledError(self.error or "cancelled")
        return self.result

    @property
    def progress(self) -> dict[str, Any]:
        """``status``, ``elapsed`` and the stream's last progress snapshot (records, rates, counts, bytes)."""
        out = super().progress
        p = self.last_progress
        if p is not None:
            for f in fields(p):
                if f.name not in ("errors", "elapsed"):
                    out[f.name] = getattr(p, f.name)
            out["status_counts"] = dict(p.status_counts)
        return out
