"""Deployments (seed 004): a name for something to run, with a bound on how many of its runs run at once.

A target is one of:
- a Python callable, sync or async, called with the run's parameters as keywords
  (a sync one runs on the deployment's threads);
- a runtime flow (a :class:`~streamkit.runtime.Flow` or
  :class:`~streamkit.runtime.NetworkFlow`, or the name it is registered under):
  a run posts one job (parameters ``records``, or ``routine_id``, ``slot``,
  ``data``; and ``metadata``) into a runtime shared by all deployments, and
  ends as the job ends;
- a seed 002 network (a config dict, a YAML or JSON path, a ``SimpleFSM`` or a
  pipeline): a run is ``process_stream(**parameters)``.

A target that returns a :class:`~streamkit.submit.State` sets its run's final
state; otherwise the run ends ``Completed`` with what it returned as its
``result``, or ``Failed`` with the error it raised (``Crashed`` when that is not
an ``Exception``). Runs are tracked in the deployment's status index:
:meth:`Deployment.counts` is O(1).
"""

from __future__ import annotations

import asyncio
import inspect
import queue
import threading
import uuid
from pathlib import Path
from typing import Any

from streamkit.api import SimpleFSM
from streamkit.async_api import AsyncSimpleFSM
from streamkit.engine.pipeline import Pipeline
from streamkit.engine.stream import stream_stages
from streamkit.errors import did_you_mean
from streamkit.runtime import Flow, FlowRegistry, NetworkFlow, Runtime
from streamkit.status import EventStatus, StatusIndex
from streamkit.submit.runs import RUNS, FlowRun, run_loop
from streamkit.submit.states import State, StateType

__all__ = ("Deployment", "register_deployment", "get_deployment", "run_deployment", "list_deployments")

_CODES = {
    StateType.SCHEDULED: EventStatus.PENDING,
    StateType.PENDING: EventStatus.PENDING,
    StateType.RUNNING: EventStatus.PROCESSING,
    StateType.COMPLETED: EventStatus.COMPLETED,
    StateType.FAILED: EventStatus.FAILED,
    StateType.CANCELLED: EventStatus.CANCELLED,
    StateType.CRASHED: EventStatus.ABORTED,
}
_COUNT_NAMES = {
    "pending": EventStatus.PENDING,
    "running": EventStatus.PROCESSING,
    "completed": EventStatus.COMPLETED,
    "failed": EventStatus.FAILED,
    "cancelled": EventStatus.CANCELLED,
    "crashed": EventStatus.ABORTED,
}

_REGISTRY: dict[str, Deployment] = {}
_REGISTRY_LOCK = threading.Lock()
_RUNTIME: Any = None


def _shared_runtime() -> Any:
    """The runtime flow targets post into (made at first use, for the process's life)."""
    global _RUNTIME
    with _REGISTRY_LOCK:
        if _RUNTIME is None:
            _RUNTIME = Runtime(tuning=False)  # never shut down: it must not hold process-wide settings
        return _RUNTIME


