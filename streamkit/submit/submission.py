"""``FlowSubmission`` (seed 004): submit runs of one deployment, then wait for all of them.

``submit(**parameters)`` returns the run's id at once; ``wait()`` returns
``{run_id: state name}`` for every run submitted through it so far, logging one
line per run as it ends (on the ``streamkit.submit`` logger) and a summary.
Success is a state of type COMPLETED, whatever its name; ``wait`` is woken by
the runs' ends (``poll_interval`` only paces its progress lines), and a
``timeout`` returns with the runs still going reported, never dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from streamkit.engine.stream import run_blocking
from streamkit.submit.deployments import get_deployment
from streamkit.submit.runs import FlowRun
from streamkit.submit.states import StateType

__all__ = ("FlowSubmission", "flow_submitter")

logger = logging.getLogger("streamkit.submit")


class FlowSubmission:
    """Runs of deployment ``deployment_path``: ``run_ids`` in submission order, ``results`` once waited for.

    Example::

        etl = flow_submitter("etl-parent/etl-child-deployment")
        await asyncio.gather(etl.submit(table="customer"), etl.submit(table="orders"))
        results = await etl.wait()   # {run_id: "Completed", ...}
    """

    def __init__(self, deployment_path: str) -> None:
        get_deployment(deployment_path)  # a name that is not registered fails here, not at the first submit
        self.deployment_path = deployment_path
        self.run_ids: list[str] = []
        #: run id -> the name of its state when ``wait`` last saw it
        self.results: dict[str, str] = {}
        self._runs: dict[str, FlowRun] = {}
        self._reported: set[str] = set()

    @property
    def runs(self) -> list[FlowRun]:
        """The runs submitted through this object, in order."""
        return [self._runs[i] for i in self.run_ids]

    def submit_sync(self, *, idempotency_key: str | None = None, **parameters: Any) -> str:
        """Queue a run with ``parameters``; its id, at once (the earlier run's, for a known ``idempotency_key``)."""
        run = get_deployment(self.deployment_path).submit(parameters, idempotency_key)
        if run.id not in self._runs:
            self._runs[run.id] = run
            self.run_ids.append(run.id)
        return run.id

    async def submit(self, *, idempotency_key: str | None = None, **parameters: Any) -> str:
        """:meth:`submit_sync`, awaitable (it does not wait for the run)."""
        return self.submit_sync(idempotency_key=idempotency_key, **parameters)

    async def wait(
        self,
        poll_interval: float = 5,
        show_summary: bool = True,  # noqa: FBT001, FBT002 - the seed's signature
        timeout: float | None = None,
    ) -> dict[str, str]:
        """Wait for every run submitted so far; ``{run_id: state name}`` (see the module docstring)."""
        runs = self.runs
        deadline = None if timeout is None else time.monotonic() + timeout
        ended: asyncio.Queue[FlowRun] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        waiting: dict[str, FlowRun] = {}
        for run in runs:
            if run.finished:
                self._report(run)
            else:
                waiting[run.id] = run
                run._on_end(loop, ended.put_nowait)
        paced = time.monotonic()
        while waiting:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            step = poll_interval if left is None else min(poll_interval, left)
            got: FlowRun | None
            try:
                got = await asyncio.wait_for(ended.get(), max(step, 0))
            except TimeoutError:
                got = None
            while got is not None:  # this one, and every other that ended meanwhile
                if waiting.pop(got.id, None) is not None:
                    self._report(got)
                got = None if ended.empty() else ended.get_nowait()
            if waiting and time.monotonic() - paced >= poll_interval:
                paced = time.monotonic()
                logger.info(
                    "⏳ [%s] %d/%d runs finished, %d still going",
                    self.deployment_path,
                    len(runs) - len(waiting),
                    len(runs),
                    len(waiting),
                )
        for run in waiting.values():
            self.results[run.id] = run.state.name
            logger.warning(
                "⏳ [%s] Run %s not finished after %s s: state %s",
                self.deployment_path,
                run.id[:8],
                timeout,
                run.state.name,
            )
        if show_summary:
            self._summary(runs)
        return {run.id: self.results[run.id] for run in runs}

    def wait_sync(
        self,
        poll_interval: float = 5,
        show_summary: bool = True,  # noqa: FBT001, FBT002 - as wait()
        timeout: float | None = None,
    ) -> dict[str, str]:
        """:meth:`wait` from synchronous code."""
        return run_blocking(lambda: self.wait(poll_interval, show_summary, timeout))

    def _report(self, run: FlowRun) -> None:
        self.results[run.id] = run.state.name
        if run.id in self._reported:
            return
        self._reported.add(run.id)
        icon = "✅" if run.state.is_completed() else "❌"
        logger.info("%s [%s] Run %s finished with state: %s", icon, self.deployment_path, run.id[:8], run.state.name)

    def _summary(self, runs: list[FlowRun]) -> None:
        success = sum(r.state.type is StateType.COMPLETED for r in runs)
        going = sum(not r.state.is_final() for r in runs)
        failed = len(runs) - success - going
        tail = f", {going} still running" if going else ""
        logger.info("Summary → %d/%d succeeded, %d failed%s", success, len(runs), failed, tail)

    def __repr__(self) -> str:
        return f"FlowSubmission({self.deployment_path!r}, runs={len(self.run_ids)})"


def flow_submitter(deployment_path: str) -> FlowSubmission:
    """A :class:`FlowSubmission` for the deployment registered as ``deployment_path``."""
    return FlowSubmission(deployment_path)
