"""Seed 003's events in streamkit: its examples as printed, after the import rewrite, run in networks.

The seed's code below is its own, with ``from nexus import ...`` and
``from nexus.decorators import ...`` written as ``from streamkit.events import ...``
(SEED-APIS.md). What the seed leaves undefined (``payment_gateway``,
``email_service``, ``PaymentGatewayError``, helper methods such as
``_create_user``) is defined here, marked as such. Each section runs the
seed's events over a few records and prints what became of them::

    python examples/seed003_events.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:  # `streamkit` importable however this file is started
    sys.path.insert(0, str(_ROOT))

# ------------------------------------------------------------------- imports (the seed's, rewritten)

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from requests.exceptions import ConnectionError, Timeout

from streamkit.events import EventBase, EventExecutionEvaluationState, ExecutorInitializerConfig, event

# ------------------------------------------------------------ what the seed leaves undefined


class PaymentGatewayError(Exception):
    """The payment gateway is unavailable for a moment."""


class _Gateway:
    """Charges; fails the first call for an amount of 13 (a transient error the retry policy absorbs)."""

    def __init__(self) -> None:
        self.calls = 0
        self.failed_once: set[float] = set()

    def charge(self, total: float) -> str:
        self.calls += 1
        if total == 13 and total not in self.failed_once:
            self.failed_once.add(total)
            raise PaymentGatewayError("gateway timeout")
        return f"paid {total:.2f}"


class _Mail:
    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []

    def send_confirmation(self, email: str, order_id: int) -> None:
        self.sent.append((email, order_id))


class _Requests:
    """Stands in for the network: every GET raises ConnectionError (so the retry policy shows)."""

    calls = 0

    def get(self, url: str) -> Any:
        _Requests.calls += 1
        raise ConnectionError(f"cannot reach {url}")


payment_gateway = _Gateway()
email_service = _Mail()
requests = _Requests()


# ---------------------------------------------------------------------------------- the seed's events


class UserRegistrationEvent(EventBase):
    def process(self, user_data, *args, **kwargs):
        # Simple validation and processing
        if not user_data.get("email"):
            return False, "Email is required"

        # Process the user registration
        user_id = self._create_user(user_data)
        return True, {"user_id": user_id, "status": "registered"}

    def _create_user(self, user_data):
        # Your user creation logic here
        return "u983"  # Return generated user ID


# Define a function-based event using the @event decorator
@event()
def my_event(input_data, *args, **kwargs):
    try:
        # Your processing logic here
        processed_data = self._transform_data(input_data)
        return True, processed_data
    except Exception as e:
        return False, f"Processing failed: {str(e)}"


class SimpleEvent(EventBase):
    # Uses DefaultExecutor (sequential execution)
    def process(self, data):
        return True, f"Processed: {data}"


class ConcurrentEvent(EventBase):
    executor = ThreadPoolExecutor  # Run in thread pool

    def process(self, data):
        # This will run concurrently with other events
        return True, data


class CPUIntensiveEvent(EventBase):
    executor = ProcessPoolExecutor  # Run in separate processes

    def process(self, data):
        # CPU-intensive processing here
        return True, data


config = ExecutorInitializerConfig(max_workers=4, max_tasks_per_child=50, thread_name_prefix="event_executor_")


class ConfiguredEvent(EventBase):
    executor = ThreadPoolExecutor

    # Simple dictionary configuration
    executor_config = config

    def process(self, data):
        # Event processing logic here
        return True, data


class NetworkEvent(EventBase):
    # Retry on network errors
    retry_policy = {
        "max_attempts": 3,  # Try up to 3 times
        "backoff_factor": 1.0,  # Wait 1, 2, 4 seconds between retries
        "max_backoff": 10.0,  # Never wait more than 10 seconds
        "retry_on_exceptions": [ConnectionError, Timeout],
    }

    def process(self, url):
        response = requests.get(url)  # This might fail temporarily
        return True, response.json()


class StrictEvent(EventBase):
    # Only succeed if ALL tasks succeed (default)
    execution_evaluation_state = EventExecutionEvaluationState.SUCCESS_ON_ALL_EVENTS_SUCCESS

    def process(self, *args, **kwargs):
        return True, "obrafour"


class LenientEvent(EventBase):
    # Succeed if ANY task succeeds
    execution_evaluation_state = EventExecutionEvaluationState.SUCCESS_FOR_PARTIAL_SUCCESS

    def process(self, *args, **kwargs):
        return True, "obrafour"


class MyCustomEvent(EventBase):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, stop_on_error=True, **kwargs)

    def process(self, *args, **kwargs):
        if kwargs.get("fail", False):
            return False, "Something went wrong"
        return True, "Event processed successfully"


class ConditionalEvent(EventBase):
    def process(self, data, *args, **kwargs):
        if data.get("type") == "premium":
            # Jump to premium processing task (task ID 101)
            self.goto(
                descriptor=101,  # The identifier of the next task to switch to.
                result_status=True,  # Indicates if the current task succeeded or failed.
                result=data,  # The result data to pass to the next task.
                reason="Premium user detected",  # Reason for the task switch. Defaults to "manual".
            )

        # Normal processing for regular users
        return True, self._process_regular_user(data)


class UserValidationEvent(EventBase):
    def can_bypass_current_event(self):
        # Skip validation for admin users
        if self._execution_context.user_role == "admin":
            return True, {"bypass_reason": "Admin users skip validation"}

        # Skip validation during system maintenance
        if self._execution_context.is_maintenance_mode:
            return True, {"bypass_reason": "Maintenance mode active"}

        # Normal execution for all other cases
        return False, None

    def process(self, user_data):
        # This only runs if can_bypass_current_event returns False
        return self._validate_user(user_data)


class ValidateOrderEvent(EventBase):
    def process(self, order_data):
        if not order_data.get("items"):
            return False, "Order has no items"
        return True, order_data


class ProcessPaymentEvent(EventBase):
    executor = ThreadPoolExecutor
    retry_policy = {"max_attempts": 3, "retry_on_exceptions": [PaymentGatewayError]}

    def process(self, order_data):
        payment_result = payment_gateway.charge(order_data["total"])
        return True, payment_result


class SendConfirmationEvent(EventBase):
    def process(self, order_data, payment_result):
        email_service.send_confirmation(order_data["email"], order_data["order_id"])
        return True, "Confirmation sent"


# the placeholders' part in the seed's classes
NetworkEvent.retry_policy["backoff_factor"] = 0.01  # the seed's 1, 2, 4 s, a hundred times shorter here
ConditionalEvent._process_regular_user = lambda self, data: {"tier": "regular"}  # type: ignore[attr-defined]
UserValidationEvent._validate_user = lambda self, user_data: (  # type: ignore[attr-defined]
    bool(user_data.get("email")),
    {"validated": True},
)


# ------------------------------------------------------------------- the examples, run


def one_state(ev: Any, **keys: Any) -> dict[str, Any]:
    """A network: the event's state, then ``done`` on success and ``failed`` on failure."""
    return {
        "name": "seed003",
        "networks": [
            {
                "name": "main",
                "states": [
                    {"name": "event", "is_start": True, "event": ev, **keys},
                    {"name": "done", "is_end": True},
                    {"name": "failed", "is_end": True},
                ],
                "arcs": [
                    {"from": "event", "to": "done", "on": "success"},
                    {"from": "event", "to": "failed", "on": "failure"},
                ],
            }
        ],
    }