class Deployment:
    """A registered target (see the module docstring) and its runs; made by :func:`register_deployment`."""

    def __init__(self, name: str, target: Any, *, max_concurrency: int = 4) -> None:
        if not isinstance(name, str) or not name:
            msg = f"a deployment's name is a non-empty str like 'flow/deployment', got {name!r}"
            raise ValueError(msg)
        if int(max_concurrency) < 1:
            msg = f"max_concurrency must be >= 1, got {max_concurrency}"
            raise ValueError(msg)
        self.name = name
        self.max_concurrency = int(max_concurrency)
        self.kind, self.target = _resolve(target)
        self._lock = threading.Lock()
        self._index = StatusIndex(keep_ids=[])
        self._numbers: dict[str, int] = {}
        self._next = 0
        self._keys: dict[str, FlowRun] = {}
        self._slots: asyncio.Semaphore | None = None  # made on the runs' loop
        self._queue: queue.SimpleQueue[FlowRun] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0

    # -- runs --------------------------------------------------------------------------------
    def submit(self, parameters: dict[str, Any] | None = None, idempotency_key: str | None = None) -> FlowRun:
        """Queue a run with ``parameters`` at once; the run (the earlier one, for a known ``idempotency_key``)."""
        params = dict(parameters or {})
        with self._lock:
            if idempotency_key is not None:
                known = self._keys.get(idempotency_key)
                if known is not None:
                    return known
            run = FlowRun(str(uuid.uuid4()), self.name, params, idempotency_key)
            run._on_state = self._moved
            number = self._next
            self._next += 1
            self._numbers[run.id] = number
            self._index.add([number], EventStatus.PENDING)
            if idempotency_key is not None:
                self._keys[idempotency_key] = run
        RUNS.add(run)
        run._set_state(State(StateType.PENDING))
        if self.kind in ("async", "network"):
            run._cancellable = True
            run_loop().call_soon_threadsafe(self._launch, run)
        else:
            self._threads_for(run)
        return run

    def _moved(self, run: FlowRun, old: State, new: State) -> None:
        """Keep the status index in step with a run's state."""
        a, b = _CODES[old.type], _CODES[new.type]
        if a is not b:
            with self._lock:
                number = self._numbers[run.id]
                self._index.transition([number], b)
                if new.is_final():
                    del self._numbers[run.id]
        if new.is_final():
            RUNS.ended(run)

    # -- Python functions and runtime flows: the deployment's threads --------------------------
    def _threads_for(self, run: FlowRun) -> None:
        """Queue the run for the deployment's threads (``max_concurrency`` of them, started as needed)."""
        self._queue.put(run)
        with self._lock:
            if self._queue.qsize() > self._idle and len(self._threads) < self.max_concurrency:
                t = threading.Thread(target=self._work, name=f"streamkit-{self.name}", daemon=True)
                self._threads.append(t)
                t.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            try:
                run = self._queue.get(timeout=IDLE_THREAD_SECONDS)
            except queue.Empty:
                with self._lock:
                    self._idle -= 1
                    if self._queue.empty():  # nothing came: the thread ends (a new run starts another)
                        self._threads.remove(threading.current_thread())
                        return
                continue
            with self._lock:
                self._idle -= 1
            if not run._set_state(State(StateType.RUNNING), only_from=_WAITING):
                continue  # cancelled while it waited
            try:
                if self.kind == "sync":
                    out = self.target(**run.parameters)
                    if inspect.isawaitable(out):  # a sync callable that returned a coroutine
                        out = asyncio.run_coroutine_threadsafe(_awaited(out), run_loop()).result()
                else:
                    out = _run_job(self.target, run.parameters)
            except Exception as exc:  # noqa: BLE001 - the run's failure, kept on it
                _failed(run, exc, StateType.FAILED)
                continue
            except BaseException as exc:  # noqa: BLE001 - not an Exception: the run crashed (the thread goes on)
                _failed(run, exc, StateType.CRASHED)
                continue
            _ended(run, out)

    # -- async functions and networks: the runs' event loop ----------------------------------
    def _launch(self, run: FlowRun) -> None:
        """On the runs' loop: the run waits for a slot, then runs."""
        if run.finished:  # cancelled before the loop saw it
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrency)
        run._task = asyncio.get_running_loop().create_task(self._execute(run))

    async def _execute(self, run: FlowRun) -> None:
        assert self._slots is not None
        try:
            async with self._slots:
                if not run._set_state(State(StateType.RUNNING), only_from=_WAITING):
                    return
                if self.kind == "async":
                    out = await self.target(**run.parameters)
                else:
                    out = await self.target.process_stream(**run.parameters)
        except asyncio.CancelledError:
            run._set_state(State(StateType.CANCELLED, message="cancelled"), error="cancelled")
            return
        except Exception as exc:  # noqa: BLE001 - the run's failure, kept on it
            _failed(run, exc, StateType.FAILED)
            return
        except BaseException as exc:  # noqa: BLE001 - not an Exception: the run crashed (the loop goes on)
            _failed(run, exc, StateType.CRASHED)
            return
        _ended(run, out)

    # -- questions -----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Runs of this deployment per status (pending, running, completed, failed, cancelled, crashed), O(1)."""
        with self._lock:
            counts = self._index.counts()
        return {name: int(counts[code.name.lower()]) for name, code in _COUNT_NAMES.items()}

    def __repr__(self) -> str:
        return f"Deployment({self.name!r}, {self.kind}, max_concurrency={self.max_concurrency}, runs={self.counts()})"


_WAITING = frozenset({StateType.SCHEDULED, StateType.PENDING})

#: A deployment's thread that waited this long for a run ends.
IDLE_THREAD_SECONDS = 10.0


async def _awaited(aw: Any) -> Any:
    return await aw


def _failed(run: FlowRun, exc: BaseException, kind: StateType) -> None:
    error = f"{type(exc).__name__}: {exc}"
    run._set_state(State(kind, message=error), error=error)


def _ended(run: FlowRun, out: Any) -> None:
    """End a run with what its target returned: a final :class:`State` of its own, or ``Completed``."""
    if isinstance(out, State):
        error = None if out.is_completed() else out.message
        final = out if out.is_final() else State(StateType.COMPLETED, message=out.message, data=out.data)
        run._set_state(final, result=out.data, error=error)
    else:
        run._set_state(State(StateType.COMPLETED), result=out)


