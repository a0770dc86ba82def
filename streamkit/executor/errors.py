"""Errors of the executor: :class:`ExecutorError` and :class:`QueueFullError`."""

from __future__ import annotations

from streamkit.errors import StreamkitError

__all__ = ("ExecutorError", "QueueFullError")


class ExecutorError(StreamkitError):
    """An executor was used in a way its state does not allow (say, ``forward()`` before ``start()``)."""


class QueueFullError(ExecutorError):
    """``append`` found ``max_queue_size`` events waiting: the event was not added anywhere.

    Attributes
    ----------
    queue_size:
        How many events were waiting to be processed.
    max_size:
        The executor's ``max_queue_size``.
    """

    def __init__(self, message: str, *, queue_size: int, max_size: int) -> None:
        super().__init__(message)
        self.queue_size = queue_size
        self.max_size = max_size