def show(title: str, result: Any, fields: list[str]) -> None:
    print(f"{title}: {result.end_state_counts}")
    for state in result.end_states:
        for row in result.output(state).to_pylist():
            print(f"  {state}: " + ", ".join(f"{f}={row.get(f)!r}" for f in fields))


def main() -> None:
    from streamkit import SimpleFSM

    r = SimpleFSM(one_state(UserRegistrationEvent)).process([{"email": "ada@example.com"}, {"name": "no email"}])
    show("quick start", r, ["email", "user_id", "status", "result"])

    r = SimpleFSM(one_state(my_event)).process([{"x": 1}])
    show("function event (as printed: `self` is undefined in a function)", r, ["result"])

    for ev in (SimpleEvent, ConcurrentEvent, CPUIntensiveEvent, ConfiguredEvent):
        fsm = SimpleFSM(one_state(ev))
        r = fsm.process([{"data": k} for k in range(3)])
        show(f"{ev.__name__} ({ev.executor.__name__})", r, ["data", "result"])
        fsm.network.event_pools.shutdown()

    r = SimpleFSM(one_state(NetworkEvent)).process([{"url": "https://example.com/a"}])
    print(f"retries: {r.retries}, GET calls {_Requests.calls}")
    show("network event", r, ["url", "result"])

    r = SimpleFSM(one_state([StrictEvent, LenientEvent])).process([{"k": 1}])
    show("parallel group (evaluation from the first event)", r, ["k", "result"])

    r = SimpleFSM(one_state(MyCustomEvent), chunk_size=2, parallelism=1).process(
        [{"id": k, "fail": k == 3} for k in range(8)]
    )
    print(f"stop_on_error: stopped_by={r.stopped_by}, cancelled={r.cancelled}")

    goto_net = one_state(ConditionalEvent)
    goto_net["networks"][0]["states"].append({"name": "premium", "is_end": True})
    goto_net["networks"][0]["arcs"].append({"from": "event", "to": "premium", "on": 101})
    r = SimpleFSM(goto_net).process([{"type": "premium"}, {"type": "basic"}])
    show("goto", r, ["type", "tier"])

    r = SimpleFSM(one_state(UserValidationEvent)).process(
        [{"user_role": "admin"}, {"email": "a@b.c"}, {"is_maintenance_mode": True}, {"user_role": "guest"}]
    )
    show("bypass", r, ["user_role", "bypass_reason", "validated"])

    shop = {
        "name": "shop",
        "networks": [
            {
                "name": "orders",
                "states": [
                    {"name": "validate", "is_start": True, "event": ValidateOrderEvent},
                    {"name": "pay", "event": ProcessPaymentEvent, "result_field": "payment_result"},
                    {"name": "confirm", "event": SendConfirmationEvent},
                    {"name": "done", "is_end": True},
                    {"name": "rejected", "is_end": True},
                ],
                "arcs": [
                    {"from": "validate", "to": "pay", "on": "success"},
                    {"from": "validate", "to": "rejected", "on": "failure"},
                    {"from": "pay", "to": "confirm"},
                    {"from": "confirm", "to": "done"},
                ],
            }
        ],
    }
    fsm = SimpleFSM(shop)
    orders = [
        {"order_id": 1, "items": 2, "total": 25.0, "email": "a@shop.test"},
        {"order_id": 2, "items": 0, "total": 0.0, "email": "b@shop.test"},
        {"order_id": 3, "items": 1, "total": 13.0, "email": "c@shop.test"},
    ]
    r = fsm.process(orders)
    show("e-commerce", r, ["order_id", "payment_result", "result"])
    print(f"e-commerce: retries {r.retries}, confirmations {email_service.sent}")
    fsm.network.event_pools.shutdown()


if __name__ == "__main__":
    main()