def _resolve(target: Any) -> tuple[str, Any]:
    """What kind of target this is (``async``, ``sync``, ``network``, ``flow``) and what runs it."""
    if isinstance(target, (Flow, NetworkFlow)):
        return "flow", target
    if isinstance(target, (SimpleFSM, AsyncSimpleFSM, Pipeline, dict, Path)):
        return "network", _Network(target)
    if isinstance(target, str):
        flows = FlowRegistry.get_instance().flows
        if target in flows:
            return "flow", flows[target]
        if Path(target).suffix.lower() in (".yaml", ".yml", ".json") or Path(target).exists():
            return "network", _Network(target)
        msg = f"no flow registered as {target!r}{did_you_mean(target, flows)}, and no network config file of that name"
        raise ValueError(msg)
    if inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(type(target).__call__):
        return "async", target
    if callable(target):
        return "sync", target
    msg = f"a deployment runs a Python callable, a runtime flow, or a network config; got {type(target).__name__}"
    raise TypeError(msg)


class _Network:
    """A network as a deployment's target: a run is its ``process_stream`` (awaited on the runs' loop)."""

    def __init__(self, network: Any) -> None:
        if isinstance(network, Pipeline):
            self.stages = list(network.stages)
        elif isinstance(network, (AsyncSimpleFSM, SimpleFSM)):
            self.stages = [network.stage()]
        else:
            self.stages = [SimpleFSM(network).stage()]  # compiled once, at registration

    async def process_stream(self, source: Any = None, sink: Any = None, **options: Any) -> Any:
        return await stream_stages(self.stages, source, sink, **options)


def _run_job(flow: Any, parameters: dict[str, Any]) -> Any:
    """Post one job into the shared runtime and wait for it (on a deployment thread)."""
    params = dict(parameters)
    metadata = params.pop("metadata", None)
    runtime = _shared_runtime()
    if isinstance(flow, NetworkFlow):
        if "records" not in params:
            msg = f"a run of network flow {flow.name!r} takes records=... (and metadata=...)"
            raise TypeError(msg)
        _, job = runtime.post(flow, params.pop("records"), metadata=metadata)
    else:
        missing = [k for k in ("routine_id", "slot", "data") if k not in params]
        if missing:
            msg = f"a run of flow {flow.name!r} takes routine_id=, slot= and data= (missing: {', '.join(missing)})"
            raise TypeError(msg)
        _, job = runtime.post(flow, params.pop("routine_id"), params.pop("slot"), params.pop("data"), metadata=metadata)
    if params:
        msg = f"unexpected parameters for flow {flow.name!r}: {', '.join(sorted(params))}"
        raise TypeError(msg)
    job.wait()
    if job.status == "failed":
        return State(StateType.FAILED, message=job.error, data=job)
    if job.status == "cancelled":
        return State(StateType.CANCELLED, message="its job was cancelled", data=job)
    return State(StateType.COMPLETED, data=job.result if isinstance(flow, NetworkFlow) else job)


def register_deployment(name: str, target: Any, *, max_concurrency: int = 4) -> Deployment:
    """Register ``target`` (see the module docstring) as deployment ``name``; a later registration replaces it
    for new runs."""
    dep = Deployment(name, target, max_concurrency=max_concurrency)
    with _REGISTRY_LOCK:
        _REGISTRY[name] = dep
    return dep


def get_deployment(name: str) -> Deployment:
    """The deployment registered as ``name`` (``KeyError`` naming the closest one otherwise)."""
    dep = _REGISTRY.get(name)
    if dep is None:
        msg = f"no deployment {name!r}{did_you_mean(name, _REGISTRY)} (register it with register_deployment)"
        raise KeyError(msg)
    return dep


def list_deployments() -> list[str]:
    """The names of the registered deployments."""
    return sorted(_REGISTRY)


async def run_deployment(
    name: str,
    parameters: dict[str, Any] | None = None,
    timeout: float | None = None,
    idempotency_key: str | None = None,
    **ignored: Any,
) -> FlowRun:
    """Start a run of deployment ``name``; the run once it ended, or after ``timeout`` seconds in its state then
    (``timeout=0``: at once). Runs are always queued at once, so the seed's ``schedule=True`` and the
    other keywords of its library are accepted and ignored."""
    run = get_deployment(name).submit(parameters, idempotency_key)
    if timeout is None or timeout > 0:
        await run.wait_async(timeout)
    return run
