"""Events that configs in the tests name as ``'module:name'``."""

from streamkit.events import EventBase, event


class Double(EventBase):
    """Doubles ``x``."""

    def process(self, x):
        return True, {"x": x * 2}


@event(retry_policy={"max_attempts": 2, "backoff_factor": 0.0})
def tag(record):
    """Tags every record."""
    return True, {"tag": "seen"}


def not_an_event(record):
    """A plain function (no @event)."""
    return True, record


class Spin(EventBase):
    """CPU-bound work in a process pool."""

    from concurrent.futures import ProcessPoolExecutor as executor

    executor_config = {"max_workers": 2}

    def process(self, n):
        total = 0
        for k in range(n):
            total += k * k % 7
        return True, {"total": total}


class DieOn13(EventBase):
    """Kills its worker process on the record with ``x == 13``."""

    from concurrent.futures import ProcessPoolExecutor as executor

    executor_config = {"max_workers": 2}

    def process(self, x):
        if x == 13:
            import os

            os._exit(1)
        return True, {"pid_ok": True}
