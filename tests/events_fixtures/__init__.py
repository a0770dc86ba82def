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
